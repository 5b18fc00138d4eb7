"""Shared fixtures: a fresh database per test (copied from a migrated template) and the bot."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.app import build_application
from bot.settings import Settings
from models.areas import load_areas
from models.db import create_engine, create_sessionmaker, upgrade_sync
from tests.harness import BotHarness

# PTB 22 warns on every 429 unless retry_after is a timedelta; opt in to the new behaviour.
os.environ.setdefault("PTB_TIMEDELTA", "true")

ADMIN_ID = 900001
MENTOR_ID = 700001
# Tests live on Wednesday 25 November 2026, 10:00 WIB (03:00 UTC), whatever the machine says.
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


async def _load(url: str) -> None:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        await load_areas(session=session)
    await engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once, with all official areas loaded; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_sync(url)
    asyncio.run(_load(url))
    # Fold the write-ahead log into the file so a plain copy is complete.
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture
def db_url(template_db: Path, tmp_path: Path) -> str:
    target = tmp_path / "bot.db"
    shutil.copyfile(template_db, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def settings(db_url: str) -> Settings:
    # The sweep job is off: scheduler tests run sweeps by hand at chosen instants.
    return Settings(_env_file=None, database_url=db_url, admin_ids=[ADMIN_ID],
                    telegram_token="123456:TEST-TOKEN", language="id",
                    reminders_enabled=False)


@pytest.fixture
async def session(db_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(db_url)
    async with create_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[BotHarness]:
    """The real Application, polling the project's local Bot API server over HTTP."""
    harness = await BotHarness.start(
        lambda base_url: build_application(settings, base_url=base_url))
    yield harness
    await harness.stop()
