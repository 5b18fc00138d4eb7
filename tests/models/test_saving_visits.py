"""models.saving.visit: a visit saved with the rules of its group as stored now, or refused with
nothing written, the draft left for the question that fixes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core import clock
from bot.core.enums import ReminderStatus
from models import groups as group_queries
from models.saving import Saved
from models.saving.visit import (
    MAX_NEXT_DAYS,
    NewVisit,
    VisitReason,
    VisitRefusal,
    attendance_fits,
    check_visit_date,
    default_next_visit,
    latest_next_visit,
    next_visit_fits,
    profit_fits,
    save_visit,
)
from models.tables import AuditLog, Group, Reminder, Visit
from tests.factories import (
    DISTRICT_ELSEWHERE,
    VILLAGE_IN_CIBADAK,
    draft_left,
    ender,
    expect_refusal,
    make_group,
    make_mentor,
    rows,
    store_draft,
)

TODAY = date(2026, 11, 25)
FORMED = TODAY - timedelta(days=200)
USER = 700777


# --- the rules a question also applies ----------------------------------------------------------

def test_attendance_from_none_to_every_active_household():
    assert attendance_fits(0, members=7) and attendance_fits(7, members=7)
    assert not attendance_fits(8, members=7) and not attendance_fits(-1, members=7)


def test_a_visit_date_between_formed_and_today():
    assert check_visit_date(TODAY, formed_on=FORMED, today=TODAY) is None
    assert check_visit_date(FORMED, formed_on=FORMED, today=TODAY) is None
    assert check_visit_date(TODAY + timedelta(days=1), formed_on=FORMED,
                            today=TODAY) == VisitReason.DATE_IN_FUTURE
    assert check_visit_date(FORMED - timedelta(days=1), formed_on=FORMED,
                            today=TODAY) == VisitReason.DATE_BEFORE_FORMED
    assert check_visit_date(date(1990, 1, 1), formed_on=None, today=TODAY) is None


def test_the_next_visit_within_a_year_after():
    assert latest_next_visit(TODAY) == TODAY + timedelta(days=MAX_NEXT_DAYS)
    assert next_visit_fits(TODAY, TODAY + timedelta(days=1))
    assert next_visit_fits(TODAY, latest_next_visit(TODAY))
    assert not next_visit_fits(TODAY, TODAY)
    assert not next_visit_fits(TODAY, latest_next_visit(TODAY) + timedelta(days=1))


def test_the_suggested_next_visit_stays_in_the_window():
    assert default_next_visit(TODAY, 30) == TODAY + timedelta(days=30)
    assert default_next_visit(TODAY, None) == TODAY + timedelta(days=30)
    assert default_next_visit(TODAY, 0) == TODAY + timedelta(days=30)  # none set: the default
    assert default_next_visit(TODAY, -5) == TODAY + timedelta(days=1)
    assert default_next_visit(TODAY, 999) == latest_next_visit(TODAY)


def test_profit_never_over_turnover():
    assert profit_fits(1_000_000, 1_000_000) and profit_fits(-50_000, 100)
    assert profit_fits(None, 100) and profit_fits(100, None)
    assert not profit_fits(1_000_001, 1_000_000)


# --- the save -----------------------------------------------------------------------------------

@pytest.fixture
async def setting(session):
    mentor = await make_mentor(session, telegram_id=USER)
    group = await make_group(session, mentor, formed_on=FORMED)
    await store_draft(session, user_id=USER, flow="visit")
    answers = NewVisit(actor=mentor, group_id=group.id, visited_on=TODAY, attendance=6,
                       activities=("pembukuan", "pemantauan"),
                       next_visit_on=TODAY + timedelta(days=14), turnover=2_000_000,
                       profit=-100_000, problems="Pakan mahal", photo_file_ids=("p1", "p2"),
                       latitude=-6.9, longitude=106.8, update_id=4242)
    return mentor, group, answers


async def test_a_visit_is_saved_with_its_group_due_date_reminders_audit_and_draft_end(
        session, setting):
    mentor, group, answers = setting
    group_id, mentor_id = group.id, mentor.id
    end_draft = ender(session, user_id=USER, flow="visit")
    saved = await save_visit(session=session, visit=answers, end_draft=end_draft)
    assert isinstance(saved, Saved) and saved.created and end_draft.calls == 1
    assert saved.group.id == group_id and saved.group.name == "KUBE Mawar"

    [visit] = await rows(session, Visit)
    visit_id = visit.id
    assert (visit.group_id, visit.mentor_id, visit.visited_on, visit.attendance) == (
        group_id, mentor_id, TODAY, 6)
    assert visit.activities == ["pemantauan", "pembukuan"]  # in the vocabulary's order
    assert (visit.turnover, visit.profit, visit.problems, visit.photo_file_ids) == (
        2_000_000, -100_000, "Pakan mahal", ["p1", "p2"])
    assert visit.source_update_id == 4242
    [stored] = await rows(session, Group)
    assert stored.next_visit_due == TODAY + timedelta(days=14)
    audit = {(row.action, row.entity, row.entity_id) for row in await rows(session, AuditLog)}
    assert {("create", "visit", visit_id), ("update", "group", group_id)} <= audit
    pending = [r for r in await rows(session, Reminder) if r.status == ReminderStatus.PENDING]
    assert pending and {r.cycle for r in pending} == {TODAY + timedelta(days=14)}
    assert not await draft_left(session, user_id=USER, flow="visit")


async def test_the_same_update_saves_one_visit(session, setting):
    _, _, answers = setting
    first = await save_visit(session=session, visit=answers)
    again = await save_visit(session=session, visit=answers)
    assert isinstance(again, Saved) and not again.created
    assert again.record.id == first.record.id and len(await rows(session, Visit)) == 1


async def test_without_a_draft_to_end_it_saves_all_the_same(session, setting):
    _, _, answers = setting
    saved = await save_visit(session=session, visit=replace(answers, update_id=None))
    assert isinstance(saved, Saved) and len(await rows(session, Visit)) == 1
    assert await draft_left(session, user_id=USER, flow="visit")  # not this save's to end


async def _refused(session, answers, reason):
    refusal = await expect_refusal(
        session, lambda end_draft: save_visit(session=session, visit=answers, end_draft=end_draft),
        actor=answers.actor, reason=reason, user_id=USER, flow="visit")
    assert isinstance(refusal, VisitRefusal)
    return refusal


@pytest.mark.parametrize("activities", [(), ("menari",)])
async def test_refused_without_an_activity(session, setting, activities):
    _, _, answers = setting
    await _refused(session, replace(answers, activities=activities), VisitReason.NO_ACTIVITY)


async def test_refused_for_another_mentors_group(session, setting):
    _, _, answers = setting
    other = await make_mentor(session, name="Budi")
    refusal = await _refused(session, replace(answers, actor=other), VisitReason.GROUP_GONE)
    assert refusal.group is None
    await _refused(session, replace(answers, group_id=answers.group_id + 999),
                   VisitReason.GROUP_GONE)


async def test_attendance_is_checked_against_the_households_active_now(session, setting):
    mentor, group, answers = setting
    assert isinstance(await save_visit(session=session, visit=replace(
        answers, attendance=7, update_id=None)), Saved)
    member = (await group_queries.active_members(session=session, group_id=group.id))[-1]
    await group_queries.remove_member(session=session, member=member, actor=mentor,
                                      left_on=TODAY)
    refusal = await _refused(session, replace(answers, attendance=7),
                             VisitReason.ATTENDANCE_OVER_MEMBERS)
    assert (refusal.group, refusal.members, refusal.formed_on, refusal.today) == (
        "KUBE Mawar", 6, FORMED, TODAY)


async def test_refused_for_a_date_after_today(session, setting):
    _, _, answers = setting
    tomorrow = TODAY + timedelta(days=1)
    refusal = await _refused(session, replace(answers, visited_on=tomorrow,
                                              next_visit_on=tomorrow + timedelta(days=30)),
                             VisitReason.DATE_IN_FUTURE)
    assert (refusal.today, refusal.village_code) == (TODAY, VILLAGE_IN_CIBADAK)


async def test_refused_for_a_date_before_the_group_was_formed_as_stored_now(session, setting):
    _, group, answers = setting
    group.formed_on = TODAY - timedelta(days=3)  # corrected since the questions were asked
    session.add(group)
    await session.commit()
    refusal = await _refused(session, replace(answers, visited_on=TODAY - timedelta(days=4)),
                             VisitReason.DATE_BEFORE_FORMED)
    assert refusal.formed_on == TODAY - timedelta(days=3)


@pytest.mark.parametrize("days", [0, -1, MAX_NEXT_DAYS + 1])
async def test_refused_for_a_next_visit_outside_the_window(session, setting, days):
    _, _, answers = setting
    refusal = await _refused(session, replace(answers, next_visit_on=TODAY + timedelta(days=days)),
                             VisitReason.NEXT_OUT_OF_WINDOW)
    assert refusal.latest_next == TODAY + timedelta(days=MAX_NEXT_DAYS)


async def test_refused_for_a_profit_above_the_turnover(session, setting):
    _, _, answers = setting
    assert isinstance(await save_visit(session=session, visit=replace(
        answers, turnover=300_000, profit=300_000, update_id=None)), Saved)  # equal: fits
    refusal = await _refused(session, replace(answers, turnover=100_000, profit=300_000),
                             VisitReason.PROFIT_OVER_TURNOVER)
    assert (refusal.group, refusal.members) == ("KUBE Mawar", 7)


async def test_today_is_where_the_group_is(session, monkeypatch):
    """At 23:30 in Sukabumi it is already tomorrow in Makassar: a visit dated tomorrow is
    refused for a group in Sukabumi and taken for one in Makassar."""
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 25, 16, 30, tzinfo=UTC))
    tomorrow = TODAY + timedelta(days=1)
    west = await make_mentor(session, telegram_id=USER)
    east = await make_mentor(session, name="Andi", area_code=DISTRICT_ELSEWHERE)
    here = await make_group(session, west, formed_on=FORMED)
    there = await make_group(session, east, name="KUBE Jauh", village_code="73.71.01.1001",
                             formed_on=FORMED)
    there_id = there.id
    await store_draft(session, user_id=USER, flow="visit")
    answers = NewVisit(actor=west, group_id=here.id, visited_on=tomorrow, attendance=5,
                       activities=("pemantauan",), next_visit_on=tomorrow + timedelta(days=30))
    refusal = await _refused(session, answers, VisitReason.DATE_IN_FUTURE)
    assert refusal.today == TODAY
    await session.refresh(east)
    saved = await save_visit(session=session, visit=replace(answers, actor=east,
                                                            group_id=there_id))
    assert isinstance(saved, Saved)
    assert (await session.execute(select(Visit.group_id))).scalars().all() == [there_id]
