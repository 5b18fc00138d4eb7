"""bot.core.parsing.members: member lines and a group's membership problems; examples and
properties."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.core.enums import MemberRole
from bot.core.parsing import (
    MemberLine,
    apply_list_corrections,
    group_problems,
    is_list_correction,
    is_whole_list_again,
    parse_member_fields,
    parse_member_line,
    parse_member_lines,
    parse_person_name,
)
from bot.core.parsing.members import _CATEGORY_ALIASES, _ROLE_ALIASES
from tests.bot.strategies import (
    PROPS,
    SLOW,
    any_text,
    id_phones,
    nik_forms,
    niks,
    person_names,
    phone_forms,
)

NIK = "3201014112900001"  # Jawa Barat, woman born 01-12-1990, serial 0001


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
        ("Budi; miskin; ketua; X", "extra"),
        ("Budi; miskin; ketua; DTKS desil 12", "register"),
        ("Budi; miskin; ketua; desil 0", "register"),
        ("Budi; miskin; ketua; P; L", "fields"),
        ("Budi; miskin; ketua; DTKS; non DTKS", "fields"),
    ],
)
def test_member_line_errors(text: str, error: str) -> None:
    assert parse_member_line(text).error == error


@pytest.mark.parametrize(
    ("text", "sex", "status", "decile"),
    [
        ("Siti Aminah; miskin; ketua; P; DTKS desil 2", "p", "ya", 2),
        ("Siti Aminah; miskin; ketua; P; DTKS desil 3", "p", "ya", 3),
        ("Siti; miskin; perempuan", "p", None, None),
        ("Siti; miskin; kk perempuan; DTSEN d10", "p", "ya", 10),
        ("Budi; m; L; dtks", "l", "ya", None),
        ("Budi; m; laki-laki; desil 4", "l", "ya", 4),
        ("Budi; m; lk; non DTKS", "l", "tidak", None),
        ("Budi; m; pria; DTKS tidak", "l", "tidak", None),
        ("Budi; m; DTKS tidak tahu", None, "tidak_tahu", None),
        ("Budi; m; ketua; DTKS ?", None, "tidak_tahu", None),
        (f"Budi, miskin, ketua, P, DTKS 1, {NIK}, 081234567890", "p", "ya", 1),
        ("Budi; miskin; ketua", None, None, None),  # as before: nothing typed, nothing known
    ],
)
def test_member_line_household_words(text: str, sex: str | None, status: str | None,
                                     decile: int | None) -> None:
    line = parse_member_line(text)
    assert line.ok, line
    assert (line.head_sex, line.register_status, line.register_decile) == (sex, status, decile)


def test_member_line_household_words_keep_the_rest() -> None:
    line = parse_member_line(f"Siti Aminah; P; ketua; DTKS desil 2; miskin; {NIK}")
    assert (line.name, line.welfare_category, line.role, line.nik) == (
        "Siti Aminah", "miskin", "ketua", NIK)


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
def test_member_lines_never_raise_on_short_text(text: str) -> None:
    lines = parse_member_lines(text)
    for line in lines:
        if line.error is None:
            assert line.name and line.welfare_category and line.role
        else:
            assert line.error in {"name", "category", "role", "nik", "phone", "fields",
                                  "register", "extra"}
    assert isinstance(group_problems(lines, minimum=5, maximum=10), list)


def test_group_problems_accepts_stored_members() -> None:
    members = [
        SimpleNamespace(name="Siti", role="ketua", nik=NIK),
        SimpleNamespace(name="Budi", role="sekretaris", nik=None),
        SimpleNamespace(name="Ani", role="bendahara", nik=NIK),
    ]
    assert group_problems(members, minimum=3, maximum=10) == ["duplicate_nik"]


def test_member_fields_keep_a_separator_inside_a_cell() -> None:
    """Spreadsheet cells were joined into a typed line: "Siti; ketua" became a ketua."""
    assert parse_member_fields("Siti; ketua", "miskin", "").error == "name"
    line = parse_member_fields("Siti Aminah", "miskin", "")
    assert (line.name, line.welfare_category, line.role, line.error) == (
        "Siti Aminah", "miskin", "anggota", None)
    assert parse_member_fields("Siti", "ketua", "miskin").ok  # swapped cells still read


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


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
            assert line.error in {"name", "category", "role", "nik", "phone", "fields",
                                  "register", "extra"}
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
            *([data.draw(st.sampled_from(nik_forms(nik))).strip()] if nik else []),
            *([data.draw(st.sampled_from(phone_forms(phone)))] if phone else [])]
    rest = data.draw(st.permutations(rest))
    assume(separator.strip() != "," or not any("," in part for part in rest))
    line = parse_member_line(numbering + separator.join([typed, *rest]))
    assert line.error is None, line
    assert line.name == name
    assert line.welfare_category == _CATEGORY_ALIASES[category].value
    assert line.role == (_ROLE_ALIASES[role].value if role else MemberRole.MEMBER.value)
    assert (line.nik, line.phone) == (nik, phone)


def test_corrections_to_a_typed_list() -> None:
    lines = parse_member_lines("Siti; miskin; ketua\nAni; rentan\nBudi; miskin")
    assert is_list_correction(lines, "hapus 2\n3. Budi Santoso; miskin")
    assert is_list_correction(lines, "Dewi; miskin")  # a new household
    assert not is_list_correction(lines, "ok simpan")
    assert not is_list_correction(lines, "hapus 9")  # no such line
    assert not is_list_correction(lines, "")
    typed = "hapus 2\n3. Budi Santoso; miskin\nhapus 7\nDewi; miskin"
    assert apply_list_corrections(lines, typed) == [7]  # no line 7: skipped, the rest applied
    assert [line.name for line in lines] == ["Siti", "Budi Santoso", "Dewi"]


@pytest.mark.parametrize(("text", "whole"), [
    ("Sari Dewi; miskin; ketua\nBudi; fakir miskin; sekretaris\nDewi; miskin; anggota", True),
    ("1. Sari Dewi; miskin; ketua\n2. Budi; miskin; sekretaris\n3. Wati; miskin; bendahara",
     True),  # numbered as a list is, over part of the old one
    (("Wati; miskin; ketua\nAni; miskin; bendahara\nTuti; miskin; anggota\nIta; m; anggota\n"
     "Eka; m; anggota"), True),  # new names, but a full list with its own ketua
    ("Wati; miskin; anggota\nAni; miskin; bendahara", False),  # two more households
    ("Sari Dewi; miskin; ketua", False),  # one line
    ("2. Budi; miskin; sekretaris\n4. Joko; miskin; bendahara", False),  # corrections
    ("hapus 2\nSari Dewi; miskin; ketua\nBudi; miskin; anggota", False),
    ("1. Sari Dewi; m; ketua\n2. Budi; m; anggota\n3. Rina; m; anggota\n4. Joko; m; anggota",
     False),  # every line replaced by its number: the same either way
])
def test_the_whole_list_sent_again_is_told_from_changes(text, whole):
    old = parse_member_lines("Sari Dewi; miskin; ketua\nBudi; kaya; anggota\n"
                             "Rina; miskin; anggota\nJoko; miskin; anggota")
    assert is_whole_list_again(old, text, minimum=5) is whole
