"""The Alembic migrations and the SQLModel tables describe the same schema, both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import models.tables  # noqa: F401
from models.db import downgrade_sync, upgrade_sync


def test_migrations_match_models_and_downgrade_cleanly(tmp_path):
    path = tmp_path / "m.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_sync(url)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    downgrade_sync(url, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    upgrade_sync(url)
    assert "visit" in inspect(engine).get_table_names()
    engine.dispose()
