"""/riwayat opens a visit in full, and its mentor corrects it within the days allowed, through
the real Application over HTTP."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core import clock
from bot.core.enums import Role
from models import visits as visit_queries
from models.tables import AuditLog, Group, Visit
from tests.conftest import NOW
from tests.factories import (
    DISTRICT_ELSEWHERE,
    REGENCY_SUKABUMI,
    make_group,
    make_mentor,
    rows,
    shown,
)

MENTOR = 700401
OTHER = 700402
COORDINATOR = 700403
FAR_COORDINATOR = 700404
FORMED = date(2026, 1, 10)
VISITED = date(2026, 11, 24)  # yesterday, on the tests' Wednesday 25 November 2026
PHOTOS = ["FOTO-KUNJUNGAN-1", "FOTO-KUNJUNGAN-2"]


async def visit_in_full(bot, session) -> tuple[int, int]:
    """MENTOR's KUBE Mawar (7 KK) with yesterday's visit, saved now: figures, assets, notes, a
    location and two photos the (local) Telegram knows. Returns (group id, visit id)."""
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", members=7, formed_on=FORMED)
    for file_id in PHOTOS:
        bot.server._store_file(b"\xff\xd8 foto", "photos", ".jpg", mime_type="image/jpeg",
                               file_id=file_id)
    visit, _ = await visit_queries.create_visit(session=session, group=group, mentor=mentor, fields={
        "visited_on": VISITED, "attendance": 6, "activities": ["pemantauan"],
        "turnover": 1_500_000, "profit": 300_000, "figures_from": date(2026, 10, 25),
        "livestock_count": 12, "problems": "Harga pakan naik",
        "follow_up": "Cari pemasok pakan, hubungi 081234567890",
        "latitude": -6.8937, "longitude": 106.7846, "photo_file_ids": PHOTOS,
        "next_visit_on": VISITED + timedelta(days=30)})
    return group.id, visit.id


async def test_mentor_opens_a_visit_and_corrects_attendance_and_date(bot, session):
    group_id, visit_id = await visit_in_full(bot, session)
    chat = bot.chat(MENTOR)

    await chat.send("/riwayat")
    assert "1. 24 Nov 2026 – KUBE Mawar" in chat.last_text()
    assert chat.buttons() == ["1"]
    replies = await chat.press("1")
    card, location, *photos = replies
    assert "📋 Kunjungan ke KUBE Mawar" in card.content and "Hadir: 6 KK" in card.content
    assert "Omzet Rp 1.500.000 · Keuntungan Rp 300.000" in card.content
    assert "sejak 25 Okt 2026" in card.content and "ternak 12 ekor" in card.content
    assert "Masalah: Harga pakan naik" in card.content
    assert "081234567890" not in card.content  # a phone in a note stays masked
    assert "Foto: 2 foto" in card.content and "sampai 2 Des 2026" in card.content
    assert (location.kind, location.latitude, location.longitude) == ("location", -6.8937,
                                                                      106.7846)
    assert [(p.kind, p.file_id) for p in photos] == [("photo", file_id) for file_id in PHOTOS]
    assert photos[0].caption == "📷 KUBE Mawar, 24 Nov 2026"
    assert chat.buttons(card) == ["✏️ Perbaiki"]

    # The attendance: a wrong answer is explained, the change shown, then saved.
    await chat.press("✏️ Perbaiki")
    replies = await chat.press("Hadir")
    assert "Sekarang: 6 KK" in replies[-1].content
    replies = await chat.send("9")
    assert "0 sampai 7" in replies[0].content
    replies = await chat.send("5")
    assert "• Hadir: 6 KK → 5 KK" in replies[-1].content
    replies = await chat.press("✅ Simpan")
    assert "Perbaikan tersimpan" in shown(replies)
    assert "Hadir: 5 KK" in replies[-1].content and "✏️ diperbaiki 25 Nov 2026" in replies[-1].content

    # The date: a day in the future is refused; the next visit follows the new date.
    await chat.press("✏️ Perbaiki")
    replies = await chat.press("Tanggal")
    assert "Sekarang: 24 Nov 2026" in replies[-1].content
    replies = await chat.send("besok")
    assert "tidak boleh setelah hari ini" in replies[0].content
    await chat.send("23/11/2026")
    replies = await chat.press("Pakai 23 Desember 2026")
    assert "• Tanggal: 24 Nov 2026 → 23 Nov 2026" in replies[-1].content
    assert "• Kunjungan berikutnya: 24 Des 2026 → 23 Des 2026" in replies[-1].content
    await chat.press("✅ Simpan")

    [visit] = await rows(session, Visit)
    assert (visit.attendance, visit.visited_on, visit.next_visit_on) == (
        5, date(2026, 11, 23), date(2026, 12, 23))
    assert visit.corrected_at is not None
    [group] = await rows(session, Group)
    assert group.id == group_id and group.next_visit_due == date(2026, 12, 23)
    trail = [(row.entity, row.old, row.new) for row in await rows(session, AuditLog)
             if row.action == "update" and row.entity_id in (visit_id, group_id)]
    assert ("visit", {"attendance": 6}, {"attendance": 5}) in trail
    assert ("visit", {"visited_on": "2026-11-24", "next_visit_on": "2026-12-24"},
            {"visited_on": "2026-11-23", "next_visit_on": "2026-12-23"}) in trail
    assert ("group", {"next_visit_due": "2026-12-24"}, {"next_visit_due": "2026-12-23"}) in trail

    # An amount typed as a plain number that looks too small is asked back, as when logging.
    await chat.press("✏️ Perbaiki")
    await chat.press("Omzet")
    replies = await chat.send("2")
    assert "Maksudnya Rp 2.000.000?" in replies[-1].content
    replies = await chat.send("ya")
    assert "• Omzet: Rp 1.500.000 → Rp 2.000.000" in replies[-1].content


async def test_coordinator_opens_but_cannot_correct_and_strangers_are_refused(bot, session):
    _, visit_id = await visit_in_full(bot, session)
    await make_mentor(session, telegram_id=COORDINATOR, name="Koordinator",
                      area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    await make_mentor(session, telegram_id=FAR_COORDINATOR, name="Jauh",
                      area_code=DISTRICT_ELSEWHERE, role=Role.COORDINATOR)
    await make_mentor(session, telegram_id=OTHER, name="Budi")

    coordinator = bot.chat(COORDINATOR)
    replies = await coordinator.press_data(f"riw:visit:{visit_id}")
    assert "📋 Kunjungan ke KUBE Mawar" in replies[0].content
    assert "Pendamping: Siti Rahma" in replies[0].content and "sampai" not in replies[0].content
    assert coordinator.buttons(replies[0]) == [] and len(replies) == 4
    replies = await coordinator.press_data(f"vfix:start:{visit_id}")
    assert "hanya bisa diperbaiki oleh pendamping yang mencatatnya" in replies[-1].content
    assert coordinator.callback_answers()[-1].show_alert

    for stranger in (FAR_COORDINATOR, OTHER):
        chat = bot.chat(stranger)
        for data in (f"riw:visit:{visit_id}", f"vfix:start:{visit_id}"):
            replies = await chat.press_data(data)
            assert "tidak ditemukan" in replies[-1].content
            assert "KUBE Mawar" not in "\n".join(chat.texts())
    [visit] = await rows(session, Visit)
    assert visit.corrected_at is None


async def test_after_seven_days_no_correction(bot, session, monkeypatch):
    _, visit_id = await visit_in_full(bot, session)
    chat = bot.chat(MENTOR)
    await chat.press_data(f"riw:visit:{visit_id}")
    assert chat.buttons(chat.messages()[0]) == ["✏️ Perbaiki"]
    await chat.press("✏️ Perbaiki")  # begun in time, saved too late

    monkeypatch.setattr(clock, "now", lambda: NOW + timedelta(days=7, minutes=1))
    await chat.press("Hadir")
    await chat.send("5")
    replies = await chat.press("✅ Simpan")
    assert "lebih dari 7 hari" in replies[-1].content
    replies = await chat.press_data(f"riw:visit:{visit_id}")
    assert chat.buttons(replies[0]) == [] and "diperbaiki" not in replies[0].content
    replies = await chat.press_data(f"vfix:start:{visit_id}")
    assert "lebih dari 7 hari" in replies[-1].content
    [visit] = await rows(session, Visit)
    assert visit.attendance == 6 and visit.corrected_at is None
