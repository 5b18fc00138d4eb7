"""The terminal demo, driven by a script on stdin against the tiny echo bot."""

from __future__ import annotations

import asyncio
import io
import os
from functools import partial
from pathlib import Path

from bot.demo import _image_extension, run_demo
from tests.bot.localapi.echo import ADMIN, USER, build_echo_app

SCRIPT = """\
/start KODE
#9
#1
!admin
halo dari admin
!mentor
/kontak
!kontak
!lokasi -6.91 107.61
!foto
#1
!persona 555 Budi Santoso
/laporan
!bantu
!tidakada
"""


async def test_scripted_demo_transcript() -> None:
    out = io.StringIO()
    await asyncio.wait_for(
        run_demo(partial(build_echo_app, admin_id=ADMIN), admin_id=ADMIN, mentor_id=USER,
                 stdin=io.StringIO(SCRIPT), stdout=out),
        timeout=20,
    )
    transcript = out.getvalue()
    lines = transcript.splitlines()

    assert "\033[" not in transcript  # plain text when stdout is not a terminal
    assert "terminal demo" in transcript and "!keluar" in transcript
    assert "Siti Rahma > /start KODE" in lines
    assert "[bot -> Siti Rahma (pendamping/mentor)] Halo Siti! Kode: KODE" in lines
    assert "    [1] Setujui  [2] Tolak" in lines
    assert "    [3] Sama saja" in lines
    # The approval request to the admin is shown although the mentor is the active persona.
    assert ("[bot -> Admin KUBE (admin) [persona lain / other persona]] "
            "Permintaan persetujuan dari Siti") in lines
    # "#1" pressed Setujui: an edit and the callback notice.
    assert "[bot -> Siti Rahma (pendamping/mentor)] (diubah / edited) Disetujui ✅" in lines
    assert any("notifikasi / notice" in line and "Disetujui" in line for line in lines)

    assert "Admin KUBE > halo dari admin" in lines
    assert "[bot -> Admin KUBE (admin)] Kamu menulis: halo dari admin" in lines

    assert "    keyboard: [1] Bagikan nomor HP -> !kontak | [2] Batal" in lines
    assert ("[bot -> Siti Rahma (pendamping/mentor)] Nomor diterima: +6281234567890 "
            "(milik sendiri: True)") in lines
    assert "    (keyboard ditutup / keyboard removed)" in lines
    assert "[bot -> Siti Rahma (pendamping/mentor)] Lokasi: -6.91, 107.61" in lines
    assert "[bot -> Siti Rahma (pendamping/mentor)] [lokasi / location] -6.91, 107.61" in lines
    assert any(line.startswith("[bot -> Siti Rahma (pendamping/mentor)] Foto diterima:")
               for line in lines)
    assert "Tombol 1-3 saja / only buttons 1-3." in lines
    assert "Tidak ada tombol / no buttons to press." in lines  # the edit removed the keyboard

    assert any(line.startswith("Sekarang Anda / you are now: Budi Santoso") for line in lines)
    assert ("[bot -> Budi Santoso (pengguna/user)] [dokumen / document] laporan.csv "
            f"({len(build_echo_app.__globals__['REPORT_BYTES'])} byte)") in lines
    assert "    Laporan bulanan" in lines
    assert "Perintah tidak dikenal / unknown command: !tidakada. Ketik / type !bantu" in lines
    # EOF ends the demo after the last answer, without "!keluar".
    assert "Sampai jumpa! / Goodbye!" not in transcript
    assert lines[-1].startswith("Perintah tidak dikenal")


async def test_demo_reads_a_pipe_and_quits_on_keluar() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(write_fd, "w", encoding="utf-8") as writer:
        writer.write("halo\n!keluar\nini tidak dikirim\n")
    out = io.StringIO()
    with os.fdopen(read_fd, encoding="utf-8") as stdin:
        await asyncio.wait_for(
            run_demo(build_echo_app, admin_id=ADMIN, mentor_id=USER, stdin=stdin, stdout=out),
            timeout=20,
        )
    lines = out.getvalue().splitlines()
    assert "[bot -> Siti Rahma (pendamping/mentor)] Kamu menulis: halo" in lines
    assert lines[-1] == "Sampai jumpa! / Goodbye!"
    assert "ini tidak dikirim" not in out.getvalue()


async def test_demo_presses_keyboard_buttons_saves_files_and_sends_one(tmp_path: Path) -> None:
    upload = tmp_path / "anggota.xlsx"
    upload.write_bytes(b"PK\x03\x04 daftar")
    script = f"/kontak\n#2\n/kontak\n#1\n/laporan\n!kirim {upload}\n!kirim tidak-ada.xlsx\n"
    out = io.StringIO()
    await asyncio.wait_for(
        run_demo(build_echo_app, admin_id=ADMIN, mentor_id=USER, stdin=io.StringIO(script),
                 stdout=out, files_dir=tmp_path / "files"),
        timeout=20,
    )
    lines = out.getvalue().splitlines()
    # #2 on the reply keyboard sends its text; #1 shares the contact it asks for.
    assert "[bot -> Siti Rahma (pendamping/mentor)] Kamu menulis: Batal" in lines
    assert ("[bot -> Siti Rahma (pendamping/mentor)] Nomor diterima: +6281234567890 "
            "(milik sendiri: True)") in lines
    saved = list((tmp_path / "files").iterdir())
    assert [path.read_bytes() for path in saved] == [
        build_echo_app.__globals__["REPORT_BYTES"]]
    assert saved[0].name.endswith("laporan.csv")
    assert f"    -> disimpan / saved: {saved[0]}" in lines
    assert ("[bot -> Siti Rahma (pendamping/mentor)] Dokumen diterima: anggota.xlsx "
            f"({upload.stat().st_size} byte)") in lines
    assert lines[-1].startswith("Berkas tidak ada / no such file: tidak-ada.xlsx")


def test_a_saved_photo_is_named_by_what_it_holds() -> None:
    """The /rekap chart comes as bytes, which python-telegram-bot names after the mime type."""
    assert _image_extension(b"\x89PNG\r\n\x1a\n...", "application/octet-stream") == ".png"
    assert _image_extension(b"\xff\xd8\xff\xe0...", None) == ".jpg"
    assert _image_extension(b"??", "image/png") == ".png"
    assert _image_extension(b"??", "application/octet-stream") == ".jpg"
