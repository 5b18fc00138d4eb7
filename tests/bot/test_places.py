"""Tests for bot.core.places: the area index, its fuzzy search and time zones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.parsing import province_codes
from bot.core.places import (
    Place,
    PlaceIndex,
    default_index,
    timezone_abbr,
    timezone_for,
    zone_for,
)

ROWS = [
    ("32", None, 1, "Jawa Barat"),
    ("36", None, 1, "Banten"),
    ("31", "", 1, "Daerah Khusus Ibukota Jakarta"),
    ("32.02", "32", 2, "Kabupaten Sukabumi"),
    ("32.04", "32", 2, "Kabupaten Bandung"),
    ("32.17", "32", 2, "Kabupaten Bandung Barat"),
    ("32.72", "32", 2, "Kota Sukabumi"),
    ("32.73", "32", 2, "Kota Bandung"),
    ("31.74", "31", 2, "Kota Administrasi Jakarta Selatan"),
    ("36.02", "36", 2, "Kabupaten Lebak"),
    ("32.02.11", "32.02", 3, "Cibadak"),
    ("32.02.12", "32.02", 3, "Nagrak"),
    ("36.02.18", "36.02", 3, "Cibadak"),
    ("32.02.11.2001", "32.02.11", 4, "Sukamaju"),
    ("32.02.11.1001", "32.02.11", 4, "Cibadak"),
    ("32.02.12.2001", "32.02.12", 4, "Sukamaju"),
    ("36.02.18.2001", "36.02.18", 4, "Sukamaju"),
]


@pytest.fixture(scope="module")
def small() -> PlaceIndex:
    return PlaceIndex.from_rows(reversed(ROWS))  # any order


@pytest.fixture(scope="module")
def full() -> PlaceIndex:
    return default_index()


# ---- small, hand-made index -------------------------------------------------------------


def test_get_and_labels(small: PlaceIndex) -> None:
    assert small.get("32") == Place("32", 1, "Jawa Barat", "Jawa Barat")
    assert small.get("32.02").label == "Kab. Sukabumi, Jawa Barat"
    assert small.get("32.73").label == "Kota Bandung, Jawa Barat"
    assert small.get("31.74").label == "Kota Adm. Jakarta Selatan, Daerah Khusus Ibukota Jakarta"
    assert small.get("32.02.11").label == "Kec. Cibadak, Kab. Sukabumi, Jawa Barat"
    assert small.get("32.02.11.2001").label == "Desa Sukamaju, Kec. Cibadak, Kab. Sukabumi"
    assert small.get("32.02.11.1001").label == "Kel. Cibadak, Kec. Cibadak, Kab. Sukabumi"
    assert small.get("32.02.11.2001").name == "Sukamaju"
    assert small.get("99") is None
    assert len(small) == len(ROWS)
    assert "32.02" in small


def test_children_and_parents(small: PlaceIndex) -> None:
    assert [p.code for p in small.children("32.02")] == ["32.02.11", "32.02.12"]
    assert [p.code for p in small.children(None)] == ["31", "32", "36"]
    assert small.children("32.02.11.2001") == []
    assert [p.code for p in small.parents("32.02.11.2001")] == ["32.02.11", "32.02", "32"]


def test_search_exact_first_and_ties_by_level_then_name(small: PlaceIndex) -> None:
    found = small.search("cibadak", levels={2, 3})
    assert [p.code for p in found[:2]] == ["32.02.11", "36.02.18"]
    found = small.search("cibadak", levels={3, 4})
    assert [p.level for p in found[:3]] == [3, 3, 4]


def test_search_prefix_hint(small: PlaceIndex) -> None:
    assert [p.code for p in small.search("kab bandung", levels={2})[:3]] == [
        "32.04",
        "32.73",
        "32.17",
    ]
    assert small.search("kota bandung", levels={2})[0].code == "32.73"
    assert small.search("Kab. Sukabumi", levels={2, 3})[0].code == "32.02"
    assert small.search("kec. cibadak", levels={2, 3})[0].code == "32.02.11"


def test_search_typos(small: PlaceIndex) -> None:
    assert {p.code for p in small.search("sukabumu", levels={2})[:2]} == {"32.02", "32.72"}
    assert small.search("cibadk", levels={3})[0].name == "Cibadak"


def test_search_within(small: PlaceIndex) -> None:
    assert [p.code for p in small.search("sukamaju", levels={4}, within="32.02")] == [
        "32.02.11.2001",
        "32.02.12.2001",
    ]
    assert [p.code for p in small.search("sukamaju", levels={4}, within="32.02.12")] == [
        "32.02.12.2001"
    ]
    assert small.search("sukamaju", levels={4}, within="32.0") == []
    assert small.search("cibadak", levels={3}, within="36")[0].code == "36.02.18"


def test_search_limit_and_nothing(small: PlaceIndex) -> None:
    assert len(small.search("sukamaju", levels={4}, limit=2)) == 2
    assert small.search("xyzzy qwerty", levels={1, 2, 3, 4}) == []
    assert small.search("", levels={2}) == []
    assert small.search("kab", levels={2}) != []  # a hint word alone is searched as a name
    assert small.search("sukamaju", levels={4}, limit=0) == []


@settings(max_examples=100)
@given(st.text(max_size=30))
def test_search_never_raises(text: str) -> None:
    index = PlaceIndex.from_rows(ROWS)
    results = index.search(text, levels={1, 2, 3, 4}, limit=3)
    assert len(results) <= 3


# ---- time zones --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "zone", "abbr"),
    [
        ("11", "Asia/Jakarta", "WIB"),
        ("32.02.11.2001", "Asia/Jakarta", "WIB"),
        ("36.02", "Asia/Jakarta", "WIB"),
        ("61", "Asia/Jakarta", "WIB"),
        ("62.01", "Asia/Jakarta", "WIB"),
        ("51.71", "Asia/Makassar", "WITA"),
        ("53", "Asia/Makassar", "WITA"),
        ("63", "Asia/Makassar", "WITA"),
        ("65", "Asia/Makassar", "WITA"),
        ("73.71", "Asia/Makassar", "WITA"),
        ("76", "Asia/Makassar", "WITA"),
        ("81", "Asia/Jayapura", "WIT"),
        ("82", "Asia/Jayapura", "WIT"),
        ("91.03.01.3007", "Asia/Jayapura", "WIT"),
        ("96", "Asia/Jayapura", "WIT"),
    ],
)
def test_timezones(code: str, zone: str, abbr: str) -> None:
    assert timezone_for(code) == zone
    assert timezone_abbr(code) == abbr
    assert PlaceIndex.timezone_for(code) == zone
    assert zone_for(code).key == zone


def test_every_province_has_a_timezone() -> None:
    for code in province_codes():
        assert timezone_abbr(code) in {"WIB", "WITA", "WIT"}


@pytest.mark.parametrize("code", ["00", "20", "99", "", "xx"])
def test_unknown_timezone_raises(code: str) -> None:
    with pytest.raises(ValueError):
        timezone_for(code)
    with pytest.raises(ValueError):
        zone_for(code)  # twice: a failure is not cached as an answer
    with pytest.raises(ValueError):
        zone_for(code)


# ---- the shipped data ----------------------------------------------------------------------


def test_full_index_holds_every_area(full: PlaceIndex) -> None:
    assert len(full) == 38 + 514 + 7285 + 83762


def test_full_index_counts(full: PlaceIndex) -> None:
    assert len(full.children(None)) == 38
    assert full.get("32.02.11").label == "Kec. Cibadak, Kab. Sukabumi, Jawa Barat"


def test_full_search_cibadak_districts(full: PlaceIndex) -> None:
    found = full.search("Cibadak", levels={2, 3})
    assert [p.code for p in found[:2]] == ["32.02.11", "36.02.18"]


def test_full_search_kab_bandung(full: PlaceIndex) -> None:
    found = full.search("kab bandung", levels={2, 3})
    assert found[0].code == "32.04"
    assert found[0].label == "Kab. Bandung, Jawa Barat"


@pytest.mark.parametrize(("typed", "levels", "within", "first"), [
    ("Kota Manna", {3}, "17.01", "17.01.05"),
    ("kec. kota manna", {3}, "17.01", "17.01.05"),
    ("Kota Manna", {1, 2, 3}, None, "17.01.05"),
    ("Manna", {3}, "17.01", "17.01.04"),
    ("Desa Beru", {4}, "52.07", "52.07.05.2001"),
    ("kota bandung", {2, 3}, None, "32.73"),
])
def test_full_search_a_name_with_its_kind_word_comes_first(
        full: PlaceIndex, typed: str, levels: set[int], within: str | None, first: str) -> None:
    """Found by test_a_place_is_found_by_its_own_name: "kota" was read as a hint only, so
    "Kota Manna" offered Kecamatan Manna (exactly "manna") before Kecamatan Kota Manna."""
    assert full.search(typed, levels=levels, within=within)[0].code == first


def test_full_search_typo(full: PlaceIndex) -> None:
    found = full.search("sukabumu", levels={2, 3})
    assert {p.code for p in found[:2]} == {"32.02", "32.72"}


def test_full_search_village_within_regency(full: PlaceIndex) -> None:
    found = full.search("sukamaju", levels={4}, within="32.02", limit=10)
    assert found and all(p.code.startswith("32.02.") for p in found)
    assert all(p.name == "Sukamaju" for p in found[:5])
