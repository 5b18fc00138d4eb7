"""The columns of each exported sheet (headers are the file format: see workbook)."""

from __future__ import annotations

from bot.core.enums import Stage
from bot.core.texts import label
from models.exchange.workbook import CONSENT_HEADER, Col

_PLACE_COLUMNS = [
    Col("Kode provinsi", width=8), Col("Provinsi"),
    Col("Kode kab/kota", width=9), Col("Kabupaten/Kota"),
    Col("Kode kecamatan", width=10), Col("Kecamatan"),
    Col("Kode desa", width=15), Col("Desa/Kelurahan"),
]
# The group a row of a later sheet belongs to, and its village.
_GROUP_OF_ROW = [
    Col("ID kelompok", "int", 8), Col("Nama kelompok"),
    Col("Kode desa", width=15), Col("Desa/Kelurahan"),
]
GROUP_COLUMNS = [
    Col("ID kelompok", "int", 8), Col("Nama kelompok"), *_PLACE_COLUMNS,
    Col("Jenis usaha"), Col("Ikatan pemersatu"), Col("Tanggal terbentuk", "date"),
    Col("Tahap"), Col("Interval kunjungan (hari)", "int", 10),
    Col("Jatuh tempo kunjungan", "date"), Col("Terlambat (hari)", "int", 10),
    Col("Pendamping"), Col("ID Telegram pendamping", "int", 14),
    Col("Anggota aktif (KK)", "int", 10), Col("Lengkap", width=9),
    Col("Status"), Col("Tanggal status", "date"), Col("Alasan status"),
    Col("Bank"), Col("Pemilik rekening"), Col("No. rekening", width=16),
    Col("Tahun SK", "int", 8), Col("Nomor SK"),
]
MEMBER_COLUMNS = [
    Col("ID anggota", "int", 8), *_GROUP_OF_ROW, Col("Nama KK"), Col("Kategori"),
    Col("Peran"), Col("NIK", width=18), Col("No. HP", width=17),
    Col(CONSENT_HEADER, width=10), Col("Tanggal persetujuan", "date"),
    Col("Tanggal bergabung", "date"), Col("Tanggal keluar", "date"),
    Col("Jenis kelamin KK", width=11), Col("DTKS/DTSEN", width=11), Col("Desil", "int", 7),
    Col("Alasan keluar"),
]
VISIT_COLUMNS = [
    Col("ID kunjungan", "int", 8), *_GROUP_OF_ROW, Col("Tanggal kunjungan", "date"),
    Col("Pendamping"), Col("Hadir (KK)", "int", 9), Col("Kegiatan"),
    Col("Omzet", "money"), Col("Keuntungan", "money"), Col("Kas", "money"), Col("IKS", "money"),
    Col("Masalah"), Col("Tindak lanjut"), Col("Kunjungan berikutnya", "date"),
    Col("Lintang", "float"), Col("Bujur", "float"),
    Col("Angka usaha sejak", "date"), Col("Ternak (ekor)", "int", 9),
    Col("Nilai peralatan", "money"), Col("Nilai stok", "money"),
]
GRANT_COLUMNS = [
    Col("ID bantuan", "int", 8), *_GROUP_OF_ROW, Col("Jenis bantuan"), Col("Sumber dana"),
    Col("Bentuk"), Col("Nilai", "money"), Col("Barang"), Col("Tanggal diterima", "date"),
    Col("Wajib gulir (Rp)", "money"), Col("Wajib gulir (unit)", "int", 10), Col("Satuan"),
    Col("Wajib gulir (KK/kelompok)", "int", 12), Col("Jatuh tempo gulir", "date"),
    Col("Sudah digulirkan (Rp)", "money"), Col("Sudah digulirkan (unit)", "int", 12),
    Col("Penerima gulir", "int", 10), Col("Status gulir", width=12),
    Col("Wajib digulirkan?", width=10), Col("Tenggat LPJ", "date"), Col("Status LPJ", width=9),
    Col("Tanggal LPJ", "date"),
]
TRAINING_COLUMNS = [
    Col("ID pelatihan", "int", 8), *_GROUP_OF_ROW, Col("Tanggal", "date"), Col("Topik"),
    Col("Penyelenggara"), Col("KK hadir", "int", 8), Col("Nama KK hadir"),
]
CHANGE_COLUMNS = [
    Col("Tanggal", "date"), *_GROUP_OF_ROW, Col("Jenis perubahan"), Col("Data"),
    Col("Lama"), Col("Baru"), Col("Alasan"), Col("Catatan"), Col("Oleh"),
]
# The Ringkasan sheet: one row per kecamatan (models.reports.DistrictFigures).
SUMMARY_COLUMNS = [
    Col("Kode kecamatan", width=10), Col("Kecamatan"), Col("Kelompok", "int"),
    Col("Aktif", "int"), Col("Tidak aktif", "int"), Col("Bubar", "int"),
    *(Col(label("id", "stage", stage), "int") for stage in Stage),
    Col("Naik tahap", "int"), Col("KK aktif", "int"), Col("KK graduasi", "int"),
    Col("Pelatihan", "int"), Col("KK dilatih", "int"), Col("Kunjungan", "int"),
    Col("Kunjungan tanpa lokasi", "int"), Col("Kunjungan jauh", "int"), Col("Omzet", "money"), Col("Keuntungan", "money"), Col("IKS", "money"),
    Col("Bantuan tanpa LPJ", "int"),
]
ROLLOVER_COLUMNS = [
    Col("ID pengguliran", "int", 8), Col("ID bantuan", "int", 8), *_GROUP_OF_ROW,
    Col("Tanggal", "date"), Col("Jenis penerima"), Col("Penerima"),
    Col("Kode desa penerima", width=15), Col("Desa/Kelurahan penerima"), Col("Nilai", "money"),
    Col("Unit", "int", 8), Col("Catatan"),
]
MENTOR_COLUMNS = [
    Col("ID", "int", 6), Col("Nama"), Col("ID Telegram", "int", 14), Col("No. HP", width=17),
    Col("Unsur"), Col("Peran"), Col("Status"), Col("Kode wilayah", width=15), Col("Wilayah"),
    Col("Kelompok", "int", 9), Col("Terlambat", "int", 9), Col("Tepat waktu", "percent"),
]
