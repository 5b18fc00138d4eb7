"""/kunjungan through the real Application over HTTP: what the mentor sees and what is saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from sqlalchemy import select

from models.tables import AuditLog, Group, Mentor
from tests.factories import make_group, make_mentor, rows, shown
from tests.handlers.visit_walks import (
    DUE,
    FORMED,
    MENTOR,
    OTHER,
    assert_retried,
    draft,
    mentor_with_group,
    to_activities,
    to_amounts,
    to_assets,
    to_attendance,
    to_date,
    to_figures,
    to_follow_up,
    to_location,
    to_next_date,
    to_photos,
    to_problems,
    to_summary,
    visits,
)
from tests.harness import ChatUser

# --- the whole visit -----------------------------------------------------------------------

async def test_full_visit_with_location_and_two_photos(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)

    replies = await chat.send("/kunjungan")
    assert "Kunjungan ke kelompok mana?" in shown(replies)
    assert chat.buttons() == ["KUBE Mawar (terlambat 12 hari)"]  # one group: still a button

    replies = await chat.press("KUBE Mawar (terlambat 12 hari)")
    # The start rides on the first question: one message to wait for, not two.
    assert "Catat kunjungan ke KUBE Mawar" in chat.last_text()
    assert "Kapan kunjungannya?" in chat.last_text() and "Contoh:" in chat.last_text()
    assert chat.buttons() == ["📅 Hari ini"]

    replies = await chat.send("kemarin")
    assert "24 November 2026" in shown(replies)
    assert "anggota aktif ada 7 KK" in chat.last_text() and "Contoh: 6" in chat.last_text()

    await chat.send("6 orang")
    assert "Kegiatan apa saja" in chat.last_text()
    replies = await chat.press("▫️ Pemantauan usaha")
    assert not [m for m in replies if m.edits == []], "toggling edits in place, sends nothing"
    await chat.press("▫️ Pembukuan")
    assert "✅ Pemantauan usaha" in chat.buttons() and "✅ Pembukuan" in chat.buttons()
    await chat.press("▫️ Pemasaran")
    await chat.press("✅ Pemasaran")  # untick
    assert "▫️ Pemasaran" in chat.buttons()
    await chat.press("Selesai")

    # The group's first visit: its figures are counted from the day it was formed.
    assert "Catat angka usaha kelompok sejak kelompok dibentuk, 10 Jan 2026" in chat.last_text()
    # Every optional question offers to save what is in (test_visit_short.py).
    assert chat.buttons() == ["Ya", "Lewati", "💾 Simpan sekarang"]
    await chat.press("Ya")
    assert "omzet" in chat.last_text() and "Contoh:" in chat.last_text()
    assert "sejak kelompok dibentuk, 10 Jan 2026" in chat.last_text()
    await chat.send("1,5 jt")
    assert "keuntungan" in chat.last_text()
    await chat.send("Rp 300.000")
    assert "kas" in chat.last_text()
    await chat.press("Lewati")
    assert "IKS" in chat.last_text()
    await chat.send("50rb")
    assert "Catat aset kelompok" in chat.last_text()
    assert chat.buttons() == ["Ya", "Lewati", "💾 Simpan sekarang"]
    await chat.press("Lewati")

    assert "masalah" in chat.last_text()
    await chat.send("Harga pakan naik, 2 anggota jarang hadir")
    assert "tindak lanjut" in chat.last_text()
    await chat.press("Lewati")

    assert "lokasi" in chat.last_text()
    assert chat.reply_keyboard() == [["📍 Kirim lokasi"], ["Lewati"], ["💾 Simpan sekarang"]]
    replies = await chat.share_location(-6.8937, 106.7846)
    assert "Lokasi tercatat" in shown(replies)
    assert chat.reply_keyboard() is None

    assert "Kirim foto" in chat.last_text()
    replies = await chat._act(lambda: bot.server.send_photo(MENTOR, file_id="FOTO-BESAR-1"))
    assert "1 foto diterima" in shown(replies)
    replies = await chat._act(lambda: bot.server.send_photo(MENTOR, file_id="FOTO-BESAR-2"))
    assert "2 foto diterima" in shown(replies)
    await chat.press("Selesai")

    assert "Kapan kunjungan berikutnya?" in chat.last_text()
    assert chat.buttons() == ["Pakai 24 Desember 2026"]
    await chat.press("Pakai 24 Desember 2026")

    summary = chat.last_text()
    for part in ("Kelompok: KUBE Mawar", "Tanggal: 24 November 2026", "Hadir: 6 dari 7 KK",
                 "Kegiatan: Pemantauan usaha, Pembukuan",
                 "Angka usaha sejak kelompok dibentuk, 10 Jan 2026:", "Omzet: Rp 1.500.000",
                 "Keuntungan: Rp 300.000", "Kas: -", "IKS: Rp 50.000", "Aset: -",
                 "Masalah: Harga pakan naik, 2 anggota jarang hadir", "Tindak lanjut: -",
                 "Lokasi: 📍 tercatat", "Foto: 2 foto",
                 "Kunjungan berikutnya: 24 Desember 2026"):
        assert part in summary, part
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    assert await visits(session) == []

    replies = await chat.press("✅ Simpan")
    assert "Tersimpan" in shown(replies) and "24 Desember 2026" in shown(replies)
    assert chat.buttons(chat.messages()[-2]) == []  # the summary's buttons are gone
    # The stage question comes with it; leaving it unanswered changes nothing.
    assert "Apakah tahap KUBE Mawar berubah? Sekarang: Tumbuh" in chat.last_text()
    assert chat.buttons() == ["✅ Tumbuh (sekarang)", "Berkembang", "Maju/Mandiri", "Tidak berubah"]

    [visit] = await visits(session)
    assert (visit.group_id, visit.visited_on, visit.attendance) == (group_id, date(2026, 11, 24), 6)
    assert visit.activities == ["pemantauan", "pembukuan"]
    assert (visit.turnover, visit.profit, visit.cash, visit.solidarity_fee) == (
        1_500_000, 300_000, None, 50_000)
    assert visit.figures_from == FORMED
    assert (visit.livestock_count, visit.equipment_value, visit.stock_value) == (None,) * 3
    assert visit.problems == "Harga pakan naik, 2 anggota jarang hadir"
    assert visit.follow_up is None
    assert (visit.latitude, visit.longitude) == (-6.8937, 106.7846)
    assert visit.photo_file_ids == ["FOTO-BESAR-1", "FOTO-BESAR-2"]  # the largest sizes
    assert visit.next_visit_on == date(2026, 12, 24)
    saved_group = await session.get(Group, group_id)
    assert saved_group.next_visit_due == date(2026, 12, 24)

    rows = (await session.execute(select(AuditLog).where(
        AuditLog.entity_id.in_([visit.id, group_id])).order_by(AuditLog.id))).scalars().all()
    assert ("visit", "create", visit.id) in [(r.entity, r.action, r.entity_id) for r in rows]
    group_update = [r for r in rows if (r.entity, r.action) == ("group", "update")]
    assert group_update[-1].old == {"next_visit_due": "2026-11-13"}
    assert group_update[-1].new == {"next_visit_due": "2026-12-24"}
    assert await draft(session) is None  # the draft is gone after saving

    # The next /kunjungan starts afresh and the group is no longer overdue.
    await chat.send("/kunjungan")
    assert chat.buttons() == ["KUBE Mawar"]


# --- wrong answers: a short explanation with an example, then the same question --------------

async def test_bad_dates_attendance_activities_amounts_and_next_date(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_date(chat)
    ask_date = "Kapan kunjungannya?"

    assert_retried(await chat.send("besok"), "tidak boleh setelah hari ini (25 November 2026)",
                   ask_date)
    assert_retried(await chat.send("30/12/2026"), "tidak boleh setelah hari ini", ask_date)
    assert_retried(await chat.send("1/1/2026"),
                   "sebelum KUBE Mawar dibentuk (10 Januari 2026)", ask_date)
    replies = await chat.send("tanggal berapa ya")
    assert_retried(replies, "tidak bisa saya baca", ask_date)
    assert "/batal" in replies[-2].content  # the third miss offers a way out
    assert (await draft(session))["_state"] == 2

    await chat.send("25 Nov")
    ask_attendance = "Berapa KK yang hadir?"
    for answer in ("8", "-1", "banyak", "6,5"):
        assert_retried(await chat.send(answer), "0 sampai 7", ask_attendance)
    await chat.send("tujuh")

    ask_activities = "Kegiatan apa saja"
    assert_retried(await chat.press("Selesai"), "Pilih minimal satu kegiatan", ask_activities)
    assert_retried(await chat.send("rapat"), "menekan tombol", ask_activities)  # no activity
    await chat.send("pembukuan")  # an activity's name: ticked
    await chat.send("selesai")  # typed Selesai works too

    assert_retried(await chat.send("mungkin"), "Tekan Ya", "Catat angka usaha")
    await chat.send("ya")
    for answer in ("seratus", "-5000", "999 M"):
        assert_retried(await chat.send(answer), "tidak bisa saya baca", "omzet")
    await chat.send("-")  # skipped
    await chat.send("0")
    await chat.send("2.000.000")
    await chat.send("lewati")
    assert_retried(await chat.send("mungkin"), "Tekan Ya untuk mencatat aset",
                   "Catat aset kelompok")
    await chat.send("ya")
    for answer in ("banyak", "-3", "12,5 ekor"):
        assert_retried(await chat.send(answer), "Contoh: 12 ekor", "ekor ternak")
    await chat.send("dua belas ekor kambing")
    assert_retried(await chat.send("mahal"), "tidak bisa saya baca", "nilai peralatan")
    await chat.send("5 jt")
    await chat.send("-")

    assert_retried(await chat.send("!!!"), "dengan kata-kata", "masalah")
    await chat.send("tidak ada")
    # A very long note is kept, cut to 1000 characters, and the mentor is told.
    replies = await chat.send("x" * 1200)
    assert "1000 huruf pertama" in shown(replies) and "Kirim lokasi" in shown(replies)

    assert_retried(await chat.send("di balai desa"), "Kirim lokasi", "lokasi kunjungan")
    assert chat.reply_keyboard() == [["📍 Kirim lokasi"], ["Lewati"], ["💾 Simpan sekarang"]]
    await chat.send("-6.9, 106.78")  # typed coordinates, as copied from a map

    assert_retried(await chat.send_document("foto.jpg", b"\xff\xd8\xff demo"),
                   "sebagai file", "Kirim foto")
    assert_retried(await chat.send("nanti"), "Yang saya tunggu foto", "Kirim foto")
    await chat.send_photo()
    await chat.press("Selesai")

    ask_next = "Kapan kunjungan berikutnya?"
    assert "Pakai 25 Desember 2026" in chat.buttons()
    assert_retried(await chat.send("20/11/2026"),
                   "harus setelah 25 November 2026 dan paling lambat 25 November 2027", ask_next)
    assert_retried(await chat.send("1/1/2028"), "paling lambat 25 November 2027", ask_next)
    assert_retried(await chat.send("kapan-kapan"), "tidak bisa saya baca", ask_next)
    await chat.send("10 Jan")  # no year: the first 10 January after the visit

    # Nothing was lost on the way.
    summary = chat.last_text()
    for part in ("Tanggal: 25 November 2026", "Hadir: 7 dari 7 KK", "Kegiatan: Pembukuan",
                 "Omzet: -", "Keuntungan: Rp 0", "Kas: Rp 2.000.000", "IKS: -",
                 "Aset: ternak 12 ekor, peralatan Rp 5.000.000", "Masalah: -",
                 "Tindak lanjut: " + "x" * 1000 + "\n", "Lokasi: 📍 tercatat", "Foto: 1 foto",
                 "Kunjungan berikutnya: 10 Januari 2027"):
        assert part in summary, part
    await chat.press("✅ Simpan")
    [visit] = await visits(session)
    assert (visit.latitude, visit.longitude) == (-6.9, 106.78)
    assert visit.next_visit_on == date(2027, 1, 10) and visit.turnover is None
    assert visit.profit == 0 and visit.cash == 2_000_000
    assert (visit.livestock_count, visit.equipment_value, visit.stock_value) == (
        12, 5_000_000, None)


async def test_stickers_and_stray_commands_keep_the_question(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_attendance(chat)
    replies = await chat.send_sticker()
    assert "belum bisa membaca" in replies[0].content
    assert "Berapa KK yang hadir?" in replies[-1].content
    replies = await chat.send("/kelompok")
    assert "sedang mengisi catatan kunjungan" in replies[0].content
    assert "Berapa KK yang hadir?" in replies[-1].content
    await chat.send("5")
    assert (await draft(session))["attendance"] == 5


# --- /batal at every step saves nothing -------------------------------------------------------

WALKS: list[Callable[[ChatUser], Awaitable[None]]] = [
    to_date, to_attendance, to_activities, to_figures, to_amounts, to_assets, to_problems,
    to_follow_up,
    to_location, to_photos, to_next_date, to_summary,
]


ASKED = {to_assets, to_photos, to_next_date, to_summary}


async def at_group_question(chat: ChatUser) -> None:
    await chat.send("/kunjungan")


@pytest.mark.parametrize("walk", [at_group_question, *WALKS], ids=lambda w: w.__name__)
async def test_cancel_at_each_step_saves_nothing(bot, session, walk):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await walk(chat)
    replies = await chat.send("/batal")
    if walk in ASKED:  # eight answers or more: asked first (test_batal_after_much_typed_asks)
        assert shown(replies).startswith("Buang yang sudah diketik?")
        replies = await chat.press("🗑 Ya, buang")
    assert "dibatalkan" in shown(replies) and "Tidak ada yang disimpan" in shown(replies)
    assert chat.reply_keyboard() is None
    assert await visits(session) == []
    assert await draft(session) is None
    assert (await session.get(Group, group_id)).next_visit_due == DUE
    # An answer now is not taken for the cancelled question, and /kunjungan starts afresh.
    await chat.send("6")
    assert await visits(session) == [] and await draft(session) is None
    await chat.send("/kunjungan")
    assert "Kunjungan ke kelompok mana?" in chat.last_text()


async def test_batal_button_on_the_summary(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_summary(chat)
    replies = await chat.press("❌ Batal")
    assert shown(replies).endswith("Buang yang sudah diketik? Kalau dibuang, tidak ada yang "
                                   "disimpan.")
    assert chat.buttons(chat.messages()[-2]) == []  # the summary's buttons are closed
    assert chat.buttons() == ["🗑 Ya, buang", "Tidak, lanjutkan"]
    replies = await chat.press("🗑 Ya, buang")
    assert "dibatalkan" in shown(replies)
    assert await visits(session) == [] and await draft(session) is None


async def test_batal_after_much_typed_asks_and_tidak_keeps_everything(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_problems(chat)
    assert (await chat.send("/batal"))[-1].text == "Baik, dibatalkan. Tidak ada yang disimpan."
    await to_problems(chat)
    problems = "Harga pakan naik dua kali bulan ini, dua ekor kambing sakit"
    await chat.send(problems)
    await chat.send("/batal")
    assert chat.last_text() == "Buang yang sudah diketik? Kalau dibuang, tidak ada yang disimpan."
    assert chat.buttons() == ["🗑 Ya, buang", "Tidak, lanjutkan"]
    kept = await draft(session)
    replies = await chat.press("Tidak, lanjutkan")
    assert "Tidak, lanjutkan" in chat.messages()[-2].text  # noted under the question
    assert replies[-1].text == chat.last_text() and "tindak lanjut" in chat.last_text().lower()
    answers = {key: value for key, value in kept.items() if not key.startswith("_")}
    assert kept["problems"] == problems and len(answers) > 10
    assert {key: (await draft(session))[key] for key in answers} == answers
    await chat.send("/batal")  # asked again: Tidak cleared the first answer
    await chat.send("ya")  # typed: "Ya, buang", not the follow-up's note
    assert chat.last_text() == "✓ Ya, buang\n\nBaik, dibatalkan. Tidak ada yang disimpan."
    assert await visits(session) == [] and await draft(session) is None


# --- whose group ------------------------------------------------------------------------------

async def test_a_group_may_be_picked_by_typing_part_of_its_name(bot, session):
    await mentor_with_group(session)
    mentor = await session.get(Mentor, (await rows(session, Group))[0].mentor_id)
    await make_group(session, mentor, name="KUBE Melati", formed_on=FORMED)
    other = await make_mentor(session, telegram_id=OTHER, name="Budi")
    await make_group(session, other, name="KUBE Anggrek", formed_on=FORMED)
    chat = bot.chat(MENTOR)
    await chat.send("/kunjungan")
    # Two groups hold "kube": which one, and the same question.
    replies = await chat.send("kube")
    assert 'yang mana: "KUBE Mawar (terlambat 12 hari)" atau "KUBE Melati"?' in shown(replies)
    assert "Kunjungan ke kelompok mana?" in chat.last_text()
    # Another mentor's group is no choice, typed or pressed.
    replies = await chat.send("anggrek")
    assert "Kunjungan ke kelompok mana?" in chat.last_text()
    assert "group_id" not in (await draft(session))
    replies = await chat.send("mawar")
    assert "✓ KUBE Mawar" in shown(replies) and "Kapan kunjungannya?" in chat.last_text()


async def test_forged_or_foreign_group_is_refused(bot, session):
    await mentor_with_group(session)
    other = await make_mentor(session, telegram_id=OTHER, name="Budi")
    foreign = await make_group(session, other, name="KUBE Melati", formed_on=FORMED)
    foreign_id = foreign.id
    chat = bot.chat(MENTOR)

    # "Catat kunjungan" of another mentor's group (a forged button).
    replies = await chat.press_data(f"kun:start:{foreign_id}")
    assert "Kelompok tidak ditemukan" in shown(replies)
    assert "Kunjungan ke kelompok mana?" in chat.last_text()
    assert chat.buttons() == ["KUBE Mawar (terlambat 12 hari)"]
    assert "KUBE Melati" not in shown(replies)

    # A forged group button at the group question.
    replies = await chat.press_data(f"kun:group:{foreign_id}")
    assert "Kelompok tidak ditemukan" in shown(replies)
    assert "Kunjungan ke kelompok mana?" in chat.last_text()
    replies = await chat.press_data("kun:group:999999")
    assert "Kelompok tidak ditemukan" in shown(replies)
    assert "group_id" not in (await draft(session))

    # Typing another mentor's group name instead of pressing picks nothing.
    assert_retried(await chat.send("KUBE Melati"), "Tekan salah satu tombol",
                   "Kunjungan ke kelompok mana?")
    await chat.press("KUBE Mawar")
    assert (await draft(session))["group_name"] == "KUBE Mawar"


async def test_start_button_of_own_group_skips_the_group_question(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    replies = await chat.press_data(f"kun:start:{group_id}")
    assert "Catat kunjungan ke KUBE Mawar" in shown(replies)
    assert "Kapan kunjungannya?" in chat.last_text()


async def test_mentor_without_groups_is_sent_to_register_one(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    replies = await chat.send("/kunjungan")
    assert "/tambah_kelompok" in shown(replies)
    assert await draft(session) is None
    replies = await chat.send("6")
    assert "/tambah_kelompok" not in shown(replies)  # no conversation was left open


async def test_unregistered_user_is_refused(bot, session):
    chat = bot.chat(OTHER)
    replies = await chat.send("/kunjungan")
    assert "belum terdaftar" in shown(replies)


async def test_group_taken_away_before_saving(bot, session):
    group_id = await mentor_with_group(session)
    other = await make_mentor(session, telegram_id=OTHER, name="Budi")
    other_id = other.id
    chat = bot.chat(MENTOR)
    await to_summary(chat)
    group = await session.get(Group, group_id)
    group.mentor_id = other_id
    await session.commit()
    replies = await chat.press("✅ Simpan")
    assert "tidak bisa disimpan" in shown(replies)
    assert await visits(session) == [] and await draft(session) is None


# --- restarts and redeliveries ------------------------------------------------------------------

async def test_restart_in_the_middle_then_complete(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_activities(chat)
    await chat.press("▫️ Pemantauan usaha")

    await bot.restart()

    await chat.press("▫️ Penguatan kelompok")  # the same message, after the restart
    assert "✅ Pemantauan usaha" in chat.buttons() and "✅ Penguatan kelompok" in chat.buttons()
    await chat.press("Selesai")
    await chat.press("Lewati")  # figures
    await chat.press("Lewati")  # problems
    await bot.restart()
    await chat.press("Lewati")  # follow-up
    await chat.share_location(-6.9, 106.8)
    await chat.press("Selesai")
    await chat.press("Pakai 24 Desember 2026")
    assert "Hadir: 6 dari 7 KK" in chat.last_text()
    await chat.press("✅ Simpan")
    [visit] = await visits(session)
    assert visit.group_id == group_id and visit.attendance == 6
    assert visit.activities == ["pemantauan", "penguatan"]


async def test_kunjungan_again_continues_the_unfinished_visit(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_figures(chat)
    replies = await chat.send("/kunjungan")
    assert "belum selesai" in shown(replies)
    assert "Catat angka usaha" in chat.last_text()
    assert (await draft(session))["attendance"] == 6


async def test_a_second_visit_on_the_same_day_is_pointed_out(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_summary(chat)  # "kemarin": 24 November
    assert "Sudah ada kunjungan" not in chat.last_text()
    await chat.press("✅ Simpan")
    await to_summary(chat)  # the same visit typed again
    assert ("⚠️ Sudah ada kunjungan ke KUBE Mawar tanggal 24 November 2026. Kalau ini kunjungan "
            "yang sama, tekan Batal") in chat.last_text()
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    await chat.press("❌ Batal")
    assert len(await visits(session)) == 1


async def test_a_visit_logged_late_leaves_the_schedule_to_the_latest_one(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_summary(chat)  # "kemarin": 24 November, next visit 24 December
    await chat.press("✅ Simpan")
    assert (await session.get(Group, group_id, populate_existing=True)).next_visit_due == \
        date(2026, 12, 24)
    await session.commit()
    # A visit of 20 November, typed afterwards, is history: the schedule stays.
    await to_summary(chat)
    await chat.press("✏️ Ubah")
    await chat.press("Tanggal")
    await chat.send("20/11/2026")
    assert "Tanggal: 20 November 2026" in chat.last_text()
    await chat.press("✅ Simpan")
    assert "Kunjungan berikutnya: 24 Desember 2026." in chat.last_text()
    assert len(await visits(session)) == 2
    assert (await session.get(Group, group_id, populate_existing=True)).next_visit_due == \
        date(2026, 12, 24)
