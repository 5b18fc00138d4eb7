"""Coordinators: appointed by an admin, act only inside their area, on every button."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.core.enums import MentorStatus, Role
from models import mentors as mentor_queries
from models.tables import AuditLog, Group
from tests.conftest import ADMIN_ID, NOW
from tests.factories import make_group, make_mentor

COORD = 910001  # Kab. Sukabumi (32.02)
OTHER_COORD = 910002  # Kota Makassar (73.71)


async def coordinators(session):
    sukabumi = await make_mentor(session, telegram_id=COORD, name="Koor Sukabumi",
                                 role=Role.COORDINATOR, area_code="32.02")
    makassar = await make_mentor(session, telegram_id=OTHER_COORD, name="Koor Makassar",
                                 role=Role.COORDINATOR, area_code="73.71")
    return sukabumi, makassar


async def sign_up(bot, user_id, name, place_query, place_button, start="/start"):
    chat = bot.chat(user_id, first_name=name)
    await chat.send(start)
    await chat.send(name)
    await chat.send("0812 3456 7890")
    await chat.press("PSM")
    await chat.send(place_query)
    await chat.press(place_button)
    return chat


async def test_admin_finds_the_person_by_name_username_or_phone_and_appoints(bot, session):
    person = await make_mentor(session, telegram_id=920001, name="Budi Hartono",
                               phone="+6281211112222", username="budi_h")
    namesake = await make_mentor(session, telegram_id=920002, name="Budi Santoso",
                                 phone="+6281233334444", area_code="32.02.12")
    await make_mentor(session, telegram_id=920003, name="Siti Aminah", phone="+6281233334444")
    # An @username is noted from the person's next message to the bot.
    await bot.chat(920002, first_name="Budi", username="BudiS").send("/bantuan")
    admin = bot.chat(ADMIN_ID)
    await admin.send("/koordinator")
    assert "@username" in admin.last_text() and admin.buttons() == ["🔗 Undang koordinator baru"]
    await admin.send("budi")  # two Budis: told apart by their masked phones and areas
    assert "menemukan 2 orang" in admin.last_text()
    assert admin.buttons() == ["Budi Hartono · +62 812****2222 · Kec. Cibadak, Kab. Sukabumi",
                               "Budi Santoso · +62 812****4444 · Kec. Nagrak, Kab. Sukabumi",
                               "🔗 Undang koordinator baru"]
    await admin.send("hartno")  # misspelt
    assert admin.buttons()[0].startswith("Budi Hartono ·")
    await admin.send("@BUDI_H")
    assert [b.split(" ·")[0] for b in admin.buttons()] == ["Budi Hartono",
                                                           "🔗 Undang koordinator baru"]
    await admin.send("@budis")
    assert admin.buttons()[0].startswith("Budi Santoso ·")
    await admin.send("0812-3333-4444")  # the same phone on two profiles: both offered
    assert [b.split(" ·")[0] for b in admin.buttons()] == ["Budi Santoso", "Siti Aminah",
                                                           "🔗 Undang koordinator baru"]
    await admin.send("Zaenal")
    assert "tidak menemukan pengguna dengan \"Zaenal\"" in admin.texts()[-2]
    assert "@username" in admin.texts()[-2] and "Undang koordinator baru" in admin.texts()[-2]
    await admin.send("@budi_h")
    await admin.press("Budi Hartono · +62 812****2222 · Kec. Cibadak, Kab. Sukabumi")
    await admin.send("sukabumi")
    await admin.press("Kab. Sukabumi")
    assert "Angkat Budi Hartono menjadi koordinator untuk Kab. Sukabumi" in admin.last_text()
    await admin.press("✅ Simpan")
    assert "sekarang koordinator untuk Kab. Sukabumi, Jawa Barat" in admin.last_text()
    await session.refresh(person)
    await session.refresh(namesake)
    assert (person.role, person.area_code) == ("coordinator", "32.02")
    assert namesake.role == "mentor"
    told = bot.chat(920001)
    assert "Anda sekarang koordinator" in told.last_text()
    await told.send("/bantuan")
    assert "/persetujuan" in told.last_text() and "/koordinator" not in told.last_text()
    # A forged appointment press by the new coordinator (not an admin) changes nothing.
    for data in (f"koo:who:{namesake.id}", "koo:save", "koo:invite"):
        await told.press_data(data)
    await session.refresh(namesake)
    assert namesake.role == "mentor"
    assert all("koordinator untuk" not in text for text in bot.chat(920002).texts())
    assert [a.text for a in told.callback_answers()[-3:]] == [
        "Tombol ini sudah tidak berlaku."] * 3


async def test_a_coordinator_joins_by_invite_without_the_mentor_questions(bot, session):
    admin = bot.chat(ADMIN_ID)
    await admin.send("/koordinator")
    await admin.press("🔗 Undang koordinator baru")
    assert "koordinator baru ini" in admin.last_text()
    await admin.send("sukabumi")
    await admin.press("Kab. Sukabumi")
    assert "tautan undangan koordinator untuk Kab. Sukabumi" in admin.last_text()
    await admin.press("✅ Simpan")
    assert "sekali pakai" in admin.last_text()
    code = admin.last_text().split("?start=")[1].split()[0]
    new = bot.chat(921001, first_name="Rina", username="rina_k", phone_number="+6281277778888")
    await new.send(f"/start {code}")
    assert "diundang menjadi koordinator untuk Kab. Sukabumi" in new.texts()[-2]
    await new.send("Rina Kusuma")
    await new.share_contact()
    assert "koordinator untuk Kab. Sukabumi, Jawa Barat. Benar" in new.last_text()
    await new.press("Ya, benar")
    assert "Anda sekarang koordinator untuk Kab. Sukabumi" in new.last_text()
    assert "/persetujuan" in new.last_text()
    assert not any("unsur" in text for text in new.texts())
    row = await mentor_queries.get_by_telegram_id(session=session, telegram_id=921001)
    assert (row.role, row.status, row.area_code, row.affiliation, row.approved_by,
            row.username) == ("coordinator", "active", "32.02", None, ADMIN_ID, "rina_k")
    assert "Rina Kusuma sudah bergabung lewat tautan undangan" in admin.last_text()
    # The link was for one person: a second one is refused kindly, and not signed up.
    late = bot.chat(921002, first_name="Dodi")
    await late.send(f"/start {code}")
    assert "sudah tidak berlaku" in late.last_text() and "/koordinator" in late.last_text()
    # So is an expired one; and a mentor's invite never makes a coordinator.
    old = await mentor_queries.create_invite(session=session, created_by=ADMIN_ID,
                                             area_code="32.02", role=Role.COORDINATOR,
                                             now=NOW - timedelta(days=8))
    await late.send(f"/start {old.code}")
    assert "undangan koordinator ini sudah tidak berlaku" in late.last_text()
    assert await mentor_queries.get_by_telegram_id(session=session, telegram_id=921002) is None
    assert not await mentor_queries.use_invite(session=session, code=(
        await mentor_queries.create_invite(session=session, created_by=ADMIN_ID)).code,
        role=Role.COORDINATOR)


async def test_only_admins_appoint(bot, session):
    await coordinators(session)
    chat = bot.chat(COORD)
    await chat.send("/koordinator")
    assert "bukan untuk peran Anda" in chat.last_text()


async def test_new_mentor_is_approved_by_the_coordinator_of_the_area(bot, session):
    await coordinators(session)
    mentor = await sign_up(bot, 930001, "Ani Lestari", "cibadak", "Kec. Cibadak, Kab. Sukabumi")
    coord, other = bot.chat(COORD), bot.chat(OTHER_COORD)
    assert "Ani Lestari" in coord.last_text() and coord.buttons() == ["✅ Setujui", "❌ Tolak"]
    assert other.texts() == []  # the coordinator of another area hears nothing
    await other.press_data(coord.last().callback_data("✅ Setujui"))  # forged
    assert "bukan untuk peran Anda" in other.callback_answers()[-1].text
    await coord.press("✅ Setujui")
    assert "sudah disetujui" in mentor.last_text()
    row = await mentor_queries.get_by_telegram_id(session=session, telegram_id=930001)
    assert row.status == "active" and row.approved_by == COORD


async def test_persetujuan_lists_only_my_area(bot, session):
    await coordinators(session)
    await make_mentor(session, telegram_id=930011, name="Dekat", area_code="32.02.11",
                      status=MentorStatus.PENDING)
    await make_mentor(session, telegram_id=930012, name="Jauh", area_code="73.71.01",
                      status=MentorStatus.PENDING)
    coord = bot.chat(COORD)
    await coord.send("/persetujuan")
    texts = "\n".join(coord.texts())
    assert "1 pendaftar menunggu" in texts and "Dekat" in texts and "Jauh" not in texts
    await coord.press("✅ Setujui")
    assert (await mentor_queries.get_by_telegram_id(session=session, telegram_id=930011)
            ).status == "active"


async def test_coordinator_invite_link_is_for_the_area(bot, session):
    await coordinators(session)
    coord = bot.chat(COORD)
    await coord.send("/undang 2 14")
    code = coord.last_text().split("?start=")[1].split()[0]
    mentor = bot.chat(930021, first_name="Joko")
    await mentor.send(f"/start {code}")
    await mentor.send("Joko Susilo")
    await mentor.send("0812 3456 7890")
    await mentor.press("TKSK")
    await mentor.send("Mariso")  # a district of Makassar, outside the invite's area
    assert "tidak ketemu" in mentor.texts()[-2]
    await mentor.send("cibadak")
    assert all("Sukabumi" in b for b in mentor.buttons())
    await mentor.press("Kec. Cibadak, Kab. Sukabumi")
    assert "langsung aktif" in mentor.last_text()


async def test_deactivating_a_mentor_hands_the_groups_on(bot, session):
    await coordinators(session)
    leaving = await make_mentor(session, telegram_id=940001, name="Siti Pergi")
    staying = await make_mentor(session, telegram_id=940002, name="Rina Tetap")
    await make_group(session, leaving, name="KUBE Satu")
    await make_group(session, leaving, name="KUBE Dua")
    coord = bot.chat(COORD)
    await coord.send("/pendamping")
    assert "Siti Pergi – 2 kelompok" in coord.last_text()
    await coord.press("Siti Pergi (2)")
    assert "masih mendampingi 2 kelompok" in coord.last_text()
    assert coord.buttons() == ["Rina Tetap", "❌ Batal"]
    await coord.press("Rina Tetap")
    assert "2 kelompok dialihkan dari Siti Pergi ke Rina Tetap" in coord.texts()[-2]
    assert "Siti Pergi sudah dinonaktifkan" in coord.last_text()
    owners = (await session.execute(select(Group.mentor_id))).scalars().all()
    assert set(owners) == {staying.id}
    await session.refresh(leaving)
    assert leaving.status == "inactive"
    assert "mendampingi 2 kelompok" in bot.chat(940002).last_text()
    reassigned = (await session.execute(select(func.count()).select_from(AuditLog).where(
        AuditLog.entity == "group", AuditLog.actor_telegram_id == COORD))).scalar_one()
    assert reassigned == 2


async def test_buttons_for_another_areas_mentors_are_refused(bot, session):
    await coordinators(session)
    mine = await make_mentor(session, telegram_id=950001, name="Milik Saya")
    theirs = await make_mentor(session, telegram_id=950002, name="Orang Makassar",
                               area_code="73.71.01")
    await make_group(session, theirs, name="KUBE Makassar", village_code="73.71.01.1001")
    coord = bot.chat(COORD)
    for data in (f"pds:off:{theirs.id}", f"pds:offok:{theirs.id}",
                 f"pds:mv:{theirs.id}:{mine.id}", f"pds:offto:{theirs.id}:{mine.id}",
                 f"pds:from:{theirs.id}"):
        await coord.press_data(data)
        assert "bukan di wilayah Anda" in coord.callback_answers()[-1].text, data
    await session.refresh(theirs)
    assert theirs.status == "active"
    owner = (await session.execute(select(Group.mentor_id))).scalar_one()
    assert owner == theirs.id
    # A mentor cannot use the coordinator's commands at all.
    mentor_chat = bot.chat(950001)
    for command in ("/persetujuan", "/pendamping", "/alihkan", "/undang", "/audit"):
        await mentor_chat.send(command)
        assert "bukan untuk peran Anda" in mentor_chat.last_text(), command


async def test_alihkan_moves_groups_without_deactivating(bot, session):
    await coordinators(session)
    first = await make_mentor(session, telegram_id=960001, name="Pertama")
    await make_mentor(session, telegram_id=960002, name="Kedua")
    await make_group(session, first, name="KUBE Pindah")
    coord = bot.chat(COORD)
    await coord.send("/alihkan")
    await coord.press("Pertama (1)")
    await coord.press("Kedua")
    assert "1 kelompok dialihkan dari Pertama ke Kedua" in coord.last_text()
    await session.refresh(first)
    assert first.status == "active"


async def test_audit_shows_who_did_what_for_admins_only(bot, session):
    await coordinators(session)
    pending = await make_mentor(session, telegram_id=970001, name="Baru",
                                status=MentorStatus.PENDING)
    admin = bot.chat(ADMIN_ID)
    await admin.press_data(f"appr:ok:{pending.id}")
    await admin.send("/audit")
    assert "Jejak audit" in admin.last_text()
    assert "Pendamping Baru diubah (Status: menunggu → aktif)" in admin.last_text()
    coord = bot.chat(COORD)
    await coord.send("/audit")
    assert "bukan untuk peran Anda" in coord.last_text()
