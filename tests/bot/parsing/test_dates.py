"""bot.core.parsing.dates: dates as mentors type them, good and bad, and their properties."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

import pytest
from babel.dates import get_day_names
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.core.formatting import format_date, format_date_short, format_weekday_date
from bot.core.parsing import (
    TWO_DIGIT_YEARS_AHEAD,
    nonexistent_date,
    parse_date,
    parse_date_ahead,
)
from tests.bot.strategies import PROPS, SLOW, any_day, any_text, month_names, recent_today

TODAY = date(2026, 11, 27)  # a Friday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hari ini", date(2026, 11, 27)),
        ("Hari Ini", date(2026, 11, 27)),
        ("kemarin", date(2026, 11, 26)),
        ("kmrn", date(2026, 11, 26)),
        ("kemarin lusa", date(2026, 11, 25)),
        ("2 hari lalu", date(2026, 11, 25)),
        ("2 hari yang lalu", date(2026, 11, 25)),
        ("3 hari yg lalu", date(2026, 11, 24)),
        ("1 minggu lalu", date(2026, 11, 20)),
        ("25 Nov", date(2026, 11, 25)),
        ("25 november", date(2026, 11, 25)),
        ("25 Nopember", date(2026, 11, 25)),
        ("tgl 25 nov", date(2026, 11, 25)),
        ("17 Agustus", date(2026, 8, 17)),
        ("25/11/2026", date(2026, 11, 25)),
        ("25-11-2026", date(2026, 11, 25)),
        ("25.11.2026", date(2026, 11, 25)),
        ("25/11/26", date(2026, 11, 25)),
        ("25/11", date(2026, 11, 25)),
        ("2026-11-25", date(2026, 11, 25)),
        ("senin", date(2026, 11, 23)),
        ("Selasa", date(2026, 11, 24)),
        ("minggu", date(2026, 11, 22)),
        ("jumat", date(2026, 11, 27)),  # today is Friday
        ("jum'at", date(2026, 11, 27)),
        ("jumat lalu", date(2026, 11, 20)),
        ("today", date(2026, 11, 27)),
        ("yesterday", date(2026, 11, 26)),
        ("2 days ago", date(2026, 11, 25)),
        ("monday", date(2026, 11, 23)),
        ("kemarin sore", date(2026, 11, 26)),
        ("tadi pagi", date(2026, 11, 27)),
        ("Rabu, 25 November 2026", date(2026, 11, 25)),
        ("  kemarin.  ", date(2026, 11, 26)),
        ("1 Desember 2026", date(2026, 12, 1)),  # a full future date is returned as typed
    ],
)
def test_parse_date_good(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


def test_day_month_without_year_is_the_most_recent_past_one() -> None:
    assert parse_date("28/11", today=TODAY) == date(2025, 11, 28)
    assert parse_date("28 nov", today=TODAY) == date(2025, 11, 28)
    assert parse_date("27 nov", today=TODAY) == TODAY
    assert parse_date("25/11", today=date(2026, 1, 10)) == date(2025, 11, 25)


def test_weekday_is_today_when_today_is_that_day() -> None:
    monday = date(2026, 11, 23)
    assert parse_date("senin", today=monday) == monday
    assert parse_date("senin lalu", today=monday) == monday - timedelta(days=7)
    assert parse_date("minggu", today=monday) == date(2026, 11, 22)
    assert parse_date("hari minggu lalu", today=date(2026, 11, 22)) == date(2026, 11, 15)
    assert parse_date("minggu lalu", today=monday) is None  # "last week": no particular day


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "garbage",
        "5",
        "-5",
        "25",
        "2026",
        "november",
        "nov 2026",
        "32/11",
        "31/02/2026",
        "29 Februari 2025",
        "00/11",
        "11-25",
        "jam 10",
        "10:30",
        "1700000000",
        "25112026",
        "abc 12",
        "x" * 500,
    ],
)
def test_parse_date_bad(text: str) -> None:
    assert parse_date(text, today=TODAY) is None


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_parse_date_never_raises_on_short_text(text: str) -> None:
    result = parse_date(text, today=TODAY)
    assert result is None or isinstance(result, date)


@settings(max_examples=60, deadline=None)
@given(
    d=st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)),
    lang=st.sampled_from(["id", "en"]),
    formatter=st.sampled_from([format_date, format_date_short, format_weekday_date]),
)
def test_formatted_dates_parse_back(d: date, lang: str, formatter) -> None:
    assert parse_date(formatter(d, lang), today=TODAY) == d


def test_parse_date_accepts_a_datetime_as_today() -> None:
    now = datetime(2026, 11, 27, 15, 30)
    assert parse_date("senin", today=now) == date(2026, 11, 23)
    assert type(parse_date("kemarin", today=now)) is date


# --------------------------------------------------------------------------------------
# Found by the property tests and the review that came with them
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("tgl 1 january", date(2026, 1, 1)),  # "tgl" made dateparser miss the English month
    ("tanggal 5 March 2026", date(2026, 3, 5)),
    ("Tgl 17 Agustus", date(2026, 8, 17)),
])
def test_tanggal_before_a_date_in_either_language(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("25/11/30", date(2030, 11, 25)),  # was 1930: dateparser prefers the past
    ("01/01/27", date(2027, 1, 1)),
    ("25/11/26", date(2026, 11, 25)),
    ("17-08-45", date(2045, 8, 17)),
    ("17.08.98", date(1998, 8, 17)),
])
def test_two_digit_years(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("31/02/2026", (31, 2, 2026)),
    ("29/02/2025", (29, 2, 2025)),
    ("30 Februari", (30, 2, None)),
    ("tgl 31 april 2026", (31, 4, 2026)),
    ("2026-06-31", (31, 6, 2026)),
    ("31-09-26", (31, 9, 2026)),
    ("32/11", (32, 11, None)),
])
def test_days_that_do_not_exist(text: str, expected: tuple) -> None:
    assert nonexistent_date(text) == expected
    assert parse_date(text, today=TODAY) is None


@pytest.mark.parametrize("text", ["29/02/2024", "29 feb", "31/12/2026", "13/13/2026", "garbage",
                                  "00/11/2026", ""])
def test_days_that_exist_or_are_no_date(text: str) -> None:
    assert nonexistent_date(text) is None


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


@SLOW
@given(any_text, recent_today)
def test_parse_date_never_raises(text: str, today: date) -> None:
    result = parse_date(text, today=today)
    assert result is None or type(result) is date
    missing = nonexistent_date(text)
    assert missing is None or result is None  # a day that does not exist is never a date


def _numeric_forms(d: date) -> list[str]:
    return [f"{d:%d/%m/%Y}", f"{d.day}/{d.month}/{d.year}", f"{d:%d-%m-%Y}", f"{d:%d.%m.%Y}",
            f"{d:%Y-%m-%d}", f"{d.day} / {d.month} / {d.year}"]


@SLOW
@given(any_day, recent_today, st.sampled_from(["id", "en"]), st.data())
def test_formatted_and_typed_full_dates_parse_back(d: date, today: date, lang: str,
                                                   data: st.DataObject) -> None:
    forms = [format_date(d, lang), format_date_short(d, lang), format_weekday_date(d, lang),
             *_numeric_forms(d)]
    text = data.draw(st.sampled_from(forms))
    text = data.draw(st.sampled_from([text, text.lower(), text.upper(), f"  {text}. "]))
    assert parse_date(text, today=today) == d


@SLOW
@given(recent_today, st.data())
def test_two_digit_years_are_read_in_the_century_meant(today: date,
                                                       data: st.DataObject) -> None:
    """Found with this property: "25/11/30" was 1930 (dateparser prefers the past), so a
    roll-over deadline typed that way was "before the grant was received"."""
    ahead = TWO_DIGIT_YEARS_AHEAD
    d = data.draw(st.dates(min_value=date(today.year + ahead - 99, 1, 1),
                           max_value=date(today.year + ahead, 12, 31)))
    text = data.draw(st.sampled_from([f"{d:%d/%m/%y}", f"{d.day}-{d.month}-{d:%y}",
                                      f"{d:%d.%m.%y}"]))
    assert parse_date(text, today=today) == d, text


def _latest(day: int, month: int, today: date) -> date:
    """The most recent date not after ``today`` with this day and month."""
    year = today.year
    while True:
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) <= today:
            return date(year, month, day)
        year -= 1


@SLOW
@given(any_day, recent_today, st.sampled_from(["id", "en"]), st.data())
def test_day_and_month_without_year_is_the_latest_one_not_after_today(
        d: date, today: date, lang: str, data: st.DataObject) -> None:
    width = data.draw(st.sampled_from(["wide", "abbreviated"]))
    month = month_names(lang, width)[d.month]
    text = data.draw(st.sampled_from([f"{d.day} {month}", f"{d:%d/%m}", f"{d.day}-{d.month}",
                                      f"tgl {d.day} {month.lower()}"]))
    assert parse_date(text, today=today) == _latest(d.day, d.month, today)


@SLOW
@given(st.integers(0, 400), recent_today, st.sampled_from(
    ["{n} hari lalu", "{n} hari yang lalu", "{n} hr yg lalu", "{n}hr lalu", "{n} days ago"]))
def test_days_ago(n: int, today: date, form: str) -> None:
    assume(n > 0 or "ago" not in form)
    assert parse_date(form.format(n=n), today=today) == today - timedelta(days=n)


@PROPS
@given(recent_today, st.sampled_from(["id", "en"]), st.sampled_from(["wide", "abbreviated"]),
       st.integers(0, 6), st.booleans())
def test_weekday_names(today: date, lang: str, width: str, weekday: int, past: bool) -> None:
    name = get_day_names(width, locale="id" if lang == "id" else "en")[weekday].lower()
    if past and name == "minggu":
        name = "hari minggu"  # "minggu lalu" alone is "last week"
    text = f"{name} lalu" if past else name
    result = parse_date(text, today=today)
    assert result is not None and result.weekday() == weekday
    back = (today - result).days
    assert (1 <= back <= 7) if past else (0 <= back <= 6)


@SLOW
@given(st.integers(1900, 2100), st.integers(1, 12), recent_today,
       st.sampled_from(["{d}/{m}/{y}", "{d:02d}-{m:02d}-{y}", "{y}-{m:02d}-{d:02d}",
                        "{d} {month} {y}", "tgl {d} {month} {y}", "{d}/{m}", "{d} {month}"]),
       st.sampled_from(["id", "en"]), st.data())
def test_days_that_do_not_exist_are_named_as_such(year: int, month: int, today: date,
                                                  form: str, lang: str,
                                                  data: st.DataObject) -> None:
    last = calendar.monthrange(year if "{y}" in form else 2024, month)[1]  # 2024: 29 Feb
    day = data.draw(st.integers(last + 1, 40))
    text = form.format(d=day, m=month, y=year, month=month_names(lang, "wide")[month])
    assert parse_date(text, today=today) is None
    assert nonexistent_date(text) == (day, month, year if "{y}" in form else None)


VISITED = date(2026, 11, 25)


# --- a date planned ahead (the next visit, a deadline) -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("27 Des", date(2026, 12, 27)),
    ("27/12", date(2026, 12, 27)),
    ("10 Jan", date(2027, 1, 10)),
    ("27/12/2026", date(2026, 12, 27)),
    ("besok", VISITED + timedelta(days=1)),
    ("bulan depan", date(2026, 12, 25)),
    ("xyz", None),
])
def test_parse_date_ahead(text, expected):
    assert parse_date_ahead(text, after=VISITED, horizon_days=365, today=VISITED) == expected


@SLOW
@given(any_day, st.integers(1, 365), recent_today, st.sampled_from(["id", "en"]),
       st.data())
def test_next_visit_date_without_year_is_the_first_after_the_visit(
        visited: date, ahead: int, today: date, lang: str, data: st.DataObject) -> None:
    upcoming = visited + timedelta(days=ahead)
    month = month_names(lang, "abbreviated")[upcoming.month]
    text = data.draw(st.sampled_from([f"{upcoming.day} {month}", f"{upcoming:%d/%m}",
                                      f"{upcoming:%d/%m/%Y}", format_date(upcoming, lang)]))
    assert parse_date_ahead(text, after=visited, horizon_days=365, today=today) == upcoming


@SLOW
@given(any_text, any_day)
def test_parse_date_ahead_never_raises(text: str, visited: date) -> None:
    result = parse_date_ahead(text, after=visited, horizon_days=365, today=TODAY)
    assert result is None or type(result) is date


# --- dates people say (issue 15): relative words, "tgl 5", weekdays either way, misspelt months ---

FRIDAY = date(2026, 11, 27)


@pytest.mark.parametrize(("text", "today", "expected"), [
    ("besok", FRIDAY, date(2026, 11, 28)),
    ("bsk", date(2026, 12, 31), date(2027, 1, 1)),  # year end
    ("lusa", date(2026, 2, 27), date(2026, 3, 1)),  # month end
    ("kemarin", date(2027, 1, 1), date(2026, 12, 31)),
    ("kemarin lusa", date(2026, 3, 1), date(2026, 2, 27)),
    ("minggu depan", FRIDAY, date(2026, 12, 4)),  # a week from today
    ("minggu depan", date(2026, 12, 28), date(2027, 1, 4)),
    ("next week", FRIDAY, date(2026, 12, 4)),
    ("tomorrow", date(2026, 12, 31), date(2027, 1, 1)),
    ("bulan depan", date(2026, 1, 31), date(2026, 2, 28)),  # clamped to the month's last day
    ("bulan depan", date(2026, 12, 15), date(2027, 1, 15)),
    ("senin depan", FRIDAY, date(2026, 11, 30)),  # next week's Monday
    ("senin depan", date(2026, 11, 23), date(2026, 11, 30)),  # on a Monday: not today
    ("rabu depan", date(2026, 11, 23), date(2026, 12, 2)),
    ("hari minggu depan", date(2026, 12, 30), date(2027, 1, 10)),
    ("3 hari lagi", date(2026, 12, 30), date(2027, 1, 2)),
    ("2 minggu lagi", FRIDAY, date(2026, 12, 11)),
    ("in 3 days", FRIDAY, date(2026, 11, 30)),
    ("tgl 5", FRIDAY, date(2026, 11, 5)),  # this month's, it has come
    ("tanggal 30", FRIDAY, date(2026, 10, 30)),  # not yet: last month's
    ("tgl 31", date(2026, 3, 15), date(2026, 1, 31)),  # February has none
    ("tgl 31", date(2026, 1, 5), date(2025, 12, 31)),  # year end
    ("3 desmber", FRIDAY, date(2025, 12, 3)),
    ("17 agustu", FRIDAY, date(2026, 8, 17)),
    ("5 okt", FRIDAY, date(2026, 10, 5)),
    ("12 nopember", FRIDAY, date(2026, 11, 12)),
    ("5 jan", FRIDAY, date(2026, 1, 5)),
    ("tgl 2 febuari 2026", FRIDAY, date(2026, 2, 2)),
    ("25 novembr 2025", FRIDAY, date(2025, 11, 25)),
    ("10.12", FRIDAY, date(2025, 12, 10)),
])
def test_dates_people_say_for_a_day_that_has_come(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today=today) == expected


@pytest.mark.parametrize(("text", "today", "expected"), [
    ("senin", FRIDAY, date(2026, 11, 30)),  # the next one, not the last
    ("senin", date(2026, 11, 23), date(2026, 11, 30)),  # on a Monday: next week's
    ("hari sabtu", date(2026, 12, 31), date(2027, 1, 2)),
    ("tgl 5", FRIDAY, date(2026, 12, 5)),  # this month's has gone: next month's
    ("tgl 28", FRIDAY, date(2026, 11, 28)),
    ("tgl 30", date(2027, 1, 31), date(2027, 3, 30)),  # February has none
    ("tgl 3", date(2026, 12, 20), date(2027, 1, 3)),  # year end
    ("minggu depan", FRIDAY, date(2026, 12, 4)),
    ("besok", FRIDAY, date(2026, 11, 28)),
    ("3 desmber", FRIDAY, date(2026, 12, 3)),
    ("2 jan", FRIDAY, date(2027, 1, 2)),
])
def test_dates_people_say_for_a_day_ahead(text: str, today: date, expected: date) -> None:
    assert parse_date_ahead(text, after=today, horizon_days=365, today=today) == expected


@pytest.mark.parametrize("text", ["tgl 0", "tgl 32", "5 xyz", "5 ju", "5 jnui", "jan",
                                  "desmber", "minggu lalu", "3 lagi"])
def test_not_quite_dates_stay_refused(text: str) -> None:
    assert parse_date(text, today=FRIDAY) is None
    assert parse_date_ahead(text, after=FRIDAY, horizon_days=365, today=FRIDAY) is None


def test_a_misspelt_month_names_a_day_it_lacks() -> None:
    assert nonexistent_date("30 febuari") == (30, 2, None)
    assert nonexistent_date("31 novembr 2026") == (31, 11, 2026)
