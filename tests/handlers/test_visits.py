"""/kunjungan through the real Application over HTTP: what the mentor sees and what is saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import clock
from models.tables import AuditLog, Group, Mentor, Visit
from tests.conftest import ADMIN_ID
from tests.factories import DISTRICT_ELSEWHERE, make_group, make_mentor, rows, shown, stored_draft
from tests.harness import ChatUser

MENTOR = 700201
OTHER = 700202
TODAY = date(2026, 11, 25)  # a Wednesday; 10:00 WIB
FORMED = date(2026, 1, 10)
DUE = date(2026, 11, 13)  # 12 days overdue on TODAY




async def mentor_with_group(session: AsyncSession, *, members: int = 7) -> int:
    """The mentor MENTOR with one group, KUBE Mawar; returns the group's id."""
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", members=members,
                             formed_on=FORMED, next_visit_due=DUE)
    return group.id


async def visits(session: AsyncSession) -> list[Visit]:
    return await rows(session, Visit)


async def draft(session: AsyncSession) -> dict | None:
    return await stored_draft(session, MENTOR, "visit")



# --- walking the questions -----------------------------------------------------------------

async def to_date(chat: ChatUser) -> None:
    await chat.send("/kunjungan")
    await chat.press("KUBE Mawar")


async def to_attendance(chat: ChatUser) -> None:
    await to_date(chat)
    await chat.send("kemarin")


async def to_activities(chat: ChatUser) -> None:
    await to_attendance(chat)
    await chat.send("6")


async def to_figures(chat: ChatUser) -> None:
    await to_activities(chat)
    await chat.press("▫️ Pemantauan usaha")
    await chat.press("Selesai")


async def to_amounts(chat: ChatUser) -> None:
    await to_figures(chat)
    await chat.press("Ya")


async def to_problems(chat: ChatUser) -> None:
    await to_figures(chat)
    await chat.press("Lewati")


async def to_follow_up(chat: ChatUser) -> None:
    await to_problems(chat)
    await chat.send("Harga pakan naik")


async def to_location(chat: ChatUser) -> None:
    await to_follow_up(chat)
    await chat.send("Cari pemasok pakan")


async def to_photos(chat: ChatUser) -> None:
    await to_location(chat)
    await chat.send("Lewati")


async def to_next_date(chat: ChatUser) -> None:
    await to_photos(chat)
    await chat.press("Selesai")


async def to_summary(chat: ChatUser) -> None:
    await to_next_date(chat)
    await chat.press("Pakai ")


# --- the whole visit -----------------------------------------------------------------------

async def test_full_visit_with_location_and_two_photos(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)

    replies = await chat.send("/kunjungan")
    assert "Kunjungan ke kelompok mana?" in shown(replies)
    assert chat.buttons() == ["KUBE Mawar (terlambat 12 hari)"]  # one group: still a button

    replies = await chat.press("KUBE Mawar (terlambat 12 hari)")
    assert "Catat kunjungan ke KUBE Mawar" in shown(replies)
    assert "Kapan kunjungannya?" in chat.last_text() and "Contoh:" in chat.last_text()
    assert chat.buttons() == ["📅 Hari ini"]

    replies = await chat.send("kemarin")
    assert "24 November 2026" in shown(replies)
    assert "0 sampai 7" in chat.last_text() and "Contoh: 6" in chat.last_text()

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

    assert "Catat angka usaha" in chat.last_text()
    assert chat.buttons() == ["Ya", "Lewati"]
    await chat.press("Ya")
    assert "omzet" in chat.last_text() and "Contoh:" in chat.last_text()
    await chat.send("1,5 jt")
    assert "keuntungan" in chat.last_text()
    await chat.send("Rp 300.000")
    assert "kas" in chat.last_text()
    await chat.press("Lewati")
    assert "IKS" in chat.last_text()
    await chat.send("50rb")

    assert "masalah" in chat.last_text()
    await chat.send("Harga pakan naik, 2 anggota jarang hadir")
    assert "tindak lanjut" in chat.last_text()
    await chat.press("Lewati")

    assert "lokasi" in chat.last_text()
    assert chat.reply_keyboard() == [["📍 Kirim lokasi"], ["Lewati"]]
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
                 "Kegiatan: Pemantauan usaha, Pembukuan", "Omzet: Rp 1.500.000",
                 "Keuntungan: Rp 300.000", "Kas: -", "IKS: Rp 50.000",
                 "Masalah: Harga pakan naik, 2 anggota jarang hadir", "Tindak lanjut: -",
                 "Lokasi: 📍 tercatat", "Foto: 2 foto",
                 "Kunjungan berikutnya: 24 Desember 2026"):
        assert part in summary, part
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    assert await visits(session) == []

    replies = await chat.press("✅ Simpan")
    assert "Tersimpan" in shown(replies) and "24 Desember 2026" in shown(replies)
    assert chat.buttons(chat.messages()[-2]) == []  # the summary's buttons are gone

    [visit] = await visits(session)
    assert (visit.group_id, visit.visited_on, visit.attendance) == (group_id, date(2026, 11, 24), 6)
    assert visit.activities == ["pemantauan", "pembukuan"]
    assert (visit.turnover, visit.profit, visit.cash, visit.solidarity_fee) == (
        1_500_000, 300_000, None, 50_000)
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

def assert_retried(replies, error: str, question: str) -> None:
    """The bot sent ``error`` (with an example) and then asked ``question`` again."""
    texts = [m.content or "" for m in replies]
    assert len(texts) >= 2, texts
    assert error in texts[-2] and "Contoh" in texts[-2], texts
    assert question in texts[-1], texts


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
    assert_retried(await chat.send("pembukuan"), "menekan tombol", ask_activities)
    await chat.press("▫️ Pembukuan")
    await chat.send("selesai")  # typed Selesai works too

    assert_retried(await chat.send("mungkin"), "Tekan Ya", "Catat angka usaha")
    await chat.send("ya")
    for answer in ("seratus", "-5000", "1,5", "999 M"):
        assert_retried(await chat.send(answer), "tidak bisa saya baca", "omzet")
    await chat.send("-")  # skipped
    await chat.send("0")
    await chat.send("2.000.000")
    await chat.send("lewati")

    assert_retried(await chat.send("!!!"), "dengan kata-kata", "masalah")
    await chat.send("tidak ada")
    # A very long note is kept, cut to 1000 characters, and the mentor is told.
    replies = await chat.send("x" * 1200)
    assert "1000 huruf pertama" in shown(replies) and "Kirim lokasi" in shown(replies)

    assert_retried(await chat.send("di balai desa"), "Kirim lokasi", "lokasi kunjungan")
    assert chat.reply_keyboard() == [["📍 Kirim lokasi"], ["Lewati"]]
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
                 "Omzet: -", "Keuntungan: Rp 0", "Kas: Rp 2.000.000", "IKS: -", "Masalah: -",
                 "Tindak lanjut: " + "x" * 1000 + "\n", "Lokasi: 📍 tercatat", "Foto: 1 foto",
                 "Kunjungan berikutnya: 10 Januari 2027"):
        assert part in summary, part
    await chat.press("✅ Simpan")
    [visit] = await visits(session)
    assert (visit.latitude, visit.longitude) == (-6.9, 106.78)
    assert visit.next_visit_on == date(2027, 1, 10) and visit.turnover is None
    assert visit.profit == 0 and visit.cash == 2_000_000


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
    to_date, to_attendance, to_activities, to_figures, to_amounts, to_problems, to_follow_up,
    to_location, to_photos, to_next_date, to_summary,
]


async def at_group_question(chat: ChatUser) -> None:
    await chat.send("/kunjungan")


@pytest.mark.parametrize("walk", [at_group_question, *WALKS], ids=lambda w: w.__name__)
async def test_cancel_at_each_step_saves_nothing(bot, session, walk):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await walk(chat)
    replies = await chat.send("/batal")
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
    assert "dibatalkan" in shown(replies)
    assert chat.buttons(chat.messages()[-2]) == []
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
    # Two groups hold "kube": still a question, with a real button as the example.
    replies = await chat.send("kube")
    assert 'Contoh: tekan "KUBE Mawar (terlambat 12 hari)"' in shown(replies)
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


# --- changing an answer from the summary --------------------------------------------------------

async def test_change_answers_from_the_summary(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_summary(chat)
    assert "Kunjungan berikutnya: 24 Desember 2026" in chat.last_text()

    await chat.press("✏️ Ubah")
    assert chat.buttons() == ["Tanggal", "Hadir", "Kegiatan", "Angka usaha", "Masalah",
                              "Tindak lanjut", "Lokasi", "Foto", "Kunjungan berikutnya",
                              "« Kembali"]
    await chat.press("« Kembali")
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]

    await chat.press("✏️ Ubah")
    await chat.press("Tanggal")
    assert "Kapan kunjungannya?" in chat.last_text()
    await chat.send("20/11/2026")
    summary = chat.last_text()
    assert "Tanggal: 20 November 2026" in summary
    assert "Kunjungan berikutnya: 20 Desember 2026" in summary  # the suggestion moved along

    await chat.press("✏️ Ubah")
    await chat.press("Hadir")
    assert_retried(await chat.send("9"), "0 sampai 7", "Berapa KK yang hadir?")
    await chat.send("4")
    assert "Hadir: 4 dari 7 KK" in chat.last_text()

    await chat.press("✏️ Ubah")
    await chat.press("Angka usaha")
    await chat.press("Ya")
    await chat.send("1 jt")
    await chat.send("-")
    await chat.send("-")
    await chat.send("-")
    assert "Omzet: Rp 1.000.000" in chat.last_text()

    # Changing one figure again keeps the others: each question shows what is stored.
    await chat.press("✏️ Ubah")
    await chat.press("Angka usaha")
    await chat.press("Ya")
    assert "Sekarang: Rp 1.000.000" in chat.last_text()
    assert chat.buttons() == ["✔️ Tetap Rp 1.000.000", "🧹 Kosongkan"]
    await chat.send("2 jt")
    assert chat.buttons() == ["Lewati"]  # no profit stored: nothing to keep
    await chat.send("300rb")
    await chat.send("-")
    await chat.send("-")
    await chat.press("✏️ Ubah")
    await chat.press("Angka usaha")
    await chat.press("Ya")
    await chat.press("✔️ Tetap Rp 2.000.000")
    await chat.press("✔️ Tetap Rp 300.000")
    await chat.send("-")
    await chat.send("-")
    assert "Omzet: Rp 2.000.000" in chat.last_text()
    assert "Keuntungan: Rp 300.000" in chat.last_text()

    await chat.press("✏️ Ubah")
    await chat.press("Kunjungan berikutnya")
    await chat.send("5/1/2027")
    assert "Kunjungan berikutnya: 5 Januari 2027" in chat.last_text()

    # A typed next date stays put when the visit date changes, unless it no longer fits.
    await chat.press("✏️ Ubah")
    await chat.press("Tanggal")
    await chat.send("hari ini")
    assert "Kunjungan berikutnya: 5 Januari 2027" in chat.last_text()

    await chat.press("✏️ Ubah")
    await chat.press("Foto")
    await chat.send_photo()
    await chat.press("Selesai")
    assert "Foto: 1 foto" in chat.last_text()

    await chat.press("✅ Simpan")
    [visit] = await visits(session)
    assert (visit.visited_on, visit.attendance, visit.turnover, visit.profit,
            visit.next_visit_on) == (TODAY, 4, 2_000_000, 300_000, date(2027, 1, 5))
    assert len(visit.photo_file_ids) == 1



async def test_edited_messages_and_live_location_updates_are_not_answers(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_photos(chat)
    user = bot.server.get_user(MENTOR)
    before = len(chat.messages())
    for text_or_location in ({"text": "8"}, {"location": {"latitude": -6.9, "longitude": 106.8}}):
        update_id = bot.server.send_raw_update({"edited_message": {
            "message_id": 3, "date": 1, "edit_date": 2, "chat": user.chat_payload(),
            "from": user.user_payload(), **text_or_location}})
        await bot.settle(update_id)
    assert len(chat.messages()) == before  # no "cannot read that", no question again
    current = await draft(session)
    assert current["_state"] == 9 and current["attendance"] == 6


async def test_today_is_the_groups_local_date(bot, session, monkeypatch):
    # 23:30 WIB on 25 November is already 00:30 WITA on 26 November in Makassar.
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 25, 16, 30, tzinfo=UTC))
    mentor = await make_mentor(session, telegram_id=MENTOR, area_code=DISTRICT_ELSEWHERE)
    await make_group(session, mentor, name="KUBE Anggrek", village_code="73.71.01.1001",
                     formed_on=FORMED, next_visit_due=date(2026, 11, 26))
    chat = bot.chat(MENTOR)
    await chat.send("/kunjungan")
    assert chat.buttons() == ["KUBE Anggrek (jadwal hari ini)"]
    await chat.press("KUBE Anggrek")
    replies = await chat.press("📅 Hari ini")
    assert "26 November 2026" in shown(replies)


async def test_photos_can_be_cleared_and_are_limited(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_photos(chat)
    await chat.send_photo()
    await chat.send_photo()
    assert chat.buttons() == ["Selesai", "🗑 Hapus semua foto"]
    replies = await chat.press("🗑 Hapus semua foto")
    assert "dihapus" in shown(replies) and "Kirim foto kegiatan" in chat.last_text()
    for _ in range(11):
        replies = await chat.send_photo()
    assert "Sudah 10 foto" in shown(replies)
    await chat.send("selesai")
    await chat.press("Pakai ")
    assert "Foto: 10 foto" in chat.last_text()


# --- found in the property tests' review (tests/bot/test_properties.py) ---------------------------

async def test_a_day_that_does_not_exist_is_named_and_asked_again(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_date(chat)
    assert_retried(await chat.send("31/02/2026"), "Tanggal 31/02/2026 tidak ada: Februari 2026 "
                   "hanya sampai tanggal 28. Contoh: 28/02/2026", "Kapan kunjungannya?")
    assert_retried(await chat.send("tgl 30 februari"), "Februari 2026 hanya sampai tanggal 28",
                   "Kapan kunjungannya?")
    await chat.send("24/11/2026")
    assert "Berapa KK yang hadir?" in chat.last_text()


async def test_a_loss_is_typed_as_profit_and_only_there(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_amounts(chat)
    assert_retried(await chat.send("rugi 250rb"), "tanpa minus", "omzet")
    await chat.send("1,5 jt")
    assert "kalau rugi, tulis rugi di depannya" in chat.last_text()
    assert_retried(await chat.send("rugi banyak"), "kalau rugi, tulis rugi di depannya",
                   "keuntungan")
    replies = await chat.send("rugi 250rb")
    assert "✓ rugi Rp 250.000" in shown(replies) and "kas" in chat.last_text()
    assert_retried(await chat.send("-300rb"), "tanpa minus", "kas")
    await chat.send("2 jt")
    await chat.send("-Rp 50.000")  # IKS: no loss either
    assert "IKS" in chat.last_text()
    await chat.send("50rb")
    await chat.send("Harga pakan naik")
    await chat.send("Cari pemasok pakan")
    await chat.send("Lewati")
    await chat.press("Selesai")
    await chat.press("Pakai ")
    assert "Keuntungan: rugi Rp 250.000" in chat.last_text()
    await chat.press("✅ Simpan")
    [visit] = await visits(session)
    assert (visit.turnover, visit.profit, visit.cash, visit.solidarity_fee) == (
        1_500_000, -250_000, 2_000_000, 50_000)


async def test_a_profit_above_the_turnover_is_asked_again(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_amounts(chat)
    await chat.send("500rb")
    assert_retried(await chat.send("2 jt"), "Keuntungan Rp 2.000.000 lebih besar dari omzet "
                   "Rp 500.000", "keuntungan")
    replies = await chat.send("200rb")
    assert "✓ Rp 200.000" in shown(replies) and "kas" in chat.last_text()


async def test_keeping_a_profit_above_a_new_smaller_turnover_is_asked_again(bot, session):
    """Changing the figures from the summary: "Tetap" on a profit now above the new, smaller
    turnover used to keep it, and the visit saved a profit larger than its turnover."""
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_amounts(chat)
    await chat.send("2 jt")
    await chat.send("300rb")
    await chat.send("-")
    await chat.send("-")
    await chat.send("Harga pakan naik")
    await chat.send("Cari pemasok pakan")
    await chat.send("Lewati")
    await chat.press("Selesai")
    await chat.press("Pakai ")
    await chat.press("✏️ Ubah")
    await chat.press("Angka usaha")
    await chat.press("Ya")
    await chat.send("100rb")
    assert chat.buttons() == ["✔️ Tetap Rp 300.000", "🧹 Kosongkan"]
    assert_retried(await chat.press("✔️ Tetap Rp 300.000"), "Keuntungan Rp 300.000 lebih "
                   "besar dari omzet Rp 100.000", "keuntungan")
    await chat.send("50rb")
    await chat.send("-")
    await chat.send("-")
    assert "Keuntungan: Rp 50.000" in chat.last_text()
    await chat.press("✅ Simpan")
    [visit] = await visits(session)
    assert (visit.turnover, visit.profit) == (100_000, 50_000)


async def test_a_forged_button_with_a_huge_id_is_no_error(bot, session):
    """Button data is whatever the client sends: an id beyond 64 bits used to reach SQL and
    end in "Maaf, ada gangguan" (and an alert to the admins)."""
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    for data in ("kel:det:" + "9" * 25, "mem:rmok:1:" + "9" * 30, "jdw:set:1:" + "9" * 40):
        replies = await chat.press_data(data)
        assert not any("gangguan" in (m.content or "") for m in replies), data
    assert bot.chat(ADMIN_ID).messages() == []
