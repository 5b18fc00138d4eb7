"""models.saving.grant: a grant saved with its obligation when the rules hold against its group
as stored now, or refused with nothing written and the draft left."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.core.enums import ReminderStatus
from models import reminders
from models.saving import Saved
from models.saving.grant import (
    MAX_DUE_YEARS,
    GrantReason,
    GrantRefusal,
    LpjReason,
    NewGrant,
    NewLpj,
    check_lpj_day,
    check_obligation,
    check_received,
    default_due,
    due_fits,
    latest_due,
    lpj_due,
    save_grant,
    save_lpj,
    source_for,
)
from models.tables import AuditLog, Grant, Reminder
from tests.factories import (
    draft_left,
    ender,
    expect_refusal,
    handled_update_ids,
    make_group,
    make_mentor,
    received,
    rows,
    store_draft,
)

TODAY = date(2026, 11, 25)
FORMED = TODAY - timedelta(days=200)
RECEIVED = TODAY - timedelta(days=10)
USER = 700779


# --- the rules a question also applies ----------------------------------------------------------

def test_received_between_formed_and_today():
    assert check_received(TODAY, formed_on=FORMED, today=TODAY) is None
    assert check_received(FORMED, formed_on=FORMED, today=TODAY) is None
    assert check_received(TODAY + timedelta(days=1), formed_on=FORMED,
                          today=TODAY) == GrantReason.RECEIVED_IN_FUTURE
    assert check_received(FORMED - timedelta(days=1), formed_on=FORMED,
                          today=TODAY) == GrantReason.RECEIVED_BEFORE_FORMED


def test_an_obligation_no_larger_than_the_grant():
    none = {"roll_amount": None, "roll_units": None, "roll_households": None}
    assert check_obligation(amount=10, **none) == GrantReason.NO_OBLIGATION
    assert check_obligation(amount=10, **(none | {"roll_units": 3})) is None
    assert check_obligation(amount=10, **(none | {"roll_households": 2})) is None
    assert check_obligation(amount=10, **(none | {"roll_amount": 10})) is None
    assert check_obligation(amount=10, **(none | {"roll_amount": 11})) == \
        GrantReason.ROLL_OVER_GRANT
    assert check_obligation(amount=None, **(none | {"roll_amount": 11})) is None  # goods' value


def test_the_deadline_within_ten_years_after_receipt():
    assert latest_due(date(2024, 2, 29)) == date(2034, 2, 28)  # calendar years
    assert due_fits(RECEIVED, RECEIVED + timedelta(days=1))
    assert due_fits(RECEIVED, latest_due(RECEIVED))
    assert not due_fits(RECEIVED, RECEIVED)
    assert not due_fits(RECEIVED, latest_due(RECEIVED) + timedelta(days=1))


# --- the save -----------------------------------------------------------------------------------

@pytest.fixture
async def answers(session):
    mentor = await make_mentor(session, telegram_id=USER)
    group = await make_group(session, mentor, formed_on=FORMED)
    await store_draft(session, user_id=USER, flow="grant")
    await received(session, 6161)
    return NewGrant(actor=mentor, group_id=group.id, kind="uep",
                    form="tunai", amount=20_000_000, received_on=RECEIVED,
                    rollover_amount=10_000_000, rollover_households=3,
                    rollover_due=RECEIVED + timedelta(days=365), update_id=6161)


async def test_a_grant_is_saved_with_its_reminders_audit_and_draft_end(session, answers):
    group_id, mentor_id = answers.group_id, answers.actor.id
    end_draft = ender(session, user_id=USER, flow="grant")
    saved = await save_grant(session=session, grant=answers, end_draft=end_draft)
    assert isinstance(saved, Saved) and saved.created and end_draft.calls == 1
    assert saved.group.id == group_id

    [grant] = await rows(session, Grant)
    grant_id = grant.id
    assert (grant.group_id, grant.recorded_by, grant.form, grant.amount, grant.received_on) == (
        group_id, mentor_id, "tunai", 20_000_000, RECEIVED)
    assert (grant.rollover_amount, grant.rollover_units, grant.rollover_households,
            grant.rollover_due) == (10_000_000, None, 3, RECEIVED + timedelta(days=365))
    assert grant.goods_description is None and grant.source_update_id == 6161
    assert (grant.funding_source, grant.rollover_required) == ("apbn", True)
    assert (grant.lpj_due, grant.lpj_submitted_on) == (date(2027, 2, 15), None)
    audit = {(row.action, row.entity, row.entity_id) for row in await rows(session, AuditLog)}
    assert ("create", "grant", grant_id) in audit
    pending = [r for r in await rows(session, Reminder)
               if r.status == ReminderStatus.PENDING and r.rule.startswith("rollover")]
    assert pending and {r.subject_id for r in pending} == {grant_id}
    assert await handled_update_ids(session) == [6161]
    assert not await draft_left(session, user_id=USER, flow="grant")


async def test_goods_keep_their_description_and_units_their_label(session, answers):
    goods = replace(answers, form="barang", amount=None, goods_description="10 ekor kambing",
                    rollover_amount=None, rollover_units=5, rollover_unit_label="ekor kambing",
                    rollover_households=None)
    saved = await save_grant(session=session, grant=goods)
    assert isinstance(saved, Saved)
    assert (saved.record.goods_description, saved.record.rollover_units,
            saved.record.rollover_unit_label) == ("10 ekor kambing", 5, "ekor kambing")
    cash = replace(answers, goods_description="left over from an earlier answer",
                   rollover_unit_label="ekor", update_id=None)
    saved = await save_grant(session=session, grant=cash)
    assert (saved.record.goods_description, saved.record.rollover_unit_label) == (None, None)


async def test_the_same_update_saves_one_grant(session, answers):
    first = await save_grant(session=session, grant=answers)
    again = await save_grant(session=session, grant=answers)
    assert isinstance(again, Saved) and not again.created
    assert again.record.id == first.record.id and len(await rows(session, Grant)) == 1


async def _refused(session, answers, reason):
    refusal = await expect_refusal(
        session, lambda end_draft: save_grant(session=session, grant=answers, end_draft=end_draft),
        actor=answers.actor, reason=reason, user_id=USER, flow="grant")
    assert isinstance(refusal, GrantRefusal)
    return refusal


async def test_refused_for_another_mentors_group(session, answers):
    other = await make_mentor(session, name="Budi")
    refusal = await _refused(session, replace(answers, actor=other), GrantReason.GROUP_GONE)
    assert refusal.group is None


@pytest.mark.parametrize(("received", "reason"), [
    (TODAY + timedelta(days=1), GrantReason.RECEIVED_IN_FUTURE),
    (FORMED - timedelta(days=1), GrantReason.RECEIVED_BEFORE_FORMED),
])
async def test_refused_for_the_date_received(session, answers, received, reason):
    refusal = await _refused(session, replace(answers, received_on=received,
                                              rollover_due=received + timedelta(days=365)),
                             reason)
    assert (refusal.group, refusal.formed_on, refusal.today) == ("KUBE Mawar", FORMED, TODAY)


async def test_refused_for_a_cash_grant_without_its_amount(session, answers):
    await _refused(session, replace(answers, amount=None, rollover_amount=None),
                   GrantReason.AMOUNT_MISSING)


async def test_refused_for_goods_not_said(session, answers):
    await _refused(session, replace(answers, form="barang", goods_description=None),
                   GrantReason.GOODS_MISSING)


async def test_refused_without_an_obligation(session, answers):
    await _refused(session, replace(answers, rollover_amount=None, rollover_households=None),
                   GrantReason.NO_OBLIGATION)


async def test_refused_for_more_to_roll_over_than_the_grant(session, answers):
    refusal = await _refused(session, replace(answers, rollover_amount=20_000_001),
                             GrantReason.ROLL_OVER_GRANT)
    assert refusal.amount == 20_000_000


@pytest.mark.parametrize("due", [RECEIVED, RECEIVED - timedelta(days=1),
                                 latest_due(RECEIVED) + timedelta(days=1)])
async def test_refused_for_a_deadline_outside_the_window(session, answers, due):
    refusal = await _refused(session, replace(answers, rollover_due=due),
                             GrantReason.DUE_OUT_OF_RANGE)
    assert (refusal.latest_due, refusal.max_years) == (latest_due(RECEIVED), MAX_DUE_YEARS)


def test_default_due_is_calendar_months_later():
    assert default_due(date(2026, 11, 25), 12) == date(2027, 11, 25)
    assert default_due(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert default_due(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_the_kind_says_the_funding_source_and_the_lpj_is_due_months_later():
    assert [source_for(kind) for kind in ("uep", "daerah", "blps", "lainnya")] == [
        "apbn", "apbd_kabupaten", "apbn", "lainnya"]
    assert lpj_due(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert check_lpj_day(TODAY, received_on=RECEIVED, today=TODAY) is None
    assert check_lpj_day(RECEIVED - timedelta(days=1), received_on=RECEIVED,
                         today=TODAY) == LpjReason.SUBMITTED_BEFORE_RECEIVED
    assert check_lpj_day(TODAY + timedelta(days=1), received_on=RECEIVED,
                         today=TODAY) == LpjReason.SUBMITTED_IN_FUTURE


async def test_without_an_obligation_nothing_of_it_is_kept(session, answers):
    free = replace(answers, rollover_required=False, rollover_due=None, funding_source="csr")
    saved = await save_grant(session=session, grant=free, lpj_months=6)
    assert isinstance(saved, Saved)
    grant = saved.record
    assert (grant.rollover_required, grant.rollover_amount, grant.rollover_households,
            grant.rollover_due) == (False, None, None, None)
    assert grant.funding_source == "csr"  # given: kept
    assert grant.lpj_due == RECEIVED + timedelta(days=181)  # 6 calendar months
    rules = {r.rule for r in await rows(session, Reminder)
             if r.status == ReminderStatus.PENDING and r.subject_id == grant.id
             and not r.rule.startswith("visit")}
    assert rules == {"lpj_soon", "lpj_overdue"}  # no roll-over reminders


async def test_an_lpj_is_recorded_once_by_whoever_may_see_the_group(session, answers):
    saved = await save_grant(session=session, grant=answers)
    grant_id = saved.record.id
    stranger = await make_mentor(session, name="Budi", area_code="73.71.01")
    refusal = await save_lpj(session=session, lpj=NewLpj(stranger, grant_id, TODAY))
    assert refusal.reason == LpjReason.GRANT_GONE
    too_early = await save_lpj(session=session, lpj=NewLpj(
        answers.actor, grant_id, RECEIVED - timedelta(days=1)))
    assert too_early.reason == LpjReason.SUBMITTED_BEFORE_RECEIVED
    done = await save_lpj(session=session, lpj=NewLpj(answers.actor, grant_id, TODAY))
    assert isinstance(done, Saved) and done.created and done.record.lpj_submitted_on == TODAY
    again = await save_lpj(session=session, lpj=NewLpj(answers.actor, grant_id,
                                                       TODAY - timedelta(days=1)))
    assert isinstance(again, Saved) and not again.created
    [grant] = await rows(session, Grant)
    assert grant.lpj_submitted_on == TODAY
    lpj = [r.status for r in await rows(session, Reminder) if r.rule.startswith("lpj")]
    assert lpj and set(lpj) == {ReminderStatus.CANCELLED}


async def test_a_new_grants_reminders_are_those_a_reschedule_gives(session, answers):
    # A new grant's reminders take one insert (models.reminders.schedule_new_grant): the same
    # rows as cancelling and scheduling them again would give.
    saved = await save_grant(session=session, grant=answers)
    grant, group = saved.record, saved.group

    async def pending() -> list[tuple]:
        return sorted((r.rule, r.subject_id, r.cycle, r.step, r.fire_on, r.due_at)
                      for r in await rows(session, Reminder)
                      if r.status == ReminderStatus.PENDING and r.subject_id == grant.id
                      and not r.rule.startswith("visit"))
    first = await pending()
    assert {row[0] for row in first} == {"rollover_soon", "rollover_overdue", "lpj_soon",
                                         "lpj_overdue"}
    await reminders.reschedule_grant(session=session, grant=grant, group=group, today=TODAY,
                                     done=False)
    await reminders.reschedule_lpj(session=session, grant=grant, group=group, today=TODAY)
    await session.commit()
    assert await pending() == first
