"""What a visit's answers are read with, wherever they are typed: when it is logged
(/kunjungan) and when it is corrected (handlers.visit_correction)."""

from __future__ import annotations

from bot.core.parsing import parse_leading_count

MAX_TEXT = 1000  # a note (problems, follow-up): longer is cut, not refused
MAX_LIVESTOCK = 100_000


def read_livestock(text: str) -> int | None:
    """"12", "12 ekor", "dua belas ekor kambing": the head of livestock."""
    read = parse_leading_count(text, minimum=0, maximum=MAX_LIVESTOCK)
    return None if read is None or any(ch.isdigit() for ch in read[1]) else read[0]
