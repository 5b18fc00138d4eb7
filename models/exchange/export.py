"""An area's data as a workbook: the period's figures per kecamatan (Ringkasan), then one
sheet each of groups, households, visits, trainings, the groups' history, grants, roll-overs
and mentors, streamed from the database into a write-only workbook so that a large area does
not sit in memory as cell objects.

Dated rows (visits, trainings, history, roll-overs) are those of the period; groups,
households, grants and mentors are as they are now. Every sheet prints landscape, fit to
the page's width, with its header on every page and filter buttons on it.

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
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuditAction, GroupStatus, RecipientKind, Role, Stage
from bot.core.parsing import mask_nik, mask_numbers, mask_phone
from bot.core.periods import Period
from bot.core.places import timezone_for
from bot.core.texts import ID as ID_TEXTS
from bot.core.texts import label
from models import audit
from models.exchange.columns import (
    CHANGE_COLUMNS,
    GRANT_COLUMNS,
    GROUP_COLUMNS,
    MEMBER_COLUMNS,
    MENTOR_COLUMNS,
    ROLLOVER_COLUMNS,
    SUMMARY_COLUMNS,
    TRAINING_COLUMNS,
    VISIT_COLUMNS,
)
from models.exchange.values import local_today
from models.exchange.workbook import (
    BOLD,
    CHANGE_SHEET,
    CONSENT_YES,
    GRANT_SHEET,
    GROUP_SHEET,
    MEMBER_SHEET,
    MENTOR_SHEET,
    ROLLOVER_SHEET,
    SUMMARY_SHEET,
    TRAINING_SHEET,
    VISIT_SHEET,
    Col,
    SheetWriter,
    header_cell,
    print_setup,
    typed_cells,
)
from models.grants import Progress
from models.reports import (
    DEFAULT_FAR_KM,
    DistrictFigures,
    complete_clause,
    groups_in,
    in_area_clause,
    local_dates,
    member_stats,
    overdue_clause,
    period_figures,
)
from models.tables import Grant, Group, GroupChange, Member, Mentor, Rollover, Training, Visit

if TYPE_CHECKING:
    from bot.core.places import PlaceIndex


def _label(vocabulary: str, value: str | None) -> str | None:
    return label("id", vocabulary, value) if value else None


def _word(vocabulary: str, value: str | None) -> str | None:
    """The bot's Indonesian word for a value when it has one ("tidak_aktif" → its label),
    else the value with spaces ("tidak aktif")."""
    if value is None or value == "":
        return None
    key = f"{vocabulary}.{value}"
    return ID_TEXTS[key] if key in ID_TEXTS else str(value).replace("_", " ")


def mask_account(number: str | None) -> str | None:
    """A bank account number with only its last four digits shown."""
    if not number:
        return None
    return "*" * max(len(number) - 4, 0) + number[-4:]


# Status words of the export (a file format: Indonesian for every reader).
_STATUS_WORDS = {GroupStatus.ACTIVE.value: "aktif", GroupStatus.INACTIVE.value: "tidak aktif",
                 GroupStatus.DISSOLVED.value: "bubar"}
# The household's fields as the template asks them (the import reads them back).
_SEX_WORDS = {"l": "L", "p": "P"}
_REGISTER_WORDS = {"ya": "ya", "tidak": "tidak", "tidak_tahu": "tidak tahu"}
_CHANGE_WORDS = {"status": "status", "stage": "tahap", "profile": "profil",
                 "welfare": "kategori KK"}
_FIELD_WORDS = {"status": "status", "stage": "tahap", "name": "nama",
                "business_type": "jenis usaha", "binding_ties": "ikatan pemersatu",
                "village_code": "desa", "bank_name": "bank", "bank_holder": "pemilik rekening",
                "bank_account": "no. rekening", "decree_year": "tahun SK",
                "decree_number": "nomor SK", "welfare_category": "kategori KK"}
# The vocabulary of a changed field's old and new values.
_FIELD_VOCABULARY = {"stage": "stage", "business_type": "business",
                     "welfare_category": "welfare"}


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
    period: Period | None = None  # None: every dated row

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

    def dated(self, column: Any) -> Any:
        """``column`` (a date) lies in the export's period (always true without one)."""
        if self.period is None:
            return True
        return and_(column >= self.period.start, column <= self.period.end)

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
            _STATUS_WORDS.get(group.status, group.status), group.status_on,
            _word("status_reason", group.status_reason), group.bank_name, group.bank_holder,
            mask_account(group.bank_account), group.decree_year, group.decree_number,
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
            _SEX_WORDS.get(member.head_sex or ""),
            _REGISTER_WORDS.get(member.register_status or ""),
            member.register_decile, _word("leave_reason", member.leave_reason),
        ]


async def _visit_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    query = (
        select(Visit, Group.name, Group.village_code, Mentor.name)
        .join(Group, Group.id == Visit.group_id).join(Mentor, Mentor.id == Visit.mentor_id)
        .where(ex.scope, ex.dated(Visit.visited_on)).order_by(Visit.visited_on, Visit.id))
    async for visit, group_name, village, mentor_name in ex.stream(query):
        yield [
            visit.id, *ex.group_of_row(visit.group_id, group_name, village), visit.visited_on,
            mentor_name, visit.attendance, _labels("activity", visit.activities),
            visit.turnover, visit.profit, visit.cash, visit.solidarity_fee,
            ex.note(visit.problems), ex.note(visit.follow_up), visit.next_visit_on,
            visit.latitude, visit.longitude, visit.figures_from, visit.livestock_count,
            visit.equipment_value, visit.stock_value,
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
            "ya" if grant.rollover_required else "tidak", grant.lpj_due,
            "sudah" if grant.lpj_submitted_on else "belum", grant.lpj_submitted_on,
        ]


async def _rollover_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    query = (
        select(Rollover, Grant.group_id, Group.name, Group.village_code)
        .join(Grant, Grant.id == Rollover.grant_id).join(Group, Group.id == Grant.group_id)
        .where(ex.scope, ex.dated(Rollover.rolled_on)).order_by(Rollover.rolled_on, Rollover.id))
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


async def _training_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    # With the names of the households that attended (one query per chunk of trainings).
    query = (
        select(Training, Group.name, Group.village_code)
        .join(Group, Group.id == Training.group_id)
        .where(ex.scope, ex.dated(Training.held_on)).order_by(Training.held_on, Training.id))
    chunk: list[tuple[Training, str, str]] = []
    async for training, group_name, village in ex.stream(query):
        chunk.append((training, group_name, village))
        if len(chunk) >= 500:
            for row in await _training_chunk(ex, chunk):
                yield row
            chunk = []
    for row in await _training_chunk(ex, chunk):
        yield row


async def _training_chunk(ex: _Export, chunk: list[tuple[Training, str, str]]
                          ) -> list[list[Any]]:
    ids = {member_id for training, _, _ in chunk for member_id in training.attendee_ids or []}
    names: dict[int, str] = {}
    if ids:
        result = await ex.session.execute(select(Member.id, Member.name)
                                          .where(Member.id.in_(sorted(ids))))
        names = dict(result.all())
    return [[
        training.id, *ex.group_of_row(training.group_id, group_name, village),
        training.held_on, ex.note(training.topic), ex.note(training.provider),
        len(training.attendee_ids or []),
        ", ".join(names.get(member_id, f"#{member_id}") for member_id in training.attendee_ids
                  or []),
    ] for training, group_name, village in chunk]


def _changed_value(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    if field == "status":
        return _STATUS_WORDS.get(value, value)
    vocabulary = _FIELD_VOCABULARY.get(field)
    return _word(vocabulary, value) if vocabulary else value


async def _change_rows(ex: _Export) -> AsyncIterator[list[Any]]:
    query = (
        select(GroupChange, Group.name, Group.village_code, Mentor.name)
        .join(Group, Group.id == GroupChange.group_id)
        .outerjoin(Mentor, Mentor.id == GroupChange.by_mentor_id)
        .where(ex.scope, ex.dated(GroupChange.changed_on))
        .order_by(GroupChange.changed_on, GroupChange.id))
    async for change, group_name, village, by in ex.stream(query):
        vocabulary = "status_reason" if change.field == "status" else "leave_reason"
        yield [
            change.changed_on, *ex.group_of_row(change.group_id, group_name, village),
            _CHANGE_WORDS.get(change.kind, change.kind),
            _FIELD_WORDS.get(change.field, change.field),
            _changed_value(change.field, change.old), _changed_value(change.field, change.new),
            _word(vocabulary, change.reason), ex.note(change.note), by or "sistem",
        ]


_SHEETS: Sequence[tuple[str, list[Col], Callable[[_Export], AsyncIterator[list[Any]]]]] = (
    (GROUP_SHEET, GROUP_COLUMNS, _group_rows),
    (MEMBER_SHEET, MEMBER_COLUMNS, _member_rows),
    (VISIT_SHEET, VISIT_COLUMNS, _visit_rows),
    (TRAINING_SHEET, TRAINING_COLUMNS, _training_rows),
    (CHANGE_SHEET, CHANGE_COLUMNS, _change_rows),
    (GRANT_SHEET, GRANT_COLUMNS, _grant_rows),
    (ROLLOVER_SHEET, ROLLOVER_COLUMNS, _rollover_rows),
    (MENTOR_SHEET, MENTOR_COLUMNS, _mentor_rows),
)


def _summary_values(line: DistrictFigures, code: str, name: str | None) -> list[Any]:
    return [
        code, name, line.groups, *(line.status.get(status.value, 0) for status in GroupStatus),
        *(line.stages.get(stage.value, 0) for stage in Stage), line.stage_up,
        line.households, line.graduated, line.trainings, line.trained, line.visits,
        line.no_location_visits, line.far_visits, line.turnover, line.profit, line.solidarity, line.without_lpj,
    ]


async def _write_summary(workbook: Workbook, ex: _Export, period: Period, title: str,
                         far_km: float) -> int:
    """The Ringkasan sheet: a title (area, period, date), then the period's figures per
    kecamatan with a total row: a table an office pastes into its report, on one page."""
    today = local_dates(ex.now)["WIB"]
    figures = await period_figures(session=ex.session, area_code=ex.area_code, period=period,
                                   today=today, far_km=far_km)
    ws = workbook.create_sheet(SUMMARY_SHEET)
    header_row = 4
    print_setup(ws, header_row=header_row, one_page=True)
    rows = [_summary_values(line, line.code, ex.names.name(line.code))
            for line in figures.districts]
    widths = [max(max(len(word) for word in col.header.split()) + 3,
                  max((len(str(row[at])) for row in rows if row[at] is not None), default=0)
                  + 2 if col.kind == "text" else 0,
                  16 if col.kind == "money" else 0)
              for at, col in enumerate(SUMMARY_COLUMNS)]
    for at, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(at)].width = min(width, 40)
    heading = WriteOnlyCell(ws, value=title)
    heading.font = Font(bold=True, size=13)
    ws.append([heading])
    far = f"{far_km:g}".replace(".", ",")
    note = WriteOnlyCell(ws, value=f"Periode {period.label('id')} ({period.start:%d/%m/%Y}–"
                                   f"{period.end:%d/%m/%Y}). Status, tahap dan KK aktif: per "
                                   f"akhir periode (KK aktif: kini); angka usaha: jumlah dari "
                                   f"kunjungan dalam periode. Kunjungan jauh: dicatat lebih "
                                   f"dari {far} km dari tempat kelompok (lokasi yang disimpan, "
                                   f"atau titik tengah lokasi kunjungannya).")
    ws.append([note])
    ws.append([])
    ws.append([header_cell(ws, col.header) for col in SUMMARY_COLUMNS])
    for values in rows:
        ws.append(typed_cells(ws, SUMMARY_COLUMNS, values))
    total = typed_cells(ws, SUMMARY_COLUMNS, _summary_values(figures.total, "", "Jumlah"))
    ws.append([_bold(ws, value) for value in total])
    last = get_column_letter(len(SUMMARY_COLUMNS))
    ws.auto_filter.ref = f"A{header_row}:{last}{header_row + len(rows)}"
    ws.print_area = f"A1:{last}{header_row + len(rows) + 1}"
    return len(rows)


def _bold(ws: Any, value: Any) -> Any:
    cell = value if isinstance(value, Cell) else WriteOnlyCell(ws, value=value)
    cell.font = BOLD
    return cell


async def export_workbook(*, session: AsyncSession, area_code: str | None, places: PlaceIndex,
                          masked: bool, now: datetime, min_size: int, max_size: int,
                          period: Period | None = None, area_label: str | None = None,
                          far_km: float = DEFAULT_FAR_KM) -> tuple[bytes, dict[str, int]]:
    """The area's period figures, groups, households, visits, trainings, history, grants,
    roll-overs and mentors as an .xlsx.

    Returns (file content, rows per sheet). ``masked`` hides NIKs and phone numbers (everyone
    but admins; bank account numbers are always masked). ``area_code`` None is the whole
    country. ``period`` limits the dated rows (visits, trainings, history, roll-overs) and
    is the Ringkasan sheet's; without one every dated row is written and there is no
    Ringkasan. ``area_label`` names the area in Ringkasan's title; ``far_km`` is how far from
    its group's place a visit counts as far there (models.reports.visit_lines).
    """
    workbook = Workbook(write_only=True)
    ex = _Export(session, area_code, _Places(places), masked, now, min_size, max_size, period)
    counts: dict[str, int] = {}
    if period is not None:
        place = places.get(area_code) if area_code else None
        area_name = area_label or (place.label if place else area_code) or "Seluruh Indonesia"
        title = f"Rekap KUBE {area_name}, {period.label('id')}"
        counts[SUMMARY_SHEET] = await _write_summary(workbook, ex, period, title, far_km)
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
                  via: str = "bot", period: str | None = None) -> None:
    """The audit row of an export (who took which area's data, of which period, masked or
    not); the caller commits."""
    audit.record(session=session, actor_telegram_id=actor_telegram_id,
                 action=AuditAction.CREATE, entity="export", entity_id=None,
                 new={"area": area_code, "masked": masked, "rows": counts, "via": via,
                      "period": period})


def export_file_name(area_code: str | None, today: date, period: Period | None = None) -> str:
    """"rekap-32.02-2027-Q1.xlsx" (with a period), "rekap-32.02-2026-11-25.xlsx" (without)."""
    when = period.code.replace("..", "_") if period else today.isoformat()
    return f"rekap-{area_code or 'indonesia'}-{when}.xlsx"
