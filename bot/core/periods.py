"""Report periods: a month, a quarter (triwulan), a year, or a span of whole months, with its
first and last day, a code ("2027-01", "2027-Q1", "2027", "2027-02..2027-04") and a label in
Indonesian or English ("Triwulan I 2027 (Jan–Mar)").

Pure (no database): the presets relative to today (bulan ini, bulan lalu, triwulan ini,
triwulan lalu, tahun ini), what a user types ("Jan–Mar 2027", "maret 2027", "Q1 2027",
"triwulan 1 2027", "2026") and the command line's codes all read into a :class:`Period`.
Month names come from Babel in both languages, so "Agu", "Agustus", "Aug" and "August" read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from babel.dates import get_month_names

__all__ = ["FIRST_YEAR", "Period", "Preset", "parse_code", "parse_period", "preset"]

# No KUBE data is older than this; a typed year before it is a typo.
FIRST_YEAR = 2000
_LOCALES = {"id": "id_ID", "en": "en"}
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class Preset(StrEnum):
    THIS_MONTH = "bulan_ini"
    LAST_MONTH = "bulan_lalu"
    THIS_QUARTER = "triwulan_ini"
    LAST_QUARTER = "triwulan_lalu"
    THIS_YEAR = "tahun_ini"


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


@lru_cache(maxsize=4)
def _month_abbr(lang: str) -> dict[int, str]:
    return dict(get_month_names("abbreviated", context="stand-alone",
                                locale=_LOCALES.get(lang, _LOCALES["id"])))


@lru_cache(maxsize=4)
def _month_wide(lang: str) -> dict[int, str]:
    return dict(get_month_names("wide", context="format",
                                locale=_LOCALES.get(lang, _LOCALES["id"])))


@dataclass(frozen=True, order=True)
class Period:
    """Whole months from ``start`` (a 1st) to ``end`` (a month's last day), both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start.day != 1 or self.end != _month_end(self.end.year, self.end.month) \
                or self.end < self.start:
            raise ValueError(f"not a period of whole months: {self.start}..{self.end}")

    # --- what it is ----------------------------------------------------------------------------

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), _month_end(year, month))

    @classmethod
    def quarter(cls, year: int, number: int) -> Period:
        first = 3 * (number - 1) + 1
        return cls(date(year, first, 1), _month_end(year, first + 2))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def months(cls, start_year: int, start_month: int, end_year: int, end_month: int
               ) -> Period:
        return cls(date(start_year, start_month, 1), _month_end(end_year, end_month))

    @property
    def kind(self) -> str:
        """"month", "quarter", "year", or "months" (any other span of whole months)."""
        count = _months_between(self.start, self.end)
        if count == 1:
            return "month"
        if count == 3 and self.start.month % 3 == 1:
            return "quarter"
        if count == 12 and self.start.month == 1:
            return "year"
        return "months"

    @property
    def code(self) -> str:
        """"2027-01", "2027-Q1", "2027", or "2027-02..2027-04"; parse_code reads it back."""
        kind = self.kind
        if kind == "month":
            return f"{self.start:%Y-%m}"
        if kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if kind == "year":
            return str(self.start.year)
        return f"{self.start:%Y-%m}..{self.end:%Y-%m}"

    def label(self, lang: str = "id") -> str:
        """"Maret 2027", "Triwulan I 2027 (Jan–Mar)", "Tahun 2026", "Feb–Apr 2027" (or in
        English: "March 2027", "Q1 2027 (Jan–Mar)", "Year 2026", "Feb–Apr 2027")."""
        abbr = _month_abbr(lang)
        kind = self.kind
        if kind == "month":
            return f"{_month_wide(lang)[self.start.month]} {self.start.year}"
        if kind == "year":
            return f"{'Year' if lang == 'en' else 'Tahun'} {self.start.year}"
        span = f"{abbr[self.start.month]}–{abbr[self.end.month]}"
        if kind == "quarter":
            number = (self.start.month - 1) // 3 + 1
            head = (f"Q{number}" if lang == "en" else f"Triwulan {_ROMAN[number]}")
            return f"{head} {self.start.year} ({span})"
        if self.start.year == self.end.year:
            return f"{span} {self.start.year}"
        return (f"{abbr[self.start.month]} {self.start.year}–"
                f"{abbr[self.end.month]} {self.end.year}")

    def typed(self, lang: str = "id") -> str:
        """The period as a user would type it: "Jan–Mar 2027", "Mar 2027" (parse_period reads
        it back)."""
        abbr = _month_abbr(lang)
        if self.kind == "month":
            return f"{abbr[self.start.month]} {self.start.year}"
        if self.start.year == self.end.year:
            return f"{abbr[self.start.month]}–{abbr[self.end.month]} {self.start.year}"
        return (f"{abbr[self.start.month]} {self.start.year}–"
                f"{abbr[self.end.month]} {self.end.year}")

    def short(self, lang: str = "id") -> str:
        """A preset's button: "November 2026", "Okt–Des 2026", "2026"."""
        kind = self.kind
        if kind == "month":
            return self.label(lang)
        return str(self.start.year) if kind == "year" else self.typed(lang)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def until(self, today: date) -> date:
        """The last day of the period that has been lived by ``today``."""
        return min(self.end, today)


# --- presets ---------------------------------------------------------------------------------

def preset(which: Preset | str, today: date) -> Period:
    """One of the presets, relative to ``today``."""
    which = Preset(which)
    quarter = (today.month - 1) // 3 + 1
    if which is Preset.THIS_MONTH:
        return Period.month(today.year, today.month)
    if which is Preset.LAST_MONTH:
        last = today.replace(day=1) - timedelta(days=1)
        return Period.month(last.year, last.month)
    if which is Preset.THIS_QUARTER:
        return Period.quarter(today.year, quarter)
    if which is Preset.LAST_QUARTER:
        return (Period.quarter(today.year, quarter - 1) if quarter > 1
                else Period.quarter(today.year - 1, 4))
    return Period.year(today.year)


# --- reading ---------------------------------------------------------------------------------

def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[\u2010-\u2015\u2212~]", "-", text)  # en/em dashes, minus → "-"
    text = re.sub(r"\b(s/d|sd|sampai( dengan)?|hingga|to|until|till)\b", "-", text)
    text = re.sub(r"[.,;]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def _month_words() -> dict[str, int]:
    """Month names and abbreviations of both languages (Babel), and the usual short forms."""
    words: dict[str, int] = {}
    for lang in _LOCALES:
        for number, name in _month_wide(lang).items():
            words[name.casefold()] = number
        for number, name in _month_abbr(lang).items():
            words[name.casefold().rstrip(".")] = number
    words.update({"agt": 8, "agus": 8, "sept": 9, "nop": 11, "nopember": 11, "pebruari": 2,
                  "peb": 2})
    return words


_MONTH = r"([a-z]+)"
_YEAR = r"(\d{4})"
_PRESET_WORDS = {
    "bulan ini": Preset.THIS_MONTH, "this month": Preset.THIS_MONTH,
    "bulan lalu": Preset.LAST_MONTH, "last month": Preset.LAST_MONTH,
    "triwulan ini": Preset.THIS_QUARTER, "this quarter": Preset.THIS_QUARTER,
    "kuartal ini": Preset.THIS_QUARTER,
    "triwulan lalu": Preset.LAST_QUARTER, "last quarter": Preset.LAST_QUARTER,
    "kuartal lalu": Preset.LAST_QUARTER,
    "tahun ini": Preset.THIS_YEAR, "this year": Preset.THIS_YEAR,
}
_QUARTER_WORDS = r"(?:q|tw|triwulan|kuartal|quarter|trimester)"
_QUARTER_NUMBER = r"([1-4]|iv|iii|ii|i)"
_ROMAN_NUMBER = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _month(word: str) -> int | None:
    return _month_words().get(word.rstrip("."))


def _quarter_number(text: str) -> int:
    return int(text) if text.isdigit() else _ROMAN_NUMBER[text]


def _code(text: str) -> Period | None:
    """The command line's codes: 2027-01, 2027-Q1, 2027, 2027-02..2027-04."""
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(match[1]), int(match[2])
        return Period.month(year, month) if 1 <= month <= 12 else None
    if match := re.fullmatch(r"(\d{4})-?q([1-4])", text):
        return Period.quarter(int(match[1]), int(match[2]))
    if match := re.fullmatch(r"(\d{4})", text):
        return Period.year(int(match[1]))
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})\.\.(\d{4})-(\d{1,2})", text):
        months = [int(match[i]) for i in (2, 4)]
        if not all(1 <= month <= 12 for month in months):
            return None
        start, end = (int(match[1]), months[0]), (int(match[3]), months[1])
        return Period.months(*start, *end) if start <= end else None
    return None


def _in_years(period: Period | None) -> Period | None:
    if period is None or not FIRST_YEAR <= period.start.year <= 2100 \
            or period.end.year > 2100:
        return None
    return period


def parse_code(text: str) -> Period | None:
    """A command-line code (2027-01, 2027-Q1, 2027, 2027-02..2027-04), or None."""
    return _in_years(_code(text.strip().casefold()))


def _typed(text: str, today: date) -> Period | None:
    if text in _PRESET_WORDS:
        return preset(_PRESET_WORDS[text], today)
    if text in ("tahun lalu", "last year"):
        return Period.year(today.year - 1)
    found = _code(text.replace(" ", ""))
    if found is not None:
        return found
    # Q1 2027, triwulan 1 2027, triwulan I 2027, tw1-2027, 2027 Q1
    if match := re.fullmatch(rf"{_QUARTER_WORDS} ?-?{_QUARTER_NUMBER}[ -/]?{_YEAR}", text):
        return Period.quarter(int(match[2]), _quarter_number(match[1]))
    if match := re.fullmatch(rf"{_YEAR} ?{_QUARTER_WORDS} ?{_QUARTER_NUMBER}", text):
        return Period.quarter(int(match[1]), _quarter_number(match[2]))
    if match := re.fullmatch(r"(?:tahun|year|th) ?" + _YEAR, text):
        return Period.year(int(match[1]))
    # 03/2027, 3-2027
    if match := re.fullmatch(r"(\d{1,2}) ?[/-] ?" + _YEAR, text):
        month = int(match[1])
        return Period.month(int(match[2]), month) if 1 <= month <= 12 else None
    # maret 2027, mar 2027, bulan maret 2027
    if match := re.fullmatch(rf"(?:bulan )?{_MONTH} ?{_YEAR}", text):
        month = _month(match[1])
        return Period.month(int(match[2]), month) if month else None
    # jan-mar 2027, januari - maret 2027
    if match := re.fullmatch(rf"{_MONTH} ?- ?{_MONTH} ?{_YEAR}", text):
        first, last = _month(match[1]), _month(match[2])
        if not first or not last or last < first:
            return None
        year = int(match[3])
        return Period.months(year, first, year, last)
    # nov 2026 - feb 2027
    if match := re.fullmatch(rf"{_MONTH} ?{_YEAR} ?- ?{_MONTH} ?{_YEAR}", text):
        first, last = _month(match[1]), _month(match[3])
        if not first or not last:
            return None
        start, end = (int(match[2]), first), (int(match[4]), last)
        return Period.months(*start, *end) if start <= end else None
    # maret (this year's, or last year's when it is still to come)
    if match := re.fullmatch(rf"(?:bulan )?{_MONTH}", text):
        month = _month(match[1])
        if not month:
            return None
        year = today.year if month <= today.month else today.year - 1
        return Period.month(year, month)
    return None


def parse_period(text: str, today: date, *, future: bool = False) -> Period | None:
    """What a user typed ("Jan–Mar 2027", "maret 2027", "Q1 2027", "triwulan 1 2027", "2026",
    "bulan lalu", "2027-Q1") as a period, or None. A period that has not begun by ``today``
    is None too (there is nothing to report yet), unless ``future``: then it is read all the
    same, so the user can be told why it was refused."""
    try:
        found = _in_years(_typed(_norm(text), today))
    except ValueError:
        return None
    if found is None or (found.start > today and not future):
        return None
    return found
