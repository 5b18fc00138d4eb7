"""The reminder engine, with time moved by hand (never by sleeping), delivering over HTTP."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.core import clock
from bot.core.enums import MentorStatus, Role
from models import groups as group_queries
from models import reminders as reminder_queries
from models import visits as visit_queries
from models.tables import Mentor, Reminder, ReminderDelivery
from scheduler.sweep import SweepReport, build_digests, expand, sweep
from tests.factories import (
    DISTRICT_CIBADAK,
    REGENCY_SUKABUMI,
    make_group,
    make_mentor,
    make_visit,
)

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
DUE = date(2026, 12, 1)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = WIB) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


async def run(bot, settings, now: datetime, dry_run: bool = False) -> SweepReport:
    """One sweep as of ``now``; the bot's clock moves there too (conftest's fixture undoes it)."""
    clock.now = lambda: now
    services = bot.application.bot_data
    return await sweep(sessionmaker=services.sessionmaker, bot=bot.application.bot,
                       settings=settings, now=now, dry_run=dry_run)


def received(bot, chat_id: int) -> list[str]:
    return [m.content for m in bot.server.sent(chat_id) if m.content]


async def mentor_with_group(session, telegram_id, *, area=DISTRICT_CIBADAK,
                            village="32.02.11.2002", name="KUBE Mawar", due=DUE):
    mentor = await make_mentor(session, telegram_id=telegram_id, area_code=area)
    group = await make_group(session, mentor, name=name, village_code=village,
                             next_visit_due=due)
    return mentor, group


async def test_due_visit_fires_at_seven_local_in_each_time_zone(bot, settings, session):
    # East to west: 07:00 WIT comes first (it is 06:00 WITA and 05:00 WIB then).
    places = [(710003, "91.71.01", "91.71.01.1001", WIT),
              (710002, "73.71.01", "73.71.01.1001", WITA),
              (710001, "32.02.11", "32.02.11.2002", WIB)]
    for telegram_id, area, village, _zone in places:
        await mentor_with_group(session, telegram_id, area=area, village=village)
    for index, (telegram_id, _area, _village, zone) in enumerate(places):
        await run(bot, settings, at(DUE, 6, 59, zone))
        assert received(bot, telegram_id) == [], f"{zone}: nothing at 06:59"
        await run(bot, settings, at(DUE, 7, 0, zone))
        texts = received(bot, telegram_id)
        assert len(texts) == 1 and "KUBE Mawar: jadwal kunjungan hari ini" in texts[0]
        for later_id, *_ in places[index + 1:]:
            assert received(bot, later_id) == [], "a zone further west is not due yet"


async def test_overdue_sequence_and_escalation_reach_the_right_people(bot, settings, session):
    mentor, _group = await mentor_with_group(session, 720001)
    coordinator = await make_mentor(session, telegram_id=720002, role=Role.COORDINATOR,
                                    area_code=REGENCY_SUKABUMI, name="Koor Sukabumi")
    elsewhere = await make_mentor(session, telegram_id=720003, role=Role.COORDINATOR,
                                  area_code="73.71", name="Koor Makassar")
    for offset in range(29):
        await run(bot, settings, at(DUE + timedelta(days=offset), 7, 5))
    texts = received(bot, mentor.telegram_id)
    assert len(texts) == 1 + 3 + 3  # due day; 1, 3, 7 days late; then weekly: 14, 21, 28
    assert "jadwal kunjungan hari ini" in texts[0]
    assert ["terlambat 1 hari" in texts[1], "terlambat 3 hari" in texts[2],
            "terlambat 7 hari" in texts[3], "terlambat 14 hari" in texts[4],
            "terlambat 21 hari" in texts[5], "terlambat 28 hari" in texts[6]] == [True] * 6
    coordinator_texts = received(bot, coordinator.telegram_id)
    assert len(coordinator_texts) == 1
    assert "KUBE Mawar (pendamping Siti Rahma): belum dikunjungi, terlambat 14 hari" in \
        coordinator_texts[0]
    assert received(bot, elsewhere.telegram_id) == []
    assert received(bot, 900001) == []  # the admin is not bothered while a coordinator exists
    # Coordinators can look, not act: no visit or snooze buttons for them.
    card = bot.server.sent(coordinator.telegram_id)[0]
    assert card.button_texts == ["1. Lihat"]


async def test_escalation_goes_to_admins_when_the_area_has_no_coordinator(bot, settings,
                                                                          session):
    await mentor_with_group(session, 730001)
    await run(bot, settings, at(DUE + timedelta(days=14), 7, 0))
    admin_texts = received(bot, 900001)
    assert len(admin_texts) == 1 and "terlambat 14 hari" in admin_texts[0]


async def test_a_second_run_and_a_restart_send_nothing_twice(bot, settings, session):
    mentor, _ = await mentor_with_group(session, 740001)
    first = await run(bot, settings, at(DUE, 7, 0))
    assert first.sent == 1
    again = await run(bot, settings, at(DUE, 7, 1))
    assert again.sent == 0 and len(received(bot, mentor.telegram_id)) == 1
    await bot.restart()
    await run(bot, settings, at(DUE, 7, 2))
    assert len(received(bot, mentor.telegram_id)) == 1


async def test_a_crash_between_claim_and_send_never_sends_twice(bot, settings, session):
    mentor, _ = await mentor_with_group(session, 750001)
    services = bot.application.bot_data
    report = SweepReport(now=at(DUE, 7, 0))
    async with services.sessionmaker() as s:
        await expand(session=s, now=report.now, settings=settings, report=report)
        digests = await build_digests(session=s, now=report.now, settings=settings,
                                      report=report)
        await reminder_queries.claim(session=s, delivery_ids=digests[0].delivery_ids)
    # The process dies here. On start-up the interrupted delivery is settled, not resent.
    async with services.sessionmaker() as s:
        assert await reminder_queries.fail_interrupted(session=s) == 1
    await run(bot, settings, at(DUE, 7, 5))
    assert received(bot, mentor.telegram_id) == []
    status = (await session.execute(select(ReminderDelivery.status))).scalars().all()
    assert status == ["failed"]


async def test_downtime_over_seven_is_caught_up_once(bot, settings, session):
    mentor, _ = await mentor_with_group(session, 760001)
    # The bot was down from 06:00 to 11:30: the 07:00 reminder goes out late, once.
    await run(bot, settings, at(DUE, 11, 30))
    assert len(received(bot, mentor.telegram_id)) == 1
    other, _ = await mentor_with_group(session, 760002, name="KUBE Melati")
    # Down for five days: the missed reminders are told once, as things stand now, and the
    # digest says they are late.
    report = await run(bot, settings, at(DUE + timedelta(days=5), 8, 0))
    assert report.late >= 1
    texts = received(bot, other.telegram_id)
    assert len(texts) == 1 and "terlambat 5 hari" in texts[0]
    assert "pengingat tidak terkirim" in texts[0]


async def test_quiet_hours_hold_a_digest_until_morning(bot, settings, session):
    mentor, _ = await mentor_with_group(session, 770001)
    report = await run(bot, settings, at(DUE, 22, 0))  # caught up late at night
    assert report.deferred == 1 and received(bot, mentor.telegram_id) == []
    await run(bot, settings, at(DUE + timedelta(days=1), 5, 59))
    assert received(bot, mentor.telegram_id) == []
    await run(bot, settings, at(DUE + timedelta(days=1), 6, 0))
    assert len(received(bot, mentor.telegram_id)) == 1


async def test_logging_a_visit_cancels_what_is_pending(bot, settings, session):
    mentor, group = await mentor_with_group(session, 780001)
    await run(bot, settings, at(DUE + timedelta(days=1), 7, 0))
    assert len(received(bot, mentor.telegram_id)) == 1
    await visit_queries.create_visit(
        session=session, group=group, mentor=mentor,
        fields={"visited_on": DUE + timedelta(days=2), "attendance": 5,
                "activities": ["pemantauan"], "next_visit_on": DUE + timedelta(days=32)},
        today=DUE + timedelta(days=2))
    await run(bot, settings, at(DUE + timedelta(days=3), 7, 0))
    await run(bot, settings, at(DUE + timedelta(days=7), 7, 0))
    assert len(received(bot, mentor.telegram_id)) == 1
    pending = (await session.execute(select(Reminder).where(
        Reminder.subject_id == group.id, Reminder.status == "pending"))).scalars().all()
    assert {r.cycle for r in pending} == {DUE + timedelta(days=32)}
    assert {r.rule for r in pending} == {"visit_due", "visit_overdue", "visit_escalation"}


async def test_digest_groups_several_items_with_buttons(bot, settings, session):
    mentor = await make_mentor(session, telegram_id=790001)
    for name in ("KUBE Satu", "KUBE Dua", "KUBE Tiga"):
        await make_group(session, mentor, name=name, next_visit_due=DUE)
    await run(bot, settings, at(DUE + timedelta(days=1), 7, 0))
    messages = bot.server.sent(mentor.telegram_id)
    assert len(messages) == 1
    assert all(f"KUBE {n}: kunjungan terlambat 1 hari" in messages[0].content
               for n in ("Satu", "Dua", "Tiga"))
    assert messages[0].button_texts[:3] == ["1. Catat kunjungan", "1. Tunda 1 hari",
                                            "1. Lihat"]
    assert len(messages[0].button_texts) == 9


async def test_snooze_moves_one_item_by_a_day(bot, settings, session):
    mentor, _group = await mentor_with_group(session, 800001)
    await run(bot, settings, at(DUE + timedelta(days=1), 7, 0))
    chat = bot.chat(mentor.telegram_id)
    await chat.press("1. Tunda 1 hari")
    assert chat.callback_answers()[-1].text == "Baik, diingatkan lagi besok pagi."
    await run(bot, settings, at(DUE + timedelta(days=2), 7, 0))
    texts = received(bot, mentor.telegram_id)
    assert len(texts) == 2 and "terlambat 2 hari" in texts[1]
    # The next step (3 days late) still comes after the snoozed one.
    await run(bot, settings, at(DUE + timedelta(days=3), 7, 0))
    assert len(received(bot, mentor.telegram_id)) == 3


async def test_snooze_of_someone_elses_reminder_is_refused(bot, settings, session):
    owner, group = await mentor_with_group(session, 810001)
    await run(bot, settings, at(DUE, 7, 0))
    other = await make_mentor(session, telegram_id=810002)
    reminder = (await session.execute(select(Reminder).where(
        Reminder.subject_id == group.id, Reminder.status == "sent"))).scalars().first()
    chat = bot.chat(other.telegram_id)
    await chat.press_data(f"rem:snooze:{reminder.id}")
    assert chat.callback_answers()[-1].text == "Pengingat ini sudah tidak berlaku."
    _ = owner


async def test_catat_kunjungan_button_opens_the_visit_for_that_group(bot, settings, session):
    mentor, _group = await mentor_with_group(session, 820001)
    await run(bot, settings, at(DUE, 7, 0))
    chat = bot.chat(mentor.telegram_id)
    await chat.press("1. Catat kunjungan")
    assert any("KUBE Mawar" in text for text in chat.texts()[-3:])
    assert "Kapan kunjungannya" in chat.last_text()


async def test_a_mentor_mid_conversation_gets_the_digest_after_it(bot, settings, session,
                                                                 monkeypatch):
    mentor, _ = await mentor_with_group(session, 830001)
    monkeypatch.setattr(clock, "now", lambda: at(DUE, 6, 58))
    chat = bot.chat(mentor.telegram_id)
    await chat.send("/tambah_kelompok")
    report = await run(bot, settings, at(DUE, 7, 0))
    assert report.deferred == 1
    await chat.send("/batal")
    await run(bot, settings, at(DUE, 7, 1))
    assert "jadwal kunjungan hari ini" in chat.last_text()


async def test_a_blocked_recipient_is_marked_inactive_and_not_retried(bot, settings, session):
    mentor, _ = await mentor_with_group(session, 840001)
    bot.server.block(mentor.telegram_id)
    report = await run(bot, settings, at(DUE, 7, 0))
    assert report.blocked == 1
    await session.refresh(mentor)
    assert mentor.status == MentorStatus.INACTIVE
    calls = bot.server.calls["sendMessage"]
    await run(bot, settings, at(DUE + timedelta(days=1), 7, 0))
    assert bot.server.calls["sendMessage"] == calls
    assert (await session.execute(select(Mentor.status).where(
        Mentor.id == mentor.id))).scalar_one() == "inactive"


async def test_dry_run_lists_and_sends_nothing(bot, settings, session):
    mentor, _ = await mentor_with_group(session, 850001)
    report = await run(bot, settings, at(DUE, 7, 0), dry_run=True)
    assert [d.telegram_id for d in report.digests] == [mentor.telegram_id]
    assert "jadwal kunjungan hari ini" in report.digests[0].text
    assert received(bot, mentor.telegram_id) == []
    assert (await session.execute(select(ReminderDelivery))).first() is None
    real = await run(bot, settings, at(DUE, 7, 0))
    assert real.sent == 1


async def test_an_outage_within_the_window_is_told_as_usual(bot, settings, session):
    mentor, group = await mentor_with_group(session, 880001)
    coordinator = await make_mentor(session, telegram_id=880002, role=Role.COORDINATOR,
                                    area_code=REGENCY_SUKABUMI, name="Koor Sukabumi")
    # Down until the evening three days later (more than 72 hours, but three calendar days:
    # inside the window): the due-day and overdue reminders go out late as one plain digest.
    report = await run(bot, settings, at(DUE + timedelta(days=3), 20, 0))
    texts = received(bot, mentor.telegram_id)
    assert len(texts) == 1 and "KUBE Mawar: kunjungan terlambat 3 hari" in texts[0]
    assert "tidak terkirim" not in texts[0] and report.late == 0
    assert received(bot, coordinator.telegram_id) == []
    # The rule goes on from the last step told, as ever.
    assert await pending_visit_overdue(session, group.id) == DUE + timedelta(days=7)


async def test_a_flood_answer_holds_the_rest_for_the_next_sweep(bot, settings, session,
                                                                monkeypatch):
    import sys

    sweep_module = sys.modules["scheduler.sweep"]  # the package's "sweep" is the function
    mentors = [(await mentor_with_group(session, 890001 + n, name=f"KUBE {n}"))[0]
               for n in range(3)]
    monkeypatch.setattr(sweep_module, "CLAIM_BATCH", 1)  # one digest per claim
    # Telegram keeps saying "wait" to the first recipient (more often than the bot retries).
    bot.server.rate_limit(retry_after=1, count=3, chat_id=mentors[0].telegram_id)
    report = await run(bot, settings, at(DUE, 7, 0))
    assert (report.sent, report.deferred) == (0, 3)
    assert all(received(bot, m.telegram_id) == [] for m in mentors)
    again = await run(bot, settings, at(DUE, 7, 1))
    assert again.sent == 3
    assert [len(received(bot, m.telegram_id)) for m in mentors] == [1, 1, 1]


async def pending_visit_overdue(session, group_id: int) -> date:
    """The fire day of the group's pending overdue-visit reminder."""
    return (await session.execute(select(Reminder.fire_on).where(
        Reminder.subject_id == group_id, Reminder.rule == "visit_overdue",
        Reminder.status == "pending"))).scalar_one()


async def escalations(session, group_id: int) -> list[tuple[date, str]]:
    return [tuple(row) for row in await session.execute(
        select(Reminder.cycle, Reminder.status).where(
            Reminder.subject_id == group_id, Reminder.rule == "visit_escalation",
            Reminder.status != "cancelled"))]


async def test_after_a_ten_day_outage_one_digest_tells_how_late_and_escalates_once(
        bot, settings, session):
    mentor = await make_mentor(session, telegram_id=910001, area_code=DISTRICT_CIBADAK)
    coordinator = await make_mentor(session, telegram_id=910002, role=Role.COORDINATOR,
                                    area_code=REGENCY_SUKABUMI, name="Koor Sukabumi")
    group = await make_group(session, mentor, interval=90, next_visit_due=DUE + timedelta(days=60))
    await make_visit(session, group, mentor, visited_on=DUE - timedelta(days=30))
    # Thirty days after the due date that will be, the interval goes from 90 to 30 days: the
    # visit is due 30 days ago at once, past the escalation day, which is never scheduled.
    await group_queries.change_interval(session=session, group=group, days=30, actor=mentor,
                                        today=DUE + timedelta(days=30))
    assert group.next_visit_due == DUE
    await run(bot, settings, at(DUE + timedelta(days=30), 12, 0))
    assert received(bot, mentor.telegram_id) == [] == received(bot, coordinator.telegram_id)
    # Then the bot is down for ten days; the 35-days-late reminder falls in the outage.
    report = await run(bot, settings, at(DUE + timedelta(days=40), 7, 5))
    assert report.late == 1
    texts = received(bot, mentor.telegram_id)
    assert len(texts) == 1
    assert "pengingat tidak terkirim" in texts[0]
    assert "KUBE Mawar: kunjungan terlambat 40 hari" in texts[0]
    to_coordinator = received(bot, coordinator.telegram_id)
    assert len(to_coordinator) == 1
    assert "KUBE Mawar (pendamping Siti Rahma): belum dikunjungi, terlambat 40 hari" in \
        to_coordinator[0]
    assert await escalations(session, group.id) == [(DUE, "sent")]
    # Neither is said again; the weekly reminder goes on from now (42 days late).
    await run(bot, settings, at(DUE + timedelta(days=40), 7, 10))
    await run(bot, settings, at(DUE + timedelta(days=41), 7, 5))
    assert len(received(bot, mentor.telegram_id)) == 1
    assert len(received(bot, coordinator.telegram_id)) == 1
    assert await pending_visit_overdue(session, group.id) == DUE + timedelta(days=42)
    await run(bot, settings, at(DUE + timedelta(days=42), 7, 5))
    texts = received(bot, mentor.telegram_id)
    assert len(texts) == 2 and "kunjungan terlambat 42 hari" in texts[1]
    assert "tidak terkirim" not in texts[1]
    assert len(received(bot, coordinator.telegram_id)) == 1


async def test_a_long_outage_replays_nothing_and_loses_nothing(bot, settings, session):
    mentor, group = await mentor_with_group(session, 920001)
    expired_before = await make_group(session, mentor, name="KUBE Melati",
                                      village_code="32.02.11.2002", next_visit_due=DUE)
    coordinator = await make_mentor(session, telegram_id=920002, role=Role.COORDINATOR,
                                    area_code=REGENCY_SUKABUMI, name="Koor Sukabumi")
    await run(bot, settings, at(DUE, 7, 5))
    assert len(received(bot, mentor.telegram_id)) == 1
    # KUBE Melati's escalation was dropped by an older version on an earlier catch-up.
    await session.execute(update(Reminder).where(
        Reminder.subject_id == expired_before.id, Reminder.rule == "visit_escalation")
        .values(status="expired"))
    await session.commit()
    # Down from the due day to 40 days late: the overdue steps and the escalation fell in it.
    await run(bot, settings, at(DUE + timedelta(days=40), 7, 5))
    texts = received(bot, mentor.telegram_id)
    assert len(texts) == 2
    assert "pengingat tidak terkirim" in texts[1]
    assert "KUBE Mawar: kunjungan terlambat 40 hari" in texts[1]
    assert "KUBE Melati: kunjungan terlambat 40 hari" in texts[1]
    to_coordinator = received(bot, coordinator.telegram_id)
    assert len(to_coordinator) == 1
    assert all(f"{name} (pendamping Siti Rahma): belum dikunjungi, terlambat 40 hari"
               in to_coordinator[0] for name in ("KUBE Mawar", "KUBE Melati"))
    for subject in (group, expired_before):
        assert await escalations(session, subject.id) == [(DUE, "sent")]
        # No pile: one overdue reminder told, the next one a week on, nothing in between.
        fired = (await session.execute(select(Reminder.fire_on, Reminder.status).where(
            Reminder.subject_id == subject.id, Reminder.rule == "visit_overdue"))).all()
        assert sorted(fired) == [(DUE + timedelta(days=1), "sent"),
                                 (DUE + timedelta(days=42), "pending")]
    await run(bot, settings, at(DUE + timedelta(days=40), 7, 10))
    assert len(received(bot, mentor.telegram_id)) == 2
    assert len(received(bot, coordinator.telegram_id)) == 1
