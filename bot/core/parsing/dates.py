"""Dates as mentors type them: "kemarin", "2 hari lalu", "senin", "25 Nov", "25/11/26"; and days
that do not exist ("31/02/2026"), named as such."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache

from babel.dates import get_day_names, get_month_names
from dateparser.date import DateDataParser

from bot.core.parsing.common import APOSTROPHES, clean, user_text

__all__ = ["TWO_DIGIT_YEARS_AHEAD", "nonexistent_date", "parse_date", "parse_date_ahead"]

# Longer inputs are never a valid date.
_MAX_INPUT = 200

# Common SMS spellings, rewritten to words dateparser knows.
_DATE_WORDS = {
    "kmrn": "kemarin",
    "kmren": "kemarin",
    "kemaren": "kemarin",
    "kmarin": "kemarin",
    "yg": "yang",
    "hr": "hari",
    # "tanggal" announces a date and says nothing about it; dateparser, which reads one
    # language per text, would miss "tgl 1 january".
    "tanggal": "",
    "tgl": "",
    "tggl": "",
    "tanggalnya": "",
    "mgg": "minggu",
    "mg": "minggu",
    "bln": "bulan",
    "thn": "tahun",
    "th": "tahun",
    "tadi": "hari ini",
}
# Times of day carry no date; "jam 10" must not become "the 10th".
_TIME_PARTS = re.compile(
    r"\b(?:jam|pukul|pkl)\s*\d{1,2}(?:[:.]\d{2})?\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"
    r"|\b(?:pagi|siang|sore|malam|wib|wita|wit)\b"
)
_NUMERIC_ONLY = re.compile(r"[\d\s/.\-]+")
_NUMERIC_DMY = re.compile(r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})(?:\s*\2\s*(\d{4}|\d{2}))?")
_NUMERIC_DMY_SPACED = re.compile(r"(\d{1,2}) (\d{1,2}) (\d{4}|\d{2})")
_NUMERIC_YMD = re.compile(r"(\d{4})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{1,2})")
_WEEKDAY = re.compile(
    r"(?P<hari>hari )?(?P<last>last )?(?P<day>[a-z]+)(?P<past> (?:lalu|kemarin|yang lalu))?"
)
_DATE_SETTINGS = {
    "DATE_ORDER": "DMY",
    "PREFER_DATES_FROM": "past",
    "RETURN_AS_TIMEZONE_AWARE": False,
    # No unix timestamps ("1700000000") nor digit runs ("25112026").
    "PARSERS": ["relative-time", "custom-formats", "absolute-time"],
    # "november" or "2026" alone is not a date.
    "REQUIRE_PARTS": ["day", "month"],
}


def _babel_names(get_names: Callable[..., Mapping[int, str]]) -> Iterator[tuple[str, int]]:
    """(lowercase name, number) for Babel's day or month names, wide and abbreviated, in
    Indonesian and English."""
    for locale in ("id", "en"):
        for width in ("wide", "abbreviated"):
            for number, name in get_names(width, locale=locale).items():
                yield clean(name), number


@lru_cache(maxsize=1)
def _weekday_names() -> dict[str, int]:
    """Lowercase weekday names (wide and abbreviated, Indonesian and English) → 0=Monday."""
    names = {name.replace("'", ""): number for name, number in _babel_names(get_day_names)}
    return {"ahad": 6, "jumat": 4, **names}


@lru_cache(maxsize=8)
def _date_parser(today: date) -> DateDataParser:
    settings = dict(_DATE_SETTINGS, RELATIVE_BASE=datetime(today.year, today.month, today.day))
    return DateDataParser(languages=["id", "en"], settings=settings)


def _normalise_date_text(text: str) -> str:
    cleaned = APOSTROPHES.sub("", clean(text))
    cleaned = re.sub(r"(\d)([a-z])", r"\1 \2", cleaned)  # "2hr" → "2 hr", "25nov" → "25 nov"
    cleaned = _TIME_PARTS.sub(" ", cleaned)
    words = [_DATE_WORDS.get(word, word) for word in cleaned.split(" ")]
    return " ".join(word for word in words if word).strip(" ,.!?")


def _weekday_date(cleaned: str, today: date) -> date | None:
    """A weekday: "senin" is the most recent Monday (today if today is Monday), "senin lalu"
    the one strictly before today; None if ``cleaned`` is not a weekday."""
    match = _WEEKDAY.fullmatch(cleaned)
    if not match:
        return None
    weekday = _weekday_names().get(match["day"])
    if weekday is None:
        return None
    if match["day"] == "minggu" and match["past"] and not match["hari"]:
        # "minggu lalu" usually means "last week", which is no particular day.
        return None
    back = (today.weekday() - weekday) % 7
    if back == 0 and (match["last"] or match["past"]):
        back = 7
    return today - timedelta(days=back)


def _numeric_parts(cleaned: str) -> tuple[int | None, int, int, int | None] | None:
    """For an all-digit date: (year, month, day, digits in the year) as typed; None if no date."""
    if match := _NUMERIC_YMD.fullmatch(cleaned):
        return int(match[1]), int(match[3]), int(match[4]), 4
    match = _NUMERIC_DMY.fullmatch(cleaned)
    if match:
        day, month, year = match[1], match[3], match[4]
    elif match := _NUMERIC_DMY_SPACED.fullmatch(cleaned):
        day, month, year = match[1], match[2], match[3]
    else:
        return None
    return (int(year) if year else None), int(month), int(day), (len(year) if year else None)


# A two-digit year is this century's up to this many years after today, else the last's.
TWO_DIGIT_YEARS_AHEAD = 30


@user_text(_MAX_INPUT)
def parse_date(text: str, *, today: date) -> date | None:
    """Parses a date typed by a mentor, relative to ``today``; None if it is not a date.

    Understands Indonesian and English: "hari ini", "kemarin", "kemarin lusa", "2 hari lalu",
    "1 minggu lalu", "25 Nov", "25 november 2026", "25/11/2026", "25-11-2026", "25/11",
    "2026-11-25", weekday names ("senin": the most recent Monday, today if it is Monday;
    "senin lalu": strictly before today), "today", "yesterday". A day and month without a
    year is the most recent such date not after today. A full date in the future is returned
    as typed (the caller checks ranges). A two-digit year is this century's up to
    TWO_DIGIT_YEARS_AHEAD years after today ("25/11/30" is 2030), else the last century's.
    Bare numbers ("5"), months alone ("november") and times ("jam 10") are refused.
    """
    today = date(today.year, today.month, today.day)  # a datetime would leak through
    cleaned = _normalise_date_text(text)
    if not cleaned:
        return None
    weekday = _weekday_date(cleaned, today)
    if weekday is not None:
        return weekday
    numeric = None
    if _NUMERIC_ONLY.fullmatch(cleaned):
        numeric = _numeric_parts(cleaned)
        if numeric is None:
            return None
    parsed = _date_parser(today).get_date_data(cleaned).date_obj
    if parsed is None:
        return None
    result = parsed.date()
    if numeric is not None:
        # dateparser reads impossible numbers creatively ("32/11" → 1932-11-11): the
        # date must be made of exactly the numbers typed.
        year, month, day, year_digits = numeric
        if (result.month, result.day) != (month, day):
            return None
        if year is not None and year_digits == 4 and result.year != year:
            return None
        if year is not None and year_digits == 2:
            if result.year % 100 != year:
                return None
            # dateparser puts "25/11/30" in 1930 (the past is preferred); a mentor means
            # 2030: this century, unless that is more than TWO_DIGIT_YEARS_AHEAD away.
            century = 2000 if 2000 + year <= today.year + TWO_DIGIT_YEARS_AHEAD else 1900
            result = date(century + year, month, day)  # ValueError (29/02) → None
    return result


_DAY_MONTHNAME_YEAR = re.compile(r"(\d{1,2}) ([^\W\d_]+)\.?(?: (\d{4}))?")


@lru_cache(maxsize=1)
def _month_numbers() -> dict[str, int]:
    """Lowercase month names (wide and abbreviated, Indonesian and English) → 1..12."""
    names = {name.rstrip("."): number for name, number in _babel_names(get_month_names)}
    return {"nopember": 11, "agt": 8, "sept": 9, "peb": 2, "pebruari": 2, **names}


@user_text(_MAX_INPUT)
def nonexistent_date(text: str) -> tuple[int, int, int | None] | None:
    """(day, month, year or None) when ``text`` names a day its month does not have
    ("31/02/2026", "30 Februari", "2026-04-31", "29/02/2025"); None otherwise (a real date or
    no date at all). A two-digit year is read as 20yy. For the caller's "that day does not
    exist" answer: :func:`parse_date` returns None for such a text, like for any non-date.
    """
    cleaned = _normalise_date_text(text)
    if match := _NUMERIC_YMD.fullmatch(cleaned):
        year, month, day = int(match[1]), int(match[3]), int(match[4])
    elif match := _NUMERIC_DMY.fullmatch(cleaned):
        day, month = int(match[1]), int(match[3])
        year = int(match[4]) if match[4] else None
        if year is not None and len(match[4]) == 2:
            year += 2000
    elif match := _DAY_MONTHNAME_YEAR.fullmatch(cleaned):
        month = _month_numbers().get(match[2])
        if month is None:
            return None
        day, year = int(match[1]), int(match[3]) if match[3] else None
    else:
        return None
    if not 1 <= month <= 12 or day < 1 or (year is not None and not 1 <= year <= 9999):
        return None
    # Without a year, 29 February exists (in leap years).
    last = calendar.monthrange(year if year is not None else 2000, month)[1]
    return (day, month, year) if day > last else None


# "27 Des", "27/12", "5 agustus": a day and a month, no year. Words that make it a span instead
# ("3 hari", "2 minggu lagi") are read as such by parse_date.
_DAY_MONTH = re.compile(r"^\s*\d{1,2}\s*(?:[/.\-]\s*\d{1,2}|[\s/.\-]*([^\W\d_]{3,})\.?)\s*$")
_RELATIVE_WORDS = frozenset({"hari", "minggu", "mgg", "bulan", "bln", "tahun", "thn", "lagi",
                             "lalu", "day", "days", "week", "weeks", "month", "months", "year",
                             "years"})


def parse_date_ahead(text: str, *, after: date, horizon_days: int, today: date) -> date | None:
    """Reads a date planned ahead of ``after`` (the next visit, a roll-over deadline). A day and
    month without a year ("27 Des", "27/12") means the first such date after ``after``, not the
    last one before today as for past dates; anything else reads as parse_date does."""
    match = _DAY_MONTH.match(text.lower())
    if match and (match.group(1) or "") not in _RELATIVE_WORDS:
        return parse_date(text, today=after + timedelta(days=horizon_days))
    return parse_date(text, today=today)
