"""The coordinator's summary (/rekap): counts over an area, computed by the database.

Every query here is set-based (GROUP BY and conditional sums), never a loop over groups, so
the summary of a province with 100,000 groups costs a handful of queries. An area is a
Kemendagri code ("32", "32.02", "32.02.11"); ``None`` is the whole country (admins).

Dates: a group is overdue when its next visit was due before *its* local today (the province
decides WIB, WITA or WIT), the same rule the reminders use. "This month" and the weeks of the
chart are the actor's local calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, func, literal, literal_column, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import (
    OFFICER_ROLES,
    ChangeKind,
    GroupStatus,
    LeaveReason,
    RecipientKind,
    Role,
    RolloverStatus,
    Stage,
)
from bot.core.parsing import province_codes
from bot.core.periods import Period
from bot.core.places import timezone_abbr
from bot.core.settings import Settings
from models.group_places import far_clause, unlocated_clause
from models.tables import Grant, Group, GroupChange, Member, Mentor, Rollover, Training, Visit

# Traffic lights of the per-mentor table: share of groups visited on time.
GREEN_AT = 0.85
YELLOW_AT = 0.60

# The distance past which a visit counts as far from its group's place (the setting's default,
# for callers without the settings at hand).
DEFAULT_FAR_KM: float = Settings.model_fields["visit_far_km"].default


_ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


class NotAllowed(Exception):
    """The actor has no area to report on (a mentor, or a coordinator without an area)."""


def area_for(actor: Mentor) -> str | None:
    """The area ``actor`` reports on: their own area (coordinators), everything (admins)."""
    if actor.role == Role.ADMIN:
        return None
    if actor.role == Role.COORDINATOR and actor.area_code:
        return actor.area_code
    raise NotAllowed(actor.role)


def in_area_clause(column: Any, area_code: str | None) -> Any:
    """``column`` (an area code) lies inside ``area_code``; everything when None.

    A range rather than LIKE: "32.02." <= code < "32.02/" ("/" sorts right after ".") uses
    the index on both SQLite and PostgreSQL whatever the collation.
    """
    if not area_code:
        return True
    return or_(column == area_code,
               and_(column >= area_code + ".", column < area_code + "/"))


def groups_in(area_code: str | None) -> Any:
    """The groups whose village lies inside ``area_code``."""
    return in_area_clause(Group.village_code, area_code)


@lru_cache(maxsize=1)
def _provinces_by_zone() -> dict[str, tuple[str, ...]]:
    zones: dict[str, list[str]] = {}
    for code in sorted(province_codes()):
        zones.setdefault(timezone_abbr(code), []).append(code)
    return {zone: tuple(codes) for zone, codes in zones.items()}


def local_dates(now: datetime) -> dict[str, date]:
    """Today in WIB, WITA and WIT at the instant ``now``."""
    return {zone: now.astimezone(ZoneInfo(name)).date() for zone, name in _ZONES.items()}


def local_today_expr(village_column: Any, now: datetime) -> Any:
    """SQL: the local date of the group's village at ``now`` (one constant when the three time
    zones agree, which is 22 hours a day)."""
    dates = local_dates(now)
    if len(set(dates.values())) == 1:
        return literal(dates["WIB"], Date)
    province = func.substr(village_column, literal_column("1"), literal_column("2"))
    zones = _provinces_by_zone()
    return case(
        (province.in_(zones.get("WITA", ())), literal(dates["WITA"], Date)),
        (province.in_(zones.get("WIT", ())), literal(dates["WIT"], Date)),
        else_=literal(dates["WIB"], Date),
    )


def active_clause() -> Any:
    """The group still runs (aktif): only such groups are due visits."""
    return Group.status == GroupStatus.ACTIVE


def overdue_clause(now: datetime) -> Any:
    """The group is active and its next visit was due before its local today (an inactive or
    dissolved group is not waiting for a visit)."""
    return and_(active_clause(), Group.next_visit_due.is_not(None),
                Group.next_visit_due < local_today_expr(Group.village_code, now))


def count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- the summary -------------------------------------------------------------------------------

@dataclass(frozen=True)
class MentorLine:
    """One mentor's active groups in the area and how many of them are visited on time."""

    mentor_id: int
    name: str
    telegram_id: int
    groups: int
    overdue: int

    @property
    def on_time(self) -> int:
        return self.groups - self.overdue

    @property
    def share(self) -> float:
        return on_time_share(self.on_time, self.groups)

    @property
    def light(self) -> str:
        """"green" (>= 85% on time), "yellow" (60-85%) or "red" (< 60%)."""
        if self.share >= GREEN_AT:
            return "green"
        if self.share >= YELLOW_AT:
            return "yellow"
        return "red"


def on_time_share(on_time: int, groups: int) -> float:
    """The share of groups visited on time; all of none is on time (1.0)."""
    return on_time / groups if groups else 1.0


@dataclass
class Summary:
    area_code: str | None
    today: date
    groups: int = 0
    active: int = 0  # the groups that are due visits (aktif); on time is counted among them
    by_stage: dict[str, int] = field(default_factory=dict)
    complete: int = 0
    overdue: int = 0
    households: dict[str, int] = field(default_factory=dict)  # welfare category -> active KK
    visits_this_month: int = 0
    grants: int = 0
    grants_total: int = 0
    rollovers: dict[str, int] = field(default_factory=dict)  # RolloverStatus -> grants
    mentors: list[MentorLine] = field(default_factory=list)  # worst first

    @property
    def incomplete(self) -> int:
        return self.groups - self.complete

    @property
    def on_time(self) -> int:
        return self.active - self.overdue

    @property
    def on_time_share(self) -> float:
        return on_time_share(self.on_time, self.active)

    @property
    def households_total(self) -> int:
        return sum(self.households.values())


def member_stats(area_code: str | None) -> Any:
    """Per group (of the area): active members and how many hold each officer role."""
    query = (
        select(
            Member.group_id.label("group_id"),
            func.count().label("n"),
            *(func.count().filter(Member.role == role.value).label(role.value)
              for role in OFFICER_ROLES),
        )
        .where(Member.left_on.is_(None))
        .group_by(Member.group_id)
    )
    if area_code:
        query = query.where(Member.group_id.in_(select(Group.id).where(groups_in(area_code))))
    return query.subquery("member_stats")


def complete_clause(stats: Any, min_size: int, max_size: int) -> Any:
    """The group has min..max active members and exactly one of each officer."""
    return and_(func.coalesce(stats.c.n, 0) >= min_size, func.coalesce(stats.c.n, 0) <= max_size,
                *(func.coalesce(stats.c[role.value], 0) == 1 for role in OFFICER_ROLES))


async def summary(*, session: AsyncSession, area_code: str | None, now: datetime, today: date,
                  min_size: int, max_size: int, period: Period | None = None) -> Summary:
    """Everything /rekap shows about now, in five queries whatever the number of groups;
    the visits counted are those of ``period`` (default: this month up to today).

    ``today`` is the actor's local date (for "this month"); ``now`` decides each group's own
    local today (for overdue visits and roll-overs).
    """
    result = Summary(area_code=area_code, today=today)
    scope = groups_in(area_code)
    overdue = overdue_clause(now)

    stats = member_stats(area_code)
    rows = await session.execute(
        select(Group.stage, func.count(),
               count_if(complete_clause(stats, min_size, max_size)), count_if(overdue),
               count_if(active_clause()))
        .select_from(Group).outerjoin(stats, stats.c.group_id == Group.id)
        .where(scope).group_by(Group.stage))
    for stage, n, complete, late, active in rows:
        result.by_stage[stage] = int(n)
        result.groups += int(n)
        result.active += int(active)
        result.complete += int(complete)
        result.overdue += int(late)

    rows = await session.execute(
        select(Member.welfare_category, func.count())
        .join(Group, Group.id == Member.group_id)
        .where(scope, Member.left_on.is_(None)).group_by(Member.welfare_category))
    result.households = {category: int(n) for category, n in rows}

    first, last = (period.start, period.end) if period else (today.replace(day=1), today)
    result.visits_this_month = int((await session.execute(
        select(func.count()).select_from(Visit).join(Group, Group.id == Visit.group_id)
        .where(scope, Visit.visited_on >= first, Visit.visited_on <= last)
    )).scalar_one())

    result.grants, result.grants_total, result.rollovers = await _grants(
        session=session, area_code=area_code, now=now)
    result.mentors = await mentor_lines(session=session, area_code=area_code, now=now)
    return result


async def _grants(*, session: AsyncSession, area_code: str | None, now: datetime
                  ) -> tuple[int, int, dict[str, int]]:
    """(number of grants, total Rupiah, grants per roll-over status), with the status rules of
    models.grants.Progress written as SQL."""
    scope = groups_in(area_code)
    sums = (
        select(
            Rollover.grant_id.label("grant_id"),
            func.coalesce(func.sum(Rollover.amount), 0).label("amount"),
            func.coalesce(func.sum(Rollover.units), 0).label("units"),
            func.count().filter(Rollover.recipient_kind.in_(
                (RecipientKind.HOUSEHOLD.value, RecipientKind.GROUP.value))).label("recipients"),
            func.count().label("n"),
        )
        .group_by(Rollover.grant_id)
    )
    if area_code:
        sums = sums.where(Rollover.grant_id.in_(
            select(Grant.id).join(Group, Group.id == Grant.group_id).where(scope)))
    sums = sums.subquery("rollover_sums")

    def met(target: Any, done: Any) -> Any:
        return or_(func.coalesce(target, 0) <= 0, done >= target)

    amount = func.coalesce(sums.c.amount, 0)
    units = func.coalesce(sums.c.units, 0)
    recipients = func.coalesce(sums.c.recipients, 0)
    any_target = or_(func.coalesce(Grant.rollover_amount, 0) > 0,
                     func.coalesce(Grant.rollover_units, 0) > 0,
                     func.coalesce(Grant.rollover_households, 0) > 0)
    required = Grant.rollover_required.is_(True)
    done = and_(required, any_target, met(Grant.rollover_amount, amount),
                met(Grant.rollover_units, units), met(Grant.rollover_households, recipients))
    late = and_(required, not_(done),
                Grant.rollover_due < local_today_expr(Group.village_code, now))
    partial = and_(required, not_(done), not_(late), func.coalesce(sums.c.n, 0) > 0)
    row = (await session.execute(
        select(func.count(), func.coalesce(func.sum(Grant.amount), 0),
               count_if(done), count_if(late), count_if(partial), count_if(not_(required)))
        .select_from(Grant).join(Group, Group.id == Grant.group_id)
        .outerjoin(sums, sums.c.grant_id == Grant.id)
        .where(scope))).one()
    count, total, n_done, n_late, n_partial, n_free = (int(value) for value in row)
    statuses = {
        RolloverStatus.DONE.value: n_done,
        RolloverStatus.PARTIAL.value: n_partial,
        RolloverStatus.NOT_STARTED.value: count - n_done - n_late - n_partial - n_free,
        RolloverStatus.LATE.value: n_late,
        RolloverStatus.NOT_REQUIRED.value: n_free,
    }
    return count, total, statuses


async def mentor_lines(*, session: AsyncSession, area_code: str | None, now: datetime
                       ) -> list[MentorLine]:
    """Every mentor with active groups in the area, the worst on-time share first."""
    rows = await session.execute(
        select(Mentor.id, Mentor.name, Mentor.telegram_id, func.count(),
               count_if(overdue_clause(now)))
        .select_from(Group).join(Mentor, Mentor.id == Group.mentor_id)
        .where(groups_in(area_code), active_clause())
        .group_by(Mentor.id, Mentor.name, Mentor.telegram_id))
    lines = [MentorLine(int(mid), name, int(tid), int(n), int(late))
             for mid, name, tid, n, late in rows]
    lines.sort(key=lambda line: (line.share, -line.overdue, line.name.casefold(), line.mentor_id))
    return lines


# --- the chart's data --------------------------------------------------------------------------

def week_starts(today: date, weeks: int = 12) -> list[date]:
    """The Mondays of the last ``weeks`` weeks, the current week last."""
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


async def visits_per_week(*, session: AsyncSession, area_code: str | None, today: date,
                          weeks: int = 12) -> list[tuple[date, int]]:
    """(Monday, visits that week) for the last ``weeks`` weeks up to ``today``, oldest first.

    The database counts per day (at most 7 × ``weeks`` rows); the days are bucketed here, which
    keeps the SQL free of dialect-specific week functions.
    """
    starts = week_starts(today, weeks)
    rows = await session.execute(
        select(Visit.visited_on, func.count()).join(Group, Group.id == Visit.group_id)
        .where(groups_in(area_code), Visit.visited_on >= starts[0], Visit.visited_on <= today)
        .group_by(Visit.visited_on))
    counts = dict.fromkeys(starts, 0)
    for visited_on, n in rows:
        monday = visited_on - timedelta(days=visited_on.weekday())
        if monday in counts:
            counts[monday] += int(n)
    return list(counts.items())


async def overdue_by_district(*, session: AsyncSession, area_code: str | None, now: datetime
                              ) -> list[tuple[str, int]]:
    """(district code, overdue groups) for the districts of the area that have any, most first."""
    # Literal positions (not bound parameters) so GROUP BY repeats the very same expression,
    # which PostgreSQL requires.
    district = func.substr(Group.village_code, literal_column("1"), literal_column("8"))
    rows = await session.execute(
        select(district, func.count())
        .where(groups_in(area_code), overdue_clause(now))
        .group_by(district))
    return sorted(((code, int(n)) for code, n in rows), key=lambda item: (-item[1], item[0]))


# --- the period's figures (/rekap, the Ringkasan sheet) ----------------------------------------

# A kecamatan is the first 8 characters of a village code ("32.02.11"). Literal positions, so
# that GROUP BY repeats the very same expression (PostgreSQL).
def district_of(village_column: Any) -> Any:
    return func.substr(village_column, literal_column("1"), literal_column("8"))


STAGE_ORDER = {stage.value: at for at, stage in enumerate(Stage)}


@dataclass
class DistrictFigures:
    """One kecamatan's figures for a period (``code`` "" for the total of the area)."""

    code: str
    groups: int = 0  # formed by the period's end
    status: dict[str, int] = field(default_factory=dict)  # GroupStatus -> groups at the end
    stages: dict[str, int] = field(default_factory=dict)  # Stage -> groups at the end
    stage_up: int = 0  # stage changes in the period to a later stage
    stage_down: int = 0
    households: int = 0  # active households now
    graduated: int = 0  # households that left with graduasi in the period
    trainings: int = 0  # trainings held in the period
    trained: int = 0  # households that attended one
    visits: int = 0  # in the period
    # Of those, logged farther than the far distance from the group's place, and logged
    # without a location (visit_lines).
    far_visits: int = 0
    no_location_visits: int = 0
    turnover: int = 0  # sums of the visits' figures in the period
    profit: int = 0
    solidarity: int = 0  # IKS
    without_lpj: int = 0  # grants whose LPJ is not in (now)
    lpj_late: int = 0  # of which the LPJ is past due

    @property
    def stage_changes(self) -> int:
        return self.stage_up + self.stage_down

    def add(self, other: DistrictFigures) -> None:
        for name in ("groups", "stage_up", "stage_down", "households", "graduated",
                     "trainings", "trained", "visits", "far_visits", "no_location_visits",
                     "turnover", "profit", "solidarity", "without_lpj", "lpj_late"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("status", "stages"):
            mine = getattr(self, name)
            for key, n in getattr(other, name).items():
                mine[key] = mine.get(key, 0) + n


@dataclass
class PeriodFigures:
    area_code: str | None
    period: Period
    districts: list[DistrictFigures] = field(default_factory=list)  # by code
    total: DistrictFigures = field(default_factory=lambda: DistrictFigures(""))


def graduated_clause(start: date, end: date) -> Any:
    """The household left its group as graduated (graduasi) between ``start`` and ``end``."""
    return and_(Member.leave_reason == LeaveReason.GRADUATED.value,
                Member.left_on >= start, Member.left_on <= end)


def _first_changes_after(area_code: str | None, end: date) -> Any:
    """Per group and kind (status, stage): the value it had at ``end``, read from the first
    change after it (its old value). A group with no change since keeps its current value.
    Reading forward from the end touches only the changes made since, few for a recent period,
    where reading the newest value up to the end would rank the whole history."""
    rank = func.row_number().over(
        partition_by=(GroupChange.group_id, GroupChange.kind),
        order_by=(GroupChange.changed_on, GroupChange.id))
    query = (select(GroupChange.group_id.label("group_id"), GroupChange.kind.label("kind"),
                    GroupChange.old.label("old"), rank.label("rank"))
             .where(GroupChange.kind.in_((ChangeKind.STATUS.value, ChangeKind.STAGE.value)),
                    GroupChange.changed_on > end))
    if area_code:
        query = query.where(GroupChange.group_id.in_(select(Group.id).where(groups_in(area_code))))
    return query.subquery("first_change_after")


async def period_figures(*, session: AsyncSession, area_code: str | None, period: Period,
                         today: date, far_km: float = DEFAULT_FAR_KM) -> PeriodFigures:
    """The period's figures per kecamatan of the area, in six grouped queries whatever the
    number of groups: status and stage at the period's end (the group's history, else
    its current values), stage changes, graduations, trainings and households trained, visits
    with their turnover, profit and IKS in the period and how many of them were logged far
    from their group's place (more than ``far_km``) or without a location, and grants without
    an LPJ (now, the late ones as of ``today``)."""
    scope = groups_in(area_code)
    district = district_of(Group.village_code)
    start, end = period.start, period.end
    by_code: dict[str, DistrictFigures] = {}

    def at(code: str) -> DistrictFigures:
        return by_code.setdefault(code, DistrictFigures(code))

    # One row per group changed since the end (its status and stage then), joined once:
    # joining the ranked rows twice makes SQLite scan them for every group. A group's first
    # rows (no old value) are dated the day it was formed, after the end only for a group
    # formed later, which is not counted.
    after = _first_changes_after(area_code, end)
    at_end = (
        select(after.c.group_id.label("group_id"),
               func.max(case((after.c.kind == ChangeKind.STATUS.value, after.c.old)))
               .label("status"),
               func.max(case((after.c.kind == ChangeKind.STAGE.value, after.c.old)))
               .label("stage"))
        .where(after.c.rank == 1).group_by(after.c.group_id).subquery("at_end"))
    status = func.coalesce(at_end.c.status, Group.status)
    stage = func.coalesce(at_end.c.stage, Group.stage)
    rows = await session.execute(
        select(district, status, stage, func.count())
        .select_from(Group).outerjoin(at_end, at_end.c.group_id == Group.id)
        .where(scope, Group.formed_on <= end)
        .group_by(district, status, stage))
    for code, group_status, group_stage, n in rows:
        line = at(code)
        line.groups += int(n)
        line.status[group_status] = line.status.get(group_status, 0) + int(n)
        line.stages[group_stage] = line.stages.get(group_stage, 0) + int(n)

    rows = await session.execute(
        select(district, GroupChange.old, GroupChange.new, func.count())
        .join(Group, Group.id == GroupChange.group_id)
        .where(scope, GroupChange.kind == ChangeKind.STAGE.value, GroupChange.old.is_not(None),
               GroupChange.changed_on >= start, GroupChange.changed_on <= end)
        .group_by(district, GroupChange.old, GroupChange.new))
    for code, old, new, n in rows:
        up = STAGE_ORDER.get(new, 0) > STAGE_ORDER.get(old, 0)
        if up:
            at(code).stage_up += int(n)
        elif new != old:
            at(code).stage_down += int(n)

    graduated = graduated_clause(start, end)
    rows = await session.execute(
        select(district, func.count(), count_if(graduated))
        .join(Group, Group.id == Member.group_id)
        .where(scope, or_(Member.left_on.is_(None), graduated))
        .group_by(district))
    for code, n, graduated in rows:
        at(code).graduated += int(graduated)
        at(code).households += int(n) - int(graduated)

    # Trainings are few per period: their attendee lists are merged here (a JSON list each).
    trained: dict[str, set[int]] = {}
    rows = await session.execute(
        select(district, Training.attendee_ids).join(Group, Group.id == Training.group_id)
        .where(scope, Training.held_on >= start, Training.held_on <= end))
    for code, attendees in rows:
        at(code).trainings += 1
        trained.setdefault(code, set()).update(attendees or [])
    for code, members in trained.items():
        at(code).trained = len(members)

    for code, line in (await visit_lines(session=session, area_code=area_code, start=start,
                                         end=end, far_km=far_km)).items():
        entry = at(code)
        entry.visits, entry.turnover = line.visits, line.turnover
        entry.profit, entry.solidarity = line.profit, line.solidarity
        entry.far_visits, entry.no_location_visits = line.far, line.no_location

    rows = await session.execute(
        select(district, func.count(),
               count_if(and_(Grant.lpj_due.is_not(None), Grant.lpj_due < today)))
        .join(Group, Group.id == Grant.group_id)
        .where(scope, Grant.lpj_submitted_on.is_(None))
        .group_by(district))
    for code, n, late in rows:
        at(code).without_lpj, at(code).lpj_late = int(n), int(late)

    result = PeriodFigures(area_code, period)
    result.districts = [by_code[code] for code in sorted(by_code)]
    for line in result.districts:
        result.total.add(line)
    return result


# --- the visit check (/rekap, the Ringkasan sheet, the dashboard's overview) -------------------

class VisitLine(NamedTuple):
    """A kecamatan's visits in a period: how many, the sums of their figures, and how many
    were logged far from their group's place or without a location."""

    visits: int
    far: int
    no_location: int
    turnover: int
    profit: int
    solidarity: int  # IKS


async def visit_lines(*, session: AsyncSession, area_code: str | None, start: date, end: date,
                      far_km: float = DEFAULT_FAR_KM) -> dict[str, VisitLine]:
    """The visits of the area's groups between ``start`` and ``end`` (both included) per
    kecamatan code, checked against their groups' stored places (models.group_places), in one
    grouped statement."""
    district = district_of(Group.village_code)
    rows = await session.execute(
        select(district, func.count(), count_if(far_clause(far_km)),
               count_if(unlocated_clause()), func.coalesce(func.sum(Visit.turnover), 0),
               func.coalesce(func.sum(Visit.profit), 0),
               func.coalesce(func.sum(Visit.solidarity_fee), 0))
        .join(Group, Group.id == Visit.group_id)
        .where(groups_in(area_code), Visit.visited_on >= start, Visit.visited_on <= end)
        .group_by(district))
    return {code: VisitLine(*(int(value) for value in values)) for code, *values in rows}
