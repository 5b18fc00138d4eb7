"""/hibah (a grant is "bantuan" in chat), the grant's view and its LPJ, and the grants on the
group card, through the real Application."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import ReminderStatus, Role
from models.tables import AuditLog, Grant, Reminder
from tests.factories import (
    DISTRICT_ELSEWHERE,
    REGENCY_SUKABUMI,
    make_grant,
    make_group,
    make_mentor,
    rows,
    shown,
    stored_draft,
)
from tests.harness import ChatUser

MENTOR = 700401
OTHER = 700402
COORDINATOR = 700403
TODAY = date(2026, 11, 25)
FORMED = date(2026, 1, 10)
KINDS = ["Bantuan UEP Kemensos", "Bantuan daerah (APBD)", "BLPS (program lama)", "CSR/lainnya"]


async def mentor_with_group(session: AsyncSession) -> int:
    """The mentor MENTOR with one group, KUBE Mawar (formed 10 January 2026); its id."""
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    return group.id


async def grants(session: AsyncSession) -> list[Grant]:
    return await rows(session, Grant)


async def draft(session: AsyncSession) -> dict | None:
    return await stored_draft(session, MENTOR, "grant")



async def to_amount(chat: ChatUser, form: str = "Tunai") -> None:
    await chat.send("/hibah")
    await chat.press("KUBE Mawar")
    await chat.press("Bantuan UEP Kemensos")
    await chat.press(form)


async def to_received(chat: ChatUser) -> None:
    await to_amount(chat)
    await chat.send("20 jt")


async def to_obligation(chat: ChatUser) -> None:
    await to_received(chat)
    await chat.press("📅 Hari ini")
    await chat.press("Ya")  # wajib digulirkan


async def to_due(chat: ChatUser) -> None:
    await to_obligation(chat)
    await chat.send("10jt")
    await chat.press("Lewati")  # units
    await chat.send("-")  # households


async def to_summary(chat: ChatUser) -> None:
    await to_due(chat)
    await chat.press("Pakai ")


# --- whole grants --------------------------------------------------------------------------------

async def test_the_group_may_be_typed_at_the_first_question(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await chat.send("/hibah")
    replies = await chat.send("xy")  # too short to name anything
    assert 'Contoh: tekan "KUBE Mawar"' in shown(replies)
    replies = await chat.send("mawar")
    assert "Catat bantuan untuk KUBE Mawar" in shown(replies)
    assert chat.buttons() == KINDS


async def test_cash_grant_with_a_rollover_amount(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)

    replies = await chat.send("/hibah")
    assert "Bantuan untuk kelompok mana?" in shown(replies)
    assert chat.buttons() == ["KUBE Mawar"]
    replies = await chat.press("KUBE Mawar")
    assert "Catat bantuan untuk KUBE Mawar" in shown(replies)
    assert chat.buttons() == KINDS
    await chat.press("Bantuan UEP Kemensos")  # the funding source follows from the kind
    assert "Bantuannya berupa uang tunai atau barang?" in chat.last_text()
    assert chat.buttons() == ["Tunai", "Barang"]
    await chat.press("Tunai")
    assert "Berapa rupiah bantuan" in chat.last_text() and "Contoh:" in chat.last_text()
    replies = await chat.send("Rp 20.000.000")
    assert "✓ Rp 20.000.000" in shown(replies)
    assert "Kapan bantuan diterima" in chat.last_text()
    replies = await chat.press("📅 Hari ini")
    assert "25 November 2026" in shown(replies)
    assert "Apakah bantuan ini wajib digulirkan" in chat.last_text()
    assert chat.buttons() == ["Ya", "Tidak"]
    await chat.press("Ya")
    assert "1 dari 3" in chat.last_text()
    await chat.send("10 jt")
    assert "2 dari 3" in chat.last_text()
    await chat.press("Lewati")
    assert "3 dari 3" in chat.last_text()
    await chat.send("-")
    assert "Sampai kapan" in chat.last_text() and "12 bulan" in chat.last_text()
    assert chat.buttons() == ["Pakai 25 November 2027"]
    await chat.press("Pakai 25 November 2027")

    summary = chat.last_text()
    assert "Kelompok: KUBE Mawar" in summary and "Jenis: Bantuan UEP Kemensos" in summary
    assert "Sumber dana" not in summary and "Bentuk: Tunai" in summary
    assert "Wajib digulirkan: Ya" in summary
    assert "Nilai: Rp 20.000.000" in summary and "Diterima: 25 November 2026" in summary
    assert "• Uang: Rp 10.000.000" in summary and "Batas waktu: 25 November 2027" in summary
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    await chat.press("✅ Simpan")
    saved = chat.last_text()
    assert "Tersimpan" in saved and "25 November 2027" in saved
    assert "LPJ paling lambat 25 Februari 2027" in saved
    assert chat.buttons() == ["🔎 Lihat bantuan"]

    [grant] = await grants(session)
    assert (grant.group_id, grant.kind, grant.funding_source, grant.form) == (
        group_id, "uep", "apbn", "tunai")
    assert grant.rollover_required is True
    assert (grant.lpj_due, grant.lpj_submitted_on) == (date(2027, 2, 25), None)
    assert (grant.amount, grant.goods_description, grant.received_on) == (
        20_000_000, None, TODAY)
    assert (grant.rollover_amount, grant.rollover_units, grant.rollover_unit_label,
            grant.rollover_households) == (10_000_000, None, None, None)
    assert grant.rollover_due == date(2027, 11, 25)
    grant_id = grant.id
    assert await draft(session) is None
    pending = (await session.execute(select(Reminder.rule, Reminder.fire_on).where(
        Reminder.subject_id == grant_id, Reminder.rule.like("rollover%"),
        Reminder.status == ReminderStatus.PENDING))).all()
    assert sorted(pending) == [("rollover_overdue", date(2027, 11, 26)),
                               ("rollover_soon", date(2027, 10, 26))]
    lpj = (await session.execute(select(Reminder.rule, Reminder.fire_on).where(
        Reminder.subject_id == grant_id, Reminder.rule.like("lpj%"),
        Reminder.status == ReminderStatus.PENDING))).all()
    assert sorted(lpj) == [("lpj_overdue", date(2027, 2, 26)), ("lpj_soon", date(2027, 2, 11))]
    audits = (await session.execute(select(func.count()).select_from(AuditLog).where(
        AuditLog.entity == "grant"))).scalar_one()
    assert audits == 1

    await chat.press("🔎 Lihat bantuan")
    view = chat.last_text()
    assert "Bantuan UEP Kemensos – KUBE Mawar" in view and "sisa 365 hari" in view
    assert "Dana: Rp 0 dari Rp 10.000.000 (0%)" in view and "Status: Belum mulai" in view
    assert "Belum ada pengguliran" in view
    assert "LPJ: belum diserahkan, batas 25 Februari 2027 (sisa 92 hari)" in view
    assert chat.buttons() == ["🔁 Catat pengguliran", "📝 LPJ sudah diserahkan", "« Kelompok"]


async def test_goods_grant_with_a_units_obligation(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_amount(chat, form="Barang")
    assert "Barang apa" in chat.last_text() and "10 ekor kambing" in chat.last_text()
    await chat.send("10 ekor kambing")
    assert "nilai barang" in chat.last_text() and chat.buttons() == ["Lewati"]
    await chat.send("-")  # value not known
    await chat.send("1/10/2026")
    await chat.press("Ya")  # wajib digulirkan
    await chat.press("Lewati")  # no Rupiah obligation
    replies = await chat.send("10 ekor anak kambing")
    assert "✓ 10 ekor anak kambing" in shown(replies)
    await chat.send("5 KK")
    assert "Pakai 1 Oktober 2027" in chat.buttons()
    replies = await chat.send("31/12/2027")
    assert "31 Desember 2027" in shown(replies)
    summary = chat.last_text()
    assert "Bentuk: Barang – 10 ekor kambing" in summary and "Nilai: -" in summary
    assert "• Barang: 10 ekor anak kambing" in summary
    assert "• Penerima: 5 KK/kelompok" in summary and "Uang" not in summary
    await chat.press("✅ Simpan")

    [grant] = await grants(session)
    assert (grant.form, grant.amount, grant.goods_description) == (
        "barang", None, "10 ekor kambing")
    assert grant.received_on == date(2026, 10, 1)
    assert (grant.rollover_amount, grant.rollover_units, grant.rollover_unit_label,
            grant.rollover_households) == (None, 10, "ekor anak kambing", 5)
    assert grant.rollover_due == date(2027, 12, 31)


async def test_units_without_a_label_take_the_goods_label(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_amount(chat, form="Barang")
    await chat.send("10 ekor kambing")
    await chat.send("15 jt")
    await chat.press("📅 Hari ini")
    await chat.press("Ya")
    await chat.send("-")
    replies = await chat.send("8")
    assert "✓ 8 ekor kambing" in shown(replies)


# --- wrong answers -------------------------------------------------------------------------------

async def test_bad_amounts_get_an_example_and_the_same_question(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_amount(chat)
    replies = await chat.send("dua puluh")
    assert "tidak bisa saya baca" in shown(replies) and "Contoh: 20 jt" in shown(replies)
    assert "Berapa rupiah bantuan" in chat.last_text()
    replies = await chat.send("-")
    assert "wajib diisi" in shown(replies)
    replies = await chat.send("0")
    assert "lebih dari 0" in shown(replies)
    replies = await chat.send("-5000")
    assert "/batal" in shown(replies)  # the third miss offers to stop
    await chat.send("20,5 juta")
    assert (await draft(session))["amount"] == 20_500_000
    await chat.press("📅 Hari ini")
    replies = await chat.send("ya dong")  # typed where a button is expected
    assert 'Contoh: tekan "Ya" atau "Tidak"' in shown(replies)
    await chat.press("Ya")
    replies = await chat.send("banyak")
    assert "tidak bisa saya baca" in shown(replies) and "1 dari 3" in chat.last_text()
    replies = await chat.send("25 jt")
    assert "tidak boleh lebih dari nilai bantuan (Rp 20.500.000)" in shown(replies)
    await chat.send("10 jt")
    replies = await chat.send("sepuluh")
    assert "Contoh: 10 ekor anak kambing" in shown(replies)
    replies = await chat.send("10")
    assert "10 apa?" in shown(replies)
    await chat.press("Lewati")
    replies = await chat.send("500")
    assert "1 sampai 100" in shown(replies)


async def test_counts_in_words_for_units_and_households(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_obligation(chat)
    await chat.press("Lewati")  # no Rupiah
    replies = await chat.send("dua ratus ekor ayam")
    assert "✓ 200 ekor ayam" in shown(replies)
    await chat.send("dua belas KK")
    current = await draft(session)
    assert (current["roll_units"], current["roll_label"], current["roll_households"]) == (
        200, "ekor ayam", 12)


async def test_a_due_date_that_does_not_exist_is_named(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_due(chat)
    replies = await chat.send("31/04/2027")
    assert "Tanggal 31/04/2027 tidak ada: April 2027 hanya sampai tanggal 30. " \
        "Contoh: 30/04/2027" in shown(replies)
    replies = await chat.send("30/04/27")  # a two-digit year: 2027, not 1927
    assert "30 April 2027" in shown(replies)


async def test_received_date_not_in_the_future_nor_before_the_group(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_received(chat)
    replies = await chat.send("1/12/2026")
    assert "tidak boleh setelah hari ini (25 November 2026)" in shown(replies)
    assert "Kapan bantuan diterima" in chat.last_text()
    replies = await chat.send("5/1/2026")
    assert "sebelum KUBE Mawar dibentuk (10 Januari 2026)" in shown(replies)
    replies = await chat.send("jam 10")
    assert "tidak bisa saya baca" in shown(replies)
    await chat.send("kemarin")
    assert (await draft(session))["received_on"] == "2026-11-24"


async def test_an_obligation_is_required(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_obligation(chat)
    await chat.press("Lewati")
    await chat.press("Lewati")
    replies = await chat.press("Lewati")
    assert "minimal satu" in shown(replies)
    assert "1 dari 3" in chat.last_text()
    await chat.send("-")
    await chat.send("-")
    await chat.send("3")
    assert "Sampai kapan" in chat.last_text()
    current = await draft(session)
    assert (current["roll_amount"], current["roll_units"], current["roll_households"]) == (
        None, None, 3)


async def test_deadline_must_be_after_the_receipt(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_due(chat)
    replies = await chat.send("1/11/2026")
    assert "harus setelah tanggal diterima (25 November 2026)" in shown(replies)
    assert "Sampai kapan" in chat.last_text()
    replies = await chat.send("25/11/2040")
    assert "paling lama 10 tahun" in shown(replies)
    replies = await chat.send("besok pagi sekali")
    assert "tidak bisa saya baca" in shown(replies)
    await chat.send("30 Jun 2027")
    assert "Batas waktu: 30 Juni 2027" in chat.last_text()


# --- changing answers ----------------------------------------------------------------------------

async def test_change_answers_from_the_summary(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_summary(chat)
    await chat.press("✏️ Ubah")
    assert chat.buttons() == ["Jenis", "Bentuk", "Nilai", "Tanggal diterima",
                              "Wajib digulirkan", "Kewajiban gulir", "Batas waktu", "« Kembali"]
    await chat.press("Tanggal diterima")
    await chat.send("1/3/2026")
    summary = chat.last_text()
    # The suggested deadline follows the date received.
    assert "Diterima: 1 Maret 2026" in summary and "Batas waktu: 1 Maret 2027" in summary

    await chat.press("✏️ Ubah")
    await chat.press("Kewajiban gulir")
    await chat.send("-")
    await chat.send("-")
    await chat.send("4")
    summary = chat.last_text()
    assert "• Penerima: 4 KK/kelompok" in summary and "Uang" not in summary

    await chat.press("✏️ Ubah")
    await chat.press("Bentuk")
    await chat.press("Barang")
    await chat.send("2 ekor sapi")
    await chat.send("-")
    summary = chat.last_text()
    assert "Bentuk: Barang – 2 ekor sapi" in summary
    assert "Nilai: -" in summary
    await chat.press("✏️ Ubah")
    assert "Barang" in chat.buttons()
    await chat.press("Batas waktu")
    await chat.send("1/6/2027")
    await chat.press("✅ Simpan")
    [grant] = await grants(session)
    assert (grant.form, grant.goods_description, grant.amount) == ("barang", "2 ekor sapi", None)
    assert grant.received_on == date(2026, 3, 1) and grant.rollover_due == date(2027, 6, 1)
    assert (grant.rollover_amount, grant.rollover_households) == (None, 4)


async def test_a_typed_deadline_is_asked_again_when_the_receipt_moves_past_it(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_due(chat)
    await chat.send("1/12/2026")
    await chat.press("✏️ Ubah")
    await chat.press("Tanggal diterima")
    await chat.send("1/3/2026")
    assert "Batas waktu: 1 Desember 2026" in chat.last_text()  # still after: kept
    await chat.press("✏️ Ubah")
    await chat.press("Batas waktu")
    await chat.send("1/4/2026")
    await chat.press("✏️ Ubah")
    await chat.press("Tanggal diterima")
    replies = await chat.send("kemarin")
    assert "isi lagi batas waktunya" in shown(replies)
    assert "Sampai kapan" in chat.last_text()
    await chat.press("Pakai ")
    assert "Batas waktu: 24 November 2027" in chat.last_text()


# --- cancelling, forged buttons, redelivery ------------------------------------------------------

async def test_cancel_saves_nothing(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_obligation(chat)
    replies = await chat.send("/batal")
    assert "Tidak ada yang disimpan" in shown(replies)
    assert await grants(session) == [] and await draft(session) is None

    await to_summary(chat)
    await chat.press("❌ Batal")
    await chat.press("🗑 Ya, buang")  # many answers: asked first
    assert await grants(session) == [] and await draft(session) is None


async def test_forged_buttons_for_another_mentors_group_or_grant_are_refused(bot, session):
    await mentor_with_group(session)
    other = await make_mentor(session, telegram_id=OTHER, area_code=DISTRICT_ELSEWHERE)
    foreign_group = await make_group(session, other, name="KUBE Anggrek",
                                     village_code="73.71.01.1001")
    foreign_grant = await make_grant(session, foreign_group, other)
    chat = bot.chat(MENTOR)

    replies = await chat.press_data(f"hib:start:{foreign_group.id}")
    assert "Kelompok tidak ditemukan" in shown(replies)
    assert chat.buttons() == ["KUBE Mawar"]  # the question again, with own groups only
    replies = await chat.press_data(f"hib:group:{foreign_group.id}")
    assert "Kelompok tidak ditemukan" in shown(replies)
    assert (await draft(session)).get("group_id") is None

    await chat.press_data(f"hib:view:{foreign_grant.id}")
    assert chat.callback_answers()[-1].text == (
        "Bantuan tidak ditemukan, atau Anda tidak berhak melihatnya.")
    await chat.press_data("hib:view:999999")
    assert chat.callback_answers()[-1].text.startswith("Bantuan tidak ditemukan")
    assert [g.id for g in await grants(session)] == [foreign_grant.id]


async def test_forged_hibah_button_of_a_mentor_without_groups(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    replies = await chat.send("/hibah")
    assert "belum punya kelompok" in shown(replies)
    replies = await chat.press_data("hib:start:1")
    assert "Kelompok tidak ditemukan" in shown(replies) and "/tambah_kelompok" in shown(replies)


async def test_restart_in_the_middle_then_complete(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_obligation(chat)
    await bot.restart()
    await chat.send("10 jt")
    await chat.press("Lewati")
    await bot.restart()
    await chat.send("/hibah")  # continues where it stopped
    assert "belum selesai" in chat.texts()[-2] and "3 dari 3" in chat.last_text()
    await chat.send("-")
    await chat.press("Pakai ")
    await chat.press("✅ Simpan")
    assert len(await grants(session)) == 1


# --- the group card and the grant's view ---------------------------------------------------------

async def test_group_card_and_list_show_grants(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    await make_group(session, mentor, name="KUBE Melati", formed_on=FORMED)
    await make_grant(session, group, mentor, amount=20_000_000)
    await make_grant(session, group, mentor, kind="blps", amount=15_000_000)
    chat = bot.chat(MENTOR)

    await chat.send("/kelompok")
    listing = chat.last_text()
    mawar, melati = listing.split("KUBE Mawar")[1], listing.split("KUBE Melati")[1]
    assert "Bantuan: 2 (Rp 35.000.000)" in mawar.split("KUBE Melati")[0]
    assert "Bantuan" not in melati.split("KUBE Mawar")[0]

    await chat.press_data(f"kel:det:{group.id}")
    detail = chat.last_text()
    assert "Kelengkapan: lengkap" in detail and "Bantuan (2):" in detail
    assert "1. Bantuan UEP Kemensos Rp 20.000.000 – gulir: Belum mulai (0%) · " \
        "LPJ terlambat ⚠️" in detail
    assert "2. BLPS (program lama) Rp 15.000.000" in detail
    buttons = chat.buttons()
    assert buttons[:4] == ["📋 Detail", "📝 Catat kunjungan", "👥 Anggota", "🕘 Riwayat"]
    assert buttons[4:] == ["➕ Catat bantuan", "⏱ Ubah jadwal", "🔎 Bantuan 1", "🔎 Bantuan 2",
                           "🎓 Catat pelatihan", "📈 Grafik usaha",
                           "🚦 Status", "🌱 Tahap", "✏️ Ubah data", "🗂 Riwayat perubahan",
                           "📍 Lokasi kelompok", "« Daftar kelompok"]

    await chat.press("🔎 Bantuan 2")
    assert "BLPS (program lama) – KUBE Mawar" in chat.last_text()
    await chat.press("« Kelompok")
    assert "Bantuan (2):" in chat.last_text()
    replies = await chat.press("➕ Catat bantuan")
    assert "Catat bantuan untuk KUBE Mawar" in shown(replies)
    assert chat.buttons() == KINDS


async def test_coordinator_sees_a_grant_but_cannot_record_roll_overs(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    grant = await make_grant(session, group, mentor)
    await make_mentor(session, telegram_id=COORDINATOR, role=Role.COORDINATOR,
                      area_code=REGENCY_SUKABUMI)
    chat = bot.chat(COORDINATOR)
    await chat.press_data(f"hib:view:{grant.id}")
    assert "Bantuan UEP Kemensos – KUBE Mawar" in chat.last_text()
    # A coordinator of the area may record the LPJ, not a roll-over.
    assert chat.buttons() == ["📝 LPJ sudah diserahkan", "« Kelompok"]
    await chat.press_data(f"kel:det:{group.id}")
    assert "➕ Catat bantuan" not in chat.buttons() and "🔎 Bantuan 1" in chat.buttons()


async def test_view_in_the_middle_of_the_questions_keeps_them(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    grant = await make_grant(session, group, mentor)
    chat = bot.chat(MENTOR)
    await chat.send("/hibah")
    await chat.press("KUBE Mawar")
    await chat.press_data(f"hib:view:{grant.id}")
    assert "Bantuan UEP Kemensos – KUBE Mawar" in chat.last_text()
    await chat.press("BLPS (program lama)")  # the question before the view still answers
    assert "tunai atau barang" in chat.last_text()


async def test_english_mentor(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR, language="en")
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    grant = await make_grant(session, group, mentor, rollover_households=4)
    chat = bot.chat(MENTOR, language_code="en")
    await chat.send("/hibah")
    assert "Which group received the grant?" in chat.last_text()
    await chat.press("KUBE Mawar")
    assert chat.buttons() == ["UEP grant (Kemensos)", "Regional grant (APBD)",
                              "BLPS (old programme)", "CSR/other"]
    await chat.send("/batal")
    await chat.press_data(f"hib:view:{grant.id}")
    view = chat.last_text()
    assert "UEP grant (Kemensos) – KUBE Mawar" in view and "0 of 4 households/groups" in view
    assert "Status: Not started" in view and "No roll-overs yet." in view
    assert "LPJ: not handed in yet, due" in view
    assert chat.buttons() == ["🔁 Record a roll-over", "📝 LPJ handed in", "« Group"]


# --- wajib digulirkan: Tidak ---------------------------------------------------------------------

async def test_a_grant_without_a_rollover_obligation(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await chat.send("/hibah")
    await chat.press("KUBE Mawar")
    await chat.press("Bantuan daerah (APBD)")
    await chat.press("Barang")
    await chat.send("5 ekor sapi")
    await chat.send("50 jt")
    await chat.send("1/10/2026")
    replies = await chat.press("Tidak")  # no obligation questions: straight to the summary
    assert "1 dari 3" not in shown(replies) and "Sampai kapan" not in shown(replies)
    summary = chat.last_text()
    assert "Jenis: Bantuan daerah (APBD)" in summary and "Wajib digulirkan: Tidak" in summary
    assert "Batas waktu" not in summary and "Kewajiban" not in summary
    await chat.press("✏️ Ubah")
    assert chat.buttons() == ["Jenis", "Bentuk", "Barang", "Nilai", "Tanggal diterima",
                              "Wajib digulirkan", "« Kembali"]
    await chat.press("« Kembali")
    await chat.press("✅ Simpan")
    saved = chat.last_text()
    assert "tidak wajib digulirkan" in saved and "LPJ paling lambat 1 Januari 2027" in saved
    assert "/gulir" not in saved

    [grant] = await grants(session)
    assert (grant.group_id, grant.kind, grant.funding_source) == (
        group_id, "daerah", "apbd_kabupaten")
    assert (grant.rollover_required, grant.rollover_due, grant.rollover_amount,
            grant.rollover_units, grant.rollover_households) == (False, None, None, None, None)
    assert (grant.lpj_due, grant.lpj_submitted_on) == (date(2027, 1, 1), None)
    pending = (await session.execute(select(Reminder.rule).where(
        Reminder.subject_id == grant.id, Reminder.status == ReminderStatus.PENDING,
        Reminder.rule.not_like("visit%")))).scalars()
    assert sorted(pending) == ["lpj_overdue", "lpj_soon"]  # no roll-over reminders

    await chat.press("🔎 Lihat bantuan")
    view = chat.last_text()
    assert "Tidak wajib digulirkan." in view and "Belum ada pengguliran" not in view
    assert "LPJ: belum diserahkan, batas 1 Januari 2027 (sisa 37 hari)" in view
    assert chat.buttons() == ["📝 LPJ sudah diserahkan", "« Kelompok"]
    await chat.press("« Kelompok")
    assert "1. Bantuan daerah (APBD) Rp 50.000.000 – tidak wajib digulirkan · LPJ belum" in \
        chat.last_text()


async def test_a_grant_recorded_after_its_lpj_deadline_asks_whether_the_lpj_is_in(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await chat.send("/hibah")
    await chat.press("KUBE Mawar")
    await chat.press("Bantuan UEP Kemensos")
    await chat.press("Tunai")
    await chat.send("10 jt")
    await chat.send("1/8/2026")  # its LPJ was due on 1 November, before today (25 November)
    await chat.press("Tidak")
    await chat.press("✅ Simpan")
    saved = chat.last_text()
    assert "Batas LPJ-nya sudah lewat (1 November 2026)" in saved
    assert "saya akan mengingatkan menjelang batasnya" not in saved
    assert chat.buttons() == ["🔎 Lihat bantuan", "📝 LPJ sudah diserahkan"]
    await chat.press("📝 LPJ sudah diserahkan")
    assert "Kapan LPJ (laporan pertanggungjawaban) diserahkan?" in chat.last_text()
    await chat.send("20/10/2026")
    [grant] = await grants(session)
    await session.refresh(grant)
    assert grant.lpj_submitted_on == date(2026, 10, 20)


async def test_changing_wajib_digulirkan_from_the_summary(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_received(chat)
    await chat.press("📅 Hari ini")
    await chat.press("Tidak")
    await chat.press("✏️ Ubah")
    await chat.press("Wajib digulirkan")
    await chat.press("Ya")  # now the obligation, then its deadline, then the summary
    assert "1 dari 3" in chat.last_text()
    await chat.send("5 jt")
    await chat.send("-")
    await chat.send("-")
    await chat.press("Pakai ")
    summary = chat.last_text()
    assert "Wajib digulirkan: Ya" in summary and "• Uang: Rp 5.000.000" in summary
    assert "Batas waktu: 25 November 2027" in summary
    await chat.press("✏️ Ubah")
    await chat.press("Wajib digulirkan")
    await chat.press("Tidak")  # the obligation and its deadline are dropped
    summary = chat.last_text()
    assert "Wajib digulirkan: Tidak" in summary and "Uang" not in summary
    await chat.press("✅ Simpan")
    [grant] = await grants(session)
    assert (grant.rollover_required, grant.rollover_amount, grant.rollover_due) == (
        False, None, None)


# --- the LPJ -------------------------------------------------------------------------------------

async def lpj_reminders(session: AsyncSession, grant_id: int) -> dict[str, str]:
    await session.rollback()
    found = (await session.execute(select(Reminder.rule, Reminder.status).where(
        Reminder.subject_id == grant_id, Reminder.rule.like("lpj%")))).all()
    return dict(found)


async def test_the_lpj_button_saves_the_date_and_ends_its_reminders(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    grant = await make_grant(session, group, mentor, received_on=date(2026, 8, 1))
    grant_id = grant.id
    assert grant.lpj_due == date(2026, 11, 1)
    assert await lpj_reminders(session, grant_id) == {"lpj_overdue": "pending"}
    chat = bot.chat(MENTOR)
    await chat.press_data(f"hib:view:{grant_id}")
    assert "LPJ: belum diserahkan, batas 1 November 2026 (⚠️ terlambat 24 hari)" in \
        chat.last_text()
    replies = await chat.press("📝 LPJ sudah diserahkan")
    assert "Catat LPJ: Bantuan UEP Kemensos – KUBE Mawar" in shown(replies)
    assert "Kapan LPJ (laporan pertanggungjawaban) diserahkan?" in chat.last_text()
    assert chat.buttons() == ["📅 Hari ini"]
    replies = await chat.send("1/12/2026")
    assert "tidak boleh setelah hari ini (25 November 2026)" in shown(replies)
    replies = await chat.send("31/7/2026")
    assert "sebelum bantuan diterima (1 Agustus 2026)" in shown(replies)
    replies = await chat.send("entah")
    assert "tidak bisa saya baca" in shown(replies)
    await chat.send("20/11/2026")
    assert "✅ Tersimpan! LPJ Bantuan UEP Kemensos – KUBE Mawar diserahkan 20 November 2026" \
        in chat.last_text()
    assert chat.buttons() == ["🔎 Lihat bantuan"]

    [stored] = await grants(session)
    assert stored.lpj_submitted_on == date(2026, 11, 20)
    assert await lpj_reminders(session, grant_id) == {"lpj_overdue": "cancelled"}
    audit = (await session.execute(select(AuditLog).where(
        AuditLog.entity == "grant", AuditLog.action == "update"))).scalars().all()
    assert [(a.entity_id, a.old, a.new) for a in audit] == [
        (grant_id, {"lpj_submitted_on": None}, {"lpj_submitted_on": "2026-11-20"})]

    await chat.press("🔎 Lihat bantuan")
    assert "LPJ: sudah diserahkan 20 November 2026 ✅" in chat.last_text()
    assert "📝 LPJ sudah diserahkan" not in chat.buttons()
    await chat.press_data(f"lpj:start:{grant_id}")  # an old button: nothing asked again
    assert chat.callback_answers()[-1].text == (
        "LPJ bantuan ini sudah tercatat diserahkan 20 November 2026.")
    assert (await grants(session))[0].lpj_submitted_on == date(2026, 11, 20)


async def test_a_coordinator_of_the_area_records_the_lpj_another_area_cannot(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    grant = await make_grant(session, group, mentor, received_on=date(2026, 10, 1))
    grant_id = grant.id
    await make_mentor(session, telegram_id=OTHER, role=Role.COORDINATOR,
                      area_code=DISTRICT_ELSEWHERE)
    await make_mentor(session, telegram_id=COORDINATOR, role=Role.COORDINATOR,
                      area_code=REGENCY_SUKABUMI)

    stranger = bot.chat(OTHER)  # forged data from a coordinator of another area
    await stranger.press_data(f"lpj:start:{grant_id}")
    assert stranger.callback_answers()[-1].text.startswith("Bantuan tidak ditemukan")
    replies = await stranger.press_data("lpj:date:today")
    assert await stored_draft(session, OTHER, "lpj") is None
    await stranger.send("kemarin")
    assert (await grants(session))[0].lpj_submitted_on is None
    assert await lpj_reminders(session, grant_id) == {"lpj_soon": "pending",
                                                      "lpj_overdue": "pending"}
    del replies

    chat = bot.chat(COORDINATOR)
    await chat.press_data(f"hib:view:{grant_id}")
    await chat.press("📝 LPJ sudah diserahkan")
    replies = await chat.press("📅 Hari ini")
    assert "25 November 2026" in shown(replies)
    assert "✅ Tersimpan! LPJ" in chat.last_text()
    assert (await grants(session))[0].lpj_submitted_on == TODAY
    assert await lpj_reminders(session, grant_id) == {"lpj_soon": "cancelled",
                                                      "lpj_overdue": "cancelled"}
    audit = (await session.execute(select(AuditLog.actor_telegram_id).where(
        AuditLog.entity == "grant", AuditLog.action == "update"))).scalars().all()
    assert audit == [COORDINATOR]


async def test_a_dissolved_groups_grants_are_read_only(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    grant = await make_grant(session, group, mentor)
    grant_id, group_id = grant.id, group.id
    group.status = "bubar"
    session.add(group)
    await session.commit()
    chat = bot.chat(MENTOR)
    await chat.press_data(f"hib:view:{grant_id}")
    assert "LPJ: belum diserahkan" in chat.last_text()
    assert chat.buttons() == ["« Kelompok"]  # neither a roll-over nor the LPJ
    await chat.press_data(f"lpj:start:{grant_id}")  # an old button
    assert chat.callback_answers()[-1].text == (
        "KUBE Mawar sudah bubar, jadi catatannya tidak bisa diubah lagi.")
    replies = await chat.press_data(f"hib:start:{group_id}")
    assert "sudah bubar" in shown(replies) or "tidak ditemukan" in shown(replies)
    assert await stored_draft(session, MENTOR, "lpj") is None
    assert (await grants(session))[0].lpj_submitted_on is None


async def test_drafts_begun_before_the_new_questions_go_on(bot, session):
    from models.drafts import conversation_key
    from models.tables import ConversationState, UserData

    group_id = await mentor_with_group(session)
    group = {"group_id": group_id, "group_name": "KUBE Mawar", "village_code": "32.02.11.2002",
             "formed_on": FORMED.isoformat(), "kind": "uep"}
    # Stored at the former funding-source question (3): the form is asked instead.
    session.add(UserData(user_id=MENTOR, data={"draft:grant": {**group, "_state": 3},
                                                "lang": "id"}))
    session.add(ConversationState(name="grant", key=conversation_key(MENTOR, MENTOR), state=3))
    await session.commit()
    await bot.restart()
    chat = bot.chat(MENTOR)
    await chat.send("/hibah")
    assert "Bantuannya berupa uang tunai atau barang?" in chat.last_text()
    await chat.press("Tunai")
    assert "Berapa rupiah bantuan" in chat.last_text()
    await chat.send("/batal")

    # At the summary, with an obligation but never asked "Wajib digulirkan?": it must be.
    data = {**group, "form": "tunai", "amount": 20_000_000, "received_on": "2026-11-25",
            "roll_amount": 5_000_000, "due_on": "2027-11-25", "_state": 12}
    await session.rollback()
    await session.execute(delete(UserData).where(UserData.user_id == MENTOR))
    await session.execute(delete(ConversationState).where(ConversationState.name == "grant"))
    session.add(UserData(user_id=MENTOR, data={"draft:grant": data, "lang": "id"}))
    session.add(ConversationState(name="grant", key=conversation_key(MENTOR, MENTOR), state=12))
    await session.commit()
    await bot.restart()
    await chat.press_data("hib:save")
    [grant] = await grants(session)
    assert (grant.rollover_required, grant.rollover_amount, grant.rollover_due) == (
        True, 5_000_000, date(2027, 11, 25))
