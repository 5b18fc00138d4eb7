"""Who may talk to Telegram: one leader per database, the others wait as hot standbys.

PostgreSQL: the leader holds a session-level advisory lock on a connection of its own. When the
leader's process or machine dies, PostgreSQL ends that session and frees the lock, and the
standby that polls next takes it over. The session sends TCP keepalives so a machine that
vanished without closing the connection is noticed within seconds, not hours.

SQLite: there can be no standby (the file lives on one machine), so a second instance on the
same file is refused at start, with an exclusive lock on a file beside the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import zlib
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.problems import explain
from models.db import SEARCH_PATH_PARAM

log = logging.getLogger(__name__)


class AlreadyRunning(Exception):
    """Another instance already serves this SQLite database."""


class Leadership:
    """The common face of both kinds: wait to lead, notice losing it, let go."""

    role: str = "standby"

    def __init__(self) -> None:
        self.lost = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        return self.role == "leader"

    async def acquire(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    async def release(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class SqliteLeadership(Leadership):
    """An exclusive lock on ``<database>.lock``, held for the life of the process."""

    def __init__(self, database_path: Path) -> None:
        super().__init__()
        self.lock_path = database_path.with_name(database_path.name + ".lock")
        self._file = None

    async def acquire(self) -> None:
        if self._file is not None:
            return  # already held by this instance
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no second-instance check
            self.role = "leader"
            return
        # Opened once at start (a blocking call is fine here) and held for the process's life.
        handle = open(self.lock_path, "a+")  # noqa: SIM115, ASYNC230
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise AlreadyRunning(str(self.lock_path)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        self.role = "leader"

    async def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file frees the lock
            self._file = None
        self.role = "standby"


def lock_key(database_url: str) -> int:
    """The advisory lock's key: the same for every instance on the same database and schema."""
    url = make_url(database_url)
    schema = url.query.get(SEARCH_PATH_PARAM) or "public"
    name = f"pendamping-kube:{url.database}:{schema}"
    # pg advisory keys are signed 64-bit; a stable CRC keeps it readable in pg_locks.
    return zlib.crc32(name.encode())


class PostgresLeadership(Leadership):
    """A session-level ``pg_advisory_lock`` on a dedicated asyncpg connection."""

    def __init__(self, database_url: str, *, poll_seconds: float = 2.0,
                 check_seconds: float = 2.0) -> None:
        super().__init__()
        url = make_url(database_url)
        self.key = lock_key(database_url)
        self.target = url.render_as_string(hide_password=True)
        self._dsn = url.set(drivername="postgresql").difference_update_query(
            [SEARCH_PATH_PARAM]).render_as_string(hide_password=False)
        self.poll_seconds = poll_seconds
        self.check_seconds = check_seconds
        self._connection = None
        self._watch: asyncio.Task | None = None

    async def _connect(self):
        import asyncpg

        # Keepalives: if the leader's machine disappears, its session (and the lock) ends
        # after about idle + interval * count = 9 seconds.
        return await asyncpg.connect(
            self._dsn, timeout=10, server_settings={
                "application_name": "pendamping-kube-leader",
                "tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2",
                "tcp_keepalives_count": "2"})

    async def try_acquire(self) -> bool:
        """One attempt; True when this instance is now the leader."""
        if self._connection is None or self._connection.is_closed():
            self._connection = await self._connect()
        got = await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key)
        if got:
            self.role = "leader"
            self._watch = asyncio.create_task(self._watch_lock(), name="leader-watch")
        return bool(got)

    async def acquire(self) -> None:
        """Waits (as a standby) until the lock is free, then holds it."""
        announced, last_problem, quiet = False, "", 0
        while True:
            try:
                if await self.try_acquire():
                    return
            except (TimeoutError, OSError, Exception) as error:  # noqa: BLE001
                # Said when it changes and then every minute or so, not every poll: a typo in
                # the URL must be plain to see, and a long outage must not flood the log.
                problem = explain(error) or f"{type(error).__name__}: {error}"
                if problem != last_problem or quiet * self.poll_seconds >= 60:
                    log.warning("standby: database %s not reachable (%s); trying again every "
                                "%s s", self.target, problem, self.poll_seconds)
                    last_problem, quiet = problem, 0
                quiet += 1
                await self._close()
            if not announced:
                log.info("another instance leads; waiting as a hot standby")
                announced = True
            await asyncio.sleep(self.poll_seconds)

    async def _watch_lock(self) -> None:
        """Checks the lock's session; if it is gone, so is the leadership."""
        try:
            while True:
                await asyncio.sleep(self.check_seconds)
                held = await asyncio.wait_for(self._connection.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND objid = $1", self.key & 0xFFFFFFFF),
                    timeout=self.check_seconds * 3)
                if not held:
                    raise RuntimeError("advisory lock no longer held")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure: we can no longer be sure
            log.error("lost the leadership (%s)", type(error).__name__)
            self.role = "standby"
            self.lost.set()

    async def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close(timeout=2)
            self._connection = None

    async def release(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watch
            self._watch = None
        if self._connection is not None and self.role == "leader":
            with contextlib.suppress(Exception):
                await self._connection.execute("SELECT pg_advisory_unlock($1)", self.key)
        await self._close()
        self.role = "standby"


def leadership_for(database_url: str, *, poll_seconds: float = 2.0) -> Leadership:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteLeadership(Path(url.database or "pendamping.db").resolve())
    return PostgresLeadership(database_url, poll_seconds=poll_seconds)
