"""A group's life from its detail: status (tidak aktif, bubar, aktif kembali), stage with its
signs, profile edits (the bank account masked and encrypted) and the history of changes,
through the real Application over HTTP."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import ChangeKind, ReminderStatus, Role
from models import changes
from models import groups as group_queries
from models.tables import AuditLog, Grant, Group, GroupChange, Member, Mentor, Reminder, Visit
from tests.conftest import TODAY
from tests.factories import (
    DISTRICT_ELSEWHERE,
    REGENCY_SUKABUMI,
    make_group,
    make_mentor,
    rows,
    shown,
)
from tests.harness import ChatUser

MENTOR = 701301
COORDINATOR = 701302
FAR_COORDINATOR = 701303
NEIGHBOUR = 701304


async def mentor_with_group(session: AsyncSession, **kwargs) -> Group:
    mentor = await make_mentor(session, telegram_id=MENTOR)
    return await make_group(session, mentor, name="KUBE Mawar", **kwargs)


async def group_row(session: AsyncSession, group_id: int) -> Group:
    await session.rollback()
    return (await session.execute(select(Group).where(Group.id == group_id)
                                  .execution_options(populate_existing=True))).scalar_one()


async def history(session: AsyncSession, group_id: int) -> list[GroupChange]:
    await session.rollback()
    return list((await session.execute(
        select(GroupChange).where(GroupChange.group_id == group_id)
        .order_by(GroupChange.id))).scalars())


async def pending_visit_reminders(session: AsyncSession, group_id: int) -> int:
    await session.rollback()
    return (await session.execute(select(func.count()).select_from(Reminder).where(
        Reminder.subject_id == group_id, Reminder.rule.like("visit%"),
        Reminder.status == ReminderStatus.PENDING))).scalar_one()


async def open_detail(chat: ChatUser, group_id: int) -> str:
    await chat.press_data(f"kel:det:{group_id}")
    return chat.last_text()


async def change_status(chat: ChatUser, group_id: int, to: str, reason: str | None = None,
                        note: str | None = None) -> None:
    await open_detail(chat, group_id)
    await chat.press("🚦 Status")
    await chat.press(to)
    if reason:
        await chat.press(reason)
    if note:
        await chat.send(note)
    await chat.press("Hari ini")


async def test_stage_change_shows_the_signs_and_the_history(bot, session):
    gid = (await mentor_with_group(session)).id
    chat = bot.chat(MENTOR)
    detail = await open_detail(chat, gid)
    assert "Status: Aktif" in detail
    assert {"🚦 Status", "🌱 Tahap", "✏️ Ubah data", "🗂 Riwayat perubahan"} <= set(chat.buttons())
    await chat.press("🌱 Tahap")
    asked = chat.last_text()
    assert "Tahap KUBE Mawar sekarang: Tumbuh" in asked
    assert "• Tumbuh: usaha berjalan, pembukuan sederhana, IKS mulai terkumpul" in asked
    assert "• Maju/Mandiri: usaha stabil, punya tabungan kelompok" in asked
    assert chat.buttons() == ["✓ Tumbuh", "Berkembang", "Maju/Mandiri"]
    # Typed, and no button's name: an example and the same question.
    await chat.send("naik")
    assert "Contoh: tekan" in shown(chat.messages()[-2:])
    assert "Tanda-tanda tiap tahap" in chat.last_text()
    # The current stage is not a change.
    await chat.press("✓ Tumbuh")
    assert "memang sudah di tahap Tumbuh" in shown(chat.messages()[-2:])
    await chat.press("Berkembang")
    assert "Tulis singkat, atau tekan Lewati" in chat.last_text()
    await chat.send("keuntungan sudah dibagi ke anggota")
    assert chat.last_text() == "✅ Tahap KUBE Mawar: Tumbuh → Berkembang."

    assert (await group_row(session, gid)).stage == "berkembang"
    stage_rows = [row for row in await history(session, gid) if row.kind == "stage"]
    assert [(row.old, row.new, row.note, row.changed_on) for row in stage_rows[-1:]] == [
        ("tumbuh", "berkembang", "keuntungan sudah dibagi ke anggota", TODAY)]

    detail = await open_detail(chat, gid)
    assert "Perubahan terakhir:" in detail
    assert "Tahap: Tumbuh → Berkembang" in detail
    assert "oleh Siti Rahma – keuntungan sudah dibagi ke anggota" in detail
    await chat.press("🗂 Riwayat perubahan")
    listed = chat.last_text()
    assert listed.startswith("Riwayat perubahan KUBE Mawar (")
    assert "Tahap: Tumbuh → Berkembang" in listed


async def test_an_inactive_group_gets_no_reminders_but_stays_in_reports(bot, session):
    gid = (await mentor_with_group(session, next_visit_due=date(2026, 11, 20))).id
    await make_mentor(session, telegram_id=COORDINATOR, name="Kord Sukabumi",
                      role=Role.COORDINATOR, area_code=REGENCY_SUKABUMI)
    assert await pending_visit_reminders(session, gid) > 0
    chat = bot.chat(MENTOR)
    await chat.send("/jadwal")
    assert "KUBE Mawar" in chat.last_text()  # 5 days overdue
    await open_detail(chat, gid)
    await chat.press("🚦 Status")
    assert "Status KUBE Mawar sekarang: Aktif" in chat.last_text()
    assert chat.buttons() == ["⏸ Tidak aktif", "⛔ Bubar"]
    await chat.send("libur")  # typed, and no button's name: an example and the same question
    assert "Contoh: tekan \"Tidak aktif\"" in shown(chat.messages()[-2:])
    await chat.send("tidak aktif")  # its name: as pressed
    await chat.press("Usaha berhenti")
    assert "Sejak tanggal berapa?" in chat.last_text()
    await chat.send("kapan-kapan")
    assert "tidak bisa saya baca. Contoh:" in shown(chat.messages()[-2:])
    assert "Sejak tanggal berapa?" in chat.last_text()
    await chat.send("30/11/2026")
    assert "tidak boleh setelah hari ini" in shown(chat.messages()[-2:])
    await chat.send("20/11/2026")
    summary = chat.last_text()
    assert "Status: Aktif → Tidak aktif" in summary and "Alasan: Usaha berhenti" in summary
    assert "tidak mendapat pengingat kunjungan" in summary
    # One answer changed from the summary, the others kept.
    await chat.press("✏️ Ubah")
    assert chat.buttons() == ["Alasan", "Tanggal", "« Kembali"]
    await chat.press("Alasan")
    await chat.press("Bencana")
    summary = chat.last_text()
    assert "Alasan: Bencana" in summary and "Sejak: 20 November 2026" in summary
    await chat.press("✅ Simpan")
    assert chat.last_text() == "✅ Status KUBE Mawar sekarang Tidak aktif (sejak 20 November 2026)."

    stored = await group_row(session, gid)
    assert (stored.status, stored.status_reason, stored.status_on) == (
        "tidak_aktif", "bencana", date(2026, 11, 20))
    assert await pending_visit_reminders(session, gid) == 0
    await chat.send("/kelompok")
    assert "KUBE Mawar (Tidak aktif)" in chat.last_text() and "terlambat" not in chat.last_text()
    await chat.send("/jadwal")
    assert "KUBE Mawar" not in chat.last_text()
    detail = await open_detail(chat, gid)
    assert "Status: Tidak aktif sejak 20 November 2026 – Bencana" in detail
    # Still counted in the area's report.
    report = (await bot.chat(COORDINATOR).send("/rekap bulan ini"))[0].text
    assert "Kelompok: 1" in report and "tidak aktif 1" in report.lower()
    # A visit may still be logged (the group may be starting again): the mentor is told.
    replies = await chat.press_data(f"kun:start:{gid}")
    assert "⏸ KUBE Mawar tercatat tidak aktif sejak 20 November 2026" in replies[0].text
    await chat.send("/batal")

    # Reactivated: recorded, and the visit reminders come back.
    await change_status(chat, gid, "✅ Aktif kembali")
    assert "Pengingat kunjungan dijadwalkan lagi" in chat.last_text()
    await chat.press("✅ Simpan")
    assert "sekarang Aktif" in chat.last_text()
    back = await group_row(session, gid)
    assert (back.status, back.next_visit_due) == ("aktif", TODAY)  # due now, not in the past
    assert await pending_visit_reminders(session, gid) > 0
    status_rows = [(row.old, row.new, row.reason, row.by_mentor_id is not None)
                   for row in await history(session, gid) if row.kind == "status"]
    assert status_rows[-2:] == [("aktif", "tidak_aktif", "bencana", True),
                                ("tidak_aktif", "aktif", "aktif_kembali", True)]


async def test_a_dissolved_group_is_read_only(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    gid = (await make_group(session, mentor, name="KUBE Mawar")).id
    await make_group(session, mentor, name="KUBE Melati")
    chat = bot.chat(MENTOR)
    await change_status(chat, gid, "⛔ Bubar", "Lainnya", note="semua anggota pindah")
    summary = chat.last_text()
    assert "Status: Aktif → Bubar" in summary and "Catatan: semua anggota pindah" in summary
    assert "⚠️ Kelompok yang bubar tidak bisa dicatat lagi" in summary
    await chat.press("✅ Simpan")
    assert "sekarang Bubar" in chat.last_text()
    assert await pending_visit_reminders(session, gid) == 0
    before = {model: len(await rows(session, model)) for model in (Visit, Grant, Member)}

    kind = "KUBE Mawar sudah bubar; catatannya tetap bisa dilihat"
    # /kunjungan offers only the groups that may still be written to, and a start button
    # of the dissolved one is refused kindly.
    await chat.send("/kunjungan")
    assert "KUBE Mawar" not in chat.buttons() and "KUBE Melati" in " ".join(chat.buttons())
    await chat.send("/batal")
    await chat.press_data(f"kun:start:{gid}")
    assert kind in shown(chat.messages()[-3:])
    await chat.send("/batal")
    await chat.press_data(f"hib:start:{gid}")
    assert kind in shown(chat.messages()[-3:])
    await chat.send("/batal")
    await chat.press_data(f"mem:add:{gid}")
    assert kind in chat.callback_answers()[-1].text
    await chat.press_data(f"tah:start:{gid}")
    assert kind in chat.callback_answers()[-1].text
    await chat.press_data(f"prf:start:{gid}")
    assert kind in chat.callback_answers()[-1].text
    after = {model: len(await rows(session, model)) for model in (Visit, Grant, Member)}
    assert after == before

    # The records stay visible; only the status can change (back to aktif).
    detail = await open_detail(chat, gid)
    assert "KUBE Mawar (Bubar)" in detail and "Anggota (7 KK)" in detail
    buttons = chat.buttons()
    assert "🚦 Status" in buttons and "🌱 Tahap" not in buttons and "✏️ Ubah data" not in buttons
    assert "📝 Catat kunjungan" not in buttons
    await chat.press("🚦 Status")
    assert chat.buttons() == ["✅ Aktif kembali"]
    await chat.press("✅ Aktif kembali")
    await chat.press("Hari ini")
    await chat.press("✅ Simpan")
    assert (await group_row(session, gid)).status == "aktif"
    await chat.press_data(f"kun:start:{gid}")
    assert "Kapan kunjungannya?" in chat.last_text()
    assert kind not in shown(chat.messages()[-3:])


async def test_profile_edits_name_business_and_bank_account(bot, session):
    gid = (await mentor_with_group(session)).id
    chat = bot.chat(MENTOR)
    await open_detail(chat, gid)
    await chat.press("✏️ Ubah data")
    await chat.press("Nama")
    await chat.send("🌸🌸")
    assert "Contoh: KUBE Mawar Sejahtera" in shown(chat.messages()[-2:])
    await chat.send("KUBE Mawar Jaya")
    assert "Nama: KUBE Mawar → KUBE Mawar Jaya" in chat.last_text()

    await open_detail(chat, gid)
    await chat.press("✏️ Ubah data")
    await chat.press("Jenis usaha")
    assert {"Simpan pinjam", "Warung/e-Warong", "Jasa"} <= set(chat.buttons())
    await chat.press("Warung/e-Warong")
    assert "Jenis usaha: Ternak → Warung/e-Warong" in chat.last_text()

    await open_detail(chat, gid)
    await chat.press("✏️ Ubah data")
    await chat.press("Rekening bank")
    await chat.send("BRI")
    await chat.send("KUBE Mawar Jaya")
    await chat.send("12ab")
    assert "Contoh: 0123 4567 8901" in shown(chat.messages()[-2:])
    assert "nomor rekeningnya" in chat.last_text()
    await chat.send("0123 4567 8901")
    assert "****8901" in chat.last_text() and "Nomor rekening: - → ****8901" in chat.last_text()
    detail = await open_detail(chat, gid)
    assert "Rekening: BRI a.n. KUBE Mawar Jaya – ****8901" in detail
    assert not any("012345678901" in said or "8901 " in said for said in chat.texts())

    stored = await group_row(session, gid)
    assert (stored.name, stored.business_type, stored.bank_name, stored.bank_account) == (
        "KUBE Mawar Jaya", "warung", "BRI", "012345678901")
    raw = (await session.execute(text("SELECT bank_account FROM kube_group WHERE id = :id"),
                                 {"id": gid})).scalar_one()
    assert raw and "012345678901" not in raw and "8901" not in raw
    changed = {row.field: (row.old, row.new) for row in await history(session, gid)
               if row.kind == "profile"}
    assert changed["name"] == ("KUBE Mawar", "KUBE Mawar Jaya")
    assert changed["business_type"] == ("ternak", "warung")
    assert changed["bank_account"] == (None, "****8901")
    audits = (await session.execute(select(AuditLog).where(
        AuditLog.entity == "group", AuditLog.entity_id == gid,
        AuditLog.action == "update"))).scalars().all()
    assert any(entry.new.get("bank_account") == "***" for entry in audits)
    assert not any("012345678901" in str(entry.new) for entry in audits)


async def test_profile_edits_ties_and_the_decree(bot, session):
    gid = (await mentor_with_group(session)).id
    chat = bot.chat(MENTOR)
    await open_detail(chat, gid)
    await chat.press("✏️ Ubah data")
    await chat.press("Ikatan")
    assert "✅ Kedekatan tempat tinggal" in chat.buttons()
    await chat.press("▫️ Motivasi")
    await chat.press("Selesai")
    assert "Ikatan: Kedekatan tempat tinggal → Kedekatan tempat tinggal, Motivasi yang sama" \
        in chat.last_text()
    await open_detail(chat, gid)
    await chat.press("✏️ Ubah data")
    await chat.press("SK bantuan")
    await chat.send("26")
    assert "antara 2000 dan 2026" in shown(chat.messages()[-2:])
    await chat.send("2025")
    await chat.send("460/12/Dinsos/2025")
    assert "Nomor SK: - → 460/12/Dinsos/2025" in chat.last_text()
    stored = await group_row(session, gid)
    assert stored.binding_ties == ["kedekatan", "motivasi"]
    assert (stored.decree_year, stored.decree_number) == (2025, "460/12/Dinsos/2025")
    detail = await open_detail(chat, gid)
    assert "SK bantuan: 460/12/Dinsos/2025 (2025)" in detail


async def test_only_the_mentor_and_the_area_staff_may_change_a_group(bot, session):
    gid = (await mentor_with_group(session)).id
    await make_mentor(session, telegram_id=COORDINATOR, role=Role.COORDINATOR,
                      area_code=REGENCY_SUKABUMI, name="Kord Sukabumi")
    await make_mentor(session, telegram_id=FAR_COORDINATOR, role=Role.COORDINATOR,
                      area_code=DISTRICT_ELSEWHERE[:5], name="Kord Makassar")
    await make_mentor(session, telegram_id=NEIGHBOUR, name="Tetangga")
    before = await history(session, gid)
    for user in (FAR_COORDINATOR, NEIGHBOUR):
        chat = bot.chat(user)
        for data in (f"sts:start:{gid}", f"tah:start:{gid}",
                     f"prf:start:{gid}", f"chg:list:{gid}:1",
                     f"kel:det:{gid}", "sts:start:999999"):
            await chat.press_data(data)
            assert chat.callback_answers()[-1].text.startswith("Kelompok tidak ditemukan"), data
        # An answer forged for a question never asked changes nothing either.
        await chat.press_data("sts:to:bubar")
        await chat.press_data("tah:stage:mandiri")
    stored = await group_row(session, gid)
    assert (stored.status, stored.stage, stored.name) == ("aktif", "tumbuh", "KUBE Mawar")
    assert len(await history(session, gid)) == len(before)

    # A coordinator of the group's area may.
    chat = bot.chat(COORDINATOR)
    await open_detail(chat, gid)
    await chat.press("🌱 Tahap")
    await chat.press("Maju/Mandiri")
    await chat.press("Lewati")
    assert chat.last_text() == "✅ Tahap KUBE Mawar: Tumbuh → Maju/Mandiri."
    assert (await history(session, gid))[-1].by_mentor_id is not None
    detail = await open_detail(bot.chat(MENTOR), gid)
    assert "oleh Kord Sukabumi" in detail


async def test_profile_edit_of_the_village_stays_in_the_mentors_area(bot, session):
    gid = (await mentor_with_group(session)).id
    await make_mentor(session, telegram_id=COORDINATOR, role=Role.COORDINATOR,
                      area_code=REGENCY_SUKABUMI, name="Kord Sukabumi")
    chat = bot.chat(MENTOR)
    await open_detail(chat, gid)
    await chat.press("✏️ Ubah data")
    await chat.press("Desa/kelurahan")
    assert "Sekarang: Desa Sekarwangi" in chat.last_text()
    await chat.send("kalaparea")  # a village of another district: not in the mentor's area
    assert "tidak ketemu di wilayah tugas Anda" in shown(chat.messages()[-2:])
    await chat.send("pamuruyan")
    await chat.press("Desa Pamuruyan")
    assert "Desa/kelurahan: Sekarwangi → Pamuruyan" in chat.last_text()
    assert (await group_row(session, gid)).village_code == "32.02.11.2003"

    # The regency's coordinator sees Kalaparea, but the group's mentor works in Cibadak.
    staff = bot.chat(COORDINATOR)
    await open_detail(staff, gid)
    await staff.press("✏️ Ubah data")
    await staff.press("Desa/kelurahan")
    await staff.send("kalaparea")
    await staff.press("Desa Kalaparea")
    assert "di luar wilayah tugas pendamping kelompok ini" in shown(staff.messages()[-2:])
    assert (await group_row(session, gid)).village_code == "32.02.11.2003"


async def test_the_history_lists_every_change_page_by_page(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar")
    gid = group.id
    member_id = (await group_queries.active_members(session=session, group_id=gid))[0].id
    changes.record(session=session, group_id=gid, kind=ChangeKind.WELFARE,
                   field="welfare_category", old="miskin", new="hampir_miskin", by=mentor,
                   on=date(2026, 11, 1), member_id=member_id)
    for day in range(2, 14):
        changes.record(session=session, group_id=gid, kind=ChangeKind.PROFILE, field="name",
                       old=f"KUBE {day - 1}", new=f"KUBE {day}", by=mentor,
                       on=date(2026, 11, day))
    await session.commit()
    chat = bot.chat(MENTOR)
    detail = await open_detail(chat, gid)
    assert "Perubahan terakhir:" in detail and "Nama: KUBE 12 → KUBE 13" in detail
    await chat.press("🗂 Riwayat perubahan")
    first = chat.last_text()
    assert "Halaman 1 dari 2" in first and "KUBE 13" in first and "KK Anggota 1" not in first
    await chat.press("Berikutnya »")
    second = chat.last_text()
    assert "Halaman 2 dari 2" in second
    assert "KK Anggota 1: miskin → hampir miskin" in second and "oleh Siti Rahma" in second
    assert chat.last().message_id == chat.messages()[-1].message_id  # edited in place
    # Anyone who sees the group may read its history; another mentor may not.
    await make_mentor(session, telegram_id=NEIGHBOUR, name="Tetangga")
    await bot.chat(NEIGHBOUR).press_data(f"chg:list:{gid}:1")
    assert bot.chat(NEIGHBOUR).callback_answers()[-1].text.startswith("Kelompok tidak ditemukan")


async def test_registration_offers_the_new_business_types(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await chat.send("/tambah_kelompok")
    await chat.send("KUBE Maju Bersama")
    await chat.send("sekarwangi")
    await chat.press("Desa Sekarwangi")
    assert {"Simpan pinjam", "Warung/e-Warong", "Jasa"} <= set(chat.buttons())
    await chat.press("Simpan pinjam")
    assert "✓ Simpan pinjam" in chat.texts()[-2]


async def test_a_status_change_cannot_be_dated_before_the_last_one(bot, session):
    group = await mentor_with_group(session, formed_on=date(2026, 6, 3))
    gid, mentor_id = group.id, group.mentor_id
    chat = bot.chat(MENTOR)
    await open_detail(chat, gid)
    await chat.press("🚦 Status")
    await chat.press("⏸ Tidak aktif")
    await chat.press("Usaha berhenti")
    await chat.send("20/11/2026")
    await chat.press("✅ Simpan")
    assert "sejak 20 November 2026" in chat.last_text()

    await open_detail(chat, gid)
    await chat.press("🚦 Status")
    await chat.press("✅ Aktif kembali")
    # Before the last change: a kind example and the same question.
    replies = await chat.send("18/11/2026")
    assert ("Status KUBE Mawar sudah Tidak aktif sejak 20 November 2026, jadi tanggal "
            "perubahannya tidak boleh sebelum itu. Contoh:") in shown(replies)
    assert "Sejak tanggal berapa?" in chat.last_text()
    replies = await chat.send("1/6/2026")
    assert "KUBE Mawar dibentuk 3 Juni 2026" in shown(replies)
    await chat.send("20/11/2026")  # the same day is fine
    assert "Sejak: 20 November 2026" in chat.last_text()
    await chat.press("✏️ Ubah")
    await chat.press("Tanggal")
    await chat.send("22/11/2026")
    await chat.press("✅ Simpan")
    assert "sekarang Aktif (sejak 22 November 2026)" in chat.last_text()

    # Meanwhile someone else records a later change: the save checks the group as stored now.
    await open_detail(chat, gid)
    await chat.press("🚦 Status")
    await chat.press("⏸ Tidak aktif")
    await chat.press("Bencana")
    await chat.send("23/11/2026")
    stored = await group_row(session, gid)
    mentor = await session.get(Mentor, mentor_id)
    await changes.change_status(session=session, group=stored, status="bubar", reason="lainnya",
                                actor=mentor, on=date(2026, 11, 24), today=TODAY)
    await changes.change_status(session=session, group=stored, status="aktif",
                                reason="aktif_kembali", actor=mentor, on=date(2026, 11, 24),
                                today=TODAY)
    replies = await chat.press("✅ Simpan")
    assert "sudah Aktif sejak 24 November 2026" in shown(replies)
    assert "Sejak tanggal berapa?" in chat.last_text()
    await chat.press("Hari ini")
    await chat.press("✅ Simpan")
    assert "sekarang Tidak aktif (sejak 25 November 2026)" in chat.last_text()

    statuses = [(row.new, row.changed_on) for row in await history(session, gid)
                if row.kind == "status"]
    assert statuses == [("aktif", date(2026, 6, 3)), ("tidak_aktif", date(2026, 11, 20)),
                        ("aktif", date(2026, 11, 22)), ("bubar", date(2026, 11, 24)),
                        ("aktif", date(2026, 11, 24)), ("tidak_aktif", TODAY)]
    assert [day for _, day in statuses] == sorted(day for _, day in statuses)


async def test_an_office_rewords_the_signs_of_a_stage(bot, session, settings):
    from bot.core.settings import Settings

    settings.stage_signs = Settings(stage_signs={"tumbuh": "  ada buku kas,\n usaha jalan "}
                                    ).stage_signs
    gid = (await mentor_with_group(session)).id
    chat = bot.chat(MENTOR)
    await open_detail(chat, gid)
    await chat.press("🌱 Tahap")
    asked = chat.last_text()
    assert "• Tumbuh: ada buku kas, usaha jalan" in asked
    assert "• Berkembang: keuntungan dipakai untuk modal dan dibagi ke anggota" in asked
    with pytest.raises(ValueError, match="unknown stage maju; the stages are tumbuh"):
        Settings(stage_signs={"maju": "x"})
