"""bot.core.parsing.names: names of people and groups; examples and properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.core.parsing import parse_group_name, parse_member_line, parse_person_name
from tests.bot.strategies import PROPS, any_text, person_names


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


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


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
@example("ßʟ")
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
@example("ßʟ")  # was "SSʟ" (ß's upper case), which reads as all upper: "Ssʟ" the next time
def test_person_names_never_raise(text: str) -> None:
    name = parse_person_name(text)
    assert name is None or (2 <= len(name) <= 100 and parse_person_name(name) == name)
