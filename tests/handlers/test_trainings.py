"""Trainings (pelatihan) and a group's business chart, through the real Application over HTTP:
from the group's detail, what the mentor sees and what is stored."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.core.enums import GroupStatus, Role, StatusReason
from models import changes
from models.tables import AuditLog, Group, Member, Mentor, Training
from tests.factories import (
    DISTRICT_ELSEWHERE,
    REGENCY_SUKABUMI,
    make_group,
    make_mentor,
    make_visit,
    rows,
    shown,
    stored_draft,
)
from tests.handlers.visit_walks import FORMED, MENTOR, OTHER, assert_retried, mentor_with_group

COORDINATOR = 810101


async def _member_ids(session, group_id: int) -> list[int]:
    return list((await session.execute(select(Member.id).where(
        Member.group_id == group_id).order_by(Member.id))).scalars())


async def test_a_training_from_the_detail_with_ticked_households(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await chat.press_data(f"kel:det:{group_id}")
    assert "Pelatihan" not in chat.last_text()  # none yet
    assert "🎓 Catat pelatihan" in chat.buttons() and "📈 Grafik usaha" in chat.buttons()

    replies = await chat.press("🎓 Catat pelatihan")
    assert "Catat pelatihan untuk KUBE Mawar" in shown(replies)
    ask_date = "Kapan pelatihannya?"
    assert ask_date in chat.last_text() and chat.buttons() == ["📅 Hari ini"]
    assert_retried(await chat.send("besok"), "tidak boleh setelah hari ini", ask_date)
    assert_retried(await chat.send("1/1/2026"), "sebelum KUBE Mawar dibentuk", ask_date)
    assert_retried(await chat.send("kapan ya"), "tidak bisa saya baca", ask_date)
    await chat.send("kemarin")

    ask_topic = "Apa topik pelatihannya?"
    assert ask_topic in chat.last_text()
    assert_retried(await chat.send("!!!"), "Tulis topiknya dengan kata-kata", ask_topic)
    assert_retried(await chat.send("x" * 250), "paling banyak 200 huruf", ask_topic)
    await chat.send("Pembukuan  sederhana\nuntuk usaha")
    ask_provider = "Siapa penyelenggara"
    assert ask_provider in chat.last_text()
    assert_retried(await chat.send("??"), "Tulis nama penyelenggaranya", ask_provider)
    await chat.send("Pendamping PKH")

    assert "Siapa yang ikut?" in chat.last_text()
    assert chat.buttons() == ["👥 Semua KK (7)", "☑️ Pilih KK"]
    assert_retried(await chat.send("mungkin"), "Tekan salah satu tombol", "Siapa yang ikut?")
    await chat.press("☑️ Pilih KK")
    assert "Tekan KK yang ikut" in chat.last_text()
    assert chat.buttons()[:2] == ["▫️ Anggota 1", "▫️ Anggota 2"]
    assert_retried(await chat.press("Selesai"), "Pilih minimal satu KK", "Tekan KK yang ikut")
    await chat.press("▫️ Anggota 4")
    await chat.press("▫️ Anggota 2")
    await chat.press("▫️ Anggota 6")
    await chat.press("✅ Anggota 6")  # untick
    # Another group's household, by forged button, is not ticked.
    other = await make_mentor(session, telegram_id=OTHER, name="Budi")
    foreign = await make_group(session, other, name="KUBE Melati", formed_on=FORMED)
    [foreign_member, *_] = await _member_ids(session, foreign.id)
    await chat.press_data(f"lat:kk:{foreign_member}")
    assert str(foreign_member) not in (await stored_draft(session, MENTOR, "training"))[
        "attendees"]
    await chat.press("Selesai")

    summary = chat.last_text()
    for part in ("Kelompok: KUBE Mawar", "Tanggal: 24 November 2026",
                 "Topik: Pembukuan sederhana untuk usaha", "Penyelenggara: Pendamping PKH",
                 "Peserta: 2 KK: Anggota 2, Anggota 4"):
        assert part in summary, part
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    assert await rows(session, Training) == []

    replies = await chat.press("✅ Simpan")
    assert "Tersimpan" in shown(replies) and "2 KK ikut" in shown(replies)
    [training] = await rows(session, Training)
    members = await _member_ids(session, group_id)
    assert (training.group_id, training.held_on, training.topic, training.provider) == (
        group_id, date(2026, 11, 24), "Pembukuan sederhana untuk usaha", "Pendamping PKH")
    assert training.attendee_ids == [members[1], members[3]]
    assert training.visit_id is None
    group = await session.get(Group, group_id)
    assert training.recorded_by == group.mentor_id
    [audit] = (await session.execute(select(AuditLog).where(
        AuditLog.entity == "training"))).scalars().all()
    assert (audit.action, audit.entity_id) == ("create", training.id)
    assert await stored_draft(session, MENTOR, "training") is None

    # The group's detail lists it.
    await chat.press_data(f"kel:det:{group_id}")
    assert ("🎓 Pelatihan (1):\n• 24 Nov 2026 – Pembukuan sederhana untuk usaha "
            "(Pendamping PKH), 2 KK") in chat.last_text()


async def test_change_who_attended_from_the_summary_and_the_command(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await chat.send("/pelatihan")
    assert "Pelatihan untuk kelompok mana?" in chat.last_text()
    await chat.press("KUBE Mawar")
    await chat.press("📅 Hari ini")
    await chat.send("Pemasaran online")
    await chat.send("Dinas Sosial")
    await chat.send("pilih")
    await chat.press("▫️ Anggota 1")
    await chat.send("selesai")
    assert "Peserta: 1 KK: Anggota 1" in chat.last_text()
    await chat.press("✏️ Ubah")
    assert chat.buttons() == ["Tanggal", "Topik", "Penyelenggara", "Peserta", "« Kembali"]
    await chat.press("Peserta")
    await chat.send("semua")
    assert "Peserta: semua KK (7)" in chat.last_text()
    await chat.press("✅ Simpan")
    [training] = await rows(session, Training)
    assert training.attendee_ids == await _member_ids(session, group_id)
    assert training.held_on == date(2026, 11, 25)


async def test_cancel_saves_nothing(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await chat.press_data(f"lat:start:{group_id}")
    await chat.send("kemarin")
    replies = await chat.send("/batal")
    assert "Tidak ada yang disimpan" in shown(replies)
    assert await rows(session, Training) == []
    assert await stored_draft(session, MENTOR, "training") is None


async def test_forged_buttons_for_another_areas_group_change_nothing(bot, session):
    await mentor_with_group(session)
    other = await make_mentor(session, telegram_id=OTHER, name="Budi",
                              area_code=DISTRICT_ELSEWHERE)
    foreign = await make_group(session, other, name="KUBE Anggrek",
                               village_code="73.71.01.1001", formed_on=FORMED)
    foreign_visit = await make_visit(session, foreign, other, visited_on=date(2026, 11, 20))
    foreign_id, foreign_visit_id = foreign.id, foreign_visit.id
    chat = bot.chat(MENTOR)

    replies = await chat.press_data(f"lat:start:{foreign_id}")
    assert "Kelompok tidak ditemukan" in shown(replies) and "KUBE Anggrek" not in shown(replies)
    assert "Pelatihan untuk kelompok mana?" in chat.last_text()
    await chat.send("/batal")
    replies = await chat.press_data(f"lat:visit:{foreign_visit_id}")
    assert "Kunjungan itu tidak ditemukan" in shown(replies)
    await chat.press_data(f"gra:show:{foreign_id}")
    assert chat.callback_answers()[-1].text == (
        "Kelompok tidak ditemukan atau bukan dampingan Anda.")
    assert not [m for m in chat.messages() if m.kind == "photo"]
    assert await rows(session, Training) == []
    assert (await session.get(Group, foreign_id)).stage == "tumbuh"


async def test_a_coordinator_sees_the_chart_button_but_records_no_training(bot, session):
    group_id = await mentor_with_group(session)
    await make_mentor(session, telegram_id=COORDINATOR, name="Koordinator",
                      area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    chat = bot.chat(COORDINATOR)
    await chat.press_data(f"kel:det:{group_id}")
    assert "📈 Grafik usaha" in chat.buttons() and "🎓 Catat pelatihan" not in chat.buttons()
    replies = await chat.press_data(f"lat:start:{group_id}")
    assert "Kelompok tidak ditemukan" in shown(replies) or "bukan" in shown(replies)
    assert await rows(session, Training) == []


# --- the group's business chart ---------------------------------------------------------------

async def test_the_chart_needs_two_visits_with_figures_then_is_a_png(bot, session):
    group_id = await mentor_with_group(session)
    group = await session.get(Group, group_id)
    mentor = await session.get(Mentor, group.mentor_id)
    chat = bot.chat(MENTOR)

    replies = await chat.press_data(f"gra:show:{group_id}")
    assert "Grafik usaha KUBE Mawar belum bisa dibuat: baru 0 kunjungan" in shown(replies)
    assert [m.kind for m in replies] == ["text"]

    for day, turnover, profit, fee in ((date(2026, 9, 1), 1_000_000, 200_000, 40_000),
                                       (date(2026, 10, 1), None, None, None),
                                       (date(2026, 11, 1), 1_500_000, -100_000, None)):
        visit = await make_visit(session, group, mentor, visited_on=day)
        visit.turnover, visit.profit, visit.solidarity_fee = turnover, profit, fee
        session.add(visit)
        await session.commit()
        if day.month == 9:
            replies = await chat.press_data(f"gra:show:{group_id}")
            assert "baru 1 kunjungan yang mencatat angka usaha, perlu minimal 2" \
                in shown(replies)

    replies = await chat.press_data(f"gra:show:{group_id}")
    [photo] = [m for m in replies if m.kind == "photo"]
    assert photo.document_bytes[:8] == b"\x89PNG\r\n\x1a\n"
    assert photo.caption == "📈 Angka usaha KUBE Mawar: 2 kunjungan, 1 Sep 2026 – 1 Nov 2026."

    # A coordinator of the area may see it too.
    await make_mentor(session, telegram_id=COORDINATOR, name="Koordinator",
                      area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    coordinator = bot.chat(COORDINATOR)
    replies = await coordinator.press_data(f"gra:show:{group_id}")
    assert [m.kind for m in replies] == ["photo"]


async def test_a_dissolved_group_gets_no_training_and_no_stage_change(bot, session):
    group_id = await mentor_with_group(session)
    group = await session.get(Group, group_id)
    mentor = await session.get(Mentor, group.mentor_id)
    visit = await make_visit(session, group, mentor, visited_on=date(2026, 11, 20))
    visit_id = visit.id
    await changes.change_status(session=session, group=group, status=GroupStatus.DISSOLVED,
                                reason=StatusReason.BUSINESS_STOPPED, actor=mentor,
                                on=date(2026, 11, 24), today=date(2026, 11, 25))
    chat = bot.chat(MENTOR)
    await chat.press_data(f"kel:det:{group_id}")
    assert "🎓 Catat pelatihan" not in chat.buttons()
    for data in (f"lat:start:{group_id}", f"lat:visit:{visit_id}"):
        replies = await chat.press_data(data)
        assert "KUBE Mawar sudah bubar; datanya hanya bisa dibaca" in shown(replies), data
        assert await stored_draft(session, MENTOR, "training") is None
    await chat.press_data(f"kun:stage:{visit_id}:mandiri")
    assert chat.callback_answers()[-1].text == "KUBE Mawar sudah bubar; datanya hanya bisa dibaca."
    await session.rollback()
    assert (await session.get(Group, group_id, populate_existing=True)).stage == "tumbuh"
    assert await rows(session, Training) == []
