"""Dates as mentors type them: "kemarin", "besok", "minggu depan", "senin", "tgl 5", "25 Nov",
"3 desmber", "25/11/26"; and days that do not exist ("31/02/2026"), named as such.

Reading runs on the event loop, where every other user waits: the forms people type are read
here with a few regular expressions and dictionary look-ups (microseconds); only what they do
not cover goes to dateparser (milliseconds), configured once per day with Indonesian and English
only. bench/dates.py measures both."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache

from babel.dates import get_day_names, get_month_names
from dateparser.date import DateDataParser
from rapidfuzz import fuzz, process

from bot.core.parsing.common import APOSTROPHES, clean, user_text

__all__ = ["TWO_DIGIT_YEARS_AHEAD", "nonexistent_date", "parse_date", "parse_date_ahead",
           "warm_up_dates"]

# Longer inputs are never a valid date.
_MAX_INPUT = 200

# Common SMS spellings, rewritten to words dateparser knows.
_DATE_WORDS = {
    "kmrn": "kemarin",
    "kmren": "kemarin",
    "kemaren": "kemarin",
    "kmarin": "kemarin",
    "bsk": "besok",
    "besuk": "besok",
    "esok": "besok",
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
    "dpn": "depan",
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
    r"(?P<hari>hari )?(?P<last>last |next )?(?P<day>[a-z]+)"
    r"(?P<when> (?:lalu|kemarin|yang lalu|depan))?"
)
# "tgl 5": a day of a month left unsaid (this one, or the one before or after).
_DAY_OF_MONTH = re.compile(r"(?:tgl|tggl|tanggal|tanggalnya)\.? ?(\d{1,2})")
_DAY_MONTHNAME = re.compile(
    r"(?:(?P<weekday>[^\W\d_]+),? )?(?P<day>\d{1,2}) (?P<month>[^\W\d_]+)\.?(?:,? (?P<year>\d{4}))?")
_MONTHNAME_DAY = re.compile(
    r"(?:(?P<weekday>[^\W\d_]+),? )?(?P<month>[^\W\d_]+)\.? (?P<day>\d{1,2}),?(?: (?P<year>\d{4}))?")
# Days from today, said as a word.
_DAYS_FROM_TODAY = {
    "hari ini": 0, "sekarang": 0, "today": 0, "now": 0,
    "kemarin": -1, "yesterday": -1,
    "kemarin lusa": -2, "kemarin dulu": -2, "day before yesterday": -2,
    "besok": 1, "tomorrow": 1,
    "lusa": 2, "besok lusa": 2, "day after tomorrow": 2,
}
_UNITS = {"hari": "day", "day": "day", "minggu": "week", "week": "week", "bulan": "month",
          "month": "month", "tahun": "year", "year": "year"}
# "3 hari lagi", "2 minggu lalu", "seminggu yang lalu", "a week ago", "in 3 days".
_SPAN = re.compile(
    r"(?:in )?(?P<count>\d{1,4}|se|an?) ?(?P<unit>hari|minggu|bulan|tahun|day|week|month|year)s?"
    r"(?: (?P<way>lagi|kemudian|lalu|yang lalu|ago|later|dari sekarang))?")
# "minggu depan" (a week from today), "bulan depan", "tahun lalu", "next week", "last month".
# "minggu lalu" usually means "last week", which is no particular day: left to dateparser,
# which refuses it.
_NEXT_OR_LAST = re.compile(
    r"(?P<unit>minggu|bulan|tahun) (?P<way>depan|lalu)|(?P<way_en>next|last) (?P<unit_en>week|month|year)")
# Words that are never a misspelt month, though they may stand beside a number.
_NOT_MONTHS = frozenset(
    {"hari", "minggu", "bulan", "tahun", "lagi", "lalu", "yang", "depan", "kemarin", "lusa",
     "besok", "ini", "sekarang", "kemudian", "dari", "day", "days", "week", "weeks", "month",
     "months", "year", "years", "ago", "later", "in", "next", "last", "today", "tomorrow",
     "yesterday", "the", "of", "and", "dan", "st", "nd", "rd", "th", "se", "an", "a"})
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


@lru_cache(maxsize=1)
def _month_numbers() -> dict[str, int]:
    """Lowercase month names (wide and abbreviated, Indonesian and English) → 1..12."""
    names = {name.rstrip("."): number for name, number in _babel_names(get_month_names)}
    return {"nopember": 11, "nop": 11, "agt": 8, "agust": 8, "sept": 9, "peb": 2,
            "pebruari": 2, "febuari": 2, "pebuari": 2, **names}


@lru_cache(maxsize=1024)
def _misspelt_month(word: str) -> int | None:
    """The month a word not in the tables most likely means: the only month it starts
    ("agustu", "desem"), else the only month close enough ("desmber", "novembr", "okotber");
    None when no month or two months fit (a guess would store a wrong day)."""
    if len(word) < 3 or word in _NOT_MONTHS or word in _weekday_names():
        return None
    names = _month_numbers()
    started = {number for name, number in names.items() if name.startswith(word)}
    if len(started) == 1:
        return started.pop()
    if started or len(word) < 4:
        return None
    # rapidfuzz's plain ratio: "desmber"/"desember" 93, "juni"/"juli" 75 (refused).
    close = process.extract(word, list(names), scorer=fuzz.ratio, score_cutoff=80, limit=4)
    if not close:
        return None
    best = close[0][1]
    months = {names[name] for name, score, _ in close if score == best}
    return months.pop() if len(months) == 1 else None


def _respell_months(cleaned: str) -> str:
    """Writes a misspelt month beside a number as the month's name ("3 desmber" →
    "3 desember"), so every reader below (and dateparser) sees a month it knows."""
    words = cleaned.split(" ")
    if len(words) < 2:
        return cleaned
    months, names = _month_numbers(), None
    for index, word in enumerate(words):
        if not word.isalpha() or word in months:
            continue
        beside = words[max(index - 1, 0):index] + words[index + 1:index + 2]
        if not any(other.rstrip(",.").isdigit() for other in beside):
            continue
        month = _misspelt_month(word)
        if month is not None:
            names = names or dict(get_month_names("wide", locale="id"))
            words[index] = names[month].lower()
    return " ".join(words)


@lru_cache(maxsize=8)
def _date_parser(today: date) -> DateDataParser:
    # Two languages, tried in this order, without detecting others: dateparser's language
    # detection is most of its cost.
    settings = dict(_DATE_SETTINGS, RELATIVE_BASE=datetime(today.year, today.month, today.day))
    return DateDataParser(languages=["id", "en"], settings=settings, try_previous_locales=False,
                          use_given_order=True)


def _normalise_date_text(text: str) -> str:
    cleaned = APOSTROPHES.sub("", clean(text))
    cleaned = re.sub(r"(\d)([a-z])", r"\1 \2", cleaned)  # "2hr" → "2 hr", "25nov" → "25 nov"
    cleaned = _TIME_PARTS.sub(" ", cleaned)
    words = [_DATE_WORDS.get(word, word) for word in cleaned.split(" ")]
    return _respell_months(" ".join(word for word in words if word).strip(" ,.!?"))


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), on the month's last day if it is shorter
    ("31 Jan" + 1 → "28 Feb")."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _weekday_date(cleaned: str, today: date, start: date | None) -> date | None:
    """A weekday: "senin" is the most recent Monday (today if today is Monday), or when a day
    ahead is asked (``start``: the first day it may be) the first Monday from ``start``;
    "senin lalu" the one strictly before today; "senin depan" the Monday of next week (Monday
    to Sunday); None if ``cleaned`` is not a weekday."""
    match = _WEEKDAY.fullmatch(cleaned)
    if not match:
        return None
    weekday = _weekday_names().get(match["day"])
    if weekday is None:
        return None
    when = match["when"] or ""
    if match["day"] == "minggu" and when and not match["hari"]:
        # "minggu lalu" usually means "last week", "minggu depan" a week from today.
        return None
    if when == " depan" or match["last"] == "next ":
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + weekday)
    if when or match["last"]:
        return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
    if start is not None:
        return start + timedelta(days=(weekday - start.weekday()) % 7)
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def _day_of_month(day: int, today: date, start: date | None) -> date | None:
    """"tgl 5": this month's 5th if it has come (else the last month's), or when a day ahead
    is asked, the first 5th from ``start``. Months without that day are passed over."""
    if not 1 <= day <= 31:
        return None
    first = start or today
    for months in range(13):
        year, month = divmod(first.month - 1 + (months if start else -months), 12)
        year += first.year
        if day <= calendar.monthrange(year, month + 1)[1]:
            found = date(year, month + 1, day)
            if (found >= start) if start else (found <= today):
                return found
    return None


def _latest(day: int, month: int, today: date) -> date | None:
    """The most recent date not after ``today`` with this day and month (29 February: of the
    last leap year); None if no month has that day."""
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        return None
    year = today.year
    while day > calendar.monthrange(year, month)[1] or date(year, month, day) > today:
        year -= 1
    return date(year, month, day)


# A two-digit year is this century's up to this many years after today, else the last's.
TWO_DIGIT_YEARS_AHEAD = 30


def _day_month_year(day: int, month: int, year: str | None, today: date) -> date | None:
    """The date of the numbers typed: without a year the latest not after today; a
    two-digit year in this century unless that is more than TWO_DIGIT_YEARS_AHEAD years
    ahead; None if there is no such day."""
    if year is None:
        return _latest(day, month, today)
    number = int(year)
    if len(year) == 2:
        number += 2000 if 2000 + number <= today.year + TWO_DIGIT_YEARS_AHEAD else 1900
    try:
        return date(number, month, day)
    except ValueError:
        return None


def _numeric_date(cleaned: str, today: date) -> date | None:
    """An all-digit date ("25/11/2026", "25-11-26", "25/11", "25 11 2026", "2026-11-25")."""
    if match := _NUMERIC_YMD.fullmatch(cleaned):
        return _day_month_year(int(match[4]), int(match[3]), match[1], today)
    if match := _NUMERIC_DMY.fullmatch(cleaned):
        return _day_month_year(int(match[1]), int(match[3]), match[4], today)
    if match := _NUMERIC_DMY_SPACED.fullmatch(cleaned):
        return _day_month_year(int(match[1]), int(match[2]), match[3], today)
    return None


def _month_name_date(cleaned: str, today: date) -> date | None | bool:
    """A day and a month name, maybe a year and a weekday before ("25 Nov", "Rabu, 25
    November 2026", "November 25, 2026"); False if ``cleaned`` is not of this form (then
    dateparser reads it)."""
    match = _DAY_MONTHNAME.fullmatch(cleaned) or _MONTHNAME_DAY.fullmatch(cleaned)
    if not match:
        return False
    month = _month_numbers().get(match["month"])
    weekday = match["weekday"]
    if month is None or (weekday is not None and weekday not in _weekday_names()):
        return False
    return _day_month_year(int(match["day"]), month, match["year"], today)


def _span_date(cleaned: str, today: date) -> date | None | bool:
    """Days, weeks, months or years from today, either way ("3 hari lagi", "2 minggu lalu",
    "bulan depan", "a week ago"); False if ``cleaned`` is not of this form."""
    if match := _NEXT_OR_LAST.fullmatch(cleaned):
        unit = _UNITS[match["unit"] or match["unit_en"]]
        count = 1 if (match["way"] or match["way_en"]) in ("depan", "next") else -1
        if unit == "week" and match["way"] == "lalu":
            return False
    elif match := _SPAN.fullmatch(cleaned):
        way = match["way"]
        if way is None and not cleaned.startswith("in "):
            return False  # "3 hari" is a span, not a date
        count = int(match["count"]) if match["count"].isdigit() else 1
        if way in ("lalu", "yang lalu", "ago"):
            count = -count
        unit = _UNITS[match["unit"]]
    else:
        return False
    if unit == "day":
        return today + timedelta(days=count)
    if unit == "week":
        return today + timedelta(days=7 * count)
    return _add_months(today, count * (12 if unit == "year" else 1))


def _read(cleaned: str, today: date, start: date | None) -> date | None:
    """The date ``cleaned`` (normalised) names, relative to ``today``; ``start`` for a day
    ahead (the first day it may be), None for one that has come."""
    if (days := _DAYS_FROM_TODAY.get(cleaned)) is not None:
        return today + timedelta(days=days)
    if _NUMERIC_ONLY.fullmatch(cleaned):
        # dateparser reads impossible numbers creatively ("32/11" → 1932-11-11).
        return _numeric_date(cleaned, today)
    if (found := _month_name_date(cleaned, today)) is not False:
        return found
    if (found := _span_date(cleaned, today)) is not False:
        return found
    weekday = _weekday_date(cleaned, today, start)
    if weekday is not None:
        return weekday
    parsed = _date_parser(today).get_date_data(cleaned).date_obj
    return parsed.date() if parsed is not None else None


def _typed(text: str, today: date, start: date | None) -> date | None:
    today = date(today.year, today.month, today.day)  # a datetime would leak through
    said = clean(text).strip(" ,.!?")
    if match := _DAY_OF_MONTH.fullmatch(said):
        return _day_of_month(int(match[1]), today, start)
    cleaned = _normalise_date_text(text)
    return _read(cleaned, today, start) if cleaned else None


@user_text(_MAX_INPUT)
def parse_date(text: str, *, today: date) -> date | None:
    """Parses a date typed by a mentor, relative to ``today``; None if it is not a date.

    Understands Indonesian and English: "hari ini", "kemarin", "kemarin lusa", "besok", "lusa",
    "2 hari lalu", "1 minggu lalu", "3 hari lagi", "minggu depan" (a week from today), "bulan
    depan" (the same day next month, or its last day), "25 Nov", "25 november 2026",
    misspelt months ("3 desmber", "17 agustu"), "25/11/2026", "25-11-2026", "25/11",
    "2026-11-25", weekday names ("senin": the most recent Monday, today if it is Monday;
    "senin lalu": strictly before today; "senin depan": next week's), "tgl 5" (this month's
    5th if it has come, else last month's), "today", "yesterday", "tomorrow", "next week".
    A day and month without a year is the most recent such date not after today. A full date
    in the future is returned as typed (the caller checks ranges). A two-digit year is this
    century's up to TWO_DIGIT_YEARS_AHEAD years after today ("25/11/30" is 2030), else the
    last century's. Bare numbers ("5"), months alone ("november") and times ("jam 10") are
    refused.
    """
    return _typed(text, today, None)


_DAY_MONTHNAME_YEAR = re.compile(r"(\d{1,2}) ([^\W\d_]+)\.?(?: (\d{4}))?")


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


def warm_up_dates() -> None:
    """Builds the name tables and loads dateparser's language data (about 150 ms of CPU the
    first time), so that the first date a user types after a start does not pay for it."""
    today = date.today()
    for text in ("25 desmber 2026", "minggu lalu"):
        parse_date(text, today=today)


# "27 Des", "27/12", "5 agustus": a day and a month, no year. Words that make it a span instead
# ("3 hari", "2 minggu lagi") are read as such by parse_date.
_DAY_MONTH = re.compile(r"^\s*\d{1,2}\s*(?:[/.\-]\s*\d{1,2}|[\s/.\-]*([^\W\d_]{3,})\.?)\s*$")
_RELATIVE_WORDS = frozenset({"hari", "minggu", "mgg", "bulan", "bln", "tahun", "thn", "lagi",
                             "lalu", "day", "days", "week", "weeks", "month", "months", "year",
                             "years"})


@user_text(_MAX_INPUT)
def parse_date_ahead(text: str, *, after: date, horizon_days: int, today: date) -> date | None:
    """Reads a date planned ahead of ``after`` (the next visit, a roll-over deadline). A day and
    month without a year ("27 Des", "27/12") means the first such date after ``after``, not the
    last one before today as for past dates; a weekday ("senin") or a day of the month ("tgl
    5") the first one after both today and ``after``; anything else reads as parse_date does
    ("besok", "minggu depan", "3 hari lagi")."""
    match = _DAY_MONTH.match(text.lower())
    if match and (match.group(1) or "") not in _RELATIVE_WORDS:
        return parse_date(text, today=after + timedelta(days=horizon_days))
    start = max(date(today.year, today.month, today.day), after) + timedelta(days=1)
    return _typed(text, today, start)
