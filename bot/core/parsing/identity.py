"""Identity numbers: phone numbers and NIKs typed by mentors, and how both are masked for
display (inside free text: :mod:`.numbers`)."""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache

import phonenumbers

from bot.core.parsing.common import user_text
from bot.core.places import WILAYAH_DIR

__all__ = [
    "mask_nik",
    "mask_phone",
    "parse_phone",
    "province_codes",
    "validate_nik",
]

# --------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]+")


@user_text(40)
def parse_phone(text: str) -> str | None:
    """Parses an Indonesian phone number into E.164 ("+6281234567890"); None if not valid.

    Accepts "0812-3456-7890", "+62 812 3456 7890", "6281234567890", "812 3456 7890",
    landlines ("(021) 555-1234") and "+62 (0) 812...". Numbers of other countries are
    refused, and so are letters (phonenumbers would read "0812-FLOWERS" as digits).
    """
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
