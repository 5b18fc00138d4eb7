"""The words of an Excel import (handlers.exchange_words): the report, the refused rows, and
a text for every reason the import can give, in both languages."""

from __future__ import annotations

import pytest

from bot.core.texts import LANGUAGES
from handlers import exchange_words
from models import exchange


def test_row_ranges():
    assert exchange_words.row_ranges([7, 2, 3, 4, 9, 10]) == "2–4, 7, 9–10"
    assert exchange_words.row_ranges([]) == ""


def test_refusal_lines_share_a_line_for_neighbouring_rows_with_the_same_reasons():
    report = exchange.ImportReport()
    for row in (3, 4, 5, 7):
        report.refuse("Anggota", row, "nik")
    report.refuse("Anggota", 6, "phone")
    report.refuse("Kelompok", 2, "village_unknown", code="32.02.11.9999")
    assert exchange_words.refusal_lines(report, "id") == [
        "• Kelompok baris 2: kode desa 32.02.11.9999 tidak dikenal",
        "• Anggota baris 3–5: NIK tidak valid (harus 16 angka NIK yang benar)",
        "• Anggota baris 6: nomor HP tidak terbaca",
        "• Anggota baris 7: NIK tidak valid (harus 16 angka NIK yang benar)",
    ]


@pytest.mark.parametrize("code", list(exchange.RefusalCode))
def test_every_refusal_reason_has_words_in_every_language(code):
    reason = exchange.Reason(code, "Tanggal terbentuk", {
        "code": "32.02.11.9999", "village": "Desa", "area": "Wilayah", "value": "x", "row": 2,
        "count": 3, "name": "Siti", "min": 5, "max": 10, "group": "KUBE Mawar"})
    for lang in LANGUAGES:
        assert f"rep.reason.{code}" in LANGUAGES[lang]
        assert exchange_words.reason_text(reason, lang)


@pytest.mark.parametrize("code", list(exchange.FileProblem))
def test_every_file_problem_has_words_in_every_language(code):
    error = exchange.ImportFileError(code, sheet="Kelompok", column="Kode desa", max=5000,
                                     max_mb=10)
    for lang in LANGUAGES:
        assert f"rep.file.{code}" in LANGUAGES[lang]
        assert exchange_words.file_error_text(error, lang)
