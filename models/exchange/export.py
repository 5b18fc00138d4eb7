"""An area's data as a workbook: one sheet each of groups, households, visits, grants,
roll-overs and mentors, streamed from the database into a write-only workbook so that a
large area does not sit in memory as cell objects.

Values of the programme's vocabularies are written with the bot's Indonesian labels
("Ternak", not "ternak"), the same in every user's export: the import reads them back.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuditAction, RecipientKind, Role
from bot.core.parsing import mask_nik, mask_numbers, mask_phone
from bot.core.places import timezone_for
from bot.core.texts import label
from models import audit
from models.exchange.columns import (
    GRANT_COLUMNS,
    GROUP_COLUMNS,
    MEMBER_COLUMNS,
    MENTOR_COLUMNS,
    ROLLOVER_COLUMNS,
    VISIT_COLUMNS,
)
from models.exchange.values import local_today
from models.exchange.workbook import (
    CONSENT_YES,
    GRANT_SHEET,
    GROUP_SHEET,
    MEMBER_SHEET,
    MENTOR_SHEET,
    ROLLOVER_SHEET,
    VISIT_SHEET,
    Col,
    SheetWriter,
)
from models.grants import Progress
from models.reports import (
    complete_clause,
    groups_in,
    in_area_clause,
    local_dates,
    member_stats,
    overdue_clause,
)
from models.tables import Grant, Group, Member, Mentor, Rollover, Visit

if TYPE_CHECKING:
    from bot.core.places import PlaceIndex


def _label(vocabulary: str, value: str | None) -> str | None:
    return label("id", vocabulary, value) if value else None


def _labels(vocabulary: str, values: list[str] | None) -> str:
    return ", ".join(_label(vocabulary, value) or value for value in values or [])


class _Places:
    """Names of a village and its parents, cached per village."""

    def __init__(self, places: PlaceIndex) -> None:
        self.places = places
        self._cache: dict[str, list[Any]] = {}

    def name(self, code: str | None) -> str | None:
        place = self.places.get(code) if code else None
        return place.name if place else None

    def columns(self, village: str) -> list[Any]:
        found = self._cache.get(village)
        if found is None:
            parts = village.split(".")
            found = []
            for depth in range(1, 5):
                code = ".".join(parts[:depth]) if len(parts) >= depth else None
                found += [code, self.name(code)]
            self._cache[village] = found
        return found


def _local_date(moment: datetime | None, village: str) -> date | None:
    if moment is None:
        return None
    try:
        zone = ZoneInfo(timezone_for(village))
    except ValueError:
        zone = ZoneInfo("Asia/Jakarta")
    return moment.astimezone(zone).date()


@dataclass
class _Export:
    """One export's scope and settings, shared by its sheets."""

    session: AsyncSession
    area_code: str | None
    names: _Places
    masked: bool
    now: datetime
    min_size: int
    max_size: int

    def __post_init__(self) -> None:
        self.dates = local_dates(self.now)
        self.scope = groups_in(self.area_code)

    def nik(self, value: str | None) -> str | None:
        return (mask_nik(value) if self.masked else value) if value else None

    def phone(self, value: str | None) -> str | None:
        return (mask_phone(value) if self.masked else value) if value else None

    def note(self, value: str | None) -> str | None:
        # Notes are stored masked (models.tables); older rows may still quote a number.
        return mask_numbers(value) if self.masked and value else value

    def group_of_row(self, group_id: int, group_name: str, village: str) -> list[Any]:
        return [group_id, group_name, village, self.names.name(village)]

    async def stream(self, query: Any) -> AsyncIterator[Any]:
        result = await self.session.stream(query.execution_options(yield_per=1000))
        async for row in result:
            yield row


async def _group_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    stats = member_stats(ex.area_code)
    query = (
        select(Group, Mentor.name, Mentor.telegram_id, func.coalesce(stats.c.n, 0),
               complete_clause(stats, ex.min_size, ex.max_size))
        .join(Mentor, Mentor.id == Group.mentor_id)
        .outerjoin(stats, stats.c.group_id == Group.id)
        .where(ex.scope).order_by(Group.village_code, Group.name, Group.id))
    async for group, mentor_name, mentor_tid, members, complete in ex.stream(query):
        due = group.next_visit_due
        late = max(0, (local_today(ex.dates, group.village_code) - due).days) if due else None
        yield [
            group.id, group.name, *ex.names.columns(group.village_code),
            _label("business", group.business_type), _labels("tie", group.binding_ties),
            group.formed_on, _label("stage", group.stage), group.visit_interval_days, due, late,
            mentor_name, mentor_tid, int(members), "ya" if complete else "tidak",
        ]


async def _member_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    # Every household that was ever in a group (Tanggal keluar says who left).
    query = (
        select(Member, Group.name, Group.village_code).join(Group, Group.id == Member.group_id)
        .where(ex.scope)
        .order_by(Group.village_code, Group.name, Member.group_id, Member.left_on.is_not(None),
                  Member.id))
    async for member, group_name, village in ex.stream(query):
        yield [
            member.id, *ex.group_of_row(member.group_id, group_name, village), member.name,
            _label("welfare", member.welfare_category), _label("role", member.role),
            ex.nik(member.nik), ex.phone(member.phone),
            CONSENT_YES if member.consent_at else None,
            _local_date(member.consent_at, village), member.joined_on, member.left_on,
        ]


async def _visit_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    query = (
        select(Visit, Group.name, Group.village_code, Mentor.name)
        .join(Group, Group.id == Visit.group_id).join(Mentor, Mentor.id == Visit.mentor_id)
        .where(ex.scope).order_by(Visit.visited_on, Visit.id))
    async for visit, group_name, village, mentor_name in ex.stream(query):
        yield [
            visit.id, *ex.group_of_row(visit.group_id, group_name, village), visit.visited_on,
            mentor_name, visit.attendance, _labels("activity", visit.activities),
            visit.turnover, visit.profit, visit.cash, visit.solidarity_fee,
            ex.note(visit.problems), ex.note(visit.follow_up), visit.next_visit_on,
            visit.latitude, visit.longitude,
        ]


def _rollover_sums() -> Any:
    """Per grant: how much is rolled over, and to how many households and groups."""
    return (
        select(Rollover.grant_id.label("grant_id"),
               func.coalesce(func.sum(Rollover.amount), 0).label("amount"),
               func.coalesce(func.sum(Rollover.units), 0).label("units"),
               func.count().filter(Rollover.recipient_kind == RecipientKind.HOUSEHOLD.value)
               .label("households"),
               func.count().filter(Rollover.recipient_kind == RecipientKind.GROUP.value)
               .label("groups"),
               func.count().label("n"))
        .group_by(Rollover.grant_id).subquery())


async def _grant_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    # With how much is rolled over and the roll-over status (models.grants.Progress).
    sums = _rollover_sums()
    query = (
        select(Grant, Group.name, Group.village_code, func.coalesce(sums.c.amount, 0),
               func.coalesce(sums.c.units, 0), func.coalesce(sums.c.households, 0),
               func.coalesce(sums.c.groups, 0), func.coalesce(sums.c.n, 0))
        .join(Group, Group.id == Grant.group_id).outerjoin(sums, sums.c.grant_id == Grant.id)
        .where(ex.scope).order_by(Grant.received_on, Grant.id))
    async for grant, group_name, village, amount, units, households, groups, n in ex.stream(
            query):
        state = Progress(grant, int(amount), int(units), int(households), int(groups), int(n),
                         local_today(ex.dates, village))
        yield [
            grant.id, *ex.group_of_row(grant.group_id, group_name, village),
            _label("grantkind", grant.kind), _label("fund", grant.funding_source),
            _label("grantform", grant.form), grant.amount, ex.note(grant.goods_description),
            grant.received_on, grant.rollover_amount, grant.rollover_units,
            grant.rollover_unit_label, grant.rollover_households, grant.rollover_due,
            int(amount), int(units), int(households) + int(groups), str(state.status),
        ]


async def _rollover_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    query = (
        select(Rollover, Grant.group_id, Group.name, Group.village_code)
        .join(Grant, Grant.id == Rollover.grant_id).join(Group, Group.id == Grant.group_id)
        .where(ex.scope).order_by(Rollover.rolled_on, Rollover.id))
    async for rollover, group_id, group_name, village in ex.stream(query):
        yield [
            rollover.id, rollover.grant_id, *ex.group_of_row(group_id, group_name, village),
            rollover.rolled_on, _label("recipient", rollover.recipient_kind),
            rollover.recipient_name, rollover.recipient_village_code,
            ex.names.name(rollover.recipient_village_code), rollover.amount, rollover.units,
            ex.note(rollover.note),
        ]


async def _mentor_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    # The area's mentors, and whoever mentors a group of the area.
    per_mentor = (
        select(Group.mentor_id.label("mentor_id"), func.count().label("n"),
               func.coalesce(func.sum(case((overdue_clause(ex.now), 1), else_=0)), 0)
               .label("late"))
        .where(ex.scope).group_by(Group.mentor_id).subquery())
    query = (
        select(Mentor, func.coalesce(per_mentor.c.n, 0), func.coalesce(per_mentor.c.late, 0))
        .outerjoin(per_mentor, per_mentor.c.mentor_id == Mentor.id)
        .where((per_mentor.c.n.is_not(None))
               | ((Mentor.role == Role.MENTOR.value)
                  & in_area_clause(Mentor.area_code, ex.area_code)))
        .order_by(Mentor.name, Mentor.id))
    async for mentor, n, late in ex.stream(query):
        n, late = int(n), int(late)
        yield [
            mentor.id, mentor.name, mentor.telegram_id, ex.phone(mentor.phone),
            _label("affiliation", mentor.affiliation), _label("audit.role", mentor.role),
            _label("status", mentor.status), mentor.area_code, ex.names.name(mentor.area_code),
            n, late, (n - late) / n if n else None,
        ]


_SHEETS: Sequence[tuple[str, list[Col], Callable[[_Export], AsyncIterator[list[Any]]]]] = (
    (GROUP_SHEET, GROUP_COLUMNS, _group_rows),
    (MEMBER_SHEET, MEMBER_COLUMNS, _member_rows),
    (VISIT_SHEET, VISIT_COLUMNS, _visit_rows),
    (GRANT_SHEET, GRANT_COLUMNS, _grant_rows),
    (ROLLOVER_SHEET, ROLLOVER_COLUMNS, _rollover_rows),
    (MENTOR_SHEET, MENTOR_COLUMNS, _mentor_rows),
)


async def export_workbook(*, session: AsyncSession, area_code: str | None, places: PlaceIndex,
                          masked: bool, now: datetime, min_size: int, max_size: int
                          ) -> tuple[bytes, dict[str, int]]:
    """The area's groups, households, visits, grants, roll-overs and mentors as an .xlsx.

    Returns (file content, rows per sheet). ``masked`` hides NIKs and phone numbers (everyone
    but admins). ``area_code`` None is the whole country.
    """
    workbook = Workbook(write_only=True)
    ex = _Export(session, area_code, _Places(places), masked, now, min_size, max_size)
    counts: dict[str, int] = {}
    for title, columns, rows in _SHEETS:
        sheet = SheetWriter(workbook, title, columns)
        async for values in rows(ex):
            sheet.add(values)
        sheet.close()
        counts[title] = sheet.rows
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), counts


def record_export(*, session: AsyncSession, actor_telegram_id: int | None,
                  area_code: str | None, masked: bool, counts: dict[str, int],
                  via: str = "bot") -> None:
    """The audit row of an export (who took which area's data, masked or not); the caller
    commits."""
    audit.record(session=session, actor_telegram_id=actor_telegram_id,
                 action=AuditAction.CREATE, entity="export", entity_id=None,
                 new={"area": area_code, "masked": masked, "rows": counts, "via": via})


def export_file_name(area_code: str | None, today: date) -> str:
    return f"rekap-{area_code or 'indonesia'}-{today.isoformat()}.xlsx"
