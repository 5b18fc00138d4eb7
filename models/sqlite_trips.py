"""SQLite through aiosqlite in one trip per statement instead of four or five.

aiosqlite runs each call on the database in a thread of its own, and every call is a trip
there and back: two thread switches, a queue, a future and a wake-up of the event loop, 40-250
µs of CPU each (more on a busy machine). SQLAlchemy's adapter makes four per statement (open a
cursor, execute, fetch the rows, close the cursor), and one more for the commit or rollback of
a session that only read and so has no transaction to end. At five statements and two sessions
an update, that was a third of the bot's database work.

Here a statement is opened, executed, fetched and closed in one function on that thread, and
a commit or rollback with no transaction open (SQLite opens one at the first write) is not
sent at all. Nothing else changes: the same statements in the same order on the same thread,
the same errors. Given to SQLAlchemy as the engine's ``module`` (models.db.create_engine), so
only the project's own engines use it.

Writers also queue here, in the event loop rather than in SQLite, and a writing transaction of
an update runs on the loop's thread without trips (:class:`WriterGate`).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

log = logging.getLogger(__name__)

# The statements with which sqlite3 opens a transaction (its legacy mode, the one SQLAlchemy
# uses): the first of them takes SQLite's write lock until the commit or rollback.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


# A writing transaction's statements run on the loop's thread (see WriterGate) while they
# carry at most this many rows (or hundreds of parameters) and the loop had a turn this
# recently, and only where the work is known to be small (:func:`on_the_loop`).
HERE_ROWS = 50
HERE_SECONDS = 0.004
_HERE: ContextVar[bool] = ContextVar("sqlite_on_the_loop", default=False)


@contextmanager
def on_the_loop() -> Iterator[None]:
    """Lets writing transactions begun inside run on the loop's thread: what one update does
    (bot.telegram.processor) and the batches of typed answers (bot.telegram.persistence).
    Jobs, imports of many rows in one statement and the tools keep aiosqlite's thread, where a
    long statement holds nobody up."""
    token = _HERE.set(True)
    try:
        yield
    finally:
        _HERE.reset(token)


# The bot's connections do not checkpoint at a commit (PRAGMA wal_autocheckpoint=0, set by
# models.db): every this many writing transactions, one commits on aiosqlite's thread and
# checkpoints there.
CHECKPOINT_EVERY = 200


async def _acquire(lock: asyncio.Lock, seconds: float) -> None:
    # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
    # comes just as the lock is granted, and the cancelled task then runs on (a stopping bot
    # waited an hour for its pruning task, asleep when it should have ended).
    async with asyncio.timeout(seconds):
        await lock.acquire()


class WriterGate:
    """One writing transaction at a time per engine, the others waiting their turn in the loop,
    and the statements of the one writing run without waiting for the loop.

    SQLite lets one connection write at a time. A second writer that finds the lock taken is
    put to sleep by SQLite itself, for 1, 2, 5 … up to 100 ms a try, however soon the lock
    comes free, and without any order: under load a save could lose to newer writers again and
    again, and the batch that stores everyone's typed answers (bot.telegram.persistence) sat
    asleep behind it, holding up every user for a second and more. Here a connection that is
    about to begin writing waits for this lock instead, is woken as soon as the writer before
    it ends, and in order. Waiting longer than the connection's busy timeout fails as SQLite
    would ("database is locked"). Other processes on the same file still meet SQLite's own
    waiting: this orders only the writers of one engine.

    The lock is held until the commit, and each statement's trip to aiosqlite's thread waits
    for the loop to come round again, behind everyone else's work: with 300 people answering,
    a save of 15 statements held it for 100 ms and more, and the writers queued behind it. So
    a transaction takes SQLite's write lock at its first write (BEGIN IMMEDIATE, on the loop's
    thread if it is free at once, else waited for on aiosqlite's), and after that its
    statements and its commit cannot meet a lock: where the work is known to be small
    (:func:`on_the_loop`) they run on the loop's thread, a few rows each (:data:`HERE_ROWS`),
    with a trip again when the loop has not had a turn for :data:`HERE_SECONDS`. A commit only
    appends to the WAL; every :data:`CHECKPOINT_EVERY` th one goes to aiosqlite's thread and
    copies the WAL into the database file there, once its turn is let go.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.owner: object | None = None
        # What the bench reports (bench/updates.py): transactions, seconds held and waited.
        self.turns = self.commits = 0
        self.held = self.waited = self.longest = 0.0
        self._since = 0.0

    def enter(self, connection: object, seconds: float) -> None:
        """Waits (in the loop) until ``connection`` may write; called from SQLAlchemy's
        greenlet, as the statements are."""
        asked = time.perf_counter()
        deadline = asked + seconds
        while True:
            try:
                await_(_acquire(self._lock, max(0.0, min(deadline - time.perf_counter(), 1.0))))
                break
            except TimeoutError:
                owner = self.owner
                if isinstance(owner, OneTripConnection) and not owner._open():
                    # Its transaction ended past its commit and rollback (a connection dropped
                    # without them): nobody writes, so the turn is free.
                    log.warning("a SQLite writer's turn was let go after its transaction ended")
                    self.leave(owner)
                elif time.perf_counter() >= deadline:
                    raise sqlite3.OperationalError("database is locked") from None
        self.owner = connection
        self._since = time.perf_counter()
        self.turns += 1
        self.waited += self._since - asked

    def leave(self, connection: object) -> None:
        if self.owner is connection:
            self.owner = None
            held = time.perf_counter() - self._since
            self.held += held
            self.longest = max(self.longest, held)
            self._lock.release()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement runs to its end (rows fetched, cursor closed) in one call on
    aiosqlite's thread; what SQLAlchemy reads afterwards (rows, description, rowcount,
    lastrowid) is kept here."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")
    # Nothing to close on aiosqlite's thread: SQLAlchemy need not await a close.
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment] - opened on the thread per statement
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        return None

    def _run(self, call: Any, operation: str, rows: int = 1) -> None:
        connection: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        gate = connection.dbapi.gate
        if gate.owner is not connection:  # not in this connection's writing transaction
            if not operation.lstrip()[:7].upper().startswith(_WRITES):
                self._finish(call)  # a read outside a writing transaction: on the thread
                return
            gate.enter(connection, connection.busy_seconds)
            connection.tripped()
        try:
            if not self._connection.in_transaction and not connection.begin_here():
                # Another process writes: waited for on the thread, as SQLite waits.
                raw: sqlite3.Connection = self._connection._conn
                first = call

                def call() -> Any:
                    raw.execute("BEGIN IMMEDIATE")
                    return first()

                rows = HERE_ROWS + 1
            if self._connection.in_transaction and connection.may_run_here(rows):
                self._keep(call)
            else:
                self._finish(call)
                connection.tripped()
        finally:
            # A write that failed before its transaction began, or one SQLite itself ended.
            if not self._connection.in_transaction:
                gate.leave(connection)

    def _keep(self, call: Any) -> None:
        """Runs ``call`` here and keeps what SQLAlchemy reads afterwards."""
        try:
            description, rows, rowcount, lastrowid = call()
        except Exception as error:  # noqa: BLE001 - turned into the driver's error, raised
            self._adapt_connection._handle_exception(error)
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = rows

    def _finish(self, call: Any) -> None:
        """Runs ``call`` on aiosqlite's thread (one trip)."""
        self._keep(lambda: await_(self._connection._execute(call)))

    def execute(self, operation: Any, parameters: Any = None) -> None:
        raw: sqlite3.Connection = self._connection._conn

        def statement() -> tuple[Any, collections.deque, int, int | None]:
            cursor = raw.cursor()
            try:
                if parameters is None:
                    cursor.execute(operation)
                else:
                    cursor.execute(operation, parameters)
                description = cursor.description
                rows = collections.deque(cursor.fetchall() if description else ())
                return description, rows, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        # Many rows in one statement (SQLAlchemy's insertmanyvalues) count as many.
        self._run(statement, operation, 1 + len(parameters or ()) // 100)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        raw: sqlite3.Connection = self._connection._conn

        def statements() -> tuple[Any, collections.deque, int, int | None]:
            cursor = raw.cursor()
            try:
                cursor.executemany(operation, seq_of_parameters)
                return None, collections.deque(), cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        self._run(statements, operation, len(seq_of_parameters)
                  if isinstance(seq_of_parameters, (list, tuple)) else HERE_ROWS + 1)

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """aiosqlite's connection with :class:`OneTripCursor`; ends only a transaction that is open."""

    __slots__ = ("_tripped_at", "busy_seconds")
    _cursor_cls = OneTripCursor

    def _open(self) -> bool:
        # Read on the loop's thread while no call of this connection runs (SQLAlchemy awaits
        # each), as models.db's reset does.
        connection = self._connection
        return connection._connection is not None and connection.in_transaction

    def rollback(self) -> None:
        try:
            if self._open():
                super().rollback()
        finally:
            self._left()

    def commit(self) -> None:
        gate = self.dbapi.gate
        try:
            if gate.owner is self and self._open():
                gate.commits += 1
                checkpoint = gate.commits % CHECKPOINT_EVERY == 0
                if not checkpoint and self.may_run_here(0):
                    # Appends to the WAL, without waiting: nothing to copy into the database
                    # file (the bot's connections do not checkpoint at a commit).
                    try:
                        self._connection._conn.commit()
                    except Exception as error:  # noqa: BLE001 - the driver's error, raised
                        self._handle_exception(error)
                    return
                super().commit()
                if checkpoint:
                    # After the turn is let go: a passive checkpoint waits for no writer and
                    # no writer waits for it, while it copies pages and syncs the file.
                    self._left()
                    self._checkpoint()
            elif self._open():
                super().commit()
        finally:
            self._left()

    def _checkpoint(self) -> None:
        """Copies the WAL into the database file as far as no reader still needs it, on
        aiosqlite's thread (it writes and syncs the file)."""
        raw: sqlite3.Connection = self._connection._conn
        try:
            await_(self._connection._execute(
                lambda: raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()))
        except Exception as error:  # noqa: BLE001 - the driver's error, raised
            self._handle_exception(error)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.dbapi.gate.leave(self)

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            self.dbapi.gate.leave(self)

    def begin_here(self) -> bool:
        """Takes SQLite's write lock on the loop's thread if no other process has it (False
        then: not waited for, which would stop the loop)."""
        raw: sqlite3.Connection = self._connection._conn
        raw.execute("PRAGMA busy_timeout=0")
        try:
            raw.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            raw.execute(f"PRAGMA busy_timeout={int(self.busy_seconds * 1000)}")

    def tripped(self) -> None:
        """Notes that the loop just had its turn (a statement went to aiosqlite's thread)."""
        self._tripped_at = time.perf_counter()

    def may_run_here(self, rows: int) -> bool:
        """Whether a statement of this connection's writing transaction may run on the loop's
        thread: a few rows, and the loop had its turn within :data:`HERE_SECONDS`, so that a long
        transaction (an import) still lets the others run between its statements."""
        return _HERE.get() and rows <= HERE_ROWS \
            and time.perf_counter() - self._tripped_at < HERE_SECONDS

    def _left(self) -> None:
        """Lets the next writer in once this connection's transaction is over (a failed
        commit leaves it open, for SQLAlchemy's rollback)."""
        if self.dbapi.gate.owner is self and not self._open():
            self.dbapi.gate.leave(self)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite module, connecting with :class:`OneTripConnection`."""

    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        self.gate = WriterGate()

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        connection = OneTripConnection(self, adapted._connection)
        connection.busy_seconds = kw.get("timeout", 5.0)
        connection._tripped_at = 0.0
        return connection


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
