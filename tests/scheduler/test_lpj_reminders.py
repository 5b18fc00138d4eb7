"""LPJ deadlines: warnings 14 and 1 days before to the mentor; once late, weekly to the mentor
and the area's coordinators; recording the LPJ ends them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.core.enums import Role
from models import grants as grant_queries
from models.tables import Mentor, Reminder
from tests.factories import REGENCY_SUKABUMI, make_group, make_mentor
from tests.scheduler.test_sweep import at, received, run

RECEIVED = date(2026, 12, 1)
LPJ_DUE = date(2027, 3, 1)  # three months after receipt


async def grant_for(session, telegram_id, *, language="id", rollover_due=None):
    mentor = await make_mentor(session, telegram_id=telegram_id, language=language)
    # The visit is not due in this window, so only the grant's reminders speak.
    group = await make_group(session, mentor, next_visit_due=LPJ_DUE + timedelta(days=200))
    grant, _ = await grant_queries.create_grant(
        session=session, group=group, mentor=mentor, today=RECEIVED,
        fields={"kind": "uep", "funding_source": "apbn", "form": "tunai",
                "amount": 20_000_000, "received_on": RECEIVED,
                "rollover_required": rollover_due is not None,
                "rollover_amount": 10_000_000 if rollover_due else None,
                "rollover_due": rollover_due, "lpj_due": LPJ_DUE})
    return mentor, group, grant


async def test_lpj_warnings_then_late_to_the_mentor_and_the_coordinators(bot, settings,
                                                                         session):
    mentor, group, grant = await grant_for(session, 880001)
    coordinator = await make_mentor(session, telegram_id=880002, role=Role.COORDINATOR,
                                    area_code=REGENCY_SUKABUMI, name="Koor")
    elsewhere = await make_mentor(session, telegram_id=880003, role=Role.COORDINATOR,
                                  area_code="73.71", name="Koor Makassar")
    for offset in range(-15, 10):
        await run(bot, settings, at(LPJ_DUE + timedelta(days=offset), 7, 0))
    texts = received(bot, mentor.telegram_id)
    assert len(texts) == 4
    assert "KUBE Mawar: LPJ Bantuan UEP Kemensos harus diserahkan paling lambat " \
        "1 Maret 2027 (14 hari lagi)" in texts[0]
    assert "(1 hari lagi)" in texts[1]
    assert "KUBE Mawar: LPJ Bantuan UEP Kemensos belum diserahkan, terlambat 1 hari " \
        "(batas 1 Maret 2027)" in texts[2]
    assert "terlambat 8 hari" in texts[3]
    assert "pengguliran" not in " ".join(texts)  # no obligation: no roll-over reminders
    assert bot.server.sent(mentor.telegram_id)[0].button_texts == [
        "1. Catat LPJ", "1. Tunda 1 hari", "1. Lihat"]

    coordinator_texts = received(bot, coordinator.telegram_id)
    assert len(coordinator_texts) == 2  # only once late
    assert "KUBE Mawar (pendamping Siti Rahma): LPJ Bantuan UEP Kemensos belum diserahkan, " \
        "terlambat 1 hari (batas 1 Maret 2027)" in coordinator_texts[0]
    assert bot.server.sent(coordinator.telegram_id)[0].button_texts == [
        "1. Catat LPJ", "1. Lihat"]
    assert received(bot, elsewhere.telegram_id) == []

    # The LPJ comes in: nothing more, to anyone.
    await grant_queries.record_lpj(session=session, grant=grant, group=group, actor=mentor,
                                   submitted_on=LPJ_DUE + timedelta(days=9),
                                   today=LPJ_DUE + timedelta(days=9))
    pending = (await session.execute(select(Reminder).where(
        Reminder.rule.in_(["lpj_soon", "lpj_overdue"]),
        Reminder.status == "pending"))).scalars().all()
    assert pending == []
    for offset in (15, 22):
        await run(bot, settings, at(LPJ_DUE + timedelta(days=offset), 7, 0))
    assert len(received(bot, mentor.telegram_id)) == 4
    assert len(received(bot, coordinator.telegram_id)) == 2


async def test_lpj_and_roll_over_of_one_grant_are_two_lines_in_english(bot, settings,
                                                                       session):
    mentor, _group, _grant = await grant_for(session, 890001, language="en",
                                             rollover_due=LPJ_DUE)
    await run(bot, settings, at(LPJ_DUE - timedelta(days=1), 7, 0))
    [text] = received(bot, mentor.telegram_id)
    assert "1. KUBE Mawar: the LPJ for UEP grant (Kemensos) is due by 1 March 2027 " \
        "(in 1 day(s))" in text
    assert "2. KUBE Mawar: grant roll-over due 1 March 2027 (in 1 day(s)), 0% done" in text
    assert bot.server.sent(mentor.telegram_id)[0].button_texts == [
        "1. Record LPJ", "1. Snooze 1 day", "1. View",
        "2. Record roll-over", "2. Snooze 1 day", "2. View"]
    await run(bot, settings, at(LPJ_DUE + timedelta(days=1), 7, 0))
    late = received(bot, mentor.telegram_id)[-1]
    assert "the LPJ for UEP grant (Kemensos) is not in yet, 1 day(s) late (due 1 March 2027)" \
        in late
    assert isinstance(mentor, Mentor)


async def test_a_dissolved_groups_lpj_reminders_end(bot, settings, session):
    mentor, group, _grant = await grant_for(session, 895001)
    group.status = "bubar"
    session.add(group)
    await session.commit()
    for offset in (-14, -1, 1, 8):  # each is dropped when it comes due, none follows it
        await run(bot, settings, at(LPJ_DUE + timedelta(days=offset), 7, 0))
    assert received(bot, mentor.telegram_id) == []
    left = (await session.execute(select(Reminder.status).where(
        Reminder.rule.in_(["lpj_soon", "lpj_overdue"])))).scalars().all()
    assert set(left) == {"cancelled"}
