"""Names of people (as on the KTP and the family card) and of groups, as mentors type them."""

from __future__ import annotations

import re
import unicodedata

from bot.core.parsing.common import tidy, user_text

__all__ = ["parse_group_name", "parse_person_name"]

_NAME_PUNCTUATION = frozenset(" .'-")
_CAPITALISE = re.compile(r"(^|[\s.\-])(\w)")


@user_text(300)
def parse_person_name(text: str) -> str | None:
    """A person's name as on the KTP and the family card: spaces tidied, title-cased if typed
    all lower or all upper case; None if it is not one.

    Letters of any script, spaces and . ' - only, 2-100 characters with two letters at least:
    no digits, emoji or other symbols, which have no place in the official records these
    names are matched against (the answer to a refused name says so, with an example).
    """
    name = tidy(text)
    if not 2 <= len(name) <= 100:
        return None
    in_letter = False
    for char in name:
        if unicodedata.category(char) in {"Mn", "Mc"} and not "\ufe00" <= char <= "\ufe0f":
            if not in_letter:  # combining marks belong to a letter (Devanagari vowels, "Z̧")
                return None
        elif char.isalpha():
            in_letter = True
        elif char in _NAME_PUNCTUATION:
            in_letter = False
        else:
            return None
    if sum(char.isalpha() for char in name) < 2:
        return None
    if name == name.lower() or name == name.upper():
        # A word starts with its letter's title case, not its upper case: "ß" is "Ss" there,
        # and "SS" would read as typed all upper and change again ("Ss") on the next reading.
        name = _CAPITALISE.sub(lambda m: m[1] + m[2].title(), name.lower())
        # Case changes can unsettle combining marks ("İ" lowers to i + dot): order them again.
        name = unicodedata.normalize("NFKC", name)
    return name


_GROUP_NAME_PUNCTUATION = frozenset(" .'-&/(),\"")


@user_text(300)
def parse_group_name(text: str) -> str | None:
    """A group's name ("KUBE Mawar Sejahtera", "KUBE Maju Jaya 2") with spaces tidied; None
    if it is not one. 3-100 characters with a letter at least: letters, digits, spaces and
    common punctuation (. ' - & / ( ) , ") only, so no emoji, as for people's names."""
    name = tidy(text)
    if not 3 <= len(name) <= 100 or not any(char.isalpha() for char in name):
        return None
    if any(not (char.isalnum() or char in _GROUP_NAME_PUNCTUATION) for char in name):
        return None
    return name
