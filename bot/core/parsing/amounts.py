"""Rupiah amounts ("Rp 250.000", "1,5 jt", "dua ratus ribu") and counts ("7 orang", "tujuh",
"10 ekor kambing") as mentors type them."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import NumberFormatError, parse_decimal
from num2words import num2words

from bot.core.parsing.common import clean, user_text

__all__ = [
    "MAX_AMOUNT",
    "MAX_COUNT_WORDS",
    "parse_amount",
    "parse_count",
    "parse_leading_count",
]

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


@user_text(64)
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
    cleaned = clean(text)
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
            spelt = clean(num2words(value, lang=lang).replace("-", " ").replace(",", ""))
            for variant in (spelt, spelt.replace(" and ", " "), spelt.replace(" ", "")):
                words.setdefault(variant, value)
    return words


_WORD_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")


def _read_count(cleaned: str) -> int | None:
    """The count in ``cleaned`` (digits, Indonesian grouping or number words); None if none."""
    if _DIGIT_COUNT.fullmatch(cleaned):
        return int(cleaned.replace(".", ""))
    return _count_words().get(_WORD_HYPHEN.sub(" ", cleaned))


@user_text(60)
def parse_count(text: str, *, minimum: int, maximum: int) -> int | None:
    """Parses a whole count within [minimum, maximum]: "7", "7 orang", "7 KK", "1.000",
    "tujuh", "dua belas", "seratus", "twenty-one".

    Number words go up to MAX_COUNT_WORDS (1000), in Indonesian or English. None when the text
    is not a count or is out of range. Every question asking "how many" reads its answer here
    (or through :func:`parse_leading_count`), so they all understand the same words.
    """
    value = _read_count(_COUNT_UNITS.sub("", clean(text)).strip())
    return value if value is not None and minimum <= value <= maximum else None


# The longest number words below 1000: "one hundred and ninety nine" (5 words).
_LONGEST_COUNT_WORDS = 6


@user_text(200)
def parse_leading_count(text: str, *, minimum: int, maximum: int) -> tuple[int, str] | None:
    """A count at the start of ``text`` and what follows it: "10 ekor kambing" → (10, "ekor
    kambing"), "sepuluh ekor" → (10, "ekor"), "1.000 bibit" → (1000, "bibit"), "10ekor" →
    (10, "ekor"), "25" → (25, ""). The words are read as by :func:`parse_count`, the longest
    number first; the rest keeps its letters' case. None without a count in range first.
    """
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    if match := _DIGIT_COUNT.match(cleaned):
        rest = cleaned[match.end():]
        if rest and not (rest[0].isspace() or rest[0].isalpha()):
            return None  # "1,5 ekor", "12.34", "10/ekor": not a count and its unit
        value = int(match[0].replace(".", ""))
        return (value, rest.strip()) if minimum <= value <= maximum else None
    words = cleaned.split(" ")
    for size in range(min(len(words), _LONGEST_COUNT_WORDS), 0, -1):
        value = _read_count(clean(" ".join(words[:size])))
        if value is not None:
            if not minimum <= value <= maximum:
                return None
            return value, " ".join(words[size:])
    return None
