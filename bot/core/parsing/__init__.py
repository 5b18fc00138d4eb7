"""Parsers for what mentors type: dates, Rupiah amounts, counts, phone numbers, NIKs, member lists.

Mentors type Indonesian (sometimes English) on cheap phones, with abbreviations and typos.
Every parser here is pure, never raises on user text and returns ``None`` when it cannot
understand the input, so the caller can ask again. Nothing here logs its input: the text
may contain personal data (names, NIKs, phone numbers).

One module per subject: :mod:`.dates`, :mod:`.amounts` (and counts), :mod:`.names`,
:mod:`.identity` (phone numbers, NIKs and their masks), :mod:`.numbers` (the one recogniser of
both inside any text, and the mask of free text), :mod:`.members` (member lines and a
group's problems), :mod:`.free_text` (notes, map points), :mod:`.buttons` (a button named by
typing), over :mod:`.common` (tidying, skip words, the never-raise rule). Import from here.
"""

from bot.core.parsing.amounts import (
    MAX_AMOUNT,
    MAX_COUNT_WORDS,
    parse_amount,
    parse_count,
    parse_leading_count,
)
from bot.core.parsing.buttons import fold_label, typed_button
from bot.core.parsing.common import is_skip
from bot.core.parsing.dates import (
    TWO_DIGIT_YEARS_AHEAD,
    nonexistent_date,
    parse_date,
    parse_date_ahead,
    warm_up_dates,
)
from bot.core.parsing.free_text import parse_coordinates, parse_note
from bot.core.parsing.identity import (
    mask_nik,
    mask_phone,
    parse_phone,
    province_codes,
    validate_nik,
)
from bot.core.parsing.members import (
    MemberLine,
    apply_list_corrections,
    group_problems,
    is_list_correction,
    is_whole_list_again,
    parse_member_fields,
    parse_member_line,
    parse_member_lines,
)
from bot.core.parsing.names import parse_group_name, parse_person_name
from bot.core.parsing.numbers import Found, find_numbers, mask_numbers, replace_numbers

__all__ = [
    "MAX_AMOUNT",
    "MAX_COUNT_WORDS",
    "TWO_DIGIT_YEARS_AHEAD",
    "Found",
    "MemberLine",
    "apply_list_corrections",
    "find_numbers",
    "fold_label",
    "group_problems",
    "is_list_correction",
    "is_skip",
    "is_whole_list_again",
    "mask_nik",
    "mask_numbers",
    "mask_phone",
    "nonexistent_date",
    "parse_amount",
    "parse_coordinates",
    "parse_count",
    "parse_date",
    "parse_date_ahead",
    "parse_group_name",
    "parse_leading_count",
    "parse_member_fields",
    "parse_member_line",
    "parse_member_lines",
    "parse_note",
    "parse_person_name",
    "parse_phone",
    "province_codes",
    "replace_numbers",
    "typed_button",
    "validate_nik",
    "warm_up_dates",
]
