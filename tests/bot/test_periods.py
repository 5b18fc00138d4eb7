"""Report periods (bot.core.periods): presets, typed text in both languages, the command line's
codes, labels; with properties over every month and any text."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.periods import Period, Preset, parse_code, parse_period, preset
from tests.bot.strategies import PROPS

TODAY = date(2027, 5, 10)


@pytest.mark.parametrize(("typed", "code"), [
    ("Jan–Mar 2027", "2027-Q1"),
    ("jan-mar 2027", "2027-Q1"),
    ("Januari — Maret 2027", "2027-Q1"),
    ("Maret 2027", "2027-03"),
    ("march 2027", "2027-03"),
    ("Agu 2026", "2026-08"),
    ("03/2027", "2027-03"),
    ("2026", "2026"),
    ("tahun 2026", "2026"),
    ("Q1 2027", "2027-Q1"),
    ("q4-2026", "2026-Q4"),
    ("triwulan 1 2027", "2027-Q1"),
    ("Triwulan II 2026", "2026-Q2"),
    ("2027 Q2", "2027-Q2"),
    ("2027-Q1", "2027-Q1"),
    ("2027-01", "2027-01"),
    ("feb s/d apr 2027", "2027-02..2027-04"),
    ("Nov 2026 - Feb 2027", "2026-11..2027-02"),
    ("bulan lalu", "2027-04"),
    ("Last quarter", "2027-Q1"),
    ("tahun lalu", "2026"),
    ("maret", "2027-03"),  # this year's
    ("juni", "2026-06"),  # still to come this year: last year's
])
def test_typed_periods(typed, code):
    assert parse_period(typed, TODAY).code == code


@pytest.mark.parametrize("typed", [
    "", "kemarin", "2028", "Juni 2027", "13/2026", "mar-jan 2027", "Q5 2027", "1999",
    "Feb 2027 - Nov 2026", "triwulan 3 2027", "abc 2026", "31/02/2027",
])
def test_unreadable_or_future_periods_are_none(typed):
    assert parse_period(typed, TODAY) is None


def test_presets_relative_to_today():
    assert {p: preset(p, TODAY).code for p in Preset} == {
        Preset.THIS_MONTH: "2027-05", Preset.LAST_MONTH: "2027-04",
        Preset.THIS_QUARTER: "2027-Q2", Preset.LAST_QUARTER: "2027-Q1",
        Preset.THIS_YEAR: "2027"}
    january = date(2027, 1, 3)
    assert preset(Preset.LAST_MONTH, january).code == "2026-12"
    assert preset(Preset.LAST_QUARTER, january) == Period(date(2026, 10, 1), date(2026, 12, 31))


def test_labels_in_both_languages():
    q1 = Period.quarter(2027, 1)
    assert (q1.start, q1.end) == (date(2027, 1, 1), date(2027, 3, 31))
    assert q1.label("id") == "Triwulan I 2027 (Jan–Mar)"
    assert q1.label("en") == "Q1 2027 (Jan–Mar)"
    assert Period.month(2026, 8).label("id") == "Agustus 2026"
    assert Period.month(2026, 8).label("en") == "August 2026"
    assert Period.year(2026).label("id") == "Tahun 2026"
    assert Period.months(2026, 11, 2027, 2).label("en") == "Nov 2026–Feb 2027"
    assert Period.months(2027, 10, 2027, 12).label("id") == "Triwulan IV 2027 (Okt–Des)"
    assert [p.short("id") for p in (Period.month(2026, 8), q1, Period.year(2026))] == [
        "Agustus 2026", "Jan–Mar 2027", "2026"]


def test_cli_codes():
    assert parse_code("2027-01") == Period.month(2027, 1)
    assert parse_code("2027-q1") == Period.quarter(2027, 1)
    assert parse_code("2027") == Period.year(2027)
    assert parse_code("2027-02..2027-04") == Period.months(2027, 2, 2027, 4)
    for bad in ("2027-13", "2027-Q5", "27", "Q1", "maret", "2027-04..2027-02", "1990"):
        assert parse_code(bad) is None, bad


def test_a_period_is_whole_months():
    with pytest.raises(ValueError):
        Period(date(2027, 1, 2), date(2027, 1, 31))
    with pytest.raises(ValueError):
        Period(date(2027, 2, 1), date(2027, 1, 31))
    period = Period.month(2028, 2)
    assert period.end == date(2028, 2, 29)
    assert date(2028, 2, 29) in period and date(2028, 3, 1) not in period
    assert period.until(date(2028, 2, 10)) == date(2028, 2, 10)


months = st.tuples(st.integers(2000, 2090), st.integers(1, 12))


@PROPS
@given(months, st.integers(0, 30))
def test_every_code_reads_back_to_its_period(first, length):
    year, month = first
    end_index = year * 12 + month - 1 + length
    period = Period.months(year, month, end_index // 12, end_index % 12 + 1)
    assert parse_code(period.code) == period
    for lang in ("id", "en"):
        assert period.label(lang)
        assert parse_period(period.typed(lang), date(2100, 12, 31)) == period
    assert period.end + timedelta(days=1) == (
        date(period.end.year + 1, 1, 1) if period.end.month == 12
        else date(period.end.year, period.end.month + 1, 1))


@PROPS
@given(months)
def test_every_month_label_reads_back(month):
    period = Period.month(*month)
    today = date(2100, 1, 1)
    for lang in ("id", "en"):
        assert parse_period(period.label(lang), today) == period


@PROPS
@given(st.text(max_size=40), st.dates(date(2001, 1, 1), date(2099, 12, 31)))
def test_any_text_reads_as_a_period_begun_by_today_or_none(text, today):
    found = parse_period(text, today)
    assert found is None or found.start <= today


@PROPS
@given(st.sampled_from(list(Preset)), st.dates(date(2001, 1, 1), date(2099, 12, 31)))
def test_presets_hold_today_or_end_before_it(which, today):
    period = preset(which, today)
    current = {Preset.LAST_MONTH: Preset.THIS_MONTH, Preset.LAST_QUARTER: Preset.THIS_QUARTER}
    if which in current:
        assert period.end + timedelta(days=1) == preset(current[which], today).start
    else:
        assert today in period
