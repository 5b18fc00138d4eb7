"""Parsers for what mentors type: dates, Rupiah amounts, counts, phone numbers, NIKs, member lists.

Mentors type Indonesian (sometimes English) on cheap phones, with abbreviations and typos.
Every parser here is pure, never raises on user text and returns ``None`` when it cannot
understand the input, so the caller can ask again. Nothing here logs its input: the text
may contain personal data (names, NIKs, phone numbers).
"""

from __future__ import annotations

import calendar
import csv
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from babel.dates import get_day_names, get_month_names
from babel.numbers import NumberFormatError, parse_decimal
from dateparser.date import DateDataParser
from num2words import num2words
from rapidfuzz import fuzz, process

from bot.core.enums import OFFICER_ROLES, MemberRole, WelfareCategory
from bot.core.places import WILAYAH_DIR

__all__ = [
    "MAX_AMOUNT",
    "MemberLine",
    "group_problems",
    "is_skip",
    "mask_nik",
    "mask_numbers",
    "mask_phone",
    "nonexistent_date",
    "parse_amount",
    "parse_count",
    "parse_date",
    "parse_group_name",
    "parse_leading_count",
    "parse_member_fields",
    "parse_member_line",
    "parse_member_lines",
    "parse_person_name",
    "parse_phone",
    "province_codes",
    "validate_nik",
]


# Longer inputs are never a valid answer; refusing them early keeps the parsers fast.
_MAX_INPUT = 200

_SPACES = re.compile(r"\s+")
# Phones type curly quotes or backticks for the apostrophe in names like Ma'ruf.
_APOSTROPHES = re.compile("['`\u2018\u2019]")


def _clean(text: str) -> str:
    """NFKC-normalises, lowercases and collapses whitespace (NBSP included)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------

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


@lru_cache(maxsize=1)
def _weekday_names() -> dict[str, int]:
    """Lowercase weekday names (wide and abbreviated, Indonesian and English) → 0=Monday."""
    names: dict[str, int] = {"ahad": 6, "jumat": 4}
    for locale in ("id", "en"):
        for width in ("wide", "abbreviated"):
            for number, name in get_day_names(width, locale=locale).items():
                names[_clean(name).replace("'", "")] = number
    return names


@lru_cache(maxsize=8)
def _date_parser(today: date) -> DateDataParser:
    settings = dict(_DATE_SETTINGS, RELATIVE_BASE=datetime(today.year, today.month, today.day))
    return DateDataParser(languages=["id", "en"], settings=settings)


def _normalise_date_text(text: str) -> str:
    cleaned = _APOSTROPHES.sub("", _clean(text))
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
    try:
        if not isinstance(text, str) or len(text) > _MAX_INPUT:
            return None
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
    except Exception:  # noqa: BLE001 - dateparser has surprising failure modes; never raise.
        return None


_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})(?:\s*\2\s*(\d{4}|\d{2}))?")
_YEAR_MONTH_DAY = re.compile(r"(\d{4})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{1,2})")
_DAY_MONTHNAME_YEAR = re.compile(r"(\d{1,2}) ([^\W\d_]+)\.?(?: (\d{4}))?")


@lru_cache(maxsize=1)
def _month_numbers() -> dict[str, int]:
    """Lowercase month names (wide and abbreviated, Indonesian and English) → 1..12."""
    names: dict[str, int] = {"nopember": 11, "agt": 8, "sept": 9, "peb": 2, "pebruari": 2}
    for locale in ("id", "en"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                names[_clean(name).rstrip(".")] = number
    return names


def nonexistent_date(text: str) -> tuple[int, int, int | None] | None:
    """(day, month, year or None) when ``text`` names a day its month does not have
    ("31/02/2026", "30 Februari", "2026-04-31", "29/02/2025"); None otherwise (a real date or
    no date at all). A two-digit year is read as 20yy. For the caller's "that day does not
    exist" answer: :func:`parse_date` returns None for such a text, like for any non-date.
    """
    try:
        if not isinstance(text, str) or len(text) > _MAX_INPUT:
            return None
        cleaned = _normalise_date_text(text)
        if match := _YEAR_MONTH_DAY.fullmatch(cleaned):
            year, month, day = int(match[1]), int(match[3]), int(match[4])
        elif match := _DAY_MONTH_YEAR.fullmatch(cleaned):
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
    except Exception:  # noqa: BLE001 - never raise on user text
        return None


# --------------------------------------------------------------------------------------
# Amounts (Rupiah)
# --------------------------------------------------------------------------------------

MAX_AMOUNT = 100_000_000_000
"""The largest amount accepted (100 miliar); anything above is a typing mistake."""

_MULTIPLIERS = {
    "": 1,
    "rb": 1_000,
    "ribu": 1_000,
    "rbu": 1_000,
    "k": 1_000,
    "rb.": 1_000,
    "jt": 1_000_000,
    "jt.": 1_000_000,
    "jta": 1_000_000,
    "juta": 1_000_000,
    "m": 1_000_000_000,
    "miliar": 1_000_000_000,
    "milyar": 1_000_000_000,
    "milyard": 1_000_000_000,
    "miliard": 1_000_000_000,
}
_AMOUNT_SEGMENT = re.compile(
    r"\s*(?P<number>\d[\d.,]*)\s*(?P<unit>rb\.|jt\.|ribu|rbu|rb|k|juta|jta|jt|milyard|miliard|"
    r"miliar|milyar|m)?(?![a-z])\s*"
)
_ENGLISH_GROUPS = re.compile(r"\d{1,3}(?:,\d{3})+")
_CURRENCY_PREFIX = re.compile(r"^(?:rp\.?|idr)\s*")
_CURRENCY_SUFFIX = re.compile(r"\s*(?:,-|\.-|,\u2013|rupiah|idr|rp)$")
# A loss: a minus (or the dash or minus sign phones put instead), or the word.
_LOSS = re.compile(r"^(?:-|\u2212|\u2013|minus|rugi|kerugian|loss)\s*")


def _decimal(number: str, *, with_unit: bool) -> Decimal | None:
    """Reads "1.500.000" or "1,5" the Indonesian way (Babel, id_ID); None if malformed."""
    if with_unit and number.count(".") == 1 and "," not in number:
        # "1.5jt", "20.5 juta": before a multiplier a lone dot is a decimal point.
        number = number.replace(".", ",")
    if not with_unit and _ENGLISH_GROUPS.fullmatch(number):
        # Rupiah has no thousandths: "250,000" is English grouping, not 250.
        number = number.replace(",", "")
    try:
        return parse_decimal(number, locale="id_ID", strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        pass
    # English grouping ("1,500,000", "250,000.00") is clear when Indonesian reading fails.
    try:
        return parse_decimal(number, locale="en", strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        return None


def parse_amount(text: str, *, allow_loss: bool = False) -> int | None:
    """Parses a whole Rupiah amount; None for garbage, negatives, fractions or > 100 miliar.

    Accepts "Rp 250.000", "Rp250.000,00", "Rp 1.250.000,-", "1.500.000", "1500000", "250rb",
    "250 ribu", "250k", "1,5 jt", "1.5jt", "20,5 juta", "2 M" (miliar), "1 juta 500 ribu",
    number words with their unit ("sejuta", "dua ratus ribu", "sepuluh juta lima ratus ribu")
    and "0". Numbers are read with Babel's id_ID rules ("." groups thousands, "," is the
    decimal mark); a lone dot before a multiplier is a decimal point ("1.5jt" = 1.500.000)
    while "1.500" without one is 1500. Amounts whose Rupiah value is not whole ("1,5") are
    refused rather than rounded. "-" is not an amount: check :func:`is_skip` first.

    With ``allow_loss`` (a profit, which can be a loss) a negative amount is read too:
    "-250rb", "-Rp 250.000" (as :func:`bot.core.formatting.format_rupiah` writes it), "Rp -250.000",
    "rugi 250rb", "minus 250rb"; never for money received or counted.
    """
    try:
        if not isinstance(text, str) or len(text) > 64:
            return None
        cleaned = _clean(text)
        cleaned = _CURRENCY_SUFFIX.sub("", cleaned)
        cleaned = _CURRENCY_PREFIX.sub("", cleaned).strip().rstrip(".!")
        sign = 1
        if allow_loss and (loss := _LOSS.match(cleaned)):
            sign = -1
            cleaned = _CURRENCY_PREFIX.sub("", cleaned[loss.end():]).strip()
        cleaned = _amount_words_to_digits(cleaned)
        if not cleaned or not cleaned[0].isdigit():
            return None  # also refuses negatives (and a second minus)
        total = Decimal(0)
        previous_multiplier = None
        position = 0
        segments = 0
        while position < len(cleaned):
            match = _AMOUNT_SEGMENT.match(cleaned, position)
            if not match or match.end() == position:
                return None
            multiplier = _MULTIPLIERS[match["unit"] or ""]
            # "1 juta 500 ribu": every part needs its multiplier, largest first.
            if segments and (
                multiplier == 1 or previous_multiplier is None or multiplier >= previous_multiplier
            ):
                return None
            value = _decimal(match["number"], with_unit=multiplier > 1)
            if value is None:
                return None
            total += value * multiplier
            previous_multiplier = multiplier
            segments += 1
            position = match.end()
        if total != total.to_integral_value() or total < 0 or total > MAX_AMOUNT:
            return None
        return sign * int(total)
    except Exception:  # noqa: BLE001 - never raise on user text
        return None


_SE_UNIT = re.compile(r"(?<![a-z])se(ribu|juta|miliar|milyar)(?![a-z])")


def _amount_words_to_digits(cleaned: str) -> str:
    """Number words before a unit become digits: "sejuta" → "1 juta", "dua ratus lima puluh
    ribu" → "250 ribu", "sepuluh juta" → "10 juta" (the words as :func:`parse_count` reads).
    Words without a unit are left as they are, hence refused: "dua puluh" for a grant is
    shorthand for 20 juta far more often than Rp 20."""
    if not any(ch.isalpha() for ch in cleaned):
        return cleaned
    words = _SE_UNIT.sub(r"1 \1", cleaned).split()
    out, position = [], 0
    while position < len(words):
        for size in range(min(len(words) - position, _LONGEST_COUNT_WORDS), 0, -1):
            value = _count_words().get(" ".join(words[position:position + size]))
            if value is not None:
                if words[position + size:position + size + 1] and \
                        _MULTIPLIERS.get(words[position + size], 1) > 1:
                    out.append(str(value))
                    position += size
                    break
                return cleaned
        else:
            out.append(words[position])
            position += 1
    return " ".join(out)


_SKIP_WORDS = frozenset(
    {
        "-",
        "--",
        "\u2013",  # en dash, which phones substitute for "-"
        "\u2014",  # em dash
        "lewati",
        "lewat",
        "skip",
        "tidak ada",
        "tdk ada",
        "tak ada",
        "ga ada",
        "gak ada",
        "nggak ada",
        "enggak ada",
        "belum ada",
        "tidak",
        "tdk",
        "tak",
        "ga",
        "gak",
        "nggak",
        "kosong",
        "none",
        "no",
        "n/a",
        "na",
    }
)


def is_skip(text: str) -> bool:
    """True when the mentor means "skip this optional question" ("-", "lewati", "tidak ada"...).

    "0" is not a skip word: it is an amount or a count.
    """
    if not isinstance(text, str) or len(text) > 40:
        return False
    cleaned = _clean(text).lstrip("/")
    if cleaned in _SKIP_WORDS:
        return True
    return cleaned.rstrip(".!") in _SKIP_WORDS


# --------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------

# Number words are read up to this; larger counts are typed in digits.
MAX_COUNT_WORDS = 1000
_COUNT_UNITS = re.compile(
    r"\s*(?:orang|org|kk|keluarga|kepala keluarga|anggota|rumah tangga|ruta|"
    r"people|persons?|members?|households?)\.?$"
)
_DIGIT_COUNT = re.compile(r"\d{1,3}(?:\.\d{3})+(?!\d)|\d{1,9}")


@lru_cache(maxsize=1)
def _count_words() -> dict[str, int]:
    """Number words, 0 to MAX_COUNT_WORDS, in Indonesian ("tujuh", "dua belas", "seratus
    lima") and English ("seven", "twenty-one", "one hundred and five"), as num2words spells
    them, and as phones mangle them ("duapuluh", "twenty one", "one hundred five")."""
    words: dict[str, int] = {}
    for value in range(MAX_COUNT_WORDS + 1):
        for lang in ("id", "en"):
            spelt = _clean(num2words(value, lang=lang).replace("-", " ").replace(",", ""))
            for variant in (spelt, spelt.replace(" and ", " "), spelt.replace(" ", "")):
                words.setdefault(variant, value)
    return words


_WORD_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")


def _read_count(cleaned: str) -> int | None:
    """The count in ``cleaned`` (digits, Indonesian grouping or number words); None if none."""
    if _DIGIT_COUNT.fullmatch(cleaned):
        return int(cleaned.replace(".", ""))
    return _count_words().get(_WORD_HYPHEN.sub(" ", cleaned))


def parse_count(text: str, *, minimum: int, maximum: int) -> int | None:
    """Parses a whole count within [minimum, maximum]: "7", "7 orang", "7 KK", "1.000",
    "tujuh", "dua belas", "seratus", "twenty-one".

    Number words go up to MAX_COUNT_WORDS (1000), in Indonesian or English. None when the text
    is not a count or is out of range. Every question asking "how many" reads its answer here
    (or through :func:`parse_leading_count`), so they all understand the same words.
    """
    try:
        if not isinstance(text, str) or len(text) > 60:
            return None
        value = _read_count(_COUNT_UNITS.sub("", _clean(text)).strip())
        return value if value is not None and minimum <= value <= maximum else None
    except Exception:  # noqa: BLE001 - never raise on user text
        return None


# The longest number words below 1000: "one hundred and ninety nine" (5 words).
_LONGEST_COUNT_WORDS = 6


def parse_leading_count(text: str, *, minimum: int, maximum: int) -> tuple[int, str] | None:
    """A count at the start of ``text`` and what follows it: "10 ekor kambing" → (10, "ekor
    kambing"), "sepuluh ekor" → (10, "ekor"), "1.000 bibit" → (1000, "bibit"), "10ekor" →
    (10, "ekor"), "25" → (25, ""). The words are read as by :func:`parse_count`, the longest
    number first; the rest keeps its letters' case. None without a count in range first.
    """
    try:
        if not isinstance(text, str) or len(text) > 200:
            return None
        cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
        if match := _DIGIT_COUNT.match(cleaned):
            rest = cleaned[match.end():]
            if rest and not (rest[0].isspace() or rest[0].isalpha()):
                return None  # "1,5 ekor", "12.34", "10/ekor": not a count and its unit
            value = int(match[0].replace(".", ""))
            return (value, rest.strip()) if minimum <= value <= maximum else None
        words = cleaned.split(" ")
        for size in range(min(len(words), _LONGEST_COUNT_WORDS), 0, -1):
            value = _read_count(_clean(" ".join(words[:size])))
            if value is not None:
                if not minimum <= value <= maximum:
                    return None
                return value, " ".join(words[size:])
        return None
    except Exception:  # noqa: BLE001 - never raise on user text
        return None


# --------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]+")


def parse_phone(text: str) -> str | None:
    """Parses an Indonesian phone number into E.164 ("+6281234567890"); None if not valid.

    Accepts "0812-3456-7890", "+62 812 3456 7890", "6281234567890", "812 3456 7890",
    landlines ("(021) 555-1234") and "+62 (0) 812...". Numbers of other countries are
    refused, and so are letters (phonenumbers would read "0812-FLOWERS" as digits).
    """
    try:
        if not isinstance(text, str) or len(text) > 40:
            return None
        cleaned = unicodedata.normalize("NFKC", text).strip()
        if not _PHONE_CHARS.fullmatch(cleaned):
            return None
        digits = re.sub(r"\D", "", cleaned)
        candidates = [cleaned]
        if not cleaned.startswith("+") and digits.startswith("62"):
            candidates.insert(0, "+" + digits)
        for candidate in candidates:
            try:
                number = phonenumbers.parse(candidate, "ID")
            except phonenumbers.NumberParseException:
                continue
            if number.country_code == 62 and phonenumbers.is_valid_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return None
    except Exception:  # noqa: BLE001 - never raise on user text
        return None


def mask_phone(e164: str) -> str:
    """Masks a phone number for display: "+6281234567890" → "+62 812****7890".

    Keeps the country code, the first 3 national digits and the last 4; one star per hidden
    digit. Anything that is not an E.164 number is masked completely ("****").
    """
    try:
        number = phonenumbers.parse(e164, None)
    except Exception:  # noqa: BLE001 - a display helper must not fail
        return "****"
    national = str(number.national_number)
    if len(national) < 8:
        return "****"
    return f"+{number.country_code} {national[:3]}{'*' * (len(national) - 7)}{national[-4:]}"


# --------------------------------------------------------------------------------------
# NIK
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def province_codes() -> frozenset[str]:
    """The two-digit province codes ("11", "32", "94"), read once from provinces.csv."""
    with open(WILAYAH_DIR / "provinces.csv", newline="", encoding="utf-8") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle))


_NIK_SEPARATORS = re.compile(r"[\s.\-]")


def validate_nik(text: str) -> str | None:
    """Returns the 16 digits of a plausible NIK, or None.

    Spaces, dots and dashes are ignored. Checked: 16 digits; the first two are a province
    code; digits 7-8 are a birth day 01-31 (41-71 for women, who add 40); digits 9-10 a
    month 01-12; the last four (the serial number) are not 0000.
    """
    if not isinstance(text, str) or len(text) > 40:
        return None
    digits = _NIK_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if len(digits) != 16 or not digits.isascii() or not digits.isdigit():
        return None
    day, month = int(digits[6:8]), int(digits[8:10])
    if digits[:2] not in province_codes():
        return None
    if not (1 <= day <= 31 or 41 <= day <= 71) or not 1 <= month <= 12:
        return None
    if digits[12:] == "0000":
        return None
    return digits


def mask_nik(nik: str) -> str:
    """Masks a NIK for display: "3201234567890001" → "3201********0001".

    Shorter strings (not a NIK) are masked completely.
    """
    if len(nik) < 12:
        return "*" * len(nik)
    return f"{nik[:4]}{'*' * 8}{nik[-4:]}"


# --------------------------------------------------------------------------------------
# Member lines
# --------------------------------------------------------------------------------------


@dataclass
class MemberLine:
    """One household typed on one line of a member list, parsed.

    ``error`` is None when the line is valid, otherwise the code of the first problem:
    "name", "category", "role", "nik", "phone" or "fields" (a line with one field, too
    many fields or a field given twice). Fields parsed before the error are kept.
    ``line_no`` is the line's number in the message (1-based, blank lines counted).
    """

    line_no: int
    raw: str
    name: str | None = None
    welfare_category: str | None = None
    role: str | None = None
    nik: str | None = None
    phone: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


_CATEGORY_ALIASES = {
    "fakir miskin": WelfareCategory.POOREST,
    "fakir": WelfareCategory.POOREST,
    "fm": WelfareCategory.POOREST,
    "miskin": WelfareCategory.POOR,
    "m": WelfareCategory.POOR,
    "hampir miskin": WelfareCategory.NEAR_POOR,
    "hm": WelfareCategory.NEAR_POOR,
    "rentan": WelfareCategory.NEAR_POOR,
    "rentan miskin": WelfareCategory.NEAR_POOR,
}
_ROLE_ALIASES = {
    "ketua": MemberRole.CHAIR,
    "ket": MemberRole.CHAIR,
    "kt": MemberRole.CHAIR,
    "sekretaris": MemberRole.SECRETARY,
    "sekertaris": MemberRole.SECRETARY,
    "sekre": MemberRole.SECRETARY,
    "sek": MemberRole.SECRETARY,
    "skr": MemberRole.SECRETARY,
    "bendahara": MemberRole.TREASURER,
    "bend": MemberRole.TREASURER,
    "bdh": MemberRole.TREASURER,
    "anggota": MemberRole.MEMBER,
    "agt": MemberRole.MEMBER,
}
_ALIASES: dict[str, tuple[str, str]] = {
    **{alias: ("category", value.value) for alias, value in _CATEGORY_ALIASES.items()},
    **{alias: ("role", value.value) for alias, value in _ROLE_ALIASES.items()},
}
# Typos are forgiven for words of four letters or more ("bendahra", "miskn").
_FUZZY_MIN_LENGTH = 4
_FUZZY_CUTOFF = 80

_LEADING_NUMBER = re.compile(r"^\s*(?:\d{1,3}\s*[.)]\s*|[-*•·]\s*|\d{1,3}\s+(?=[^\W\d_]))")
_NAME_PUNCTUATION = frozenset(" .'-")
_CAPITALISE = re.compile(r"(^|[\s.\-])(\w)")


def _match_word(field: str) -> tuple[str, str] | None:
    """("category"|"role", value) for a category or role word, tolerant of typos."""
    key = re.sub(r"[\s_\-]+", " ", _clean(field)).strip(" .")
    if key in _ALIASES:
        return _ALIASES[key]
    if len(key) < _FUZZY_MIN_LENGTH:
        return None
    best = process.extractOne(key, _ALIASES.keys(), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    return _ALIASES[best[0]] if best else None


def parse_person_name(text: str) -> str | None:
    """A person's name as on the KTP and the family card: spaces tidied, title-cased if typed
    all lower or all upper case; None if it is not one.

    Letters of any script, spaces and . ' - only, 2-100 characters with two letters at least:
    no digits, emoji or other symbols, which have no place in the official records these
    names are matched against (the answer to a refused name says so, with an example).
    """
    if not isinstance(text, str) or len(text) > 300:
        return None
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    name = _APOSTROPHES.sub("'", name)
    if not 2 <= len(name) <= 100:
        return None
    in_letter = False
    for char in name:
        if unicodedata.category(char) in {"Mn", "Mc"} and not "\ufe00" <= char <= "\ufe0f":
            if not in_letter:  # combining marks belong to a letter (Devanagari vowels, "Z̧")
                return None
        elif char.isalpha():
            in_letter = True
        elif char in _NAME_PUNCTUATION:
            in_letter = False
        else:
            return None
    if sum(char.isalpha() for char in name) < 2:
        return None
    if name == name.lower() or name == name.upper():
        # A word starts with its letter's title case, not its upper case: "ß" is "Ss" there,
        # and "SS" would read as typed all upper and change again ("Ss") on the next reading.
        name = _CAPITALISE.sub(lambda m: m[1] + m[2].title(), name.lower())
        # Case changes can unsettle combining marks ("İ" lowers to i + dot): order them again.
        name = unicodedata.normalize("NFKC", name)
    return name


_GROUP_NAME_PUNCTUATION = frozenset(" .'-&/(),\"")


def parse_group_name(text: str) -> str | None:
    """A group's name ("KUBE Mawar Sejahtera", "KUBE Maju Jaya 2") with spaces tidied; None
    if it is not one. 3-100 characters with a letter at least: letters, digits, spaces and
    common punctuation (. ' - & / ( ) , ") only, so no emoji, as for people's names."""
    if not isinstance(text, str) or len(text) > 300:
        return None
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    name = _APOSTROPHES.sub("'", name)
    if not 3 <= len(name) <= 100 or not any(char.isalpha() for char in name):
        return None
    if any(not (char.isalnum() or char in _GROUP_NAME_PUNCTUATION) for char in name):
        return None
    return name


def _split_fields(line: str) -> list[str]:
    for separator in (";", "\t", "|", ","):
        if separator in line:
            return [field.strip() for field in line.split(separator)]
    return [line.strip()]


def _digit_field_kind(field: str) -> str | None:
    """The kind, "nik" or "phone", of a field made of digits and separators; None for a word."""
    stripped = field.strip()
    if not re.fullmatch(r"\+?[\d\s().\-/]+", stripped) or not re.search(r"\d", stripped):
        return None
    digits = re.sub(r"\D", "", stripped)
    if stripped.startswith("+"):
        return "phone"
    if len(digits) == 16:
        return "nik"
    if (
        (digits.startswith("0") and 9 <= len(digits) <= 14)
        or (digits.startswith("62") and 10 <= len(digits) <= 15)
        or (digits.startswith("8") and 9 <= len(digits) <= 13)
    ):
        return "phone"
    return "nik" if len(digits) >= 14 else "phone"


def parse_member_line(text: str, line_no: int = 1) -> MemberLine:
    """Parses one household line: ``Siti Aminah; miskin; ketua[; NIK][; phone]``.

    Fields are separated by ";" (or, when the line has none, by a tab, "|" or ","). The name
    comes first; the category, the role, the NIK (16 digits) and the phone are recognised by
    their content, so their order does not matter. A missing role means "anggota". Leading
    numbering ("1.", "1)", "- ") is ignored, and so are empty or "-" fields. Category and
    role words accept common abbreviations and typos. See :class:`MemberLine` for the error
    codes.
    """
    raw = text.strip() if isinstance(text, str) else ""
    line = MemberLine(line_no=line_no, raw=raw)
    if len(raw) > 300:
        line.error = "fields"
        return line
    return _member_from_fields(line, _split_fields(_LEADING_NUMBER.sub("", raw, count=1)))


def parse_member_fields(name: str, category: str, role: str = "", *,
                        line_no: int = 1) -> MemberLine:
    """One household given field by field (a spreadsheet row's cells), checked as
    :func:`parse_member_line` checks a typed line; a separator inside a cell ("Siti; ketua")
    is part of that cell, so it never makes a field of its own."""
    cells = [str(cell) if cell is not None else "" for cell in (name, category, role)]
    line = MemberLine(line_no=line_no, raw="; ".join(cells).strip())
    if any(len(cell) > 300 for cell in cells):
        line.error = "fields"
        return line
    return _member_from_fields(line, [cell.strip() for cell in cells])


def _member_from_fields(line: MemberLine, fields: list[str]) -> MemberLine:
    # Empty fields and "-" (or "tidak ada") stand for a value the mentor does not have.
    fields = [fields[0], *(field for field in fields[1:] if field and not is_skip(field))]
    if len(fields) < 2 or len(fields) > 5:
        line.error = "fields"
        return line
    line.name = parse_person_name(fields[0])
    if line.name is None:
        line.error = "name"
        return line
    for field in fields[1:]:
        kind = _digit_field_kind(field)
        if kind == "nik":
            if line.nik is not None:
                line.error = "fields"
                return line
            line.nik = validate_nik(field)
            if line.nik is None:
                line.error = "nik"
                return line
        elif kind == "phone":
            if line.phone is not None:
                line.error = "fields"
                return line
            line.phone = parse_phone(field)
            if line.phone is None:
                line.error = "phone"
                return line
        else:
            word = _match_word(field)
            if word is None:
                line.error = "category" if line.welfare_category is None else "role"
                return line
            kind, value = word
            if getattr(line, "welfare_category" if kind == "category" else "role") is not None:
                line.error = "fields"
                return line
            if kind == "category":
                line.welfare_category = value
            else:
                line.role = value
    if line.welfare_category is None:
        line.error = "category"
        return line
    if line.role is None:
        line.role = MemberRole.MEMBER.value
    return line


def parse_member_lines(text: str) -> list[MemberLine]:
    """Parses a member list, one household per line (blank lines ignored).

    See :func:`parse_member_line` for the line format. Every non-blank line gives one
    :class:`MemberLine`, valid or with its error code.
    """
    if not isinstance(text, str):
        return []
    return [
        parse_member_line(line, line_no=number)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]


def group_problems(lines: Iterable[object], *, minimum: int, maximum: int) -> list[str]:
    """Problems with a group's membership, considering the valid lines only.

    ``lines`` are :class:`MemberLine` objects or anything with ``name``, ``role`` and ``nik``
    attributes (stored members, for instance); lines with an ``error`` are ignored. Codes, in
    this order: "too_few" / "too_many" (size outside [minimum, maximum]); "missing_<role>" /
    "duplicate_<role>" for each officer role ketua, sekretaris, bendahara (exactly one of
    each is required); "duplicate_name"; "duplicate_nik". Empty when all is well.
    """
    valid = [line for line in lines if getattr(line, "error", None) is None]
    problems: list[str] = []
    if len(valid) < minimum:
        problems.append("too_few")
    elif len(valid) > maximum:
        problems.append("too_many")
    roles = Counter(str(getattr(line, "role", None) or MemberRole.MEMBER.value) for line in valid)
    for role in OFFICER_ROLES:
        if roles[role.value] == 0:
            problems.append(f"missing_{role.value}")
        elif roles[role.value] > 1:
            problems.append(f"duplicate_{role.value}")
    names = Counter(_clean(name) for line in valid if (name := getattr(line, "name", None)))
    if any(count > 1 for count in names.values()):
        problems.append("duplicate_name")
    niks = Counter(nik for line in valid if (nik := getattr(line, "nik", None)))
    if any(count > 1 for count in niks.values()):
        problems.append("duplicate_nik")
    return problems


_LONG_NUMBER = re.compile(r"\+?\d[\d .-]{6,}\d")


def mask_numbers(text: str) -> str:
    """Masks anything that looks like a NIK or a phone number inside free text (a note, a
    line echoed back): 16 digits as a NIK; a phone number (0…, 62…, +62…, 8…) and any longer
    run keep only their ends. Amounts ("Rp 15.000.000", "2500000") stay as they are."""

    def mask(match: re.Match[str]) -> str:
        found = match.group(0)
        digits = re.sub(r"\D", "", found)
        if len(digits) == 16:
            return mask_nik(digits)
        phone_like = (found.startswith(("+", "0", "62")) and len(digits) >= 8) or (
            found.startswith("8") and 10 <= len(digits) <= 12)
        if phone_like or len(digits) > 16:
            return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]
        return found

    return _LONG_NUMBER.sub(mask, text)
