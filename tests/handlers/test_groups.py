"""/tambah_kelompok, /kelompok and Anggota through the real Application over HTTP."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.core.parsing import parse_member_lines
from models import groups as group_queries
from models.drafts import conversation_key
from models.tables import ConversationState, Group, Member, UserData
from tests.conftest import TODAY
from tests.factories import DISTRICT_ELSEWHERE, MEMBER_LINES, make_group, make_mentor

MENTOR = 700101


async def register_until_members(chat):
    await chat.send("/tambah_kelompok")
    await chat.send("KUBE Mawar Sejahtera")
    await chat.send("sekarwangi")
    await chat.press("Desa Sekarwangi")
    await chat.press("Ternak")
    await chat.press("▫️ Kedekatan")
    await chat.press("▫️ Motivasi")
    await chat.press("Selesai")
    await chat.send("12/03/2026")
    await chat.press("Tumbuh")


async def test_register_a_group_of_seven(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    assert "satu KK per baris" in chat.last_text()
    await chat.send(MEMBER_LINES)
    summary = chat.last_text()
    assert "KUBE Mawar Sejahtera" in summary and "Anggota (7 KK)" in summary
    assert "Kedekatan tempat tinggal, Motivasi yang sama" in summary
    assert "12 Maret 2026" in summary
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    await chat.press("✅ Simpan")
    assert "tersimpan dengan 7 KK" in chat.last_text()

    group = (await session.execute(select(Group))).scalar_one()
    assert (group.name, group.village_code, group.business_type, group.stage) == (
        "KUBE Mawar Sejahtera", "32.02.11.2002", "ternak", "tumbuh")
    assert group.binding_ties == ["kedekatan", "motivasi"]
    assert group.formed_on == date(2026, 3, 12) and group.mentor_id == mentor.id
    members = await group_queries.active_members(session=session, group_id=group.id)
    assert [(m.name, m.welfare_category, m.role) for m in members[:3]] == [
        ("Siti Aminah", "miskin", "ketua"), ("Budi Santoso", "fakir_miskin", "sekretaris"),
        ("Rina Wati", "hampir_miskin", "bendahara")]


async def test_bad_member_list_is_corrected_line_by_line(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send("Siti Aminah; miskin; ketua\nBudi; kaya; anggota\nRina; miskin; anggota\n"
                    "Joko; miskin; ketua")
    shown = chat.last_text()
    assert "2. ❌" in shown and "kategori tidak dikenal" in shown
    assert "minimal 5 KK" in shown and "ketua lebih dari satu" in shown
    assert "belum ada sekretaris" in shown and "hapus 2" in shown
    await chat.send("2. Budi Santoso; fakir miskin; sekretaris")
    await chat.send("4. Joko; miskin; bendahara")
    assert "minimal 5 KK" in chat.last_text()
    await chat.send("Dewi; hm; anggota\nAgus; fm; anggota\nTono; miskin; anggota")
    assert "Periksa dulu" in chat.last_text() and "Anggota (7 KK)" in chat.last_text()
    # Change one answer from the summary: back to the summary afterwards, the rest kept.
    await chat.press("✏️ Ubah")
    await chat.press("Anggota")
    await chat.send("hapus 7")
    assert "Anggota (6 KK)" in chat.last_text() and "Periksa dulu" in chat.last_text()
    await chat.press("✅ Simpan")
    count = (await session.execute(select(func.count()).select_from(Member))).scalar_one()
    assert count == 6


SUMMARY_BUTTONS = ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
FIELD_BUTTONS = ["Nama", "Desa/kelurahan", "Jenis usaha", "Ikatan", "Tanggal dibentuk", "Tahap",
                 "Anggota", "« Kembali"]


async def test_ubah_swaps_the_summary_buttons_and_one_answer_comes_back_to_it(bot, session):
    """Ubah swaps the summary's buttons in place for the answers, as every summary does;
    « Kembali brings Simpan / Ubah / Batal back; a changed answer leads back to the summary
    and the others stay as they were."""
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    summary = (await chat.send(MEMBER_LINES))[-1]
    assert "Periksa dulu" in summary.text and summary.button_texts == SUMMARY_BUTTONS

    replies = await chat.press("✏️ Ubah")
    assert [(r.message_id, r.button_texts) for r in replies] == [
        (summary.message_id, FIELD_BUTTONS)]
    replies = await chat.press("« Kembali")
    assert [(r.message_id, r.button_texts) for r in replies] == [
        (summary.message_id, SUMMARY_BUTTONS)]

    await chat.press("✏️ Ubah")
    await chat.press("Tahap")
    assert "Ubah: Tahap" in bot.server.message(MENTOR, summary.message_id).text
    replies = await chat.press("Maju/Mandiri")
    assert "Periksa dulu" in replies[-1].text and "Mandiri" in replies[-1].text
    assert replies[-1].button_texts == SUMMARY_BUTTONS

    await chat.press("✏️ Ubah")
    await chat.press("Nama")
    replies = await chat.send("KUBE Melati Jaya")
    assert "Periksa dulu" in replies[-1].text and "KUBE Melati Jaya" in replies[-1].text
    await chat.press("✅ Simpan")
    group = (await session.execute(select(Group))).scalar_one()
    assert (group.name, group.village_code, group.business_type, group.stage) == (
        "KUBE Melati Jaya", "32.02.11.2002", "ternak", "mandiri")
    assert group.binding_ties == ["kedekatan", "motivasi"]
    assert group.formed_on == date(2026, 3, 12)
    assert len(await group_queries.active_members(session=session, group_id=group.id)) == 7


@pytest.mark.parametrize("state, mark", [(9, None), (1, "name")],
                         ids=["at the which-part question", "changing the name"])
async def test_a_draft_left_by_the_former_which_part_question_goes_on(bot, session, state,
                                                                       mark):
    """Before Ubah swapped the summary's buttons, it asked "Bagian mana yang ingin diubah?"
    in a state of its own (9): a draft stored there answers as the summary does, and that
    question's buttons still work; a draft stored while changing one answer (its "_editing"
    mark) still comes back to the summary."""
    await make_mentor(session, telegram_id=MENTOR)
    draft = {"_state": state, "_editing": mark, "name": "KUBE Mawar Sejahtera",
             "village": "32.02.11.2002", "business": "ternak", "ties": ["kedekatan"],
             "formed": "2026-03-12", "stage": "tumbuh",
             "members": [asdict(line) for line in parse_member_lines(MEMBER_LINES)]}
    session.add(UserData(user_id=MENTOR, data={"draft:group": draft, "lang": "id"}))
    session.add(ConversationState(name="group", state=state,
                                  key=conversation_key(MENTOR, MENTOR)))
    await session.commit()
    await bot.restart()
    chat = bot.chat(MENTOR)

    if state == 9:
        replies = await chat.send("halo")  # typed where a button is expected: the summary
        assert "Periksa dulu" in replies[-1].text
        assert replies[-1].button_texts == SUMMARY_BUTTONS
        await chat.press_data("grp:edit:name")  # a button of the old question
    replies = await chat.send("KUBE Melati Jaya")
    assert "Periksa dulu" in replies[-1].text and "KUBE Melati Jaya" in replies[-1].text
    await chat.press("✅ Simpan")
    group = (await session.execute(select(Group))).scalar_one()
    assert (group.name, group.stage, group.binding_ties) == (
        "KUBE Melati Jaya", "tumbuh", ["kedekatan"])


async def test_a_wrong_line_number_skips_only_itself(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send("Siti Aminah; miskin; ketua\nBudi; kaya; sekretaris\nRina; miskin; bendahara")
    replies = await chat.send("2. Budi Santoso; fakir miskin; sekretaris\nhapus 99\n"
                              "Dewi; hm; anggota\nAgus; fm; anggota")
    said = [m.text for m in replies]
    assert ("Baris nomor 99 tidak ada (daftar tadi berisi 3 baris), jadi tidak ada yang dihapus "
            "di situ. Perubahan lainnya sudah dicatat.") in said
    assert "Periksa dulu" in chat.last_text() and "Anggota (5 KK)" in chat.last_text()
    assert "Budi Santoso" in chat.last_text()


async def test_a_name_with_emoji_is_refused_with_the_rule_and_an_example(bot, session):
    """Found in review: "nama tidak terbaca" said nothing of what was wrong."""
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await chat.send("/tambah_kelompok")
    await chat.send("KUBE Mawar 🌹")
    assert "tanpa emoji. Contoh: KUBE Mawar Sejahtera" in chat.texts()[-2]
    await chat.send("KUBE Mawar 2")
    assert "desa" in chat.last_text().lower()
    await chat.send("/batal")
    await register_until_members(chat)
    await chat.send(MEMBER_LINES.replace("Siti Aminah", "Siti 🌸"))
    shown = chat.last_text()
    assert "1. ❌ \"Siti 🌸; miskin; ketua\" – tulis nama seperti di KTP: huruf saja, tanpa " \
        "angka atau emoji, contoh: Siti Aminah; miskin; ketua" in shown


async def test_too_many_households_refused(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    lines = MEMBER_LINES + "\n" + "\n".join(f"Warga {name}; miskin; anggota"
                                         for name in ("Satu", "Dua", "Tiga", "Empat"))
    await chat.send(lines)
    assert "maksimal 10 KK" in chat.last_text()
    assert (await session.execute(select(Group))).first() is None


async def test_bad_answers_and_cancel(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await chat.send("/tambah_kelompok")
    await chat.send("A")
    assert "Contoh: KUBE Mawar Sejahtera" in chat.texts()[-2]
    await chat.send("KUBE Anggrek")
    await chat.send("Mariso")  # a village far outside the mentor's district
    assert "tidak ketemu di wilayah tugas Anda" in chat.texts()[-2]
    await chat.press_data("grp:vil:73.71.01.1006")  # forged: a village of another province
    assert "tidak berlaku" in chat.callback_answers()[-1].text
    await chat.send("Sekarwangi")
    await chat.press("Desa Sekarwangi")
    await chat.press("Dagang")
    await chat.press("Selesai")  # no tie chosen
    assert "minimal satu" in chat.callback_answers()[-1].text
    await chat.press("▫️ Latar")
    await chat.press("Selesai")
    tomorrow = (TODAY + timedelta(days=3)).strftime("%d/%m/%Y")
    await chat.send(tomorrow)
    assert "tidak boleh setelah hari ini" in chat.texts()[-2]
    await chat.send("kapan-kapan")
    assert "Contoh: 12/03/2026" in chat.texts()[-2]
    await chat.send("1 Januari 1900")  # read, but before any KUBE
    assert chat.texts()[-2].startswith("1 Januari 1900 terlalu lama; KUBE yang dicatat di sini "
                                       "dibentuk sejak 1970. Periksa tahunnya.")
    await chat.send("/batal")
    assert "dibatalkan" in chat.last_text().lower()
    assert (await session.execute(select(Group))).first() is None


async def test_restart_during_registration_then_save(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await bot.restart()
    await chat.send(MEMBER_LINES)
    await chat.press("✅ Simpan")
    assert (await session.execute(select(Group))).scalar_one().name == "KUBE Mawar Sejahtera"


async def test_group_list_card_and_detail(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    today = TODAY
    await make_group(session, mentor, name="KUBE Lama", next_visit_due=today - timedelta(days=12))
    await make_group(session, mentor, name="KUBE Baru", next_visit_due=today + timedelta(days=9))
    other = await make_mentor(session, area_code=DISTRICT_ELSEWHERE)
    foreign = await make_group(session, other, name="KUBE Orang Lain",
                               village_code="73.71.01.1001")
    chat = bot.chat(MENTOR)
    await chat.send("/kelompok")
    text = chat.last_text()
    assert text.index("KUBE Lama") < text.index("KUBE Baru")
    assert "terlambat 12 hari" in text and "belum pernah" in text
    assert "KUBE Orang Lain" not in text
    await chat.press("1. KUBE Lama")
    assert chat.buttons()[:4] == ["📋 Detail", "📝 Catat kunjungan", "👥 Anggota", "🕘 Riwayat"]
    await chat.press("📋 Detail")
    detail = chat.last_text()
    assert "Kelengkapan: lengkap" in detail and "Anggota (7 KK)" in detail
    # Someone else's group, by forged button, is refused on the server side.
    await chat.press_data(f"kel:det:{foreign.id}")
    assert "tidak ditemukan" in chat.callback_answers()[-1].text
    await chat.press_data(f"mem:list:{foreign.id}")
    assert "tidak ditemukan" in chat.callback_answers()[-1].text


async def test_members_add_remove_role_history(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=5)
    chat = bot.chat(MENTOR)
    await chat.press_data(f"mem:list:{group.id}")
    assert "(5 KK)" in chat.last_text()
    await chat.press("➕ Tambah")
    await chat.send("Ani; kaya")
    assert "Contoh: Ani Suryani" in chat.texts()[-2]
    await chat.send("Ani Suryani; miskin; anggota")
    assert "ditambahkan" in chat.last_text()
    await chat.press_data(f"mem:list:{group.id}")
    await chat.press("🔁 Ubah peran")
    await chat.press("Ani Suryani")
    await chat.press("ketua")
    assert chat.last_text().startswith("Ketua sekarang Anggota 1. Ganti dengan Ani Suryani?")
    await chat.press("Ya, ganti")
    assert "Ani Suryani sekarang ketua; Anggota 1 menjadi anggota" in chat.last_text()
    await chat.press_data(f"mem:list:{group.id}")
    await chat.press("🚪 Catat keluar")
    await chat.press("Anggota 2")
    await chat.press("Pindah")
    await chat.press("📅 Hari ini")
    assert "Anggota 2 tercatat keluar dari KUBE Mawar: Pindah" in chat.texts()[-2]
    assert "belum ada sekretaris" in chat.last_text()
    await chat.press_data(f"mem:hist:{group.id}")
    history = chat.last_text()
    assert "Anggota 2 (sekretaris)" in history and ", keluar" in history and "(Pindah)" in history
    members = await group_queries.active_members(session=session, group_id=group.id)
    assert len(members) == 5
    assert {m.name: m.role for m in members}["Ani Suryani"] == "ketua"


async def test_a_second_chair_is_asked_before_the_first_steps_down(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, members=5)
    chat = bot.chat(MENTOR)
    group_id = group.id

    async def roles():
        session.expire_all()  # the bot changed them in its own session
        return {m.name: m.role for m in await group_queries.active_members(
            session=session, group_id=group_id)}

    await chat.press_data(f"mem:list:{group_id}")
    await chat.press("➕ Tambah")
    replies = await chat.send("Wawan Setiawan; miskin; ketua")
    said = [m.text for m in replies]
    assert "✅ Wawan Setiawan ditambahkan ke KUBE Mawar." in said
    assert chat.last_text() == ("Ketua sekarang Anggota 1. Ganti dengan Wawan Setiawan?\n"
                                "Kalau diganti, Anggota 1 menjadi anggota.")
    assert chat.buttons() == ["Ya, ganti", "Tidak"]
    await chat.press("Tidak")
    assert chat.last_text() == "Baik, Anggota 1 tetap ketua."
    now = await roles()
    assert (now["Wawan Setiawan"], now["Anggota 1"]) == ("anggota", "ketua")
    # Ubah peran on the household's page: asked the same way, and Ya passes the role on.
    wawan = next(m for m in await group_queries.active_members(
        session=session, group_id=group_id) if m.name == "Wawan Setiawan")
    await chat.press_data(f"mem:rolep:{group_id}:{wawan.id}")
    await chat.press("ketua")
    assert chat.last_text().startswith("Ketua sekarang Anggota 1. Ganti dengan Wawan Setiawan?")
    await chat.press("Ya, ganti")
    assert "✅ Wawan Setiawan sekarang ketua; Anggota 1 menjadi anggota." in chat.texts()
    now = await roles()
    assert (now["Wawan Setiawan"], now["Anggota 1"]) == ("ketua", "anggota")


async def test_one_conversation_at_a_time(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor)
    chat = bot.chat(MENTOR)
    await chat.send("/tambah_kelompok")
    await chat.send("KUBE Anggrek")
    # A "Catat kunjungan" button from an older message, in the middle of registering a group.
    await chat.press_data(f"kun:start:{group.id}")
    assert "sedang mengisi pendaftaran kelompok" in chat.texts()[-2]
    assert "desa/kelurahan" in chat.last_text()
    await chat.send("Sekarwangi")  # the answer goes to the registration, not to a visit
    assert chat.buttons() == ["Desa Sekarwangi, Kec. Cibadak, Kab. Sukabumi"]


async def test_refused_member_lines_never_show_a_full_nik_or_phone(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send(MEMBER_LINES + "\nAgus Sulaiman; fakir miskin; anggota; 3204014505900002; 0812"
                    + "\nJoko Widodo; kaya; anggota; 3204011234560001; 081298765432")
    text = chat.last_text()
    assert "❌" in text and "3204********0002" in text and "3204********0001" in text
    assert "3204014505900002" not in text and "081298765432" not in text


async def test_a_household_typed_at_the_summary_still_counts(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send(MEMBER_LINES + "\nSalah; kaya; anggota")
    await chat.send("hapus 8")
    assert "Periksa dulu" in chat.last_text() and "Anggota (7 KK)" in chat.last_text()
    await chat.send("Agus Salim Baru; fakir miskin; anggota")
    assert "Periksa dulu" in chat.last_text() and "Anggota (8 KK)" in chat.last_text()


async def test_batal_with_nothing_going_on(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await chat.send("/batal")
    assert chat.last_text() == "Tidak ada yang sedang berjalan. Ketik /bantuan untuk melihat menu."


async def test_member_count_only_counts_readable_lines(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send("Siti Aminah; miskin; ketua\nBudi; kaya; anggota\nRina; miskin; bendahara")
    text = chat.last_text()
    assert "Anggota: 2 KK terbaca dari 3 baris" in text and "minimal 5 KK" in text


async def test_village_examples_come_from_the_mentors_own_area(bot, session):
    await make_mentor(session, telegram_id=MENTOR, area_code=DISTRICT_ELSEWHERE)
    chat = bot.chat(MENTOR)
    await chat.send("/tambah_kelompok")
    replies = await chat.send("KUBE Anggrek")
    asked = replies[-1].text
    assert asked.startswith("Di desa/kelurahan mana kelompok ini?")
    example = asked.rsplit("Contoh: ", 1)[1]
    assert example != "Sekarwangi"
    # The example is a real village of the mentor's district in Makassar, and it is found.
    replies = await chat.send(example)
    assert any(example in b and "Makassar" in b for b in replies[-1].button_texts)
    # A village of Sukabumi is not in the mentor's area: the refusal's example is theirs too.
    replies = await chat.send("Sekarwangi")
    assert "tidak ketemu" in replies[0].text and f"Contoh: {example}" in replies[0].text


PRESS_HINT = "Jawab dengan menekan salah satu tombol"


async def test_text_at_the_consent_question_and_summary_asks_for_a_button(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send(MEMBER_LINES.replace("Siti Aminah; miskin; ketua",
                                         "Siti Aminah; miskin; ketua; 3202114507800001"))
    assert chat.buttons() == ["✅ Ya, setuju", "Tidak"]
    await chat.send("mungkin")
    assert PRESS_HINT in chat.texts()[-2] and 'tekan "Ya, setuju"' in chat.texts()[-2]
    assert "NIK atau nomor HP" in chat.last_text()  # the same question, with its buttons
    assert chat.buttons() == ["✅ Ya, setuju", "Tidak"]
    await chat.press("✅ Ya, setuju")
    assert "Anggota (7 KK)" in chat.last_text()
    await chat.send("ok simpan")
    assert PRESS_HINT in chat.texts()[-2] and 'tekan "Simpan"' in chat.texts()[-2]
    summary = chat.last_text()
    assert "Periksa dulu" in summary and "Anggota (7 KK)" in summary and "ok simpan" not in summary
    assert chat.buttons() == ["✅ Simpan", "✏️ Ubah", "❌ Batal"]
    await chat.press("✅ Simpan")
    assert "tersimpan dengan 7 KK" in chat.last_text()
    group = (await session.execute(select(Group))).scalar_one()
    assert len(await group_queries.active_members(session=session, group_id=group.id)) == 7


async def test_writing_the_list_again_asks_first(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send(MEMBER_LINES + "\nSalah; kaya; anggota")
    assert chat.buttons() == ["🗑 Tulis ulang semua"]
    await chat.press("🗑 Tulis ulang semua")
    assert chat.last_text() == "Hapus semua 8 baris dan tulis ulang daftar dari awal?"
    assert chat.buttons() == ["🗑 Ya, hapus", "Tidak"]
    await chat.send("semua")  # typed, not pressed: nothing is erased
    assert PRESS_HINT in chat.texts()[-2] and 'tekan "Ya, hapus"' in chat.texts()[-2]
    assert chat.buttons() == ["🗑 Ya, hapus", "Tidak"]
    await chat.press_data("grp:restart:yes:3")  # forged: not the list the question counted
    assert "tidak berlaku" in chat.texts()[-2]
    await chat.press("Tidak")
    assert "Siti Aminah" in chat.last_text() and "Salah" in chat.last_text()
    await chat.press("🗑 Tulis ulang semua")
    await chat.press("🗑 Ya, hapus")
    assert "satu KK per baris" in chat.last_text()
    await chat.send(MEMBER_LINES)
    assert "Anggota (7 KK)" in chat.last_text()



FIRST_TRY = "Sari Dewi; miskin; ketua\nBudi; kaya; anggota\nRina; miskin; anggota\nJoko; miskin; anggota"
CORRECTED = ("Sari Dewi; miskin; ketua\nBudi; fakir miskin; sekretaris\nRina; miskin; bendahara\n"
             "Joko; miskin; anggota\nDewi; miskin; anggota")


@pytest.mark.sqlite_only  # the questions; saving a group runs on both databases above
async def test_the_list_sent_again_replaces_the_refused_one_when_asked(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await register_until_members(chat)
    await chat.send(FIRST_TRY)
    assert "kategori tidak dikenal" in chat.last_text()
    await chat.send(CORRECTED)  # the whole list again, not four more lines
    assert chat.last_text().startswith("Daftar ini mirip daftar sebelumnya. Ganti daftar "
                                       "sebelumnya (4 baris) dengan yang baru (5 baris)?")
    assert chat.buttons() == ["Ya, ganti", "Tidak, tambahkan"]
    await chat.press("Tidak, tambahkan")  # added as asked: every name twice, two ketua
    assert "Anggota: 8 KK terbaca dari 9 baris" in chat.last_text()
    assert "ketua lebih dari satu" in chat.last_text()
    await chat.send(CORRECTED)
    assert "(9 baris) dengan yang baru (5 baris)" in chat.last_text()
    await chat.send("ya")  # typed, as the button's first word
    assert "Anggota (5 KK)" in chat.last_text() and chat.buttons() == SUMMARY_BUTTONS
    # One more household typed at the summary as ketua: asked before Sari Dewi steps down.
    await chat.send("Wati; miskin; ketua")
    assert chat.last_text().startswith("Ketua sekarang Sari Dewi. Ganti dengan Wati?")
    assert chat.buttons() == ["Ya, ganti", "Tidak"]
    await chat.press("Ya, ganti")
    assert "Anggota (6 KK)" in chat.last_text()
    await chat.press("✅ Simpan")
    assert "tersimpan dengan 6 KK" in chat.last_text()
    group = (await session.execute(select(Group))).scalar_one()
    roles = {m.name: m.role for m in await group_queries.active_members(
        session=session, group_id=group.id)}
    assert len(roles) == 6 and [name for name, role in roles.items() if role == "ketua"] == [
        "Wati"]
    assert roles["Sari Dewi"] == "anggota"
