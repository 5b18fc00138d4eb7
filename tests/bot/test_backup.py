"""`pendamping backup` and `pendamping restore`: a consistent copy while the bot writes, and
back again, row for row; the refusals; PostgreSQL's own tools for a PostgreSQL database."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import threading
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from bot.backup import backup_sqlite, head_revision
from bot.cli import main
from bot.core.enums import Audience, DeliveryStatus, MentorStatus, Role
from bot.telegram.persistence import DatabasePersistence
from models import broadcasts as broadcast_queries
from models import grants as grant_queries
from models import groups as group_queries
from models import mentors as mentor_queries
from models import updates as update_queries
from models import visits as visit_queries
from models.db import (
    create_engine,
    create_sessionmaker,
    downgrade_sync,
    upgrade_sync,
    with_search_path,
)
from models.tables import (
    BroadcastRecipient,
    Group,
    Mentor,
    Reminder,
    ReminderDelivery,
    UserData,
    Visit,
)
from tests.conftest import NOW, TODAY, postgresql_url
from tests.factories import (
    REGENCY_SUKABUMI,
    VILLAGE_IN_CIBADAK,
    make_grant,
    make_group,
    make_mentor,
)

KEPT = "demo.db.before-restore-20261125T030000Z"  # NOW, in UTC
WRITER_BASE = 10_000_000  # update ids of the concurrent writer's rows


@pytest.fixture
def folder(template_db: Path, tmp_path: Path) -> Path:
    """A demo folder whose database is a migrated copy with the official areas."""
    demo = tmp_path / "demo"
    demo.mkdir()
    shutil.copyfile(template_db, demo / "demo.db")
    return demo


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def cli(capsys, folder: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--demo", "--folder", str(folder)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, and the schema itself, in a comparable form."""
    with closing(sqlite3.connect(path)) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        contents = {name: sorted(connection.execute(f'SELECT * FROM "{name}"'), key=repr)
                    for name in tables}
        contents["(schema)"] = sorted(connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"),
            key=repr)
    return contents


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


async def seed_everything(url: str) -> None:
    """One or more rows of every kind the bot stores, made as the bot makes them."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            mentor = await make_mentor(session, telegram_id=700001, name="Siti Rahma")
            other = await make_mentor(session, telegram_id=700002, name="Ahmad Fauzi")
            await make_mentor(session, telegram_id=700003, name="Menunggu",
                              status=MentorStatus.PENDING)
            await make_mentor(session, telegram_id=700004, name="Ditolak",
                              status=MentorStatus.REJECTED)
            await make_mentor(session, telegram_id=700005, name="Berhenti",
                              status=MentorStatus.INACTIVE)
            coordinator = await make_mentor(session, telegram_id=800001, name="Koor Sukabumi",
                                            role=Role.COORDINATOR, area_code=REGENCY_SUKABUMI)
            await make_mentor(session, telegram_id=900001, name="Admin", role=Role.ADMIN,
                              language="en")
            invite = await mentor_queries.create_invite(
                session=session, created_by=coordinator.telegram_id,
                area_code=REGENCY_SUKABUMI, max_uses=3, now=NOW)
            await mentor_queries.use_invite(session=session, code=invite.code, now=NOW)
            await session.commit()

            mawar = await make_group(session, mentor, name="KUBE Mawar")
            melati = await make_group(session, other, name="KUBE Melati", members=5)
            leaving = (await group_queries.all_members(session=session, group_id=mawar.id))[-1]
            await group_queries.remove_member(session=session, member=leaving, actor=mentor,
                                              left_on=TODAY)
            await visit_queries.create_visit(
                session=session, group=mawar, mentor=mentor, update_id=4242,
                fields={"visited_on": TODAY - timedelta(days=1), "attendance": 6,
                        "activities": ["pemantauan", "pembukuan"], "turnover": 1_500_000,
                        "profit": 250_000, "cash": 800_000, "solidarity_fee": 50_000,
                        "problems": "Pakan mahal", "follow_up": "Cari pemasok lain",
                        "latitude": -6.9, "longitude": 106.78,
                        "photo_file_ids": ["AgAD-photo-1", "AgAD-photo-2"],
                        "next_visit_on": TODAY + timedelta(days=29)})

            cash = await make_grant(session, mawar, mentor)
            await make_grant(session, melati, other, form="barang", amount=None,
                             goods_description="10 ekor kambing", rollover_amount=None,
                             rollover_units=4, rollover_unit_label="ekor kambing",
                             rollover_households=2)
            await grant_queries.create_rollover(
                session=session, grant=cash, group=mawar, mentor=mentor, today=TODAY,
                update_id=4243,
                fields={"rolled_on": TODAY, "recipient_kind": "kk",
                        "recipient_name": "Ibu Sumarni", "amount": 2_500_000,
                        "recipient_village_code": VILLAGE_IN_CIBADAK, "note": "tahap 1"})

            reminder = (await session.execute(select(Reminder).order_by(Reminder.id))).scalars()\
                .first()
            session.add_all([
                ReminderDelivery(reminder_id=reminder.id, recipient_telegram_id=700001,
                                 status=DeliveryStatus.SENT, sent_at=NOW),
                ReminderDelivery(reminder_id=reminder.id, recipient_telegram_id=800001,
                                 status=DeliveryStatus.BLOCKED, reason="Forbidden: blocked"),
            ])
            await session.commit()

            broadcast, _ = await broadcast_queries.create(
                session=session, actor=coordinator, audience=Audience.ALL_MENTORS,
                audience_code=None, text="Halo {nama}, rapat Jumat.",
                photo_file_id="AgAD-poster", document_file_id=None, to=[mentor, other],
                update_id=5151)
            first = (await session.execute(
                select(BroadcastRecipient.id).where(
                    BroadcastRecipient.broadcast_id == broadcast.id)
                .order_by(BroadcastRecipient.id))).scalars().first()
            await broadcast_queries.mark_sent(session=session, row_ids=[first], now=NOW)
            await session.commit()
            await update_queries.mark_handled(session=session, update_id=6000)

        persistence = DatabasePersistence(sessionmaker)
        await persistence.update_conversation("visit", (700001, 700001), 3)
        await persistence.update_user_data(
            700001, {"draft:visit": {"group_id": mawar.id, "attendance": 6}})
    finally:
        await engine.dispose()


class Writer(threading.Thread):
    """Stands in for the bot: commits one visit-sized transaction after another, each an
    update id and its audit row, on its own connection (as the bot's WAL connections do)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.committed = 0
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with closing(sqlite3.connect(self.path, timeout=30)) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                seq = 0
                while not self.stop.is_set():
                    seq += 1
                    connection.execute(
                        "INSERT INTO handled_update (update_id, handled_at) VALUES (?, ?)",
                        (WRITER_BASE + seq, "2026-11-25 03:00:00.000000"))
                    connection.execute(
                        "INSERT INTO audit_log (at, action, entity, entity_id, new) "
                        "VALUES (?, 'create', 'writer', ?, ?)",
                        ("2026-11-25 03:00:00.000000", seq, json.dumps({"seq": seq})))
                    connection.commit()
                    with self.changed:
                        self.committed = seq
                        self.changed.notify_all()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            with self.changed:
                self.changed.notify_all()

    def wait_for(self, count: int) -> int:
        """Blocks until ``count`` transactions are committed (a guard against a hang, not a
        timing: a writer blocked by the backup fails the test here)."""
        with self.changed:
            if not self.changed.wait_for(
                    lambda: self.committed >= count or self.error is not None, timeout=120):
                pytest.fail(f"the writer stopped at {self.committed} commits: blocked?")
            if self.error is not None:
                raise self.error
            return self.committed


def writer_rows(contents: dict[str, list[tuple]]) -> tuple[list[int], list[int]]:
    updates = sorted(row[0] - WRITER_BASE for row in contents["handled_update"]
                     if row[0] > WRITER_BASE)
    audits = sorted(json.loads(row[-1])["seq"] for row in contents["audit_log"]
                    if row[4] == "writer")
    return updates, audits


def test_round_trip_of_every_kind_of_record_backed_up_while_a_writer_commits(folder, capsys):
    database = folder / "demo.db"
    asyncio.run(seed_everything(url_of(database)))
    before_writer = dump(database)
    empty = [name for name, rows in before_writer.items() if not rows]
    assert empty == [], f"tables without rows: the round trip would not cover them: {empty}"

    writer = Writer(database)
    writer.start()
    writer.wait_for(3)
    seen: dict[str, int] = {}

    def meanwhile(remaining: int, total: int) -> None:
        # Halfway through the copy the writer commits three more transactions.
        if "remaining" not in seen:
            seen.update(remaining=remaining, total=total, at_pause=writer.committed)
            seen["after_pause"] = writer.wait_for(writer.committed + 3)

    committed_before = writer.committed
    backup = folder.parent / "backup.db"
    result = backup_sqlite(database, backup, on_progress=meanwhile)
    writer.stop.set()
    writer.join()
    assert writer.error is None
    assert seen["remaining"] > 0, "the copy should have been in the middle (several steps)"

    copy = dump(backup)
    updates, audits = writer_rows(copy)
    taken = len(updates)
    # A snapshot: whole transactions, in commit order, none missing before the backup began,
    # none of those committed while it copied.
    assert updates == audits == list(range(1, taken + 1))
    assert committed_before <= taken <= seen["at_pause"] < seen["after_pause"]
    assert writer.committed > taken
    with closing(sqlite3.connect(backup)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert result.contents.counts == {"groups": 2, "members": 12, "visits": 1, "grants": 2}
    assert result.contents.revision == head_revision()

    # The state at backup time: the seeded rows and the writer's first `taken` transactions.
    live = dump(database)
    at_backup = dict(before_writer)
    for table in ("handled_update", "audit_log"):
        ours = set(before_writer[table])
        mine = [row for row in live[table] if row not in ours and (
            row[0] - WRITER_BASE if table == "handled_update" else row[5]) <= taken]
        at_backup[table] = sorted([*before_writer[table], *mine], key=repr)
    assert copy == at_backup

    async def change_things() -> None:
        engine = create_engine(url_of(database))
        try:
            async with create_sessionmaker(engine)() as session:
                await session.execute(update(Group).where(Group.name == "KUBE Mawar")
                                      .values(name="KUBE Mawar Baru"))
                await session.execute(delete(Visit))
                await session.execute(delete(ReminderDelivery))
                await session.execute(delete(UserData))
                await session.execute(update(Mentor).values(status=MentorStatus.INACTIVE))
                await session.execute(text("DELETE FROM area WHERE code LIKE '73.%'"))
                await session.commit()
                mentor = await mentor_queries.get_by_telegram_id(session=session,
                                                                 telegram_id=700001)
                await make_group(session, mentor, name="KUBE Baru")
        finally:
            await engine.dispose()

    asyncio.run(change_things())
    assert dump(database) != at_backup

    code, out, err = cli(capsys, folder, "restore", str(backup))
    assert (code, err) == (0, "")
    assert f"Restored {backup} into {database}" in out
    assert "groups 2, members 12, visits 1, grants 2" in out
    assert f"schema revision {head_revision()}\n" in out
    assert f"The database it replaced is kept as {folder / KEPT}" in out
    assert "Start the bot again." in out
    assert dump(database) == at_backup
    kept = dump(folder / KEPT)
    assert any("KUBE Mawar Baru" in row for row in kept["kube_group"])
    assert kept["visit"] == []
    assert leftovers(folder) == [] and leftovers(folder.parent) == []


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


POSTGRES = "postgresql+asyncpg://kube:s3cret@db.internal:5433/pendamping?search_path=kube_prod"


def test_postgresql_gets_the_pg_dump_and_pg_restore_commands_and_nothing_is_done(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", POSTGRES)
    dump_line = ("  pg_dump --host=db.internal --port=5433 --username=kube --dbname=pendamping "
                 "--schema=kube_prod --format=custom --file=kube.dump")
    restore_line = (
        "  { echo 'BEGIN; SET LOCAL client_min_messages = warning; DROP SCHEMA IF EXISTS "
        "\"kube_prod\" CASCADE;'; pg_restore --file=- kube.dump && echo 'COMMIT;'; } | psql "
        "--host=db.internal --port=5433 --username=kube --dbname=pendamping "
        "--set=ON_ERROR_STOP=1 --quiet --output=/dev/null")

    assert main(["backup", "kube.dump"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("The database is PostgreSQL: back it up and restore it with "
                          "PostgreSQL's own tools")
    assert "Nothing was done." in err
    assert "Database pendamping on db.internal:5433, schema kube_prod." in err
    lines = err.splitlines()
    assert lines.index(dump_line) < lines.index(restore_line)
    assert "s3cret" not in err and "PGPASSWORD or ~/.pgpass" in err

    assert main(["restore", "kube.dump"]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines.index("Restore (stop the bot first; this replaces everything in the "
                       "schema):") + 1 == lines.index(restore_line) < lines.index(dump_line)
    assert "  pendamping db upgrade    # when the backup is from an older version" in lines
    assert os.listdir(tmp_path) == []

    # Without ?search_path the tables live in the public schema; no password, no hint.
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", "postgresql+asyncpg://postgres@localhost/kube")
    assert main(["backup", "/srv/backups/kube 1.dump"]) == 2
    err = capsys.readouterr().err
    assert ("  pg_dump --host=localhost --username=postgres --dbname=kube --schema=public "
            "--format=custom --file='/srv/backups/kube 1.dump'") in err.splitlines()
    assert "PGPASSWORD" not in err


@pytest.mark.skipif(postgresql_url() is None or not all(
    shutil.which(tool) for tool in ("pg_dump", "pg_restore", "psql")),
    reason="needs PENDAMPING_TEST_DATABASE_URL and pg_dump, pg_restore, psql")
def test_the_printed_postgresql_commands_work(tmp_path, monkeypatch, capsys):
    """The commands shown to the operator, run as shown, against the test server."""
    base = postgresql_url()
    schema = f"bk_{os.getpid()}_{secrets.token_hex(3)}"
    url = with_search_path(base, schema)

    async def sql(statement: str, target: str = base) -> list[tuple]:
        engine = create_engine(target)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement))
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    async def seed() -> None:
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            await make_mentor(session, telegram_id=700001, name="Siti Rahma", area_code=None)
            await update_queries.mark_handled(session=session, update_id=77)
        await engine.dispose()

    asyncio.run(sql(f'CREATE SCHEMA "{schema}"'))
    try:
        upgrade_sync(url)
        asyncio.run(seed())
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("PENDAMPING_DATABASE_URL", url)
        assert main(["backup", "kube.dump"]) == 2
        printed = capsys.readouterr().err.splitlines()
        backup_command = next(line.strip() for line in printed if line.startswith("  pg_dump"))
        restore_command = next(line.strip() for line in printed if line.startswith("  { echo"))
        subprocess.run(["bash", "-c", backup_command], check=True, cwd=tmp_path)

        asyncio.run(sql(f'UPDATE "{schema}".mentor SET name = \'Diganti\''))
        asyncio.run(sql(f'DELETE FROM "{schema}".handled_update'))
        asyncio.run(sql(f'CREATE TABLE "{schema}".left_behind (x int)'))
        subprocess.run(["bash", "-c", restore_command], check=True, cwd=tmp_path)

        assert asyncio.run(sql("SELECT name FROM mentor", url)) == [("Siti Rahma",)]
        assert asyncio.run(sql("SELECT update_id FROM handled_update", url)) == [(77,)]
        tables = asyncio.run(sql(
            f"SELECT tablename FROM pg_tables WHERE schemaname = '{schema}'"))
        assert ("left_behind",) not in tables
        assert asyncio.run(sql("SELECT version_num FROM alembic_version", url)) == \
            [(head_revision(),)]

        # A file that is no dump leaves the schema as it was (no COMMIT is sent).
        (tmp_path / "kube.dump").write_text("not a dump")
        subprocess.run(["bash", "-c", restore_command], check=False, cwd=tmp_path,
                       capture_output=True)
        assert asyncio.run(sql("SELECT name FROM mentor", url)) == [("Siti Rahma",)]
    finally:
        asyncio.run(sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_help_lists_backup_and_restore(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert re.search(r"backup\s+write a consistent copy", listing)
    assert re.search(r"restore\s+put a backup back", listing)
