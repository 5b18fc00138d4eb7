"""/kunjungan through the real Application over HTTP: a short visit, saved by "💾 Simpan
sekarang" as soon as the required answers are in."""

from __future__ import annotations

from datetime import date

from models.tables import Group
from tests.factories import make_mentor, shown
from tests.handlers.visit_walks import (
    MENTOR,
    OTHER,
    TODAY,
    draft,
    mentor_with_group,
    to_activities,
    to_location,
    visits,
)

SAVE_NOW = "💾 Simpan sekarang"


async def test_a_visit_with_nothing_special_takes_six_steps(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    steps = [lambda: chat.send("/kunjungan"), lambda: chat.press("KUBE Mawar"),
             lambda: chat.press("📅 Hari ini"), lambda: chat.send("7"),
             lambda: chat.press("▫️ Penguatan kelompok")]
    for step in steps:
        await step()
    assert chat.buttons()[-2:] == ["Selesai", SAVE_NOW]  # offered once one activity is ticked
    await chat.press("✅ Penguatan kelompok")
    assert SAVE_NOW not in chat.buttons()  # and gone with the last one
    await chat.press("▫️ Penguatan kelompok")
    replies = await chat.press(SAVE_NOW)
    assert len(steps) + 1 == 6

    text = shown(replies)
    assert ("✅ Tersimpan! Kunjungan ke KUBE Mawar tanggal 25 November 2026 sudah dicatat: "
            "hadir 7 KK, Penguatan kelompok.") in text
    assert ("Kunjungan berikutnya: 25 Desember 2026, sesuai jadwal kelompok (setiap 30 hari). "
            "Untuk mengubahnya, tekan ⏱ Ubah jadwal di bawah.") in text
    assert "Apakah tahap KUBE Mawar berubah?" in text  # the stage question stays
    assert chat.buttons() == ["✅ Tumbuh (sekarang)", "Berkembang", "Maju/Mandiri",
                              "Tidak berubah", "⏱ Ubah jadwal"]
    assert "✓ Simpan sekarang" in chat.messages()[-2].content  # noted, its buttons gone
    assert chat.buttons(chat.messages()[-2]) == []

    [visit] = await visits(session)
    assert (visit.group_id, visit.visited_on, visit.attendance, visit.activities) == (
        group_id, TODAY, 7, ["penguatan"])
    assert visit.next_visit_on == date(2026, 12, 25)
    assert (visit.turnover, visit.figures_from, visit.livestock_count, visit.problems,
            visit.follow_up, visit.latitude, visit.photo_file_ids) == (
        None, None, None, None, None, None, [])
    assert (await session.get(Group, group_id)).next_visit_due == date(2026, 12, 25)
    assert await draft(session) is None

    # ⏱ Ubah jadwal moves the next visit after this one.
    await chat.press("⏱ Ubah jadwal")
    await chat.press("Setiap 14 hari")
    assert "Kunjungan berikutnya: 9 Desember 2026" in chat.last_text()
    await session.commit()
    assert (await session.get(Group, group_id, populate_existing=True)).next_visit_due == \
        date(2026, 12, 9)


async def test_simpan_sekarang_typed_at_the_activities_saves(bot, session):
    """Its button comes with the first tick; typed, the words save as the button does (before
    anything is ticked they are explained, and nothing is saved)."""
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_activities(chat)  # yesterday, 6 of 7 came
    await chat.send("simpan sekarang")  # nothing ticked yet: no save
    assert "Kegiatan dipilih dengan menekan tombol" in shown(chat.messages()[-2:])
    assert await visits(session) == []
    await chat.press("▫️ Penguatan kelompok")
    replies = await chat.send("Simpan sekarang")
    assert "✅ Tersimpan! Kunjungan ke KUBE Mawar tanggal 24 November 2026 sudah dicatat: " \
        "hadir 6 KK, Penguatan kelompok." in shown(replies)
    [visit] = await visits(session)
    assert (visit.attendance, visit.activities) == (6, ["penguatan"])
    assert await draft(session) is None


async def test_simpan_sekarang_at_the_location_keeps_the_answers_given(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_location(chat)  # "kemarin", 6 KK, Pemantauan usaha, no figures, two notes
    assert chat.reply_keyboard() == [["📍 Kirim lokasi"], ["Lewati"], [SAVE_NOW]]
    replies = await chat.send("1")  # its number: sharing cannot be typed, so asked again
    assert "Lokasi belum terkirim" in shown(replies) and chat.reply_keyboard() is not None
    replies = await chat.send(SAVE_NOW)  # the reply keyboard's button types it
    assert "Lokasi dilewati" in shown(replies) and "Tersimpan" in shown(replies)
    assert chat.reply_keyboard() is None
    [visit] = await visits(session)
    assert (visit.problems, visit.follow_up) == ("Harga pakan naik", "Cari pemasok pakan")
    assert visit.next_visit_on == date(2026, 12, 24) and visit.latitude is None


async def test_an_old_or_foreign_simpan_sekarang_saves_nothing(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_activities(chat)
    await chat.press("▫️ Pemantauan usaha")
    old = chat.last()
    [old_data] = [b["callback_data"] for b in old.inline_buttons if b["text"] == SAVE_NOW]
    await chat.send("/batal")

    # The cancelled draft's button: no conversation left, then another visit's draft.
    await chat.press(SAVE_NOW)
    assert chat.callback_answers()[-1].text == "Tombol ini sudah tidak berlaku."
    await to_activities(chat)
    await chat.press("▫️ Pembukuan")
    await chat.press_data(old_data, message_id=old.message_id)
    assert chat.callback_answers()[-1].text == "Tombol ini sudah tidak berlaku."
    assert await visits(session) == []
    assert (await draft(session))["activities"] == ["pembukuan"]

    # The group handed to another mentor before the press: refused, as Simpan would be.
    other = await make_mentor(session, telegram_id=OTHER, name="Budi")
    group = await session.get(Group, group_id)
    group.mentor_id = other.id
    await session.commit()
    replies = await chat.press(SAVE_NOW)
    assert "bukan dampingan Anda lagi, jadi catatan ini tidak bisa disimpan" in shown(replies)
    assert await visits(session) == [] and await draft(session) is None
