"""What `pendamping backup` and `restore` say, and what they refuse: overwriting, what
is not a Pendamping database, a newer version, a running bot; an older backup is migrated."""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
from contextlib import closing

from sqlalchemy import text

from bot.backup import head_revision
from models import mentors as mentor_queries
from models.db import (
    create_engine,
    create_sessionmaker,
    downgrade_sync,
)
from tests.bot.backup.helpers import KEPT, cli, digest, dump, leftovers, url_of
from tests.factories import (
    make_group,
    make_mentor,
)


def test_backup_says_what_it_wrote_and_never_overwrites_without_force(folder, capsys):
    database = folder / "demo.db"

    async def seed(name: str) -> None:
        engine = create_engine(url_of(database))
        async with create_sessionmaker(engine)() as session:
            mentor = await mentor_queries.get_by_telegram_id(session=session,
                                                             telegram_id=700001)
            mentor = mentor or await make_mentor(session, telegram_id=700001)
            await make_group(session, mentor, name=name)
        await engine.dispose()

    asyncio.run(seed("KUBE Mawar"))
    target = folder.parent / "nightly.db"
    code, out, err = cli(capsys, folder, "backup", str(target))
    assert (code, err) == (0, "")
    size = target.stat().st_size
    assert out.splitlines() == [
        f"Backup written: {target}",
        f"  from {database}, {size:,} bytes ({size / 1024 / 1024:.1f} MiB)",
        "  groups 1, members 7, visits 0, grants 0",
        f"  schema revision {head_revision()}; integrity check ok",
        f"Restore it with: pendamping restore {target} (with the bot stopped)",
    ]
    # Personal data (NIKs, phone numbers): only the owner may read the file.
    assert target.stat().st_mode & 0o077 == 0

    first = digest(target)
    asyncio.run(seed("KUBE Melati"))
    code, out, err = cli(capsys, folder, "backup", str(target))
    assert code == 2 and out == ""
    assert err == (f"Backup refused: {target} already exists: choose another name, or add "
                   "--force to replace it.\n")
    assert digest(target) == first

    code, out, err = cli(capsys, folder, "backup", str(target), "--force")
    assert code == 0
    assert "  groups 2, members 14, visits 0, grants 0" in out.splitlines()
    assert leftovers(target.parent) == []

    code, out, err = cli(capsys, folder, "backup", str(database), "--force")
    assert code == 2 and "is the database itself" in err


def test_backup_without_a_database_or_folder_refuses(tmp_path, capsys):
    code, out, err = cli(capsys, tmp_path / "nothing", "backup", str(tmp_path / "b.db"))
    assert code == 2 and out == ""
    assert err == (f"Backup refused: There is no database at {tmp_path / 'nothing' / 'demo.db'}. "
                   "Check PENDAMPING_DATABASE_URL (a relative path starts in the current "
                   "folder).\n")
    assert not (tmp_path / "b.db").exists()
    assert not (tmp_path / "nothing").exists()


def test_restore_refuses_what_is_not_a_pendamping_database(folder, tmp_path, capsys):
    database = folder / "demo.db"
    before = digest(database)

    junk = tmp_path / "notes.txt"
    junk.write_text("Daftar belanja: pakan, vitamin, kandang.\n" * 50)
    code, out, err = cli(capsys, folder, "restore", str(junk))
    assert code == 2 and out == ""
    assert err.startswith(f"Restore refused: {junk} is not a SQLite database")

    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE t (x)")
        connection.commit()
    code, out, err = cli(capsys, folder, "restore", str(other))
    assert code == 2
    assert err == (f"Restore refused: {other} is a SQLite database, but not a Pendamping "
                   "database.\n")

    code, out, err = cli(capsys, folder, "restore", str(tmp_path / "missing.db"))
    assert code == 2
    assert err == f"Restore refused: There is no file {tmp_path / 'missing.db'}.\n"

    assert digest(database) == before
    assert sorted(p.name for p in folder.iterdir()) == ["demo.db"]


def test_restore_refuses_a_backup_from_a_newer_version(folder, tmp_path, capsys):
    backup = tmp_path / "future.db"
    assert cli(capsys, folder, "backup", str(backup))[0] == 0
    with closing(sqlite3.connect(backup)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
        connection.commit()
    before = digest(folder / "demo.db")
    code, out, err = cli(capsys, folder, "restore", str(backup))
    assert code == 2 and out == ""
    assert err == (f"Restore refused: {backup} comes from a newer version of Pendamping "
                   f"(schema revision 0099; this version knows up to {head_revision()}). "
                   "Update the bot, then restore.\n")
    assert digest(folder / "demo.db") == before
    assert sorted(p.name for p in folder.iterdir()) == ["demo.db"]


def test_restore_refuses_while_the_bot_runs(folder, tmp_path, capsys):
    database = folder / "demo.db"
    backup = tmp_path / "backup.db"
    assert cli(capsys, folder, "backup", str(backup))[0] == 0
    before = digest(database)
    rows_before = dump(database)

    # A running bot holds <database>.lock.
    lock = folder / "demo.db.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, out, err = cli(capsys, folder, "restore", str(backup))
    assert code == 2 and out == ""
    assert err == (f"Restore refused: The bot is running on {database} (it holds {lock}). "
                   "Stop the bot first, then restore, then start it again.\n")
    assert digest(database) == before

    # Without the lock, an open connection (a bot of before the lock file, the demo...) is seen.
    async def hold_open_then_restore() -> tuple[int, str, str]:
        engine = create_engine(url_of(database))
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT count(*) FROM mentor"))
                return await asyncio.to_thread(cli, capsys, folder, "restore", str(backup))
        finally:
            await engine.dispose()

    code, out, err = asyncio.run(hold_open_then_restore())
    assert code == 2
    assert err == (f"Restore refused: The database {database} is in use by another program "
                   "(is the bot running?). Stop it first, then restore.\n")
    # (The bot's connection switched the file to WAL mode: compare the rows, not the bytes.)
    assert dump(database) == rows_before
    assert leftovers(folder) == []

    # A lock file nobody holds (the bot has stopped) is no obstacle.
    code, out, err = cli(capsys, folder, "restore", str(backup))
    assert code == 0, err
    assert (folder / KEPT).exists()


def test_restore_migrates_an_older_backup_and_keeps_each_replaced_database(folder, tmp_path,
                                                                           capsys):
    backup = tmp_path / "old.db"
    assert cli(capsys, folder, "backup", str(backup))[0] == 0
    downgrade_sync(url_of(backup), "0002")

    code, out, err = cli(capsys, folder, "restore", str(backup))
    assert (code, err) == (0, "")
    assert f"  schema revision 0002, migrated to {head_revision()}" in out.splitlines()
    with closing(sqlite3.connect(folder / "demo.db")) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == \
            [(head_revision(),)]
        assert connection.execute("SELECT count(*) FROM broadcast").fetchone() == (0,)
    with closing(sqlite3.connect(backup)) as connection:  # the backup itself is untouched
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == \
            [("0002",)]

    # A second restore within the same second keeps the first replaced database too.
    assert cli(capsys, folder, "restore", str(backup))[0] == 0
    assert sorted(p.name for p in folder.iterdir()) == ["demo.db", KEPT, f"{KEPT}-2"]


