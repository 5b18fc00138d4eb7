"""The empty import template: sheets Kelompok, Anggota and Bantuan (headers only, so nothing
is imported by mistake) and Petunjuk, which explains every column and shows an example row of
each sheet.

The template is a file format, the same for every user: its headers, help and guide are
Indonesian data here, not chat texts; the choices of a vocabulary are the bot's Indonesian
labels, which the import reads back.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from bot.core.enums import BindingTie, BusinessType, FundingSource, GrantForm, GrantKind, Stage
from bot.core.texts import label
from models.exchange.workbook import (
    BOLD,
    CONSENT_HEADER,
    CONSENT_YES,
    DATE_FORMAT,
    GRANT_SHEET,
    GROUP_SHEET,
    HEADER_FILL,
    MAX_IMPORT_ROWS,
    MEMBER_SHEET,
)

GUIDE_SHEET = "Petunjuk"


@dataclass(frozen=True)
class TemplateCol:
    header: str
    required: bool
    help: str
    example: Any
    width: int = 18


def _choices(vocabulary: str, values: Iterable[str]) -> str:
    return ", ".join(label("id", vocabulary, value) for value in values)


def _group_template_columns(example_village: str) -> list[TemplateCol]:
    return [
        TemplateCol("Kode desa", True, "Kode Kemendagri desa/kelurahan (13 karakter, mis. "
                    "32.02.11.2002). Harus di dalam wilayah Anda.", example_village, 16),
        TemplateCol("Nama kelompok", True, "Nama KUBE. Kelompok dikenali dari kode desa + nama "
                    "(huruf besar/kecil tidak dibedakan): impor ulang memperbarui, tidak "
                    "menggandakan.", "KUBE Mawar", 24),
        TemplateCol("Jenis usaha", True, "Salah satu: " + _choices("business", BusinessType),
                    "Ternak"),
        TemplateCol("Tahap", True, "Salah satu: " + _choices("stage", Stage), "Tumbuh", 12),
        TemplateCol("Tanggal terbentuk", True, "Tanggal (sel tanggal, atau tulis 25/11/2026).",
                    date(2026, 3, 12), 14),
        TemplateCol("Ikatan pemersatu", False, "Boleh lebih dari satu, pisahkan dengan koma: "
                    + _choices("tie", BindingTie), "Kedekatan tempat tinggal", 28),
        TemplateCol("Interval kunjungan (hari)", False, "Jarak antar kunjungan, 1-365 hari "
                    "(kosong: bawaan sistem).", 30, 12),
        TemplateCol("Pendamping", True, "ID Telegram atau nama lengkap pendamping aktif di "
                    "wilayah Anda.", "Siti Rahma", 20),
    ]


def _member_template_columns(example_village: str) -> list[TemplateCol]:
    return [
        TemplateCol("Kode desa", True, "Kode desa kelompoknya (sama dengan di lembar "
                    "Kelompok).", example_village, 16),
        TemplateCol("Nama kelompok", True, "Nama kelompoknya (sama dengan di lembar Kelompok, "
                    "atau kelompok yang sudah terdaftar).", "KUBE Mawar", 24),
        TemplateCol("Nama KK", True, "Nama kepala keluarga. Anggota dikenali dari kelompok + "
                    "nama: impor ulang memperbarui.", "Siti Aminah", 24),
        TemplateCol("Kategori", True, "Salah satu: fakir miskin, miskin, hampir miskin.",
                    "miskin", 14),
        TemplateCol("Peran", False, "ketua, sekretaris, bendahara atau anggota (kosong: "
                    "anggota). Tiap kelompok tepat satu ketua, satu sekretaris, satu "
                    "bendahara.", "ketua", 12),
        TemplateCol("NIK", False, "16 angka. Format sel sebagai Teks (Excel memotong angka "
                    "panjang).", "3202114507800001", 19),
        TemplateCol("No. HP", False, "Nomor HP Indonesia, mis. 0812-3456-7890.",
                    "0812-3456-7890", 16),
        TemplateCol("Tanggal bergabung", False, "Kosong: hari impor.", None, 14),
        TemplateCol("Tanggal keluar", False, "Isi hanya jika KK ini sudah keluar dari "
                    "kelompok.", None, 14),
        TemplateCol(CONSENT_HEADER, False, "Tulis \"ya\" bila keluarga ini setuju NIK dan "
                    "nomor HP-nya dicatat. Tanpa \"ya\", NIK dan nomor HP yang baru tidak "
                    "disimpan (nama dan kategori tetap).", CONSENT_YES, 12),
        TemplateCol("Jenis kelamin KK", False, "L (laki-laki) atau P (perempuan): kepala "
                    "keluarganya. KK perempuan dihitung tersendiri dalam program.", "P", 11),
        TemplateCol("Terdaftar DTKS/DTSEN", False, "ya, tidak, atau tidak tahu.", "ya", 13),
        TemplateCol("Desil", False, "Desil DTKS/DTSEN 1-10, bila diketahui.", 2, 8),
    ]


def _grant_template_columns(example_village: str) -> list[TemplateCol]:
    return [
        TemplateCol("Kode desa", True, "Kode desa kelompoknya (sama dengan di lembar "
                    "Kelompok).", example_village, 16),
        TemplateCol("Nama kelompok", True, "Nama kelompoknya (di lembar Kelompok, atau "
                    "kelompok yang sudah terdaftar).", "KUBE Mawar", 24),
        TemplateCol("Jenis bantuan", True, "Salah satu: " + _choices("grantkind", GrantKind)
                    + ". (\"stimulan\" dari templat lama juga diterima.)",
                    label("id", "grantkind", GrantKind.UEP), 24),
        TemplateCol("Sumber dana", True, "Salah satu: " + _choices("fund", FundingSource),
                    label("id", "fund", FundingSource.APBN), 16),
        TemplateCol("Bentuk", True, "Salah satu: " + _choices("grantform", GrantForm),
                    label("id", "grantform", GrantForm.CASH), 10),
        TemplateCol("Nilai", False, "Rupiah, angka saja (wajib untuk bantuan tunai).",
                    20_000_000, 14),
        TemplateCol("Barang", False, "Apa yang diberikan (wajib untuk bantuan barang).", None,
                    20),
        TemplateCol("Tanggal diterima", True, "Tanggal (sel tanggal, atau tulis 25/11/2026).",
                    date(2026, 5, 4), 14),
        TemplateCol("Wajib digulirkan?", False, "ya atau tidak (kosong: ya). Bila ya, isi "
                    "sedikitnya satu target gulir dan jatuh temponya.", "ya", 12),
        TemplateCol("Wajib gulir (Rp)", False, "Rupiah yang harus digulirkan.", 10_000_000,
                    14),
        TemplateCol("Wajib gulir (unit)", False, "Jumlah unit (mis. ekor ternak) yang harus "
                    "digulirkan.", None, 12),
        TemplateCol("Satuan", False, "Satuan unit, mis. ekor.", None, 10),
        TemplateCol("Wajib gulir (KK/kelompok)", False, "Jumlah KK atau kelompok penerima "
                    "guliran.", None, 14),
        TemplateCol("Jatuh tempo gulir", False, "Batas waktu pengguliran (wajib bila wajib "
                    "digulirkan).", date(2027, 5, 4), 14),
        TemplateCol("Tanggal LPJ", False, "Tanggal LPJ diserahkan, bila sudah. Bantuan yang "
                    "sudah tercatat (tanggal diterima, jenis dan nilai sama) hanya "
                    "ditambah tanggal LPJ-nya.", None, 14),
    ]


def _guide_intro(min_size: int, max_size: int) -> list[str]:
    return [
        "Cara mengisi templat impor KUBE",
        ("1. Isi lembar Kelompok (satu baris per kelompok) dan lembar Anggota (satu baris per "
         "KK). Kolom bertanda * wajib diisi untuk kelompok/anggota baru."),
        "2. Baris 1 (judul kolom) jangan diubah. Kolom lain boleh ditambahkan; akan diabaikan.",
        ("3. Kirim berkas .xlsx ini ke bot. Bot membalas baris yang diterima dan baris yang "
         "ditolak beserta alasannya. Perbaiki lalu kirim lagi: data yang sama diperbarui, "
         "tidak digandakan."),
        (f"4. Tiap kelompok beranggota {min_size}-{max_size} KK aktif, dengan tepat satu "
         "ketua, satu sekretaris dan satu bendahara."),
        "5. Sel kosong pada kelompok/anggota yang sudah ada berarti: tidak diubah.",
        ("6. Lembar Bantuan (boleh kosong): satu baris per bantuan yang diterima kelompok; "
         "tenggat LPJ dihitung dari tanggal diterima."),
    ]


def _fill_sheet(ws: Any, columns: list[TemplateCol]) -> None:
    """The header row (* on required columns), column widths and formats, and drop-down
    lists for the columns of a vocabulary."""
    for index, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=index, value=col.header + ("*" if col.required else ""))
        cell.font = BOLD
        cell.fill = HEADER_FILL
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = col.width
        if col.header == "NIK" or col.header == "Kode desa":
            ws.column_dimensions[letter].number_format = "@"
        if "Tanggal" in col.header or col.header == "Jatuh tempo gulir":
            ws.column_dimensions[letter].number_format = DATE_FORMAT
    ws.freeze_panes = "A2"
    lists = {"Jenis usaha": _choices("business", BusinessType),
             "Tahap": _choices("stage", Stage),
             "Kategori": "fakir miskin, miskin, hampir miskin",
             "Peran": "ketua, sekretaris, bendahara, anggota",
             "Jenis kelamin KK": "L, P",
             "Terdaftar DTKS/DTSEN": "ya, tidak, tidak tahu",
             "Jenis bantuan": _choices("grantkind", GrantKind),
             "Sumber dana": _choices("fund", FundingSource),
             "Bentuk": _choices("grantform", GrantForm),
             "Wajib digulirkan?": "ya, tidak"}
    for index, col in enumerate(columns, start=1):
        if col.header in lists:
            values = lists[col.header].replace(", ", ",")
            validation = DataValidation(type="list", formula1=f'"{values}"',
                                        allow_blank=True, showErrorMessage=False)
            letter = get_column_letter(index)
            validation.add(f"{letter}2:{letter}{MAX_IMPORT_ROWS + 1}")
            ws.add_data_validation(validation)


def _fill_guide(guide: Any, sheets: list[tuple[str, list[TemplateCol]]], min_size: int,
                max_size: int) -> None:
    """The steps, then every column of every sheet explained, then an example row of each."""
    for letter, width in zip("ABCD", (12, 26, 8, 90), strict=True):
        guide.column_dimensions[letter].width = width
    row = 1
    for line in _guide_intro(min_size, max_size):
        guide.cell(row=row, column=1, value=line).font = BOLD if row == 1 else Font()
        row += 1
    row += 1
    for index, text in enumerate(("Lembar", "Kolom", "Wajib", "Keterangan"), start=1):
        guide.cell(row=row, column=index, value=text).font = BOLD
    row += 1
    for title, columns in sheets:
        for col in columns:
            guide.cell(row=row, column=1, value=title)
            guide.cell(row=row, column=2, value=col.header)
            guide.cell(row=row, column=3, value="ya" if col.required else "tidak")
            cell = guide.cell(row=row, column=4, value=col.help)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            row += 1
    for title, columns in sheets:
        row += 1
        guide.cell(row=row, column=1, value=f"Contoh baris lembar {title}:").font = BOLD
        row += 1
        for index, col in enumerate(columns, start=1):
            guide.cell(row=row + 0, column=index, value=col.header).font = BOLD
            cell = guide.cell(row=row + 1, column=index, value=col.example)
            if isinstance(col.example, date):
                cell.number_format = DATE_FORMAT
        row += 2


def template_workbook(*, example_village: str = "32.02.11.2002", min_size: int = 5,
                      max_size: int = 10) -> bytes:
    """The empty import template (Kelompok, Anggota, Bantuan, Petunjuk) as an .xlsx."""
    workbook = Workbook()
    sheets = [(GROUP_SHEET, _group_template_columns(example_village)),
              (MEMBER_SHEET, _member_template_columns(example_village)),
              (GRANT_SHEET, _grant_template_columns(example_village))]
    for at, (title, columns) in enumerate(sheets):
        ws = workbook.active if at == 0 else workbook.create_sheet(title)
        ws.title = title
        _fill_sheet(ws, columns)
    _fill_guide(workbook.create_sheet(GUIDE_SHEET), sheets, min_size, max_size)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
