"""`pendamping backup` and `restore` give back every kind of record, row for row, even
with a writer committing while the copy is made."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from bot.backup import backup_sqlite, head_revision
from bot.core.enums import Audience, DeliveryStatus, MentorStatus, Role
from bot.telegram.persistence import DatabasePersistence
from models import broadcasts as broadcast_queries
from models import changes
from models import grants as grant_queries
from models import groups as group_queries
from models import mentors as mentor_queries
from models import updates as update_queries
from models import visits as visit_queries
from models.db import (
    create_engine,
    create_sessionmaker,
)
from models.tables import (
    BroadcastRecipient,
    DashboardLink,
    Group,
    LeaderLease,
    Mentor,
    Reminder,
    ReminderDelivery,
    Training,
    UserData,
    Visit,
)
from tests.bot.backup.helpers import KEPT, cli, dump, leftovers, url_of
from tests.conftest import NOW, TODAY
from tests.factories import (
    REGENCY_SUKABUMI,
    VILLAGE_IN_CIBADAK,
    make_grant,
    make_group,
    make_mentor,
)

WRITER_BASE = 10_000_000  # update ids of the concurrent writer's rows


async def seed_everything(url: str) -> None:
    """One or more rows of every kind the bot stores, made as the bot makes them."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            mentor = await make_mentor(session, telegram_id=700001, name="Siti Rahma")
            # The lease a PostgreSQL leader holds (a backup of SQLite carries it all the same).
            session.add(LeaderLease(name="pendamping-kube", holder="a1b2c3", epoch=3,
                                    acquired_at=NOW, expires_at=NOW))
            await session.flush()
            # A one-time dashboard link (/dasbor), as its sign-in remembers it.
            session.add(DashboardLink(id="k3n1a9", mentor_id=mentor.id, expires_at=NOW,
                                      used_at=NOW))
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

            await changes.change_stage(session=session, group=mawar, stage="berkembang",
                                       actor=mentor, on=TODAY, note="laba dibagi")
            session.add(Training(group_id=mawar.id, held_on=TODAY, topic="Pembukuan sederhana",
                                 provider="Dinas Sosial", attendee_ids=[1, 2],
                                 recorded_by=mentor.id))
            await session.commit()

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
            await update_queries.receive(session=session, arrivals=[
                update_queries.Arrival(6000, "m:700001:1:0", {"update_id": 6000})])
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
                        "INSERT INTO received_update (update_id, fingerprint, received_at, "
                        "handled_at) VALUES (?, ?, ?, ?)",
                        (WRITER_BASE + seq, f"w:{seq}", "2026-11-25 03:00:00.000000",
                         "2026-11-25 03:00:00.000000"))
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
    updates = sorted(row[1] - WRITER_BASE for row in contents["received_update"]
                     if row[1] > WRITER_BASE)
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
    for table in ("received_update", "audit_log"):
        ours = set(before_writer[table])
        mine = [row for row in live[table] if row not in ours and (
            row[1] - WRITER_BASE if table == "received_update" else row[5]) <= taken]
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


