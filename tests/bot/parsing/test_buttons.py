"""A button named by typing (bot.core.parsing.buttons): label, start, word start, number."""

from __future__ import annotations

from bot.core.parsing import typed_button

UNSUR = ["PSM (Pekerja Sosial Masyarakat)", "TKSK", "Karang Taruna", "Organisasi Sosial"]
TICKS = ["▫️ Pemantauan usaha", "✅ Penguatan kelompok", "▫️ Permodalan/akses bank", "Selesai"]


def test_a_typed_label_start_or_number_names_its_button() -> None:
    assert typed_button("tksk", UNSUR, numbers=True) == [1]
    assert typed_button("  Karang   TARUNA ", UNSUR, numbers=True) == [2]
    assert typed_button("kar", UNSUR, numbers=True) == [2]
    assert typed_button("ka", UNSUR, numbers=True) == []  # too short to be a start
    assert typed_button("sosial", UNSUR, numbers=True) == [0, 3]  # a word of two: which one?
    assert typed_button("penguatan", TICKS, numbers=True) == [1]  # marks left off
    assert typed_button("pênguatan", TICKS, numbers=True) == [1]  # accents too
    assert typed_button("pe", TICKS, numbers=True) == []
    assert typed_button("per", TICKS, numbers=True) == [2]
    assert typed_button("akses bank", TICKS, numbers=True) == [2]
    assert typed_button("usaha", TICKS, numbers=True) == [0]
    assert typed_button("uep", ["Bantuan UEP Kemensos", "Bantuan daerah (APBD)"],
                        numbers=True) == [0]
    assert typed_button("#4", TICKS, numbers=True) == [3]
    assert typed_button("2.", TICKS, numbers=True) == [1]
    assert typed_button("9", TICKS, numbers=True) == []  # no ninth button
    assert typed_button("2", TICKS, numbers=False) == []  # where a number is an answer
    assert typed_button("✅", TICKS, numbers=True) == []
    yes_no = ["Ya, ganti", "Tidak"]
    assert typed_button("ya", yes_no, numbers=False) == [0]  # a whole first word, short too
    assert typed_button("Ya!", ["🗑 Ya, buang", "Tidak, lanjutkan"], numbers=False) == [0]
    assert typed_button("y", yes_no, numbers=False) == []
    assert typed_button("x" * 500, TICKS, numbers=True) is None
