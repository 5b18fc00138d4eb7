"""What an import answers, as data: a file refused as a whole (:class:`ImportFileError`), or
per sheet the rows taken and the rows refused with typed reasons. The words for them are
chosen above the models (handlers.exchange_words)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from models.exchange.workbook import IMPORT_SHEETS


class FileProblem(StrEnum):
    """Why a file cannot be imported at all."""

    UNREADABLE = "unreadable"
    NO_SHEETS = "no_sheets"  # neither a Kelompok nor an Anggota sheet
    MISSING_COLUMN = "missing_column"  # values: sheet, column
    TOO_MANY_ROWS = "too_many_rows"  # values: sheet, max
    TOO_BIG = "too_big"  # values: max_mb
    # Too big once unpacked, or built to hurt (a zip bomb, a DOCTYPE): models.exchange.safezip
    UNSAFE = "unsafe"


class ImportFileError(Exception):
    """The file cannot be imported at all: ``code`` says why, ``params`` the values."""

    def __init__(self, code: FileProblem, **params: Any) -> None:
        super().__init__(code)
        self.code = FileProblem(code)
        self.params = params


class RefusalCode(StrEnum):
    """Why a row was refused. The values a reason carries are named beside it."""

    VILLAGE_MISSING = "village_missing"
    VILLAGE_UNKNOWN = "village_unknown"  # code
    VILLAGE_OUTSIDE = "village_outside"  # village, area (labels)
    GROUP_NAME = "group_name"
    BUSINESS = "business"  # value
    STAGE = "stage"  # value
    TIE = "tie"  # value
    DATE = "date"  # column, value
    NO_SUCH_DATE = "no_such_date"  # column, value
    DATE_FUTURE = "date_future"  # column
    INTERVAL = "interval"  # value
    MENTOR_UNKNOWN = "mentor_unknown"  # value
    MENTOR_AMBIGUOUS = "mentor_ambiguous"  # value
    REQUIRED = "required"  # column
    DUPLICATE_GROUP = "duplicate_group"  # row (the earlier one)
    GROUP_AMBIGUOUS = "group_ambiguous"  # count
    GROUP_UNKNOWN = "group_unknown"  # name, code
    GROUP_REFUSED = "group_refused"  # row (of the group on the Kelompok sheet)
    # bot.core.parsing.parse_member_fields's errors
    MEMBER_NAME = "member_name"
    MEMBER_CATEGORY = "member_category"
    MEMBER_ROLE = "member_role"
    MEMBER_NIK = "member_nik"
    MEMBER_PHONE = "member_phone"
    MEMBER_FIELDS = "member_fields"
    NIK = "nik"
    PHONE = "phone"
    LEFT_UNKNOWN = "left_unknown"  # name
    DUPLICATE_MEMBER = "duplicate_member"  # row (the earlier one)
    NO_MEMBERS = "no_members"  # min
    # bot.core.parsing.group_problems's answers; values: group, count, min, max
    PROBLEM_TOO_FEW = "problem_too_few"
    PROBLEM_TOO_MANY = "problem_too_many"
    PROBLEM_MISSING_KETUA = "problem_missing_ketua"
    PROBLEM_MISSING_SEKRETARIS = "problem_missing_sekretaris"
    PROBLEM_MISSING_BENDAHARA = "problem_missing_bendahara"
    PROBLEM_DUPLICATE_KETUA = "problem_duplicate_ketua"
    PROBLEM_DUPLICATE_SEKRETARIS = "problem_duplicate_sekretaris"
    PROBLEM_DUPLICATE_BENDAHARA = "problem_duplicate_bendahara"
    PROBLEM_DUPLICATE_NAME = "problem_duplicate_name"
    PROBLEM_DUPLICATE_NIK = "problem_duplicate_nik"
    # the household's programme fields
    SEX = "sex"  # value
    REGISTER = "register"  # value
    DECILE = "decile"  # value
    # the Bantuan sheet
    GRANT_REQUIRED = "grant_required"  # column
    NUMBER = "number"  # column, value
    GRANT_KIND = "grant_kind"  # value
    FUNDING = "funding"  # value
    GRANT_FORM = "grant_form"  # value
    YES_NO = "yes_no"  # column, value
    GRANT_BEFORE_FORMED = "grant_before_formed"  # column
    NO_OBLIGATION = "no_obligation"
    ROLL_OVER_GRANT = "roll_over_grant"
    DUE_RANGE = "due_range"
    LPJ_BEFORE_RECEIVED = "lpj_before_received"
    DUPLICATE_GRANT = "duplicate_grant"  # row (the earlier one)
    GROUP_DISSOLVED = "group_dissolved"  # name: a bubar group is read-only


class Reason(NamedTuple):
    """One reason a row was refused: its code, the column it is about (a header of the
    sheet), and the values that explain it."""

    code: RefusalCode
    column: str | None = None
    # Read-only: a default shared by every Reason must not be changed through one of them.
    values: Mapping[str, Any] = MappingProxyType({})


@dataclass
class Refusal:
    """A row that was not imported, with every reason found."""

    sheet: str
    row: int
    reasons: list[Reason]


@dataclass
class ImportReport:
    groups: Counter = field(default_factory=Counter)  # created / updated / unchanged
    members: Counter = field(default_factory=Counter)
    grants: Counter = field(default_factory=Counter)  # created / unchanged
    has_grants: bool = False  # the file had a Bantuan sheet
    taken: dict[str, list[int]] = field(
        default_factory=lambda: {sheet: [] for sheet in IMPORT_SHEETS})
    refused: list[Refusal] = field(default_factory=list)
    # Anggota rows taken without their new NIK / phone: no "ya" in the consent column.
    without_consent: list[int] = field(default_factory=list)
    _by_row: dict[tuple[str, int], Refusal] = field(default_factory=dict, repr=False)

    def refuse(self, sheet: str, row: int, code: RefusalCode | str, /, *,
               column: str | None = None, **values: Any) -> None:
        found = self._by_row.get((sheet, row))
        if found is None:
            found = self._by_row[(sheet, row)] = Refusal(sheet, row, [])
            self.refused.append(found)
        reason = Reason(RefusalCode(code), column, values)
        if reason not in found.reasons:
            found.reasons.append(reason)

    def is_refused(self, sheet: str, row: int) -> bool:
        return (sheet, row) in self._by_row

    def sorted_refusals(self) -> list[Refusal]:
        order = {sheet: at for at, sheet in enumerate(IMPORT_SHEETS)}
        return sorted(self.refused, key=lambda r: (order.get(r.sheet, len(order)), r.row))
