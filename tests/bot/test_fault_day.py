"""A day of work through a Bot API server having a bad day.

Three mentors sign up and are approved, register their groups with members and log visits; one
records a grant and a roll-over; a coordinator broadcasts; the reminder sweep runs. The local
server meanwhile answers 5xx, holds answers past the bot's timeout, drops connections after
doing the work, answers slowly, delivers updates twice and bursts 429s (seeded, so a failure
repeats). Afterwards every record is there exactly once and every reminder and broadcast
message arrived exactly once. A user whose message got no answer (or an apology) sends it
again, as people do.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.core.enums import MentorStatus, Role
from bot.localapi import Faults, LocalBotApi, SentMessage
from bot.telegram import transport
from models.tables import (
    Broadcast,
    BroadcastRecipient,
    Grant,
    Group,
    Member,
    Mentor,
    ReminderDelivery,
    Rollover,
    Visit,
)
from scheduler.sweep import sweep
from tests.conftest import ADMIN_ID
from tests.factories import REGENCY_SUKABUMI, make_mentor
from tests.handlers.test_broadcasts import wait_done
from tests.harness import BotHarness, ChatUser

FAULTS = Faults(seed=20261125, error_5xx=0.08, timeout=0.03, drop=0.03, slow=0.06,
                duplicate=0.1, burst_429=0.01, burst_length=2, retry_after=1,
                timeout_seconds=0.9, slow_seconds=0.1)
CLIENT_TIMEOUT = 0.5  # the bot's PENDAMPING_TELEGRAM_TIMEOUT_SECONDS in this test
APOLOGY = "ada gangguan"
COORDINATOR = 800001
MENTORS = {710001: ("Siti Rahma", "KUBE Mawar"), 710002: ("Budi Hartono", "KUBE Melati"),
           710003: ("Citra Dewi", "KUBE Anggrek")}
BROADCAST = "Halo {nama}, rapat pendamping Senin jam 9."
HOUSEHOLDS = ("Aminah; miskin; ketua\nBudiman; miskin; sekretaris\nCahya; fakir miskin; "
              "bendahara\nDarsih; miskin; anggota\nEndang; hampir miskin; anggota\n"
              "Fatimah; miskin; anggota")


class Day:
    """The users, acting like people: no answer (or an apology) means try again."""

    def __init__(self, bot: BotHarness) -> None:
        self.bot = bot
        self.resent = 0

    async def _until_answered(self, chat: ChatUser, act) -> list[SentMessage]:
        for _ in range(5):
            replies = await act()
            texts = " ".join(m.content or "" for m in replies)
            if replies and APOLOGY not in texts:
                return replies
            self.resent += 1
        raise AssertionError(f"chat {chat.user_id} got no answer five times: {chat.last_text()!r}")

    async def send(self, chat: ChatUser, text: str) -> list[SentMessage]:
        return await self._until_answered(chat, lambda: chat.send(text))

    async def press(self, chat: ChatUser, label: str) -> list[SentMessage]:
        message, data = chat._find_button(label)
        # Pressed again on the same message when nothing came back (a second tap).
        return await self._until_answered(
            chat, lambda: chat.press_data(data, message_id=message.message_id))

    async def contact(self, chat: ChatUser) -> list[SentMessage]:
        return await self._until_answered(chat, chat.share_contact)


async def sign_up(day: Day, admin: ChatUser, chat: ChatUser, name: str) -> None:
    await day.send(chat, "/start")
    await day.send(chat, name)
    await day.contact(chat)
    await day.press(chat, "PSM")
    await day.send(chat, "cibadak")
    await day.press(chat, "Kec. Cibadak, Kab. Sukabumi")
    await day.press(admin, "✅ Setujui")


async def register_group(day: Day, chat: ChatUser, name: str) -> None:
    await day.send(chat, "/tambah_kelompok")
    await day.send(chat, name)
    await day.send(chat, "sekarwangi")
    await day.press(chat, "Desa Sekarwangi")
    await day.press(chat, "Ternak")
    await day.press(chat, "▫️ Kedekatan")
    await day.press(chat, "Selesai")
    await day.send(chat, "12/03/2026")
    await day.press(chat, "Tumbuh")
    await day.send(chat, HOUSEHOLDS)
    await day.press(chat, "✅ Simpan")


async def log_visit(day: Day, chat: ChatUser, group: str) -> None:
    await day.send(chat, "/kunjungan")
    await day.press(chat, group)
    await day.send(chat, "kemarin")
    await day.send(chat, "5")
    await day.press(chat, "▫️ Pemantauan usaha")
    await day.press(chat, "Selesai")
    await day.press(chat, "Lewati")  # business figures
    await day.send(chat, "Pakan ternak mahal")
    await day.send(chat, "Cari pemasok pakan")
    await day.send(chat, "Lewati")  # location
    await day.press(chat, "Selesai")  # photos
    await day.press(chat, "Pakai ")  # the suggested next visit
    await day.press(chat, "✅ Simpan")


async def record_grant_and_rollover(day: Day, chat: ChatUser, group: str) -> None:
    await day.send(chat, "/hibah")
    await day.press(chat, group)
    await day.press(chat, "Bantuan UEP Kemensos")
    await day.press(chat, "Tunai")
    await day.send(chat, "20 jt")
    await day.press(chat, "📅 Hari ini")
    await day.press(chat, "Ya")  # wajib digulirkan
    await day.send(chat, "10jt")
    await day.press(chat, "Lewati")  # units
    await day.send(chat, "-")  # households
    await day.press(chat, "Pakai ")  # the default deadline
    await day.press(chat, "✅ Simpan")
    await day.send(chat, "/gulir")
    await day.press(chat, group)
    await day.press(chat, "📅 Hari ini")
    await day.press(chat, "KK")
    await day.send(chat, "Sari Wulandari")
    await day.press(chat, "Lewati")  # village
    await day.send(chat, "2 jt")
    await day.press(chat, "Lewati")  # note
    await day.press(chat, "✅ Simpan")


def received(server: LocalBotApi, chat_id: int, fragment: str) -> int:
    """How many messages with ``fragment`` the chat holds (as the user sees them now)."""
    return sum(fragment in (m.content or "") for m in server.sent(chat_id) if not m.deleted)


async def count(session, model, *where) -> int:
    result = await session.execute(select(func.count()).select_from(model).where(*where))
    value = result.scalar_one()
    await session.commit()
    return value


# Telegram's faults are the point, not the database's (those have tests of their own).
@pytest.mark.sqlite_only
async def test_a_day_of_work_with_faults_loses_and_doubles_nothing(settings, session,
                                                                  monkeypatch):
    # The pause before trying a 5xx again is real time; the test's day is short.
    monkeypatch.setattr(transport, "SERVER_ERROR_PAUSE_SECONDS", 0.05)
    settings = settings.model_copy(update={"telegram_timeout_seconds": CLIENT_TIMEOUT,
                                           "broadcast_progress_seconds": 0.5})
    await make_mentor(session, telegram_id=COORDINATOR, name="Koordinator Sukabumi",
                      area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    server = LocalBotApi()
    await server.start()
    bot = await BotHarness.start(
        lambda url: build_application(settings, base_url=url),
        server=server, settle_timeout=30)
    server.set_faults(FAULTS)  # from here on: the bot is up, the day begins
    day = Day(bot)
    try:
        admin = bot.chat(ADMIN_ID, first_name="Admin")
        await day.send(admin, "/start")
        chats = {tid: bot.chat(tid, first_name=name.split()[0])
                 for tid, (name, _) in MENTORS.items()}
        for tid, (name, group) in MENTORS.items():
            await sign_up(day, admin, chats[tid], name)
            await register_group(day, chats[tid], group)
        for tid, (_, group) in list(MENTORS.items())[:2]:
            await log_visit(day, chats[tid], group)
        first, (_, first_group) = next(iter(MENTORS.items()))
        await record_grant_and_rollover(day, chats[first], first_group)

        coordinator = bot.chat(COORDINATOR, first_name="Koordinator")
        await day.send(coordinator, "/siaran")
        await day.send(coordinator, BROADCAST)
        await day.press(coordinator, "👥 Semua pendamping aktif")
        await day.press(coordinator, "📤 Kirim")
        broadcast_id = (await session.execute(select(Broadcast.id))).scalar_one()
        await session.commit()
        await wait_done(session, broadcast_id, timeout=30)

        # A month on, at 10:00 WIB: every group's visit is due or overdue. Sweeps run (as the
        # job does every minute) until nothing is left to send.
        app = bot.application
        later = datetime(2026, 12, 27, 3, 0, tzinfo=UTC)
        sweeps = 0
        while True:
            sweeps += 1
            await sweep(sessionmaker=app.bot_data.sessionmaker, bot=app.bot, settings=settings,
                        now=later)
            if not await count(session, ReminderDelivery,
                               ReminderDelivery.status.in_(("pending", "sending"))):
                break
            assert sweeps < 10, "reminders still pending after 10 sweeps"
        await asyncio.sleep(FAULTS.timeout_seconds)  # answers held past the timeout land
    finally:
        await bot.stop()
        await server.stop()

    # Every record once; every broadcast and reminder message arrived exactly once.
    expected = {"active mentors": 3, "groups": 3, "households": 6 * 3, "visits": 2,
                "grants": 1, "roll-overs": 1, "broadcast rows": 3}
    stored = {
        "active mentors": await count(session, Mentor, Mentor.role == Role.MENTOR,
                                      Mentor.status == MentorStatus.ACTIVE),
        "groups": await count(session, Group), "households": await count(session, Member),
        "visits": await count(session, Visit), "grants": await count(session, Grant),
        "roll-overs": await count(session, Rollover),
        "broadcast rows": await count(session, BroadcastRecipient)}
    broadcasts = {tid: received(server, tid, "rapat pendamping Senin") for tid in MENTORS}
    reminders = {tid: received(server, tid, "🔔 Pengingat") for tid in MENTORS}
    arrivals = [*broadcasts.values(), *reminders.values()]
    lost = sum(max(0, expected[k] - stored[k]) for k in expected)
    duplicated = sum(max(0, stored[k] - expected[k]) for k in expected)
    injected = ", ".join(f"{kind} {n}" for kind, n in sorted(server.fault_counts.items()))
    print(f"\nfault day: {sum(server.fault_counts.values())} faults injected ({injected}); "
          f"records lost {lost}, duplicated {duplicated}; messages lost "
          f"{sum(n == 0 for n in arrivals)}, sent twice {sum(max(0, n - 1) for n in arrivals)}; "
          f"{day.resent} user messages sent again; {sweeps} sweeps")
    assert stored == expected
    groups = (await session.execute(select(Group.name).order_by(Group.name))).scalars().all()
    assert groups == sorted(group for _, group in MENTORS.values())
    assert broadcasts == dict.fromkeys(MENTORS, 1), broadcasts
    assert reminders == dict.fromkeys(MENTORS, 1), reminders
    # The day was a bad one: every kind of fault happened.
    assert set(server.fault_counts) == {"error_5xx", "timeout", "drop", "slow", "duplicate",
                                        "burst_429"}, server.fault_counts
