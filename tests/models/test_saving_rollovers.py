"""models.saving.rollover: a roll-over saved when the rules hold against its grant as stored now
(passing what is left only when confirmed), or refused with nothing written, the draft left."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.core.enums import ReminderStatus, RolloverStatus
from models.grants import Progress, progress
from models.saving.rollover import (
    Exceeded,
    NewRollover,
    RolloverReason,
    RolloverRefusal,
    SavedRollover,
    check_rolled_on,
    exceeded,
    save_rollover,
)
from models.tables import AuditLog, Grant, Reminder, Rollover
from tests.factories import (
    draft_left,
    ender,
    expect_refusal,
    handled_update_ids,
    make_grant,
    make_group,
    make_mentor,
    received,
    rows,
    store_draft,
)

TODAY = date(2026, 11, 25)
RECEIVED = TODAY - timedelta(days=100)
USER = 700780


# --- the rules a question also applies ----------------------------------------------------------

def test_rolled_over_between_receipt_and_today():
    assert check_rolled_on(TODAY, received_on=RECEIVED, today=TODAY) is None
    assert check_rolled_on(RECEIVED, received_on=RECEIVED, today=TODAY) is None
    assert check_rolled_on(TODAY + timedelta(days=1), received_on=RECEIVED,
                           today=TODAY) == RolloverReason.ROLLED_IN_FUTURE
    assert check_rolled_on(RECEIVED - timedelta(days=1), received_on=RECEIVED,
                           today=TODAY) == RolloverReason.ROLLED_BEFORE_RECEIVED


def test_what_is_left_of_each_target_passed():
    grant = Grant(id=1, group_id=1, kind="uep", funding_source="apbn", form="barang",
                  received_on=RECEIVED, rollover_amount=10_000_000, rollover_units=10,
                  rollover_unit_label="ekor", rollover_due=TODAY, recorded_by=1)
    state = Progress(grant, 8_000_000, 7, 2, 0, 2, TODAY)
    assert exceeded(state, amount=2_000_000, units=3) is None  # exactly what is left
    assert exceeded(state, amount=2_000_001, units=None) == Exceeded(2_000_000, None, "ekor")
    assert exceeded(state, amount=None, units=4) == Exceeded(None, 3, "ekor")
    assert exceeded(state, amount=5_000_000, units=5) == Exceeded(2_000_000, 3, "ekor")
    no_targets = replace(state, grant=Grant(**{**grant.model_dump(), "rollover_amount": None,
                                               "rollover_units": None}))
    assert exceeded(no_targets, amount=99_000_000, units=99) is None
    done = Progress(grant, 10_000_000, 10, 3, 0, 3, TODAY)
    assert exceeded(done, amount=1, units=None) == Exceeded(0, None, "ekor")


# --- the save -----------------------------------------------------------------------------------

@pytest.fixture
async def answers(session):
    mentor = await make_mentor(session, telegram_id=USER)
    group = await make_group(session, mentor)
    grant = await make_grant(session, group, mentor, received_on=RECEIVED)  # Rp 10 jt to roll
    await store_draft(session, user_id=USER, flow="rollover")
    await received(session, 7171)
    return NewRollover(actor=mentor, grant_id=grant.id, rolled_on=TODAY, recipient_kind="kk",
                       recipient_name="Sari Dewi", recipient_village_code="32.02.11.2002",
                       amount=4_000_000, note="Untuk modal warung", update_id=7171)


async def test_a_roll_over_is_saved_with_progress_audit_and_draft_end(session, answers):
    grant_id, mentor_id = answers.grant_id, answers.actor.id
    end_draft = ender(session, user_id=USER, flow="rollover")
    saved = await save_rollover(session=session, rollover=answers, end_draft=end_draft)
    assert isinstance(saved, SavedRollover) and saved.created and end_draft.calls == 1
    assert saved.grant.id == grant_id and saved.group.name == "KUBE Mawar"
    assert (saved.progress.amount_done, saved.progress.percent, saved.progress.status) == (
        4_000_000, 40, RolloverStatus.PARTIAL)

    [rollover] = await rows(session, Rollover)
    rollover_id = rollover.id
    assert (rollover.grant_id, rollover.recorded_by, rollover.rolled_on, rollover.amount,
            rollover.units) == (grant_id, mentor_id, TODAY, 4_000_000, None)
    assert (rollover.recipient_kind, rollover.recipient_name, rollover.recipient_village_code,
            rollover.note) == ("kk", "Sari Dewi", "32.02.11.2002", "Untuk modal warung")
    audit = {(row.action, row.entity, row.entity_id) for row in await rows(session, AuditLog)}
    assert ("create", "rollover", rollover_id) in audit
    assert await handled_update_ids(session) == [7171]
    assert not await draft_left(session, user_id=USER, flow="rollover")


async def test_the_same_update_saves_one_roll_over(session, answers):
    first = await save_rollover(session=session, rollover=answers)
    again = await save_rollover(session=session, rollover=answers)
    assert isinstance(again, SavedRollover) and not again.created
    assert again.record.id == first.record.id and len(await rows(session, Rollover)) == 1


async def _refused(session, answers, reason):
    refusal = await expect_refusal(
        session, lambda end_draft: save_rollover(session=session, rollover=answers,
                                                 end_draft=end_draft),
        actor=answers.actor, reason=reason, user_id=USER, flow="rollover")
    assert isinstance(refusal, RolloverRefusal)
    return refusal


async def test_passing_what_is_left_needs_the_confirmation(session, answers):
    """Another roll-over saved meanwhile leaves Rp 2 jt: Rp 4 jt is refused, then saved once
    confirmed, completing the obligation and cancelling the grant's reminders."""
    grant_id = answers.grant_id
    meanwhile = await save_rollover(session=session, rollover=replace(
        answers, amount=8_000_000, update_id=None))
    assert isinstance(meanwhile, SavedRollover)
    refusal = await _refused(session, answers, RolloverReason.OVER_WHAT_IS_LEFT)
    assert refusal.exceeded == Exceeded(amount_left=2_000_000, units_left=None, unit_label=None)
    assert (refusal.group, refusal.received_on, refusal.today) == ("KUBE Mawar", RECEIVED, TODAY)

    await session.refresh(answers.actor)  # the test's own snapshot renewal expired it
    saved = await save_rollover(session=session, rollover=replace(answers,
                                                                  exceed_confirmed=True))
    assert isinstance(saved, SavedRollover) and saved.progress.complete
    assert saved.progress.amount_done == 12_000_000
    reminders = [r for r in await rows(session, Reminder)
                 if r.subject_id == grant_id and r.rule.startswith("rollover")]
    assert reminders and {r.status for r in reminders} == {ReminderStatus.CANCELLED}


async def test_units_count_for_a_grant_with_a_units_target_only(session, answers):
    mentor = answers.actor
    group = await make_group(session, mentor, name="KUBE Kambing")
    goats = await make_grant(session, group, mentor, form="barang", amount=None,
                             goods_description="10 ekor kambing", received_on=RECEIVED,
                             rollover_amount=None, rollover_units=6,
                             rollover_unit_label="ekor")
    goats_id = goats.id
    saved = await save_rollover(session=session, rollover=replace(
        answers, grant_id=goats_id, amount=None, units=4, update_id=None))
    assert isinstance(saved, SavedRollover) and saved.record.units == 4
    refusal = await _refused(session, replace(answers, grant_id=goats_id, amount=None, units=3),
                             RolloverReason.OVER_WHAT_IS_LEFT)
    assert refusal.exceeded == Exceeded(amount_left=None, units_left=2, unit_label="ekor")
    # Units for a grant that counts none are not kept: Rupiah only.
    await session.refresh(answers.actor)
    saved = await save_rollover(session=session, rollover=replace(answers, units=3))
    assert isinstance(saved, SavedRollover) and saved.record.units is None


async def test_refused_for_a_grant_of_another_mentors_group(session, answers):
    other = await make_mentor(session, name="Budi")
    refusal = await _refused(session, replace(answers, actor=other), RolloverReason.GRANT_GONE)
    assert refusal.group is None
    await _refused(session, replace(answers, grant_id=answers.grant_id + 999),
                   RolloverReason.GRANT_GONE)


@pytest.mark.parametrize(("rolled", "reason"), [
    (TODAY + timedelta(days=1), RolloverReason.ROLLED_IN_FUTURE),
    (RECEIVED - timedelta(days=1), RolloverReason.ROLLED_BEFORE_RECEIVED),
])
async def test_refused_for_the_date(session, answers, rolled, reason):
    refusal = await _refused(session, replace(answers, rolled_on=rolled), reason)
    assert (refusal.received_on, refusal.today) == (RECEIVED, TODAY)


@pytest.mark.parametrize("units", [None, 3])  # 3 units of a grant that counts none
async def test_refused_with_nothing_rolled_over(session, answers, units):
    await _refused(session, replace(answers, amount=None, units=units),
                   RolloverReason.NOTHING_ROLLED)


async def test_the_progress_shown_is_the_one_stored_and_a_partial_one_keeps_the_reminders(
        session, answers):
    grant_id = answers.grant_id

    async def pending() -> list[tuple]:
        return sorted((r.id, r.rule, r.fire_on) for r in await rows(session, Reminder)
                      if r.subject_id == grant_id and r.rule.startswith("rollover")
                      and r.status == ReminderStatus.PENDING)
    scheduled = await pending()
    assert scheduled
    for kind, update_id in (("kk", 7171), ("kelompok", None)):
        saved = await save_rollover(session=session, rollover=replace(
            answers, recipient_kind=kind, amount=3_000_000, update_id=update_id))
        assert isinstance(saved, SavedRollover) and not saved.progress.complete
        stored = await progress(session=session, grant=saved.grant, today=TODAY)
        fields = ("amount_done", "units_done", "households_done", "groups_done", "count")
        assert [getattr(saved.progress, name) for name in fields] == \
            [getattr(stored, name) for name in fields]
    assert (stored.households_done, stored.groups_done, stored.count) == (1, 1, 2)
    # Not complete: the deadline's reminders stay as they were, not cancelled and made again.
    assert await pending() == scheduled
