"""Formatting of money and dates for mentors, in Indonesian ("id") or English ("en").

Money is always shown the Indonesian way, "Rp 1.500.000", whatever the language: that is
how Rupiah amounts are written on receipts and in reports. Every formatted amount and date
reads back through :mod:`bot.core.parsing` to the same value.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.numbers import format_currency

__all__ = ["format_date", "format_date_short", "format_datetime_short", "format_month",
           "format_rupiah", "format_weekday_date"]

# English dates use the day-month-year order too ("25 November 2026"), and the "en"
# locale's month abbreviations ("Sep", where en_GB now says "Sept").
_DATE_LOCALES = {"id": "id_ID", "en": "en"}
# Babel may put a (narrow) no-break space between "Rp" and the digits; users get a plain one.
_SPACE_LIKE = {"\u00a0": " ", "\u202f": " ", "\u2009": " "}


def _date_locale(lang: str) -> str:
    return _DATE_LOCALES.get(lang, _DATE_LOCALES["id"])


# Babel takes about 50 µs for an amount and 12 µs for a date, and a summary or a save shows
# several: the same few amounts and days come back all day, so each is formatted once.
_REMEMBERED = lru_cache(maxsize=4096)


@_REMEMBERED
def format_rupiah(amount: int, lang: str = "id") -> str:
    """Formats whole Rupiah: 1500000 → "Rp 1.500.000" (-5000 → "-Rp 5.000"), in both languages.

    ``lang`` is accepted for symmetry with the date formatters; the format does not change.
    """
    text = format_currency(
        int(amount), "IDR", format="¤ #,##0", locale="id_ID", currency_digits=False
    )
    for odd, plain in _SPACE_LIKE.items():
        text = text.replace(odd, plain)
    if not text.startswith(("Rp ", "-Rp ")):  # guard against a different CLDR pattern
        text = text.replace("Rp", "Rp ", 1).replace("Rp  ", "Rp ")
    return text


@_REMEMBERED
def format_date(d: date, lang: str = "id") -> str:
    """Formats a date in full: "25 November 2026" (both languages; "25 Agustus" / "25 August")."""
    return _babel_format_date(d, "d MMMM y", locale=_date_locale(lang))


@_REMEMBERED
def format_date_short(d: date, lang: str = "id") -> str:
    """Formats a date with the month abbreviated: "25 Nov 2026" ("1 Agu 2026" / "1 Aug 2026")."""
    return _babel_format_date(d, "d MMM y", locale=_date_locale(lang))


@_REMEMBERED
def format_month(d: date, lang: str = "id") -> str:
    """Formats the month of a date: "Februari 2026" / "February 2026"."""
    return _babel_format_date(d, "LLLL y", locale=_date_locale(lang))


@_REMEMBERED
def format_weekday_date(d: date, lang: str = "id") -> str:
    """Formats a date with its weekday: "Rabu, 25 November 2026" / "Wednesday, 25 November 2026"."""
    return _babel_format_date(d, "EEEE, d MMMM y", locale=_date_locale(lang))


# Babel's time is "00.26" in Indonesian and "00:26" in English.
_DATETIME_PATTERNS = {"id": "d MMM y HH.mm", "en": "d MMM y HH:mm"}


def format_datetime_short(moment: datetime, lang: str = "id") -> str:
    """Formats an aware time as it reads where it is: "5 Des 2026 00.26" / "5 Dec 2026 00:26"."""
    pattern = _DATETIME_PATTERNS.get(lang, _DATETIME_PATTERNS["id"])
    return _babel_format_datetime(moment, pattern, tzinfo=moment.tzinfo,
                                  locale=_date_locale(lang))
