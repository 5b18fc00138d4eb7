"""/kunjungan through the real Application over HTTP: changing answers from the summary, and
what the property tests' review found."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.core import clock
from tests.conftest import ADMIN_ID
from tests.factories import DISTRICT_ELSEWHERE, make_group, make_mentor, shown
from tests.handlers.visit_walks import (
    FORMED,
    MENTOR,
    TODAY,
    assert_retried,
    draft,
    mentor_with_group,
    to_amounts,
    to_date,
    to_photos,
    to_summary,
    visits,
)

# --- changing an answer from the summary --------------------------------------------------------

async def test_change_answers_from_the_summary(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_summary(chat)
    assert "Kunjungan berikutnya: 24 Desember 2026" in chat.last_text()

    await chat.press("✏️ Ubah")
    assert chat.buttons() == ["Tanggal", "Hadir", "Kegiatan", "Angka usaha", "Aset", "Masalah",
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

    # No figures yet: "Catat angka usaha?" asks the four in turn, then the summary.
    await chat.press("✏️ Ubah")
    await chat.press("Angka usaha")
    await chat.press("Ya")
    await chat.send("1 jt")
    await chat.send("-")
    await chat.send("-")
    await chat.send("-")
    assert "Omzet: Rp 1.000.000" in chat.last_text()

    # With figures, one is changed alone, in four steps: Ubah, Angka usaha, that amount (its
    # value on the button), the new amount; the others stay as they were.
    await chat.press("✏️ Ubah")
    await chat.press("Angka usaha")
    assert chat.buttons() == ["Omzet: Rp 1.000.000", "Keuntungan: -", "Kas: -", "IKS: -",
                              "« Kembali"]
    await chat.press("« Kembali")  # back to the answers that can be changed
    assert chat.buttons()[:2] == ["Tanggal", "Hadir"]
    await chat.press("Angka usaha")
    await chat.press("Omzet: Rp 1.000.000")
    assert "Ubah: Omzet" in chat.messages()[-2].content
    assert "Berapa omzet" in chat.last_text() and "Sekarang: Rp 1.000.000" in chat.last_text()
    assert chat.buttons() == ["✔️ Tetap Rp 1.000.000", "🧹 Kosongkan"]
    [summary] = await chat.send("2 jt")  # no other amount asked
    assert summary.text.startswith("✓ Rp 2.000.000\n\nPeriksa dulu")
    assert "Omzet: Rp 2.000.000\nKeuntungan: -\n" in chat.last_text()
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    await chat.press("✏️ Ubah")
    await chat.press("Angka usaha")
    await chat.press("Keuntungan: -")
    assert chat.buttons() == ["Lewati"]  # no profit stored: nothing to keep
    await chat.send("300rb")
    assert "Omzet: Rp 2.000.000\nKeuntungan: Rp 300.000\nKas: -" in chat.last_text()
    await chat.press("✏️ Ubah")
    await chat.press("Angka usaha")
    await chat.press("Keuntungan: Rp 300.000")
    await chat.press("✔️ Tetap Rp 300.000")  # kept: straight back to the summary
    assert "Keuntungan: Rp 300.000" in chat.last_text()
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    # A part of another draft's keyboard, or forged, is an old button.
    await chat.press_data("kun:part:figures:problems")
    assert chat.callback_answers()[-1].text == "Tombol ini sudah tidak berlaku."

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
    assert chat.buttons() == ["Selesai", "🗑 Hapus semua foto", "💾 Simpan sekarang"]
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
    await chat.send("-")  # no assets
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
    assert "Contoh: Rp 100.000" in chat.texts()[-2]  # an example that fits this turnover
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
    await chat.send("-")  # no assets
    await chat.send("Harga pakan naik")
    await chat.send("Cari pemasok pakan")
    await chat.send("Lewati")
    await chat.press("Selesai")
    await chat.press("Pakai ")
    await chat.press("✏️ Ubah")
    await chat.press("Angka usaha")
    await chat.press("Omzet: Rp 2.000.000")
    # The new turnover alone is below the profit kept: the profit is asked now, alone.
    assert_retried(await chat.send("100rb"), "Keuntungan Rp 300.000 lebih besar dari omzet "
                   "Rp 100.000", "keuntungan")
    assert chat.buttons() == ["✔️ Tetap Rp 300.000", "🧹 Kosongkan"]
    assert_retried(await chat.press("✔️ Tetap Rp 300.000"), "Keuntungan Rp 300.000 lebih "
                   "besar dari omzet Rp 100.000", "keuntungan")
    await chat.send("50rb")
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
