"""What an operator is told when a `pendamping` command cannot go on: one plain line saying
what is wrong and what to do, never a traceback (a wrong setting, a database that cannot be
reached or is not migrated, Telegram out of reach). The CLI's one error boundary uses it."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

from pydantic import ValidationError

from models.db import sqlite_file

# Their values are secret, or may hold a password: a message names them, never quotes them.
_HIDDEN = {"telegram_token", "data_key", "webhook_secret", "database_url", "test_database_url"}


class SetupProblem(Exception):
    """A problem whose message already says what to do (printed as it is)."""


def check_sqlite_folder(database_url: str) -> None:
    """Raises SetupProblem when a SQLite database's folder does not exist: a typo in the path
    must not start a bot on a new, empty database somewhere else."""
    path = sqlite_file(database_url)
    if path is None:
        return
    folder = path.resolve().parent
    if not folder.is_dir():
        raise SetupProblem(f"The folder of the SQLite database, {folder}, does not exist: "
                           "create it, or correct PENDAMPING_DATABASE_URL.")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (SQLAlchemy's ``orig``) and what caused it."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (getattr(current, "orig", None), current.__cause__,
                             current.__context__) if isinstance(e, BaseException)]


def settings_problem(error: ValidationError) -> str:
    """Each wrong setting by its variable name, with what is expected."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        message = item["msg"].removeprefix("Value error, ")
        if not field:
            lines.append(f"Setting: {message}.")
            continue
        shown = "" if field in _HIDDEN else f" (it is {item.get('input')!r})"
        lines.append(f"Setting PENDAMPING_{field.upper()}: {message}{shown}.")
    return "\n".join(lines) + "\n(Set it in the environment or in .env; README: Settings.)"


def _database_problem(exc: BaseException) -> str | None:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if name in ("UndefinedTableError",) or "no such table" in text:
        return ("The database has no tables yet, or they are older than this version: "
                "run `pendamping db upgrade` first.")
    if name in ("InvalidCatalogNameError", "InvalidPasswordError",
                "InvalidAuthorizationSpecificationError"):
        return (f"The database refused the connection: {text}. "
                "Check PENDAMPING_DATABASE_URL.")
    if isinstance(exc, socket.gaierror):
        return ("The database server's host name is unknown. Check the host in "
                "PENDAMPING_DATABASE_URL.")
    if isinstance(exc, ConnectionRefusedError | TimeoutError) or name in (
            "CannotConnectNowError", "ConnectionDoesNotExistError"):
        return ("The database server does not answer. Check that it runs and the host and "
                "port in PENDAMPING_DATABASE_URL.")
    if name == "OperationalError" and "unable to open database file" in text:
        return ("The SQLite database file cannot be opened: check the folder in "
                "PENDAMPING_DATABASE_URL exists and may be written.")
    return None


def _telegram_problem(exc: BaseException) -> str | None:
    from telegram.error import InvalidToken, NetworkError

    if isinstance(exc, InvalidToken):
        return ("Telegram refused the bot token: check PENDAMPING_TELEGRAM_TOKEN (from "
                "@BotFather).")
    if isinstance(exc, NetworkError):
        return ("Telegram cannot be reached: check this machine's network and "
                "PENDAMPING_TELEGRAM_BASE_URL.")
    return None


def port_problem(exc: OSError, port: int, variable: str) -> str | None:
    if exc.errno == errno.EADDRINUSE:
        return (f"Port {port} is already in use on this machine: stop what uses it, or set "
                f"{variable} to a free port.")
    if exc.errno == errno.EACCES:
        return f"Port {port} needs more rights than this user has: set {variable} above 1024."
    return None


def explain(exc: BaseException) -> str | None:
    """The plain message for a known kind of failure, or None (a bug: shown as one)."""
    for current in _chain(exc):
        if isinstance(current, SetupProblem):
            return str(current)
        if isinstance(current, ValidationError):
            return settings_problem(current)
        found = _database_problem(current) or _telegram_problem(current)
        if found:
            return found
    return None
