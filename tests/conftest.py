"""Shared fixtures: a fresh database per test and the bot.

The database fixtures (``db_url`` and what uses it: ``settings``, ``session``, ``bot``) run on
SQLite — a copy of a migrated template per test — and, when PENDAMPING_TEST_DATABASE_URL names
a PostgreSQL server, on PostgreSQL as well: one schema per test session, migrated and loaded
with the areas once, and every other table emptied before each test.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_application
from bot.core import clock
from bot.core.settings import Settings
from models import crypto
from models.areas import load_areas
from models.db import create_engine, create_sessionmaker, upgrade_sync, with_search_path
from tests.harness import BotHarness

# PTB 22 warns on every 429 unless retry_after is a timedelta; opt in to the new behaviour.
os.environ.setdefault("PTB_TIMEDELTA", "true")
# The dashboard's web server (bot.web) starts with every Application whose port is not 0: in the
# tests only where a test starts it, on a free port (bot.web.server.start_dashboard), so that
# hundreds of bots side by side do not all want 8081.
os.environ["PENDAMPING_DASHBOARD_PORT"] = "0"

# Hypothesis: the same inputs on every run by default, so that a red CI run is the code's
# doing, not the draw's, and a rerun shows it again; `HYPOTHESIS_PROFILE=explore` searches
# new inputs (and keeps what fails in .hypothesis/ to replay it). Properties set their own
# max_examples, which both profiles keep.
hypothesis.settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis.settings.register_profile("explore", derandomize=False)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PG_URL_VARIABLE = "PENDAMPING_TEST_DATABASE_URL"
# Tables the per-test reset keeps: the migrated schema's bookkeeping and the official areas.
KEPT_TABLES = frozenset({"alembic_version", "area"})

ADMIN_ID = 900001
MENTOR_ID = 700001
# A fixed data key: what the tests store is encrypted with it (models.crypto).
TEST_DATA_KEY = "dGVzdC1rZXktMzItYnl0ZXMtZm9yLXBlbmRhbXBpbmc="
crypto.configure(TEST_DATA_KEY)
# Tests live on Wednesday 25 November 2026, 10:00 WIB (03:00 UTC), whatever the machine says.
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[None]:
    """A command under test (`pendamping run`) sets up logging on the stream pytest captured,
    and closes with the test: later log lines would hit a closed file."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def data_key() -> Iterator[str]:
    """The process's data key is the test key in every test (one that changes it is undone)."""
    crypto.configure(TEST_DATA_KEY)
    yield TEST_DATA_KEY
    crypto.configure(TEST_DATA_KEY)


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


def postgresql_url() -> str | None:
    """The PostgreSQL server the tests may use, or None."""
    return os.environ.get(PG_URL_VARIABLE) or None


async def _reachable(url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        engine = create_engine(url)
    except Exception as exc:  # noqa: BLE001 - e.g. the driver is not installed
        return f"{type(exc).__name__}: {exc}"
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "skip", with the reason
        return f"{type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()
    return None


async def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _resettable_tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
            return sorted(name for (name,) in rows if name not in KEPT_TABLES)
    finally:
        await engine.dispose()


class PostgresSchema:
    """A migrated schema with the areas loaded, private to this test session."""

    def __init__(self, base_url: str) -> None:
        self.name = f"t_{os.getpid()}_{secrets.token_hex(4)}"
        self.base_url = base_url
        self.url = with_search_path(base_url, self.name)
        self.truncate = ""

    def create(self) -> None:
        asyncio.run(_execute(self.base_url, f'CREATE SCHEMA "{self.name}"'))
        upgrade_sync(self.url)
        asyncio.run(_load(self.url))
        tables = ", ".join(f'"{name}"' for name in asyncio.run(_resettable_tables(self.url)))
        self.truncate = f"TRUNCATE {tables} RESTART IDENTITY CASCADE"

    def reset(self) -> None:
        """Empties every table but the areas; ids start again at 1."""
        asyncio.run(_execute(self.url, self.truncate))

    def drop(self) -> None:
        asyncio.run(_execute(self.base_url, f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[PostgresSchema]:
    """Skips unless PENDAMPING_TEST_DATABASE_URL names a reachable PostgreSQL server."""
    base_url = postgresql_url()
    if base_url is None:
        pytest.skip(_NOT_SET)
    problem = asyncio.run(_reachable(base_url))
    if problem is not None:
        pytest.skip(f"{PG_URL_VARIABLE} set but the server is unreachable ({problem}): "
                    "PostgreSQL tests skipped")
    schema = PostgresSchema(base_url)
    try:
        schema.create()
        yield schema
    finally:
        schema.drop()


_NOT_SET = f"{PG_URL_VARIABLE} not set: PostgreSQL tests skipped"
# A mark rather than a skip in the fixture: the summary then folds the skips per file.
_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skip(reason=_NOT_SET))
             if postgresql_url() is None else "postgresql"]


# The conversations (tests/handlers) are driven end to end on SQLite. On PostgreSQL as well
# where the database itself is what is tested there: who may read and write what, redelivered
# and hostile updates, a database that goes away, the audit trail and erasure. Every query and
# save underneath (the report and group-list queries included) is run on both in tests/models,
# the scheduler and the durability tests in tests/scheduler and tests/bot. Running every
# conversation twice cost a minute and a half of the five the whole suite may take.
PG_CONVERSATIONS = frozenset({
    "test_access_matrix.py", "test_hostile.py", "test_redelivery.py", "test_db_unavailable.py",
    "test_audit_trail.py", "test_erasure.py"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leaves out the PostgreSQL copies of the conversations outside PG_CONVERSATIONS, and of
    tests marked ``sqlite_only`` (where the database is not the point: a slow process test of
    the inbox, the throttle), shown as deselected in the summary."""
    dropped = [item for item in items if "[postgresql" in item.nodeid
               and ((item.path.parent.name == "handlers"
                     and item.path.name not in PG_CONVERSATIONS)
                    or item.get_closest_marker("sqlite_only") is not None)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        kept = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in kept]


@pytest.fixture(params=_BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        schema: PostgresSchema = request.getfixturevalue("postgres_schema")
        schema.reset()
        return schema.url
    template_db: Path = request.getfixturevalue("template_db")
    target = tmp_path / "bot.db"
    shutil.copyfile(template_db, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def settings(db_url: str) -> Settings:
    # The sweep job is off: scheduler tests run sweeps by hand at chosen instants.
    return Settings(_env_file=None, database_url=db_url, admin_ids=[ADMIN_ID],
                    telegram_token="123456:TEST-TOKEN", language="id",
                    reminders_enabled=False, data_key=TEST_DATA_KEY,
                    # Test users answer far faster than people type; the throttle has its own tests.
                    throttle_burst=10_000,
                    # Nor do they wait for Telegram's limits; bot.telegram.ratelimit has its own tests.
                    telegram_rate_per_second=1000)


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


# A test still running after this many seconds (its teardown included) is stuck: once in a
# few hundred whole runs one was seen waiting in an async fixture's teardown with the event
# loop idle. What every task of the test's loop awaits is then printed with the test's id,
# so that the wait can be found (the test itself goes on as it would).
STUCK_SECONDS = float(os.environ.get("PENDAMPING_TEST_STUCK_SECONDS", "150"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    import gc
    import inspect
    import sys
    import threading

    loops: list[asyncio.AbstractEventLoop] = []
    original = asyncio.BaseEventLoop.run_until_complete

    def remembered(loop, future):  # the loop a fixture or the test runs on, seen as it runs
        if not loops or loops[-1] is not loop:
            loops.append(loop)
        return original(loop, future)

    def stuck() -> None:
        def tell() -> None:
            print(f"\n{item.nodeid} is still running after {STUCK_SECONDS} s; its tasks:",
                  file=sys.stderr, flush=True)
            # An async fixture's teardown runs in an async generator, which a task's stack
            # does not reach: the running ones are found among all objects.
            running = [o for o in gc.get_objects() if inspect.isasyncgen(o) and o.ag_running]
            for awaiting in [task.get_coro() for task in asyncio.all_tasks()] + running:
                print(f"  {awaiting!r:.160}", file=sys.stderr)
                while awaiting is not None:  # coroutines, async generators, generators
                    frame = getattr(awaiting, "cr_frame", None) or getattr(awaiting, "ag_frame", None)
                    if frame is not None:
                        print(f"    {frame.f_code.co_filename}:{frame.f_lineno} "
                              f"{frame.f_code.co_qualname}", file=sys.stderr)
                    awaiting = (getattr(awaiting, "cr_await", None)
                                or getattr(awaiting, "ag_await", None)
                                or getattr(awaiting, "gi_yieldfrom", None))
            sys.stderr.flush()
        for loop in loops[-1:]:
            if not loop.is_closed():
                loop.call_soon_threadsafe(tell)

    asyncio.BaseEventLoop.run_until_complete = remembered  # type: ignore[method-assign]
    timer = threading.Timer(STUCK_SECONDS, stuck)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        asyncio.BaseEventLoop.run_until_complete = original  # type: ignore[method-assign]
