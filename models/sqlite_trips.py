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
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_


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

    def _run(self, call: Any) -> None:
        try:
            description, rows, rowcount, lastrowid = await_(self._connection._execute(call))
        except Exception as error:  # noqa: BLE001 - turned into the driver's error, raised
            self._adapt_connection._handle_exception(error)
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = rows

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

        self._run(statement)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        raw: sqlite3.Connection = self._connection._conn

        def statements() -> tuple[Any, collections.deque, int, int | None]:
            cursor = raw.cursor()
            try:
                cursor.executemany(operation, seq_of_parameters)
                return None, collections.deque(), cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        self._run(statements)

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """aiosqlite's connection with :class:`OneTripCursor`; ends only a transaction that is open."""

    __slots__ = ()
    _cursor_cls = OneTripCursor

    def _open(self) -> bool:
        # Read on the loop's thread while no call of this connection runs (SQLAlchemy awaits
        # each), as models.db's reset does.
        connection = self._connection
        return connection._connection is not None and connection.in_transaction

    def rollback(self) -> None:
        if self._open():
            super().rollback()

    def commit(self) -> None:
        if self._open():
            super().commit()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite module, connecting with :class:`OneTripConnection`."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
