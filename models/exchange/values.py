"""Cell values of a filled template as the import reads them: blank or not, text, dates,
consent, and the words of the programme's vocabularies (in either language, typos allowed).

Cells come as openpyxl gives them: text, numbers (whole, broken, NaN), booleans, dates and
times; none of these functions raises on any of them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from bot.core.enums import BindingTie, BusinessType, Stage
from bot.core.parsing import is_skip, nonexistent_date, parse_date
from bot.core.places import timezone_abbr
from bot.core.texts import label
from models.exchange.report import RefusalCode

# A consent cell reads as yes with any of these (a tick, "Y", "setuju", "yes", 1, TRUE...).
_CONSENT_WORDS = frozenset({"ya", "y", "iya", "setuju", "yes", "v", "x", "1", "true", "benar"})
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")

BUSINESS = tuple(v.value for v in BusinessType)
STAGES = tuple(v.value for v in Stage)
TIES = tuple(v.value for v in BindingTie)


def norm(text: str) -> str:
    """Lowercase, accents off, anything but letters and digits as one space."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", " ", text.casefold()).strip()


def group_key(village: str, name: str) -> tuple[str, str]:
    """How a group is known in a file and in the data: its village and its name in any case."""
    return village, re.sub(r"\s+", " ", name).strip().casefold()


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (not value.strip() or is_skip(value)))


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"\s+", " ", str(value)).strip()


def to_date(value: Any, today: date) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 80000:  # an Excel serial day number in a cell not formatted as a date
            return date(1899, 12, 30) + timedelta(days=int(value))
        return None
    written = text(value)
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(written, pattern).date()
        except ValueError:
            continue
    return parse_date(written, today=today)


def local_today(dates: dict[str, date], village: str) -> date:
    """Today in the village's time zone, from models.reports.local_dates."""
    try:
        return dates[timezone_abbr(village)]
    except ValueError:
        return dates["WIB"]


def date_reason(value: Any) -> RefusalCode:
    """Why a date cell was refused: a day its month does not have ("31/02/2026"), or no date."""
    return RefusalCode.NO_SUCH_DATE if nonexistent_date(text(value)) else RefusalCode.DATE


def consent(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return norm(text(value)) in _CONSENT_WORDS


# Labels that older templates carry: a filled old template still imports.
LEGACY_WORDS: dict[str, dict[str, str]] = {"business": {"Dagang/warung": "dagang"}}


@lru_cache(maxsize=8)
def _vocabulary(vocabulary: str, values: tuple[str, ...]) -> dict[str, str]:
    """Normalised words → enum value: the values, and their labels in both languages (each
    part of "Warung/e-Warong" too). The labels are the bot's own words for these values, so a
    cell reads as the chat would; older labels (LEGACY_WORDS) read as they did."""
    table: dict[str, str] = {norm(old): value
                             for old, value in LEGACY_WORDS.get(vocabulary, {}).items()}
    for value in values:
        words = {value, value.replace("_", " ")}
        for lang in ("id", "en"):
            written = label(lang, vocabulary, value)
            words.add(written)
            words.update(written.split("/"))
        for word in words:
            table.setdefault(norm(word), value)
    return table


def word(value: Any, vocabulary: str, values: tuple[str, ...]) -> str | None:
    key = norm(text(value))
    table = _vocabulary(vocabulary, values)
    if key in table:
        return table[key]
    if len(key) >= 4:
        best = process.extractOne(key, table.keys(), scorer=fuzz.ratio, score_cutoff=85)
        if best:
            return table[best[0]]
    return None


_SEX_WORDS = {"l": "l", "lk": "l", "laki": "l", "laki laki": "l", "pria": "l", "male": "l",
              "m": "l", "man": "l", "p": "p", "pr": "p", "perempuan": "p", "wanita": "p",
              "female": "p", "f": "p", "w": "p", "woman": "p"}
_REGISTER_WORDS = {"ya": "ya", "y": "ya", "yes": "ya", "terdaftar": "ya", "sudah": "ya",
                   "1": "ya", "true": "ya", "tidak": "tidak", "t": "tidak", "no": "tidak",
                   "n": "tidak", "tidak terdaftar": "tidak", "belum": "tidak", "0": "tidak",
                   "false": "tidak", "tidak tahu": "tidak_tahu", "tdk tahu": "tidak_tahu",
                   "tidak tau": "tidak_tahu", "unknown": "tidak_tahu",
                   "don t know": "tidak_tahu", "tt": "tidak_tahu"}


def head_sex(value: Any) -> str | None:
    """"L"/"P" (laki-laki, perempuan, male, female...) as bot.core.enums.Sex, or None."""
    if isinstance(value, bool):
        return None
    return _SEX_WORDS.get(norm(text(value)))


def register_status(value: Any) -> str | None:
    """DTKS/DTSEN: ya, tidak, tidak tahu (bot.core.enums.RegisterStatus), or None."""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    return _REGISTER_WORDS.get(norm(text(value)))


def decile(value: Any) -> int | None:
    """A DTKS/DTSEN decile, 1 to 10 ("desil 3" reads too), or None."""
    number = whole_number(value)
    if number is None:
        found = re.fullmatch(r"(?:desil|decile)?\s*(\d{1,2})", norm(text(value)))
        number = int(found[1]) if found else None
    return number if number is not None and 1 <= number <= 10 else None


def whole_number(value: Any) -> int | None:
    """A number cell holding a whole number, as an int (a TRUE/FALSE cell is a bool, which
    Python counts as the int 1 or 0: not a number here)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and float(value).is_integer():
        return int(value)
    return None
