"""Consent when NIKs and phone numbers are entered: one question for a whole member list, one
for a single household; without it only names and categories are kept."""

from __future__ import annotations

from sqlalchemy import select

from models import groups as group_queries
from models.tables import Group, Member
from tests.conftest import TODAY
from tests.factories import MEMBER_LINES, make_group, make_mentor, rows
from tests.handlers.test_groups import register_until_members

MENTOR = 700201
NIK_A = "3202114507800001"
NIK_B = "3202114507800002"
LIST_WITH_DATA = MEMBER_LINES.replace(
    "Siti Aminah; miskin; ketua", f"Siti Aminah; miskin; ketua; {NIK_A}; 0812-9876-5432"
).replace("Joko Susilo; miskin; anggota", f"Joko Susilo; miskin; anggota; {NIK_B}")


async def members_by_name(session) -> dict[str, Member]:
    return {m.name: m for m in await rows(session, Member)}


async def test_one_question_for_the_list_then_consent_recorded_per_household(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send(LIST_WITH_DATA)
    question = chat.last_text()
    assert "2 KK di daftar ini punya NIK atau nomor HP" in question
    assert "setuju datanya dicatat" in question
    assert chat.buttons() == ["✅ Ya, setuju", "Tidak"]
    await chat.press("✅ Ya, setuju")
    # The answer under the question carries one mark (issue 15: it read "✓ ✅ Ya, setuju").
    assert any(text.endswith("\n\n✓ Ya, setuju") for text in chat.texts())
    summary = chat.last_text()
    assert "Periksa dulu" in summary and "3202********0001" in summary
    assert NIK_A not in summary and "+62 812****5432" in summary
    await chat.press("✅ Simpan")
    assert "tersimpan dengan 7 KK" in chat.last_text()

    members = await members_by_name(session)
    siti, joko, budi = members["Siti Aminah"], members["Joko Susilo"], members["Budi Santoso"]
    assert (siti.nik, siti.phone, joko.nik) == (NIK_A, "+6281298765432", NIK_B)
    assert siti.consent_by == joko.consent_by == mentor.id
    assert siti.consent_at is not None and joko.consent_at is not None
    assert budi.consent_at is None and budi.nik is None  # nothing to agree to


async def test_tidak_keeps_names_and_categories_only(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send(LIST_WITH_DATA)
    await chat.press("Tidak")
    assert "NIK dan nomor HP tidak disimpan" in chat.texts()[-2]
    summary = chat.last_text()
    assert "Periksa dulu" in summary and "NIK" not in summary and "HP" not in summary
    await chat.press("✅ Simpan")
    members = await members_by_name(session)
    assert len(members) == 7
    assert all(m.nik is None and m.phone is None and m.consent_at is None
               for m in members.values())
    assert members["Siti Aminah"].welfare_category == "miskin"


async def test_a_line_sent_again_without_its_nik_and_new_data_asked_again(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send(LIST_WITH_DATA)
    # Joko's family did not agree: his line again, without the NIK.
    await chat.send("4. Joko Susilo; miskin; anggota")
    assert "1 KK di daftar ini" in chat.last_text()
    await chat.press("✅ Ya, setuju")
    # At the summary a household with a phone is added: only that one is asked about.
    await chat.send("Wawan Setiawan; miskin; anggota; 0813-1111-2222")
    assert "1 KK di daftar ini" in chat.last_text()
    await chat.press("Tidak")
    assert "Anggota (8 KK)" in chat.last_text()
    await chat.press("✅ Simpan")
    members = await members_by_name(session)
    assert members["Siti Aminah"].nik == NIK_A and members["Siti Aminah"].consent_at
    assert members["Joko Susilo"].nik is None and members["Joko Susilo"].consent_at is None
    assert members["Wawan Setiawan"].phone is None
    group = (await session.execute(select(Group))).scalar_one()
    assert len(await group_queries.active_members(session=session, group_id=group.id)) == 8


async def test_member_added_with_data_asks_consent(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=5)
    await group_queries.add_member(
        session=session, group=group, actor=mentor, joined_on=TODAY, consented=True,
        data={"name": "Sri Wahyuni", "welfare_category": "miskin", "role": "anggota",
              "nik": NIK_A})
    chat = bot.chat(MENTOR)
    await chat.press_data(f"mem:list:{group.id}")
    assert "3202********0001" in chat.last_text() and NIK_A not in chat.last_text()
    await chat.press("➕ Tambah")
    # A NIK already in the group is found (by its keyed hash) before anything is asked.
    await chat.send(f"Ani Suryani; miskin; anggota; {NIK_A}")
    assert chat.texts()[-2].startswith("NIK itu sudah tercatat untuk Sri Wahyuni di kelompok "
                                       "ini. Periksa lagi angkanya, atau kosongkan NIK.")
    await chat.send(f"Ani Suryani; miskin; anggota; {NIK_B}; 0812-3333-4444")
    assert "keluarga Ani Suryani setuju" in chat.last_text()
    assert chat.buttons() == ["✅ Ya, setuju", "Tidak"]
    await chat.press("✅ Ya, setuju")
    assert "Ani Suryani ditambahkan ke KUBE Mawar." in shown_text(chat)
    await chat.press_data(f"mem:list:{group.id}")
    await chat.press("➕ Tambah")
    await chat.send("Dedi Mulyadi; miskin; anggota; 0812-5555-6666")
    await chat.press("Tidak")
    assert "Dedi Mulyadi ditambahkan ke KUBE Mawar, tanpa NIK dan nomor HP" in shown_text(chat)
    members = await members_by_name(session)
    ani, dedi = members["Ani Suryani"], members["Dedi Mulyadi"]
    assert (ani.nik, ani.phone, ani.consent_by) == (NIK_B, "+6281233334444", mentor.id)
    assert (dedi.phone, dedi.consent_at) == (None, None)


def shown_text(chat) -> str:
    return "\n".join(chat.texts()[-3:])
