"""A group's history: its status, stage, profile and households' welfare changes, with who,
when and why. The rows are kept for good; the audit trail records the same change too."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuditAction, ChangeKind, GroupStatus
from bot.core.reminder_rules import Rules
from models import audit, reminders
from models.tables import Group, GroupChange, Mentor


def is_read_only(group: Group) -> bool:
    """A dissolved group's records stay, but nothing new is written to them."""
    return group.status == GroupStatus.DISSOLVED


def record(
    *,
    session: AsyncSession,
    group_id: int,
    kind: str,
    field: str,
    old: str | None,
    new: str | None,
    by: Mentor | None,
    on: date,
    reason: str | None = None,
    note: str | None = None,
    member_id: int | None = None,
    visit_id: int | None = None,
    update_id: int | None = None,
) -> GroupChange:
    """Adds one history row to the session; it commits with the change it describes."""
    change = GroupChange(
        group_id=group_id, kind=kind, field=field, old=old, new=new, reason=reason, note=note,
        changed_on=on, by_mentor_id=by.id if by is not None else None, member_id=member_id,
        visit_id=visit_id, source_update_id=update_id)
    session.add(change)
    return change


# The reason of a group's first history rows: where its story begins (the migration writes
# the same for the groups it found).
START = "awal"


def record_start(*, session: AsyncSession, group: Group, by: Mentor | None) -> None:
    """A new group's history begins: aktif, at its stage, on the day it was formed. Reports
    read a group's status and stage at a period's end from these rows."""
    for kind, value in ((ChangeKind.STATUS, group.status), (ChangeKind.STAGE, group.stage)):
        record(session=session, group_id=group.id, kind=kind, field=str(kind), old=None,
               new=value, by=by, on=group.formed_on, reason=START)


async def for_group(*, session: AsyncSession, group_id: int, limit: int | None = None,
                    offset: int = 0) -> list[GroupChange]:
    """The group's history, newest first."""
    query = (select(GroupChange).where(GroupChange.group_id == group_id)
             .order_by(GroupChange.changed_on.desc(), GroupChange.id.desc()).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars())


async def change_stage(
    *,
    session: AsyncSession,
    group: Group,
    stage: str,
    actor: Mentor,
    on: date,
    note: str | None = None,
    visit_id: int | None = None,
    commit: bool = True,
) -> GroupChange | None:
    """Moves the group to ``stage`` (audited, with history). None when it is there already.
    ``commit=False`` leaves the commit to a caller saving more in the same transaction."""
    if group.stage == stage:
        return None
    old = audit.snapshot(group, {"stage"})
    change = record(session=session, group_id=group.id, kind=ChangeKind.STAGE, field="stage",
                    old=group.stage, new=stage, by=actor, on=on, note=note, visit_id=visit_id)
    group.stage = stage
    session.add(group)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="group", entity_id=group.id, old=old,
                 new=audit.snapshot(group, {"stage"}))
    if commit:
        await session.commit()
    return change


class StatusDate(StrEnum):
    """Why a status change cannot be dated so."""
    FUTURE = "future"
    BEFORE_FORMED = "before_formed"
    BEFORE_LAST = "before_last"


class StatusDateError(ValueError):
    """A status change dated against :func:`check_status_date`."""

    def __init__(self, problem: StatusDate) -> None:
        super().__init__(f"status change date refused: {problem}")
        self.problem = problem


def check_status_date(on: date, *, formed_on: date, status_on: date | None,
                      today: date) -> StatusDate | None:
    """A status change happens by today (where the group is), not before the group was
    formed, nor before its current status began (``status_on``, its last status change): so
    its history reads in order and a period's end finds the right status."""
    if on > today:
        return StatusDate.FUTURE
    if on < formed_on:
        return StatusDate.BEFORE_FORMED
    if status_on is not None and on < status_on:
        return StatusDate.BEFORE_LAST
    return None


async def change_status(
    *,
    session: AsyncSession,
    group: Group,
    status: str,
    reason: str | None,
    actor: Mentor,
    on: date,
    today: date,
    note: str | None = None,
    rules: Rules | None = None,
    commit: bool = True,
) -> GroupChange | None:
    """Sets the group's status (audited, with history). A group that is not active loses its
    pending visit reminders; one made active again gets them back from its due date. None
    when nothing changes; :class:`StatusDateError` (nothing written) for a date
    :func:`check_status_date` refuses."""
    if group.status == status:
        return None
    problem = check_status_date(on, formed_on=group.formed_on, status_on=group.status_on,
                                today=today)
    if problem is not None:
        raise StatusDateError(problem)
    fields = {"status", "status_on", "status_reason"}
    old = audit.snapshot(group, fields)
    change = record(session=session, group_id=group.id, kind=ChangeKind.STATUS, field="status",
                    old=group.status, new=status, by=actor, on=on, reason=reason, note=note)
    group.status, group.status_on, group.status_reason = status, on, reason
    if status == GroupStatus.ACTIVE and (group.next_visit_due is None
                                         or group.next_visit_due < today):
        # Back from a pause: the next visit is due now, not months ago.
        group.next_visit_due = today
    session.add(group)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="group", entity_id=group.id, old=old,
                 new=audit.snapshot(group, fields))
    await reminders.reschedule_group(session=session, group=group, today=today, rules=rules)
    if commit:
        await session.commit()
    return change
