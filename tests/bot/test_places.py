"""Tests for bot.core.places: the area index, its fuzzy search and time zones."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from bot.core.parsing import province_codes
from bot.core.places import (
    Place,
    PlaceIndex,
    _normalise,
    default_index,
    timezone_abbr,
    timezone_for,
    zone_for,
)
from tests.bot.strategies import FEW, any_text, codes_by_level

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


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


@st.composite
def places(draw: st.DrawFn):
    codes = codes_by_level()[draw(st.sampled_from([1, 2, 3, 4, 4, 4]))]
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
# "kota" was only a hint: Kecamatan Manna (exactly "manna") came before Kecamatan Kota Manna.
@example(Place("17.01.05", 3, "Kota Manna", "Kec. Kota Manna, Kab. Bengkulu Selatan, Bengkulu"),
         "as is")
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


def test_full_search_a_regency_name_finds_the_regency_and_no_look_alikes(
        full: PlaceIndex) -> None:
    """Issue 15: "Cianjur" as a work area offered Kecamatan Cina (Kabupaten Bone), a near
    spelling, beside the real Cianjur; misspelt, the regency still comes first."""
    for typed in ("Cianjur", "cianjr", "kab cianjur"):
        areas, villages = full.search_work_area(typed, levels={2, 3})
        assert [p.label for p in areas[:2]] == [
            "Kab. Cianjur, Jawa Barat", "Kec. Cianjur, Kab. Cianjur, Jawa Barat"], typed
        assert not any("Cina" in p.label for p in areas) and villages == []
    # A misspelt kind word: the name is still found among the words typed.
    assert full.search("kabupeten ciamis", levels={2, 3})[0].code == "32.07"
    # A start of the name: the regency before its districts.
    assert full.search("cianj", levels={2, 3})[0].code == "32.03"
    # A misspelt village is still found, in the mentor's area and in the whole country.
    assert full.search("warnajti", levels={4}, within="32.02.11")[0].name == "Warnajati"
    assert full.search("warnajatti", levels={4})[0].code == "32.02.11.2006"
    # A typed village points to its district, looked up rather than searched for.
    areas, villages = full.search_work_area("Warnajati", levels={2, 3})
    assert areas[0].code == "32.02.11" and [v.code for v in villages] == ["32.02.11.2006"]
