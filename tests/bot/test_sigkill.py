"""SIGKILL in the middle of a save, a reminder sweep and a broadcast (real `pendamping run`
processes against the local Bot API server): the database stays consistent, the restarted bot
finishes the work, and nobody gets a message twice. What was in flight at the kill is marked
failed "interrupted", never resent (the at-most-once rule of scheduler.sweep and
scheduler.outbox).

The kill comes at a known point: the server holds one request (a "slow" fault of a minute)
and the bot is killed while it waits for the answer.
"""

from __future__ import annotations

import asyncio
import functools
import random
import signal
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.core.enums import Audience, Role
from bot.localapi import Faults, LocalBotApi
from models import broadcasts as broadcast_queries
from models.db import create_engine
from models.tables import (
    AuditLog,
    BroadcastRecipient,
    ConversationState,
    LeaderLease,
    Mentor,
    ReceivedUpdate,
    ReminderDelivery,
    UserData,
    Visit,
)
from scheduler.sweep import CLAIM_BATCH
from tests.bot.test_serve import _env, _start_instance, wait_until
from tests.factories import REGENCY_SUKABUMI, make_group, make_mentor

HOLD = Faults(slow_seconds=120)  # no random faults; a held request waits two minutes
QUICK = {"PENDAMPING_REMINDER_HOUR": "0", "PENDAMPING_QUIET_HOURS_START": "0",
         "PENDAMPING_QUIET_HOURS_END": "0", "PENDAMPING_REMINDER_SWEEP_SECONDS": "5",
         "PENDAMPING_HEALTH_PORT": "0"}
SUMMARY: dict[str, str] = {}


@pytest.fixture(autouse=True, scope="module")
def _report():
    yield
    for what, figures in SUMMARY.items():
        print(f"\nSIGKILL during {what}: {figures}")


class Bot:
    """One `pendamping run` process at a time on ``db_url``."""

    def __init__(self, server: LocalBotApi, db_url: str, tmp_path: Path, **extra: str):
        self.env = _env(db_url, server.base_url, 0, **{**QUICK, **extra})
        self.db_url = db_url
        self.server, self.tmp_path, self.process, self.runs = server, tmp_path, None, 0

    async def start(self) -> None:
        self.runs += 1
        commands = self.server.calls["setMyCommands"]
        self.process = _start_instance(self.env, self.tmp_path / f"run{self.runs}.log")

        async def started():
            return self.server.calls["setMyCommands"] >= commands + 2
        await wait_until(started, 60, "the bot to start")

    async def kill_when_held(self, also: Callable[[], bool] = lambda: True) -> None:
        """SIGKILL once a request is held (and ``also()`` holds), then no more faults."""
        async def held():
            return self.server.fault_counts["slow"] >= 1 and also()
        await wait_until(held, 30, "the held request", self.logs)
        await self.kill()
        self.server.set_faults(Faults())

    async def kill(self) -> None:
        """SIGKILL, and the dead leader's lease given up."""
        self.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 10)
        await self._lease_runs_out()

    async def _lease_runs_out(self) -> None:
        """PostgreSQL: the dead leader's lease runs out now rather than after
        PENDAMPING_LEADER_LEASE_SECONDS (tests/bot/test_leader.py and test_serve.py wait it
        out; here it is the data that is tested)."""
        engine = create_engine(self.db_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(update(LeaderLease).values(
                    expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        finally:
            await engine.dispose()

    def logs(self) -> str:
        """Every run's log, for a failure message."""
        return "\n".join(f"--- run{n}.log\n" + (self.tmp_path / f"run{n}.log").read_text(
            errors="replace")[-4000:] for n in range(1, self.runs + 1))

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(self.process.wait, 20)


async def answered(server: LocalBotApi, chat_id: int, inject, fragment: str,
                   logs: Callable[[], str] | None = None) -> None:
    """The user acts; waits until the bot's answer with ``fragment`` shows in the chat."""
    position = server.log_position(chat_id)
    inject()

    async def shown():
        # A new message, or buttons changed in place (a ticked choice is an edit).
        last = server.last_message(chat_id)
        return (any(fragment in (m.content or "") for m in server.sent_since(chat_id, position))
                or (last is not None and fragment in " ".join(last.button_texts)))
    def detail() -> str:
        said = "\n".join(m.content or "" for m in server.sent(chat_id))
        return f"chat {chat_id}:\n{said}\n" + (logs() if logs else "")
    await wait_until(shown, 30, f"an answer with {fragment!r}", detail)


def presser(server: LocalBotApi, uid: int, label: str) -> Callable[[], None]:
    """The user's press of the newest button labelled ``label``, to inject later."""
    def inject() -> None:
        message = next(m for m in reversed(server.sent(uid)) if label in " ".join(
            m.button_texts))
        data = next(b["callback_data"] for b in message.inline_buttons if label in b["text"])
        server.press_button(uid, message.message_id, data)
    return inject


def today_in_jakarta() -> date:  # the bot process runs on the real clock
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


async def fresh(session, model, *where):
    rows = (await session.execute(select(model).where(*where)
                                  .execution_options(populate_existing=True))).scalars().all()
    await session.commit()
    return rows


# The suite's time: the kills that matter per database are the sweep's (its claims); a save
# commits the same way on both, and the sign-ups below kill during saves too.
@pytest.mark.sqlite_only
async def test_kill_during_a_save_leaves_no_draft_to_save_twice(db_url, session, tmp_path):
    mentor = await make_mentor(session, telegram_id=720001, name="Siti Rahma")
    await make_group(session, mentor, name="KUBE Mawar", members=6, formed_on=date(2020, 1, 1))
    server = LocalBotApi(faults=HOLD)
    await server.start()
    bot = Bot(server, db_url, tmp_path, PENDAMPING_BROADCASTS_ENABLED="false",
              PENDAMPING_REMINDERS_ENABLED="false")
    uid = mentor.telegram_id
    server.user(uid, first_name="Siti")

    def say(text):
        return lambda: server.send_text(uid, text)

    def press(label):
        return presser(server, uid, label)
    try:
        await bot.start()
        for act, answer in ((say("/kunjungan"), "mana"), (press("KUBE Mawar"), "Kapan kunjungannya"),
                            (say("kemarin"), "hadir"), (say("5"), "Kegiatan"),
                            (press("Pemantauan usaha"), "✅ Pemantauan"), (press("Selesai"), "angka"),
                            (press("Lewati"), "masalah"), (say("Pakan mahal"), "tindak lanjut"),
                            (say("Cari pemasok"), "okasi"), (say("Lewati"), "oto"),
                            (press("Selesai"), "berikutnya"), (press("Pakai "), "Simpan")):
            await answered(server, uid, act, answer)
        server.fail_next("slow", method="sendMessage")  # "Tersimpan!" is held ...
        press("✅ Simpan")()
        await bot.kill_when_held()  # ... and the bot dies after the commit, before answering

        # The visit is saved once, and its draft and conversation ended with it.
        assert len(await fresh(session, Visit)) == 1
        stored = await fresh(session, UserData, UserData.user_id == uid)
        assert all("draft:visit" not in row.data for row in stored)
        assert await fresh(session, ConversationState, ConversationState.name == "visit") == []

        await bot.start()
        # Nothing to continue: /kunjungan starts afresh, and the visit is not saved again.
        await answered(server, uid, say("/kunjungan"), "mana")
        assert "Simpan" not in " ".join(server.last_message(uid).button_texts)
        assert len(await fresh(session, Visit)) == 1
        SUMMARY["a save"] = "visits saved 1, drafts left 0, saved again after restart 0"
    finally:
        await bot.stop()
        await server.stop()


async def test_kill_during_a_sweep_interrupts_one_batch_and_resends_none(db_url, session,
                                                                         tmp_path):
    # One claimed batch, plus two digests that are still waiting when the bot dies.
    mentors = [await make_mentor(session, telegram_id=721000 + n, name=f"Pendamping {n}")
               for n in range(CLAIM_BATCH + 2)]
    for n, mentor in enumerate(mentors):
        await make_group(session, mentor, name=f"KUBE {n}", members=5, formed_on=date(2020, 1, 1),
                         next_visit_due=today_in_jakarta() - timedelta(days=1))
    server = LocalBotApi(faults=HOLD)
    await server.start()
    bot = Bot(server, db_url, tmp_path, PENDAMPING_BROADCASTS_ENABLED="false")
    ids = [mentor.telegram_id for mentor in mentors]
    server.fail_next("slow", method="sendMessage")  # one digest of the batch is held ...
    try:
        await bot.start()

        def arrived() -> int:
            return sum("Pengingat" in (m.content or "") for tid in ids for m in server.sent(tid))
        # ... and the bot dies while sending it, the rest of its batch having arrived (waited
        # for: the sends run side by side, and which finish first is up to the scheduler).
        await bot.kill_when_held(also=lambda: arrived() == CLAIM_BATCH - 1)
        rows = await fresh(session, ReminderDelivery)
        # The batch was claimed before any of it went out; the other two digests wait.
        claimed = {row.recipient_telegram_id for row in rows if row.status == "sending"}
        assert len(claimed) == CLAIM_BATCH
        assert {row.status for row in rows} == {"pending", "sending"}

        await bot.start()

        statuses: list[tuple[int, str]] = []

        async def settled():
            statuses[:] = [(row.recipient_telegram_id, row.status)
                           for row in await fresh(session, ReminderDelivery)]
            return all(status in ("sent", "failed") for _, status in statuses)
        await wait_until(settled, 30, "the remaining digests",
                         lambda: f"deliveries: {sorted(statuses)}\n{bot.logs()}")
        await asyncio.sleep(6)  # one more sweep (every 5 s) sends nothing again
        rows = await fresh(session, ReminderDelivery)
        got = {tid: sum("Pengingat" in (m.content or "") for m in server.sent(tid)) for tid in ids}
        interrupted = {row.recipient_telegram_id for row in rows if row.reason == "interrupted"}
        # The claimed batch is settled as interrupted, never sent again. The held digest never
        # arrived; the rest of the batch arrived once before the kill.
        assert interrupted == claimed
        assert max(got.values()) == 1
        assert sum(got[tid] == 0 for tid in claimed) == 1
        # The two that were waiting are sent by the restarted bot.
        assert all(got[tid] == 1 and row.status == "sent" for row in rows
                   for tid in [row.recipient_telegram_id] if tid not in claimed)
        SUMMARY["a sweep"] = (
            f"{len(interrupted)} claimed and marked interrupted ({sum(got[t] for t in claimed)} "
            f"of them had arrived), {sum(max(0, n - 1) for n in got.values())} sent twice, "
            f"{len(ids) - len(claimed)} waiting sent after the restart")
    finally:
        await bot.stop()
        await server.stop()


@pytest.mark.sqlite_only  # the outbox's claims are the sweep's, killed on both databases above
async def test_kill_during_a_broadcast_interrupts_one_and_finishes_the_rest(db_url, session,
                                                                             tmp_path):
    coordinator = await make_mentor(session, telegram_id=800001, name="Koor Sukabumi",
                                    area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    recipients = [await make_mentor(session, telegram_id=722000 + n, name=f"Pendamping {n}")
                  for n in range(6)]
    await broadcast_queries.create(
        session=session, actor=coordinator, audience=Audience.ALL_MENTORS, audience_code=None,
        text="Halo {nama}, rapat Senin.", photo_file_id=None, document_file_id=None,
        to=recipients)
    await session.commit()
    server = LocalBotApi(faults=HOLD)
    await server.start()
    bot = Bot(server, db_url, tmp_path, PENDAMPING_REMINDERS_ENABLED="false",
              PENDAMPING_BROADCAST_RATE_PER_SECOND="5")
    ids = [person.telegram_id for person in recipients]
    server.fail_next("slow", method="sendMessage")  # the first message is held ...
    try:
        await bot.start()
        await bot.kill_when_held()  # ... and the bot dies in the middle of the broadcast
        await bot.start()

        async def done():
            rows = await fresh(session, BroadcastRecipient)
            return all(row.status in ("sent", "failed") for row in rows) and rows
        rows = await wait_until(done, 30, "the broadcast to finish")
        await asyncio.sleep(1)  # a late resend would show now
        got = {tid: len(server.sent(tid)) for tid in ids}
        interrupted = [row for row in rows if row.reason == "interrupted"]
        assert len(interrupted) >= 1 and all(row.status == "failed" for row in interrupted)
        assert all(got[row.telegram_id] == 0 for row in interrupted)  # not resent
        assert all(got[row.telegram_id] == 1 for row in rows if row.status == "sent")
        assert max(got.values()) == 1
        SUMMARY["a broadcast"] = (f"{len(interrupted)} interrupted, "
                                  f"{sum(max(0, n - 1) for n in got.values())} sent twice")
    finally:
        await bot.stop()
        await server.stop()


SIGNUP = 8  # people signing up at once while the bot is killed under them


# The inbox works alike on both databases (every PostgreSQL conversation test goes through it).
@pytest.mark.sqlite_only
async def test_kills_at_random_instants_during_sign_ups_forget_no_answer_and_double_none(
        db_url, session, tmp_path):
    """Eight people answer the sign-up questions as fast as the bot asks, and the bot is killed
    (SIGKILL) three times at random instants meanwhile: just after an answer arrived, while
    it is being handled, between the answer and the next question. Each answer is given once;
    every sign-up ends with the answers that were given, each person saved once."""
    server = LocalBotApi()
    await server.start()
    bot = Bot(server, db_url, tmp_path, PENDAMPING_BROADCASTS_ENABLED="false",
              PENDAMPING_REMINDERS_ENABLED="false")
    names = ("Siti Aminah", "Dewi Lestari", "Rina Wati", "Sri Mulyani", "Ani Suryani",
             "Yuli Astuti", "Nur Hasanah", "Eka Putri", "Tuti Alawiyah", "Lilis Suryati")
    people = {740000 + n: (names[n], f"+62812555{n:05d}") for n in range(SIGNUP)}
    rng = random.Random(14)

    press = functools.partial(presser, server)

    async def sign_up(uid: int) -> None:
        name, phone = people[uid]
        server.user(uid, first_name=name.split()[-1])
        for act, answer in ((lambda: server.send_text(uid, "/start"), "nama"),
                            (lambda: server.send_text(uid, name), "nomor"),
                            (lambda: server.share_contact(uid, phone), "PSM"),
                            (press(uid, "PSM"), "ecamatan"),
                            (lambda: server.send_text(uid, "cibadak"), "Kec. Cibadak"),
                            (press(uid, "Kec. Cibadak, Kab. Sukabumi"), "menunggu persetujuan")):
            await asyncio.sleep(rng.uniform(0, 0.3))
            await answered(server, uid, act, answer, bot.logs)

    kills: list[float] = []

    async def killer() -> None:
        for _ in range(3):
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            await bot.kill()
            kills.append(time.monotonic())
            await bot.start()

    try:
        await bot.start()
        await asyncio.gather(killer(), *(sign_up(uid) for uid in people))
        assert len(kills) == 3
        mentors = {row.telegram_id: row for row in await fresh(session, Mentor)}
        # Every answer counted once, against the question it answered.
        assert {uid: (mentors[uid].name, mentors[uid].phone, mentors[uid].affiliation)
                for uid in people} == {uid: (name, phone, "psm")
                                       for uid, (name, phone) in people.items()}
        audits = await fresh(session, AuditLog, AuditLog.entity == "mentor")
        assert sorted(row.entity_id for row in audits) == sorted(
            mentors[uid].id for uid in people)
        waiting = await fresh(session, ReceivedUpdate, ReceivedUpdate.handled_at.is_(None))
        assert waiting == []
        asked_twice = sum(
            max(0, sum("menunggu persetujuan" in (m.content or "") for m in server.sent(uid)) - 1)
            for uid in people)
        SUMMARY["sign-ups"] = (f"{SIGNUP} people, 3 kills, {len(mentors)} saved once each, "
                               f"{asked_twice} outcome(s) said twice after a replay")
    finally:
        await bot.stop()
        await server.stop()
