"""handlers.grant_texts: reading a count of goods with its unit ("10 ekor kambing")."""

from __future__ import annotations

import pytest

from handlers.grant_texts import parse_units


@pytest.mark.parametrize(("text", "expected"), [
    ("10 ekor anak kambing", (10, "ekor anak kambing")),
    ("10ekor", (10, "ekor")),
    ("1.000 bibit lele", (1000, "bibit lele")),
    ("sepuluh ekor kambing", (10, "ekor kambing")),
    ("dua puluh ekor", (20, "ekor")),
    ("10", (10, None)),
    ("  3   karung  beras ", (3, "karung beras")),
    # Number words as every count question reads them (they stopped at 99 here).
    ("seratus ekor ayam", (100, "ekor ayam")),
    ("dua ratus lima puluh batang bibit", (250, "batang bibit")),
    ("Seribu bibit lele", (1000, "bibit lele")),
    ("twenty-one sacks", (21, "sacks")),
])
def test_parse_units(text, expected):
    assert parse_units(text) == expected


@pytest.mark.parametrize("text", ["", "ekor kambing", "0 ekor", "1,5 ton", "10 12",
                                  "200000 ekor", "banyak"])
def test_parse_units_refuses(text):
    assert parse_units(text) is None
