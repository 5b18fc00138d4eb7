"""/rekap, /ekspor, /templat and importing a filled template, through the local Bot API server."""

from __future__ import annotations

import io
import re
import shutil

from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main
from bot.core.enums import Role
from models.db import create_engine, create_sessionmaker
from models.tables import AuditLog, Group, Member
from tests import bombs
from tests.conftest import TEST_DATA_KEY
from tests.factories import make_mentor, shown
from tests.models.test_exchange import NIK, add_personal_data, filled_template, workbook
from tests.models.test_reports import REGENCY, seed_area

COORDINATOR = 810001
ADMIN = 900001  # in the settings' admin_ids


def line_of(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


async def asked(chat, command: str, button: str = "Bulan ini") -> list:
    """``command`` (/rekap or /ekspor), then the period's button: what the bot sent after the
    question (the question itself, edited to note the answer, left out)."""
    replies = await chat.send(command)
    question = replies[-1]
    assert "Untuk periode apa?" in question.text
    answered = await chat.press(button)
    return [m for m in answered if m.message_id != question.message_id]


async def test_rekap_for_a_coordinator_counts_lights_and_chart(bot, session):
    await seed_area(session, coordinator_id=COORDINATOR)
    chat = bot.chat(COORDINATOR)
    replies = await asked(chat, "/rekap")
    assert [m.kind for m in replies] == ["text", "photo"]
    text = replies[0].text
    assert "Rekap KUBE – Kab. Sukabumi, Jawa Barat" in text and "25 November 2026" in text
    assert "November 2026 · per 25 November 2026" in text
    assert "Kelompok: 13" in text
    assert "Tahap: Tumbuh 10 · Berkembang 2 · Maju/Mandiri 1" in text
    assert "Lengkap: 11 · belum lengkap: 2" in text
    assert "KK anggota aktif: 89" in text
    assert "fakir miskin 1 · miskin 88 · hampir miskin 0" in text
    assert "Kunjungan dalam periode: 2" in text
    assert "Dikunjungi tepat waktu (kini): 10 dari 13 kelompok aktif (76%)" in text
    assert "Terlambat dikunjungi: 3 kelompok" in text
    assert "Bantuan: 4 (Rp 65.000.000)" in text
    assert "Pengguliran: selesai 1 · sebagian 1 · belum 1 · terlambat 1" in text
    # The period's part: nothing happened in it but the visits, which carry no figures.
    assert "📅 Periode November 2026" in text
    assert "Kelompok per 25 Nov 2026: 13 (aktif 13 · tidak aktif 0 · bubar 0)" in text
    assert "Omzet, keuntungan, IKS: belum ada angka usaha" in text
    mentors = text.split("Pendamping (yang paling perlu dibantu dulu")[1].splitlines()[1:]
    assert mentors == ["🔴 Cici Paramida – 2 kelompok, 50% tepat waktu",
                       "🟡 Budi Santoso – 4 kelompok, 75% tepat waktu",
                       "🟢 Ani Lestari – 7 kelompok, 85% tepat waktu"]
    assert "Cianjur" not in text
    photo = replies[1]
    assert photo.document_bytes[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Kab. Sukabumi" in photo.caption and "November 2026" in photo.caption


async def test_rekap_is_for_staff_and_areas_stay_apart(bot, session):
    area = await seed_area(session, coordinator_id=COORDINATOR)
    mentor = bot.chat(area.mentors["ani"].telegram_id)
    await mentor.send("/rekap")
    assert mentor.last_text() == "Maaf, menu ini bukan untuk peran Anda."

    await make_mentor(session, telegram_id=820001, name="Koor Cianjur", area_code="32.03",
                      role="coordinator")
    other = bot.chat(820001)
    replies = await other.send("/rekap bulan ini")
    text = replies[0].text
    assert "Kab. Cianjur" in text and "Kelompok: 1\n" in text
    assert "Ani Lestari" not in text and "Dedi Cianjur" in text

    admin = bot.chat(ADMIN)
    text = (await asked(admin, "/rekap", "Tahun ini"))[0].text
    assert "Seluruh Indonesia" in text and "Tahun 2026" in text and "Kelompok: 14" in text


async def test_a_coordinator_without_an_area_is_told_so_by_every_area_command(bot, session):
    await make_mentor(session, telegram_id=COORDINATOR, area_code=None, role=Role.COORDINATOR)
    chat = bot.chat(COORDINATOR)
    for command in ("/rekap", "/ekspor", "/templat", "/rekap 2026"):
        replies = await chat.send(command)
        assert [m.text for m in replies] == [
            "Akun koordinator Anda belum punya wilayah kerja. Hubungi admin."], command
    replies = await chat.send_document("isi.xlsx", b"PK\x03\x04 filled")
    assert [m.text for m in replies] == [
        "Akun koordinator Anda belum punya wilayah kerja. Hubungi admin."]
    assert (await session.execute(select(func.count()).select_from(AuditLog).where(
        AuditLog.entity != "mentor"))).scalar_one() == 0


async def test_rekap_of_an_empty_area_has_no_chart(bot, session):
    await make_mentor(session, telegram_id=820002, area_code="73.71", role="coordinator")
    replies = await bot.chat(820002).send("/rekap 2026-Q4")
    assert [m.kind for m in replies] == ["text"]
    assert "Belum ada kelompok KUBE di wilayah ini." in replies[0].text


async def test_rekap_lists_the_worst_mentors_within_telegrams_limit(bot, session):
    from tests.factories import make_group
    from tests.models.test_reports import set_due

    await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY, role="coordinator")
    for no in range(40):
        mentor = await make_mentor(session, name=f"Pendamping Nomor {no:02d} " + "x" * 40,
                                   area_code="32.02.11")
        group = await make_group(session, mentor, name=f"KUBE {no}", members=5)
        if no % 2:
            await set_due(session, group, group.next_visit_due.replace(year=2025))
    text = (await asked(bot.chat(COORDINATOR), "/rekap", "Triwulan lalu"))[0].text
    assert len(text) <= 4096
    assert "🔴" in text.split("Pendamping (yang paling perlu dibantu")[1].splitlines()[1]
    more = re.search(r"… dan (\d+) lainnya", text)
    assert more and int(more.group(1)) + text.count(" kelompok, ") == 40


async def test_ekspor_for_a_coordinator_masks_and_for_an_admin_does_not(bot, session):
    area = await seed_area(session, coordinator_id=COORDINATOR)
    await add_personal_data(session, area.groups[1], area.mentors["ani"])
    chat = bot.chat(COORDINATOR)
    replies = await asked(chat, "/ekspor")
    document = replies[-1]
    assert document.kind == "document"
    assert document.document_name == "rekap-32.02-2026-11.xlsx"
    assert "13 kelompok" in document.caption and "disamarkan" in document.caption
    assert "November 2026" in document.caption
    book = load_workbook(io.BytesIO(document.document_bytes))
    assert book.sheetnames == ["Ringkasan", "Kelompok", "Anggota", "Kunjungan", "Pelatihan",
                               "Riwayat Kelompok", "Bantuan", "Pengguliran", "Pendamping"]
    in_area = Group.village_code.like(REGENCY + ".%")
    groups = (await session.execute(select(func.count()).select_from(Group).where(in_area))
              ).scalar_one()
    members = (await session.execute(
        select(func.count()).select_from(Member).join(Group, Group.id == Member.group_id)
        .where(in_area))).scalar_one()
    assert book["Kelompok"].max_row - 1 == groups == 13
    assert book["Anggota"].max_row - 1 == members
    names = [row[1] for row in book["Kelompok"].iter_rows(min_row=2, values_only=True)]
    assert "KUBE Cianjur" not in names
    headers = [c.value for c in book["Kunjungan"][1]]
    visited = book["Kunjungan"].cell(row=2, column=headers.index("Tanggal kunjungan") + 1)
    assert visited.is_date
    nik_at = [c.value for c in book["Anggota"][1]].index("NIK")
    niks = {row[nik_at] for row in book["Anggota"].iter_rows(min_row=2, values_only=True)} - {None}
    assert niks == {"3202********0001"}
    audit = (await session.execute(select(AuditLog).where(AuditLog.entity == "export"))
             ).scalar_one()
    assert audit.actor_telegram_id == COORDINATOR and audit.new["masked"] is True
    assert audit.new["area"] == REGENCY and audit.new["rows"]["Kelompok"] == 13
    assert audit.new["period"] == "2026-11"

    admin = bot.chat(ADMIN)
    document = (await admin.send("/ekspor 2026"))[-1]
    assert document.document_name == "rekap-indonesia-2026.xlsx"
    book = load_workbook(io.BytesIO(document.document_bytes))
    niks = {row[nik_at] for row in book["Anggota"].iter_rows(min_row=2, values_only=True)} - {None}
    assert niks == {NIK}
    assert book["Kelompok"].max_row - 1 == 14


async def test_templat_sends_the_template(bot, session):
    await make_mentor(session, telegram_id=COORDINATOR, area_code="32.02.12", role="coordinator")
    document = (await bot.chat(COORDINATOR).send("/templat"))[-1]
    assert document.kind == "document" and document.document_name == "templat-impor-kube.xlsx"
    book = load_workbook(io.BytesIO(document.document_bytes))
    assert book.sheetnames == ["Kelompok", "Anggota", "Bantuan", "Petunjuk"]
    guide = [v for row in book["Petunjuk"].iter_rows(values_only=True) for v in row if v]
    assert any(str(value).startswith("32.02.12.") for value in guide)


async def test_import_by_document_answers_taken_and_refused_rows_then_updates(bot, session):
    area = await seed_area(session, coordinator_id=COORDINATOR)
    content = filled_template(area.mentors["ani"])
    chat = bot.chat(COORDINATOR)
    replies = await chat.send_document("kube-sukabumi.xlsx", content)
    text = replies[-1].text
    assert "Impor kube-sukabumi.xlsx selesai." in text
    assert "Kelompok: 2 baru, 0 diperbarui, 0 tetap." in text
    assert "Anggota (KK): 11 baru, 0 diperbarui, 0 tetap." in text
    assert "• Kelompok: baris 2–3" in text and "• Anggota: baris 2–7, 9–13" in text
    assert "Baris yang ditolak: 15" in text
    assert "• Kelompok baris 4: kode desa 32.02.11.9999 tidak dikenal" in text
    assert ("• Kelompok baris 5: Kel. Pamoyanan, Kec. Cianjur, Kab. Cianjur di luar wilayah "
            "Anda (Kab. Sukabumi, Jawa Barat)") in text
    assert "• Kelompok baris 6: KUBE Dua Ketua: ketua lebih dari satu" in text
    assert '• Kelompok baris 7: "Joko Tidak Ada" bukan pendamping aktif di wilayah Anda' in text
    assert '• Kelompok baris 8: tahap "dewasa" tidak dikenal' in text
    assert "• Anggota baris 8: NIK tidak valid" in text
    assert "• Anggota baris 14–19: KUBE Dua Ketua: ketua lebih dari satu" in text
    assert "• Anggota baris 21: kelompok \"KUBE Tidak Ada\"" in text
    groups = (await session.execute(select(func.count()).select_from(Group))).scalar_one()
    members = (await session.execute(select(func.count()).select_from(Member))).scalar_one()

    again = (await chat.send_document("kube-sukabumi.xlsx", content))[-1].text
    assert "Kelompok: 0 baru, 0 diperbarui, 2 tetap." in again
    assert "Anggota (KK): 0 baru, 0 diperbarui, 11 tetap." in again
    assert again.split("Baris yang ditolak:")[1] == text.split("Baris yang ditolak:")[1]
    assert (await session.execute(select(func.count()).select_from(Group))).scalar_one() == groups
    assert (await session.execute(select(func.count()).select_from(Member))
            ).scalar_one() == members
    imports = (await session.execute(select(func.count()).select_from(AuditLog)
                                     .where(AuditLog.entity == "import"))).scalar_one()
    assert imports == 2


async def test_a_long_refusal_list_comes_as_a_text_file(bot, session):
    await seed_area(session, coordinator_id=COORDINATOR)
    rows = [[f"32.02.11.{9000 + no}", f"KUBE Salah {no}", "Ternak", "Tumbuh", "01/01/2026",
             None, None, "Ani Lestari"] for no in range(120)]
    replies = await bot.chat(COORDINATOR).send_document("salah.xlsx", workbook(rows, []))
    assert [m.kind for m in replies] == ["text", "document"]
    assert len(replies[0].text) <= 4096 and "baris lagi" in replies[0].text
    assert replies[1].document_name == "ditolak-salah.txt"
    listing = replies[1].document_bytes.decode("utf-8").splitlines()
    assert len(listing) == 120 and listing[-1].startswith("• Kelompok baris 121:")


async def test_import_is_refused_to_mentors_and_for_unreadable_files(bot, session):
    area = await seed_area(session, coordinator_id=COORDINATOR)
    mentor = bot.chat(area.mentors["ani"].telegram_id)
    await mentor.send_document("kube.xlsx", filled_template(area.mentors["ani"]))
    assert mentor.last_text() == "Maaf, menu ini bukan untuk peran Anda."
    chat = bot.chat(COORDINATOR)
    await chat.send_document("rusak.xlsx", b"PK\x03\x04 demo")
    assert "tidak bisa saya baca sebagai .xlsx" in chat.last_text()
    # 2 MB that would inflate to 1 GB inside the bot's process (issue 14), and entities.
    replies = await chat.send_document("bom.xlsx", bombs.row_bomb())
    assert [m.text for m in replies] == [(
        "Berkas itu terlalu besar setelah dibuka, atau rusak, jadi tidak saya baca. Simpan ulang "
        "di Excel sebagai .xlsx (pakai templat dari /templat), hapus lembar yang tidak perlu, "
        "atau bagi menjadi beberapa berkas.")]
    await chat.send_document("tawa.xlsx", bombs.laughs_strings())
    assert "terlalu besar setelah dibuka" in chat.last_text()
    await chat.send_document("catatan.pdf", b"%PDF-1.4")
    assert "/templat" not in (chat.last_text() or "")
    assert (await session.execute(select(func.count()).select_from(AuditLog)
                                  .where(AuditLog.entity == "import"))).scalar_one() == 0


# --- the operator's commands -----------------------------------------------------------------

def test_cli_export_and_import(template_db, tmp_path, capsys):
    import asyncio

    folder = tmp_path / "demo"
    folder.mkdir()
    shutil.copyfile(template_db, folder / "demo.db")
    # The demo's key file holds the key the seed below encrypts with.
    (folder / "data.key").write_text(TEST_DATA_KEY)
    url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"

    async def seed() -> None:
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            area = await seed_area(session, coordinator_id=COORDINATOR)
            await add_personal_data(session, area.groups[1], area.mentors["ani"])
        await engine.dispose()

    asyncio.run(seed())
    out = tmp_path / "sukabumi.xlsx"
    assert main(["export", "--area", "32.02", "--out", str(out), "--demo",
                 "--folder", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "NIK and phone masked" in printed and "Kelompok 13" in printed
    assert "Ringkasan" not in load_workbook(out).sheetnames  # no period: every date
    book = load_workbook(out)
    nik_at = [c.value for c in book["Anggota"][1]].index("NIK")
    assert {r[nik_at] for r in book["Anggota"].iter_rows(min_row=2, values_only=True)} == {
        None, "3202********0001"}
    assert main(["export", "--area", "32.02", "--out", str(out), "--unmasked", "--demo",
                 "--folder", str(folder)]) == 0
    capsys.readouterr()
    book = load_workbook(out)
    assert NIK in {r[nik_at] for r in book["Anggota"].iter_rows(min_row=2, values_only=True)}

    template = tmp_path / "isi.xlsx"

    async def fill() -> None:
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            from models.mentors import get_by_telegram_id

            ani = await get_by_telegram_id(session=session, telegram_id=COORDINATOR + 1)
            template.write_bytes(filled_template(ani))
        await engine.dispose()

    asyncio.run(fill())
    assert main(["import", str(template), "--actor", str(COORDINATOR), "--demo",
                 "--folder", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "Kelompok: 2 baru" in printed and "• Kelompok baris 4: kode desa" in printed
    assert main(["import", str(template), "--actor", str(COORDINATOR), "--demo",
                 "--folder", str(folder)]) == 0
    assert "Kelompok: 0 baru, 0 diperbarui, 2 tetap." in capsys.readouterr().out
    assert main(["import", str(template), "--actor", str(COORDINATOR + 1), "--demo",
                 "--folder", str(folder)]) == 2
    assert "not an active coordinator" in capsys.readouterr().err
    assert main(["export", "--area", "99.99", "--out", str(out), "--demo",
                 "--folder", str(folder)]) == 2


# --- the period question -----------------------------------------------------------------------

async def test_rekap_asks_the_period_with_presets_and_takes_a_typed_one(bot, session):
    from tests.models.test_reports import seed_outcomes

    area = await seed_area(session, coordinator_id=COORDINATOR)
    await seed_outcomes(session, area)
    chat = bot.chat(COORDINATOR)
    question = (await chat.send("/rekap"))[-1]
    assert question.text.startswith("Untuk periode apa?") and '"Jul–Sep 2026"' in question.text
    assert chat.buttons() == ["Bulan ini (November 2026)", "Bulan lalu (Oktober 2026)",
                              "Triwulan ini (Okt–Des 2026)",
                              "Triwulan lalu (Jul–Sep 2026)",
                              "Tahun ini (2026)", "✏️ Ketik periode lain"]
    hint = await chat.press("✏️ Ketik periode lain")
    assert "Ketik periodenya" in shown(hint)
    replies = await chat.send("Okt–Des 2026")
    # One message: the period as understood, then the report (issue 15).
    text = replies[0].text
    assert text.startswith("✓ Triwulan IV 2026 (Okt–Des)\n\n📊 Rekap KUBE")
    assert "Triwulan IV 2026 (Okt–Des) · per 25 November 2026" in text
    assert "Kelompok per 25 Nov 2026: 13 (aktif 11 · tidak aktif 1 · bubar 1)" in text
    assert "Tahap per 25 Nov 2026: Tumbuh 10 · Berkembang 2 · Maju/Mandiri 1" in text
    assert "Perubahan tahap dalam periode: 4 (naik 3 · turun 1)" in text
    assert "KK graduasi (keluar karena sudah mampu): 1" in text
    assert "Pelatihan: 3 kali, 6 KK dilatih" in text
    assert "Bantuan belum ada LPJ (kini): 3, 2 lewat tenggat" in text
    assert "• Cibadak: Rp 8.000.000 · Rp 1.500.000 · Rp 75.000" in text
    assert "• Nagrak: Rp 2.000.000 · Rp 400.000 · Rp 20.000" in text
    assert text.index("• Cibadak") < text.index("• Nagrak")
    assert "Jumlah: Rp 10.000.000 · Rp 1.900.000 · Rp 95.000" in text
    assert "Kunjungan dalam periode: 3" in text
    assert replies[1].kind == "photo" and "Triwulan IV 2026" in replies[1].caption
    # The question is over: a period typed now is no answer to anything.
    after = await chat.send("2026")
    assert not any("Rekap KUBE" in (m.content or "") for m in after)


async def test_a_bad_typed_period_gets_an_example_and_the_same_question(bot, session):
    await seed_area(session, coordinator_id=COORDINATOR)
    chat = bot.chat(COORDINATOR)
    await chat.send("/rekap")
    for wrong, why in (("kemarin sore", "tidak saya kenali."),
                       ("Desember 2027", "belum dimulai, jadi belum ada yang bisa direkap.")):
        replies = await chat.send(wrong)
        assert f'Periode "{wrong}" {why}' in replies[0].text
        # Every example is a period that has begun, so each one would be taken.
        assert 'Contoh: "Jul–Sep 2026", "Oktober 2026"' in replies[0].text
        assert '"2026"' in replies[0].text and "2027" not in replies[0].text.replace(wrong, "")
        assert replies[-1].text.startswith("Untuk periode apa?")
        assert "Bulan ini (November 2026)" in chat.buttons()
    await chat.send_sticker()
    assert chat.last_text().startswith("Untuk periode apa?")
    replies = await chat.send("Oktober 2026")
    assert replies[0].text.startswith("✓ Oktober 2026\n\n")
    assert "Oktober 2026 · per 25 November 2026" in replies[0].text
    assert "Kunjungan dalam periode: 1" in replies[0].text
    # Typed after the command: wrong gets the question, right answers at once.
    replies = await chat.send("/rekap 2026-13")
    assert 'Periode "2026-13" tidak saya kenali' in replies[0].text
    assert replies[-1].text.startswith("Untuk periode apa?")
    await chat.send("/batal")
    replies = await chat.send("/rekap 2026-Q3")
    assert "Triwulan III 2026 (Jul–Sep) · per" in replies[0].text


async def test_period_buttons_are_checked_and_staff_only(bot, session):
    area = await seed_area(session, coordinator_id=COORDINATOR)
    chat = bot.chat(COORDINATOR)
    await chat.send("/rekap")
    forged = await chat.press_data("rkp:p:abad_ini")  # forged: not a preset
    assert forged == [] and chat.callback_answers()[-1].text
    mentor = bot.chat(area.mentors["ani"].telegram_id)
    await mentor.send("/ekspor")
    assert mentor.last_text() == "Maaf, menu ini bukan untuk peran Anda."
    await mentor.press_data("rkp:p:bulan_ini")  # a button the mentor never got
    assert not [m for m in mentor.messages() if m.kind in ("document", "photo")]
    assert not any("Rekap KUBE" in (m.content or "") for m in mentor.messages())
    # The coordinator's question still answers.
    replies = await chat.press("Bulan lalu")
    assert "Oktober 2026 · per 25 November 2026" in shown(replies)


async def test_ekspor_for_a_typed_period_sends_its_workbook(bot, session):
    from tests.models.test_reports import seed_outcomes

    area = await seed_area(session, coordinator_id=COORDINATOR)
    await seed_outcomes(session, area)
    chat = bot.chat(COORDINATOR)
    await chat.send("/ekspor")
    replies = await chat.send("okt - des 2026")
    document = replies[-1]
    assert document.kind == "document" and document.document_name == "rekap-32.02-2026-Q4.xlsx"
    assert "Triwulan IV 2026 (Okt–Des)" in document.caption
    assert "3 pelatihan" in document.caption
    book = load_workbook(io.BytesIO(document.document_bytes))
    assert book.sheetnames[0] == "Ringkasan"
    summary = book["Ringkasan"]
    assert summary["A1"].value == ("Rekap KUBE Kab. Sukabumi, Jawa Barat, Triwulan IV 2026 "
                                   "(Okt–Des)")
    assert [c.value for c in summary[7]][1:3] == ["Jumlah", 13]
    assert book["Pelatihan"].max_row == 4 and book["Kunjungan"].max_row == 4
    history = [c.value for c in book["Riwayat Kelompok"][1]]
    assert history == ["Tanggal", "ID kelompok", "Nama kelompok", "Kode desa",
                       "Desa/Kelurahan", "Jenis perubahan", "Data", "Lama", "Baru", "Alasan",
                       "Catatan", "Oleh"]
    lpj = [c.value for c in book["Bantuan"][1]]
    assert lpj[-4:] == ["Wajib digulirkan?", "Tenggat LPJ", "Status LPJ", "Tanggal LPJ"]
    for ws in book.worksheets[1:]:
        assert ws.auto_filter.ref and ws.print_title_rows == "$1:$1"


async def test_import_by_document_takes_grants_and_their_lpj(bot, session):
    from tests.models.test_exchange import grant_row

    area = await seed_area(session, coordinator_id=COORDINATOR)
    group = area.groups[0]  # KUBE Ani 0, in 32.02.11.2002
    row = grant_row(group=group.name, kind="stimulan", received="01/09/2026")
    chat = bot.chat(COORDINATOR)
    text = (await chat.send_document("bantuan.xlsx", workbook([], [], [row])))[-1].text
    assert "Bantuan: 1 baru, 0 LPJ ditambahkan, 0 tetap." in text
    assert "• Bantuan: baris 2" in text and "Baris yang ditolak: 0" in text
    row = grant_row(group=group.name, kind="UEP", received="01/09/2026", lpj="20/11/2026")
    text = (await chat.send_document("lpj.xlsx", workbook([], [], [row])))[-1].text
    assert "Bantuan: 0 baru, 1 LPJ ditambahkan, 0 tetap." in text
    from models.tables import Grant

    grants = (await session.execute(select(Grant).where(Grant.group_id == group.id)
                                    .order_by(Grant.id))).scalars().all()
    added = grants[-1]
    await session.refresh(added)
    assert (added.kind, added.lpj_submitted_on.isoformat()) == ("uep", "2026-11-20")
