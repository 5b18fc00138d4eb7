"""/jadwal: the mentor's agenda in local time."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import TODAY
from tests.factories import make_grant, make_group, make_mentor

MENTOR = 700401


async def test_agenda_sorts_overdue_today_and_this_week(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    await make_group(session, mentor, name="KUBE Lama", next_visit_due=TODAY - timedelta(days=4))
    await make_group(session, mentor, name="KUBE Kini", next_visit_due=TODAY)
    await make_group(session, mentor, name="KUBE Pekan", next_visit_due=TODAY + timedelta(days=5))
    await make_group(session, mentor, name="KUBE Nanti",
                     next_visit_due=TODAY + timedelta(days=20))
    chat = bot.chat(MENTOR)
    await chat.send("/jadwal")
    text = chat.last_text()
    assert text.startswith("📅 Jadwal Anda (25 November 2026):")
    assert "⚠️ Terlambat:\n• KUBE Lama – terlambat 4 hari (jadwal 21 November 2026)" in text
    assert "⏰ Hari ini:\n• KUBE Kini" in text
    assert "🗓 Minggu ini:\n• KUBE Pekan – 30 November 2026" in text
    assert "KUBE Nanti" not in text


async def test_agenda_with_nothing_urgent_and_with_no_groups(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await chat.send("/jadwal")
    assert "/tambah_kelompok" in chat.last_text()
    group = await make_group(session, mentor, name="KUBE Nanti",
                             next_visit_due=TODAY + timedelta(days=20))
    await chat.send("/jadwal")
    assert ("Tidak ada kunjungan minggu ini. Kunjungan berikutnya: KUBE Nanti, 15 Desember "
            "2026.") in chat.last_text()
    # A roll-over deadline does not hide the next visit.
    await make_grant(session, group, mentor)
    await chat.send("/jadwal")
    text = chat.last_text()
    assert "Kunjungan berikutnya: KUBE Nanti, 15 Desember 2026." in text
    assert text.index("Kunjungan berikutnya") < text.index("💰 Batas pengguliran hibah:\n• KUBE Nanti")


async def test_agenda_is_for_registered_mentors_only(bot):
    stranger = bot.chat(799001)
    await stranger.send("/jadwal")
    assert "belum terdaftar" in stranger.last_text()
