"""Ubah jadwal: the visit interval changes the due date and the reminders, for own groups only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.tables import Reminder
from tests.conftest import TODAY
from tests.factories import DISTRICT_ELSEWHERE, make_group, make_mentor, make_visit

MENTOR = 700501


async def test_change_interval_moves_due_date_and_reminders(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor)
    await make_visit(session, group, mentor, visited_on=TODAY - timedelta(days=3))
    chat = bot.chat(MENTOR)
    await chat.press_data(f"kel:det:{group.id}")
    await chat.press("⏱ Ubah jadwal")
    assert "Sekarang setiap 30 hari" in chat.last_text()
    assert chat.buttons()[:3] == ["Setiap 7 hari", "Setiap 14 hari", "✓ Setiap 30 hari"]
    await chat.press("Setiap 14 hari")
    assert "setiap 14 hari. Kunjungan berikutnya: 6 Desember 2026" in chat.last_text()
    await session.refresh(group)
    assert group.visit_interval_days == 14
    assert group.next_visit_due == TODAY + timedelta(days=11)
    pending = (await session.execute(select(Reminder).where(
        Reminder.subject_id == group.id, Reminder.status == "pending"))).scalars().all()
    assert {r.cycle for r in pending} == {group.next_visit_due}


async def test_change_interval_of_another_mentors_group_is_refused(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    other = await make_mentor(session, area_code=DISTRICT_ELSEWHERE)
    foreign = await make_group(session, other, village_code="73.71.01.1001")
    chat = bot.chat(MENTOR)
    await chat.press_data(f"jdw:set:{foreign.id}:7")
    assert "tidak ditemukan" in chat.callback_answers()[-1].text
    await session.refresh(foreign)
    assert foreign.visit_interval_days == 30
    await chat.press_data(f"jdw:ask:{foreign.id}")
    assert "tidak ditemukan" in chat.callback_answers()[-1].text
