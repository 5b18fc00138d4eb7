"""Roll-over deadlines: warnings at 30, 7 and 1 days; weekly once late; done cancels them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.core.enums import Role
from models import grants as grant_queries
from models.tables import Reminder
from tests.factories import REGENCY_SUKABUMI, make_group, make_mentor
from tests.scheduler.test_sweep import at, received, run

DEADLINE = date(2027, 3, 1)


async def grant_for(session, telegram_id):
    mentor = await make_mentor(session, telegram_id=telegram_id)
    # The visit is not due in this window, so only roll-over reminders speak.
    group = await make_group(session, mentor, next_visit_due=DEADLINE + timedelta(days=200))
    grant, _ = await grant_queries.create_grant(
        session=session, group=group, mentor=mentor, today=date(2026, 3, 1),
        fields={"kind": "uep", "funding_source": "apbn", "form": "tunai",
                "amount": 20_000_000, "received_on": date(2026, 3, 1),
                "rollover_amount": 10_000_000, "rollover_due": DEADLINE})
    return mentor, group, grant


async def test_warnings_before_and_weekly_after_the_deadline(bot, settings, session):
    mentor, _group, _grant = await grant_for(session, 860001)
    coordinator = await make_mentor(session, telegram_id=860002, role=Role.COORDINATOR,
                                    area_code=REGENCY_SUKABUMI, name="Koor")
    for offset in range(-31, 16):
        await run(bot, settings, at(DEADLINE + timedelta(days=offset), 7, 0))
    texts = received(bot, mentor.telegram_id)
    assert [("30 hari lagi" in texts[0]), ("7 hari lagi" in texts[1]),
            ("1 hari lagi" in texts[2])] == [True, True, True]
    assert "pengguliran hibah terlambat 1 hari, baru 0%" in texts[3]
    assert "terlambat 8 hari" in texts[4] and "terlambat 15 hari" in texts[5]
    assert len(texts) == 6
    coordinator_texts = received(bot, coordinator.telegram_id)
    assert len(coordinator_texts) == 3 and "terlambat 1 hari" in coordinator_texts[0]
    assert bot.server.sent(mentor.telegram_id)[0].button_texts == [
        "1. Catat gulir", "1. Tunda 1 hari", "1. Lihat"]


async def test_partial_rollover_keeps_reminders_complete_one_cancels_them(bot, settings,
                                                                           session):
    mentor, group, grant = await grant_for(session, 870001)
    rollover = {"recipient_kind": "kk", "recipient_name": "Ani", "amount": 4_000_000}
    await grant_queries.create_rollover(session=session, grant=grant, group=group,
                                        mentor=mentor, today=date(2027, 1, 10),
                                        fields={"rolled_on": date(2027, 1, 10), **rollover})
    await run(bot, settings, at(DEADLINE - timedelta(days=30), 7, 0))
    assert "baru 40%" in received(bot, mentor.telegram_id)[0]
    await grant_queries.create_rollover(session=session, grant=grant, group=group,
                                        mentor=mentor, today=date(2027, 2, 5),
                                        fields={"rolled_on": date(2027, 2, 5), **rollover,
                                                "amount": 6_000_000})
    pending = (await session.execute(select(Reminder).where(
        Reminder.rule.in_(["rollover_soon", "rollover_overdue"]),
        Reminder.status == "pending"))).scalars().all()
    assert pending == []
    for offset in (-7, -1, 1, 8):
        await run(bot, settings, at(DEADLINE + timedelta(days=offset), 7, 0))
    assert len(received(bot, mentor.telegram_id)) == 1
    state = await grant_queries.progress(session=session, grant=grant, today=DEADLINE)
    assert state.status == "selesai" and state.percent == 100
