"""Households (issue 13) through the real Application over HTTP: the head of household's sex and
DTKS/DTSEN registration typed in a member line or set on the household's page, the welfare
category changed with its history, leaving with a reason (graduations counted), and the paths
that must change nothing (another area's group, forged buttons, a dissolved group)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from bot.core.enums import Role
from models import groups as group_queries
from models.tables import AuditLog, Group, GroupChange, Member
from tests.conftest import TODAY
from tests.factories import (
    DISTRICT_ELSEWHERE,
    MEMBER_LINES,
    make_group,
    make_mentor,
    rows,
    shown,
)
from tests.handlers.test_groups import register_until_members

MENTOR = 700601
COORDINATOR = 700602


async def stored(session, member_id: int) -> Member:
    """The household as the bot left it (the bot writes through its own connection)."""
    await session.rollback()
    return await session.get(Member, member_id, populate_existing=True)


async def members_of(session, group_id: int) -> dict[str, Member]:
    await session.rollback()
    return {m.name: m for m in await group_queries.all_members(session=session,
                                                               group_id=group_id)}


async def open_page(chat, group_id: int, label: str) -> None:
    await chat.press_data(f"mem:list:{group_id}")
    await chat.press(label)


# --- typed in the member line ------------------------------------------------------------------

async def test_registration_line_with_sex_and_dtks_is_stored_and_shown(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    ask = chat.last_text()
    assert "P atau L" in ask and "Siti Aminah; miskin; ketua; P; DTKS desil 2" in ask
    lines = MEMBER_LINES.replace("Siti Aminah; miskin; ketua",
                                 "Siti Aminah; miskin; ketua; P; DTKS desil 3")
    lines = lines.replace("Joko Susilo; miskin; anggota", "Joko Susilo; miskin; anggota; L")
    await chat.send(lines)
    summary = chat.last_text()
    assert "1. Siti Aminah – miskin – ketua – ♀ – DTKS d3" in summary
    assert "4. Joko Susilo – miskin – anggota – ♂" in summary
    assert "2. Budi Santoso – fakir miskin – sekretaris\n" in summary  # no tokens: as before
    await chat.press("✅ Simpan")
    gid = (await session.execute(select(Group))).scalar_one().id
    members = await members_of(session, gid)
    siti, joko, budi = members["Siti Aminah"], members["Joko Susilo"], members["Budi Santoso"]
    assert (siti.head_sex, siti.register_status, siti.register_decile) == ("p", "ya", 3)
    assert (joko.head_sex, joko.register_status, joko.register_decile) == ("l", None, None)
    assert (budi.head_sex, budi.register_status, budi.register_decile) == (None, None, None)
    # The group's detail counts the households headed by women.
    await chat.press_data(f"kel:det:{gid}")
    assert "KK dipimpin perempuan: 1 dari 7" in chat.last_text()
    assert "Graduasi: 0 KK" in chat.last_text()


async def test_a_bad_token_gets_an_example_and_the_list_is_kept(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    lines = MEMBER_LINES.replace("Budi Santoso; fakir miskin; sekretaris",
                                 "Budi Santoso; fakir miskin; sekretaris; X")
    lines = lines.replace("Rina Wati; hampir miskin; bendahara",
                          "Rina Wati; hampir miskin; bendahara; DTKS desil 12")
    await chat.send(lines)
    shown = chat.last_text()
    assert '2. ❌ "Budi Santoso; fakir miskin; sekretaris; X" – kata ini tidak dikenal' in shown
    assert "Contoh: Siti Aminah; miskin; ketua; P; DTKS desil 2" in shown
    assert "3. ❌" in shown and "desil 1–10" in shown
    assert "1. Siti Aminah – miskin – ketua" in shown  # the rest is kept
    await chat.send("2. Budi Santoso; fakir miskin; sekretaris; L\n"
                    "3. Rina Wati; hampir miskin; bendahara; P; DTKS desil 10")
    assert "Anggota (7 KK)" in chat.last_text()
    await chat.press("✅ Simpan")
    gid = (await session.execute(select(Group))).scalar_one().id
    members = await members_of(session, gid)
    assert members["Budi Santoso"].head_sex == "l"
    assert (members["Rina Wati"].register_status, members["Rina Wati"].register_decile) == (
        "ya", 10)


async def test_adding_a_household_with_tokens_and_a_bad_one(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=5)
    gid = group.id
    chat = bot.chat(MENTOR)
    await chat.press_data(f"mem:list:{gid}")
    await chat.press("➕ Tambah")
    assert "DTKS desil 3" in chat.last_text()
    await chat.send("Ani Suryani; miskin; anggota; P; DTKS desil 33")
    assert "DTKS/DTSEN tidak terbaca" in chat.texts()[-2]
    assert "Contoh: Ani Suryani; miskin; anggota" in chat.last_text()  # the same question
    await chat.send("Ani Suryani; miskin; anggota; P; DTKS desil 3")
    assert "ditambahkan" in chat.last_text() or "ditambahkan" in chat.texts()[-2]
    ani = (await members_of(session, gid))["Ani Suryani"]
    assert (ani.head_sex, ani.register_status, ani.register_decile) == ("p", "ya", 3)
    await chat.press_data(f"mem:list:{gid}")
    assert "6. Ani Suryani – miskin – anggota – ♀ – DTKS d3" in chat.last_text()


# --- the household's page -----------------------------------------------------------------------

async def test_page_buttons_set_sex_and_dtks_audited(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=5)
    gid = group.id
    member_id = (await group_queries.active_members(session=session, group_id=gid))[0].id
    chat = bot.chat(MENTOR)
    await open_page(chat, gid, "1. Anggota 1")
    page = chat.last_text()
    assert "👤 Anggota 1" in page and "Kepala keluarga: belum diisi" in page
    assert "DTKS/DTSEN: belum diisi" in page
    assert chat.buttons() == ["♀ Perempuan", "♂ Laki-laki", "DTKS: ya", "DTKS: tidak",
                              "DTKS: tidak tahu", "📊 Ubah kategori", "🔁 Ubah peran",
                              "🚪 Catat keluar", "« Daftar anggota"]
    await chat.press("♀ Perempuan")
    assert "Kepala keluarga: perempuan" in chat.last_text()  # the same message, redrawn
    assert chat.callback_answers()[-1].text == "✓ Kepala keluarga: perempuan"
    await chat.press("DTKS: ya")
    assert "Desil DTKS berapa?" in chat.last_text()
    assert chat.buttons()[:10] == [str(no) for no in range(1, 11)]
    await chat.press("2")
    assert "DTKS/DTSEN: terdaftar, desil 2" in chat.last_text()
    member = await stored(session, member_id)
    assert (member.head_sex, member.register_status, member.register_decile) == ("p", "ya", 2)
    await chat.press("DTKS: tidak tahu")
    member = await stored(session, member_id)
    assert (member.register_status, member.register_decile) == ("tidak_tahu", None)
    await chat.press("♀ Perempuan")  # no change: no audit row
    audits = [row for row in await rows(session, AuditLog)
              if row.entity == "member" and row.entity_id == member_id and row.action == "update"]
    assert [row.new for row in audits] == [
        {"head_sex": "p"}, {"register_status": "ya", "register_decile": 2},
        {"register_status": "tidak_tahu", "register_decile": None}]
    await chat.press_data(f"mem:list:{gid}")
    assert "1. Anggota 1 – miskin – ketua – ♀ – DTKS ?" in chat.last_text()


async def test_change_category_keeps_its_history(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=5)
    gid = group.id
    member_id = (await group_queries.active_members(session=session, group_id=gid))[1].id
    chat = bot.chat(MENTOR)
    await open_page(chat, gid, "2. Anggota 2")
    assert "Riwayat kategori" not in chat.last_text()
    await chat.press("📊 Ubah kategori")
    assert "Kategori baru Anggota 2? Sekarang: miskin." in chat.last_text()
    assert chat.buttons() == ["fakir miskin", "hampir miskin", "« Kembali"]
    await chat.press("hampir miskin")
    page = chat.last_text()
    assert "Kategori: hampir miskin" in page
    assert "Riwayat kategori:\n• miskin → hampir miskin, 25 Nov 2026" in page
    assert chat.callback_answers()[-1].text == "✓ Kategori: miskin → hampir miskin"
    member = await stored(session, member_id)
    assert member.welfare_category == "hampir_miskin"
    [change] = [c for c in await rows(session, GroupChange) if c.member_id == member_id]
    assert (change.kind, change.field, change.old, change.new, change.changed_on,
            change.group_id) == ("welfare", "welfare_category", "miskin", "hampir_miskin",
                                 TODAY, gid)
    audit = [row for row in await rows(session, AuditLog)
             if row.entity == "member" and row.entity_id == member_id][-1]
    assert (audit.old, audit.new) == ({"welfare_category": "miskin"},
                                      {"welfare_category": "hampir_miskin"})
    # An old "set" button for the category it already has changes nothing.
    await chat.press_data(f"mem:cset:{gid}:{member_id}:hampir_miskin")
    assert chat.callback_answers()[-1].text == "Kategorinya sudah hampir miskin."
    assert len([c for c in await rows(session, GroupChange) if c.member_id == member_id]) == 1


# --- leaving -----------------------------------------------------------------------------------

async def test_leaving_as_graduated_is_counted(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=6)
    gid = group.id
    member_id = (await group_queries.active_members(session=session, group_id=gid))[5].id
    chat = bot.chat(MENTOR)
    await open_page(chat, gid, "6. Anggota 6")
    await chat.press("🚪 Catat keluar")
    assert "Catat keluar: Anggota 6 (KUBE Mawar)" in chat.last_text()
    assert chat.buttons() == ["Pindah", "Meninggal", "Mengundurkan diri",
                              "Graduasi / sudah mampu", "Lainnya", "❌ Batal"]
    await chat.send("lulus")  # typed, no reason's name: told to press, the same buttons again
    assert 'tekan "Pindah"' in chat.texts()[-2]
    await chat.send("graduasi")  # the start of one: as pressed
    assert "Kapan Anggota 6 keluar?" in chat.last_text()
    await chat.send(f"{TODAY + timedelta(days=3):%d/%m/%Y}")
    assert "tidak boleh setelah hari ini" in chat.texts()[-2]
    await chat.press("📅 Hari ini")
    assert "🎉 Anggota 6 keluar dari KUBE Mawar karena sudah mampu (graduasi)" in chat.last_text()
    member = await stored(session, member_id)
    assert (member.left_on, member.leave_reason, member.leave_note) == (TODAY, "graduasi", None)
    await chat.press_data(f"kel:det:{gid}")
    assert "Graduasi: 1 KK" in chat.last_text() and "Anggota (5 KK)" in chat.last_text()
    assert await group_queries.count_graduated(session=session, group_ids=[gid]) == 1
    assert await group_queries.count_graduated(session=session, area="32.02") == 1
    assert await group_queries.count_graduated(session=session, area="73") == 0
    assert await group_queries.count_graduated(session=session, since=TODAY + timedelta(1)) == 0
    await chat.press_data(f"mem:hist:{gid}")
    assert "Anggota 6 (anggota)" in chat.last_text()
    assert "keluar 25 November 2026 (Graduasi / sudah mampu)" in chat.last_text()
    audit = [row for row in await rows(session, AuditLog)
             if row.entity == "member" and row.entity_id == member_id][-1]
    assert audit.new["leave_reason"] == "graduasi" and audit.new["left_on"] == TODAY.isoformat()


async def test_leaving_for_another_reason_asks_a_short_note(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=5)
    gid = group.id
    member_id = (await group_queries.active_members(session=session, group_id=gid))[1].id
    formed_on = group.formed_on
    chat = bot.chat(MENTOR)
    await chat.press_data(f"mem:list:{gid}")
    await chat.press("🚪 Catat keluar")
    assert "Siapa yang keluar" in chat.last_text()
    await chat.press("Anggota 2 (sekretaris)")
    await chat.press("Lainnya")
    assert "Tulis alasannya singkat" in chat.last_text()
    await chat.send("x" * 120)
    assert "paling banyak 100 huruf" in chat.texts()[-2]
    await chat.send("ikut anak ke kota, HP 081234567890")
    await chat.send("kapan-kapan")
    assert "Tanggal tidak terbaca" in chat.texts()[-2]
    await chat.send(f"{formed_on - timedelta(days=1):%d/%m/%Y}")
    assert "tidak boleh sebelum tanggal masuk" in chat.texts()[-2]
    day = TODAY - timedelta(days=2)
    await chat.send(f"{day:%d/%m/%Y}")
    said = "\n".join(chat.texts()[-3:])
    assert "Anggota 2 tercatat keluar dari KUBE Mawar: Lainnya" in said
    assert "belum ada sekretaris" in chat.last_text()
    member = await stored(session, member_id)
    assert (member.left_on, member.leave_reason) == (day, "lainnya")
    assert member.leave_note.startswith("ikut anak ke kota, HP ") and "1234567" not in (
        member.leave_note)
    audit = [row for row in await rows(session, AuditLog)
             if row.entity == "member" and row.entity_id == member_id][-1]
    assert audit.new["leave_note"] == "***"


async def test_batal_while_leaving_changes_nothing(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=5)
    gid = group.id
    chat = bot.chat(MENTOR)
    await open_page(chat, gid, "3. Anggota 3")
    await chat.press("🚪 Catat keluar")
    await chat.press("❌ Batal")
    assert len(await group_queries.active_members(session=session, group_id=gid)) == 5


# --- what must change nothing -------------------------------------------------------------------

async def test_other_area_and_forged_buttons_change_nothing(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    own = await make_group(session, mentor, members=5)
    other = await make_mentor(session, area_code=DISTRICT_ELSEWHERE)
    foreign = await make_group(session, other, name="KUBE Orang Lain",
                               village_code="73.71.01.1001", members=5)
    foreign_member = (await group_queries.active_members(session=session,
                                                         group_id=foreign.id))[0]
    own_member = (await group_queries.active_members(session=session, group_id=own.id))[0]
    chat = bot.chat(MENTOR)
    f, fm, o, om = foreign.id, foreign_member.id, own.id, own_member.id
    for data in (f"mem:page:{f}:{fm}", f"mem:sex:{f}:{fm}:p", f"mem:reg:{f}:{fm}:tidak",
                 f"mem:dec:{f}:{fm}:3", f"mem:cat:{f}:{fm}", f"mem:cset:{f}:{fm}:hampir_miskin",
                 f"klr:start:{f}:{fm}", f"mem:rolep:{f}:{fm}"):
        await chat.press_data(data)
        assert "tidak ditemukan" in chat.callback_answers()[-1].text, data
    # Another group's household through my own group's id.
    for data in (f"mem:page:{o}:{fm}", f"mem:sex:{o}:{fm}:p",
                 f"mem:cset:{o}:{fm}:hampir_miskin", f"klr:start:{o}:{fm}"):
        await chat.press_data(data)
        assert "tidak ada lagi" in chat.callback_answers()[-1].text, data
    # Values no button offers.
    for data in (f"mem:sex:{o}:{om}:x", f"mem:reg:{o}:{om}:mungkin", f"mem:dec:{o}:{om}:11",
                 f"mem:cset:{o}:{om}:kaya"):
        before = len(chat.callback_answers())
        await chat.press_data(data)
        answers = chat.callback_answers()
        assert len(answers) == before + 1, data
        assert answers[-1].text == "Tombol ini sudah tidak berlaku.", data
    for member_id in (fm, om):
        member = await stored(session, member_id)
        assert (member.head_sex, member.register_status, member.register_decile,
                member.welfare_category, member.left_on) == (None, None, None, "miskin", None)
    assert all(change.kind != "welfare" for change in await rows(session, GroupChange))


async def test_a_coordinator_sees_the_page_without_its_buttons(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    await make_mentor(session, telegram_id=COORDINATOR, role=Role.COORDINATOR,
                      area_code="32.02")
    group = await make_group(session, mentor, members=5)
    gid = group.id
    member_id = (await group_queries.active_members(session=session, group_id=gid))[0].id
    chat = bot.chat(COORDINATOR)
    await chat.press_data(f"mem:list:{gid}")
    assert "➕ Tambah" not in chat.buttons()
    await chat.press("1. Anggota 1")
    assert "👤 Anggota 1" in chat.last_text()
    assert chat.buttons() == ["« Daftar anggota"]
    await chat.press_data(f"mem:sex:{gid}:{member_id}:p")
    assert "tidak ditemukan" in chat.callback_answers()[-1].text
    await chat.press_data(f"klr:start:{gid}:{member_id}")
    assert "tidak ditemukan" in chat.callback_answers()[-1].text
    member = await stored(session, member_id)
    assert (member.head_sex, member.left_on) == (None, None)


async def test_a_dissolved_group_is_read_only(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=5)
    gid = group.id
    member_id = (await group_queries.active_members(session=session, group_id=gid))[0].id
    await session.execute(update(Group).where(Group.id == gid).values(status="bubar"))
    await session.commit()
    chat = bot.chat(MENTOR)
    await chat.press_data(f"mem:list:{gid}")
    assert "➕ Tambah" not in chat.buttons()
    await chat.press("1. Anggota 1")
    assert chat.buttons() == ["« Daftar anggota"]
    for data in (f"mem:sex:{gid}:{member_id}:p", f"mem:cset:{gid}:{member_id}:fakir_miskin",
                 f"klr:start:{gid}:{member_id}", f"mem:add:{gid}"):
        await chat.press_data(data)
        assert "sudah bubar" in chat.callback_answers()[-1].text, data
    member = await stored(session, member_id)
    assert (member.head_sex, member.welfare_category, member.left_on) == (None, "miskin", None)


async def test_erasure_scrubs_a_leave_note_that_names_the_household(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=6)
    gid = group.id
    members = await group_queries.active_members(session=session, group_id=gid)
    leaver, named = members[5], members[4]
    leaver_id, named_id = leaver.id, named.id
    await group_queries.remove_member(session=session, member=leaver, actor=mentor,
                                      left_on=TODAY, reason="lainnya",
                                      note="ikut Anggota 5 ke kota")
    chat = bot.chat(MENTOR)
    await chat.send("/hapus_anggota")
    await chat.press("KUBE Mawar – Sekarwangi")
    await chat.press("Anggota 5 (anggota)")
    await chat.press("Permintaan keluarga")
    await chat.press("🗑 Ya, hapus")
    assert (await stored(session, leaver_id)).leave_note == f"ikut (dihapus #{named_id}) ke kota"
    assert (await stored(session, leaver_id)).leave_reason == "lainnya"


async def test_the_households_that_form_a_group_joined_when_it_was_formed(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)  # formed 12 March 2026
    await chat.send(MEMBER_LINES)
    await chat.press("✅ Simpan")
    gid = (await session.execute(select(Group))).scalar_one().id
    members = await members_of(session, gid)
    assert {member.joined_on for member in members.values()} == {date(2026, 3, 12)}
    agus_id = members["Agus Salim"].id

    # Leaving in June, months before the group was typed in, is after joining: taken.
    await open_page(chat, gid, "6. Agus Salim")
    await chat.press("🚪 Catat keluar")
    await chat.press("Pindah")
    replies = await chat.send("1/3/2026")
    assert "tidak boleh sebelum tanggal masuk (12 Maret 2026)" in shown(replies)
    await chat.send("3/6/2026")
    assert "Agus Salim tercatat keluar dari KUBE Mawar Sejahtera: Pindah" in shown(
        chat.messages()[-3:])
    assert (await stored(session, agus_id)).left_on == date(2026, 6, 3)

    # A household added later joins today.
    await chat.press_data(f"mem:list:{gid}")
    await chat.press("➕ Tambah")
    await chat.send("Ani Suryani; miskin; anggota")
    assert "ditambahkan" in chat.last_text()
    assert (await members_of(session, gid))["Ani Suryani"].joined_on == TODAY
