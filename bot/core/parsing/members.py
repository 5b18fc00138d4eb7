"""Member lists: one household a line ("Siti Aminah; miskin; ketua; P; DTKS desil 2; NIK; HP")
or a spreadsheet row, and the problems of a group's membership (officers, size, twice the same
person)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.enums import OFFICER_ROLES, MemberRole, RegisterStatus, Sex, WelfareCategory
from bot.core.parsing.common import clean, is_skip
from bot.core.parsing.identity import parse_phone, validate_nik
from bot.core.parsing.names import parse_person_name
from bot.core.parsing.numbers import find_numbers

__all__ = [
    "MemberLine",
    "apply_list_corrections",
    "group_problems",
    "is_list_correction",
    "is_whole_list_again",
    "parse_member_fields",
    "parse_member_line",
    "parse_member_lines",
]

@dataclass
class MemberLine:
    """One household typed on one line of a member list, parsed.

    ``error`` is None when the line is valid, otherwise the code of the first problem:
    "name", "category", "role", "nik", "phone", "register" (a DTKS/DTSEN word with a decile
    outside 1-10), "extra" (a word after the category and the role that is none of the
    optional ones) or "fields" (a line with one field, too many fields or a field given
    twice). Fields parsed before the error are kept. ``line_no`` is the line's number in the
    message (1-based, blank lines counted). The optional head of household's sex ("l"/"p")
    and DTKS/DTSEN registration ("ya"/"tidak"/"tidak_tahu", with the decile 1-10 where
    known) are None when not typed.
    """

    line_no: int
    raw: str
    name: str | None = None
    welfare_category: str | None = None
    role: str | None = None
    nik: str | None = None
    phone: str | None = None
    error: str | None = None
    head_sex: str | None = None
    register_status: str | None = None
    register_decile: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


_CATEGORY_ALIASES = {
    "fakir miskin": WelfareCategory.POOREST,
    "fakir": WelfareCategory.POOREST,
    "fm": WelfareCategory.POOREST,
    "miskin": WelfareCategory.POOR,
    "m": WelfareCategory.POOR,
    "hampir miskin": WelfareCategory.NEAR_POOR,
    "hm": WelfareCategory.NEAR_POOR,
    "rentan": WelfareCategory.NEAR_POOR,
    "rentan miskin": WelfareCategory.NEAR_POOR,
}
_ROLE_ALIASES = {
    "ketua": MemberRole.CHAIR,
    "ket": MemberRole.CHAIR,
    "kt": MemberRole.CHAIR,
    "sekretaris": MemberRole.SECRETARY,
    "sekertaris": MemberRole.SECRETARY,
    "sekre": MemberRole.SECRETARY,
    "sek": MemberRole.SECRETARY,
    "skr": MemberRole.SECRETARY,
    "bendahara": MemberRole.TREASURER,
    "bend": MemberRole.TREASURER,
    "bdh": MemberRole.TREASURER,
    "anggota": MemberRole.MEMBER,
    "agt": MemberRole.MEMBER,
}
_ALIASES: dict[str, tuple[str, str]] = {
    **{alias: ("category", value.value) for alias, value in _CATEGORY_ALIASES.items()},
    **{alias: ("role", value.value) for alias, value in _ROLE_ALIASES.items()},
}
# Typos are forgiven for words of four letters or more ("bendahra", "miskn").
_FUZZY_MIN_LENGTH = 4
_FUZZY_CUTOFF = 80

# The optional words about the household, recognised exactly (never by fuzzy matching, so a
# line without them reads as before): the head of household's sex ...
_SEX_WORDS = {
    **dict.fromkeys(("p", "pr", "prp", "perempuan", "wanita", "ibu", "\u2640"), Sex.FEMALE),
    **dict.fromkeys(("l", "lk", "laki", "laki laki", "lakilaki", "pria", "bapak", "\u2642"),
                    Sex.MALE),
}
_HEAD_PREFIX = re.compile(r"^(?:kk|kepala keluarga|kepala kk|kepala)\s+")
# ... and the DTKS/DTSEN registration: "DTKS", "DTKS desil 2", "DTSEN d3", "desil 4",
# "non DTKS", "DTKS tidak", "DTKS tidak tahu".
_REGISTER = re.compile(r"(?:dtks|dtsen)(?:\s*/\s*(?:dtks|dtsen))?")
_NOT_REGISTERED = re.compile(r"^(?:non|bukan|tidak|tdk|tak|belum|blm|ga|gak)\s+(?:terdaftar\s+)?"
                             r"(?:di\s+)?(?:dtks|dtsen)$|^(?:dtks|dtsen)\s+(?:tidak|tdk|belum|blm|"
                             r"bukan|non|ga|gak|no)$")
_UNKNOWN_REGISTER = re.compile(r"^(?:dtks|dtsen)\s*(?:\?|tidak tahu|tdk tahu|tak tahu|"
                               r"ga tahu|gak tahu|belum tahu|tidak tau|gak tau|ga tau)$|"
                               r"^(?:tidak tahu|tdk tahu|tak tahu|gak tahu|ga tahu)\s+"
                               r"(?:dtks|dtsen)$")
_REGISTERED = re.compile(r"^(?:(?:dtks|dtsen)(?:\s+(?:ya|terdaftar|ada))?"
                         r"(?:\s*(?:desil|d)?\s*(\d{1,2}))?|desil\s*(\d{1,2}))$")

_LEADING_NUMBER = re.compile(r"^\s*(?:\d{1,3}\s*[.)]\s*|[-*•·]\s*|\d{1,3}\s+(?=[^\W\d_]))")


def _match_word(field: str) -> tuple[str, str] | None:
    """("category"|"role", value) for a category or role word, tolerant of typos."""
    key = re.sub(r"[\s_\-]+", " ", clean(field)).strip(" .")
    if key in _ALIASES:
        return _ALIASES[key]
    if len(key) < _FUZZY_MIN_LENGTH:
        return None
    best = process.extractOne(key, _ALIASES.keys(), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    return _ALIASES[best[0]] if best else None



def _household_word(field: str) -> tuple[str, object] | None:
    """("sex", "l"|"p") or ("register", (status, decile)) for an optional household word;
    ("register", None) for a DTKS/DTSEN word that cannot be read (a decile outside 1-10);
    None for anything else."""
    key = re.sub(r"[\s_\-:=.,]+", " ", clean(field)).strip()
    sex = _SEX_WORDS.get(_HEAD_PREFIX.sub("", key))
    if sex is not None:
        return "sex", sex.value
    key = _REGISTER.sub(lambda m: m.group(0).split("/")[0].strip(), key)
    if _NOT_REGISTERED.match(key):
        return "register", (RegisterStatus.NO.value, None)
    if _UNKNOWN_REGISTER.match(key):
        return "register", (RegisterStatus.UNKNOWN.value, None)
    found = _REGISTERED.match(key)
    if found:
        digits = found.group(1) or found.group(2)
        if digits is None:
            return "register", (RegisterStatus.YES.value, None)
        decile = int(digits)
        return "register", ((RegisterStatus.YES.value, decile) if 1 <= decile <= 10 else None)
    if key.startswith(("dtks", "dtsen", "desil")):
        return "register", None
    return None


def _split_fields(line: str) -> list[str]:
    for separator in (";", "\t", "|", ","):
        if separator in line:
            return [field.strip() for field in line.split(separator)]
    return [line.strip()]


def _digit_field_kind(field: str) -> str | None:
    """The kind, "nik" or "phone", of a field made of digits and separators; None for a word."""
    stripped = field.strip()
    if not re.fullmatch(r"\+?[\d\s().\-/]+", stripped) or not re.search(r"\d", stripped):
        return None
    # What the recogniser of numbers in text (masking, log redaction) reads it as, first;
    # the length rules below only pick the error for a number it does not recognise.
    found = find_numbers(stripped)
    if len(found) == 1 and found[0].kind != "number" and \
            (found[0].start, found[0].end) == (0, len(stripped)):
        return found[0].kind
    digits = re.sub(r"\D", "", stripped)
    if stripped.startswith("+"):
        return "phone"
    if len(digits) == 16:
        return "nik"
    if (
        (digits.startswith("0") and 9 <= len(digits) <= 14)
        or (digits.startswith("62") and 10 <= len(digits) <= 15)
        or (digits.startswith("8") and 9 <= len(digits) <= 13)
    ):
        return "phone"
    return "nik" if len(digits) >= 14 else "phone"


def parse_member_line(text: str, line_no: int = 1) -> MemberLine:
    """Parses one household line:
    ``Siti Aminah; miskin; ketua[; P][; DTKS desil 2][; NIK][; phone]``.

    Fields are separated by ";" (or, when the line has none, by a tab, "|" or ","). The name
    comes first; the category, the role, the head of household's sex ("P"/"perempuan",
    "L"/"laki-laki"), the DTKS/DTSEN registration ("DTKS", "DTKS desil 2", "non DTKS", "DTKS
    tidak tahu"), the NIK (16 digits) and the phone are recognised by their content, so their
    order does not matter. A missing role means "anggota". Leading
    numbering ("1.", "1)", "- ") is ignored, and so are empty or "-" fields. Category and
    role words accept common abbreviations and typos. See :class:`MemberLine` for the error
    codes.
    """
    raw = text.strip() if isinstance(text, str) else ""
    line = MemberLine(line_no=line_no, raw=raw)
    if len(raw) > 300:
        line.error = "fields"
        return line
    return _member_from_fields(line, _split_fields(_LEADING_NUMBER.sub("", raw, count=1)))


def parse_member_fields(name: str, category: str, role: str = "", *,
                        line_no: int = 1) -> MemberLine:
    """One household given field by field (a spreadsheet row's cells), checked as
    :func:`parse_member_line` checks a typed line; a separator inside a cell ("Siti; ketua")
    is part of that cell, so it never makes a field of its own."""
    cells = [str(cell) if cell is not None else "" for cell in (name, category, role)]
    line = MemberLine(line_no=line_no, raw="; ".join(cells).strip())
    if any(len(cell) > 300 for cell in cells):
        line.error = "fields"
        return line
    return _member_from_fields(line, [cell.strip() for cell in cells])


_DIGIT_FIELDS = {"nik": validate_nik, "phone": parse_phone}


def _take_household_words(line: MemberLine, fields: list[str]) -> list[str] | None:
    """The fields without the optional household words (sex, DTKS/DTSEN), which are stored on
    ``line``; None (and ``line.error``) for a DTKS word that cannot be read or a word twice."""
    rest = [fields[0]]
    for field in fields[1:]:
        word = _household_word(field)
        if word is None:
            rest.append(field)
            continue
        kind, value = word
        if value is None:
            line.error = "register"
            return None
        if kind == "sex":
            if line.head_sex is not None:
                line.error = "fields"
                return None
            line.head_sex = str(value)
        else:
            if line.register_status is not None:
                line.error = "fields"
                return None
            line.register_status, line.register_decile = value  # type: ignore[misc]
    return rest


def _member_from_fields(line: MemberLine, fields: list[str]) -> MemberLine:
    # Empty fields and "-" (or "tidak ada") stand for a value the mentor does not have.
    fields = [fields[0], *(field for field in fields[1:] if field and not is_skip(field))]
    if len(fields) > 1:
        if len(fields) > 7:
            line.error = "fields"
            return line
        taken = _take_household_words(line, fields)
        if taken is None:
            return line
        fields = taken
    if len(fields) < 2 or len(fields) > 5:
        line.error = "fields"
        return line
    line.name = parse_person_name(fields[0])
    if line.name is None:
        line.error = "name"
        return line
    for field in fields[1:]:
        kind = _digit_field_kind(field)
        if kind is not None:  # "nik" or "phone": the attribute and the error code alike
            if getattr(line, kind) is not None:
                line.error = "fields"
                return line
            setattr(line, kind, _DIGIT_FIELDS[kind](field))
            if getattr(line, kind) is None:
                line.error = kind
                return line
        else:
            word = _match_word(field)
            if word is None:
                line.error = ("category" if line.welfare_category is None
                              else "role" if line.role is None else "extra")
                return line
            kind, value = word
            if getattr(line, "welfare_category" if kind == "category" else "role") is not None:
                line.error = "fields"
                return line
            if kind == "category":
                line.welfare_category = value
            else:
                line.role = value
    if line.welfare_category is None:
        line.error = "category"
        return line
    if line.role is None:
        line.role = MemberRole.MEMBER.value
    return line


def parse_member_lines(text: str) -> list[MemberLine]:
    """Parses a member list, one household per line (blank lines ignored).

    See :func:`parse_member_line` for the line format. Every non-blank line gives one
    :class:`MemberLine`, valid or with its error code.
    """
    if not isinstance(text, str):
        return []
    return [
        parse_member_line(line, line_no=number)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]


# Corrections to a list already typed: "2. <new line>" replaces line 2, "hapus 2" drops it.
_NUMBERED = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s+(.+)$")
_DELETE = re.compile(r"^\s*(?:hapus|delete|del)\s+(\d{1,2})\s*$", re.IGNORECASE)


def is_list_correction(lines: list[MemberLine], text: str) -> bool:
    """Whether every line of ``text`` reads as a change to the list ("hapus 2", "2. new line"
    or a new household line), so text typed at a question answered by buttons can be taken
    as one rather than as a wrong answer to them ("ok simpan", "mungkin")."""
    raws = [line for line in text.splitlines() if line.strip()]
    if not raws:
        return False
    for raw in raws:
        deleting = _DELETE.match(raw)
        numbered = _NUMBERED.match(raw)
        if deleting:
            if not 1 <= int(deleting.group(1)) <= len(lines):
                return False
        elif numbered and int(numbered.group(1)) <= len(lines):
            if not parse_member_line(numbered.group(2), line_no=1).ok:
                return False
        elif not parse_member_line(raw, line_no=1).ok:
            return False
    return True


# A name typed again counts as the same household from this similarity (0-100): "Siti Aminah"
# and "Siti Aminah" or "Siti Aminnah", not "Siti Rahma".
_SAME_NAME = 88


def is_whole_list_again(lines: list[MemberLine], text: str, *, minimum: int) -> bool:
    """Whether ``text`` reads as the whole member list sent again rather than changes to
    ``lines``: two lines or more, no "hapus N", numbered (if at all) 1, 2, 3 … as a list is,
    and either most of its names already in ``lines`` or a list of ``minimum`` households or
    more with its own ketua while ``lines`` has one. A list numbered exactly over the old one
    replaces it line by line anyway, so that is not asked about."""
    raws = [raw for raw in text.splitlines() if raw.strip()]
    if len(raws) < 2 or not lines:
        return False
    numbered = 0
    for no, raw in enumerate(raws, start=1):
        if _DELETE.match(raw):
            return False
        found = _NUMBERED.match(raw)
        if found and int(found.group(1)) <= len(lines):
            if int(found.group(1)) != no:
                return False  # "2. …" then "5. …": corrections of those lines
            numbered += 1
    if numbered == len(raws) == len(lines):
        return False
    new = [line for line in parse_member_lines(text) if line.name]
    old = [clean(line.name) for line in lines if line.name]
    same = sum(1 for line in new
               if process.extractOne(clean(line.name or ""), old, scorer=fuzz.ratio,
                                     score_cutoff=_SAME_NAME))
    if same >= 2 and same * 2 > len(new):
        return True
    chair = MemberRole.CHAIR.value
    return (len(new) >= minimum and any(line.role == chair for line in new)
            and any(line.role == chair for line in lines))


def apply_list_corrections(lines: list[MemberLine], text: str) -> list[int]:
    """Applies "2. new line", "hapus 2" and new lines to the list; returns the numbers of
    "hapus" lines that name no line (skipped: the rest of what was typed still counts)."""
    skipped = []
    for raw in (line for line in text.splitlines() if line.strip()):
        deleting = _DELETE.match(raw)
        numbered = _NUMBERED.match(raw)
        if deleting:
            no = int(deleting.group(1))
            if not 1 <= no <= len(lines) or lines[no - 1] is None:
                skipped.append(no)
                continue
            lines[no - 1] = None  # type: ignore[call-overload]
        elif numbered and int(numbered.group(1)) <= len(lines):
            no = int(numbered.group(1))
            lines[no - 1] = parse_member_line(numbered.group(2), line_no=no)
        else:
            lines.append(parse_member_line(raw, line_no=len(lines) + 1))
    lines[:] = [line for line in lines if line is not None]
    return skipped


def group_problems(lines: Iterable[object], *, minimum: int, maximum: int) -> list[str]:
    """Problems with a group's membership, considering the valid lines only.

    ``lines`` are :class:`MemberLine` objects or anything with ``name``, ``role`` and ``nik``
    attributes (stored members, for instance); lines with an ``error`` are ignored. Codes, in
    this order: "too_few" / "too_many" (size outside [minimum, maximum]); "missing_<role>" /
    "duplicate_<role>" for each officer role ketua, sekretaris, bendahara (exactly one of
    each is required); "duplicate_name"; "duplicate_nik". Empty when all is well.
    """
    valid = [line for line in lines if getattr(line, "error", None) is None]
    problems: list[str] = []
    if len(valid) < minimum:
        problems.append("too_few")
    elif len(valid) > maximum:
        problems.append("too_many")
    roles = Counter(str(getattr(line, "role", None) or MemberRole.MEMBER.value) for line in valid)
    for role in OFFICER_ROLES:
        if roles[role.value] == 0:
            problems.append(f"missing_{role.value}")
        elif roles[role.value] > 1:
            problems.append(f"duplicate_{role.value}")
    names = Counter(clean(name) for line in valid if (name := getattr(line, "name", None)))
    if any(count > 1 for count in names.values()):
        problems.append("duplicate_name")
    niks = Counter(nik for line in valid if (nik := getattr(line, "nik", None)))
    if any(count > 1 for count in niks.values()):
        problems.append("duplicate_nik")
    return problems
