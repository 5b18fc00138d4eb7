"""The newcomer's walk through the real demo: sign up, approval, a KUBE of 7, a visit, lists."""

from __future__ import annotations

import http.client
import io
import re
import time
from urllib.parse import urlsplit

import pytest

from bot.app import build_application
from bot.commands import DEMO_ADMIN_ID, DEMO_MENTOR_ID
from bot.demo import run_demo
from bot.web.server import free_port

MEMBERS = [
    "Siti Aminah; miskin; ketua", "Budi Santoso; fakir miskin; sekretaris",
    "Rina Wati; hampir miskin; bendahara", "Joko Susilo; miskin; anggota",
    "Dewi Lestari; miskin; anggota", "Agus Salim; fakir miskin; anggota",
    "Nur Hayati; miskin; anggota",
]
SCRIPT = [
    "/start", "Siti Rahma", "!kontak", "#1", "cibadak", "#1",
    "!admin", "#1", "!mentor",
    "/tambah_kelompok", "KUBE Mawar Sejahtera", "sekarwangi", "#1", "#1", "#1", "#5", "#7",
    "12/03/2026", "#1", *[line + "\\" for line in MEMBERS[:-1]], MEMBERS[-1], "#1",
    "/kunjungan", "#1", "#1", "6", "#2", "#3", "#9", "#1", "1,5 jt", "250rb", "-", "50rb", "#2",
    "Pembukuan belum rapi", "Latih bendahara menulis buku kas", "!lokasi -6.89 106.78",
    "!foto", "#1", "#1", "#1", "/kelompok", "/riwayat", "!keluar",
]


@pytest.mark.sqlite_only  # the README's walk: what it shows, not which database is under it
async def test_newcomer_walkthrough(settings):
    settings.admin_ids = [DEMO_ADMIN_ID]
    out = io.StringIO()
    await run_demo(lambda base_url: build_application(settings, base_url=base_url),
                   admin_id=DEMO_ADMIN_ID, mentor_id=DEMO_MENTOR_ID,
                   stdin=io.StringIO("\n".join(SCRIPT) + "\n"), stdout=out)
    transcript = out.getvalue()
    assert "menunggu persetujuan admin" in transcript
    assert "Disetujui oleh" in transcript and "sudah disetujui" in transcript
    assert "KUBE Mawar Sejahtera tersimpan dengan 7 KK" in transcript
    assert "📍 Lokasi tercatat" in transcript and "Omzet: Rp 1.500.000" in transcript
    assert "✅ Tersimpan!" in transcript
    listing = transcript[transcript.rindex("> /kelompok"):]
    assert "Kunjungan terakhir: 25 November 2026" in listing
    assert "Jadwal berikutnya: 25 Desember 2026" in listing
    history = transcript[transcript.rindex("> /riwayat"):]
    assert "25 Nov 2026 – KUBE Mawar Sejahtera" in history and "Hadir 6 KK" in history
    assert "Traceback" not in transcript


# The README's coordinator walk, in its order: the admin invites a coordinator who is not
# using the bot yet; she joins by the link (no unsur); she invites two mentors.
COORDINATOR_SCRIPT = [
    "!admin", "/koordinator", "#1", "sukabumi", "#1", "#1",
    "!persona 800001 Budi", "!buka", "Budi Hartono", "!kontak", "#1", "/undang 2 7",
    "!persona 810001 Ani", "!buka", "Ani Suryani", "!kontak", "#1", "cibadak", "#1",
    "!persona 810002 Dedi", "!buka", "Dedi Kurniawan", "!kontak", "#2", "parakansalak", "#1",
    "!persona 820001 Rudi", "/start", "Rudi Makassar", "!kontak", "#1", "mariso", "#1",
    "!admin", "#1",
    "!persona 800001 Budi", "/siaran", "Selamat pagi {nama}, laporan ditunggu Jumat.", "#1",
    "#1", "!tunggu 2", "/rekap", "#4", "/ekspor", "#1",
    "!persona 820001 Rudi", "/rekap", "!keluar",
]


@pytest.mark.sqlite_only
async def test_coordinator_walkthrough(settings):
    settings.admin_ids = [DEMO_ADMIN_ID]
    out = io.StringIO()
    await run_demo(lambda base_url: build_application(settings, base_url=base_url),
                   admin_id=DEMO_ADMIN_ID, mentor_id=DEMO_MENTOR_ID,
                   stdin=io.StringIO("\n".join(COORDINATOR_SCRIPT) + "\n"), stdout=out)
    transcript = out.getvalue()
    assert "Budi Hartono sudah bergabung lewat tautan undangan dan sekarang koordinator untuk " \
        "Kab. Sukabumi" in transcript
    budi = transcript[transcript.index("Budi > !buka"):transcript.index("Budi > /undang")]
    assert "Anda sekarang koordinator untuk Kab. Sukabumi" in budi and "unsur" not in budi
    assert transcript.count("langsung aktif lewat undangan") == 2
    assert "Ani (pengguna/user) [persona lain / other persona]] Selamat pagi Ani Suryani, laporan" in transcript
    assert "Selamat pagi Dedi Kurniawan, laporan ditunggu Jumat." in transcript
    assert "Rudi Makassar, laporan" not in transcript  # another regency hears nothing
    assert "2 dari 2 terkirim" in transcript
    assert "📊 Rekap KUBE – Kab. Sukabumi" in transcript
    assert "Untuk periode apa?" in transcript and "Triwulan lalu (" in transcript
    assert "rekap-32.02-" in transcript and ".xlsx" in transcript
    rudi = transcript[transcript.rindex("Rudi > /rekap"):]
    assert "bukan untuk peran Anda" in rudi
    assert "Traceback" not in transcript


# The programme's life cycle after the newcomer's walk (the README's second walk): the stage
# moves, the group pauses and comes back, a training, a grant whose LPJ is handed in, and last
# quarter's /rekap. Button numbers as the README gives them.
PROGRAMME_SCRIPT = [
    *SCRIPT[:SCRIPT.index("/kunjungan")],
    "/kelompok", "#1", "#1",
    "#10", "#2", "Laba sudah dibagi dan sebagian jadi modal", "#1",  # 🌱 Tahap → Berkembang
    "#9", "#1", "#3", "#1", "#1", "#1",  # 🚦 Status → Tidak aktif, Bencana, hari ini, Simpan
    "#9", "#1", "#1", "#1", "#1",  # 🚦 Status → Aktif kembali, hari ini, Simpan
    "#7", "#1", "Membuat pakan ternak fermentasi", "Dinas Sosial Kab. Sukabumi", "#1", "#1",
    "#1", "#5", "#1", "#1", "15 jt", "1 September 2026", "#2", "#1",  # bantuan, tidak wajib
    "#1", "#1", "#1",  # 🔎 Lihat bantuan → 📝 LPJ sudah diserahkan → hari ini
    "!admin", "/rekap", "#4", "!keluar",  # Triwulan lalu
]


@pytest.mark.sqlite_only
async def test_programme_walkthrough(settings):
    settings.admin_ids = [DEMO_ADMIN_ID]
    out = io.StringIO()
    await run_demo(lambda base_url: build_application(settings, base_url=base_url),
                   admin_id=DEMO_ADMIN_ID, mentor_id=DEMO_MENTOR_ID,
                   stdin=io.StringIO("\n".join(PROGRAMME_SCRIPT) + "\n"), stdout=out)
    transcript = out.getvalue()
    assert "• Berkembang: keuntungan dipakai untuk modal dan dibagi ke anggota" in transcript
    assert "✅ Tahap KUBE Mawar Sejahtera: Tumbuh → Berkembang." in transcript
    assert "✅ Status KUBE Mawar Sejahtera sekarang Tidak aktif (sejak 25 November 2026)." \
        in transcript
    assert "✅ Status KUBE Mawar Sejahtera sekarang Aktif (sejak 25 November 2026)." in transcript
    assert "Pelatihan \"Membuat pakan ternak fermentasi\" untuk KUBE Mawar Sejahtera" \
        in transcript and "(7 KK ikut)" in transcript
    assert "Bantuan ini tidak wajib digulirkan." in transcript
    assert "LPJ: belum diserahkan, batas 1 Desember 2026 (sisa 6 hari)" in transcript
    assert "LPJ Bantuan UEP Kemensos – KUBE Mawar Sejahtera diserahkan 25 November 2026" \
        in transcript
    report = transcript[transcript.rindex("📊 Rekap KUBE"):]
    assert "Triwulan III 2026 (Jul–Sep)" in report
    # On 30 September the group was still Tumbuh: the stage moved in November.
    assert "Tahap per 30 Sep 2026: Tumbuh 1 · Berkembang 0 · Maju/Mandiri 0" in report
    assert "Bantuan belum ada LPJ (kini): 0" in report
    assert "Traceback" not in transcript


class _OpensTheDashboardLink:
    """stdin for the demo: "!admin", "/dasbor", then, once the link is printed, opens it as a
    browser on this machine would (from the reader's thread, while the demo runs) and quits."""

    def __init__(self, out: io.StringIO) -> None:
        self.out = out
        self.lines = ["!admin\n", "/dasbor\n"]
        self.link: str | None = None
        self.status: int | None = None

    def readline(self) -> str:
        if self.lines:
            return self.lines.pop(0)
        if self.status is not None:
            return ""
        deadline = time.monotonic() + 20
        while (found := re.search(r"http://\S+/masuk\?t=\S+", self.out.getvalue())) is None:
            if time.monotonic() > deadline:
                return "!keluar\n"
            time.sleep(0.02)
        self.link = found.group(0)
        parts = urlsplit(self.link)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("GET", f"{parts.path}?{parts.query}")
        self.status = connection.getresponse().status
        connection.close()
        return "!keluar\n"


@pytest.mark.sqlite_only
async def test_the_demo_prints_a_dashboard_link_that_opens_in_a_browser(settings):
    settings.admin_ids = [DEMO_ADMIN_ID]
    settings.dashboard_port = free_port("127.0.0.1", 0)
    out = io.StringIO()
    stdin = _OpensTheDashboardLink(out)
    await run_demo(lambda base_url: build_application(settings, base_url=base_url),
                   admin_id=DEMO_ADMIN_ID, mentor_id=DEMO_MENTOR_ID, stdin=stdin, stdout=out)
    transcript = out.getvalue()
    assert f"Dasbor / dashboard: http://127.0.0.1:{settings.dashboard_port}" in transcript
    assert stdin.link.startswith(f"http://127.0.0.1:{settings.dashboard_port}/masuk?t=")
    assert "sekali, berlaku 15 menit" in transcript
    assert stdin.status == 302  # signed in: on to the page
    assert "Traceback" not in transcript
