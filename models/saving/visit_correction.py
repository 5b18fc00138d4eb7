"""Correcting a saved visit: who may, until when, the rules of the new answer, then the save.

Only the mentor who logged the visit corrects it, while the group is still theirs and not
dissolved, and only for a few days after it was saved (settings.visit_correction_days): after
that the visit is history others have read. A new answer meets the same rules as when the visit
was saved (models.saving.visit), checked against the group as stored now; the group's next due
date and its reminders follow when the visit date or the next visit date changed; the audit
trail keeps the old and new values (notes masked, models.audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import clock
from bot.core.enums import Activity, AuditAction
from bot.core.reminder_rules import Rules
from models import audit, reminders
from models import groups as group_queries
from models import visits as visit_queries
from models.changes import is_read_only
from models.saving import EndDraft, Refusal, Saved
from models.saving.visit import (
    VisitReason,
    attendance_fits,
    check_visit_date,
    latest_next_visit,
    next_visit_fits,
    profit_fits,
)
from models.tables import Group, Mentor, Visit, utcnow

# The answers a correction may change (location and photos are kept as sent).
FIELDS = frozenset({
    "visited_on", "attendance", "activities", "turnover", "profit", "cash", "solidarity_fee",
    "livestock_count", "equipment_value", "stock_value", "problems", "follow_up",
    "next_visit_on"})
FIGURES = ("turnover", "profit", "cash", "solidarity_fee")


class CorrectionReason(StrEnum):
    NOT_FOUND = "not_found"  # no such visit, or one the actor may not see
    NOT_THEIRS = "not_theirs"  # seen, but logged by another mentor (or the group moved on)
    DISSOLVED = "dissolved"  # the group is dissolved: its records are read-only
    TOO_LATE = "too_late"  # saved longer ago than the days allowed


@dataclass(frozen=True)
class CorrectionRefusal(Refusal):
    """Why a correction was not saved: who may not (CorrectionReason), or a rule of the visit
    the new answer breaks (VisitReason), with the group as it is now to word it."""

    reason: CorrectionReason | VisitReason
    group: str | None = None
    members: int | None = None
    formed_on: date | None = None
    today: date | None = None
    latest_next: date | None = None


def correctable_until(visit: Visit, days: int) -> datetime:
    """Until when the visit may be corrected: ``days`` after it was saved."""
    saved = visit.created_at
    if saved.tzinfo is None:  # SQLite hands back naive UTC
        saved = saved.replace(tzinfo=clock.now().tzinfo)
    return saved + timedelta(days=days)


def may_correct(visit: Visit, group: Group, actor: Mentor, *, days: int
                ) -> CorrectionReason | None:
    """None if ``actor`` may correct ``visit`` now; else why not. The caller has checked that
    the actor may see the visit."""
    if visit.mentor_id != actor.id or group.mentor_id != actor.id:
        return CorrectionReason.NOT_THEIRS
    if is_read_only(group):
        return CorrectionReason.DISSOLVED
    if clock.now() > correctable_until(visit, days):
        return CorrectionReason.TOO_LATE
    return None


async def correct_visit(*, session: AsyncSession, actor: Mentor, visit_id: int,
                        values: dict[str, Any], days: int, rules: Rules | None = None,
                        end_draft: EndDraft | None = None
                        ) -> Saved[Visit] | CorrectionRefusal:
    """Checks who may correct the visit and the new ``values`` (fields of :data:`FIELDS`)
    against the group as stored now, and saves them with an audit row, in one commit; the
    group's next due date and reminders follow the latest visit when a date changed.

    ``created`` is False when nothing differed (nothing written but the draft's end).
    ``end_draft``: as for every save (models.saving.EndDraft), awaited only when the rules
    hold."""
    assert set(values) <= FIELDS, set(values) - FIELDS
    found = await visit_queries.get_visible(session=session, visit_id=visit_id, actor=actor)
    if found is None:
        return CorrectionRefusal(CorrectionReason.NOT_FOUND)
    visit, group = found
    why = may_correct(visit, group, actor, days=days)
    if why is not None:
        return CorrectionRefusal(why, group=group.name)
    members = await group_queries.count_active_members(session=session, group_id=group.id)
    today = clock.today_for(group.village_code)
    merged = {field: values.get(field, getattr(visit, field)) for field in FIELDS}

    def refusal(reason: VisitReason) -> CorrectionRefusal:
        return CorrectionRefusal(reason, group=group.name, members=members,
                                 formed_on=group.formed_on, today=today,
                                 latest_next=latest_next_visit(merged["visited_on"]))

    if "activities" in values:
        merged["activities"] = [a.value for a in Activity if a in values["activities"]]
        if not merged["activities"]:
            return refusal(VisitReason.NO_ACTIVITY)
    # Only what changes is checked: a household that left since does not make the attendance
    # kept from that day wrong.
    if "attendance" in values and not attendance_fits(merged["attendance"], members=members):
        return refusal(VisitReason.ATTENDANCE_OVER_MEMBERS)
    if "visited_on" in values:
        wrong = check_visit_date(merged["visited_on"], formed_on=group.formed_on, today=today)
        if wrong is not None:
            return refusal(wrong)
    if ({"visited_on", "next_visit_on"} & set(values)
            and not next_visit_fits(merged["visited_on"], merged["next_visit_on"])):
        return refusal(VisitReason.NEXT_OUT_OF_WINDOW)
    if {"turnover", "profit"} & set(values) and not profit_fits(merged["profit"],
                                                                merged["turnover"]):
        return refusal(VisitReason.PROFIT_OVER_TURNOVER)

    fields = set(values)
    old = audit.snapshot(visit, fields)
    new = {field: merged[field].isoformat() if isinstance(merged[field], date)
           else merged[field] for field in fields}
    old, new = audit.changes(old, new)
    if end_draft is not None:
        await end_draft()
    if not new:
        await session.commit()
        return Saved(visit, group, False)
    latest_before = await visit_queries.latest_for_group(session=session, group_id=group.id)
    for field in new:
        setattr(visit, field, merged[field])
    figures = any(getattr(visit, field) is not None for field in FIGURES)
    if not figures:
        visit.figures_from = None
    elif visit.figures_from is None or visit.figures_from > visit.visited_on:
        # The span the figures cover must end on the visit day: it begins where a new visit's
        # would (the group's visit before, else the day it was formed).
        visit.figures_from, _ = await visit_queries.figures_start(
            session=session, group_id=group.id, formed_on=group.formed_on,
            day=visit.visited_on)
    visit.corrected_at = utcnow()
    session.add(visit)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="visit", entity_id=visit.id, old=old, new=new)
    if {"visited_on", "next_visit_on"} & set(new):
        await session.flush()
        latest = await visit_queries.latest_for_group(session=session, group_id=group.id)
        # The schedule follows the latest visit: it moves when this visit was or becomes it.
        if latest is not None and visit.id in (latest.id, getattr(latest_before, "id", None)) \
                and latest.next_visit_on != group.next_visit_due:
            visit_queries.move_due(session=session, group=group, due=latest.next_visit_on,
                                   actor_telegram_id=actor.telegram_id)
            await reminders.reschedule_group(session=session, group=group, today=today,
                                             rules=rules)
    await session.commit()
    return Saved(visit, group, True)
