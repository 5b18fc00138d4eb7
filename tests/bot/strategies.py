"""Hypothesis settings and strategies shared by the property tests of tests/bot.

Two kinds of properties:

* robustness: any text at all (control characters, NUL, emoji, right-to-left marks, SQL,
  format strings, huge strings, other scripts' digits) gets the parser's documented "not
  understood" answer (None, an error code, an empty list), never an exception;
* round trips: what the bot writes itself, or what a mentor types in a documented format
  (formatted Rupiah and dates, E.164 and 08xx numbers, NIKs, member lines, counts, place
  names, button data), reads back to the same value.

Each module of properties must stay well under 20 s on a slow two-core machine: PROPS below
sets the examples per property; ``--hypothesis-show-statistics`` prints how many inputs each
one tried. tests/conftest.py makes the draws the same on every run.
"""

from __future__ import annotations

import string
from datetime import date
from functools import cache, lru_cache
from itertools import pairwise

import phonenumbers
from babel.dates import get_month_names
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from num2words import num2words

from bot.core.parsing import province_codes
from bot.core.places import default_index

# dateparser and the place search are slow on a busy machine: no deadline, and fewer
# examples for the searches over 90 000 areas.
PROPS = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SLOW = settings(PROPS, max_examples=100)  # dateparser, phonenumbers, from_regex
FEW = settings(PROPS, max_examples=40)  # a fuzzy search over thousands of areas each


# --------------------------------------------------------------------------------------
# Nasty text
# --------------------------------------------------------------------------------------

NASTY = [
    "", " ", "\x00", "\x00" * 40, "a\x00b", "\t\n\r\x0b\x0c", "\u200b", "\u200f", "\u202e",
    "\ufeff", "\u00a0", "\u2028", "'; DROP TABLE member; --", "1; DELETE FROM visit",
    "' OR '1'='1", "Robert'); DROP TABLE students;--", "%s %d %n {0} {nama} {} {{}}",
    "${jndi:ldap://x}", "<script>alert(1)</script>", "../../etc/passwd", "👨‍👩‍👧‍👦", "🇮🇩",
    "Siti 🌸", "١٢/٠٣/٢٠٢٦", "１２/０３/２０２６", "𝟏𝟐/𝟎𝟑/𝟐𝟎𝟐𝟔", "²⁵", "½ jt", "Ⅻ", "ﷺ",
    "محمد علي", "שלום", "\u202eRp 250.000", "Rp\u00a0250.000", "Rp\u202f1.500.000", "NaN",
    "nan", "inf", "-inf", "1e309", "0x1F", "1_000", "9" * 5000, "1," * 3000, "." * 1000,
    "hari ini" * 500, "31/02/2026", "29/02/2025", "00/00/0000", "99/99/9999", "-0", "+0",
    "−250rb", "rugi", "rugi -", "- -250rb", "0812-3456-7890" * 10, "3201014112900001" * 5,
    "ketua; " * 100, ";;;;", "|||", "\t\t", ",,,", "1.", "hapus", "/start", "/batal",
    "\ud800", "a\udfffb", "kun:start:1", "9" * 4400, "٣٢٠١٠١٤١١٢٩٠٠٠٠١",
]
_HUGE_PIECES = ["9", "1,", "jt ", "👍", "a;", "\x00", "hari ", "3201014112900001 ", "ketua\n"]
huge_text = st.builds(lambda piece, n: piece * n, st.sampled_from(_HUGE_PIECES),
                      st.integers(50, 12_000))
near_miss = st.text(alphabet="0123456789 .,/-:;+()rbjtkmRpIDhariinkemrlu\u00a0", max_size=30)
any_text = st.one_of(
    st.text(),  # all of Unicode but lone surrogates
    # control, format (RTL marks, zero-width), private-use characters and lone surrogates
    # (JSON can carry "\ud800", and Python then holds it)
    st.text(st.characters(categories=["Cc", "Cf", "Co", "Cs", "Zl", "Zp"]), max_size=20),
    st.text(st.characters(exclude_categories=()), max_size=40),
    near_miss,
    st.sampled_from(NASTY),
    huge_text,
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=20)),
)


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------

any_day = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31))
recent_today = st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31))


@cache
def month_names(lang: str, width: str) -> dict[int, str]:
    return dict(get_month_names(width, locale="id_ID" if lang == "id" else "en"))


# --------------------------------------------------------------------------------------
# Amounts and counts
# --------------------------------------------------------------------------------------


def id_grouped(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def spelt(n: int, lang: str) -> str:
    """The number in words as num2words spells it ("dua ratus lima", "two hundred and five")."""
    return num2words(n, lang=lang)


# --------------------------------------------------------------------------------------
# NIK and phone numbers
# --------------------------------------------------------------------------------------


@st.composite
def niks(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(province_codes())))
    area = draw(st.text("0123456789", min_size=4, max_size=4))
    day = draw(st.integers(1, 31)) + draw(st.sampled_from([0, 40]))
    month = draw(st.integers(1, 12))
    year = draw(st.integers(0, 99))
    serial = draw(st.integers(1, 9999))
    return f"{province}{area}{day:02d}{month:02d}{year:02d}{serial:04d}"


def nik_forms(nik: str) -> list[str]:
    groups4 = [nik[i:i + 4] for i in range(0, 16, 4)]
    return [nik, " ".join(groups4), ".".join(groups4), "-".join(groups4),
            f"{nik[:6]}.{nik[6:12]}.{nik[12:]}", f" {nik} "]


@st.composite
def id_phones(draw: st.DrawFn) -> str:
    """A valid Indonesian number (mobile or landline) in E.164."""
    prefix = draw(st.sampled_from(["811", "812", "813", "821", "822", "852", "853", "857",
                                   "858", "877", "878", "881", "895", "896", "899", "831",
                                   "838", "21", "22", "24", "31", "61", "361", "411"]))
    rest = draw(st.text("0123456789", min_size=6, max_size=9))
    number = phonenumbers.parse(f"+62{prefix}{rest}")
    assume(phonenumbers.is_valid_number(number))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_forms(e164: str) -> list[str]:
    number = phonenumbers.parse(e164)
    fmt = phonenumbers.PhoneNumberFormat
    national = phonenumbers.format_number(number, fmt.NATIONAL)
    digits = str(number.national_number)
    return [e164, phonenumbers.format_number(number, fmt.INTERNATIONAL), national,
            national.replace(" ", "").replace("-", ""), f"62{digits}", f"0{digits}",
            f"+62 (0) {digits}", f"0{digits[:3]}-{digits[3:7]}-{digits[7:]}"]


# NIKs and phone numbers as mentors write them inside a sentence (bot.core.parsing.numbers):
# any separator between the groups, spaces around it or not, the area or operator code in
# brackets, +62, 62 or 0 in front. Each is drawn with what it stands for.
_SEPARATORS_WRITTEN = ["", " ", ".", "-", "/", " - ", " . ", " / "]


@st.composite
def written_niks(draw: st.DrawFn) -> tuple[str, str]:
    """(a NIK's 16 digits, the NIK as written: grouped 4-4-4-4, 6-6-4, 2-2-2-6-4 or not)."""
    nik = draw(niks())
    cuts = draw(st.sampled_from([(), (4, 8, 12), (6, 12), (2, 4, 6, 12)]))
    separator = draw(st.sampled_from(_SEPARATORS_WRITTEN))
    bounds = [0, *cuts, 16]
    return nik, separator.join(nik[a:b] for a, b in pairwise(bounds))


@st.composite
def written_phones(draw: st.DrawFn) -> tuple[str, str]:
    """(an Indonesian number in E.164, the number as written: 0…, +62…, 62…, +62 (0)… or,
    for a mobile, the national 8… alone; grouped by one separator; the area or operator code
    in brackets or not)."""
    e164 = draw(id_phones())
    number = phonenumbers.parse(e164)
    national = str(number.national_number)
    code_length = phonenumbers.length_of_national_destination_code(number) or 3
    code, rest = national[:code_length], national[code_length:]
    mobile = national.startswith("8")
    separator = draw(st.sampled_from(_SEPARATORS_WRITTEN[1:]))
    cut = draw(st.sampled_from([0, 3, 4] if len(rest) >= 7 else [0, 3]))
    subscriber = rest if not cut else rest[:cut] + separator + rest[cut:]
    bracketed = draw(st.booleans())
    # The national 8… alone is a phone number from 10 digits on (812345678 is a Telegram id).
    prefix = draw(st.sampled_from(["0", "+62 ", "+62", "62 ", "+62 (0) ", "62"]
                                  + (["unseparated"] if mobile else [])
                                  + ([""] if mobile and len(national) >= 10 else [])))
    if prefix == "unseparated":  # 08…, 62… or 8… as one run of digits
        written = draw(st.sampled_from(["0", "62", *([""] if len(national) >= 11 else [])]))
        written += national
        if written.startswith("62") and len(written) < 11:
            written = "0" + national
        return e164, written
    if prefix == "62" and not bracketed:
        prefix = "62 "  # "62812…" run together with the rest is a Telegram id's shape
    if prefix in ("0", ""):
        head = f"({prefix}{code})" if bracketed else prefix + code
        return e164, head + (" " if bracketed else separator) + subscriber
    head = f"({code})" if bracketed else code
    return e164, prefix + head + (" " if bracketed else separator) + subscriber


# Around them, what must stay as it is: amounts, dates, years, counts.
_KEPT = st.one_of(
    st.builds(lambda n: f"Rp {id_grouped(n)}", st.integers(1_000, 900_000_000)),
    st.builds(lambda n: f"Rp {id_grouped(n)},-", st.integers(1_000, 900_000_000)),
    st.builds(id_grouped, st.integers(100_000, 90_000_000)),
    st.builds(lambda day, fmt: day.strftime(fmt), any_day,
              st.sampled_from(["%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y"])),
    st.integers(1990, 2035).map(str),
    st.builds(lambda n, what: f"{n} {what}", st.integers(0, 99),
              st.sampled_from(["orang", "KK", "ekor", "kali"])),
)
_LEADS = ["Kunjungan", "Bu Siti bilang", "Catatan:", "Pak Budi", "Ketua kelompok"]
_BEFORE_NUMBER = ["HP", "NIK", "telp", "WA", "nomor", "hubungi", "di", "ke"]
_BEFORE_KEPT = ["modal", "kas", "pada", "sejak", "tanggal", "sebanyak", "sisa"]
_AFTER = ["", ",", ".", ";", " ya", " dan", ")"]


@st.composite
def sentences_with_numbers(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str, str]]]:
    """An Indonesian sentence as pieces of text, and the numbers in it as (kind, value,
    written): the pieces alternate text and a NIK or phone number written as a mentor may,
    with amounts, dates, years and counts among the text."""
    pieces = [draw(st.sampled_from(_LEADS))]
    numbers: list[tuple[str, str, str]] = []
    for _ in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(0, 2))):
            pieces[-1] += (f" {draw(st.sampled_from(_BEFORE_KEPT))} {draw(_KEPT)}"
                           f"{draw(st.sampled_from(_AFTER))}")
        pieces[-1] += f" {draw(st.sampled_from(_BEFORE_NUMBER))} "
        if draw(st.booleans()):
            nik, written = draw(written_niks())
            numbers.append(("nik", nik, written))
        else:
            e164, written = draw(written_phones())
            numbers.append(("phone", e164, written))
        pieces += [written, draw(st.sampled_from(_AFTER))]
    pieces[-1] += f" {draw(st.sampled_from(_BEFORE_KEPT))} {draw(_KEPT)}."
    return pieces, numbers


# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------

_word = st.builds(
    lambda first, rest, tail: first + rest + tail,
    st.sampled_from(string.ascii_uppercase),
    st.text(string.ascii_lowercase, min_size=1, max_size=9),
    st.sampled_from(["", "", "", "'i", "'ah", "-Nur"]),
)
person_names = st.lists(_word, min_size=1, max_size=4).map(" ".join).filter(
    lambda name: len(name) <= 100)


# --------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def codes_by_level() -> dict[int, list[str]]:
    index = default_index()
    found: dict[int, list[str]] = {}
    stack = [place.code for place in index.children(None)]
    while stack:
        code = stack.pop()
        place = index.get(code)
        found.setdefault(place.level, []).append(code)
        stack.extend(child.code for child in index.children(code))
    return {level: sorted(codes) for level, codes in found.items()}
