"""Saving a mentoring visit: the rules it must meet against its group, then the save.

The group may have changed since the questions were asked (a household left, the date formed
corrected, the group handed to another mentor), so everything that depends on it is checked
again here, against the database, in the group's own time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import clock
from bot.core.enums import Activity
from bot.core.reminder_rules import Rules
from models import groups as group_queries
from models import visits as visit_queries
from models.saving import EndDraft, Refusal, Saved, check_day, write
from models.tables import Mentor, Visit

MAX_NEXT_DAYS = 365  # the next visit is planned at most a year after this one


class VisitReason(StrEnum):
    GROUP_GONE = "group_gone"  # not the actor's group (any more), or no such group
    NO_ACTIVITY = "no_activity"  # no known activity ticked
    ATTENDANCE_OVER_MEMBERS = "attendance_over_members"  # outside 0..active households
    DATE_IN_FUTURE = "date_in_future"  # after today where the group is
    DATE_BEFORE_FORMED = "date_before_formed"  # before the group was formed
    NEXT_OUT_OF_WINDOW = "next_out_of_window"  # not after the visit, or over a year later
    PROFIT_OVER_TURNOVER = "profit_over_turnover"  # a profit larger than the turnover


@dataclass(frozen=True)
class VisitRefusal(Refusal):
    """Besides GROUP_GONE and NO_ACTIVITY, the group as it is now: its name, active
    households, date formed, village and today there (a handler refreshes its draft from them
    before asking again), and the latest next visit date for this visit date."""

    reason: VisitReason
    group: str | None = None
    members: int | None = None
    formed_on: date | None = None
    village_code: str | None = None
    today: date | None = None
    latest_next: date | None = None


@dataclass(frozen=True)
class NewVisit:
    """A visit's answers, parsed, and who logs it (the group's own mentor)."""

    actor: Mentor
    group_id: int
    visited_on: date
    attendance: int
    activities: tuple[str, ...]
    next_visit_on: date
    turnover: int | None = None
    profit: int | None = None  # negative: a loss
    cash: int | None = None
    solidarity_fee: int | None = None
    # Where the span of the turnover, profit and IKS begins (it ends on the visit day), as the
    # question named it; None: the rule's (figures_start), when figures were given.
    figures_from: date | None = None
    livestock_count: int | None = None  # the group's assets now: head of livestock,
    equipment_value: int | None = None  # the value of its equipment
    stock_value: int | None = None  # and of its stock
    problems: str | None = None
    follow_up: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    photo_file_ids: tuple[str, ...] = ()
    update_id: int | None = None  # the Telegram update that saves it: saved once per update


# --- the rules one question also needs --------------------------------------------------------

def attendance_fits(attendance: int, *, members: int) -> bool:
    """Households present: 0 up to the group's active households."""
    return 0 <= attendance <= members


def check_visit_date(visited: date, *, formed_on: date | None, today: date
                     ) -> VisitReason | None:
    """A visit happened by today (where the group is) and not before the group was formed."""
    return check_day(visited, earliest=formed_on, today=today,
                     future=VisitReason.DATE_IN_FUTURE, early=VisitReason.DATE_BEFORE_FORMED)


def latest_next_visit(visited: date) -> date:
    """The latest next visit date a visit on ``visited`` may plan."""
    return visited + timedelta(days=MAX_NEXT_DAYS)


def next_visit_fits(visited: date, upcoming: date) -> bool:
    """The next visit comes after this one, at most :data:`MAX_NEXT_DAYS` later."""
    return visited < upcoming <= latest_next_visit(visited)


def default_next_visit(visited: date, interval_days: int | None) -> date:
    """The visit date plus the group's interval, kept within the allowed window."""
    days = min(max(int(interval_days or 30), 1), MAX_NEXT_DAYS)
    return visited + timedelta(days=days)


def profit_fits(profit: int | None, turnover: int | None) -> bool:
    """Profit is what is left of the turnover after costs: never more than it (a larger one is
    a slip of a zero). Either unknown: nothing to compare."""
    return profit is None or turnover is None or profit <= turnover


# --- the save ---------------------------------------------------------------------------------

async def save_visit(*, session: AsyncSession, visit: NewVisit, rules: Rules | None = None,
                     end_draft: EndDraft | None = None) -> Saved[Visit] | VisitRefusal:
    """Checks the visit against its group as stored now and saves it, moving the group's next
    due date and rescheduling its reminders, with the audit rows, in one commit.

    Rules, in this order: at least one known activity; the group is the actor's own; the
    attendance is within the active households; the visit date lies between the date formed
    and today where the group is; the next visit date is after the visit, at most a year later;
    the profit is not above the turnover (:func:`profit_fits`: a figure kept while the other
    was changed from the summary must not get by). With figures, the span they cover begins on
    ``figures_from`` (between the date formed and the visit), else on the group's last visit
    before this one (models.visits.figures_start); without, no span is stored.

    ``end_draft`` (see models.saving.EndDraft) is awaited only when every rule holds, right
    before the write, so the draft ends in the visit's commit; a refusal writes and stages
    nothing and leaves the session as it was. A redelivered update finds the visit it saved
    (``created`` False). ``rules``: the reminder rules (settings.reminder_rules).
    """
    activities = [a.value for a in Activity if a in visit.activities]
    if not activities:
        return VisitRefusal(VisitReason.NO_ACTIVITY)
    group = await group_queries.get_own(session=session, group_id=visit.group_id,
                                        mentor=visit.actor)
    if group is None:
        return VisitRefusal(VisitReason.GROUP_GONE)
    members = await group_queries.count_active_members(session=session, group_id=group.id)
    today = clock.today_for(group.village_code)

    def refusal(reason: VisitReason) -> VisitRefusal:
        return VisitRefusal(reason, group=group.name, members=members,
                            formed_on=group.formed_on, village_code=group.village_code,
                            today=today, latest_next=latest_next_visit(visit.visited_on))

    if not attendance_fits(visit.attendance, members=members):
        return refusal(VisitReason.ATTENDANCE_OVER_MEMBERS)
    wrong_date = check_visit_date(visit.visited_on, formed_on=group.formed_on, today=today)
    if wrong_date is not None:
        return refusal(wrong_date)
    if not next_visit_fits(visit.visited_on, visit.next_visit_on):
        return refusal(VisitReason.NEXT_OUT_OF_WINDOW)
    if not profit_fits(visit.profit, visit.turnover):
        return refusal(VisitReason.PROFIT_OVER_TURNOVER)
    figures_from = None
    if any(value is not None for value in (visit.turnover, visit.profit, visit.cash,
                                           visit.solidarity_fee)):
        figures_from = visit.figures_from
        if figures_from is None or not group.formed_on <= figures_from <= visit.visited_on:
            figures_from, _ = await visit_queries.figures_start(
                session=session, group_id=group.id, formed_on=group.formed_on,
                day=visit.visited_on)
    fields = {
        "visited_on": visit.visited_on,
        "attendance": visit.attendance,
        "activities": activities,
        "turnover": visit.turnover,
        "profit": visit.profit,
        "cash": visit.cash,
        "solidarity_fee": visit.solidarity_fee,
        "figures_from": figures_from,
        "livestock_count": visit.livestock_count,
        "equipment_value": visit.equipment_value,
        "stock_value": visit.stock_value,
        "problems": visit.problems,
        "follow_up": visit.follow_up,
        "latitude": visit.latitude,
        "longitude": visit.longitude,
        "photo_file_ids": list(visit.photo_file_ids),
        "next_visit_on": visit.next_visit_on,
    }
    record, created = await write(end_draft, lambda: visit_queries.create_visit(
        session=session, group=group, mentor=visit.actor, fields=fields,
        update_id=visit.update_id, today=today, rules=rules))
    return Saved(record, group, created)
