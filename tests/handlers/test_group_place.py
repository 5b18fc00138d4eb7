"""A group's place (asked after registering, or from its detail) and the visit check in
/rekap, through the real Application over HTTP (the queries and the Ringkasan sheet, on both
databases: tests/models/test_visit_check.py)."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.enums import Role
from models import visits as visit_queries
from models.tables import AuditLog, Group
from tests.conftest import TODAY
from tests.factories import (
    MEMBER_LINES,
    REGENCY_SUKABUMI,
    make_group,
    make_mentor,
    rows,
    shown,
)
from tests.handlers.test_groups import register_until_members

MENTOR = 701501
OTHER_MENTOR = 701502
COORDINATOR = 701503
ASKED = "Kirim lokasi tempat KUBE"


async def group_row(session, group_id: int) -> Group:
    await session.rollback()
    return (await session.execute(select(Group).where(Group.id == group_id)
                                  .execution_options(populate_existing=True))).scalar_one()


async def test_after_saving_a_group_its_place_is_shared_and_shown_in_its_detail(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send(MEMBER_LINES)
    await chat.press("✅ Simpan")
    assert "tersimpan dengan 7 KK" in chat.last_text()
    assert chat.buttons() == ["📍 Simpan lokasi kelompok"]

    await chat.press("📍 Simpan lokasi kelompok")
    assert ASKED in chat.last_text() and "-6.91, 107.61" in chat.last_text()
    assert chat.reply_keyboard() == [["📍 Kirim lokasi"], ["Lewati", "❌ Batal"]]
    await chat.share_location(-6.9213, 106.9297)
    assert chat.last_text().startswith("✅ Lokasi KUBE Mawar Sejahtera tersimpan.")
    assert chat.reply_keyboard() is None

    group = (await rows(session, Group))[0]
    assert (group.latitude, group.longitude) == (-6.9213, 106.9297)
    assert group.location_set_at is not None
    gid = group.id
    audit = [row for row in await rows(session, AuditLog)
             if row.entity == "group" and row.action == "update"]
    assert [(row.old["latitude"], row.new["latitude"], row.actor_telegram_id)
            for row in audit] == [(None, -6.9213, MENTOR)]

    await chat.press_data(f"kel:det:{gid}")
    assert "Lokasi kelompok: tersimpan (25 November 2026)" in chat.last_text()
    replies = await chat.press("📍 Lokasi kelompok")
    assert [m.kind for m in replies] == ["location", "text"]
    assert (replies[0].latitude, replies[0].longitude) == (-6.9213, 106.9297)
    assert replies[1].text.startswith("📍 Lokasi KUBE Mawar Sejahtera: -6.9213, 106.9297")
    assert chat.buttons() == ["✏️ Ganti lokasi", "« Kembali ke kelompok"]


async def test_typed_points_wrong_answers_lewati_and_batal(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    gid = (await make_group(session, mentor, name="KUBE Melati")).id
    chat = bot.chat(MENTOR)
    # No place yet: the detail's button asks at once.
    await chat.press_data(f"kel:det:{gid}")
    await chat.press("📍 Lokasi kelompok")
    assert ASKED in chat.last_text()

    replies = await chat.send("di balai desa")
    said = shown(replies)
    assert "Lokasi belum terbaca" in said and "-6.91, 107.61" in said
    assert ASKED in chat.last_text()
    # Swapped (longitude first) reads as no point; a point outside Indonesia is named.
    await chat.send("6.91, 17.61")
    assert "Titik 6.91, 17.61 ada di luar Indonesia" in shown(chat.messages()[-2:])
    assert ASKED in chat.last_text()
    await chat.send("-6.91, 107.61")
    assert chat.last_text().startswith("✅ Lokasi KUBE Melati tersimpan.")
    assert ((g := await group_row(session, gid)).latitude, g.longitude) == (-6.91, 107.61)

    # Ganti lokasi, then "lewati": the place stays; then "batal": cancelled.
    await chat.press_data(f"gplace:show:{gid}")
    await chat.press("✏️ Ganti lokasi")
    assert ASKED in chat.last_text()
    await chat.send("lewati")
    assert chat.last_text().startswith("Baik, lokasi KUBE Melati tidak diubah.")
    assert chat.reply_keyboard() is None
    await chat.press_data(f"gplace:start:{gid}")
    await chat.send("batal")
    assert chat.last_text() == "Baik, dibatalkan. Tidak ada yang disimpan."
    assert chat.reply_keyboard() is None
    await chat.send("/kelompok")  # nothing left half answered
    assert "KUBE Melati" in shown(chat.messages()[-1:])
    assert ((g := await group_row(session, gid)).latitude, g.longitude) == (-6.91, 107.61)


async def test_only_its_mentor_and_its_area_staff_may_set_it(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    gid = (await make_group(session, mentor)).id
    await make_mentor(session, telegram_id=OTHER_MENTOR, name="Rudi")
    await make_mentor(session, telegram_id=COORDINATOR, name="Budi Hartono",
                      role=Role.COORDINATOR, area_code=REGENCY_SUKABUMI)
    other = bot.chat(OTHER_MENTOR)
    for data in (f"gplace:start:{gid}", f"gplace:show:{gid}"):
        await other.press_data(data)
        assert other.callback_answers()[-1].text.startswith("Kelompok tidak ditemukan")
    await other.send("-6.91, 107.61")  # no question was opened for it
    assert (await group_row(session, gid)).latitude is None

    coordinator = bot.chat(COORDINATOR)
    await coordinator.press_data(f"gplace:start:{gid}")
    await coordinator.share_location(-6.92, 106.93)
    assert coordinator.last_text().startswith("✅ Lokasi KUBE Mawar tersimpan.")
    assert (await group_row(session, gid)).latitude == -6.92


async def _visit(session, group, mentor, point=None) -> None:
    await visit_queries.create_visit(session=session, group=group, mentor=mentor, fields={
        "visited_on": TODAY, "attendance": 6, "activities": ["pemantauan"],
        "next_visit_on": TODAY, "latitude": point[0] if point else None,
        "longitude": point[1] if point else None})


async def test_rekap_counts_far_visits_and_visits_without_a_location(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    await make_mentor(session, telegram_id=COORDINATOR, name="Budi Hartono",
                      role=Role.COORDINATOR, area_code=REGENCY_SUKABUMI)
    placed = await make_group(session, mentor, name="KUBE Mawar")
    placed.latitude, placed.longitude = -6.9000, 106.8000
    session.add(placed)
    await session.commit()
    await _visit(session, placed, mentor, (-6.9050, 106.8050))  # 0.8 km: near
    await _visit(session, placed, mentor, (-6.9500, 106.9000))  # 12 km: far
    await _visit(session, placed, mentor)  # no location
    # No place saved: the middle of its visits' locations, which are close together.
    unplaced = await make_group(session, mentor, name="KUBE Melati")
    await _visit(session, unplaced, mentor, (-6.8000, 106.7000))
    await _visit(session, unplaced, mentor, (-6.8010, 106.7010))

    chat = bot.chat(COORDINATOR)
    await chat.send("/rekap")
    replies = await chat.press("Bulan ini")
    text = next(m.text for m in replies if m.text and "Rekap KUBE" in m.text)
    assert ("Kunjungan dalam periode: 5 · tanpa lokasi 1 · jauh dari tempat kelompok "
            "(> 2 km) 1") in text
    # The mentor is told nothing of it.
    assert not bot.server.sent(MENTOR)
