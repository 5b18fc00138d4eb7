"""Tests for bot.core.formatting: Rupiah and dates as mentors read them."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.formatting import format_date, format_date_short, format_rupiah, format_weekday_date
from bot.core.parsing import parse_amount, parse_date


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "Rp 0"),
        (5, "Rp 5"),
        (1_000, "Rp 1.000"),
        (250_000, "Rp 250.000"),
        (1_500_000, "Rp 1.500.000"),
        (100_000_000_000, "Rp 100.000.000.000"),
        (-5_000, "-Rp 5.000"),
    ],
)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_format_rupiah(amount: int, expected: str, lang: str) -> None:
    assert format_rupiah(amount, lang) == expected


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**11))
def test_format_rupiah_shape_and_round_trip(amount: int) -> None:
    text = format_rupiah(amount)
    assert text.startswith("Rp ")
    assert "\u00a0" not in text and "\u202f" not in text
    assert text[3:].replace(".", "").isdigit()
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("d", "lang", "full", "short", "weekday"),
    [
        (date(2026, 11, 25), "id", "25 November 2026", "25 Nov 2026", "Rabu, 25 November 2026"),
        (
            date(2026, 11, 25),
            "en",
            "25 November 2026",
            "25 Nov 2026",
            "Wednesday, 25 November 2026",
        ),
        (date(2026, 8, 1), "id", "1 Agustus 2026", "1 Agu 2026", "Sabtu, 1 Agustus 2026"),
        (date(2026, 8, 1), "en", "1 August 2026", "1 Aug 2026", "Saturday, 1 August 2026"),
        (date(2026, 5, 3), "id", "3 Mei 2026", "3 Mei 2026", "Minggu, 3 Mei 2026"),
        (date(2026, 9, 14), "en", "14 September 2026", "14 Sep 2026", "Monday, 14 September 2026"),
        (date(2027, 12, 17), "id", "17 Desember 2027", "17 Des 2027", "Jumat, 17 Desember 2027"),
    ],
)
def test_format_dates(d: date, lang: str, full: str, short: str, weekday: str) -> None:
    assert format_date(d, lang) == full
    assert format_date_short(d, lang) == short
    assert format_weekday_date(d, lang) == weekday


def test_default_language_is_indonesian_and_unknown_falls_back() -> None:
    d = date(2026, 11, 25)
    assert format_weekday_date(d) == "Rabu, 25 November 2026"
    assert format_weekday_date(d, "xx") == "Rabu, 25 November 2026"


@settings(max_examples=40, deadline=None)
@given(
    d=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    lang=st.sampled_from(["id", "en"]),
)
def test_date_round_trip(d: date, lang: str) -> None:
    today = date(2026, 11, 27)
    assert parse_date(format_date(d, lang), today=today) == d
    assert parse_date(format_date_short(d, lang), today=today) == d
    assert parse_date(format_weekday_date(d, lang), today=today) == d
