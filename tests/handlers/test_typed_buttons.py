"""Answers typed at questions with buttons: a button's label (any case, without its marks), an
unambiguous start of it, or its number presses it, through the conversation's own handler;
text that is itself an answer stays that answer. Also after a restart."""

from __future__ import annotations

import copy

from sqlalchemy import select

from models import mentors as mentor_queries
from models.tables import Group, UserData
from tests.factories import MEMBER_LINES, make_mentor, shown, stored_draft
from tests.handlers.test_rollovers import MENTOR as ROLL_MENTOR
from tests.handlers.test_rollovers import setup as rollover_setup
from tests.handlers.test_rollovers import to_amount
from tests.handlers.visit_walks import MENTOR as VISIT_MENTOR
from tests.handlers.visit_walks import draft as visit_draft
from tests.handlers.visit_walks import mentor_with_group

MENTOR = 700151
PRESS_HINT = "Jawab dengan menekan salah satu tombol"


async def test_sign_up_after_a_restart_takes_the_typed_unsur(bot, session):
    """The unsur question open across a restart (the old buttons out of sight): its typed
    name is the answer, not refused first; also in a draft of the version before, which kept
    the buttons' labels only (the restart of an upgrade)."""
    user_id = 700152
    mentor = bot.chat(user_id, first_name="Agus")
    await mentor.send("/start")
    await mentor.send("Agus Salim")
    await mentor.share_contact()
    asked = mentor.last()
    assert "unsur apa" in asked.text and len(asked.button_texts) > 3
    await bot.restart()
    replies = await mentor.send("tksk")
    assert "✓ TKSK" in shown(replies) and "bertugas" in mentor.last_text()
    assert bot.server.message(user_id, asked.message_id).button_texts == []  # used

    await mentor.send("/batal")
    await mentor.send("/start")
    await mentor.send("Agus Salim")
    await mentor.share_contact()

    async def as_the_version_before() -> None:
        row = await session.get(UserData, user_id)
        data = copy.deepcopy(row.data)
        draft = data["draft:onboarding"]
        draft["_buttons"] = [label for label, _ in draft.pop("_buttons")]
        del draft["_buttons_of"], draft["_buttons_at"]
        row.data = data
        await session.commit()

    await session.rollback()
    await bot.restart(meanwhile=as_the_version_before)
    replies = await mentor.send("2")
    assert "✓ TKSK" in shown(replies) and "bertugas" in mentor.last_text()
    await mentor.send("cibadak")
    assert mentor.buttons()[0] == "Kec. Cibadak, Kab. Sukabumi, Jawa Barat"
    replies = await mentor.send("1")  # a search's results: their number picks, as no place is "1"
    assert "✓ Kec. Cibadak, Kab. Sukabumi" in shown(replies)
    row = await mentor_queries.get_by_telegram_id(session=session, telegram_id=700152)
    assert (row.name, row.affiliation, row.area_code) == ("Agus Salim", "tksk", "32.02.11")


async def test_a_typed_label_start_or_number_presses_the_button(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await chat.send("/tambah_kelompok")
    await chat.send("KUBE Mawar Sejahtera")
    await chat.send("sekarwangi")
    await chat.send("#1")  # the first village found
    assert "✓ Desa Sekarwangi" in shown(chat.messages()[-3:])
    business = chat.buttons()
    # A start that fits two: which one, and the same question with its buttons.
    await chat.send("per")
    assert 'Maksudnya yang mana: "Pertanian" atau "Perikanan"?' in chat.texts()[-2]
    assert chat.buttons() == business
    await chat.send("peternakan sapi")  # names no button: told to press (or type), once more
    assert PRESS_HINT in chat.texts()[-2] and f'tekan "{business[0]}"' in chat.texts()[-2]
    await chat.send_sticker()  # not text: the general answer stays
    assert "belum bisa membaca" in chat.texts()[-2]
    replies = await chat.send("TERNAK")
    assert "✓ Ternak" in shown(replies) and "mengikat" in chat.last_text()
    await chat.send("tetangga")  # the example is the words to type, without the box mark
    assert 'tekan "Kedekatan tempat tinggal"' in chat.texts()[-2]
    # Tick boxes: a name or a number ticks (the question again, ticked), Selesai goes on.
    await chat.send("kedekatan")
    assert "✅ Kedekatan tempat tinggal" in chat.buttons()
    await chat.send("5")
    assert "✅ Motivasi yang sama" in chat.buttons()
    replies = await chat.send("selesai")
    assert "Kapan kelompok dibentuk?" in chat.last_text()
    await chat.send("12/03/2026")
    replies = await chat.send("2")  # the stage takes only its buttons: the second one
    assert "✓ Berkembang" in shown(replies)
    await chat.send(MEMBER_LINES)
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    # The summary: Ubah, a field by name, its question, back to the summary, Simpan.
    await chat.send("ubah")
    assert "Anggota" in chat.buttons() and "Periksa dulu" in chat.last_text()
    replies = await chat.send("tahap")
    assert "Kelompok sekarang di tahap apa?" in chat.last_text()
    assert "✓ ✏️" not in shown(replies)  # one mark, as under a tapped button
    await chat.send("maju")
    assert "Tahap: Maju/Mandiri" in chat.last_text()
    await chat.send("simpan")
    assert "tersimpan dengan 7 KK" in chat.last_text()
    group = (await session.execute(select(Group))).scalar_one()
    assert (group.business_type, group.stage, group.binding_ties) == (
        "ternak", "mandiri", ["kedekatan", "motivasi"])


async def test_typed_buttons_in_a_visit_and_a_count_stays_a_count(bot, session):
    """The group by its number, "hari" for Hari ini, activities by name and "selesai"; and
    where a number is itself the answer (the attendance, a roll-over's count with Lewati under
    it), it stays that number."""
    await mentor_with_group(session)
    chat = bot.chat(VISIT_MENTOR)
    await chat.send("/kunjungan")
    replies = await chat.send("1")
    assert "✓ KUBE Mawar" in shown(replies) and "Kapan kunjungannya?" in chat.last_text()
    replies = await chat.send("hari")
    assert "✓ 25 November 2026" in shown(replies)
    await chat.send("1")  # the attendance: one household, not a button
    await chat.send("pemantauan")
    replies = await chat.send("selesai")
    stored = await visit_draft(session)
    assert (stored["attendance"], stored["activities"]) == (1, ["pemantauan"])
    for skip in ("lewati", "lewati", "lewati"):  # no figures, no problems, no follow-up
        await chat.send(skip)
    assert chat.reply_keyboard() == [["📍 Kirim lokasi"], ["Lewati"], ["💾 Simpan sekarang"]]
    replies = await chat.send("2")  # the reply keyboard's second button, by its number
    assert "Lokasi dilewati" in shown(replies) and "Kirim foto" in chat.last_text()

    await rollover_setup(session, form="barang", amount=None, goods_description="10 ekor kambing",
                         rollover_amount=None, rollover_units=10,
                         rollover_unit_label="ekor anak kambing")
    roller = bot.chat(ROLL_MENTOR)
    await to_amount(roller)
    await roller.send("500rb")
    assert roller.buttons() == ["Lewati"]
    replies = await roller.send("1")
    assert "✓ 1 ekor anak kambing" in shown(replies)
    assert (await stored_draft(session, ROLL_MENTOR, "rollover"))["units"] == 1
