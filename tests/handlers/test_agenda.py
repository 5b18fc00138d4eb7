"""/jadwal: the mentor's agenda in local time."""

from __future__ import annotations

from datetime import date, timedelta

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
    assert text.index("Kunjungan berikutnya") < text.index(
        "💰 Batas pengguliran bantuan:\n• KUBE Nanti")


async def test_agenda_lists_lpj_deadlines_and_no_obligation_deadline(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar",
                             next_visit_due=TODAY + timedelta(days=20))
    await make_grant(session, group, mentor, received_on=date(2026, 10, 1),
                     rollover_required=False)  # LPJ due 1 January 2027
    await make_grant(session, group, mentor, kind="blps",
                     received_on=date(2026, 8, 1))  # LPJ due 1 November 2026: late
    handed_in = await make_grant(session, group, mentor, kind="lainnya",
                                 received_on=date(2026, 9, 1))
    handed_in.lpj_submitted_on = date(2026, 11, 1)
    session.add(handed_in)
    await session.commit()
    chat = bot.chat(MENTOR)
    await chat.send("/jadwal")
    text = chat.last_text()
    assert ("📝 Batas LPJ bantuan:\n"
            "• KUBE Mawar – BLPS (program lama) – 1 November 2026 (terlambat 24 hari)\n"
            "• KUBE Mawar – Bantuan UEP Kemensos – 1 Januari 2027 (37 hari lagi)") in text
    assert "CSR/lainnya" not in text  # its LPJ is in
    # The UEP grant need not be rolled over: two roll-over deadlines, not three.
    rollovers = text.split("💰 Batas pengguliran bantuan:\n")[1].split("\n\n")[0]
    assert rollovers.count("• KUBE Mawar") == 2


async def test_agenda_is_for_registered_mentors_only(bot):
    stranger = bot.chat(799001)
    await stranger.send("/jadwal")
    assert "belum terdaftar" in stranger.last_text()
