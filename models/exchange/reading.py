"""Reading a filled template: the Kelompok, Anggota and Bantuan sheets as rows of values by column
key (pure, no database; callers may run it in a thread). Columns are found by their headers
(in either language, with or without the template's *), and the ones not known are ignored,
so an exported workbook reads back too."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from openpyxl.reader.excel import ExcelReader

from models.exchange.report import FileProblem, ImportFileError
from models.exchange.safezip import ImportLimits, open_workbook_zip
from models.exchange.values import blank, norm
from models.exchange.workbook import (
    GRANT_SHEET,
    GROUP_SHEET,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MEMBER_SHEET,
)

GROUP_HEADERS = {
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
MEMBER_HEADERS = {
    "village_code": GROUP_HEADERS["village_code"],
    "group": GROUP_HEADERS["name"],
    "name": ("nama kk", "nama", "nama anggota", "nama kepala keluarga", "name"),
    "category": ("kategori", "kategori kesejahteraan", "category", "welfare category"),
    "role": ("peran", "jabatan", "role"),
    "nik": ("nik",),
    "phone": ("no. hp", "no hp", "nomor hp", "hp", "telepon", "phone"),
    "consent": ("setuju nik/hp dicatat", "setuju dicatat", "persetujuan", "setuju", "consent"),
    "joined_on": ("tanggal bergabung", "tanggal masuk", "joined on"),
    "left_on": ("tanggal keluar", "left on"),
    "head_sex": ("jenis kelamin kk", "jenis kelamin kepala keluarga", "jenis kelamin", "l/p",
                 "sex of head", "sex"),
    "register_status": ("terdaftar dtks/dtsen", "dtks/dtsen", "dtks", "dtsen",
                        "terdaftar dtks", "registered in dtks/dtsen"),
    "register_decile": ("desil", "desil dtks/dtsen", "decile"),
}
GRANT_HEADERS = {
    "village_code": GROUP_HEADERS["village_code"],
    "group": GROUP_HEADERS["name"],
    "kind": ("jenis bantuan", "jenis hibah", "jenis", "grant kind", "kind"),
    "funding_source": ("sumber dana", "sumber", "funding source"),
    "form": ("bentuk", "bentuk bantuan", "form"),
    "amount": ("nilai", "nilai (rp)", "jumlah (rp)", "amount"),
    "goods": ("barang", "uraian barang", "goods"),
    "received_on": ("tanggal diterima", "diterima", "received on"),
    "rollover_required": ("wajib digulirkan?", "wajib digulirkan", "rollover required"),
    "rollover_amount": ("wajib gulir (rp)", "rollover amount"),
    "rollover_units": ("wajib gulir (unit)", "rollover units"),
    "rollover_unit_label": ("satuan", "unit label"),
    "rollover_households": ("wajib gulir (kk/kelompok)", "rollover households"),
    "rollover_due": ("jatuh tempo gulir", "batas gulir", "rollover due"),
    "lpj_submitted_on": ("tanggal lpj", "lpj diserahkan", "lpj submitted on"),
}
_REQUIRED_GROUP = ("village_code", "name")
_REQUIRED_MEMBER = ("village_code", "group", "name")
_REQUIRED_GRANT = ("village_code", "group")
# The header a missing required column is named by.
_HEADER_LABELS = {
    "village_code": "Kode desa", "name": "Nama kelompok", "group": "Nama kelompok",
}
# Rows are read up to this row number and no further (blank rows between are allowed, the
# template's lists reach row MAX_IMPORT_ROWS + 1); a filled row below it means too many rows.
# Stopping here stops the parser too: a sheet of a million empty rows costs nothing more.
LAST_ROW = 2 * MAX_IMPORT_ROWS + 1
# Columns looked at, whatever a sheet's dimension claims (the template has about 15).
MAX_COLUMNS = 200


def header_key(header: Any, table: dict[str, tuple[str, ...]]) -> str | None:
    """The column key a header cell names, or None for a column the import ignores."""
    if header is None:
        return None
    raw = re.sub(r"\s+", " ", str(header).replace("*", "")).strip().casefold()
    candidates = [raw, re.sub(r"\s*\(.*\)\s*$", "", raw)]
    for candidate in candidates:
        for key, aliases in table.items():
            if candidate in aliases or norm(candidate) in {norm(a) for a in aliases}:
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
    grants: list[RawRow] = field(default_factory=list)
    has_group_sheet: bool = False
    has_grant_sheet: bool = False
    has_member_sheet: bool = False


def _column_keys(header: tuple[Any, ...], table: dict[str, tuple[str, ...]],
                 required: tuple[str, ...], title: str) -> dict[int, str]:
    """Column index → key; the first column of a key wins."""
    keys: dict[int, str] = {}
    for index, value in enumerate(header):
        key = header_key(value, table)
        if key is not None and key not in keys.values():
            keys[index] = key
    missing = [key for key in required if key not in keys.values()]
    if missing:
        raise ImportFileError(FileProblem.MISSING_COLUMN, sheet=title,
                              column=_HEADER_LABELS.get(missing[0], missing[0]))
    return keys


def _read_sheet(ws: Any, table: dict[str, tuple[str, ...]], required: tuple[str, ...],
                title: str) -> list[RawRow]:
    max_col = min(ws.max_column or MAX_COLUMNS, MAX_COLUMNS)
    rows = ws.iter_rows(max_row=LAST_ROW + 1, max_col=max_col, values_only=True)
    header = next(rows, None)
    if header is None:
        return []
    keys = _column_keys(header, table, required, title)
    found: list[RawRow] = []
    for number, values in enumerate(rows, start=2):
        picked = {key: values[index] for index, key in keys.items() if index < len(values)}
        if all(blank(value) for value in picked.values()):
            continue
        if len(found) >= MAX_IMPORT_ROWS or number > LAST_ROW:
            raise ImportFileError(FileProblem.TOO_MANY_ROWS, sheet=title, max=MAX_IMPORT_ROWS)
        found.append(RawRow(number, picked))
    return found


def _read_sheets(workbook: Any) -> RawFile:
    by_name = {name.strip().casefold(): name for name in workbook.sheetnames}
    raw = RawFile()
    group_name = by_name.get(GROUP_SHEET.casefold())
    member_name = by_name.get(MEMBER_SHEET.casefold())
    grant_name = by_name.get(GRANT_SHEET.casefold())
    if group_name is None and member_name is None and grant_name is None:
        raise ImportFileError(FileProblem.NO_SHEETS)
    if group_name is not None:
        raw.has_group_sheet = True
        raw.groups = _read_sheet(workbook[group_name], GROUP_HEADERS, _REQUIRED_GROUP,
                                 GROUP_SHEET)
    if member_name is not None:
        raw.has_member_sheet = True
        raw.members = _read_sheet(workbook[member_name], MEMBER_HEADERS, _REQUIRED_MEMBER,
                                  MEMBER_SHEET)
    if grant_name is not None:
        raw.has_grant_sheet = True
        raw.grants = _read_sheet(workbook[grant_name], GRANT_HEADERS, _REQUIRED_GRANT,
                                 GRANT_SHEET)
    return raw


def _load(content: bytes, limits: ImportLimits) -> Any:
    """The read-only workbook, every part of it read through the limits (safezip)."""
    archive = open_workbook_zip(content, limits)
    try:
        reader = ExcelReader(io.BytesIO(content), read_only=True, data_only=True)
        # load_workbook() opens the bytes with a plain ZipFile; the guarded one takes its place
        # before anything is read, and the read-only sheets read through it later too.
        reader.archive.close()
        reader.archive = archive
        reader.valid_files = archive.namelist()
        reader.read()
    except BaseException:
        archive.close()
        raise
    return reader.wb


def read_workbook(content: bytes, limits: ImportLimits | None = None) -> RawFile:
    """Reads the Kelompok, Anggota and Bantuan sheets of a filled template (no database; may run in a
    thread), at a bounded cost. Raises ImportFileError when the file is not a usable workbook."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileError(FileProblem.TOO_BIG, max_mb=MAX_IMPORT_BYTES // (1024 * 1024))
    limits = limits or ImportLimits()
    try:
        workbook = _load(content, limits)
    except ImportFileError:
        raise
    except Exception as exc:  # zip, XML and openpyxl errors all mean "unreadable"
        raise ImportFileError(FileProblem.UNREADABLE) from exc
    try:
        return _read_sheets(workbook)
    except ImportFileError:
        raise
    except Exception as exc:  # a damaged sheet
        raise ImportFileError(FileProblem.UNREADABLE) from exc
    finally:
        workbook.close()
