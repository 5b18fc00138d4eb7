"""/riwayat and a group's history through the real Application over HTTP."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.enums import Role
from tests.factories import (
    DISTRICT_ELSEWHERE,
    REGENCY_SUKABUMI,
    make_group,
    make_mentor,
    make_visit,
)

# A numbered button per visit listed (it opens the visit), then the paging.
TEN = [str(no) for no in range(1, 11)]
MENTOR = 700301
OTHER = 700302
COORDINATOR = 700303
FORMED = date(2026, 1, 10)
FIRST_VISIT = date(2026, 9, 1)




async def twelve_visits(session, mentor, name="KUBE Mawar"):
    """A group with 12 visits, one a week from 1 September 2026 (attendance 1..12 KK)."""
    group = await make_group(session, mentor, name=name, members=10, formed_on=FORMED)
    for week in range(12):
        await make_visit(session, group, mentor, visited_on=FIRST_VISIT + timedelta(weeks=week),
                         attendance=week % 11)
    return group


async def test_riwayat_pages_ten_at_a_time(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    await twelve_visits(session, mentor)
    chat = bot.chat(MENTOR)

    replies = await chat.send("/riwayat")
    [page] = replies
    text = page.content
    assert text.startswith("🕘 Riwayat kunjungan")
    assert text.count("KUBE Mawar") == 10
    assert text.index("17 Nov 2026") < text.index("10 Nov 2026")  # latest first
    assert "17 Nov 2026 – KUBE Mawar\n   Hadir 0 KK · Pemantauan usaha" in text
    assert "15 Sep 2026" in text and "8 Sep 2026" not in text
    assert "1. 17 Nov 2026" in text and "10. 15 Sep 2026" in text
    assert chat.buttons() == [*TEN, "Lebih lama »"]

    replies = await chat.press("Lebih lama »")
    assert [m.message_id for m in replies] == [page.message_id]  # edited in place
    text = chat.last_text()
    assert "8 Sep 2026" in text and "1 Sep 2026" in text and text.count("KUBE Mawar") == 2
    assert "Halaman 2" in text
    assert chat.buttons() == ["1", "2", "« Lebih baru"]

    await chat.press("« Lebih baru")
    assert "17 Nov 2026" in chat.last_text() and chat.buttons() == [*TEN, "Lebih lama »"]

    replies = await chat.press_data("riw:page:50")
    assert "Tidak ada kunjungan yang lebih lama" in chat.last_text()


async def test_riwayat_shows_only_own_groups_and_is_empty_at_first(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    other = await make_mentor(session, telegram_id=OTHER, name="Budi")
    chat = bot.chat(MENTOR)
    replies = await chat.send("/riwayat")
    assert "Belum ada kunjungan" in replies[0].content and chat.buttons() == []

    await twelve_visits(session, other, name="KUBE Melati")
    mine = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    await make_visit(session, mine, mentor, visited_on=date(2026, 11, 20), attendance=5)
    replies = await chat.send("/riwayat")
    text = replies[0].content
    assert "20 Nov 2026 – KUBE Mawar" in text and "KUBE Melati" not in text
    assert chat.buttons(replies[0]) == ["1"]


async def test_coordinator_sees_the_visits_of_the_area(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    await make_mentor(session, telegram_id=COORDINATOR, name="Koordinator",
                      area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    elsewhere = await make_mentor(session, telegram_id=OTHER, area_code=DISTRICT_ELSEWHERE)
    mawar = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    await make_visit(session, mawar, mentor, visited_on=date(2026, 11, 20))
    far = await make_group(session, elsewhere, name="KUBE Anggrek", village_code="73.71.01.1001",
                           formed_on=FORMED)
    await make_visit(session, far, elsewhere, visited_on=date(2026, 11, 21))

    replies = await bot.chat(COORDINATOR).send("/riwayat")
    assert "KUBE Mawar" in replies[0].content and "KUBE Anggrek" not in replies[0].content


async def test_group_history_from_the_group_card(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await twelve_visits(session, mentor)
    group_id = group.id
    chat = bot.chat(MENTOR)

    replies = await chat.press_data(f"riw:group:{group_id}")
    text = chat.last_text()
    assert text.startswith("🕘 Riwayat kunjungan KUBE Mawar")
    assert "17 Nov 2026 – hadir 0 KK\n   Pemantauan usaha" in text
    assert text.count("hadir") == 10
    assert chat.buttons() == [*TEN, "Lebih lama »"]
    await chat.press("Lebih lama »")
    assert chat.last_text().count("hadir") == 2 and "1 Sep 2026" in chat.last_text()
    assert len(replies) == 1


async def test_foreign_group_history_is_refused(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    other = await make_mentor(session, telegram_id=OTHER, name="Budi")
    foreign = await twelve_visits(session, other, name="KUBE Melati")
    foreign_id = foreign.id
    chat = bot.chat(MENTOR)

    replies = await chat.press_data(f"riw:group:{foreign_id}")
    assert "Kelompok tidak ditemukan" in replies[-1].content
    assert "KUBE Melati" not in "\n".join(chat.texts())
    assert chat.callback_answers()[-1].show_alert
    replies = await chat.press_data("riw:group:424242")
    assert "Kelompok tidak ditemukan" in replies[-1].content


async def test_group_without_visits(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", formed_on=FORMED)
    chat = bot.chat(MENTOR)
    await chat.press_data(f"riw:group:{group.id}")
    assert "KUBE Mawar belum punya catatan kunjungan" in chat.last_text()


async def test_history_needs_an_active_user(bot, session):
    replies = await bot.chat(OTHER).send("/riwayat")
    assert "belum terdaftar" in replies[0].content
