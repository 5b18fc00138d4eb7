"""Grants and roll-overs: Progress computed from the records, and the grant queries."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.enums import ReminderStatus, Role, RolloverStatus
from models import grants as grant_queries
from models.grants import Progress
from models.tables import Grant, Reminder
from tests.factories import (
    DISTRICT_ELSEWHERE,
    REGENCY_SUKABUMI,
    make_grant,
    make_group,
    make_mentor,
)

TODAY = date(2026, 11, 25)
DUE = date(2027, 11, 25)


def grant(*, amount: int | None = None, units: int | None = None,
          households: int | None = None, due: date = DUE) -> Grant:
    return Grant(id=1, group_id=1, kind="uep", funding_source="apbn", form="tunai",
                 amount=20_000_000, received_on=date(2026, 11, 25), rollover_amount=amount,
                 rollover_units=units, rollover_unit_label="ekor" if units else None,
                 rollover_households=households, rollover_due=due, recorded_by=1)


def progress(g: Grant, *, amount: int = 0, units: int = 0, households: int = 0,
             groups: int = 0, count: int | None = None, today: date = TODAY) -> Progress:
    if count is None:
        count = households + groups
    return Progress(g, amount, units, households, groups, count, today)


# --- Progress, pure ------------------------------------------------------------------------------

def test_nothing_rolled_over_yet():
    state = progress(grant(amount=10_000_000))
    assert (state.status, state.complete, state.percent) == (RolloverStatus.NOT_STARTED,
                                                              False, 0)
    assert (state.amount_left, state.units_left) == (10_000_000, None)


def test_partial_amount():
    state = progress(grant(amount=10_000_000), amount=4_000_000, households=2)
    assert (state.status, state.percent, state.amount_left) == (
        RolloverStatus.PARTIAL, 40, 6_000_000)
    assert not state.complete


def test_percent_rounds_down_and_is_capped():
    assert progress(grant(amount=3), amount=2, households=1).percent == 66
    state = progress(grant(amount=10_000_000), amount=12_000_000, households=1)
    assert (state.percent, state.amount_left, state.status) == (100, 0, RolloverStatus.DONE)


def test_complete_amount_even_after_the_deadline():
    state = progress(grant(amount=10_000_000, due=date(2026, 1, 1)), amount=10_000_000,
                     households=3)
    assert state.complete and state.status == RolloverStatus.DONE


def test_late_when_the_deadline_passed_and_not_complete():
    g = grant(amount=10_000_000, due=date(2026, 11, 24))
    assert progress(g, amount=3_000_000, households=1).status == RolloverStatus.LATE
    assert progress(g).status == RolloverStatus.LATE  # nothing at all is late too
    # On the deadline itself it is not late yet.
    on_the_day = grant(amount=10_000_000, due=TODAY)
    assert progress(on_the_day, amount=1, households=1).status == RolloverStatus.PARTIAL


def test_units_target():
    g = grant(units=10)
    state = progress(g, units=3, households=1)
    assert (state.percent, state.units_left, state.amount_left) == (30, 7, None)
    assert progress(g, units=10, households=2).status == RolloverStatus.DONE


def test_households_target_counts_households_and_groups():
    g = grant(households=5)
    state = progress(g, households=2, groups=1)
    assert (state.percent, state.status) == (60, RolloverStatus.PARTIAL)
    assert progress(g, households=3, groups=2).complete


def test_every_set_target_must_be_met_and_percent_is_the_least_advanced():
    g = grant(amount=10_000_000, units=10, households=4)
    state = progress(g, amount=10_000_000, units=5, households=4)
    assert not state.complete and state.percent == 50
    state = progress(g, amount=2_000_000, units=10, households=4)
    assert state.percent == 20
    assert progress(g, amount=10_000_000, units=10, households=3, groups=1).complete


def test_no_target_is_never_complete():
    state = progress(grant(), amount=5_000_000, households=1)
    assert not state.complete and state.percent == 0
    assert state.status == RolloverStatus.PARTIAL


# --- queries -------------------------------------------------------------------------------------

async def test_progress_from_the_records_and_reminders(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    g = await make_grant(session, group, mentor, rollover_amount=10_000_000,
                         rollover_households=3)
    for no, (amount, kind) in enumerate([(3_000_000, "kk"), (3_000_000, "kelompok")]):
        await grant_queries.create_rollover(
            session=session, grant=g, group=group, mentor=mentor, today=TODAY,
            update_id=9000 + no,
            fields={"rolled_on": TODAY, "recipient_kind": kind, "recipient_name": f"Penerima {no}",
                    "amount": amount})
    state = await grant_queries.progress(session=session, grant=g, today=TODAY)
    assert (state.amount_done, state.households_done, state.groups_done, state.count) == (
        6_000_000, 1, 1, 2)
    assert (state.percent, state.status) == (60, RolloverStatus.PARTIAL)

    await grant_queries.create_rollover(
        session=session, grant=g, group=group, mentor=mentor, today=TODAY,
        fields={"rolled_on": TODAY, "recipient_kind": "kk", "recipient_name": "Penerima 3",
                "amount": 4_000_000})
    state = await grant_queries.progress(session=session, grant=g, today=TODAY)
    assert state.complete and state.status == RolloverStatus.DONE
    reminders = (await session.execute(
        Reminder.__table__.select().where(Reminder.subject_id == g.id,
                                          Reminder.rule.like("rollover%")))).all()
    assert reminders and {row.status for row in reminders} == {ReminderStatus.CANCELLED}


async def test_a_roll_over_is_saved_once_per_update(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    g = await make_grant(session, group, mentor)
    fields = {"rolled_on": TODAY, "recipient_kind": "kk", "recipient_name": "Sari",
              "amount": 1_000_000}
    first, created = await grant_queries.create_rollover(
        session=session, grant=g, group=group, mentor=mentor, today=TODAY, update_id=77,
        fields=fields)
    again, created_again = await grant_queries.create_rollover(
        session=session, grant=g, group=group, mentor=mentor, today=TODAY, update_id=77,
        fields=fields)
    assert created and not created_again and first.id == again.id
    assert len(await grant_queries.rollovers(session=session, grant_id=g.id)) == 1


async def test_visibility_of_grants(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    g = await make_grant(session, group, mentor)
    other = await make_mentor(session, area_code=DISTRICT_ELSEWHERE)
    coordinator = await make_mentor(session, role=Role.COORDINATOR, area_code=REGENCY_SUKABUMI)
    assert await grant_queries.get_own(session=session, grant_id=g.id, mentor=mentor)
    assert await grant_queries.get_own(session=session, grant_id=g.id, mentor=other) is None
    assert await grant_queries.get_visible(session=session, grant_id=g.id,
                                           actor=other) is None
    assert await grant_queries.get_visible(session=session, grant_id=g.id, actor=coordinator)
    assert await grant_queries.get_own(session=session, grant_id=g.id,
                                       mentor=coordinator) is None


@pytest.mark.parametrize(("amounts", "expected"), [([], None), ([5, 7], (2, 12)),
                                                   ([None, 4], (2, 4))])
async def test_totals_for_groups(session, amounts, expected):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    for amount in amounts:
        await make_grant(session, group, mentor, amount=amount, rollover_amount=None,
                         rollover_households=2)
    totals = await grant_queries.totals_for_groups(session=session, group_ids=[group.id])
    assert totals.get(group.id) == expected
