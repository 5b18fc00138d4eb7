"""`pendamping backup` and `pendamping restore`: a consistent copy of the database and back.

SQLite is copied with its online backup API inside one read transaction: the copy is the
database as it was when that transaction began, while the bot goes on writing (WAL mode lets
writers and this reader work side by side). A PostgreSQL database is PostgreSQL's own tools'
job: for one, both commands print the exact pg_dump / psql commands and change nothing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO, TypeVar

from sqlalchemy.engine import make_url

from models.db import MIGRATIONS_DIR, SEARCH_PATH_PARAM, sqlite_file, upgrade_sync

# Pages copied per step of the backup API (4 MiB with SQLite's default page size); the lock on
# the source is a read lock held throughout either way, so this only bounds each step's work.
STEP_PAGES = 1024
# Tables that only a Pendamping database has; with alembic_version they identify one.
OWN_TABLES = ("mentor", "kube_group", "member", "visit")
COUNTED = (("groups", "kube_group"), ("members", "member"), ("visits", "visit"),
           ("grants", "group_grant"))
EXIT_REFUSED = 2


class BackupError(Exception):
    """A refusal, worded for the operator: what is wrong and what to do."""


@dataclass(frozen=True)
class Contents:
    """What a verified database file holds."""

    revision: str
    counts: dict[str, int | None]


_Result = TypeVar("_Result")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    contents: Contents


@dataclass(frozen=True)
class RestoreResult:
    database: Path
    kept: Path | None
    contents: Contents
    migrated_to: str | None


# --- where the database is -----------------------------------------------------------------

def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for another database."""
    if make_url(database_url).get_backend_name() != "sqlite":
        return None
    path = sqlite_file(database_url)
    if path is None:
        raise BackupError(f"{database_url} is not a database file: nothing to copy.")
    return path


def instance_lock_path(database: Path) -> Path:
    """The lock file a running bot holds (flock) beside its database."""
    return database.with_name(database.name + ".lock")


def head_revision() -> str:
    return _scripts().get_current_head()


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def _scripts():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR))


# --- reading and checking a database file --------------------------------------------------

def _uri(path: Path, mode: str) -> str:
    # mode=ro / rw never creates a missing file, unlike a plain connect.
    return f"{path.resolve().as_uri()}?mode={mode}"


def verify(connection: sqlite3.Connection, name: str) -> Contents:
    """Checks that ``connection`` holds a sound Pendamping database; what it holds."""
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{name} is not a SQLite database ({exc}).") from None
    if problems != ["ok"]:
        raise BackupError(f"{name} is damaged (integrity check: {'; '.join(problems[:3])}).")
    if "alembic_version" not in tables or not set(OWN_TABLES) <= tables:
        raise BackupError(f"{name} is a SQLite database, but not a Pendamping database.")
    revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    if len(revisions) != 1:
        raise BackupError(f"{name} has no schema revision (alembic_version is empty): "
                          "not a usable Pendamping database.")
    counts = {label: (connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                      if table in tables else None)
              for label, table in COUNTED}
    return Contents(revision=revisions[0], counts=counts)


def _copy(source: sqlite3.Connection, target: Path, *,
          on_progress: Callable[[int, int], None] | None) -> sqlite3.Connection:
    """Copies ``source`` into the (new, empty) file ``target``; an open connection to it."""
    copy = sqlite3.connect(target, isolation_level=None)
    try:
        source.backup(copy, pages=STEP_PAGES,
                      progress=None if on_progress is None
                      else lambda _status, remaining, total: on_progress(remaining, total))
        # A backup is one self-contained file: no -wal beside it to lose when it is moved.
        copy.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        copy.close()
        raise
    return copy


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - folders cannot be fsynced everywhere (Windows)
        pass
    finally:
        os.close(fd)


def _temporary(folder: Path, name: str) -> Path:
    # Beside the destination, so the final rename stays on one file system (atomic); mkstemp
    # makes it readable by its owner only, which suits a file full of personal data.
    fd, path = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(fd)
    return Path(path)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


# --- backup --------------------------------------------------------------------------------

def backup_sqlite(database: Path, target: Path, *, force: bool = False,
                  on_progress: Callable[[int, int], None] | None = None) -> BackupResult:
    """Writes a consistent copy of ``database`` to ``target``, safe while the bot writes.

    The copy is made in a temporary file beside ``target``, verified, then renamed over it, so
    ``target`` is never half written. ``on_progress(remaining, total)`` is called after each
    step of the copy (pages).
    """
    if not database.is_file():
        raise BackupError(f"There is no database at {database.resolve()}. Check "
                          "PENDAMPING_DATABASE_URL (a relative path starts in the current "
                          "folder).")
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give the name of the backup file.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    if _same_file(database, target) or target.name in (f"{database.name}-wal",
                                                       f"{database.name}-shm"):
        raise BackupError(f"{target} is the database itself: choose another file.")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists: choose another name, or add --force to "
                          "replace it.")
    temporary = _temporary(target.parent, target.name)
    try:
        source = sqlite3.connect(_uri(database, "rw"), uri=True, timeout=30,
                                 isolation_level=None)
        try:
            # The snapshot: every step of the copy reads inside this one read transaction,
            # so commits made meanwhile neither appear half nor restart the copy.
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            copy = _copy(source, temporary, on_progress=on_progress)
            source.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"Cannot read the database {database} ({exc}).") from None
        finally:
            source.close()
        try:
            contents = verify(copy, f"The copy of {database}")
        finally:
            copy.close()
        _fsync(temporary)
        os.replace(temporary, target)
        _fsync(target.parent)
    finally:
        temporary.unlink(missing_ok=True)
    return BackupResult(path=target, size=target.stat().st_size, contents=contents)


# --- restore -------------------------------------------------------------------------------

@contextmanager
def _bot_stopped(database: Path) -> Iterator[None]:
    """Holds the running bot's lock file (when there is one) for the duration, or refuses."""
    lock = instance_lock_path(database)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Windows; the in-use check still applies
        yield
        return
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"The bot is running on {database} (it holds {lock}). Stop the bot first, "
                "then restore, then start it again.") from None
        yield
    finally:
        os.close(fd)  # releases the lock too


def _detach(database: Path) -> None:
    """Folds the write-ahead log into the file, which needs every other connection closed.

    Leaving WAL mode is refused while anyone else has the database open, so this doubles as
    the check that nothing (a bot without a lock file, the demo, a sqlite3 shell) uses it.
    """
    try:
        connection = sqlite3.connect(_uri(database, "rw"), uri=True, timeout=0,
                                     isolation_level=None)
    except sqlite3.Error:
        return  # unreadable: it is moved aside as it is, -wal and all
    try:
        mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError(
                f"The database {database} is in use by another program (is the bot running?). "
                "Stop it first, then restore.") from None
        return
    except sqlite3.DatabaseError:
        return  # damaged: perhaps the very reason for restoring; kept aside as it is
    finally:
        connection.close()
    if mode != "delete":
        raise BackupError(f"The database {database} is in use by another program (is the bot "
                          "running?). Stop it first, then restore.")


def _kept_name(database: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = database.with_name(f"{database.name}.before-restore-{stamp}")
    number = 1
    while kept.exists():
        number += 1
        kept = database.with_name(f"{database.name}.before-restore-{stamp}-{number}")
    return kept


def _keep(database: Path, kept: Path) -> None:
    """Keeps the current database under ``kept`` while it stays in place until replaced."""
    try:
        os.link(database, kept)
    except OSError:  # a file system without hard links: a copy does as well
        shutil.copy2(database, kept)
    for suffix in ("-wal", "-shm"):
        side = database.with_name(database.name + suffix)
        if side.exists():
            os.replace(side, kept.with_name(kept.name + suffix))


def restore_sqlite(backup: Path, database: Path, *, database_url: str,
                   now: datetime) -> RestoreResult:
    """Puts ``backup`` in place of ``database``; the bot must be stopped.

    The backup is verified on a copy beside the database, the current database is kept as
    ``<name>.before-restore-<UTC time>``, and the copy is renamed into place (atomic); an older
    backup is then migrated to the code's schema.
    """
    if not backup.is_file():
        raise BackupError(f"There is no file {backup}.")
    if _same_file(backup, database):
        raise BackupError(f"{backup} is the database itself.")
    if not database.parent.is_dir():
        raise BackupError(f"The folder {database.parent} does not exist.")
    with _bot_stopped(database):
        temporary = _temporary(database.parent, database.name)
        try:
            try:
                source = sqlite3.connect(_uri(backup, "ro"), uri=True, timeout=30)
                try:
                    copy = _copy(source, temporary, on_progress=None)
                finally:
                    source.close()
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"{backup} is not a SQLite database ({exc}).") from None
            try:
                contents = verify(copy, str(backup))
            finally:
                copy.close()
            head = head_revision()
            if contents.revision not in known_revisions():
                raise BackupError(
                    f"{backup} comes from a newer version of Pendamping (schema revision "
                    f"{contents.revision}; this version knows up to {head}). Update the bot, "
                    "then restore.")
            kept = None
            if database.exists():
                _detach(database)
                shutil.copymode(database, temporary)
                kept = _kept_name(database, now)
                _keep(database, kept)
            _fsync(temporary)
            os.replace(temporary, database)
            _fsync(database.parent)
        finally:
            temporary.unlink(missing_ok=True)
        migrated_to = None
        if contents.revision != head:
            try:
                upgrade_sync(database_url)
            except Exception as exc:  # noqa: BLE001 - reported with what is where
                where = f"; the previous database is {kept}" if kept else ""
                raise BackupError(
                    f"The backup is in place at {database} (schema revision "
                    f"{contents.revision}), but migrating it to {head} failed: "
                    f"{type(exc).__name__}: {exc}{where}.") from None
            migrated_to = head
    return RestoreResult(database=database, kept=kept, contents=contents,
                         migrated_to=migrated_to)


# --- PostgreSQL: PostgreSQL's own tools ----------------------------------------------------

def postgresql_instructions(database_url: str, file: str, *, restoring: bool) -> str:
    """What to run instead, for the configured server, database and schema."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return (f"PENDAMPING_DATABASE_URL is a {url.get_backend_name()} database: "
                "`pendamping backup` and `restore` copy SQLite files only; use that "
                "database's own backup tools. Nothing was done.")
    search_path = url.query.get(SEARCH_PATH_PARAM)
    if isinstance(search_path, tuple):
        search_path = search_path[0]
    schema = (search_path or "public").split(",")[0].strip()
    connection = []
    for option, value in (("--host", url.host), ("--port", url.port),
                          ("--username", url.username)):
        if value is not None:
            connection.append(f"{option}={shlex.quote(str(value))}")
    where = " ".join(connection)
    database = shlex.quote(url.database or "postgres")
    quoted_file = shlex.quote(file)
    dump = (f"pg_dump {where} --dbname={database} --schema={shlex.quote(schema)} "
            f"--format=custom --file={quoted_file}")
    # One transaction: the schema is dropped and rebuilt from the file, and COMMIT is sent
    # only when pg_restore read the whole file, so a bad file leaves the database as it was.
    drop = shlex.quote(f'BEGIN; SET LOCAL client_min_messages = warning; '
                       f'DROP SCHEMA IF EXISTS "{schema}" CASCADE;')
    load = (f"{{ echo {drop}; pg_restore --file=- {quoted_file} && echo 'COMMIT;'; }} "
            f"| psql {where} --dbname={database} --set=ON_ERROR_STOP=1 --quiet "
            "--output=/dev/null")
    server = f"{url.host or 'the local socket'}{f':{url.port}' if url.port else ''}"
    intro = [
        ("The database is PostgreSQL: back it up and restore it with PostgreSQL's own tools "
         "(`pendamping backup` and `restore` copy SQLite files only). Nothing was done."),
        f"Database {url.database} on {server}, schema {schema}.",
    ]
    backing_up = ["Back up (safe while the bot runs: pg_dump reads one consistent snapshot):",
                  f"  {dump}"]
    putting_back = ["Restore (stop the bot first; this replaces everything in the schema):",
                  f"  {load}",
                  "  pendamping db upgrade    # when the backup is from an older version",
                  ("  (The schema is made anew: rights on the schema itself that were not granted "
                  "to a named role, such as PostgreSQL's default USAGE for everyone on "
                  "\"public\", must be granted again.)")]
    # The commands the operator asked for come first.
    blocks = [intro, putting_back, backing_up] if restoring else [intro, backing_up, putting_back]
    if url.password:
        blocks.append([("The password in PENDAMPING_DATABASE_URL is not shown: give it in "
                        "PGPASSWORD or ~/.pgpass.")])
    lines = [line for block in blocks for line in [*block, ""]][:-1]
    return "\n".join(lines)


# --- the commands --------------------------------------------------------------------------

def _size(size: int) -> str:
    return f"{size:,} bytes ({size / 1024 / 1024:.1f} MiB)"


def _counts(contents: Contents) -> str:
    return ", ".join(f"{label} {'-' if n is None else n}" for label, n in contents.counts.items())


def _on_sqlite_file(database_url: str, file: str, action: Callable[[Path], _Result], *,
                    restoring: bool, err: TextIO) -> _Result | None:
    """Runs ``action`` on the database's SQLite file; None once it has said why not: the
    commands for PostgreSQL, a refusal (BackupError) or a failure of the file system."""
    verb = "Restore" if restoring else "Backup"
    try:
        database = sqlite_path(database_url)
        if database is None:
            print(postgresql_instructions(database_url, file, restoring=restoring), file=err)
            return None
        return action(database)
    except BackupError as exc:
        print(f"{verb} refused: {exc}", file=err)
    except OSError as exc:
        print(f"{verb} failed: {exc.strerror or exc} ({exc.filename or file}).", file=err)
    return None


def backup_command(database_url: str, file: str, *, force: bool, out: TextIO | None = None,
                   err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    copied = _on_sqlite_file(
        database_url, file, lambda database: (database, backup_sqlite(database, Path(file),
                                                                      force=force)),
        restoring=False, err=err)
    if copied is None:
        return EXIT_REFUSED
    database, result = copied
    print(f"Backup written: {result.path}", file=out)
    print(f"  from {database}, {_size(result.size)}", file=out)
    print(f"  {_counts(result.contents)}", file=out)
    print(f"  schema revision {result.contents.revision}; integrity check ok", file=out)
    print(f"Restore it with: pendamping restore {shlex.quote(str(result.path))} "
          "(with the bot stopped)", file=out)
    return 0


def restore_command(database_url: str, file: str, *, now: datetime,
                    out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    result = _on_sqlite_file(
        database_url, file, lambda database: restore_sqlite(
            Path(file), database, database_url=database_url, now=now),
        restoring=True, err=err)
    if result is None:
        return EXIT_REFUSED
    print(f"Restored {file} into {result.database}", file=out)
    print(f"  {_counts(result.contents)}", file=out)
    if result.migrated_to:
        print(f"  schema revision {result.contents.revision}, migrated to "
              f"{result.migrated_to}", file=out)
    else:
        print(f"  schema revision {result.contents.revision}", file=out)
    if result.kept:
        print(f"The database it replaced is kept as {result.kept}", file=out)
    print("Start the bot again.", file=out)
    return 0

