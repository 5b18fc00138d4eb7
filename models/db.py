"""Engine, sessions and schema migrations."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from models import sqlite_trips

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


SEARCH_PATH_PARAM = "search_path"


def sqlite_file(database_url: str) -> Path | None:
    """The file a SQLite URL names; None for another database, or SQLite not in a plain file
    (in memory, a "file:" URI)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
            or url.database.startswith("file:"):
        return None
    return Path(url.database)


def with_search_path(database_url: str, schema: str) -> str:
    """``database_url`` with its connections confined to ``schema`` (PostgreSQL only).

    The schema travels in the URL (``?search_path=...``), so every engine built from it by
    :func:`create_engine` — the bot's, the CLI's, Alembic's — works in that schema.
    """
    url = make_url(database_url).update_query_dict({SEARCH_PATH_PARAM: schema})
    return url.render_as_string(hide_password=False)


def create_engine(database_url: str, *, busy_seconds: float = 30) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout.

    ``busy_seconds``: how long SQLite waits for another writer before "database is locked".
    The bot uses a short wait and then tells the user and tries again (handlers.system); tools
    and migrations wait long.

    A PostgreSQL URL may carry ``?search_path=schema``: it is removed from the URL and set as
    the connections' ``search_path`` (tables are created and found in that schema).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # The rollback a connection gets on its way back to the pool is made only when a
        # transaction is open (_rollback_if_open): each call is a trip to aiosqlite's thread,
        # and most sessions of the bot only read, which opens none in SQLite.
        # One trip to aiosqlite's thread per statement, none for ending no transaction
        # (models.sqlite_trips).
        one_trip = url.get_driver_name() == "aiosqlite"
        trips = {"module": sqlite_trips.dbapi()} if one_trip else {}
        connect_args: dict = {"timeout": busy_seconds}
        if one_trip:  # a writing transaction's statements run on the loop's thread too
            connect_args["check_same_thread"] = False
        engine = create_async_engine(url, connect_args=connect_args,
                                     pool_reset_on_return=None, **trips)

        @event.listens_for(engine.sync_engine, "reset")
        def _rollback_if_open(dbapi_connection, _record, reset_state):
            if reset_state.asyncio_safe and not reset_state.terminate_only \
                    and dbapi_connection.driver_connection.in_transaction:
                dbapi_connection.rollback()

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            # WAL lets the demo's readers and the bot's writer work side by side.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            if one_trip:  # it checkpoints on aiosqlite's thread (models.sqlite_trips)
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()

        return engine
    connect_args: dict = {}
    search_path = url.query.get(SEARCH_PATH_PARAM)
    if search_path is not None:
        url = url.difference_update_query([SEARCH_PATH_PARAM])
        if isinstance(search_path, tuple):
            search_path = ",".join(search_path)
        if url.get_driver_name() == "asyncpg":
            connect_args["server_settings"] = {"search_path": search_path}
        else:  # psycopg and others take libpq options
            connect_args["options"] = f"-csearch_path={search_path}"
    engine = create_async_engine(url, pool_size=10, max_overflow=10, connect_args=connect_args)
    _ping_when_idle(engine)
    return engine


# A connection idle longer than this is pinged before use (pool_pre_ping, which pinged every
# checkout, cost a round trip per session: two an update). One used moments ago is not: if the
# server went away since, the statement fails as a lost connection, the pool drops all its
# connections, and the bot tries again (handlers.system, the inbox, the persistence's next write).
PING_IDLE_SECONDS = 10.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "connect")
    def _new(_dbapi_connection, record):  # pragma: no cover - trivial
        record.info["used_at"] = time.monotonic()

    @event.listens_for(sync_engine, "checkin")
    def _back(_dbapi_connection, record):
        if record is not None:
            record.info["used_at"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("used_at", 0.0) < PING_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool replaces this connection and tries again.
                raise DisconnectionError() from error
            raise
        record.info["used_at"] = time.monotonic()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after commit without lazy loads in async code.
    return async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)


def alembic_config(database_url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_sync(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade_sync(database_url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Applies migrations; Alembic's env runs its own event loop, so it goes to a thread."""
    await asyncio.to_thread(upgrade_sync, database_url, revision)
