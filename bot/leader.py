"""Who may talk to Telegram: one leader per database, the others wait as hot standbys.

PostgreSQL: the leader holds a lease, a row in ``leader_lease`` (models.leases) that it renews
every ``renew_seconds``, and that a standby takes over once it has not been renewed for
``lease_seconds`` by the database's clock. So a leader that hangs (stopped, swapping, cut off
from the database) is replaced, not only one that died. Before the lease runs out for the
others, the leader stops sending on its own: every request to Telegram asks :meth:`may_send`
(bot.telegram.transport), which says no once the local deadline has passed, that is the moment
its last successful renew started plus the lease, less a margin. Renewed by the database's
clock and checked by this machine's, the two never overlap: the database's now() of a renew
is later than the moment it started here. A leader that finds its lease taken over, or cannot
renew it before the deadline, has lost the leadership (``lost``).

SQLite: there can be no standby (the file lives on one machine), so a second instance on the
same file is refused at start, with an exclusive lock on a file beside the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url

from bot.problems import SetupProblem, explain
from models import leases
from models.crypto import DataKeyError
from models.db import SEARCH_PATH_PARAM, create_engine, create_sessionmaker

log = logging.getLogger(__name__)

LEASE_NAME = "telegram"
ATTEMPT_SECONDS = 10.0  # a standby's look at the lease gives up after this long
T = TypeVar("T")


def local_clock() -> float:
    """Seconds on this machine's clock that never jumps back, and that (on Linux) keeps
    counting while the machine is suspended: a leader that slept has used up its lease."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.monotonic()  # pragma: no cover - not Linux


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

    def may_send(self) -> bool:
        """Whether this instance may send to Telegram now (asked before every request)."""
        return self.is_leader

    def lease_report(self) -> dict:
        """What the health endpoint shows of the lease (nothing without one)."""
        return {}

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
    """The advisory lock key by which versions before the lease led (models.leases.take keeps
    out of their way): the same for every instance on the same database and schema."""
    url = make_url(database_url)
    schema = url.query.get(SEARCH_PATH_PARAM) or "public"
    name = f"pendamping-kube:{url.database}:{schema}"
    # pg advisory keys are signed 64-bit; a stable CRC keeps it readable in pg_locks.
    return zlib.crc32(name.encode())


class _Outage:
    """Says that the database cannot be reached when the reason changes, and then about every
    minute, not on every try: a typo in the URL must be plain to see, and a long outage must
    not flood the log."""

    def __init__(self, target: str, poll_seconds: float) -> None:
        self.target, self.poll_seconds = target, poll_seconds
        self.last, self.quiet = "", 0

    def failed(self, error: BaseException) -> None:
        problem = explain(error) or f"{type(error).__name__}: {error}"
        if problem != self.last or self.quiet * self.poll_seconds >= 60:
            log.warning("standby: database %s not reachable (%s); trying again every %s s",
                        self.target, problem, self.poll_seconds)
            self.last, self.quiet = problem, 0
        self.quiet += 1


class PostgresLeadership(Leadership):
    """A lease in ``leader_lease``, renewed by the leader, taken over by a standby once it ran
    out (the module docstring says why the two never send at once)."""

    def __init__(self, database_url: str, *, poll_seconds: float = 2.0,
                 lease_seconds: float = 15.0, renew_seconds: float = 5.0,
                 clock: Callable[[], float] = local_clock) -> None:
        super().__init__()
        self.database_url = database_url
        self.target = make_url(database_url).render_as_string(hide_password=True)
        self.old_lock = lock_key(database_url)
        self.holder = secrets.token_hex(8)
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        # Left for a request that passed may_send to reach Telegram before the lease is over.
        self.margin = lease_seconds / 5
        self.clock = clock
        self.epoch: int | None = None
        self.valid_until = -math.inf  # this machine's clock: may send before it
        # The lease as last seen (None: never taken), and when by this machine's clock.
        self._seen: tuple[leases.Lease | None, float] | None = None
        self._engine = None
        self._renewing: asyncio.Task | None = None

    # --- the database -----------------------------------------------------------------------

    async def _run(self, action, timeout: float):
        """Runs ``action(session)`` on the leadership's own small engine (not the bot's pool, so
        a busy bot never delays a renew), giving up after ``timeout`` seconds."""
        if self._engine is None:
            self._engine = create_engine(self.database_url)
        try:
            async with asyncio.timeout(timeout), create_sessionmaker(self._engine)() as session:
                return await action(session)
        except Exception:
            await self._drop_engine()  # a connection cut off half way is not used again
            raise

    async def _drop_engine(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await engine.dispose()

    def _see(self, lease: leases.Lease | None) -> None:
        self._seen = (lease, self.clock())

    # --- standby ----------------------------------------------------------------------------

    async def until_reachable(self, action: Callable[[], Awaitable[T]]) -> T:
        """Runs ``action`` (the start-up checks), waiting as a standby waits while the database
        cannot be reached; a wrong data key or schema is raised at once."""
        outage = _Outage(self.target, self.poll_seconds)
        while True:
            try:
                return await action()
            except (DataKeyError, SetupProblem):
                raise
            except Exception as error:  # noqa: BLE001 - out of reach, for whatever reason
                outage.failed(error)
            await asyncio.sleep(self.poll_seconds)

    async def try_acquire(self) -> bool:
        """One attempt; True when this instance is now the leader."""
        started = self.clock()

        async def take(session):
            lease = await leases.take(session=session, name=LEASE_NAME, holder=self.holder,
                                      seconds=self.lease_seconds, old_lock=self.old_lock)
            return lease, (lease or await leases.current(session=session, name=LEASE_NAME))

        taken, seen = await self._run(take, ATTEMPT_SECONDS)
        self._see(seen)
        if taken is None:
            return False
        self.epoch = taken.epoch
        self.valid_until = started + self.lease_seconds - self.margin
        self.role = "leader"
        self._renewing = asyncio.create_task(self._renew(), name="leader-lease")
        log.info("took the leader lease (epoch %s, %s s, renewed every %s s)", taken.epoch,
                 self.lease_seconds, self.renew_seconds)
        return True

    async def acquire(self) -> None:
        """Waits (as a standby) until the lease is free or has run out, then holds it."""
        announced = False
        outage = _Outage(self.target, self.poll_seconds)
        while True:
            try:
                if await self.try_acquire():
                    return
            except Exception as error:  # noqa: BLE001 - out of reach: said, and tried again
                outage.failed(error)
            if not announced:
                log.info("another instance leads; waiting as a hot standby")
                announced = True
            await asyncio.sleep(self.poll_seconds)

    # --- leader -----------------------------------------------------------------------------

    def may_send(self) -> bool:
        """The leader, before its local deadline: cheap (no database), asked per request."""
        return self.role == "leader" and self.clock() < self.valid_until

    async def _renew(self) -> None:
        """Renews every ``renew_seconds``, sooner again after a failure. The leadership is lost
        when the lease was taken over, or could not be renewed before the local deadline."""
        next_at = self.clock() + self.renew_seconds
        retry = min(1.0, self.renew_seconds / 2)
        while True:
            await asyncio.sleep(max(0.0, next_at - self.clock()))
            started = self.clock()

            async def renew(session):
                return await leases.renew(session=session, name=LEASE_NAME, holder=self.holder,
                                          epoch=self.epoch, seconds=self.lease_seconds)
            try:
                left = await self._run(renew, self.renew_seconds)
            except Exception as error:  # noqa: BLE001 - any failure: try again while there is time
                problem = explain(error) or type(error).__name__
                if self.clock() >= self.valid_until:
                    self._lose(f"the lease could not be renewed in time: {problem}")
                    return
                log.warning("could not renew the leader lease (%s); trying again", problem)
                next_at = self.clock() + retry
                continue
            if left is None:
                self._lose("another instance took the lease over (this one did not renew it "
                           "in time: hung, or cut off from the database)")
                return
            # A late answer is fine: the database's now() was after ``started``.
            self.valid_until = started + self.lease_seconds - self.margin
            self._see(leases.Lease(self.holder, self.epoch, left))
            next_at = started + self.renew_seconds

    def _lose(self, why: str) -> None:
        log.error("lost the leadership: %s", why)
        self.role = "standby"
        self.valid_until = -math.inf
        self.lost.set()

    def lease_report(self) -> dict:
        """The lease's epoch and seconds left (by the database's clock, as last seen)."""
        if self._seen is None:
            return {}
        lease, seen_at = self._seen
        if lease is None:
            return {"leader_lease_expires_in": None}
        return {"leader_lease_expires_in": round(lease.expires_in - (self.clock() - seen_at), 1),
                "leader_epoch": lease.epoch}

    async def release(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewing
            self._renewing = None
        if self.role == "leader" and self.epoch is not None:
            self.valid_until = -math.inf

            async def give_back(session):
                await leases.give_back(session=session, name=LEASE_NAME, holder=self.holder,
                                       epoch=self.epoch)
            # A clean stop: the standby takes over at its next look, not after the lease.
            with contextlib.suppress(Exception):
                await self._run(give_back, 3)
        await self._drop_engine()
        self.role = "standby"


def leadership_for(database_url: str, *, poll_seconds: float = 2.0, lease_seconds: float = 15.0,
                   renew_seconds: float = 5.0) -> Leadership:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteLeadership(Path(url.database or "pendamping.db").resolve())
    return PostgresLeadership(database_url, poll_seconds=poll_seconds,
                              lease_seconds=lease_seconds, renew_seconds=renew_seconds)
