"""bot.core.parsing.free_text: a note typed freely and a map point copied as text."""

from __future__ import annotations

from bot.core.parsing import parse_coordinates, parse_note


def test_a_note_is_tidied_and_needs_a_letter_or_digit() -> None:
    assert parse_note("  Harga  pakan naik\n\n  2 anggota   jarang hadir ") == (
        "Harga pakan naik\n2 anggota jarang hadir")
    assert parse_note(" ... !!") is None
    assert parse_note("   ") is None


def test_coordinates_as_copied_from_a_map() -> None:
    assert parse_coordinates("-6.8937, 106.7846") == (-6.8937, 106.7846)
    assert parse_coordinates("-6.8937;106.7846") == (-6.8937, 106.7846)
    assert parse_coordinates("95.1, 10.2") is None  # no such latitude
    assert parse_coordinates("Desa Cibadak") is None
