"""bot.core.parsing.numbers, the one recogniser of NIKs and phone numbers in text, and every place
that hides them with it: note masking, the masked export's notes and the log filter."""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

import pytest
from hypothesis import given, settings

from bot.core.parsing import find_numbers, mask_nik, mask_numbers, parse_phone
from bot.logs import RedactingFilter
from models.exchange.export import _Export
from tests.bot.strategies import PROPS, sentences_with_numbers

# The forms of issue 14, which escaped masking and the log filter.
ISSUE = [("(0812) 5555-6666", "phone", "+6281255556666", "0812******66"),
         ("0812/7777/8888", "phone", "+6281277778888", "0812******88"),
         ("+62 (813) 2222 9999", "phone", "+6281322229999", "6281*******99"),
         ("3202 - 1145 - 0780 - 0004", "nik", "3202114507800004", "3202********0004")]


def logged(message: str, *args: object) -> str:
    """What one DEBUG record writes through the project's filter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter([]))
    logger = logging.getLogger("tests.numbers")
    logger.propagate, level = False, logger.level
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug(message, *args)
    finally:
        logger.handlers[:] = []
        logger.setLevel(level)
    return out.getvalue().rstrip("\n")


def export_note(text: str) -> str | None:
    """A note as the masked export writes it."""
    return _Export.note(SimpleNamespace(masked=True), text)  # type: ignore[arg-type]


@pytest.mark.parametrize(("written", "kind", "value", "masked"), ISSUE)
def test_the_forms_of_issue_14_are_found_and_hidden_everywhere(written, kind, value, masked):
    text = f"Bu Siti, {written}, modal Rp 15.000.000 sejak 12-03-2026"
    [found] = find_numbers(text)
    assert (found.kind, found.value, text[found.start:found.end]) == (kind, value, written)
    assert mask_numbers(text) == f"Bu Siti, {masked}, modal Rp 15.000.000 sejak 12-03-2026"
    assert export_note(text) == mask_numbers(text)
    hidden = "****************" if kind == "nik" else "+62***"
    assert logged("note: %s", text) == (
        f"note: Bu Siti, {hidden}, modal Rp 15.000.000 sejak 12-03-2026")


@pytest.mark.parametrize("text", [
    "Rp 15.000.000", "Rp 1.500.000,-", "15.000.000", "Rp 150.000.000", "Rp 812.500.000",
    "2026", "12-03-2026", "12/03/2026", "2026-03-12", "12.03.2026", "12/03/2026 - 15/03/2026",
    "2026-11-25 03:00:00", "jam 10.30", "7 orang", "update 700001 from 123456789",
    "chat 7001234567 user 812345678", "ids 700001 123456789 6212345678 6281234567",
    "-1001234567890", "1733560000.123456", "Rp 2500000", "kas 15.000.000 sejak 2026-03-12",
])
def test_amounts_dates_ids_and_counts_are_no_numbers_to_hide(text):
    assert find_numbers(text) == []
    assert mask_numbers(text) == text
    assert logged("%s", text) == text


@pytest.mark.parametrize(("text", "masked"), [
    # Run together with a date, an amount, a time or a word, or two in a row.
    ("12/03/2026 0812-5555-6666", "12/03/2026 0812******66"),
    ("0812 5555 6666 12/03/2026", "0812******66 12/03/2026"),
    ("Rp 15.000.000 0812 5555 6666", "Rp 15.000.000 0812******66"),
    ("jam 10.30 0812 5555 6666", "jam 10.30 0812******66"),
    ("HP0812-5555-6666", "HP0812******66"),
    ("3201014112900001 081234567890", "3201********0001 0812******90"),
    ("(3202114507800004)", "(3202********0004)"),
    # A NIK of no province, or a digit short or too many, is hidden all the same.
    ("NIK 2001 0141 1290 0001", "NIK 2001********0001"),
    ("NIK 3201 0141 1290 00011", "NIK 3201***********11"),
    # +62 (0), a landline, the national number alone, a no-break space, an en dash.
    ("+62 (0) 812 9876 5432", "6208********32"),
    ("(021) 555-1234", "0215****34"),
    ("812 9876 5432", "8129*****32"),
    ("0812\u00a05555\u00a06666", "0812******66"),
    ("0812 – 5555 – 6666", "0812******66"),
])
def test_numbers_however_they_are_run_together(text, masked):
    assert mask_numbers(text) == masked


def test_a_kept_phone_stays_as_written_however_it_is_written():
    keep = ("+6281234567890",)
    text = "Hubungi saya 0812-3456-7890 atau +62 812 3456 7890, bukan 0812 9876 5432 (NIK 3202011203850001)."
    assert mask_numbers(text, keep=keep) == (
        "Hubungi saya 0812-3456-7890 atau +62 812 3456 7890, bukan 0812******32 "
        "(NIK 3202********0001).")


@settings(PROPS, max_examples=60)
@given(sentences_with_numbers())
def test_every_place_finds_exactly_the_numbers_and_keeps_the_rest(sentence):
    pieces, numbers = sentence
    text = "".join(pieces)
    for kind, value, written in numbers:  # the forms are ones the bot itself accepts
        assert (parse_phone(written) if kind == "phone" else written.replace(" ", "")
                and value) == value, written

    found = find_numbers(text)
    assert [(f.kind, f.value, text[f.start:f.end]) for f in found] == numbers, text

    def expected(hide) -> str:
        # The sentence with each number, and nothing else, replaced.
        numbered = dict(zip(range(1, 2 * len(numbers), 2), numbers, strict=True))
        return "".join(hide(*numbered[at]) if at in numbered else piece
                       for at, piece in enumerate(pieces))

    def masked(kind: str, value: str, written: str) -> str:
        digits = "".join(ch for ch in written if ch.isdigit())
        return mask_nik(value) if kind == "nik" else digits[:4] + "*" * (len(digits) - 6) \
            + digits[-2:]

    assert mask_numbers(text) == expected(masked)
    assert export_note(text) == expected(masked)
    assert logged("catatan kunjungan: %s", text) == "catatan kunjungan: " + expected(
        lambda kind, *_: "****************" if kind == "nik" else "+62***")
