"""The coordinator's dashboard (bot/web/API.md): the overview of an area, its groups with their
places and visit checks, its mentors, and one group's whole story, as plain JSON-ready dicts.

The area rules are the chat's: the overview, the table and the mentors cover the actor's area
as /rekap does (models.reports.area_for, groups_in); a group's page and a visit's photos are
found as a group's detail is in chat (models.groups.get_visible), and None means "not found"
whether the id is elsewhere or made up. Every list is a handful of set-based statements,
whatever the number of groups; a group's place is the one stored on its row and visits are
checked against it in SQL (models.group_places), a group's page in Python (bot.core.geo).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuditAction, ChangeKind, GroupStatus, Stage
from bot.core.geo import Point, visit_check
from bot.core.parsing import mask_nik, mask_phone
from bot.core.periods import Period
from bot.core.places import short_name, timezone_abbr
from models import audit, changes
from models import grants as grant_queries
from models import groups as group_queries
from models.group_places import far_clause, stored_place, unlocated_clause
from models.reports import (
    STAGE_ORDER,
    active_clause,
    area_for,
    count_if,
    district_of,
    graduated_clause,
    groups_in,
    in_area_clause,
    local_dates,
    mentor_lines,
    on_time_share,
    overdue_clause,
    visit_lines,
)
from models.tables import Area, Group, Member, Mentor, Visit

# A group whose next visit is this close is "due" (jatuh tempo) on the map.
DUE_SOON_DAYS = 7
VISIT_STATES = ("on_time", "due", "overdue")
SORTS = ("name", "village", "mentor", "stage", "status", "last_visit", "next_due",
         "days_overdue")
STATUS_ORDER = {status.value: at for at, status in enumerate(GroupStatus)}
_DISTRICT_CODE = re.compile(r"\d{2}\.\d{2}\.\d{2}")
_VILLAGE_CODE = re.compile(r"\d{2}\.\d{2}\.\d{2}\.\d{4}")
_ID = re.compile(r"[1-9]\d{0,17}")


def _iso(day: date | datetime | None) -> str | None:
    return day.isoformat() if day is not None else None


def _scope(actor: Mentor) -> tuple[str | None, Any]:
    """The actor's area (None: the whole country) and the SQL condition for its groups, as
    /rekap reads them; raises reports.NotAllowed for someone with no area to supervise."""
    area = area_for(actor)
    return area, groups_in(area)


async def _names(*, session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """Short names ("Kec. Cibadak", "Desa Sekarwangi") of a few area codes."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(select(Area.code, Area.name).where(Area.code.in_(wanted)))
    return {code: short_name(code, name) for code, name in rows}


async def _district_names(*, session: AsyncSession, area: str | None) -> dict[str, str]:
    """The short names of every district of the area (a few thousand for the country): one
    range read instead of a list of codes."""
    rows = await session.execute(
        select(Area.code, Area.name).where(Area.level == 3, in_area_clause(Area.code, area)))
    return {code: short_name(code, name) for code, name in rows}


def _area(code: str, names: Mapping[str, str]) -> dict[str, str]:
    return {"code": code, "name": names.get(code, code)}


# --- a group's place, its visit state ---------------------------------------------------------

def _point(latitude: float | None, longitude: float | None) -> Point | None:
    """A stored location (a group's recorded place, a visit's shared one), or None."""
    return (latitude, longitude) if latitude is not None and longitude is not None else None


def place_json(place: Point | None, source: str | None) -> dict[str, Any] | None:
    return None if place is None else {"lat": place[0], "lon": place[1], "source": source}


def visit_state(status: str, next_due: date | None, today: date) -> tuple[str | None, int]:
    """(on_time | due | overdue, days overdue) of a group on its local ``today``; (None, 0)
    for a group that is not aktif, which waits for no visit (reports.overdue_clause)."""
    if status != GroupStatus.ACTIVE:
        return None, 0
    if next_due is None:
        return "on_time", 0
    if next_due < today:
        return "overdue", (today - next_due).days
    if next_due <= today + timedelta(days=DUE_SOON_DAYS):
        return "due", 0
    return "on_time", 0


def _today_of(village_code: str, dates: Mapping[str, date]) -> date:
    """The group's local date (its province's zone) out of reports.local_dates."""
    return dates[timezone_abbr(village_code)]


# --- the overview -----------------------------------------------------------------------------

async def overview(*, session: AsyncSession, actor: Mentor, period: Period, now: datetime,
                   far_km: float) -> dict[str, Any]:
    """The area's overview (API.md /api/overview, without the period's key and label, which
    are the caller's): groups by status, stages of the aktif groups, the on-time share and
    overdue groups as of ``now``; visits with their checks and graduations in ``period``; the
    same per district. Raises reports.NotAllowed for someone with no area."""
    area, scope = _scope(actor)
    district = district_of(Group.village_code)
    rows = await session.execute(
        select(district, Group.status, Group.stage, func.count(), count_if(overdue_clause(now)))
        .where(scope).group_by(district, Group.status, Group.stage))
    lines: dict[str, dict[str, Any]] = {}

    def line(code: str) -> dict[str, Any]:
        return lines.setdefault(code, {"code": code, "groups": 0, "aktif": 0, "overdue": 0,
                                       "visits": 0, "far": 0, "no_location": 0,
                                       "graduations": 0})

    statuses = dict.fromkeys((status.value for status in GroupStatus), 0)
    stages = dict.fromkeys((stage.value for stage in Stage), 0)
    for code, status, stage, n, late in rows:
        entry = line(code)
        entry["groups"] += int(n)
        entry["overdue"] += int(late)
        statuses[status] = statuses.get(status, 0) + int(n)
        if status == GroupStatus.ACTIVE:
            entry["aktif"] += int(n)
            stages[stage] = stages.get(stage, 0) + int(n)
    # Only the graduations of reports.period_figures: its other five reads cost a national
    # overview more than everything else it shows.
    graduations = await session.execute(
        select(district, func.count()).select_from(Member)
        .join(Group, Group.id == Member.group_id)
        .where(scope, graduated_clause(period.start, period.end)).group_by(district))
    for code, n in graduations:
        line(code)["graduations"] = int(n)
    checks = await visit_lines(session=session, area_code=area, start=period.start,
                               end=period.end, far_km=far_km)
    for code, check in checks.items():
        entry = line(code)
        entry["visits"], entry["far"], entry["no_location"] = (
            check.visits, check.far, check.no_location)
    names = await _district_names(session=session, area=area)
    districts = []
    for code in sorted(lines):
        entry = lines[code]
        districts.append({
            "code": code, "name": names.get(code, code), "groups": entry["groups"],
            "aktif": entry["aktif"], "overdue": entry["overdue"],
            "on_time_share": on_time_share(entry["aktif"] - entry["overdue"], entry["aktif"]),
            "visits": entry["visits"], "far": entry["far"], "no_location": entry["no_location"],
            "graduations": entry["graduations"]})
    active = statuses.get(GroupStatus.ACTIVE, 0)
    overdue = sum(entry["overdue"] for entry in lines.values())
    return {
        "period": {"start": _iso(period.start), "end": _iso(period.end)},
        "groups": {"total": sum(statuses.values()), **statuses},
        "stages": stages,
        "on_time_share": on_time_share(active - overdue, active),
        "overdue": overdue,
        "graduations": sum(entry["graduations"] for entry in lines.values()),
        "visits": {"total": sum(c.visits for c in checks.values()),
                   "far": sum(c.far for c in checks.values()),
                   "no_location": sum(c.no_location for c in checks.values())},
        "districts": districts,
    }


# --- the table of groups ----------------------------------------------------------------------

@dataclass(frozen=True)
class GroupFilters:
    """The table's filters (exact codes and ids) and its order; see :meth:`parse`."""

    district: str | None = None
    village: str | None = None
    mentor: int | None = None
    stage: str | None = None
    status: str | None = None
    visit: str | None = None
    sort: str = "days_overdue"
    order: str | None = None  # None: most overdue first, else A to Z / oldest first

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> GroupFilters:
        """The filters of a query string (empty values are no filter); ValueError for a value
        that is none of the allowed ones."""
        given = {name: value.strip() for name, value in query.items()
                 if name in {f.name for f in fields(cls)} and value.strip()}
        rules = {"district": _DISTRICT_CODE.fullmatch, "village": _VILLAGE_CODE.fullmatch,
                 "mentor": _ID.fullmatch, "stage": {s.value for s in Stage}.__contains__,
                 "status": {s.value for s in GroupStatus}.__contains__,
                 "visit": set(VISIT_STATES).__contains__, "sort": set(SORTS).__contains__,
                 "order": {"asc", "desc"}.__contains__}
        for name, value in given.items():
            if not rules[name](value):
                raise ValueError(name)
        if "mentor" in given:
            return cls(**{**given, "mentor": int(given["mentor"])})
        return cls(**given)

    @property
    def descending(self) -> bool:
        return self.order == "desc" if self.order else self.sort == "days_overdue"


def _sort_key(sort: str, row: dict[str, Any]) -> Any:
    if sort in ("name",):
        return row["name"].casefold()
    if sort in ("village", "mentor"):
        return row[sort]["name"].casefold()
    if sort == "stage":
        return STAGE_ORDER.get(row["stage"], len(STAGE_ORDER))
    if sort == "status":
        return STATUS_ORDER.get(row["status"], len(STATUS_ORDER))
    return row[sort]  # dates as ISO text, days as int; None sorts last either way


def sort_groups(rows: list[dict[str, Any]], filters: GroupFilters) -> list[dict[str, Any]]:
    """The rows in the asked order, groups without the value (no visit yet) last whichever
    way, ties by name."""
    rows = sorted(rows, key=lambda row: (row["name"].casefold(), row["id"]))
    known = [row for row in rows if _sort_key(filters.sort, row) is not None]
    unknown = [row for row in rows if _sort_key(filters.sort, row) is None]
    known.sort(key=lambda row: _sort_key(filters.sort, row), reverse=filters.descending)
    return known + unknown


async def groups(*, session: AsyncSession, actor: Mentor, now: datetime, far_km: float,
                 filters: GroupFilters) -> dict[str, Any]:
    """The area's groups (API.md /api/groups) that pass ``filters``, in their order, each with
    its place and visit checks (all its visits), and the choices of the filters (over the
    whole area). Four statements whatever the number of groups. Raises reports.NotAllowed."""
    area, scope = _scope(actor)
    where = [scope]
    if filters.district:
        where.append(in_area_clause(Group.village_code, filters.district))
    if filters.village:
        where.append(Group.village_code == filters.village)
    if filters.mentor is not None:
        where.append(Group.mentor_id == filters.mentor)
    if filters.stage:
        where.append(Group.stage == filters.stage)
    if filters.status:
        where.append(Group.status == filters.status)

    choices = (await session.execute(
        select(Group.village_code, Area.name, Group.mentor_id, Mentor.name)
        .join(Area, Area.code == Group.village_code).join(Mentor, Mentor.id == Group.mentor_id)
        .where(scope).group_by(Group.village_code, Area.name, Group.mentor_id, Mentor.name)
    )).all()
    villages = {code: short_name(code, name) for code, name, _, _ in choices}
    mentors = {mentor_id: name for _, _, mentor_id, name in choices}
    districts = await _district_names(session=session, area=area)

    members, last = group_queries.members_and_last_visit(and_(*where))
    rows = await session.execute(
        select(Group.id, Group.name, Group.village_code, Group.mentor_id, Group.stage,
               Group.status, Group.next_visit_due, Group.place_latitude,
               Group.place_longitude, Group.place_source,
               func.coalesce(members.c.n, 0), last.c.last)
        .outerjoin(members, members.c.group_id == Group.id)
        .outerjoin(last, last.c.group_id == Group.id)
        .where(*where))
    checks = {group_id: (int(far), int(none)) for group_id, far, none in await session.execute(
        select(Visit.group_id, count_if(far_clause(far_km)), count_if(unlocated_clause()))
        .join(Group, Group.id == Visit.group_id).where(*where).group_by(Visit.group_id))}
    dates = local_dates(now)
    found = []
    for (group_id, name, village, mentor_id, stage, status, next_due, latitude, longitude,
         source, n_members, last_visit) in rows:
        state, late = visit_state(status, next_due, _today_of(village, dates))
        if filters.visit and state != filters.visit:
            continue
        place = _point(latitude, longitude)
        far, unlocated = checks.get(group_id, (0, 0))
        found.append({
            "id": group_id, "name": name, "village": _area(village, villages),
            "district": _area(village[:8], districts),
            "mentor": {"id": mentor_id, "name": mentors.get(mentor_id, "")},
            "stage": stage, "status": status, "members": int(n_members),
            "last_visit": _iso(last_visit), "next_due": _iso(next_due), "days_overdue": late,
            "visit": state, "place": place_json(place, source), "far_visits": far,
            "no_location_visits": unlocated})
    district_codes = sorted({code[:8] for code in villages})
    return {
        "groups": sort_groups(found, filters),
        "filters": {
            "districts": [_area(code, districts) for code in district_codes],
            "villages": [{"code": code, "name": villages[code], "district": code[:8]}
                         for code in sorted(villages)],
            "mentors": [{"id": mentor_id, "name": name} for mentor_id, name in
                        sorted(mentors.items(), key=lambda item: (item[1].casefold(),
                                                                   item[0]))],
        },
    }


# --- mentors ----------------------------------------------------------------------------------

async def mentors(*, session: AsyncSession, actor: Mentor, now: datetime) -> dict[str, Any]:
    """The mentors of the area's aktif groups with their traffic lights, the worst first, as
    /rekap lists them (API.md /api/mentors). Raises reports.NotAllowed."""
    area, scope = _scope(actor)
    lines = await mentor_lines(session=session, area_code=area, now=now)
    rows = await session.execute(
        select(Group.mentor_id, Mentor.affiliation, func.max(Visit.visited_on))
        .join(Mentor, Mentor.id == Group.mentor_id)
        .outerjoin(Visit, Visit.group_id == Group.id)
        .where(scope, active_clause()).group_by(Group.mentor_id, Mentor.affiliation))
    extra = {mentor_id: (affiliation, last) for mentor_id, affiliation, last in rows}
    return {"mentors": [{
        "id": line.mentor_id, "name": line.name,
        "affiliation": extra.get(line.mentor_id, (None, None))[0], "groups": line.groups,
        "overdue": line.overdue, "on_time_share": line.share, "light": line.light,
        "last_visit": _iso(extra.get(line.mentor_id, (None, None))[1])} for line in lines]}


# --- a group's page ---------------------------------------------------------------------------

def _register(member: Member) -> str | None:
    """DTKS/DTSEN as the page shows it: "desil 2" when registered with a decile, else the
    status code ("ya", "tidak", "tidak_tahu") or None."""
    if member.register_status == "ya" and member.register_decile:
        return f"desil {member.register_decile}"
    return member.register_status


def household_json(member: Member) -> dict[str, Any]:
    """One household, NIK and phone masked as in chat (handlers.member_texts)."""
    return {"id": member.id, "name": member.name, "role": member.role,
            "category": member.welfare_category, "sex": member.head_sex,
            "dtks": _register(member),
            "nik": mask_nik(member.nik) if member.nik else None,
            "phone": mask_phone(member.phone) if member.phone else None,
            "active": member.left_on is None, "left_on": _iso(member.left_on),
            "left_reason": member.leave_reason}


async def group_page(*, session: AsyncSession, actor: Mentor, group_id: int, now: datetime,
                     far_km: float) -> dict[str, Any] | None:
    """A group's whole story (API.md /api/groups/<id>), or None when ``actor`` may not see it
    (or it does not exist). Writes and commits one audit row: the actor saw its households."""
    group = await group_queries.get_visible(session=session, group_id=group_id, actor=actor)
    if group is None:
        return None
    today = _today_of(group.village_code, local_dates(now))
    district = group.village_code[:8]
    names = await _names(session=session, codes=(group.village_code, district))
    mentor_name = (await session.execute(
        select(Mentor.name).where(Mentor.id == group.mentor_id))).scalar_one()
    members = await group_queries.all_members(session=session, group_id=group.id)
    history = [change for change in await changes.for_group(session=session, group_id=group.id)
               if change.kind in (ChangeKind.STATUS, ChangeKind.STAGE)]
    visit_rows = (await session.execute(
        select(Visit, Mentor.name).join(Mentor, Mentor.id == Visit.mentor_id)
        .where(Visit.group_id == group.id)
        .order_by(Visit.visited_on.desc(), Visit.id.desc()))).all()
    grants = await grant_queries.list_for_group(session=session, group_id=group.id)
    progress = await grant_queries.progress_for(session=session, grants=grants, today=today)

    place, source = stored_place(group)
    state, _ = visit_state(group.status, group.next_visit_due, today)
    visits = []
    for visit, by in visit_rows:
        location = _point(visit.latitude, visit.longitude)
        check, km = visit_check(place, location, far_km)
        visits.append({
            "id": visit.id, "on": _iso(visit.visited_on), "mentor": by,
            "attendance": visit.attendance, "activities": list(visit.activities or []),
            "turnover": visit.turnover, "profit": visit.profit, "cash": visit.cash,
            "solidarity_fee": visit.solidarity_fee, "problems": visit.problems,
            "follow_up": visit.follow_up,
            "location": None if location is None else {"lat": location[0], "lon": location[1]},
            "check": check, "distance_km": None if km is None else round(km, 2),
            "photos": [f"api/visits/{visit.id}/photos/{n}"
                       for n in range(len(visit.photo_file_ids or []))],
            "corrected_at": _iso(visit.corrected_at)})
    categories: dict[str, int] = {}
    for member in members:
        if member.left_on is None:
            categories[member.welfare_category] = categories.get(member.welfare_category, 0) + 1
    page = {
        "group": {
            "id": group.id, "name": group.name, "village": _area(group.village_code, names),
            "district": _area(district, names),
            "mentor": {"id": group.mentor_id, "name": mentor_name},
            "business_type": group.business_type, "binding_ties": list(group.binding_ties or []),
            "formed_on": _iso(group.formed_on), "stage": group.stage, "status": group.status,
            "status_on": _iso(group.status_on), "status_reason": group.status_reason,
            "visit_interval_days": group.visit_interval_days,
            "last_visit": visits[0]["on"] if visits else None,
            "next_due": _iso(group.next_visit_due), "visit": state,
            "place": place_json(place, source)},
        "households": [household_json(member) for member in members],
        "categories": categories,
        "history": [{"on": _iso(change.changed_on), "kind": change.kind, "old": change.old,
                     "new": change.new, "note": change.note} for change in history],
        "visits": visits,
        "figures": [{"on": row["on"], "turnover": row["turnover"], "profit": row["profit"],
                     "cash": row["cash"]} for row in reversed(visits)
                    if any(row[name] is not None for name in ("turnover", "profit", "cash"))],
        "grants": [_grant_json(grant, progress[grant.id]) for grant in grants],
    }
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.DASHBOARD_VIEW, entity="group", entity_id=group.id,
                 new={"households": len(members)})
    await session.commit()
    return page


def _grant_json(grant: Any, progress: grant_queries.Progress) -> dict[str, Any]:
    return {
        "id": grant.id, "kind": grant.kind, "form": grant.form, "amount": grant.amount,
        "received_on": _iso(grant.received_on), "lpj_due": _iso(grant.lpj_due),
        "lpj_on": _iso(grant.lpj_submitted_on),
        "rollover": {
            "required": progress.required, "money_done": progress.amount_done,
            "money_total": grant.rollover_amount,
            "households_done": progress.households_done + progress.groups_done,
            "households_total": grant.rollover_households, "status": str(progress.status),
            "due": _iso(grant.rollover_due)}}


# --- a visit's photo --------------------------------------------------------------------------

async def photo_file_id(*, session: AsyncSession, actor: Mentor, visit_id: int, n: int
                        ) -> str | None:
    """The Telegram file id of the visit's ``n``-th photo (from 0), if ``actor`` may see the
    visit's group (as in chat) and it has that many photos; else None."""
    if n < 0:
        return None
    found = (await session.execute(
        select(Visit.photo_file_ids).join(Group, Group.id == Visit.group_id)
        .where(Visit.id == visit_id, group_queries.visible_groups_clause(actor)))).first()
    photos = list(found[0] or []) if found is not None else []
    return photos[n] if n < len(photos) else None

