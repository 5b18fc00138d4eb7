"""Tests for bot.core.parsing: what mentors type, good and bad."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.core.formatting import format_date, format_date_short, format_rupiah, format_weekday_date
from bot.core.parsing import (
    MAX_AMOUNT,
    MemberLine,
    group_problems,
    is_skip,
    mask_nik,
    mask_phone,
    nonexistent_date,
    parse_amount,
    parse_count,
    parse_date,
    parse_group_name,
    parse_leading_count,
    parse_member_fields,
    parse_member_line,
    parse_member_lines,
    parse_person_name,
    parse_phone,
    province_codes,
    validate_nik,
)

TODAY = date(2026, 11, 27)  # a Friday
NIK = "3201014112900001"  # Jawa Barat, woman born 01-12-1990, serial 0001


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------


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
def test_parse_date_never_raises(text: str) -> None:
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


# --------------------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,5 jt", 1_500_000),
        ("1.5jt", 1_500_000),
        ("1,5jt", 1_500_000),
        ("Rp 250.000", 250_000),
        ("Rp250.000,00", 250_000),
        ("Rp. 250.000", 250_000),
        ("rp 250.000", 250_000),
        ("IDR 5.000", 5_000),
        ("5.000 rupiah", 5_000),
        ("5.000 Rp", 5_000),
        ("250rb", 250_000),
        ("250 rb", 250_000),
        ("250 ribu", 250_000),
        ("250k", 250_000),
        ("20 jt", 20_000_000),
        ("20jt", 20_000_000),
        ("20 JUTA", 20_000_000),
        ("20.5 juta", 20_500_000),
        ("20,5 juta", 20_500_000),
        ("1.500.000", 1_500_000),
        ("1500000", 1_500_000),
        ("1.500", 1_500),
        ("2 M", 2_000_000_000),
        ("2 miliar", 2_000_000_000),
        ("2 milyar", 2_000_000_000),
        ("0", 0),
        ("Rp 0", 0),
        ("Rp 1.250.000,-", 1_250_000),
        ("1 juta 500 ribu", 1_500_000),
        ("1jt 500rb", 1_500_000),
        ("250,000", 250_000),  # English grouping: Rupiah has no thousandths
        ("1,500,000", 1_500_000),
        ("100 M", MAX_AMOUNT),
        ("Rp 250.000.", 250_000),
        # Number words, as a mentor may type them.
        ("lima ribu", 5_000),
        ("seratus ribu", 100_000),
        ("sejuta", 1_000_000),
        ("sepuluh juta", 10_000_000),
        ("dua ratus lima puluh ribu", 250_000),
        ("Rp sejuta lima ratus ribu", 1_500_000),
        ("1 juta lima ratus ribu", 1_500_000),
    ],
)
def test_parse_amount_good(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-",
        "abc",
        "-5000",
        "Rp -5.000",
        "1,5",  # not a whole Rupiah
        "1.5",  # neither Indonesian grouping nor a multiplier
        "12.34.567",
        "101 M",
        "1 triliun",
        "1e5",
        "1jt 500",
        "500rb 1jt",
        "2 mil",
        "Rp",
        "lima ribu rupiah juta",
        "se juta",
        "dua puluh",  # no unit: shorthand for 20 juta far more often than Rp 20
        "lima",
        "1 500 000",
        "9" * 100,
    ],
)
def test_parse_amount_bad(text: str) -> None:
    assert parse_amount(text) is None


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=MAX_AMOUNT))
def test_rupiah_round_trip(amount: int) -> None:
    assert parse_amount(format_rupiah(amount)) == amount
    assert parse_amount(format_rupiah(amount, "en")) == amount


@pytest.mark.parametrize("amount", [0, 1, 999, 1000, 1_500_000, MAX_AMOUNT])
def test_rupiah_round_trip_edges(amount: int) -> None:
    assert parse_amount(format_rupiah(amount)) == amount


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_parse_amount_never_raises(text: str) -> None:
    result = parse_amount(text)
    assert result is None or 0 <= result <= MAX_AMOUNT


@settings(max_examples=100)
@given(st.from_regex(r"(Rp ?)?[0-9][0-9.,]{0,14} ?(rb|jt|juta|m|ribu|k)?", fullmatch=True))
def test_parse_amount_never_raises_on_number_like_text(text: str) -> None:
    result = parse_amount(text)
    assert result is None or 0 <= result <= MAX_AMOUNT


@pytest.mark.parametrize(
    "text",
    [
        "-",
        " - ",
        "\u2013",
        "lewati",
        "Lewati",
        "skip",
        "tidak ada",
        "Tidak ada.",
        "tidak",
        "kosong",
        "tdk ada",
        "/lewati",
    ],
)
def test_is_skip(text: str) -> None:
    assert is_skip(text)


@pytest.mark.parametrize("text", ["0", "", "250rb", "ada", "ya", "Siti"])
def test_is_not_skip(text: str) -> None:
    assert not is_skip(text)


# --------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        (" 7 ", 7),
        ("07", 7),
        ("7 orang", 7),
        ("7orang", 7),
        ("7 KK", 7),
        ("tujuh", 7),
        ("Tujuh orang", 7),
        ("sepuluh", 10),
        ("sebelas", 11),
        ("dua belas", 12),
        ("dua puluh", 20),
        ("duapuluh", 20),
        ("seven", 7),
        ("satu", 1),
    ],
)
def test_parse_count_good(text: str, expected: int) -> None:
    assert parse_count(text, minimum=1, maximum=20) == expected


@pytest.mark.parametrize(
    "text", ["0", "21", "dua puluh satu", "-3", "7.5", "x", "", "tujuhh", "7 ekor"]
)
def test_parse_count_bad(text: str) -> None:
    assert parse_count(text, minimum=1, maximum=20) is None


@settings(max_examples=150)
@given(st.text(max_size=30))
def test_parse_count_never_raises(text: str) -> None:
    result = parse_count(text, minimum=5, maximum=10)
    assert result is None or 5 <= result <= 10


# --------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0812-3456-7890",
        "081234567890",
        "0812 3456 7890",
        "+62 812 3456 7890",
        "+62-812-3456-7890",
        "+6281234567890",
        "6281234567890",
        "62 812 3456 7890",
        "812 3456 7890",
        "+62 (0) 812 3456 7890",
    ],
)
def test_parse_phone_good(text: str) -> None:
    assert parse_phone(text) == "+6281234567890"


def test_parse_phone_landline() -> None:
    assert parse_phone("(021) 555-1234") == "+62215551234"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "0812",
        "0812345",
        "08123456789012345",
        "+60 12-345 6789",
        "0812-FLOWERS",
        "+1 202 555 0143",
        "tidak ada",
        "9" * 50,
    ],
)
def test_parse_phone_bad(text: str) -> None:
    assert parse_phone(text) is None


_MOBILE_PREFIXES = [
    "811",
    "812",
    "813",
    "821",
    "822",
    "852",
    "853",
    "856",
    "857",
    "858",
    "877",
    "878",
    "881",
    "895",
    "896",
    "897",
    "898",
    "899",
    "817",
    "818",
    "819",
    "859",
    "831",
    "832",
    "838",
]


@st.composite
def mobile_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(_MOBILE_PREFIXES))
    rest = draw(st.text("0123456789", min_size=7, max_size=8))
    e164 = f"+62{prefix}{rest}"
    assume(parse_phone(e164) == e164)
    return e164


@settings(max_examples=100)
@given(mobile_numbers())
def test_phone_forms_and_mask_are_stable(e164: str) -> None:
    national = e164[3:]
    dashed = f"0{national[:3]}-{national[3:7]}-{national[7:]}"
    for form in (e164, "0" + national, "62" + national, national, dashed, f"+62 {national}"):
        assert parse_phone(form) == e164
    masked = mask_phone(e164)
    assert masked == mask_phone(parse_phone(dashed))
    assert masked == f"+62 {national[:3]}{'*' * (len(national) - 7)}{national[-4:]}"


def test_mask_phone_examples() -> None:
    assert mask_phone("+6281234567890") == "+62 812****7890"
    assert mask_phone("garbage") == "****"
    assert mask_phone("") == "****"


@settings(max_examples=150)
@given(st.text(max_size=30))
def test_phone_functions_never_raise(text: str) -> None:
    result = parse_phone(text)
    assert result is None or result.startswith("+62")
    assert isinstance(mask_phone(text), str)


# --------------------------------------------------------------------------------------
# NIK
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        NIK,
        "3201 0141 1290 0001",
        "3201.0141.1290.0001",
        "3201-014112-900001",
        " 3201014112900001 ",
        "3201011012900001",
        "9401013112900001",
    ],
)
def test_validate_nik_good(text: str) -> None:
    assert validate_nik(text) == "".join(ch for ch in text if ch.isdigit())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "320101411290001",  # 15 digits
        "32010141129000011",  # 17 digits
        "0001014112900001",  # province 00
        "2001014112900001",  # province 20 does not exist
        "3201010012900001",  # day 00
        "3201013212900001",  # day 32
        "3201017212900001",  # day 72
        "3201014100900001",  # month 00
        "3201014113900001",  # month 13
        "3201014112900000",  # serial 0000
        "3201014112900a01",
        "3201/0141/1290/0001",
    ],
)
def test_validate_nik_bad(text: str) -> None:
    assert validate_nik(text) is None


def test_province_codes_from_the_data() -> None:
    codes = province_codes()
    assert {"11", "32", "94", "96"} <= codes
    assert len(codes) == 38
    assert "11.01" not in codes


@st.composite
def niks(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(province_codes())))
    area = draw(st.text("0123456789", min_size=4, max_size=4))
    day = draw(st.integers(1, 31)) + draw(st.sampled_from([0, 40]))
    month = draw(st.integers(1, 12))
    year = draw(st.integers(0, 99))
    serial = draw(st.integers(1, 9999))
    return f"{province}{area}{day:02d}{month:02d}{year:02d}{serial:04d}"


@settings(max_examples=100)
@given(niks(), st.sampled_from(["", " ", ".", "-"]))
def test_valid_niks_validate_and_mask(nik: str, separator: str) -> None:
    spaced = separator.join([nik[:6], nik[6:12], nik[12:]])
    assert validate_nik(spaced) == nik
    masked = mask_nik(nik)
    assert masked == nik[:4] + "*" * 8 + nik[-4:]
    assert len(masked) == 16
    assert validate_nik(masked) is None


def test_mask_nik_example() -> None:
    assert mask_nik("3201014112900001") == "3201********0001"
    assert mask_nik("123") == "***"


@settings(max_examples=150)
@given(st.text(max_size=30))
def test_nik_functions_never_raise(text: str) -> None:
    result = validate_nik(text)
    assert result is None or (len(result) == 16 and result.isdigit())
    assert isinstance(mask_nik(text), str)


# --------------------------------------------------------------------------------------
# Member lines
# --------------------------------------------------------------------------------------


def test_full_member_line() -> None:
    line = parse_member_line(f"Siti Aminah; miskin; ketua; {NIK}; 0812-3456-7890", line_no=3)
    assert line == MemberLine(
        line_no=3,
        raw=f"Siti Aminah; miskin; ketua; {NIK}; 0812-3456-7890",
        name="Siti Aminah",
        welfare_category="miskin",
        role="ketua",
        nik=NIK,
        phone="+6281234567890",
        error=None,
    )
    assert line.ok


@pytest.mark.parametrize(
    ("text", "name", "category", "role"),
    [
        ("Siti Aminah; miskin; ketua", "Siti Aminah", "miskin", "ketua"),
        ("siti aminah; m; kt", "Siti Aminah", "miskin", "ketua"),
        ("SITI AMINAH; fm; sek", "Siti Aminah", "fakir_miskin", "sekretaris"),
        ("Siti aminah; fakir; sekre", "Siti aminah", "fakir_miskin", "sekretaris"),
        ("Budi; Fakir Miskin; bendahara", "Budi", "fakir_miskin", "bendahara"),
        ("Budi; hampir miskin; bend", "Budi", "hampir_miskin", "bendahara"),
        ("Budi; HM; bdh", "Budi", "hampir_miskin", "bendahara"),
        ("Budi; rentan; sekertaris", "Budi", "hampir_miskin", "sekretaris"),
        ("Budi; miskin; skr", "Budi", "miskin", "sekretaris"),
        ("Budi; miskin; agt", "Budi", "miskin", "anggota"),
        ("Budi; miskin; anggota", "Budi", "miskin", "anggota"),
        ("Budi; miskin", "Budi", "miskin", "anggota"),
        ("Budi; miskin; ", "Budi", "miskin", "anggota"),
        ("Budi; miskin; -; -; -", "Budi", "miskin", "anggota"),
        ("Budi; miskin; ketua; tidak ada", "Budi", "miskin", "ketua"),
        ("Budi, miskin, ket", "Budi", "miskin", "ketua"),
        ("Budi | miskin | ket", "Budi", "miskin", "ketua"),
        ("Budi\tmiskin\tket", "Budi", "miskin", "ketua"),
        ("1. Budi; miskin", "Budi", "miskin", "anggota"),
        ("12) Budi; miskin", "Budi", "miskin", "anggota"),
        ("- Budi; miskin", "Budi", "miskin", "anggota"),
        ("Budi; miskn; bendahra", "Budi", "miskin", "bendahara"),
        ("Budi; hampir miskn; ketu", "Budi", "hampir_miskin", "ketua"),
        ("Budi; fakirmiskin; ketua", "Budi", "fakir_miskin", "ketua"),
        ("Budi; ketua; miskin", "Budi", "miskin", "ketua"),
        ("ma'ruf amin; m", "Ma'ruf Amin", "miskin", "anggota"),
        ("MUH. YUSUF; m", "Muh. Yusuf", "miskin", "anggota"),
        ("  Siti    Nur   Aini ; m", "Siti Nur Aini", "miskin", "anggota"),
    ],
)
def test_member_line_variants(text: str, name: str, category: str, role: str) -> None:
    line = parse_member_line(text)
    assert line.error is None, line
    assert (line.name, line.welfare_category, line.role) == (name, category, role)


def test_member_line_nik_and_phone_in_any_order() -> None:
    a = parse_member_line(f"Budi; m; ketua; 0812 3456 7890; {NIK}")
    b = parse_member_line(f"Budi; m; {NIK}; ketua")
    c = parse_member_line("Budi; m; 3201.0141.1290.0001")
    assert (a.nik, a.phone, a.error) == (NIK, "+6281234567890", None)
    assert (b.nik, b.role, b.error) == (NIK, "ketua", None)
    assert (c.nik, c.role, c.error) == (NIK, "anggota", None)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Budi", "fields"),
        ("Budi miskin ketua", "fields"),
        ("Budi; m; ketua; 1; 2; 3", "fields"),
        ("Budi; m; miskin", "fields"),
        ("Budi; m; ketua; bendahara", "fields"),
        (f"Budi; m; {NIK}; {NIK}", "fields"),
        ("; miskin; ketua", "name"),
        ("B; miskin; ketua", "name"),
        ("Budi 2; miskin; ketua", "name"),
        ("Budi@home; miskin", "name"),
        ("x" * 101 + "; miskin", "name"),
        ("Budi; kaya; ketua", "category"),
        ("Budi; ; ketua", "category"),
        ("Budi; miskin; presiden", "role"),
        ("Budi; miskin; ketua; 3201014112900000", "nik"),
        ("Budi; miskin; ketua; 0001014112900001", "nik"),
        ("Budi; miskin; ketua; 320101411290000", "nik"),
        ("Budi; miskin; ketua; 0812", "phone"),
        ("Budi; miskin; ketua; +60 12-345 6789", "phone"),
        ("Budi 2; kaya; presiden", "name"),  # the first error wins
    ],
)
def test_member_line_errors(text: str, error: str) -> None:
    assert parse_member_line(text).error == error


def test_member_lines_numbering_and_blank_lines() -> None:
    text = "1. Siti; miskin; ketua\n\n2. Budi; m; sek\n   \n3. Ani; xx"
    lines = parse_member_lines(text)
    assert [line.line_no for line in lines] == [1, 3, 5]
    assert [line.error for line in lines] == [None, None, "category"]
    assert lines[2].raw == "3. Ani; xx"
    assert parse_member_lines("") == []


def _group(*rows: str) -> list[MemberLine]:
    return parse_member_lines("\n".join(rows))


def test_group_problems_none() -> None:
    lines = _group("A a; m; ketua", "B b; m; sek", "C c; m; bend", "D d; m", "E e; m")
    assert group_problems(lines, minimum=5, maximum=10) == []


def test_group_problems_officers_and_size() -> None:
    lines = _group("A a; m; ketua", "B b; m; ketua", "C c; m", "D d; xx")
    assert group_problems(lines, minimum=5, maximum=10) == [
        "too_few",
        "duplicate_ketua",
        "missing_sekretaris",
        "missing_bendahara",
    ]
    many = _group(
        "A a; m; ketua", "B b; m; sek", "C c; m; bend", *[f"Orang {c}; m" for c in "abcdefgh"]
    )
    assert group_problems(many, minimum=5, maximum=10) == ["too_many"]


def test_group_problems_duplicates() -> None:
    lines = _group(
        f"Siti; m; ketua; {NIK}", "SITI; m; sek", f"Budi; m; bend; {NIK}", "Ani; m", "Ina; m"
    )
    assert group_problems(lines, minimum=5, maximum=10) == ["duplicate_name", "duplicate_nik"]


_names = st.from_regex(r"[A-Z][a-z]{1,10}( [A-Z][a-z]{1,10}){0,2}", fullmatch=True)


@settings(max_examples=100)
@given(
    name=_names,
    category=st.sampled_from(["fakir_miskin", "miskin", "hampir_miskin"]),
    role=st.sampled_from(["ketua", "sekretaris", "bendahara", "anggota"]),
    nik=st.none() | niks(),
    separator=st.sampled_from([";", " ; ", "|", ","]),
)
def test_member_line_round_trip(
    name: str, category: str, role: str, nik: str | None, separator: str
) -> None:
    fields = [name, category.replace("_", " "), role] + ([nik] if nik else [])
    line = parse_member_line(separator.join(fields))
    assert line.error is None
    assert (line.name, line.welfare_category, line.role, line.nik) == (name, category, role, nik)


@settings(max_examples=150)
@given(st.text(max_size=80))
def test_member_lines_never_raise(text: str) -> None:
    lines = parse_member_lines(text)
    for line in lines:
        if line.error is None:
            assert line.name and line.welfare_category and line.role
        else:
            assert line.error in {"name", "category", "role", "nik", "phone", "fields"}
    assert isinstance(group_problems(lines, minimum=5, maximum=10), list)


def test_parse_date_accepts_a_datetime_as_today() -> None:
    now = datetime(2026, 11, 27, 15, 30)
    assert parse_date("senin", today=now) == date(2026, 11, 23)
    assert type(parse_date("kemarin", today=now)) is date


def test_group_problems_accepts_stored_members() -> None:
    members = [
        SimpleNamespace(name="Siti", role="ketua", nik=NIK),
        SimpleNamespace(name="Budi", role="sekretaris", nik=None),
        SimpleNamespace(name="Ani", role="bendahara", nik=NIK),
    ]
    assert group_problems(members, minimum=3, maximum=10) == ["duplicate_nik"]


# --------------------------------------------------------------------------------------
# Found by the property tests (test_properties.py) and the review that came with them
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


@pytest.mark.parametrize(("text", "expected"), [
    ("-250rb", -250_000), ("rugi 250rb", -250_000), ("Rugi Rp 1,5 jt", -1_500_000),
    ("-Rp 250.000", -250_000), ("Rp -250.000", -250_000), ("minus 5.000", -5_000),
    ("\u2212250rb", -250_000), ("250rb", 250_000), ("-0", 0),
])
def test_a_loss_is_a_negative_amount_when_allowed(text: str, expected: int) -> None:
    assert parse_amount(text, allow_loss=True) == expected
    if expected < 0:
        assert parse_amount(text) is None


@pytest.mark.parametrize("text", ["- -250rb", "rugi", "rugi -250rb", "-", "rugi banyak"])
def test_not_a_loss(text: str) -> None:
    assert parse_amount(text, allow_loss=True) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("seratus", 100), ("seribu", 1000), ("dua ratus lima puluh", 250),
    ("twenty-one", 21), ("one hundred and five", 105), ("1.000", 1000), ("Lima KK", 5),
])
def test_counts_in_words_beyond_twenty(text: str, expected: int) -> None:
    assert parse_count(text, minimum=0, maximum=1000) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("10 ekor kambing", (10, "ekor kambing")), ("sepuluh ekor", (10, "ekor")),
    ("dua ratus lima puluh lima batang", (255, "batang")), ("Tiga Karung", (3, "Karung")),
    ("25", (25, "")),
])
def test_parse_leading_count(text: str, expected: tuple) -> None:
    assert parse_leading_count(text, minimum=1, maximum=100_000) == expected


@pytest.mark.parametrize("text", ["1,5 ekor", "12.34", "10/ekor", "-3 ekor", "ekor", ""])
def test_parse_leading_count_refuses(text: str) -> None:
    assert parse_leading_count(text, minimum=1, maximum=100_000) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("मोहन", "मोहन"),  # a vowel sign is a combining mark: was refused
    ("Z\u0327eynep", "Z\u0327eynep"),
    ("siti aminah", "Siti Aminah"),
    ("Siti 🌸", None), ("Siti2", None), ("Siti\ufe0f", None), ("\u0301Ab", None),
])
def test_person_names(text: str, expected: str | None) -> None:
    assert parse_person_name(text) == expected


def test_a_cleaned_name_cleans_to_itself() -> None:
    """Found by test_names_in_any_script_are_names: lowering "İ" gives i + a combining dot,
    which came out of order, so the same name cleaned twice differed."""
    once = parse_person_name("A\u0130\u0316")
    assert once is not None and parse_person_name(once) == once


@pytest.mark.parametrize(("text", "expected"), [
    ("ßʟ", "Ssʟ"), ("SSʟ", "Ssʟ"), ("Ssʟ", "Ssʟ"),
    ("hans strauß", "Hans Strauß"), ("HANS STRAUSS", "Hans Strauss"), ("ßa", "Ssa"),
])
def test_a_letter_whose_capital_is_two_letters_starts_a_word_in_title_case(
        text: str, expected: str) -> None:
    """Found by test_person_names_never_raise: "ßʟ" became "SSʟ" (the upper case of ß is two
    letters), which reads as typed all upper, so the name changed again to "Ssʟ" when read
    back (from a spreadsheet, or the member list shown for correction)."""
    assert parse_person_name(text) == expected
    assert parse_person_name(expected) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("KUBE Mawar 2", "KUBE Mawar 2"), ("  KUBE   Tani & Ternak ", "KUBE Tani & Ternak"),
    ("KUBE Mawar 🌹", None), ("12", None), ("AB", None),
])
def test_group_names(text: str, expected: str | None) -> None:
    assert parse_group_name(text) == expected


def test_member_fields_keep_a_separator_inside_a_cell() -> None:
    """Spreadsheet cells were joined into a typed line: "Siti; ketua" became a ketua."""
    assert parse_member_fields("Siti; ketua", "miskin", "").error == "name"
    line = parse_member_fields("Siti Aminah", "miskin", "")
    assert (line.name, line.welfare_category, line.role, line.error) == (
        "Siti Aminah", "miskin", "anggota", None)
    assert parse_member_fields("Siti", "ketua", "miskin").ok  # swapped cells still read
