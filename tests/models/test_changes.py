"""A group's history and the status and stage changes that write it (models.changes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.enums import ChangeKind, GroupStatus, ReminderStatus, StatusReason
from models import audit, changes
from models.tables import Reminder
from tests.conftest import TODAY
from tests.factories import make_group, make_mentor


async def _pending(session, group_id: int) -> list[str]:
    rows = await session.execute(select(Reminder.rule).where(
        Reminder.subject_id == group_id, Reminder.status == ReminderStatus.PENDING))
    return sorted(rows.scalars())


async def test_an_inactive_group_loses_its_visit_reminders_and_gets_them_back(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor, next_visit_due=TODAY - timedelta(days=40))
    assert await _pending(session, group.id) != []
    change = await changes.change_status(
        session=session, group=group, status=GroupStatus.INACTIVE,
        reason=StatusReason.BUSINESS_STOPPED, actor=mentor, on=TODAY, today=TODAY,
        note="kambing dijual")
    assert (change.kind, change.old, change.new, change.reason) == (
        ChangeKind.STATUS, "aktif", "tidak_aktif", "usaha_berhenti")
    assert (group.status, group.status_on) == ("tidak_aktif", TODAY)
    assert await _pending(session, group.id) == []
    assert not changes.is_read_only(group)
    # Back again: due now (not 40 days ago), so the first reminder is today's, not overdue ones.
    await changes.change_status(session=session, group=group, status=GroupStatus.ACTIVE,
                                reason=StatusReason.REACTIVATED, actor=mentor, on=TODAY,
                                today=TODAY)
    assert group.next_visit_due == TODAY
    assert await _pending(session, group.id) == ["visit_due", "visit_escalation",
                                                  "visit_overdue"]
    history = await changes.for_group(session=session, group_id=group.id)
    assert [(row.old, row.new) for row in history] == [("tidak_aktif", "aktif"),
                                                       ("aktif", "tidak_aktif"),
                                                       (None, "tumbuh"), (None, "aktif")]
    # Where the story began: the day the group was formed.
    assert {row.changed_on for row in history[2:]} == {group.formed_on}
    trail = await audit.list_for(session=session, entity="group", entity_id=group.id)
    assert trail[-1].new["status"] == "aktif" and trail[-2].new["status"] == "tidak_aktif"


async def test_a_dissolved_group_is_read_only_and_a_same_value_changes_nothing(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    await changes.change_status(session=session, group=group, status=GroupStatus.DISSOLVED,
                                reason=StatusReason.OTHER, actor=mentor, on=TODAY, today=TODAY)
    assert changes.is_read_only(group)
    assert await changes.change_status(
        session=session, group=group, status=GroupStatus.DISSOLVED, reason=None, actor=mentor,
        on=TODAY, today=TODAY) is None
    assert await changes.change_stage(session=session, group=group, stage="tumbuh",
                                      actor=mentor, on=TODAY) is None
    assert len(await changes.for_group(session=session, group_id=group.id)) == 1 + 2  # + start


async def test_a_stage_change_is_history_and_audit(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    change = await changes.change_stage(session=session, group=group, stage="berkembang",
                                        actor=mentor, on=TODAY,
                                        note="laba dibagi, HP 0812 3456 7890")
    assert (change.kind, change.old, change.new, change.by_mentor_id) == (
        "stage", "tumbuh", "berkembang", mentor.id)
    # Notes are free text: a phone number in one is stored masked.
    assert "3456 7890" not in change.note
    assert group.stage == "berkembang"
    trail = await audit.list_for(session=session, entity="group", entity_id=group.id)
    assert (trail[-1].old, trail[-1].new) == ({"stage": "tumbuh"}, {"stage": "berkembang"})


async def test_a_status_change_is_dated_in_order_or_refused(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor, formed_on=TODAY - timedelta(days=100))
    await changes.change_status(session=session, group=group, status=GroupStatus.INACTIVE,
                                reason=StatusReason.DISASTER, actor=mentor,
                                on=TODAY - timedelta(days=5), today=TODAY)
    for on, problem in ((TODAY - timedelta(days=6), changes.StatusDate.BEFORE_LAST),
                        (TODAY - timedelta(days=101), changes.StatusDate.BEFORE_FORMED),
                        (TODAY + timedelta(days=1), changes.StatusDate.FUTURE)):
        with pytest.raises(changes.StatusDateError) as refused:
            await changes.change_status(session=session, group=group,
                                        status=GroupStatus.ACTIVE,
                                        reason=StatusReason.REACTIVATED, actor=mentor, on=on,
                                        today=TODAY)
        assert refused.value.problem is problem
        assert (group.status, group.status_on) == ("tidak_aktif", TODAY - timedelta(days=5))
    await session.rollback()
    assert len(await changes.for_group(session=session, group_id=group.id)) == 2 + 1
    # The same day as the last change is in order.
    group = await session.get(type(group), group.id)
    assert await changes.change_status(
        session=session, group=group, status=GroupStatus.ACTIVE,
        reason=StatusReason.REACTIVATED, actor=mentor, on=TODAY - timedelta(days=5),
        today=TODAY) is not None
