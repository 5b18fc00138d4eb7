"""One import as it goes: its settings and report (:class:`ImportRun`), and the plan of
each group and household the file names, filled by the sheets' checks and written by
models.exchange.apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import MemberRole
from bot.core.reminder_rules import Rules
from models.areas import is_within
from models.exchange.reading import RawRow
from models.exchange.report import ImportReport, RefusalCode
from models.exchange.values import date_reason, local_today, text, to_date
from models.tables import Group, Member, Mentor

if TYPE_CHECKING:
    from bot.core.places import PlaceIndex
    from models.exchange.lookup import Mentors


@dataclass
class ImportRun:
    """What every check of one import needs: who imports, where, when, under which rules,
    and the report the refusals go to."""

    session: AsyncSession
    actor: Mentor
    area: str | None  # None: the whole country (an admin)
    places: PlaceIndex
    now: datetime
    dates: dict[str, date]  # models.reports.local_dates
    mentors: Mentors
    min_size: int
    max_size: int
    default_interval: int
    rules: Rules | None
    report: ImportReport = field(default_factory=ImportReport)
    lpj_months: int = 3  # a grant's LPJ is due this many months after receipt

    def today_at(self, village: str | None) -> date:
        return local_today(self.dates, village) if village else self.dates["WIB"]

    def refuse(self, sheet: str, row: RawRow, code: RefusalCode, /, *,
               column: str | None = None, **values: Any) -> None:
        self.report.refuse(sheet, row.number, code, column=column, **values)

    def village_of(self, row: RawRow, sheet: str) -> str | None:
        """The row's village code when it is a village inside the actor's area; else the row
        is refused and None."""
        code = text(row.values.get("village_code"))
        if not code:
            self.refuse(sheet, row, RefusalCode.VILLAGE_MISSING)
            return None
        place = self.places.get(code)
        if place is None or place.level != 4:
            self.refuse(sheet, row, RefusalCode.VILLAGE_UNKNOWN, code=code)
            return None
        if self.area is not None and not is_within(code, self.area):
            area_place = self.places.get(self.area)
            self.refuse(sheet, row, RefusalCode.VILLAGE_OUTSIDE, village=place.label,
                        area=area_place.label if area_place else self.area)
            return None
        return code

    def read_date(self, sheet: str, row: RawRow, key: str, column: str, village: str | None,
                  *, past: bool = True) -> date | None:
        """The date in the row's cell ``key`` (not after today when ``past``); else the row is
        refused and None."""
        cell = row.values[key]
        found = to_date(cell, self.today_at(village))
        if found is None:
            self.refuse(sheet, row, date_reason(cell), column=column, value=text(cell))
        elif past and found > self.today_at(village):
            self.refuse(sheet, row, RefusalCode.DATE_FUTURE, column=column)
            return None
        return found


@dataclass
class GroupRow:
    """A Kelompok row checked on its own: its values, before the data is looked at."""

    row: RawRow
    village: str  # "" when refused
    name: str
    fields: dict[str, Any]
    mentor: Mentor | None


@dataclass
class GroupPlan:
    row: RawRow | None  # None: a registered group that only the Anggota sheet names
    key: tuple[str, str]
    village_code: str
    name: str
    fields: dict[str, Any]  # the values given (blank cells left out)
    mentor: Mentor | None
    existing: Group | None
    members: list[MemberPlan] = field(default_factory=list)
    refused: bool = False


@dataclass
class MemberPlan:
    row: RawRow
    group_key: tuple[str, str]
    name: str
    fields: dict[str, Any]
    existing: Member | None = None
    leaving: bool = False
    consent: bool = False  # the row's new NIK / phone come with the household's consent
    category_before: str | None = None  # a registered household's category, for its history
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
