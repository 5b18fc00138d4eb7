"""The Alembic migrations and the SQLModel tables describe the same schema, both ways."""

from __future__ import annotations

import pytest
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


def test_migrations_on_postgresql_match_models_and_downgrade_cleanly():
    """The same round trip on PostgreSQL, in a schema of its own."""
    import asyncio
    import os
    import secrets

    from sqlalchemy import text

    from models.db import create_engine as create_async_engine
    from models.db import with_search_path
    from tests.conftest import PG_URL_VARIABLE, _reachable, postgresql_url

    base_url = postgresql_url()
    if base_url is None:
        pytest.skip(f"{PG_URL_VARIABLE} not set: PostgreSQL tests skipped")
    problem = asyncio.run(_reachable(base_url))
    if problem is not None:
        pytest.skip(f"{PG_URL_VARIABLE} set but the server is unreachable ({problem}): "
                    "PostgreSQL tests skipped")
    schema = f"m_{os.getpid()}_{secrets.token_hex(4)}"
    url = with_search_path(base_url, schema)

    async def execute(statement: str) -> None:
        engine = create_async_engine(base_url)
        async with engine.begin() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    async def inspect_schema(check):
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            result = await connection.run_sync(check)
        await engine.dispose()
        return result

    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    def tables(connection):
        return sorted(inspect(connection).get_table_names())

    asyncio.run(execute(f'CREATE SCHEMA "{schema}"'))
    try:
        upgrade_sync(url)
        assert asyncio.run(inspect_schema(diff)) == []
        downgrade_sync(url, "base")
        assert asyncio.run(inspect_schema(tables)) == ["alembic_version"]
        upgrade_sync(url)
        assert "visit" in asyncio.run(inspect_schema(tables))
    finally:
        asyncio.run(execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
