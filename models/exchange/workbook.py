"""What every workbook of the exchange shares: sheet names, cell formats, limits, and the
writer of an exported sheet.

Sheet names and headers are part of the file format (an exported workbook is imported back
by its headers), so they are data here, in Indonesian for every user, not chat texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

DATE_FORMAT = "DD/MM/YYYY"
RUPIAH_FORMAT = '"Rp" #,##0'
PERCENT_FORMAT = "0%"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
# Rows looked at to size the columns before the sheet starts streaming.
_WIDTH_SAMPLE = 200
_MIN_WIDTH, _MAX_WIDTH = 6, 50
# A template larger than this is a mistake (or an attack): split it.
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 10 * 1024 * 1024

CONSENT_HEADER = "Setuju NIK/HP dicatat"
CONSENT_YES = "ya"

GROUP_SHEET = "Kelompok"
MEMBER_SHEET = "Anggota"
VISIT_SHEET = "Kunjungan"
GRANT_SHEET = "Bantuan"
ROLLOVER_SHEET = "Pengguliran"
MENTOR_SHEET = "Pendamping"
CHANGE_SHEET = "Riwayat Kelompok"
TRAINING_SHEET = "Pelatihan"
SUMMARY_SHEET = "Ringkasan"
EXPORT_SHEETS = (SUMMARY_SHEET, GROUP_SHEET, MEMBER_SHEET, VISIT_SHEET, TRAINING_SHEET,
                 CHANGE_SHEET, GRANT_SHEET, ROLLOVER_SHEET, MENTOR_SHEET)
# The sheets an import reads, in the order its refusals are listed.
IMPORT_SHEETS = (GROUP_SHEET, MEMBER_SHEET, GRANT_SHEET)


@dataclass(frozen=True)
class Col:
    """One column of an exported sheet: its header and how its values are written."""

    header: str
    kind: str = "text"  # text | int | date | money | float | percent
    width: int | None = None  # fixed width; None sizes it from the values


def clean_text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def header_cell(ws: Any, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.font = BOLD
    cell.fill = HEADER_FILL
    cell.alignment = HEADER_ALIGNMENT
    return cell


HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")


def print_setup(ws: Any, *, header_row: int = 1, one_page: bool = False) -> None:
    """Landscape A4, fit to the page's width (``one_page``: the whole sheet on one page), the
    header row repeated on every printed page, narrow margins. Call before the first row (a
    write-only sheet writes its properties first)."""
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0  # 0: as many pages tall as needed
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_title_rows = f"{header_row}:{header_row}"


# Cell kinds written with a number format, and the value each one stores.
_FORMATTED = {
    "date": (DATE_FORMAT, lambda value: value),
    "money": (RUPIAH_FORMAT, int),
    "percent": (PERCENT_FORMAT, float),
}
# Columns of these kinds have a fixed least width (their values all look alike).
_FIXED_WIDTHS = {"date": 12, "money": 16, "percent": 9, "float": 11}


class SheetWriter:
    """Writes one sheet of a write-only workbook: bold frozen header with filter buttons,
    typed cells, column widths from the first rows (a write-only sheet must know its widths
    before any row), and a print setup (landscape, fit to the page's width, the header on
    every page)."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[Col]) -> None:
        self.ws = workbook.create_sheet(title)
        self.columns = list(columns)
        self.rows = 0
        self._buffer: list[Sequence[Any]] = []
        self._started = False
        print_setup(self.ws)

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
        last = get_column_letter(len(self.columns))
        self.ws.auto_filter.ref = f"A1:{last}{self.rows + 1}"

    def _start(self) -> None:
        self._started = True
        for index, col in enumerate(self.columns, start=1):
            width = max(col.width or 0, self._width(index - 1, col))
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A2"
        self.ws.append([header_cell(self.ws, col.header) for col in self.columns])
        for values in self._buffer:
            self.ws.append(self._cells(values))
        self._buffer = []

    def _width(self, at: int, col: Col) -> float:
        # The header wraps on at most two lines, its longest word whole beside the filter
        # button.
        longest = max(max(len(word) for word in col.header.split()) + 2,
                      (len(col.header) + 1) // 2 + 1)
        if col.kind in _FIXED_WIDTHS:
            longest = max(longest, _FIXED_WIDTHS[col.kind])
        else:
            for values in self._buffer:
                value = values[at]
                if value is not None:
                    longest = max(longest, len(str(value)))
        return max(_MIN_WIDTH, min(_MAX_WIDTH, longest + 2))

    def _cells(self, values: Sequence[Any]) -> list[Any]:
        return typed_cells(self.ws, self.columns, values)


def typed_cells(ws: Any, columns: Sequence[Col], values: Sequence[Any]) -> list[Any]:
    """One row's cells of a write-only sheet, each written as its column's kind."""
    return [_cell(ws, col, value) for col, value in zip(columns, values, strict=True)]


def _cell(ws: Any, col: Col, value: Any) -> Any:
    if value is None:
        return None
    if col.kind in _FORMATTED:
        number_format, convert = _FORMATTED[col.kind]
        cell = WriteOnlyCell(ws, value=convert(value))
        cell.number_format = number_format
        return cell
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    if not text.startswith("="):
        return text
    # Typed by a user, never a formula.
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    return cell
