"""Excel exchange: an area's data as a workbook (export), an empty template, and groups with
their households read back from a filled template (import).

Export streams rows from the database into a write-only workbook, so a large area does not
sit in memory as cell objects. Import is in two steps: :func:`read_workbook` (pure, no
database; callers may run it in a thread) turns the file into rows, and :func:`import_rows`
checks every row against the programme's rules and the actor's area, then writes what passed
in one transaction. An exported workbook can be imported again: the import reads columns by
their headers and ignores the ones it does not know.

Nothing here logs cell values: they contain names, NIKs and phone numbers.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from rapidfuzz import fuzz, process
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import (
    AuditAction,
    BindingTie,
    BusinessType,
    MemberRole,
    MentorStatus,
    RecipientKind,
    Role,
    Stage,
)
from bot.core.parsing import (
    group_problems,
    is_skip,
    mask_nik,
    mask_numbers,
    mask_phone,
    nonexistent_date,
    parse_count,
    parse_date,
    parse_group_name,
    parse_member_fields,
    parse_phone,
    validate_nik,
)
from bot.core.places import timezone_abbr, timezone_for
from bot.core.texts import t
from models import audit, reminders
from models.areas import is_within
from models.grants import Progress
from models.reports import (
    area_for,
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

# --- workbook conventions ------------------------------------------------------------------------

DATE_FORMAT = "DD/MM/YYYY"
RUPIAH_FORMAT = '"Rp" #,##0'
PERCENT_FORMAT = "0%"
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
# Rows looked at to size the columns before the sheet starts streaming.
_WIDTH_SAMPLE = 200
_MIN_WIDTH, _MAX_WIDTH = 6, 50
# A template larger than this is a mistake (or an attack): split it.
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 10 * 1024 * 1024

CONSENT_HEADER = "Setuju NIK/HP dicatat"
CONSENT_YES = "ya"
# A consent cell reads as yes with any of these (a tick, "Y", "setuju", "yes", 1, TRUE...).
_CONSENT_WORDS = frozenset({"ya", "y", "iya", "setuju", "yes", "v", "x", "1", "true", "benar"})

GROUP_SHEET = "Kelompok"
MEMBER_SHEET = "Anggota"
EXPORT_SHEETS = ("Kelompok", "Anggota", "Kunjungan", "Bantuan", "Pengguliran", "Pendamping")


@dataclass(frozen=True)
class Col:
    """One column of an exported sheet: its header and how its values are written."""

    header: str
    kind: str = "text"  # text | int | date | money | float | percent
    width: int | None = None  # fixed width; None sizes it from the values


def _clean_text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


class _SheetWriter:
    """Writes one sheet of a write-only workbook: bold frozen header, typed cells, and column
    widths from the first rows (a write-only sheet must know its widths before any row)."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[Col]) -> None:
        self.ws = workbook.create_sheet(title)
        self.columns = list(columns)
        self.rows = 0
        self._buffer: list[Sequence[Any]] = []
        self._started = False

    def add(self, values: Sequence[Any]) -> None:
        self.rows += 1
        if self._started:
            self.ws.append(self._cells(values))
            return
        self._buffer.append(values)
        if len(self._buffer) >= _WIDTH_SAMPLE:
            self._start()

    def close(self) -> None:
        if not self._started:
            self._start()

    def _start(self) -> None:
        self._started = True
        for index, col in enumerate(self.columns, start=1):
            width = col.width or self._width(index - 1, col)
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A2"
        header = []
        for col in self.columns:
            cell = WriteOnlyCell(self.ws, value=col.header)
            cell.font = _BOLD
            cell.fill = _HEADER_FILL
            header.append(cell)
        self.ws.append(header)
        for values in self._buffer:
            self.ws.append(self._cells(values))
        self._buffer = []

    def _width(self, at: int, col: Col) -> float:
        fixed = {"date": 12, "money": 16, "percent": 9, "float": 11}
        longest = len(col.header)
        if col.kind in fixed:
            longest = max(longest, fixed[col.kind])
        else:
            for values in self._buffer:
                value = values[at]
                if value is not None:
                    longest = max(longest, len(str(value)))
        return max(_MIN_WIDTH, min(_MAX_WIDTH, longest + 2))

    def _cells(self, values: Sequence[Any]) -> list[Any]:
        cells: list[Any] = []
        for col, value in zip(self.columns, values, strict=True):
            if value is None:
                cells.append(None)
            elif col.kind == "date":
                cell = WriteOnlyCell(self.ws, value=value)
                cell.number_format = DATE_FORMAT
                cells.append(cell)
            elif col.kind == "money":
                cell = WriteOnlyCell(self.ws, value=int(value))
                cell.number_format = RUPIAH_FORMAT
                cells.append(cell)
            elif col.kind == "percent":
                cell = WriteOnlyCell(self.ws, value=float(value))
                cell.number_format = PERCENT_FORMAT
                cells.append(cell)
            elif isinstance(value, str):
                text = _clean_text(value)
                if text.startswith("="):
                    # Typed by a user, never a formula.
                    cell = WriteOnlyCell(self.ws, value=text)
                    cell.data_type = "s"
                    cells.append(cell)
                else:
                    cells.append(text)
            else:
                cells.append(value)
        return cells


# --- export ----------------------------------------------------------------------------------

_PLACE_COLUMNS = [
    Col("Kode provinsi", width=8), Col("Provinsi"),
    Col("Kode kab/kota", width=9), Col("Kabupaten/Kota"),
    Col("Kode kecamatan", width=10), Col("Kecamatan"),
    Col("Kode desa", width=15), Col("Desa/Kelurahan"),
]
GROUP_COLUMNS = [
    Col("ID kelompok", "int", 8), Col("Nama kelompok"), *_PLACE_COLUMNS,
    Col("Jenis usaha"), Col("Ikatan pemersatu"), Col("Tanggal terbentuk", "date"),
    Col("Tahap"), Col("Interval kunjungan (hari)", "int", 10),
    Col("Jatuh tempo kunjungan", "date"), Col("Terlambat (hari)", "int", 10),
    Col("Pendamping"), Col("ID Telegram pendamping", "int", 14),
    Col("Anggota aktif (KK)", "int", 10), Col("Lengkap", width=9),
]
MEMBER_COLUMNS = [
    Col("ID anggota", "int", 8), Col("ID kelompok", "int", 8), Col("Nama kelompok"),
    Col("Kode desa", width=15), Col("Desa/Kelurahan"), Col("Nama KK"), Col("Kategori"),
    Col("Peran"), Col("NIK", width=18), Col("No. HP", width=17),
    Col("Setuju NIK/HP dicatat", width=10), Col("Tanggal persetujuan", "date"),
    Col("Tanggal bergabung", "date"), Col("Tanggal keluar", "date"),
]
VISIT_COLUMNS = [
    Col("ID kunjungan", "int", 8), Col("ID kelompok", "int", 8), Col("Nama kelompok"),
    Col("Kode desa", width=15), Col("Desa/Kelurahan"), Col("Tanggal kunjungan", "date"),
    Col("Pendamping"), Col("Hadir (KK)", "int", 9), Col("Kegiatan"),
    Col("Omzet", "money"), Col("Keuntungan", "money"), Col("Kas", "money"), Col("IKS", "money"),
    Col("Masalah"), Col("Tindak lanjut"), Col("Kunjungan berikutnya", "date"),
    Col("Lintang", "float"), Col("Bujur", "float"),
]
GRANT_COLUMNS = [
    Col("ID hibah", "int", 8), Col("ID kelompok", "int", 8), Col("Nama kelompok"),
    Col("Kode desa", width=15), Col("Desa/Kelurahan"), Col("Jenis hibah"), Col("Sumber dana"),
    Col("Bentuk"), Col("Nilai", "money"), Col("Barang"), Col("Tanggal diterima", "date"),
    Col("Wajib gulir (Rp)", "money"), Col("Wajib gulir (unit)", "int", 10), Col("Satuan"),
    Col("Wajib gulir (KK/kelompok)", "int", 12), Col("Jatuh tempo gulir", "date"),
    Col("Sudah digulirkan (Rp)", "money"), Col("Sudah digulirkan (unit)", "int", 12),
    Col("Penerima gulir", "int", 10), Col("Status gulir", width=12),
]
ROLLOVER_COLUMNS = [
    Col("ID pengguliran", "int", 8), Col("ID hibah", "int", 8), Col("ID kelompok", "int", 8),
    Col("Nama kelompok"), Col("Kode desa", width=15), Col("Desa/Kelurahan"),
    Col("Tanggal", "date"), Col("Jenis penerima"), Col("Penerima"),
    Col("Kode desa penerima", width=15), Col("Desa penerima"), Col("Nilai", "money"),
    Col("Unit", "int", 8), Col("Catatan"),
]
MENTOR_COLUMNS = [
    Col("ID", "int", 6), Col("Nama"), Col("ID Telegram", "int", 14), Col("No. HP", width=17),
    Col("Unsur"), Col("Peran"), Col("Status"), Col("Kode wilayah", width=15), Col("Wilayah"),
    Col("Kelompok", "int", 9), Col("Terlambat", "int", 9), Col("Tepat waktu", "percent"),
]


def _label(vocabulary: str, value: str | None) -> str | None:
    return t("id", f"{vocabulary}.{value}") if value else None


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


def _local_today(dates: dict[str, date], village: str) -> date:
    try:
        return dates[timezone_abbr(village)]
    except ValueError:
        return dates["WIB"]


async def export_workbook(*, session: AsyncSession, area_code: str | None, places: PlaceIndex,
                          masked: bool, now: datetime, min_size: int, max_size: int
                          ) -> tuple[bytes, dict[str, int]]:
    """The area's groups, households, visits, grants, roll-overs and mentors as an .xlsx.

    Returns (file content, rows per sheet). ``masked`` hides NIKs and phone numbers (everyone
    but admins). ``area_code`` None is the whole country.
    """
    workbook = Workbook(write_only=True)
    names = _Places(places)
    dates = local_dates(now)
    scope = groups_in(area_code)
    counts: dict[str, int] = {}

    def nik(value: str | None) -> str | None:
        return (mask_nik(value) if masked else value) if value else None

    def phone(value: str | None) -> str | None:
        return (mask_phone(value) if masked else value) if value else None

    def note(value: str | None) -> str | None:
        # Notes are stored masked (models.tables); older rows may still quote a number.
        return mask_numbers(value) if masked and value else value

    async def stream(query: Any):
        result = await session.stream(query.execution_options(yield_per=1000))
        async for row in result:
            yield row

    # Kelompok
    sheet = _SheetWriter(workbook, "Kelompok", GROUP_COLUMNS)
    stats = member_stats(area_code)
    query = (
        select(Group, Mentor.name, Mentor.telegram_id, func.coalesce(stats.c.n, 0),
               complete_clause(stats, min_size, max_size))
        .join(Mentor, Mentor.id == Group.mentor_id)
        .outerjoin(stats, stats.c.group_id == Group.id)
        .where(scope).order_by(Group.village_code, Group.name, Group.id))
    async for group, mentor_name, mentor_tid, members, complete in stream(query):
        due = group.next_visit_due
        late = max(0, (_local_today(dates, group.village_code) - due).days) if due else None
        sheet.add([
            group.id, group.name, *names.columns(group.village_code),
            _label("business", group.business_type),
            ", ".join(_label("tie", tie) or tie for tie in group.binding_ties or []),
            group.formed_on, _label("stage", group.stage), group.visit_interval_days, due, late,
            mentor_name, mentor_tid, int(members), "ya" if complete else "tidak",
        ])
    sheet.close()
    counts["Kelompok"] = sheet.rows

    # Anggota: every household that was ever in a group (Tanggal keluar says who left).
    sheet = _SheetWriter(workbook, "Anggota", MEMBER_COLUMNS)
    query = (
        select(Member, Group.name, Group.village_code).join(Group, Group.id == Member.group_id)
        .where(scope)
        .order_by(Group.village_code, Group.name, Member.group_id, Member.left_on.is_not(None),
                  Member.id))
    async for member, group_name, village in stream(query):
        sheet.add([
            member.id, member.group_id, group_name, village, names.name(village), member.name,
            _label("welfare", member.welfare_category), _label("role", member.role),
            nik(member.nik), phone(member.phone), CONSENT_YES if member.consent_at else None,
            _local_date(member.consent_at, village), member.joined_on, member.left_on,
        ])
    sheet.close()
    counts["Anggota"] = sheet.rows

    # Kunjungan
    sheet = _SheetWriter(workbook, "Kunjungan", VISIT_COLUMNS)
    query = (
        select(Visit, Group.name, Group.village_code, Mentor.name)
        .join(Group, Group.id == Visit.group_id).join(Mentor, Mentor.id == Visit.mentor_id)
        .where(scope).order_by(Visit.visited_on, Visit.id))
    async for visit, group_name, village, mentor_name in stream(query):
        sheet.add([
            visit.id, visit.group_id, group_name, village, names.name(village), visit.visited_on,
            mentor_name, visit.attendance,
            ", ".join(_label("activity", a) or a for a in visit.activities or []),
            visit.turnover, visit.profit, visit.cash, visit.solidarity_fee, note(visit.problems),
            note(visit.follow_up), visit.next_visit_on, visit.latitude, visit.longitude,
        ])
    sheet.close()
    counts["Kunjungan"] = sheet.rows

    # Bantuan, with how much is rolled over and the roll-over status (models.grants.Progress).
    sheet = _SheetWriter(workbook, "Bantuan", GRANT_COLUMNS)
    sums = (
        select(Rollover.grant_id.label("grant_id"),
               func.coalesce(func.sum(Rollover.amount), 0).label("amount"),
               func.coalesce(func.sum(Rollover.units), 0).label("units"),
               func.count().filter(Rollover.recipient_kind == RecipientKind.HOUSEHOLD.value)
               .label("households"),
               func.count().filter(Rollover.recipient_kind == RecipientKind.GROUP.value)
               .label("groups"),
               func.count().label("n"))
        .group_by(Rollover.grant_id).subquery())
    query = (
        select(Grant, Group.name, Group.village_code, func.coalesce(sums.c.amount, 0),
               func.coalesce(sums.c.units, 0), func.coalesce(sums.c.households, 0),
               func.coalesce(sums.c.groups, 0), func.coalesce(sums.c.n, 0))
        .join(Group, Group.id == Grant.group_id).outerjoin(sums, sums.c.grant_id == Grant.id)
        .where(scope).order_by(Grant.received_on, Grant.id))
    async for grant, group_name, village, amount, units, households, groups, n in stream(query):
        state = Progress(grant, int(amount), int(units), int(households), int(groups), int(n),
                         _local_today(dates, village))
        sheet.add([
            grant.id, grant.group_id, group_name, village, names.name(village),
            _label("grantkind", grant.kind), _label("fund", grant.funding_source),
            _label("grantform", grant.form), grant.amount, note(grant.goods_description),
            grant.received_on, grant.rollover_amount, grant.rollover_units,
            grant.rollover_unit_label, grant.rollover_households, grant.rollover_due,
            int(amount), int(units), int(households) + int(groups), str(state.status),
        ])
    sheet.close()
    counts["Bantuan"] = sheet.rows

    # Pengguliran
    sheet = _SheetWriter(workbook, "Pengguliran", ROLLOVER_COLUMNS)
    query = (
        select(Rollover, Grant.group_id, Group.name, Group.village_code)
        .join(Grant, Grant.id == Rollover.grant_id).join(Group, Group.id == Grant.group_id)
        .where(scope).order_by(Rollover.rolled_on, Rollover.id))
    async for rollover, group_id, group_name, village in stream(query):
        sheet.add([
            rollover.id, rollover.grant_id, group_id, group_name, village, names.name(village),
            rollover.rolled_on, _label("recipient", rollover.recipient_kind),
            rollover.recipient_name, rollover.recipient_village_code,
            names.name(rollover.recipient_village_code), rollover.amount, rollover.units,
            note(rollover.note),
        ])
    sheet.close()
    counts["Pengguliran"] = sheet.rows

    # Pendamping: the area's mentors, and whoever mentors a group of the area.
    sheet = _SheetWriter(workbook, "Pendamping", MENTOR_COLUMNS)
    per_mentor = (
        select(Group.mentor_id.label("mentor_id"), func.count().label("n"),
               func.coalesce(func.sum(_case_overdue(now)), 0).label("late"))
        .where(scope).group_by(Group.mentor_id).subquery())
    query = (
        select(Mentor, func.coalesce(per_mentor.c.n, 0), func.coalesce(per_mentor.c.late, 0))
        .outerjoin(per_mentor, per_mentor.c.mentor_id == Mentor.id)
        .where((per_mentor.c.n.is_not(None))
               | ((Mentor.role == Role.MENTOR.value)
                  & in_area_clause(Mentor.area_code, area_code)))
        .order_by(Mentor.name, Mentor.id))
    async for mentor, n, late in stream(query):
        n, late = int(n), int(late)
        sheet.add([
            mentor.id, mentor.name, mentor.telegram_id, phone(mentor.phone),
            _label("affiliation", mentor.affiliation), _label("audit.role", mentor.role),
            _label("status", mentor.status), mentor.area_code, names.name(mentor.area_code),
            n, late, (n - late) / n if n else None,
        ])
    sheet.close()
    counts["Pendamping"] = sheet.rows

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), counts


def _local_date(moment: datetime | None, village: str) -> date | None:
    if moment is None:
        return None
    try:
        zone = ZoneInfo(timezone_for(village))
    except ValueError:
        zone = ZoneInfo("Asia/Jakarta")
    return moment.astimezone(zone).date()


def _case_overdue(now: datetime) -> Any:
    return case((overdue_clause(now), 1), else_=0)


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


# --- the import template ---------------------------------------------------------------------

@dataclass(frozen=True)
class TemplateCol:
    header: str
    required: bool
    help: str
    example: Any
    width: int = 18


def _choices(vocabulary: str, values: Iterable[str]) -> str:
    return ", ".join(t("id", f"{vocabulary}.{value}") for value in values)


def _group_template_columns(example_village: str) -> list[TemplateCol]:
    return [
        TemplateCol("Kode desa", True, "Kode Kemendagri desa/kelurahan (13 karakter, mis. "
                    "32.02.11.2002). Harus di dalam wilayah Anda.", example_village, 16),
        TemplateCol("Nama kelompok", True, "Nama KUBE. Kelompok dikenali dari kode desa + nama "
                    "(huruf besar/kecil tidak dibedakan): impor ulang memperbarui, tidak "
                    "menggandakan.", "KUBE Mawar", 24),
        TemplateCol("Jenis usaha", True, "Salah satu: " + _choices("business", BusinessType),
                    "Ternak"),
        TemplateCol("Tahap", True, "Salah satu: " + _choices("stage", Stage), "Tumbuh", 12),
        TemplateCol("Tanggal terbentuk", True, "Tanggal (sel tanggal, atau tulis 25/11/2026).",
                    date(2026, 3, 12), 14),
        TemplateCol("Ikatan pemersatu", False, "Boleh lebih dari satu, pisahkan dengan koma: "
                    + _choices("tie", BindingTie), "Kedekatan tempat tinggal", 28),
        TemplateCol("Interval kunjungan (hari)", False, "Jarak antar kunjungan, 1-365 hari "
                    "(kosong: bawaan sistem).", 30, 12),
        TemplateCol("Pendamping", True, "ID Telegram atau nama lengkap pendamping aktif di "
                    "wilayah Anda.", "Siti Rahma", 20),
    ]


def _member_template_columns(example_village: str) -> list[TemplateCol]:
    return [
        TemplateCol("Kode desa", True, "Kode desa kelompoknya (sama dengan di lembar "
                    "Kelompok).", example_village, 16),
        TemplateCol("Nama kelompok", True, "Nama kelompoknya (sama dengan di lembar Kelompok, "
                    "atau kelompok yang sudah terdaftar).", "KUBE Mawar", 24),
        TemplateCol("Nama KK", True, "Nama kepala keluarga. Anggota dikenali dari kelompok + "
                    "nama: impor ulang memperbarui.", "Siti Aminah", 24),
        TemplateCol("Kategori", True, "Salah satu: fakir miskin, miskin, hampir miskin.",
                    "miskin", 14),
        TemplateCol("Peran", False, "ketua, sekretaris, bendahara atau anggota (kosong: "
                    "anggota). Tiap kelompok tepat satu ketua, satu sekretaris, satu "
                    "bendahara.", "ketua", 12),
        TemplateCol("NIK", False, "16 angka. Format sel sebagai Teks (Excel memotong angka "
                    "panjang).", "3202114507800001", 19),
        TemplateCol("No. HP", False, "Nomor HP Indonesia, mis. 0812-3456-7890.",
                    "0812-3456-7890", 16),
        TemplateCol("Tanggal bergabung", False, "Kosong: hari impor.", None, 14),
        TemplateCol("Tanggal keluar", False, "Isi hanya jika KK ini sudah keluar dari "
                    "kelompok.", None, 14),
        TemplateCol(CONSENT_HEADER, False, "Tulis \"ya\" bila keluarga ini setuju NIK dan "
                    "nomor HP-nya dicatat. Tanpa \"ya\", NIK dan nomor HP yang baru tidak "
                    "disimpan (nama dan kategori tetap).", CONSENT_YES, 12),
    ]


def template_workbook(*, example_village: str = "32.02.11.2002", min_size: int = 5,
                      max_size: int = 10) -> bytes:
    """An empty import template: sheets Kelompok and Anggota (headers only, so nothing is
    imported by mistake) and Petunjuk, which explains every column and shows an example row
    of each sheet."""
    workbook = Workbook()
    sheets = [(GROUP_SHEET, _group_template_columns(example_village)),
              (MEMBER_SHEET, _member_template_columns(example_village))]
    first = True
    for title, columns in sheets:
        ws = workbook.active if first else workbook.create_sheet(title)
        ws.title = title
        first = False
        for index, col in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=index, value=col.header + ("*" if col.required else ""))
            cell.font = _BOLD
            cell.fill = _HEADER_FILL
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = col.width
            if col.header == "NIK" or col.header == "Kode desa":
                ws.column_dimensions[letter].number_format = "@"
            if "Tanggal" in col.header:
                ws.column_dimensions[letter].number_format = DATE_FORMAT
        ws.freeze_panes = "A2"
        lists = {"Jenis usaha": _choices("business", BusinessType),
                 "Tahap": _choices("stage", Stage),
                 "Kategori": "fakir miskin, miskin, hampir miskin",
                 "Peran": "ketua, sekretaris, bendahara, anggota"}
        for index, col in enumerate(columns, start=1):
            if col.header in lists:
                values = lists[col.header].replace(", ", ",")
                validation = DataValidation(type="list", formula1=f'"{values}"',
                                            allow_blank=True, showErrorMessage=False)
                letter = get_column_letter(index)
                validation.add(f"{letter}2:{letter}{MAX_IMPORT_ROWS + 1}")
                ws.add_data_validation(validation)

    guide = workbook.create_sheet("Petunjuk")
    guide.column_dimensions["A"].width = 12
    guide.column_dimensions["B"].width = 26
    guide.column_dimensions["C"].width = 8
    guide.column_dimensions["D"].width = 90
    intro = [
        "Cara mengisi templat impor KUBE",
        ("1. Isi lembar Kelompok (satu baris per kelompok) dan lembar Anggota (satu baris per "
         "KK). Kolom bertanda * wajib diisi untuk kelompok/anggota baru."),
        "2. Baris 1 (judul kolom) jangan diubah. Kolom lain boleh ditambahkan; akan diabaikan.",
        ("3. Kirim berkas .xlsx ini ke bot. Bot membalas baris yang diterima dan baris yang "
         "ditolak beserta alasannya. Perbaiki lalu kirim lagi: data yang sama diperbarui, "
         "tidak digandakan."),
        (f"4. Tiap kelompok beranggota {min_size}-{max_size} KK aktif, dengan tepat satu "
         "ketua, satu sekretaris dan satu bendahara."),
        "5. Sel kosong pada kelompok/anggota yang sudah ada berarti: tidak diubah.",
    ]
    row = 1
    for line in intro:
        guide.cell(row=row, column=1, value=line).font = _BOLD if row == 1 else Font()
        row += 1
    row += 1
    for index, text in enumerate(("Lembar", "Kolom", "Wajib", "Keterangan"), start=1):
        guide.cell(row=row, column=index, value=text).font = _BOLD
    row += 1
    for title, columns in sheets:
        for col in columns:
            guide.cell(row=row, column=1, value=title)
            guide.cell(row=row, column=2, value=col.header)
            guide.cell(row=row, column=3, value="ya" if col.required else "tidak")
            cell = guide.cell(row=row, column=4, value=col.help)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            row += 1
    for title, columns in sheets:
        row += 1
        guide.cell(row=row, column=1, value=f"Contoh baris lembar {title}:").font = _BOLD
        row += 1
        for index, col in enumerate(columns, start=1):
            guide.cell(row=row + 0, column=index, value=col.header).font = _BOLD
            cell = guide.cell(row=row + 1, column=index, value=col.example)
            if isinstance(col.example, date):
                cell.number_format = DATE_FORMAT
        row += 2
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- import: reading the file ------------------------------------------------------------------

class ImportFileError(Exception):
    """The file cannot be imported at all: ``code`` names why (a text key suffix)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


_GROUP_HEADERS = {
    "village_code": ("kode desa", "kode desa/kelurahan", "kode kelurahan", "village code"),
    "name": ("nama kelompok", "nama kube", "group name", "group"),
    "business_type": ("jenis usaha", "usaha", "business type", "business"),
    "stage": ("tahap", "stage"),
    "formed_on": ("tanggal terbentuk", "tanggal dibentuk", "tanggal berdiri", "formed on"),
    "binding_ties": ("ikatan pemersatu", "ikatan", "binding ties"),
    "interval": ("interval kunjungan (hari)", "interval kunjungan", "interval",
                 "visit interval"),
    "mentor": ("pendamping", "nama pendamping", "mentor"),
    "mentor_telegram_id": ("id telegram pendamping", "mentor telegram id"),
}
_MEMBER_HEADERS = {
    "village_code": _GROUP_HEADERS["village_code"],
    "group": _GROUP_HEADERS["name"],
    "name": ("nama kk", "nama", "nama anggota", "nama kepala keluarga", "name"),
    "category": ("kategori", "kategori kesejahteraan", "category", "welfare category"),
    "role": ("peran", "jabatan", "role"),
    "nik": ("nik",),
    "phone": ("no. hp", "no hp", "nomor hp", "hp", "telepon", "phone"),
    "consent": ("setuju nik/hp dicatat", "setuju dicatat", "persetujuan", "setuju", "consent"),
    "joined_on": ("tanggal bergabung", "tanggal masuk", "joined on"),
    "left_on": ("tanggal keluar", "left on"),
}
_REQUIRED_GROUP = ("village_code", "name")
_REQUIRED_MEMBER = ("village_code", "group", "name")
_HEADER_LABELS = {
    "village_code": "Kode desa", "name": "Nama kelompok", "group": "Nama kelompok",
}


def _norm(text: str) -> str:
    """Lowercase, accents off, anything but letters and digits as one space."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", " ", text.casefold()).strip()


def _header_key(header: Any, table: dict[str, tuple[str, ...]]) -> str | None:
    if header is None:
        return None
    raw = re.sub(r"\s+", " ", str(header).replace("*", "")).strip().casefold()
    candidates = [raw, re.sub(r"\s*\(.*\)\s*$", "", raw)]
    for candidate in candidates:
        for key, aliases in table.items():
            if candidate in aliases or _norm(candidate) in {_norm(a) for a in aliases}:
                return key
    return None


@dataclass
class RawRow:
    """One non-empty row of a sheet: its number in the sheet and its values by column key."""

    number: int
    values: dict[str, Any]


@dataclass
class RawFile:
    groups: list[RawRow] = field(default_factory=list)
    members: list[RawRow] = field(default_factory=list)
    has_group_sheet: bool = False
    has_member_sheet: bool = False


def _read_sheet(ws: Any, table: dict[str, tuple[str, ...]], required: tuple[str, ...],
                title: str) -> list[RawRow]:
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return []
    keys: dict[int, str] = {}
    for index, value in enumerate(header):
        key = _header_key(value, table)
        if key is not None and key not in keys.values():
            keys[index] = key
    missing = [key for key in required if key not in keys.values()]
    if missing:
        raise ImportFileError("missing_column", sheet=title,
                              column=_HEADER_LABELS.get(missing[0], missing[0]))
    found: list[RawRow] = []
    for number, values in enumerate(rows, start=2):
        picked = {key: values[index] for index, key in keys.items() if index < len(values)}
        if all(_blank(value) for value in picked.values()):
            continue
        if len(found) >= MAX_IMPORT_ROWS:
            raise ImportFileError("too_many_rows", sheet=title, max=MAX_IMPORT_ROWS)
        found.append(RawRow(number, picked))
    return found


def read_workbook(content: bytes) -> RawFile:
    """Reads the Kelompok and Anggota sheets of a filled template (no database; may run in a
    thread). Raises ImportFileError when the file is not a usable workbook."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileError("too_big", max_mb=MAX_IMPORT_BYTES // (1024 * 1024))
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zip, XML and openpyxl errors all mean "unreadable"
        raise ImportFileError("unreadable") from exc
    try:
        by_name = {name.strip().casefold(): name for name in workbook.sheetnames}
        raw = RawFile()
        group_name = by_name.get(GROUP_SHEET.casefold())
        member_name = by_name.get(MEMBER_SHEET.casefold())
        if group_name is None and member_name is None:
            raise ImportFileError("no_sheets")
        if group_name is not None:
            raw.has_group_sheet = True
            raw.groups = _read_sheet(workbook[group_name], _GROUP_HEADERS, _REQUIRED_GROUP,
                                     GROUP_SHEET)
        if member_name is not None:
            raw.has_member_sheet = True
            raw.members = _read_sheet(workbook[member_name], _MEMBER_HEADERS, _REQUIRED_MEMBER,
                                      MEMBER_SHEET)
        return raw
    except ImportFileError:
        raise
    except Exception as exc:  # a damaged sheet
        raise ImportFileError("unreadable") from exc
    finally:
        workbook.close()


# --- import: values --------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (not value.strip() or is_skip(value)))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"\s+", " ", str(value)).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")


def _date(value: Any, today: date) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 80000:  # an Excel serial day number in a cell not formatted as a date
            return date(1899, 12, 30) + timedelta(days=int(value))
        return None
    text = _text(value)
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return parse_date(text, today=today)


def _date_reason(value: Any) -> str:
    """Why a date cell was refused: a day its month does not have ("31/02/2026"), or no date."""
    return "no_such_date" if nonexistent_date(_text(value)) else "date"


@lru_cache(maxsize=8)
def _vocabulary(vocabulary: str, values: tuple[str, ...]) -> dict[str, str]:
    """Normalised words → enum value: the values, and their labels in both languages (each
    part of "Dagang/warung" too)."""
    table: dict[str, str] = {}
    for value in values:
        words = {value, value.replace("_", " ")}
        for lang in ("id", "en"):
            label = t(lang, f"{vocabulary}.{value}")
            words.add(label)
            words.update(label.split("/"))
        for word in words:
            table.setdefault(_norm(word), value)
    return table


def _consent(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return _norm(_text(value)) in _CONSENT_WORDS


def _word(value: Any, vocabulary: str, values: tuple[str, ...]) -> str | None:
    key = _norm(_text(value))
    table = _vocabulary(vocabulary, values)
    if key in table:
        return table[key]
    if len(key) >= 4:
        best = process.extractOne(key, table.keys(), scorer=fuzz.ratio, score_cutoff=85)
        if best:
            return table[best[0]]
    return None


_BUSINESS = tuple(v.value for v in BusinessType)
_STAGES = tuple(v.value for v in Stage)
_TIES = tuple(v.value for v in BindingTie)


# --- import: checking and writing --------------------------------------------------------------

@dataclass
class Refusal:
    """A row that was not imported, with every reason found (text key suffixes and values)."""

    sheet: str
    row: int
    reasons: list[tuple[str, dict[str, Any]]]


@dataclass
class ImportReport:
    groups: Counter = field(default_factory=Counter)  # created / updated / unchanged
    members: Counter = field(default_factory=Counter)
    taken: dict[str, list[int]] = field(default_factory=lambda: {GROUP_SHEET: [],
                                                                  MEMBER_SHEET: []})
    refused: list[Refusal] = field(default_factory=list)
    # Anggota rows taken without their new NIK / phone: no "ya" in the consent column.
    without_consent: list[int] = field(default_factory=list)
    _by_row: dict[tuple[str, int], Refusal] = field(default_factory=dict, repr=False)

    def refuse(self, sheet: str, row: int, reason: str, **params: Any) -> None:
        found = self._by_row.get((sheet, row))
        if found is None:
            found = self._by_row[(sheet, row)] = Refusal(sheet, row, [])
            self.refused.append(found)
        if (reason, params) not in found.reasons:
            found.reasons.append((reason, params))

    def is_refused(self, sheet: str, row: int) -> bool:
        return (sheet, row) in self._by_row

    def sorted_refusals(self) -> list[Refusal]:
        order = {GROUP_SHEET: 0, MEMBER_SHEET: 1}
        return sorted(self.refused, key=lambda r: (order.get(r.sheet, 2), r.row))


@dataclass
class _GroupPlan:
    row: RawRow | None  # None: a registered group that only the Anggota sheet names
    key: tuple[str, str]
    village_code: str
    name: str
    fields: dict[str, Any]  # the values given (blank cells left out)
    mentor: Mentor | None
    existing: Group | None
    members: list[_MemberPlan] = field(default_factory=list)
    refused: bool = False


@dataclass
class _MemberPlan:
    row: RawRow
    group_key: tuple[str, str]
    name: str
    fields: dict[str, Any]
    existing: Member | None = None
    leaving: bool = False
    consent: bool = False  # the row's new NIK / phone come with the household's consent
    # group_problems reads these
    error: None = None

    @property
    def role(self) -> str:
        if "role" in self.fields:
            return self.fields["role"]
        return self.existing.role if self.existing else MemberRole.MEMBER.value

    @property
    def nik(self) -> str | None:
        if "nik" in self.fields:
            return self.fields["nik"]
        return self.existing.nik if self.existing else None


def _key(village: str, name: str) -> tuple[str, str]:
    return village, re.sub(r"\s+", " ", name).strip().casefold()


def _chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _Mentors:
    """The mentors a group may be given: active mentors (and coordinators) of the area."""

    def __init__(self, mentors: list[Mentor]) -> None:
        self.by_tid = {m.telegram_id: m for m in mentors}
        self.by_name: dict[str, list[Mentor]] = {}
        for mentor in mentors:
            self.by_name.setdefault(_norm(mentor.name), []).append(mentor)

    def find(self, value: Any) -> tuple[Mentor | None, str | None]:
        """(mentor, None) or (None, reason)."""
        text = _text(value)
        if re.fullmatch(r"\d{4,15}", text):
            found = self.by_tid.get(int(text))
            return (found, None) if found else (None, "mentor_unknown")
        matches = self.by_name.get(_norm(text), [])
        if len(matches) == 1:
            return matches[0], None
        return None, "mentor_ambiguous" if matches else "mentor_unknown"


async def _allowed_mentors(*, session: AsyncSession, area_code: str | None) -> _Mentors:
    result = await session.execute(
        select(Mentor).where(Mentor.role.in_((Role.MENTOR.value, Role.COORDINATOR.value)),
                             Mentor.status == MentorStatus.ACTIVE.value,
                             in_area_clause(Mentor.area_code, area_code))
        .order_by(Mentor.id))
    return _Mentors(list(result.scalars()))


async def _existing_groups(*, session: AsyncSession, villages: set[str]
                           ) -> dict[tuple[str, str], list[Group]]:
    found: dict[tuple[str, str], list[Group]] = {}
    for chunk in _chunks(sorted(villages)):
        result = await session.execute(
            select(Group).where(Group.village_code.in_(chunk)).order_by(Group.id))
        for group in result.scalars():
            found.setdefault(_key(group.village_code, group.name), []).append(group)
    return found


async def _existing_members(*, session: AsyncSession, group_ids: list[int]
                            ) -> dict[int, list[Member]]:
    found: dict[int, list[Member]] = {}
    for chunk in _chunks(sorted(group_ids)):
        result = await session.execute(
            select(Member).where(Member.group_id.in_(chunk)).order_by(Member.id))
        for member in result.scalars():
            found.setdefault(member.group_id, []).append(member)
    return found


async def import_rows(*, session: AsyncSession, actor: Mentor, raw: RawFile,
                      places: PlaceIndex, now: datetime, min_size: int, max_size: int,
                      default_interval: int, rules: reminders.Rules | None = None,
                      file_name: str | None = None) -> ImportReport:
    """Checks every row and saves the rows that pass, in one transaction, with audit rows.

    A group is identified by (village code, name case-insensitive) and a household by (group,
    name case-insensitive), so importing the same file again updates instead of duplicating.
    Blank cells of an existing group or household change nothing. A group whose resulting
    membership breaks the rules (size, exactly one ketua / sekretaris / bendahara, names or
    NIKs twice) is refused with all its rows. The actor must be a coordinator (villages
    inside their area, mentors of their area) or an admin.
    """
    area = area_for(actor)
    report = ImportReport()
    dates = local_dates(now)
    mentors = await _allowed_mentors(session=session, area_code=area)

    def today_at(village: str | None) -> date:
        return _local_today(dates, village) if village else dates["WIB"]

    def village_of(row: RawRow, sheet: str) -> str | None:
        code = _text(row.values.get("village_code"))
        if not code:
            report.refuse(sheet, row.number, "village_missing")
            return None
        place = places.get(code)
        if place is None or place.level != 4:
            report.refuse(sheet, row.number, "village_unknown", code=code)
            return None
        if area is not None and not is_within(code, area):
            area_place = places.get(area)
            report.refuse(sheet, row.number, "village_outside", village=place.label,
                          area=area_place.label if area_place else area)
            return None
        return code

    # 1. Group rows, each on its own.
    plans: dict[tuple[str, str], _GroupPlan] = {}
    group_rows: list[tuple[RawRow, str, str, dict[str, Any], Mentor | None]] = []
    for row in raw.groups:
        values = row.values
        village = village_of(row, GROUP_SHEET)
        name = _text(values.get("name"))
        if not 3 <= len(name) <= 100 or not any(ch.isalpha() for ch in name):
            report.refuse(GROUP_SHEET, row.number, "group_name")
        fields: dict[str, Any] = {}
        if not _blank(values.get("business_type")):
            fields["business_type"] = _word(values["business_type"], "business", _BUSINESS)
            if fields["business_type"] is None:
                report.refuse(GROUP_SHEET, row.number, "business",
                              value=_text(values["business_type"]))
        if not _blank(values.get("stage")):
            fields["stage"] = _word(values["stage"], "stage", _STAGES)
            if fields["stage"] is None:
                report.refuse(GROUP_SHEET, row.number, "stage", value=_text(values["stage"]))
        if not _blank(values.get("binding_ties")):
            ties: list[str] = []
            for part in re.split(r"[,;\n]+", _text(values["binding_ties"])):
                if not part.strip():
                    continue
                tie = _word(part, "tie", _TIES)
                if tie is None:
                    report.refuse(GROUP_SHEET, row.number, "tie", value=part.strip())
                elif tie not in ties:
                    ties.append(tie)
            fields["binding_ties"] = ties
        if not _blank(values.get("formed_on")):
            formed = _date(values["formed_on"], today_at(village))
            if formed is None:
                report.refuse(GROUP_SHEET, row.number, _date_reason(values["formed_on"]),
                              column="Tanggal terbentuk",
                              value=_text(values["formed_on"]))
            elif formed > today_at(village):
                report.refuse(GROUP_SHEET, row.number, "date_future",
                              column="Tanggal terbentuk")
            else:
                fields["formed_on"] = formed
        if not _blank(values.get("interval")):
            # A TRUE/FALSE cell is a bool, which Python counts as the int 1 or 0.
            days = (int(values["interval"]) if isinstance(values["interval"], (int, float))
                    and not isinstance(values["interval"], bool)
                    and float(values["interval"]).is_integer()
                    else parse_count(_text(values["interval"]), minimum=1, maximum=365))
            if days is None or not 1 <= days <= 365:
                report.refuse(GROUP_SHEET, row.number, "interval",
                              value=_text(values["interval"]))
            else:
                fields["visit_interval_days"] = days
        mentor = None
        mentor_value = values.get("mentor_telegram_id")
        if _blank(mentor_value):
            mentor_value = values.get("mentor")
        if not _blank(mentor_value):
            mentor, problem = mentors.find(mentor_value)
            if problem:
                report.refuse(GROUP_SHEET, row.number, problem, value=_text(mentor_value))
        group_rows.append((row, village or "", name, fields, mentor))

    # 2. The groups already registered in the villages of the file.
    villages = {village for _, village, *_ in group_rows if village}
    member_villages: dict[int, str | None] = {}
    for row in raw.members:
        member_villages[row.number] = village_of(row, MEMBER_SHEET)
    villages |= {v for v in member_villages.values() if v}
    existing = await _existing_groups(session=session, villages=villages)

    for row, village, name, fields, mentor in group_rows:
        if not village or not name:
            continue
        key = _key(village, name)
        if key in plans:
            report.refuse(GROUP_SHEET, row.number, "duplicate_group", row=plans[key].row.number)
            continue
        found = existing.get(key, [])
        if len(found) > 1:
            report.refuse(GROUP_SHEET, row.number, "group_ambiguous", count=len(found))
        group = found[0] if len(found) == 1 else None
        if group is None and parse_group_name(name) is None:
            # A new group's name follows the bot's rule (no emoji); a registered one is kept.
            report.refuse(GROUP_SHEET, row.number, "group_name")
        if group is None:
            for needed, column in (("business_type", "Jenis usaha"), ("stage", "Tahap"),
                                   ("formed_on", "Tanggal terbentuk")):
                if needed not in fields and not row.values.get(needed):
                    report.refuse(GROUP_SHEET, row.number, "required", column=column)
            if mentor is None and _blank(row.values.get("mentor")) and _blank(
                    row.values.get("mentor_telegram_id")):
                report.refuse(GROUP_SHEET, row.number, "required", column="Pendamping")
        plan = _GroupPlan(row, key, village, name, fields, mentor, group)
        plan.refused = report.is_refused(GROUP_SHEET, row.number)
        plans[key] = plan

    # 3. Member rows, each on its own, attached to their group.
    group_ids = [plan.existing.id for plan in plans.values() if plan.existing is not None]
    member_groups: dict[tuple[str, str], _GroupPlan] = dict(plans)
    for row in raw.members:
        village = member_villages.get(row.number)
        group_name = _text(row.values.get("group"))
        if not village:
            continue
        key = _key(village, group_name)
        if key not in member_groups:
            found = existing.get(key, [])
            if len(found) == 1:
                member_groups[key] = _GroupPlan(None, key, village, found[0].name, {}, None,
                                                found[0])
                group_ids.append(found[0].id)
            elif len(found) > 1:
                report.refuse(MEMBER_SHEET, row.number, "group_ambiguous", count=len(found))
                continue
            else:
                report.refuse(MEMBER_SHEET, row.number, "group_unknown", name=group_name,
                              code=village)
                continue
    members_of = await _existing_members(session=session, group_ids=group_ids)

    for row in raw.members:
        village = member_villages.get(row.number)
        if not village or report.is_refused(MEMBER_SHEET, row.number):
            continue
        plan = member_groups[_key(village, _text(row.values.get("group")))]
        values = row.values
        name_text = _text(values.get("name"))
        leaving_on = None
        if not _blank(values.get("left_on")):
            leaving_on = _date(values["left_on"], today_at(village))
            if leaving_on is None:
                report.refuse(MEMBER_SHEET, row.number, _date_reason(values["left_on"]),
                              column="Tanggal keluar",
                              value=_text(values["left_on"]))
                continue
        current = members_of.get(plan.existing.id, []) if plan.existing else []
        match_key = _norm(name_text)
        active = [m for m in current if m.left_on is None and _norm(m.name) == match_key]
        former = [m for m in current if m.left_on is not None and _norm(m.name) == match_key]
        member = active[0] if active else (former[-1] if former and leaving_on else None)
        # Blank category / role of a known household: keep what is stored.
        category = _text(values.get("category")) if not _blank(values.get("category")) else (
            member.welfare_category if member else "")
        role = _text(values.get("role")) if not _blank(values.get("role")) else (
            member.role if member else "")
        # A registered household is found by its name, which is then not checked again (it
        # may come from before the rules, or from a test factory).
        line = parse_member_fields(name_text if member is None else "Nama", category, role)
        if not line.ok:
            report.refuse(MEMBER_SHEET, row.number, f"member_{line.error}")
            continue
        if member is not None:
            line.name = member.name
        fields = {"name": line.name, "welfare_category": line.welfare_category,
                  "role": line.role}
        nik_value = values.get("nik")
        if isinstance(nik_value, float) and nik_value.is_integer():
            nik_value = int(nik_value)
        if not _blank(nik_value) and "*" not in _text(nik_value):  # masked: keep the stored
            nik = validate_nik(_text(nik_value))
            if nik is None:
                report.refuse(MEMBER_SHEET, row.number, "nik")
                continue
            fields["nik"] = nik
        phone_value = values.get("phone")
        if not _blank(phone_value) and "*" not in _text(phone_value):
            phone = parse_phone(_text(phone_value))
            if phone is None:
                report.refuse(MEMBER_SHEET, row.number, "phone")
                continue
            fields["phone"] = phone
        # New personal data is kept only with the household's consent (the consent column);
        # a value already stored (an export imported back) needs none.
        new_personal = [key for key in ("nik", "phone") if key in fields
                        and (member is None or getattr(member, key) != fields[key])]
        consent = False
        if new_personal:
            if _consent(values.get("consent")):
                consent = True
            else:
                for key in new_personal:
                    del fields[key]
                report.without_consent.append(row.number)
        if not _blank(values.get("joined_on")):
            joined = _date(values["joined_on"], today_at(village))
            if joined is None:
                report.refuse(MEMBER_SHEET, row.number, _date_reason(values["joined_on"]),
                              column="Tanggal bergabung",
                              value=_text(values["joined_on"]))
                continue
            if joined > today_at(village):
                report.refuse(MEMBER_SHEET, row.number, "date_future",
                              column="Tanggal bergabung")
                continue
            fields["joined_on"] = joined
        if leaving_on is not None:
            if member is None:
                report.refuse(MEMBER_SHEET, row.number, "left_unknown", name=line.name)
                continue
            fields["left_on"] = leaving_on
        earlier = next((m for m in plan.members if _norm(m.name) == _norm(line.name)), None)
        if earlier is not None:
            report.refuse(MEMBER_SHEET, row.number, "duplicate_member",
                          row=earlier.row.number)
            continue
        plan.members.append(_MemberPlan(row, plan.key, line.name, fields, member,
                                        leaving=leaving_on is not None, consent=consent))

    # 4. Each group as a whole: its membership after the import must follow the rules.
    for plan in member_groups.values():
        member_rows = [m.row.number for m in plan.members]
        if plan.refused:
            for number in member_rows:
                report.refuse(MEMBER_SHEET, number, "group_refused", row=plan.row.number)
            continue
        if plan.existing is not None and not plan.members:
            continue  # only the group's own fields change
        if plan.existing is None and not plan.members:
            report.refuse(GROUP_SHEET, plan.row.number, "no_members", min=min_size)
            plan.refused = True
            continue
        listed = {m.existing.id for m in plan.members if m.existing is not None}
        staying = [m for m in members_of.get(plan.existing.id, [])
                   if m.left_on is None and m.id not in listed] if plan.existing else []
        after = [*staying, *(m for m in plan.members if not m.leaving)]
        problems = group_problems(after, minimum=min_size, maximum=max_size)
        if problems:
            params = {"group": plan.name, "count": len(after), "min": min_size,
                      "max": max_size}
            for problem in problems:
                if plan.row is not None:
                    report.refuse(GROUP_SHEET, plan.row.number, f"problem_{problem}", **params)
                for number in member_rows:
                    report.refuse(MEMBER_SHEET, number, f"problem_{problem}", **params)
            plan.refused = True

    # 5. Write what passed.
    actor_tid = actor.telegram_id
    last_visits: dict[int, date] = {}
    changed_intervals = [plan.existing.id for plan in plans.values()
                         if plan.existing is not None and not plan.refused
                         and "visit_interval_days" in plan.fields
                         and plan.fields["visit_interval_days"]
                         != plan.existing.visit_interval_days]
    if changed_intervals:
        rows = await session.execute(
            select(Visit.group_id, func.max(Visit.visited_on))
            .where(Visit.group_id.in_(changed_intervals)).group_by(Visit.group_id))
        last_visits = {gid: last for gid, last in rows}

    for plan in member_groups.values():
        if plan.refused:
            continue
        today = today_at(plan.village_code)
        group = plan.existing
        if plan.row is not None:
            if group is None:
                interval = plan.fields.get("visit_interval_days", default_interval)
                group = Group(name=plan.name, village_code=plan.village_code,
                              business_type=plan.fields["business_type"],
                              binding_ties=plan.fields.get("binding_ties", []),
                              formed_on=plan.fields["formed_on"], stage=plan.fields["stage"],
                              visit_interval_days=interval, mentor_id=plan.mentor.id,
                              next_visit_due=today + timedelta(days=interval))
                session.add(group)
                await session.flush()
                audit.record(session=session, actor_telegram_id=actor_tid,
                             action=AuditAction.CREATE, entity="group", entity_id=group.id,
                             new=audit.snapshot(group))
                await reminders.reschedule_group(session=session, group=group, today=today,
                                                 rules=rules)
                report.groups["created"] += 1
            else:
                updates = dict(plan.fields)
                if plan.mentor is not None:
                    updates["mentor_id"] = plan.mentor.id
                interval_changed = updates.get("visit_interval_days",
                                               group.visit_interval_days) \
                    != group.visit_interval_days
                if interval_changed:
                    base = last_visits.get(group.id) or today
                    updates["next_visit_due"] = base + timedelta(
                        days=updates["visit_interval_days"])
                changes = {k: v for k, v in updates.items() if getattr(group, k) != v}
                if changes:
                    old = audit.snapshot(group, set(changes))
                    for attribute, value in changes.items():
                        setattr(group, attribute, value)
                    session.add(group)
                    audit.record(session=session, actor_telegram_id=actor_tid,
                                 action=AuditAction.UPDATE, entity="group",
                                 entity_id=group.id, old=old,
                                 new=audit.snapshot(group, set(changes)))
                    if interval_changed:
                        await reminders.reschedule_group(session=session, group=group,
                                                         today=today, rules=rules)
                    report.groups["updated"] += 1
                else:
                    report.groups["unchanged"] += 1
            report.taken[GROUP_SHEET].append(plan.row.number)
        for member_plan in plan.members:
            member = member_plan.existing
            if member_plan.consent:
                member_plan.fields.update(consent_at=now, consent_by=actor.id)
            if member is None:
                data = dict(member_plan.fields)
                data.setdefault("joined_on", today)
                member = Member(group_id=group.id, **data)
                session.add(member)
                await session.flush()
                audit.record(session=session, actor_telegram_id=actor_tid,
                             action=AuditAction.CREATE, entity="member", entity_id=member.id,
                             new=audit.snapshot(member))
                report.members["created"] += 1
            else:
                changes = {k: v for k, v in member_plan.fields.items()
                           if getattr(member, k) != v}
                if changes:
                    old = audit.snapshot(member, set(changes))
                    for attribute, value in changes.items():
                        setattr(member, attribute, value)
                    session.add(member)
                    audit.record(session=session, actor_telegram_id=actor_tid,
                                 action=AuditAction.UPDATE, entity="member",
                                 entity_id=member.id, old=old,
                                 new=audit.snapshot(member, set(changes)))
                    report.members["updated"] += 1
                else:
                    report.members["unchanged"] += 1
            report.taken[MEMBER_SHEET].append(member_plan.row.number)

    for rows in report.taken.values():
        rows.sort()
    audit.record(session=session, actor_telegram_id=actor_tid, action=AuditAction.CREATE,
                 entity="import", entity_id=None,
                 new={"file": file_name, "groups": dict(report.groups),
                      "members": dict(report.members),
                      "taken": {sheet: len(rows) for sheet, rows in report.taken.items()},
                      "refused": len(report.refused)})
    await session.commit()
    return report


# --- rendering a report (bot and CLI) ------------------------------------------------------------

def row_ranges(numbers: Iterable[int]) -> str:
    """2, 3, 4, 7 → "2–4, 7"."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    start = previous = None
    for number in ordered:
        if start is None:
            start = previous = number
        elif number == previous + 1:
            previous = number
        else:
            parts.append(str(start) if start == previous else f"{start}–{previous}")
            start = previous = number
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}–{previous}")
    return ", ".join(parts)


def refusal_lines(report: ImportReport, lang: str) -> list[str]:
    """One line per refused row, "Kelompok baris 4: kode desa … tidak dikenal; …"; rows next
    to each other refused for the same reasons share a line ("Anggota baris 14–19: …")."""
    runs: list[tuple[str, int, int, str]] = []  # sheet, first row, last row, reasons
    for refusal in report.sorted_refusals():
        reasons = "; ".join(t(lang, f"rep.reason.{code}", **params)
                            for code, params in refusal.reasons)
        if runs and runs[-1][0] == refusal.sheet and runs[-1][2] == refusal.row - 1 \
                and runs[-1][3] == reasons:
            runs[-1] = (refusal.sheet, runs[-1][1], refusal.row, reasons)
        else:
            runs.append((refusal.sheet, refusal.row, refusal.row, reasons))
    return [t(lang, "rep.refused_line", sheet=sheet, reasons=reasons,
              row=str(first) if first == last else f"{first}–{last}")
            for sheet, first, last, reasons in runs]


def report_text(report: ImportReport, lang: str, file_name: str) -> str:
    """The counts and the rows taken (without the refusals, which come as a list)."""
    taken = []
    for sheet, numbers in report.taken.items():
        if numbers:
            taken.append(t(lang, "rep.taken_rows", sheet=sheet, rows=row_ranges(numbers)))
    done = t(lang, "rep.import_done", file=file_name,
             groups_created=report.groups["created"], groups_updated=report.groups["updated"],
             groups_unchanged=report.groups["unchanged"],
             members_created=report.members["created"],
             members_updated=report.members["updated"],
             members_unchanged=report.members["unchanged"],
             taken="\n".join(taken) or t(lang, "rep.taken_none"),
             refused=len(report.refused))
    taken_members = set(report.taken[MEMBER_SHEET])
    unconsented = [number for number in report.without_consent if number in taken_members]
    if unconsented:
        done += "\n\n" + t(lang, "rep.without_consent", sheet=MEMBER_SHEET,
                           rows=row_ranges(unconsented), column=CONSENT_HEADER)
    return done
