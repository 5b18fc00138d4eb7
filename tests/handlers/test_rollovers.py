"""/gulir through the real Application: roll-overs, progress, status and reminders."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import ReminderStatus, RolloverStatus
from bot.localapi import Faults
from models import grants as grant_queries
from models.tables import AuditLog, Grant, Group, Mentor, Reminder, Rollover
from tests.factories import (
    DISTRICT_ELSEWHERE,
    make_grant,
    make_group,
    make_mentor,
    rows,
    shown,
    stored_draft,
)
from tests.harness import ChatUser

MENTOR = 700501
OTHER = 700502
TODAY = date(2026, 11, 25)
FORMED = date(2025, 1, 10)
RECEIVED = date(2026, 8, 17)  # make_grant's default: 100 days before TODAY


async def setup(session: AsyncSession, **grant_fields) -> Grant:
    """MENTOR with KUBE Mawar and one grant (Rp 20 jt, Rp 10 jt to roll over by 17 Aug 2027)."""
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    return await make_grant(session, group, mentor, **grant_fields)


async def rollovers(session: AsyncSession) -> list[Rollover]:
    return await rows(session, Rollover)


async def draft(session: AsyncSession) -> dict | None:
    return await stored_draft(session, MENTOR, "rollover")



async def to_amount(chat: ChatUser, name: str = "Sari Wulandari") -> None:
    await chat.send("/gulir")
    await chat.press("KUBE Mawar")
    await chat.press("📅 Hari ini")
    await chat.press("KK")
    await chat.send(name)
    await chat.press("Lewati")  # village


async def roll(chat: ChatUser, amount: str, name: str = "Sari Wulandari") -> None:
    """A whole roll-over of ``amount`` to a household, saved."""
    await to_amount(chat, name)
    await chat.send(amount)
    await chat.press("Lewati")  # note
    await chat.press("✅ Simpan")


async def test_simpan_saves_while_its_buttons_are_taken_away(bot, session):
    """The Simpan's buttons go while the roll-over is saved, not before: a slow edit does not
    hold up the save, and "saved" still comes after the buttons have gone."""
    await setup(session)
    chat = bot.chat(MENTOR)
    await to_amount(chat)
    await chat.send("2 jt")
    await chat.press("Lewati")  # note
    summary = chat.messages()[-1]
    bot.server.set_faults(Faults(slow_seconds=2.0))  # only the fault asked for below
    bot.server.fail_next("slow", method="editMessageReplyMarkup")
    pressing = asyncio.create_task(chat.press("✅ Simpan"))
    saved_while_editing = False
    for _ in range(30):  # 1.5 s, within the edit's 2 s
        await asyncio.sleep(0.05)
        await session.rollback()  # a fresh read of what the bot committed
        if await rollovers(session):
            saved_while_editing = not pressing.done()
            break
    await pressing
    assert saved_while_editing
    assert "Sebagian · Dana: Rp 2.000.000 dari Rp 10.000.000 (20%)" in chat.last_text()
    assert chat.buttons(next(message for message in chat.messages()
                             if message.message_id == summary.message_id)) == []
    calls = [call.method for call in bot.server.requests]
    assert calls.index("editMessageReplyMarkup") < len(calls) - 1 - calls[::-1].index(
        "sendMessage")


# --- whole roll-overs ----------------------------------------------------------------------------

async def test_two_partial_roll_overs(bot, session):
    grant = await setup(session)
    chat = bot.chat(MENTOR)

    replies = await chat.send("/gulir")
    assert "Pengguliran dari bantuan mana?" in shown(replies)
    assert chat.buttons() == ["KUBE Mawar – UEP – 0%"]
    await chat.press("KUBE Mawar – UEP – 0%")
    # Where the grant stands rides on the first question: one message to wait for, not two.
    assert "Belum mulai · Dana: Rp 0 dari Rp 10.000.000 (0%)" in chat.last_text()
    assert "Batas waktu: 17 Agustus 2027" in chat.last_text()
    assert "Kapan digulirkan?" in chat.last_text() and chat.buttons() == ["📅 Hari ini"]
    await chat.send("kemarin")
    assert chat.buttons() == ["KK", "Kelompok lain"]
    await chat.press("KK")
    assert "nama kepala keluarga" in chat.last_text()
    await chat.send("sari wulandari")  # a household is named as on the KTP: title-cased
    assert "desa" in chat.last_text() and chat.buttons() == ["Lewati"]
    await chat.send("sekarwangi")
    assert "Lewati" in chat.buttons()
    await chat.press("Desa Sekarwangi")
    assert "Berapa rupiah" in chat.last_text()
    await chat.send("2 jt")
    assert "catatan" in chat.last_text()
    await chat.send("Diserahkan di balai desa")
    summary = chat.last_text()
    assert "Bantuan: KUBE Mawar – UEP – 0%" in summary
    assert "Tanggal: 24 November 2026" in summary
    assert "Penerima: Sari Wulandari (KK)" in summary and "Sekarwangi" in summary
    assert "Digulirkan: Rp 2.000.000" in summary and "balai desa" in summary
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    await chat.press("✅ Simpan")
    assert "Sebagian · Dana: Rp 2.000.000 dari Rp 10.000.000 (20%)" in chat.last_text()

    await chat.send("/gulir")
    assert chat.buttons() == ["KUBE Mawar – UEP – 20%"]
    await chat.press("KUBE Mawar")
    await chat.press("📅 Hari ini")
    await chat.press("Kelompok lain")
    assert "nama kelompok" in chat.last_text()
    await chat.send("KUBE Melati 2")
    await chat.press("Lewati")
    await chat.send("Rp 2.000.000")
    await chat.press("Lewati")
    await chat.press("✅ Simpan")
    assert "Sebagian · Dana: Rp 4.000.000 dari Rp 10.000.000 (40%)" in chat.last_text()

    first, second = await rollovers(session)
    assert (first.grant_id, first.rolled_on, first.recipient_kind, first.recipient_name) == (
        grant.id, date(2026, 11, 24), "kk", "Sari Wulandari")
    assert first.recipient_village_code == "32.02.11.2002"
    assert (first.amount, first.units, first.note) == (2_000_000, None,
                                                       "Diserahkan di balai desa")
    assert (second.recipient_kind, second.recipient_name, second.recipient_village_code,
            second.note) == ("kelompok", "KUBE Melati 2", None, None)
    state = await grant_queries.progress(session=session,
                                         grant=await session.get(Grant, grant.id), today=TODAY)
    assert (state.status, state.percent, state.amount_left, state.count) == (
        RolloverStatus.PARTIAL, 40, 6_000_000, 2)
    audits = (await session.execute(select(func.count()).select_from(AuditLog).where(
        AuditLog.entity == "rollover"))).scalar_one()
    assert audits == 2

    await chat.press("🔎 Lihat bantuan")
    view = chat.last_text()
    assert "Dana: Rp 4.000.000 dari Rp 10.000.000 (40%)" in view and "Status: Sebagian" in view
    assert "Pengguliran (2):" in view
    assert "1. 24 Nov 2026 – Sari Wulandari (KK, Sekarwangi): Rp 2.000.000" in view
    assert "2. 25 Nov 2026 – KUBE Melati 2 (Kelompok lain): Rp 2.000.000" in view


async def test_completing_the_obligation_cancels_its_reminders(bot, session):
    grant = await setup(session)
    grant_id = grant.id
    chat = bot.chat(MENTOR)
    await roll(chat, "4 jt")
    pending = (await session.execute(select(func.count()).select_from(Reminder).where(
        Reminder.subject_id == grant_id, Reminder.rule.like("rollover%"),
        Reminder.status == ReminderStatus.PENDING))).scalar_one()
    assert pending == 2

    await roll(chat, "6 jt", name="Budi Hartono")
    assert "Selesai 🎉 · Dana: Rp 10.000.000 dari Rp 10.000.000 (100%)" in chat.last_text()
    await session.rollback()
    rows = (await session.execute(select(Reminder.rule, Reminder.status).where(
        Reminder.subject_id == grant_id, Reminder.rule.like("rollover%")))).all()
    assert rows and all(status == ReminderStatus.CANCELLED for _, status in rows)
    assert {rule for rule, _ in rows} == {"rollover_soon", "rollover_overdue"}

    replies = await chat.send("/gulir")  # nothing left to roll over
    assert "Belum ada bantuan yang wajib digulirkan" in shown(replies)
    await chat.press_data(f"hib:view:{grant_id}")
    assert "Status: Selesai 🎉" in chat.last_text()
    # no "Catat pengguliran" once done
    assert chat.buttons() == ["📝 LPJ sudah diserahkan", "« Kelompok"]


async def test_a_late_grant_is_terlambat(bot, session):
    await setup(session, received_on=date(2025, 6, 1), rollover_due=date(2026, 11, 1),
                rollover_households=5)
    chat = bot.chat(MENTOR)
    await roll(chat, "3 jt")
    # The money and the households each with their own share (issue 15: one 20% hid the 30%).
    assert ("Terlambat · Dana: Rp 3.000.000 dari Rp 10.000.000 (30%) · "
            "Penerima: 1 dari 5 KK/kelompok (20%)") in chat.last_text()
    await chat.press("🔎 Lihat bantuan")
    view = chat.last_text()
    assert "(terlambat 24 hari)" in view and "Status: Terlambat" in view
    assert ("• Dana: Rp 3.000.000 dari Rp 10.000.000 (30%)\n"
            "• Penerima: 1 dari 5 KK/kelompok (20%)") in view


async def test_exceeding_the_remainder_needs_a_confirmation(bot, session):
    await setup(session)
    chat = bot.chat(MENTOR)
    await roll(chat, "8 jt")
    await to_amount(chat)
    await chat.send("3 jt")
    replies = await chat.press("Lewati")  # note
    assert "Melebihi sisa kewajiban (sisa Rp 2.000.000). Tetap simpan?" in shown(replies)
    assert chat.buttons() == ["Ya", "Ubah jumlah"]
    replies = await chat.send("ya dong")
    assert "Contoh: tekan \"Ya\"" in shown(replies)
    await chat.press("Ubah jumlah")
    assert "Berapa rupiah" in chat.last_text()
    await chat.send("1 jt")
    assert "Periksa dulu" in chat.last_text() and "Melebihi" not in chat.last_text()

    await chat.press("✏️ Ubah")
    await chat.press("Jumlah")
    await chat.send("5 jt")
    assert "Melebihi sisa kewajiban (sisa Rp 2.000.000)" in chat.last_text()
    await chat.press("Ya")
    summary = chat.last_text()
    assert "Digulirkan: Rp 5.000.000" in summary and "sudah dikonfirmasi" in summary
    await chat.press("✅ Simpan")
    assert "Selesai 🎉" in chat.last_text()
    assert [r.amount for r in await rollovers(session)] == [8_000_000, 5_000_000]


async def test_recipient_names_follow_the_rules_for_names(bot, session):
    """A household is named as on the KTP (as in the member list), a group as groups are."""
    await setup(session)
    chat = bot.chat(MENTOR)
    await chat.send("/gulir")
    await chat.press("KUBE Mawar")
    await chat.press("📅 Hari ini")
    await chat.press("KK")
    replies = await chat.send("Sari 🌸")
    assert "tanpa angka atau emoji. Contoh: Sari Wulandari" in shown(replies)
    assert "nama kepala keluarga" in chat.last_text()
    await chat.send("SARI WULANDARI")
    await chat.press("Lewati")  # village
    await chat.send("2 jt")
    await chat.press("Lewati")  # note
    assert "Penerima: Sari Wulandari (KK)" in chat.last_text()
    await chat.press("✏️ Ubah")
    await chat.press("Jenis penerima")
    await chat.press("Kelompok lain")
    await chat.press("✏️ Ubah")
    await chat.press("Nama penerima")
    replies = await chat.send("KUBE 🌹")
    assert "tanpa emoji. Contoh: KUBE Melati" in shown(replies)
    await chat.send("KUBE Melati 2")
    assert "Penerima: KUBE Melati 2 (Kelompok lain)" in chat.last_text()


async def test_a_units_grant_rolls_over_goods(bot, session):
    await setup(session, form="barang", amount=None, goods_description="10 ekor kambing",
                rollover_amount=None, rollover_units=10, rollover_unit_label="ekor anak kambing")
    chat = bot.chat(MENTOR)
    await to_amount(chat)
    assert "hanya barang (ekor anak kambing)" in chat.last_text()
    await chat.press("Lewati")
    assert "Berapa ekor anak kambing" in chat.last_text()
    assert chat.buttons() == []  # no amount: the units are required
    replies = await chat.send("-")
    assert "Isi minimal satu" in shown(replies)
    replies = await chat.send("tiga ekor")
    assert "✓ 3 ekor anak kambing" in shown(replies)
    await chat.press("Lewati")
    assert "Digulirkan: 3 ekor anak kambing" in chat.last_text()
    await chat.press("✅ Simpan")
    assert "Sebagian · Barang: 3 dari 10 ekor anak kambing (30%)" in chat.last_text()

    await to_amount(chat)
    await chat.send("500rb")
    await chat.send("8")
    replies = await chat.press("Lewati")
    assert "Melebihi sisa kewajiban (sisa 7 ekor anak kambing)" in shown(replies)
    await chat.press("Ya")
    assert "Digulirkan: Rp 500.000 + 8 ekor anak kambing" in chat.last_text()
    await chat.press("✅ Simpan")
    assert "Selesai 🎉" in chat.last_text()
    assert [(r.amount, r.units) for r in await rollovers(session)] == [
        (None, 3), (500_000, 8)]


async def test_a_count_typed_as_the_amount_is_not_taken_for_rupiah(bot, session):
    await setup(session, form="barang", amount=None, goods_description="10 ekor kambing",
                rollover_amount=None, rollover_units=10, rollover_unit_label="ekor anak kambing")
    chat = bot.chat(MENTOR)
    await to_amount(chat)
    replies = await chat.send("2")
    assert ("Rp 2 terlalu kecil untuk uang. Kalau yang digulirkan barang (ekor anak kambing), "
            "ketik - dulu") in shown(replies)
    assert "Berapa rupiah yang digulirkan?" in chat.last_text()  # the same question again
    await chat.send("-")
    await chat.send("2")
    await chat.press("Lewati")
    assert "Digulirkan: 2 ekor anak kambing" in chat.last_text()
    await chat.press("✅ Simpan")
    assert [(r.amount, r.units) for r in await rollovers(session)] == [(None, 2)]


async def test_amount_is_required_without_a_units_target(bot, session):
    await setup(session, rollover_amount=None, rollover_households=3)
    chat = bot.chat(MENTOR)
    await to_amount(chat)
    assert chat.buttons() == []
    replies = await chat.send("-")
    assert "wajib diisi" in shown(replies)
    replies = await chat.send("banyak sekali")
    assert "tidak bisa saya baca" in shown(replies) and "Contoh: 2 jt" in shown(replies)
    await chat.send("1 jt")
    await chat.press("Lewati")
    await chat.press("✅ Simpan")
    assert "Sebagian · Penerima: 1 dari 3 KK/kelompok (33%)" in chat.last_text()


# --- wrong answers -------------------------------------------------------------------------------

async def test_date_not_in_the_future_nor_before_the_receipt(bot, session):
    await setup(session)
    chat = bot.chat(MENTOR)
    await chat.send("/gulir")
    await chat.press("KUBE Mawar")
    replies = await chat.send("1/12/2026")
    assert "tidak boleh setelah hari ini (25 November 2026)" in shown(replies)
    replies = await chat.send("1/8/2026")
    assert "sebelum bantuan diterima (17 Agustus 2026)" in shown(replies)
    assert "Kapan digulirkan?" in chat.last_text()
    await chat.send("20/8/2026")
    assert (await draft(session))["rolled_on"] == "2026-08-20"


async def test_name_and_village_are_checked(bot, session):
    await setup(session)
    chat = bot.chat(MENTOR)
    await chat.send("/gulir")
    await chat.press("KUBE Mawar")
    await chat.press("📅 Hari ini")
    replies = await chat.send("halo")
    assert "tekan \"KK\"" in shown(replies)
    await chat.press("KK")
    replies = await chat.send("1")
    assert "2–100 huruf" in shown(replies)
    await chat.send("Sari")
    replies = await chat.send("zzzzqqq")
    assert "tidak ketemu di wilayah tugas Anda" in shown(replies)
    await chat.send("-")
    assert "Berapa rupiah" in chat.last_text()
    assert (await draft(session))["village"] is None
    # A village outside the mentor's area, forged: refused.
    await chat.press_data("gul:vil:73.71.01.1001")
    assert chat.callback_answers()[-1].text == "Tombol ini sudah tidak berlaku."


# --- cancelling, forged buttons, redelivery ------------------------------------------------------

async def test_cancel_saves_nothing(bot, session):
    await setup(session)
    chat = bot.chat(MENTOR)
    await to_amount(chat)
    replies = await chat.send("/batal")
    assert "Tidak ada yang disimpan" in shown(replies)
    assert await rollovers(session) == [] and await draft(session) is None


async def test_forged_buttons_with_another_mentors_grant_are_refused(bot, session):
    await setup(session)
    other = await make_mentor(session, telegram_id=OTHER, area_code=DISTRICT_ELSEWHERE)
    foreign_group = await make_group(session, other, name="KUBE Anggrek",
                                     village_code="73.71.01.1001")
    foreign = await make_grant(session, foreign_group, other)
    chat = bot.chat(MENTOR)

    replies = await chat.press_data(f"gul:start:{foreign.id}")
    assert "Bantuan tidak ditemukan" in shown(replies)
    assert chat.buttons() == ["KUBE Mawar – UEP – 0%"]  # own grants only
    replies = await chat.press_data(f"gul:grant:{foreign.id}")
    assert "Bantuan tidak ditemukan" in shown(replies)
    assert (await draft(session)).get("grant_id") is None
    await chat.send("/batal")
    assert await rollovers(session) == []


async def test_catat_pengguliran_from_the_grant_view(bot, session):
    grant = await setup(session)
    chat = bot.chat(MENTOR)
    await chat.press_data(f"hib:view:{grant.id}")
    replies = await chat.press("🔁 Catat pengguliran")
    assert "Catat pengguliran: KUBE Mawar – UEP – 0%" in shown(replies)
    assert "Kapan digulirkan?" in chat.last_text()


async def test_two_grants_of_the_same_kind_are_told_apart(bot, session):
    grant = await setup(session)
    group = await session.get(Group, grant.group_id)
    mentor = await session.get(Mentor, grant.recorded_by)
    await make_grant(session, group, mentor, received_on=date(2026, 9, 1))
    chat = bot.chat(MENTOR)
    await chat.send("/gulir")
    assert chat.buttons() == ["KUBE Mawar – UEP – 0% (17 Agu 2026)",
                              "KUBE Mawar – UEP – 0% (1 Sep 2026)"]


async def test_a_grant_without_an_obligation_is_not_offered(bot, session):
    free = await setup(session, rollover_required=False)
    chat = bot.chat(MENTOR)
    replies = await chat.send("/gulir")  # the only grant need not be rolled over
    assert "Belum ada bantuan yang wajib digulirkan" in shown(replies)
    group = await session.get(Group, free.group_id)
    mentor = await session.get(Mentor, free.recorded_by)
    await make_grant(session, group, mentor, kind="daerah", received_on=date(2026, 9, 1))
    await chat.send("/gulir")
    assert chat.buttons() == ["KUBE Mawar – daerah – 0%"]  # only the one with an obligation
    await chat.send("/batal")

    # An old button or forged data naming it: said to have no obligation, nothing asked.
    replies = await chat.press_data(f"gul:start:{free.id}")
    assert "tidak wajib digulirkan, jadi tidak ada pengguliran yang perlu dicatat" in \
        shown(replies)
    assert await draft(session) is None
    await chat.press_data(f"hib:view:{free.id}")
    view = chat.last_text()
    assert "Tidak wajib digulirkan." in view and "Kewajiban" not in view
    assert "🔁 Catat pengguliran" not in chat.buttons()
    assert await rollovers(session) == []


async def test_the_command_reads_the_grants_to_pick_from_once(bot, session):
    # /gulir counts the grants to pick from, then asks with them: one read of them, not two.
    await setup(session)
    reads: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT rollover.grant_id"):
            reads.append(statement)
    engine = bot.app.bot_data.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await bot.chat(MENTOR).send("/gulir")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert bot.chat(MENTOR).buttons() == ["KUBE Mawar – UEP – 0%"]
    assert len(reads) == 1
