"""bot.core.parsing.identity: phone numbers and NIKs, and how they are masked; examples and
properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.core.parsing import (
    mask_nik,
    mask_numbers,
    mask_phone,
    parse_phone,
    province_codes,
    validate_nik,
)
from tests.bot.strategies import PROPS, SLOW, any_text, id_phones, nik_forms, niks, phone_forms

NIK = "3201014112900001"  # Jawa Barat, woman born 01-12-1990, serial 0001


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
# Properties
# --------------------------------------------------------------------------------------


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
    assert validate_nik(data.draw(st.sampled_from(nik_forms(nik)))) == nik
    masked = mask_nik(nik)
    assert masked == f"{nik[:4]}********{nik[-4:]}" and validate_nik(masked) is None
    around = data.draw(st.sampled_from(["{} ", "NIK {}, HP", "Budi; m; {}", "({})"]))
    text = around.format(data.draw(st.sampled_from(nik_forms(nik))).strip())
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


@PROPS
@given(any_text)
def test_parse_phone_never_raises(text: str) -> None:
    result = parse_phone(text)
    assert result is None or (result.startswith("+62") and parse_phone(result) == result)


@SLOW
@given(id_phones(), st.data())
def test_phone_numbers_parse_back_and_are_masked(e164: str, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(phone_forms(e164)))
    assert parse_phone(text) == e164, text
    national = e164[3:]
    assert mask_phone(e164) == f"+62 {national[:3]}{'*' * (len(national) - 7)}{national[-4:]}"
