"""Property-based tests (hypothesis) of every parser and validator of what users send.

Two kinds of properties:

* robustness: any text at all (control characters, NUL, emoji, right-to-left marks, SQL,
  format strings, huge strings, other scripts' digits) gets the parser's documented "not
  understood" answer (None, an error code, an empty list), never an exception;
* round trips: what the bot writes itself, or what a mentor types in a documented format
  (formatted Rupiah and dates, E.164 and 08xx numbers, NIKs, member lines, counts, place
  names, button data), reads back to the same value.

The whole module must stay well under 20 s on a slow two-core machine: PROPS below sets the
examples per property; ``--hypothesis-show-statistics`` prints how many inputs each one tried.
"""

from __future__ import annotations

import calendar
import re
import string
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache, lru_cache

import phonenumbers
import pytest
from babel.dates import get_day_names, get_month_names
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from num2words import num2words
from rapidfuzz import fuzz
from telegram import CallbackQuery, User
from telegram.ext import CallbackQueryHandler, ConversationHandler

from bot.app import HANDLER_MODULES
from bot.core.enums import (
    Activity,
    Affiliation,
    Audience,
    BindingTie,
    BusinessType,
    FundingSource,
    GrantForm,
    GrantKind,
    MemberRole,
    RecipientKind,
    Stage,
)
from bot.core.formatting import format_date, format_date_short, format_rupiah, format_weekday_date
from bot.core.parsing import (
    _CATEGORY_ALIASES,
    _ROLE_ALIASES,
    MAX_AMOUNT,
    TWO_DIGIT_YEARS_AHEAD,
    group_problems,
    is_skip,
    mask_nik,
    mask_numbers,
    mask_phone,
    nonexistent_date,
    parse_amount,
    parse_count,
    parse_date,
    parse_leading_count,
    parse_member_line,
    parse_member_lines,
    parse_person_name,
    parse_phone,
    province_codes,
    validate_nik,
)
from bot.core.places import _normalise, default_index
from handlers import (
    agenda,
    approvals,
    broadcasts,
    common,
    coordinators,
    grants,
    group_registration,
    groups,
    history,
    members,
    onboarding,
    reports,
    rollovers,
    schedule,
    system,
    visits,
)
from handlers import help as help_handlers
from models import broadcasts as broadcast_queries
from scheduler import outbox

# dateparser and the place search are slow on a busy machine: no deadline, and fewer
# examples for the searches over 90 000 areas.
PROPS = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SLOW = settings(PROPS, max_examples=100)  # dateparser, phonenumbers, from_regex
FEW = settings(PROPS, max_examples=40)  # a fuzzy search over thousands of areas each

TODAY = date(2026, 11, 25)

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


@SLOW
@given(any_text, recent_today)
def test_parse_date_never_raises(text: str, today: date) -> None:
    result = parse_date(text, today=today)
    assert result is None or type(result) is date
    missing = nonexistent_date(text)
    assert missing is None or result is None  # a day that does not exist is never a date


@cache
def _month_names(lang: str, width: str) -> dict[int, str]:
    return dict(get_month_names(width, locale="id_ID" if lang == "id" else "en"))


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
    month = _month_names(lang, width)[d.month]
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
    text = form.format(d=day, m=month, y=year, month=_month_names(lang, "wide")[month])
    assert parse_date(text, today=today) is None
    assert nonexistent_date(text) == (day, month, year if "{y}" in form else None)


@SLOW
@given(any_day, st.integers(1, 365), recent_today, st.sampled_from(["id", "en"]),
       st.data())
def test_next_visit_date_without_year_is_the_first_after_the_visit(
        visited: date, ahead: int, today: date, lang: str, data: st.DataObject) -> None:
    upcoming = visited + timedelta(days=ahead)
    month = _month_names(lang, "abbreviated")[upcoming.month]
    text = data.draw(st.sampled_from([f"{upcoming.day} {month}", f"{upcoming:%d/%m}",
                                      f"{upcoming:%d/%m/%Y}", format_date(upcoming, lang)]))
    assert visits.parse_next_date(text, visited=visited, today=today) == upcoming


@SLOW
@given(any_text, any_day)
def test_parse_next_date_never_raises(text: str, visited: date) -> None:
    result = visits.parse_next_date(text, visited=visited, today=TODAY)
    assert result is None or type(result) is date


# --------------------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------------------

amounts = st.integers(0, MAX_AMOUNT)


@PROPS
@given(any_text)
def test_parse_amount_never_raises(text: str) -> None:
    for allow_loss in (False, True):
        result = parse_amount(text, allow_loss=allow_loss)
        assert result is None or type(result) is int
        assert result is None or (-MAX_AMOUNT if allow_loss else 0) <= result <= MAX_AMOUNT
    assert isinstance(is_skip(text), bool)


@PROPS
@given(amounts, st.sampled_from(["id", "en"]))
@example(MAX_AMOUNT, "id")
@example(0, "en")
def test_formatted_rupiah_parses_back(amount: int, lang: str) -> None:
    assert parse_amount(format_rupiah(amount, lang)) == amount
    assert parse_amount(format_rupiah(amount, lang), allow_loss=True) == amount


def _id_grouped(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


# Typed amounts are mostly round: thousands, hundred-thousands, millions.
round_amounts = st.one_of(
    amounts,
    st.integers(0, MAX_AMOUNT // 1000).map(lambda k: k * 1000),
    st.integers(1, MAX_AMOUNT // 100_000).map(lambda k: k * 100_000),
    st.integers(1, MAX_AMOUNT // 1_000_000).map(lambda k: k * 1_000_000),
)


@PROPS
@given(round_amounts, st.data())
def test_typed_rupiah_forms_parse_back(amount: int, data: st.DataObject) -> None:
    forms = [str(amount), _id_grouped(amount), f"Rp {_id_grouped(amount)}",
             f"Rp{_id_grouped(amount)},00", f"Rp {_id_grouped(amount)},-", f"{amount:,}",
             f"IDR {_id_grouped(amount)}", f"{_id_grouped(amount)} rupiah"]
    if amount % 1000 == 0:
        forms += [f"{amount // 1000}rb", f"{amount // 1000} ribu", f"{amount // 1000}k"]
    if amount % 100_000 == 0 and amount:
        millions = f"{amount / 1_000_000:.1f}".removesuffix(".0")
        forms += [f"{millions.replace('.', ',')} jt", f"{millions}jt", f"{millions} juta"]
    if amount % 1_000_000 == 0 and amount > 1_000_000_000 and amount % 1_000_000_000:
        forms.append(f"{amount // 1_000_000_000} M {amount % 1_000_000_000 // 1_000_000} jt")
    text = data.draw(st.sampled_from(forms))
    assert parse_amount(text) == amount, text


@PROPS
@given(st.integers(1, MAX_AMOUNT), st.data())
def test_a_loss_reads_as_a_negative_profit_only_when_allowed(amount: int,
                                                             data: st.DataObject) -> None:
    formatted = format_rupiah(amount)
    text = data.draw(st.sampled_from([
        format_rupiah(-amount), f"-{formatted}", f"- {formatted}", f"Rp -{_id_grouped(amount)}",
        f"rugi {formatted}", f"Rugi {_id_grouped(amount)}", f"minus {_id_grouped(amount)}",
        f"-{_id_grouped(amount)}", f"\u2212{_id_grouped(amount)}",
    ]))
    assert parse_amount(text, allow_loss=True) == -amount, text
    assert parse_amount(text) is None, text


# --------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------


@PROPS
@given(any_text, st.integers(0, 5), st.integers(0, 1000))
def test_parse_count_never_raises(text: str, minimum: int, span: int) -> None:
    result = parse_count(text, minimum=minimum, maximum=minimum + span)
    assert result is None or minimum <= result <= minimum + span
    leading = parse_leading_count(text, minimum=1, maximum=100_000)
    assert leading is None or (1 <= leading[0] <= 100_000 and isinstance(leading[1], str))


def _spelt(n: int, lang: str) -> str:
    """The number in words as num2words spells it ("dua ratus lima", "two hundred and five")."""
    return num2words(n, lang=lang)


@PROPS
@given(st.integers(0, 1000), st.data())
def test_counts_in_digits_and_words_parse_back(n: int, data: st.DataObject) -> None:
    # As num2words spells it, and as phones and hurry write it: "duapuluh", "twenty one",
    # "one hundred five".
    indonesian, english = _spelt(n, "id"), _spelt(n, "en")
    word = data.draw(st.sampled_from([indonesian, indonesian.replace(" ", ""), english,
                                      english.replace("-", " "), english.replace(" and ", " ")]))
    text = data.draw(st.sampled_from([
        str(n), f" {n} ", f"{n} orang", f"{n}orang", f"{n} KK", word, word.upper(),
        word.capitalize(), f"{word} orang", f"{word} kk",
    ]))
    assert parse_count(text, minimum=0, maximum=1000) == n, text


@PROPS
@given(st.integers(1, 1000), st.sampled_from(["ekor kambing", "ekor anak ayam", "karung",
                                              "batang bibit", "unit"]), st.data())
def test_units_in_digits_and_words_parse_back(n: int, label: str, data: st.DataObject) -> None:
    count = data.draw(st.sampled_from([str(n), _id_grouped(n), _spelt(n, "id")]))
    assert grants.parse_units(f"{count} {label}") == (n, label)
    assert grants.parse_units(count) == (n, None)


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


def _nik_forms(nik: str) -> list[str]:
    groups4 = [nik[i:i + 4] for i in range(0, 16, 4)]
    return [nik, " ".join(groups4), ".".join(groups4), "-".join(groups4),
            f"{nik[:6]}.{nik[6:12]}.{nik[12:]}", f" {nik} "]


@PROPS
@given(any_text)
def test_nik_and_masks_never_raise(text: str) -> None:
    nik = validate_nik(text)
    assert nik is None or (len(nik) == 16 and nik.isascii() and nik.isdigit())
    masked = mask_nik(text)
    assert isinstance(masked, str)
    assert isinstance(mask_phone(text), str)
    shown = mask_numbers(text)
    assert not re.search(r"\d{16}", shown.replace(" ", ""))


@PROPS
@given(niks(), st.data())
def test_niks_parse_back_and_are_masked(nik: str, data: st.DataObject) -> None:
    assert validate_nik(data.draw(st.sampled_from(_nik_forms(nik)))) == nik
    masked = mask_nik(nik)
    assert masked == f"{nik[:4]}********{nik[-4:]}" and validate_nik(masked) is None
    around = data.draw(st.sampled_from(["{} ", "NIK {}, HP", "Budi; m; {}", "({})"]))
    text = around.format(data.draw(st.sampled_from(_nik_forms(nik))).strip())
    assert nik[4:12] not in mask_numbers(text).replace(" ", "").replace(".", "").replace("-", "")


@PROPS
@given(niks(), st.integers(0, 15), st.sampled_from("0123456789"))
def test_a_nik_changed_in_a_checked_place_is_refused(nik: str, at: int, digit: str) -> None:
    changed = nik[:at] + digit + nik[at + 1:]
    province_ok = changed[:2] in province_codes()
    day, month = int(changed[6:8]), int(changed[8:10])
    plausible = (province_ok and (1 <= day <= 31 or 41 <= day <= 71) and 1 <= month <= 12
                 and changed[12:] != "0000")
    assert (validate_nik(changed) == changed) == plausible


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


def _phone_forms(e164: str) -> list[str]:
    number = phonenumbers.parse(e164)
    fmt = phonenumbers.PhoneNumberFormat
    national = phonenumbers.format_number(number, fmt.NATIONAL)
    digits = str(number.national_number)
    return [e164, phonenumbers.format_number(number, fmt.INTERNATIONAL), national,
            national.replace(" ", "").replace("-", ""), f"62{digits}", f"0{digits}",
            f"+62 (0) {digits}", f"0{digits[:3]}-{digits[3:7]}-{digits[7:]}"]


@PROPS
@given(any_text)
def test_parse_phone_never_raises(text: str) -> None:
    result = parse_phone(text)
    assert result is None or (result.startswith("+62") and parse_phone(result) == result)


@SLOW
@given(id_phones(), st.data())
def test_phone_numbers_parse_back_and_are_masked(e164: str, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(_phone_forms(e164)))
    assert parse_phone(text) == e164, text
    national = e164[3:]
    assert mask_phone(e164) == f"+62 {national[:3]}{'*' * (len(national) - 7)}{national[-4:]}"


# --------------------------------------------------------------------------------------
# Member lines and names
# --------------------------------------------------------------------------------------

_word = st.builds(
    lambda first, rest, tail: first + rest + tail,
    st.sampled_from(string.ascii_uppercase),
    st.text(string.ascii_lowercase, min_size=1, max_size=9),
    st.sampled_from(["", "", "", "'i", "'ah", "-Nur"]),
)
person_names = st.lists(_word, min_size=1, max_size=4).map(" ".join).filter(
    lambda name: len(name) <= 100)
categories = st.sampled_from(sorted(_CATEGORY_ALIASES))
roles = st.sampled_from(sorted(_ROLE_ALIASES))


@PROPS
@given(any_text)
def test_member_lines_never_raise(text: str) -> None:
    lines = parse_member_lines(text)
    assert len(lines) == sum(1 for line in text.splitlines() if line.strip())
    for line in lines:
        if line.ok:
            assert line.name and line.welfare_category and line.role
            assert parse_person_name(line.name) == line.name
        else:
            assert line.error in {"name", "category", "role", "nik", "phone", "fields"}
    assert isinstance(group_problems(lines, minimum=5, maximum=10), list)
    single = parse_member_line(text)
    assert single.ok or single.error


@SLOW
@given(
    name=person_names,
    case=st.sampled_from(["as typed", "lower", "upper"]),
    category=categories,
    role=st.none() | roles,
    nik=st.none() | niks(),
    phone=st.none() | id_phones(),
    separator=st.sampled_from([";", " ; ", "; ", "|", " | ", "\t", ", "]),
    numbering=st.sampled_from(["", "1. ", "12) ", "- ", "• ", "3 "]),
    data=st.data(),
)
def test_member_lines_built_from_valid_parts_parse_back(
        name: str, case: str, category: str, role: str | None, nik: str | None,
        phone: str | None, separator: str, numbering: str, data: st.DataObject) -> None:
    typed = {"as typed": name, "lower": name.lower(), "upper": name.upper()}[case]
    rest = [category, *([role] if role else []),
            *([data.draw(st.sampled_from(_nik_forms(nik))).strip()] if nik else []),
            *([data.draw(st.sampled_from(_phone_forms(phone)))] if phone else [])]
    rest = data.draw(st.permutations(rest))
    assume(separator.strip() != "," or not any("," in part for part in rest))
    line = parse_member_line(numbering + separator.join([typed, *rest]))
    assert line.error is None, line
    assert line.name == name
    assert line.welfare_category == _CATEGORY_ALIASES[category].value
    assert line.role == (_ROLE_ALIASES[role].value if role else MemberRole.MEMBER.value)
    assert (line.nik, line.phone) == (nik, phone)


@PROPS
@given(person_names, st.sampled_from(["🌸", "😊", "👍🏽", "🇮🇩", "❤️", "#1", "2", "@", "©"]),
       st.integers(0, 3))
def test_names_with_emoji_or_symbols_are_refused_as_names(name: str, odd: str, at: int) -> None:
    words = name.split(" ")
    words.insert(min(at, len(words)), odd)
    typed = " ".join(words)
    assert parse_person_name(typed) is None
    if not typed[0].isdigit():  # "2 Aa; miskin" is line 2 of a numbered list
        assert parse_member_line(f"{typed}; miskin").error == "name"


_letter = st.characters(categories=["Lu", "Ll", "Lo"])
_marks = st.text(st.characters(categories=["Mn", "Mc"], exclude_characters=[
    chr(c) for c in range(0xFE00, 0xFE10)]), max_size=2)
script_names = st.lists(
    st.lists(st.tuples(_letter, _marks).map("".join), min_size=2, max_size=8).map("".join),
    min_size=1, max_size=3).map(" ".join)


@PROPS
@given(script_names)
def test_names_in_any_script_are_names(name: str) -> None:
    """Found with this property: a combining mark (Devanagari vowel signs, "Z̧eynep") made a
    name "not a name" although the rule is letters of any script."""
    assume(2 <= len(unicodedata.normalize("NFKC", name)) <= 100)
    assume(all(ch.isalpha() or unicodedata.category(ch) in {"Mn", "Mc"} or ch == " "
               for ch in unicodedata.normalize("NFKC", name)))
    cleaned = parse_person_name(name)
    assert cleaned is not None and parse_person_name(cleaned) == cleaned


@PROPS
@given(any_text)
def test_person_names_never_raise(text: str) -> None:
    name = parse_person_name(text)
    assert name is None or (2 <= len(name) <= 100 and parse_person_name(name) == name)


# --------------------------------------------------------------------------------------
# Place names
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _codes_by_level() -> dict[int, list[str]]:
    index = default_index()
    found: dict[int, list[str]] = {}
    stack = [place.code for place in index.children(None)]
    while stack:
        code = stack.pop()
        place = index.get(code)
        found.setdefault(place.level, []).append(code)
        stack.extend(child.code for child in index.children(code))
    return {level: sorted(codes) for level, codes in found.items()}


@st.composite
def places(draw: st.DrawFn):
    codes = _codes_by_level()[draw(st.sampled_from([1, 2, 3, 4, 4, 4]))]
    # An index, not sampled_from: hypothesis would label a new 84 000-item strategy per draw.
    return default_index().get(codes[draw(st.integers(0, len(codes) - 1))])


def _search_area(place) -> str | None:
    """Where the bot searches for such a place: villages and districts inside a regency (a
    mentor's area), regencies inside their province, provinces everywhere."""
    if place.level == 1:
        return None
    parts = place.code.split(".")
    return ".".join(parts[:2]) if place.level >= 3 else parts[0]


@FEW
@given(any_text, st.sampled_from([(None, {1, 2, 3}), ("32.02", {1, 2, 3, 4}),
                                  ("32.02.11", {3, 4}), ("91", {2, 3, 4})]),
       st.integers(0, 8))
def test_place_search_never_raises(text: str, where: tuple, limit: int) -> None:
    # As the bot searches: areas above villages anywhere, villages inside an area.
    within, levels = where
    results = default_index().search(text[:60], levels=levels, within=within, limit=limit)
    assert len(results) <= limit
    # ``within`` itself, or an area inside it
    assert all(within is None or f"{place.code}.".startswith(f"{within}.") for place in results)


@FEW
@given(places(), st.sampled_from(["as is", "lower", "upper"]))
def test_a_place_is_found_by_its_own_name(place, case: str) -> None:
    typed = {"as is": place.name, "lower": place.name.lower(), "upper": place.name.upper()}[case]
    results = default_index().search(typed, levels={place.level}, within=_search_area(place),
                                     limit=6)
    assert results and _normalise(results[0].name) == _normalise(place.name)
    twins = [p for p in default_index().search(typed, levels={place.level},
                                               within=_search_area(place), limit=50)
             if _normalise(p.name) == _normalise(place.name)]
    assert place in twins


def _typo(name: str, at: int, kind: str) -> str:
    # Inside a word: never its first or last letter, never a space.
    inside = [i for i in range(1, len(name) - 1)
              if name[i - 1: i + 2].replace(" ", "") == name[i - 1: i + 2]]
    at = inside[at % len(inside)]
    if kind == "drop":
        return name[:at] + name[at + 1:]
    if kind == "swap":
        return name[:at] + name[at + 1] + name[at] + name[at + 2:]
    return name[:at] + ("a" if name[at] != "a" else "e") + name[at + 1:]


@FEW
@given(places(), st.integers(0, 100), st.sampled_from(["drop", "swap", "replace"]))
def test_a_place_is_found_by_its_name_with_one_typo(place, at: int, kind: str) -> None:
    key = _normalise(place.name)
    assume(len(key.replace(" ", "")) >= 6 and any(len(word) >= 4 for word in key.split()))
    typed = _typo(key, at, kind)
    results = default_index().search(typed, levels={place.level}, within=_search_area(place),
                                     limit=6)  # the six buttons the bot offers
    if place in results:
        return
    # Not offered: only right when six other names of the area are as close or closer (one
    # spelt like the typo, or starting with it, rightly comes first).
    closer = [p for p in results if _normalise(p.name).startswith(typed)
              or fuzz.WRatio(typed, _normalise(p.name)) >= fuzz.WRatio(typed, key)]
    assert len(closer) == 6, (typed, [p.name for p in results])


# --------------------------------------------------------------------------------------
# Button data (callback_data)
# --------------------------------------------------------------------------------------


def _callback_handlers() -> list[CallbackQueryHandler]:
    found: list[CallbackQueryHandler] = []

    def walk(handlers) -> None:
        for handler in handlers:
            if isinstance(handler, ConversationHandler):
                walk(handler.entry_points)
                for state in handler.states.values():
                    walk(state)
                walk(handler.fallbacks)
            elif isinstance(handler, CallbackQueryHandler):
                found.append(handler)

    for module in HANDLER_MODULES:
        walk(module.handlers())
    walk(help_handlers.catch_all())
    walk(system.first())
    walk(system.last())
    return found


@lru_cache(maxsize=1)
def _patterns() -> list[re.Pattern[str]]:
    return [handler.pattern for handler in _callback_handlers()
            if isinstance(handler.pattern, re.Pattern)]


@lru_cache(maxsize=1)
def _button_data() -> list[st.SearchStrategy[str]]:
    """Per pattern, the data it matches; built once (from_regex is slow to build)."""
    return [st.from_regex(pattern, fullmatch=True) for pattern in _patterns()]


@SLOW
@given(st.data())
def test_every_button_pattern_only_takes_numbers_a_database_can_hold(data: st.DataObject) -> None:
    """Button data reaches the bot as sent (a modified client may send anything up to 64
    bytes); the handlers read its numbers with int() into SQL parameters (64-bit)."""
    at = data.draw(st.integers(0, len(_patterns()) - 1))
    pattern, text = _patterns()[at], data.draw(_button_data()[at])
    assume("\n" not in text)  # "$" also matches before a final newline
    # Then every run of digits as long as the 64 bytes allow.
    runs = re.findall(r"\d+", text)
    longest = max(1, 64 - len(text.encode()) + sum(len(run) for run in runs))
    longer = re.sub(r"\d+", lambda _: str(data.draw(st.integers(1, 10 ** min(longest, 40)))),
                    text)
    for candidate in (text, longer):
        if len(candidate.encode()) > 64 or not pattern.fullmatch(candidate):
            continue
        for run in re.finditer(r"\d+", candidate):
            as_word = candidate[:run.start()] + "a" + candidate[run.end():]
            if pattern.fullmatch(as_word):
                continue  # a word slot (\w+) that happens to hold digits: not read as a number
            assert int(run[0]) < 2**63, (pattern.pattern, candidate)


ids = st.integers(1, 10**12 - 1)


def _real_codes(level: int) -> st.SearchStrategy[str]:
    """Any official code of that level (looked up when drawn: the index loads on first use)."""
    return st.integers(0, 10**6).map(lambda i: _codes_by_level()[level][
        i % len(_codes_by_level()[level])])


villages = _real_codes(4)


def _query(data: str) -> CallbackQuery:
    return CallbackQuery("1", User(1, "Siti", False), "chat", data=data)


BUILDERS: list[tuple[str, Callable[..., str], list[st.SearchStrategy]]] = [
    ("visit start", lambda g: f"kun:start:{g}", [ids]),
    ("visit group", lambda g: f"{visits.PREFIX}:group:{g}", [ids]),
    ("visit activity", lambda a: f"{visits.PREFIX}:act:{a}", [st.sampled_from(list(Activity))]),
    ("members list", lambda g: f"mem:list:{g}", [ids]),
    ("members add", lambda g: f"{members.PREFIX}:add:{g}", [ids]),
    ("members remove", lambda g, m: f"{members.PREFIX}:rmok:{g}:{m}", [ids, ids]),
    ("members role", lambda g, m, r: f"{members.PREFIX}:roleset:{g}:{m}:{r}",
     [ids, ids, st.sampled_from(list(MemberRole))]),
    ("history", lambda g: f"riw:group:{g}", [ids]),
    ("group card", lambda g, p: f"{groups.PREFIX}:card:{g}:{p}", [ids, st.integers(0, 999)]),
    ("group detail", lambda g: f"kel:det:{g}", [ids]),
    ("grant start", lambda g: f"hib:start:{g}", [ids]),
    ("grant view", lambda g: f"hib:view:{g}", [ids]),
    ("grant kind", lambda k: f"{grants.PREFIX}:kind:{k}", [st.sampled_from(list(GrantKind))]),
    ("grant source", lambda s: f"{grants.PREFIX}:src:{s}",
     [st.sampled_from(list(FundingSource))]),
    ("grant form", lambda f: f"{grants.PREFIX}:form:{f}", [st.sampled_from(list(GrantForm))]),
    ("rollover start", lambda g: f"gul:start:{g}", [ids]),
    ("rollover kind", lambda k: f"{rollovers.PREFIX}:kind:{k}",
     [st.sampled_from(list(RecipientKind))]),
    ("rollover village", lambda v: f"{rollovers.PREFIX}:vil:{v}", [villages]),
    ("schedule ask", lambda g: f"jdw:ask:{g}", [ids]),
    ("schedule set", lambda g, d: f"{schedule.PREFIX}:set:{g}:{d}",
     [ids, st.sampled_from(schedule.CHOICES)]),
    ("snooze", lambda r: f"rem:snooze:{r}", [ids]),
    ("approve", lambda m: f"appr:ok:{m}", [ids]),
    ("reject", lambda m: f"appr:no:{m}", [ids]),
    ("broadcast audience", lambda a: f"{broadcasts.PREFIX}:aud:{a}",
     [st.sampled_from(list(Audience))]),
    ("broadcast district", lambda c: f"{broadcasts.PREFIX}:dist:{c}", [_real_codes(3)]),
    ("broadcast failures", lambda b: f"{outbox.FAIL_PREFIX}:{b}", [ids]),
    ("mentor off", lambda m: f"{coordinators.MENTORS}:off:{m}", [ids]),
    ("mentor move", lambda s, t: f"{coordinators.MENTORS}:mv:{s}:{t}", [ids, ids]),
    ("mentor move and off", lambda s, t: f"{coordinators.MENTORS}:offto:{s}:{t}", [ids, ids]),
    ("appoint who", lambda m: f"{coordinators.PREFIX}:who:{m}", [ids]),
    ("appoint area", lambda c: f"{coordinators.PREFIX}:area:{c}",
     [st.one_of(_real_codes(1), _real_codes(2), _real_codes(3))]),
    ("signup affiliation", lambda a: f"{onboarding.PREFIX}:aff:{a}",
     [st.sampled_from(list(Affiliation))]),
    ("signup area", lambda c: f"{onboarding.PREFIX}:area:{c}",
     [st.one_of(_real_codes(2), _real_codes(3))]),
    ("group village", lambda v: f"{group_registration.PREFIX}:vil:{v}", [villages]),
    ("group business", lambda b: f"{group_registration.PREFIX}:biz:{b}",
     [st.sampled_from(list(BusinessType))]),
    ("group tie", lambda t: f"{group_registration.PREFIX}:tie:{t}",
     [st.sampled_from(list(BindingTie))]),
    ("group stage", lambda s: f"{group_registration.PREFIX}:stage:{s}",
     [st.sampled_from(list(Stage))]),
    ("language", lambda lang: f"{help_handlers.PREFIX}:{lang}",
     [st.sampled_from(["id", "en"])]),
]


@PROPS
@given(st.sampled_from(BUILDERS), st.data())
def test_button_data_built_by_the_handlers_is_handled_and_reads_back(builder,
                                                                     data: st.DataObject) -> None:
    _, build, strategies = builder
    values = [data.draw(strategy) for strategy in strategies]
    text = build(*values)
    assert len(text.encode()) <= 64  # Telegram's limit for callback_data
    assert any(pattern.fullmatch(text) for pattern in _patterns()), text
    assert common.pressed(_query(text)) == str(values[-1])
    assert text.split(":")[-len(values):] == [str(value) for value in values]


# --------------------------------------------------------------------------------------
# Other small parsers of typed text
# --------------------------------------------------------------------------------------


@PROPS
@given(any_text)
def test_other_typed_answers_never_raise(text: str) -> None:
    point = visits._parse_coordinates(text)
    assert point is None or (-90 <= point[0] <= 90 and -180 <= point[1] <= 180)
    units = grants.parse_units(text)
    assert units is None or 1 <= units[0] <= grants.MAX_UNITS
    rendered = broadcast_queries.render(text, "Siti")
    assert len(rendered) <= broadcast_queries.longest_rendering(text)


@PROPS
@given(st.floats(-90, 90), st.floats(-180, 180), st.sampled_from([", ", ",", "; ", " "]))
def test_typed_coordinates_parse_back(lat: float, lon: float, separator: str) -> None:
    text = f"{lat:.6f}{separator}{lon:.6f}"  # as copied from a map
    assert visits._parse_coordinates(text) == (float(f"{lat:.6f}"), float(f"{lon:.6f}"))


@PROPS
@given(any_text, st.text(max_size=100))
def test_broadcast_placeholder(text: str, name: str) -> None:
    """{nama} becomes the name, nothing else changes, and the length checked before sending
    is never less than what a recipient gets (names are at most 100 characters)."""
    rendered = broadcast_queries.render(text, name)
    assert len(rendered) <= broadcast_queries.longest_rendering(text)
    if "{nama}" not in text:
        assert rendered == text
    else:
        assert rendered == name.join(text.split("{nama}"))


@PROPS
@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_invite_arguments(uses: int, days: int) -> None:
    assert approvals.invite_arguments([str(uses), str(days)]) == (
        (uses, days) if uses <= 500 and days <= 90 else None)


@pytest.mark.parametrize("words", [["lima", "tujuh"], ["5", "tujuh"], ["seratus"]])
def test_invite_arguments_in_words(words: list[str]) -> None:
    expected = {"lima": 5, "tujuh": 7, "5": 5, "seratus": 100}
    found = approvals.invite_arguments(words)
    assert found == (expected[words[0]], expected[words[1]] if len(words) > 1 else 7)
