"""The one recogniser of NIKs and Indonesian phone numbers inside any text (a note, a log line,
an export cell), in every form a mentor types them and :func:`parse_phone` accepts, and the
masks built on it.

Why not phonenumbers' PhoneNumberMatcher alone: it misses a number glued to a word ("HP0812…")
or following a date ("12/03/2026 0812-…"), and it reads amounts and Telegram ids as numbers of
some region. So the text is cut into runs of digits joined by separators (spaces, dots, dashes,
slashes, parentheses), dates and Rupiah amounts are set aside, and phonenumbers (through
:func:`parse_phone`) judges each stretch of a run that starts the way an Indonesian number does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

from bot.core.parsing.identity import mask_nik, parse_phone, province_codes

__all__ = ["Found", "find_numbers", "mask_numbers", "replace_numbers"]

Kind = Literal["nik", "phone", "number"]

# Spaces (a no-break one too, as raw text and log lines may carry), dots, dashes (the en dash
# phones put for "-"), slashes and brackets.
_SEPARATORS = r"[ \t\u00a0\u202f.\-\u2010-\u2015/()]"
# The cheap test first: 9 digits or more joined by at most three separators at a time. Most
# texts (and log lines) have none, and everything below costs far more than this one scan by
# the regex engine; the rest looks only inside what it found.
# (A "+" or "(" before it is looked for afterwards: an optional first character would make
# the engine try every position of the text the slow way.)
_DENSE = re.compile(rf"\d(?:{_SEPARATORS}{{0,3}}\d){{8,}}")




def _date(name: str) -> str:
    """A date's pattern (12-03-2026, 12/03/2026, 2026-03-12, 12.03.2026), its separator
    captured as ``name`` (the pattern is used twice in one regex)."""
    return (rf"(?:\d{{1,2}}(?P<{name}1>[./-])\d{{1,2}}(?P={name}1)\d{{4}}"
            rf"|\d{{4}}(?P<{name}2>[./-])\d{{1,2}}(?P={name}2)\d{{1,2}})(?![\d]|[./-]\d)")


# A Rupiah amount grouped by dots ("15.000.000", "1.500.000,-", "Rp" before it or not), unless
# it follows a country code: "+62 811.000.000" is a phone number.
_AMOUNT = r"(?<![\d.,/-])(?<!62[ .\-/])(?<!\(0\)[ .\-/])[1-9]\d{0,2}(?:\.\d{3})+(?:,\d{1,2}|,-)?(?![\d]|[.,]\d)"
_TOKENS = re.compile(
    # Dates and amounts are never numbers to hide: they are taken out of the way first...
    rf"(?P<date>(?<![\d.,/-]){_date('a')})"
    rf"|(?P<amount>{_AMOUNT})"
    # ... and a run of digits joined by at most three separators at a time (a "+" or "(" may
    # come first) stops before a space and a date or an amount, so as not to swallow them.
    rf"|(?P<run>\+?\(?\d(?:(?!\s+(?:{_date('b')}|{_AMOUNT})){_SEPARATORS}{{0,3}}\d)*)")
_GROUP = re.compile(r"\d+")


@dataclass(frozen=True)
class Found:
    """A number found in a text: where it is, what it is and its digits (the phone's E.164)."""

    start: int
    end: int
    kind: Kind
    digits: str
    value: str  # the NIK's digits, the phone's E.164, the other number's digits


class _Group(NamedTuple):
    start: int
    end: int
    digits: str
    plus: bool  # a "+" just before it
    paren: bool  # a "(" just before it and a ")" just after it: "(0812)", "(0)"


def _groups(text: str, start: int, end: int) -> list[_Group]:
    """The groups of digits of the run ``text[start:end]``."""
    groups = []
    for match in _GROUP.finditer(text, start, end):
        before = text[match.start() - 1] if match.start() > 0 else ""
        after = text[match.end()] if match.end() < len(text) else ""
        groups.append(_Group(match.start(), match.end(), match.group(),
                             before == "+", before == "(" and after == ")"))
    return groups


def _plausible_nik(digits: str) -> bool:
    """A province code, a birth day (women add 40) and a month where a NIK has them."""
    if not digits.isascii():
        return False
    day, month = int(digits[6:8]), int(digits[8:10])
    return (digits[:2] in province_codes() and (1 <= day <= 31 or 41 <= day <= 71)
            and 1 <= month <= 12)


def _nik_at(groups: list[_Group], i: int) -> int | None:
    """The index of the last group of a plausible NIK starting at group ``i``, or None."""
    if groups[i].plus or groups[i].digits.startswith("0"):
        return None
    digits = ""
    for j in range(i, len(groups)):
        digits += groups[j].digits
        if len(digits) >= 16:
            return j if len(digits) == 16 and _plausible_nik(digits) else None
    return None


def _may_start_phone(group: _Group, digits: str, count: int) -> bool:
    """Whether a stretch of ``count`` groups starting with ``group`` (``digits`` in all) is
    written the way an Indonesian number starts: +…, 0…, 62… or the national 8…. Bare runs
    of 9-10 digits are not taken: Telegram ids (812345678, 6281234567) and counts are."""
    if group.plus or digits.startswith("0"):
        return True
    if digits.startswith("62"):
        return count > 1 or len(digits) >= 11
    if digits.startswith("8"):
        return len(digits) >= 10 if count > 1 else 11 <= len(digits) <= 12
    return False


@lru_cache(maxsize=512)
def _e164(digits: str) -> str | None:
    """:func:`parse_phone`, remembered: a log writes the same numbers again and again (the
    parameters of one statement, a retried update), and phonenumbers is the slow part."""
    return parse_phone(digits)


def _phone_at(groups: list[_Group], i: int) -> tuple[int, str] | None:
    """The last group and the E.164 of the longest phone number starting at group ``i``."""
    first = groups[i]
    if not (first.plus or first.digits[0] in "068"):
        return None
    ends = []
    digits = ""
    # At most six groups ("+62 (0) 812 5555 6666" has five): a text of single digits spaced
    # out would otherwise ask phonenumbers thousands of times.
    for j in range(i, min(i + 6, len(groups))):
        digits += groups[j].digits
        if len(digits) > 15:
            break
        if len(digits) >= 9 and _may_start_phone(first, digits, j - i + 1):
            ends.append((j, digits))
    for j, digits in reversed(ends):
        e164 = _e164(("+" if first.plus else "") + digits)
        if e164 is not None:
            return j, e164
    return None


def _in_run(groups: list[_Group]) -> list[Found]:
    """The numbers in one run: at each group a NIK, else the longest phone number, else
    the group is left over."""
    found: list[Found] = []
    left: list[_Group] = []  # groups no number took, in a row

    def leftover() -> None:
        # Digits nothing recognised, written as a NIK is (one run of 15 or more, or 15 to 17
        # in short groups: mistyped, or of no province) are hidden, not trusted; a list of
        # ids or counts (groups of 7 and more digits) is not.
        digits = "".join(group.digits for group in left)
        if len(digits) >= 15 and (len(left) == 1 or (
                len(left) >= 3 and len(digits) <= 17
                and all(len(group.digits) <= 6 for group in left))):
            kind: Kind = "nik" if len(digits) == 16 else "number"
            found.append(_found(left[0], left[-1], kind, digits, digits))
        left.clear()

    i = 0
    while i < len(groups):
        nik_end = _nik_at(groups, i)
        if nik_end is not None:
            leftover()
            digits = "".join(group.digits for group in groups[i:nik_end + 1])
            found.append(_found(groups[i], groups[nik_end], "nik", digits, digits))
            i = nik_end + 1
            continue
        phone = _phone_at(groups, i)
        if phone is not None:
            leftover()
            end, e164 = phone
            digits = "".join(group.digits for group in groups[i:end + 1])
            found.append(_found(groups[i], groups[end], "phone", digits, e164))
            i = end + 1
            continue
        left.append(groups[i])
        i += 1
    leftover()
    found.sort(key=lambda number: number.start)
    return found


def _found(first: _Group, last: _Group, kind: Kind, digits: str, value: str) -> Found:
    """The number from group ``first`` to ``last``; a phone's with the "+" or the "(…)" around
    its first group."""
    if kind != "phone":  # "(3201…0001)": the brackets are the sentence's
        return Found(first.start, last.end, kind, digits, value)
    start = first.start - (first.plus or first.paren)
    end = last.end + (first.paren and first is last)
    return Found(start, end, kind, digits, value)


def find_numbers(text: str) -> list[Found]:
    """The NIKs and phone numbers in ``text``, in order, however they are written: NIKs as 16
    digits grouped by spaces, dots, dashes or slashes (spaces around them or not); phone
    numbers as +62…, 62…, 0… or 8…, grouped the same way, the area or operator code in
    parentheses or not. Amounts ("Rp 1.500.000,-"), dates, years, Telegram ids and counts are
    not numbers to hide; a long run of digits recognised as neither is found as "number"."""
    if not isinstance(text, str):
        return []
    found: list[Found] = []
    for dense in _DENSE.finditer(text):
        start = dense.start()
        if text[start - 1:start] == "(":
            start -= 1
        if text[start - 1:start] == "+":
            start -= 1
        for token in _TOKENS.finditer(text, start, dense.end()):
            if token.lastgroup != "run" or token.end() - token.start() < 9:
                continue
            groups = _groups(text, token.start(), token.end())
            if sum(len(group.digits) for group in groups) >= 9:
                found.extend(_in_run(groups))
    return found


def replace_numbers(text: str, replace: Callable[[Found], str]) -> str:
    """``text`` with each number :func:`find_numbers` finds replaced by ``replace(found)``."""
    found = find_numbers(text)
    if not found:
        return text
    pieces, at = [], 0
    for number in found:
        pieces += [text[at:number.start], replace(number)]
        at = number.end
    pieces.append(text[at:])
    return "".join(pieces)


def _masked(number: Found) -> str:
    """A number as a note shows it: the NIK's mask, or the first four and last two digits."""
    if number.kind == "nik":
        return mask_nik(number.digits)
    digits = number.digits
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


def mask_numbers(text: str, *, keep: Collection[str] = ()) -> str:
    """Masks the NIKs and phone numbers inside free text (a note, a line echoed back): a NIK
    as "3201********0001", a phone number (and any other long run of digits) keeping its
    first four and last two digits. Amounts and dates stay as they are. Phone numbers whose
    E.164 is in ``keep`` (the sender's own, however it is written) stay as written."""
    if not keep:
        return replace_numbers(text, _masked)
    return replace_numbers(text, lambda number: text[number.start:number.end]
                           if number.kind == "phone" and number.value in keep
                           else _masked(number))
