"""/hapus_anggota through the real Application: who may erase whose data, what stays."""

from __future__ import annotations

import io
import logging

from openpyxl import load_workbook
from sqlalchemy import func, select, text, update

from bot.core.enums import Role
from bot.logs import DATA_LOGGERS, quiet_data_loggers
from models import groups as group_queries
from models import profiles
from models.tables import AuditLog, Group, Member, Mentor, UserData, Visit
from tests.conftest import ADMIN_ID, TODAY
from tests.factories import (
    DISTRICT_ELSEWHERE,
    REGENCY_SUKABUMI,
    make_group,
    make_mentor,
    make_visit,
    rows,
    shown,
)
from tests.handlers.visit_walks import save_with_notes

MENTOR = 700301
OTHER = 700302
NIK = "3202114507800001"
PHONE = "+6281298765432"


async def group_with_household(session, telegram_id: int = MENTOR, name: str = "KUBE Mawar",
                               village: str = "32.02.11.2002"):
    """A mentor's group of 7, one of them Sri Wahyuni with NIK and phone (consent given)."""
    mentor = await make_mentor(session, telegram_id=telegram_id,
                               area_code=village.rsplit(".", 1)[0])
    group = await make_group(session, mentor, name=name, village_code=village, members=6)
    member = await group_queries.add_member(
        session=session, group=group, actor=mentor, joined_on=TODAY, consented=True,
        data={"name": "Sri Wahyuni", "welfare_category": "hampir_miskin", "role": "anggota",
              "nik": NIK, "phone": PHONE})
    return mentor, group, member


async def stored(session, member_id: int) -> Member:
    """The household as the bot left it (the bot writes through its own connection)."""
    await session.rollback()
    return await session.get(Member, member_id, populate_existing=True)


async def erase_through_the_bot(chat, group_label: str, member_name: str) -> None:
    await chat.send("/hapus_anggota")
    await chat.press(group_label)
    await chat.press(member_name)
    await chat.press("Permintaan keluarga")
    await chat.press("🗑 Ya, hapus")


async def test_mentor_erases_own_member_counts_and_audit_stay(bot, session):
    _, group, member = await group_with_household(session)
    group_id, member_id = group.id, member.id
    before = len(await group_queries.active_members(session=session, group_id=group_id))
    chat = bot.chat(MENTOR)
    await chat.send("/hapus_anggota")
    assert "atas permintaan keluarga" in chat.texts()[-2]
    assert chat.buttons() == ["KUBE Mawar – Sekarwangi"]
    await chat.press("KUBE Mawar – Sekarwangi")
    assert "Sri Wahyuni (anggota)" in chat.buttons()
    households = chat.buttons()
    await chat.send("Ani")  # typed, no household's name: told to press, the same buttons again
    assert 'Contoh: tekan "' in chat.texts()[-2] and chat.buttons() == households
    await chat.send("sri wahyuni")  # the name: as pressed
    assert chat.buttons() == ["Permintaan keluarga", "Persetujuan dicabut", "Salah dicatat"]
    await chat.send("semua")
    assert 'tekan "Permintaan keluarga"' in chat.texts()[-2]
    await chat.press("Persetujuan dicabut")
    confirm = chat.last_text()
    assert "Hapus data pribadi Sri Wahyuni (KUBE Mawar)?" in confirm
    assert "jumlah anggota kelompok tetap" in confirm
    assert chat.buttons() == ["🗑 Ya, hapus", "❌ Batal"]
    await chat.press("🗑 Ya, hapus")
    done = chat.last_text()
    assert f"(dihapus #{member_id})" in done and f"tetap {before} KK" in done

    row = await stored(session, member_id)
    assert (row.name, row.nik, row.phone, row.nik_hash, row.phone_hash) == (
        f"(dihapus #{member_id})", None, None, None, None)
    assert (row.welfare_category, row.role, row.left_on) == ("hampir_miskin", "anggota", None)
    assert row.erased_at is not None
    assert len(await group_queries.active_members(session=session, group_id=group_id)) == before
    assert await group_queries.find_by_nik(session=session, nik=NIK) == []
    # No trace of the values anywhere in the member table.
    everything = str([tuple(r) for r in await session.execute(text("SELECT * FROM member"))])
    assert "Sri Wahyuni" not in everything and "81298765432" not in everything

    erasure = (await session.execute(select(AuditLog).where(
        AuditLog.action == "erase"))).scalar_one()
    assert (erasure.entity, erasure.entity_id, erasure.actor_telegram_id) == (
        "member", member_id, MENTOR)
    assert erasure.new == {"group_id": group_id, "reason": "cabut",
                           "erased": ["name", "nik", "phone"]}
    trail = str([(a.old, a.new) for a in await rows(session, AuditLog)])
    assert "Sri Wahyuni" not in trail and NIK not in trail and "5432" not in trail

    # Nothing left to erase in that household: it is no longer offered.
    await chat.send("/hapus_anggota")
    await chat.press("KUBE Mawar – Sekarwangi")
    assert all("dihapus" not in b for b in chat.buttons())


async def test_other_mentors_forged_buttons_are_refused(bot, session):
    _, group, member = await group_with_household(session)
    await group_with_household(session, telegram_id=OTHER, name="KUBE Melati",
                               village="32.02.11.2003")
    chat = bot.chat(OTHER)
    await chat.send("/hapus_anggota")
    assert chat.buttons() == ["KUBE Melati – Pamuruyan"]
    # Someone else's group and household, by forged buttons, at each step.
    await chat.press_data(f"hps:grp:{group.id}")
    assert "bukan wewenang Anda" in chat.callback_answers()[-1].text
    await chat.press("KUBE Melati – Pamuruyan")
    await chat.press_data(f"hps:mem:{group.id}:{member.id}")
    assert "bukan wewenang Anda" in chat.callback_answers()[-1].text
    # The own group's id with a foreign household's id is refused too.
    own = (await group_queries.visible_groups(
        session=session, actor=await _mentor(session, OTHER)))[0]
    await chat.press_data(f"hps:mem:{own.id}:{member.id}")
    assert "bukan wewenang Anda" in chat.callback_answers()[-1].text
    row = await stored(session, member.id)
    assert (row.name, row.nik) == ("Sri Wahyuni", NIK)
    assert (await session.execute(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "erase"))).scalar_one() == 0


async def _mentor(session, telegram_id):
    from models import mentors as mentor_queries

    return await mentor_queries.get_by_telegram_id(session=session, telegram_id=telegram_id)


async def test_coordinator_erases_in_the_area_only(bot, session):
    _, group, member = await group_with_household(session)
    # A group far away, so the outside coordinator has a conversation to forge buttons in.
    far = await make_mentor(session, telegram_id=700399, area_code=DISTRICT_ELSEWHERE)
    await make_group(session, far, name="KUBE Makassar", village_code="73.71.01.1001")
    await make_mentor(session, telegram_id=810401, name="Koor Makassar",
                      area_code=DISTRICT_ELSEWHERE, role=Role.COORDINATOR)
    await make_mentor(session, telegram_id=810402, name="Koor Sukabumi",
                      area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)

    outsider = bot.chat(810401)
    await outsider.send("/hapus_anggota")
    assert outsider.buttons() == ["KUBE Makassar – Bontorannu"]
    await outsider.press_data(f"hps:grp:{group.id}")
    assert "bukan wewenang Anda" in outsider.callback_answers()[-1].text
    assert (await stored(session, member.id)).nik == NIK

    coordinator = bot.chat(810402)
    await erase_through_the_bot(coordinator, "KUBE Mawar – Sekarwangi", "Sri Wahyuni")
    assert "Data pribadi sudah dihapus" in coordinator.last_text()
    assert (await stored(session, member.id)).nik is None
    erasure = (await session.execute(select(AuditLog).where(
        AuditLog.action == "erase"))).scalar_one()
    assert erasure.actor_telegram_id == 810402 and erasure.new["reason"] == "permintaan"


async def test_a_stale_confirmation_erases_nothing_twice(bot, session):
    _, _, member = await group_with_household(session)
    chat = bot.chat(MENTOR)
    await chat.send("/hapus_anggota")
    await chat.press("KUBE Mawar – Sekarwangi")
    await chat.press("Sri Wahyuni (anggota)")
    await chat.press("Salah dicatat")
    # Meanwhile the household is erased another way (here: by the queries directly).
    current = await stored(session, member.id)
    await group_queries.erase_member(session=session, member=current,
                                     actor=await _mentor(session, MENTOR), reason="permintaan")
    await chat.press("🗑 Ya, hapus")
    assert "sudah dihapus" in chat.last_text()
    assert (await session.execute(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "erase"))).scalar_one() == 1


async def test_export_shows_the_erased_member_without_data_and_audit_lists_it(bot, session):
    _, _, member = await group_with_household(session)
    chat = bot.chat(MENTOR)
    await erase_through_the_bot(chat, "KUBE Mawar – Sekarwangi", "Sri Wahyuni")
    admin = bot.chat(ADMIN_ID, first_name="Admin")
    document = (await admin.send("/ekspor bulan ini"))[-1]
    book = load_workbook(io.BytesIO(document.document_bytes))
    sheet = book["Anggota"]
    headers = [c.value for c in sheet[1]]
    found = {row[headers.index("ID anggota")]: row for row in sheet.iter_rows(min_row=2,
                                                                              values_only=True)}
    erased = found[member.id]
    assert erased[headers.index("Nama KK")] == f"(dihapus #{member.id})"
    assert erased[headers.index("NIK")] is None and erased[headers.index("No. HP")] is None
    assert erased[headers.index("Kategori")] == "hampir miskin"
    assert len(found) == 7  # every household still counted
    await admin.send("/audit")
    assert f"Data pribadi anggota #{member.id} dihapus" in admin.last_text()
    assert "Sri" not in shown(admin.messages())


async def test_command_is_in_the_menu_and_help(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await chat.send("/bantuan")
    assert "/hapus_anggota" in chat.last_text()
    assert "hapus_anggota" in [c["command"] for c in bot.server.commands()]
    await chat.send("/hapus_anggota")
    assert "Belum ada kelompok" in chat.last_text()


async def test_strangers_pending_and_inactive_users_are_refused(bot, session):
    from bot.core.enums import MentorStatus

    _, _, member = await group_with_household(session)
    await make_mentor(session, telegram_id=990002, status=MentorStatus.PENDING)
    await make_mentor(session, telegram_id=990003, status=MentorStatus.INACTIVE)
    for telegram_id, refusal in ((990001, "belum terdaftar"), (990002, "menunggu persetujuan"),
                                 (990003, "tidak aktif")):
        chat = bot.chat(telegram_id)
        await chat.send("/hapus_anggota")
        assert refusal in chat.last_text()
        await chat.press_data(f"hps:mem:1:{member.id}")
    assert (await stored(session, member.id)).nik == NIK


# A note written before notes were stored masked (models.tables), quoting the household.
OLD_NOTE = ("Sri Wahyuni sakit, NIK 3202114507800001, HP 0812 9876 5432; modal Rp 15.000.000 "
            "dari sri wahyuni")


async def _old_notes(session, group) -> int:
    """A visit whose notes quote the household in full, written around the masking (a plain
    UPDATE fires no ORM event), as rows stored by an earlier version are."""
    mentor = await session.get(Mentor, group.mentor_id)
    visit = await make_visit(session, group, mentor)
    await session.execute(update(Visit).where(Visit.id == visit.id)
                          .values(problems=OLD_NOTE, follow_up="Telepon 081298765432"))
    await session.commit()
    return visit.id


async def test_erasure_scrubs_the_household_from_the_groups_notes(bot, session):
    _, group, member = await group_with_household(session)
    visit_id = await _old_notes(session, group)
    await erase_through_the_bot(bot.chat(MENTOR), "KUBE Mawar – Sekarwangi", "Sri Wahyuni")

    await session.rollback()
    visit = await session.get(Visit, visit_id, populate_existing=True)
    erased = f"(dihapus #{member.id})"
    assert visit.problems == (f"{erased} sakit, NIK 3202********0001, HP 0812******32; modal "
                              f"Rp 15.000.000 dari {erased}")  # the amount is no number to hide
    assert visit.follow_up == "Telepon 0812******32"
    entry = (await session.execute(select(AuditLog).where(AuditLog.action == "erase"))).scalar_one()
    assert entry.new["notes"] == 2
    admin = bot.chat(ADMIN_ID, first_name="Admin")
    await admin.send("/audit")
    assert "Catatan yang dibersihkan: 2" in admin.last_text()


async def test_a_masked_export_masks_numbers_quoted_in_old_notes(bot, session):
    _, group, _ = await group_with_household(session)
    await _old_notes(session, group)
    await make_mentor(session, telegram_id=OTHER, area_code=REGENCY_SUKABUMI,
                      role=Role.COORDINATOR)
    document = (await bot.chat(OTHER, first_name="Koor").send("/ekspor bulan ini"))[-1]
    sheet = load_workbook(io.BytesIO(document.document_bytes))["Kunjungan"]
    headers = [c.value for c in sheet[1]]
    row = next(sheet.iter_rows(min_row=2, values_only=True))
    assert row[headers.index("Masalah")] == (
        "Sri Wahyuni sakit, NIK 3202********0001, HP 0812******32; modal Rp 15.000.000 dari "
        "sri wahyuni")
    assert row[headers.index("Tindak lanjut")] == "Telepon 0812******32"


async def test_new_notes_are_stored_masked_whoever_writes_them(session):
    mentor, group, _ = await group_with_household(session)
    visit = await make_visit(session, group, mentor)
    visit.problems = "HP Bu Sri +62 812-9876-5432, NIK 3202.1145.0780.0001, kas Rp 2.500.000"
    session.add(visit)
    await session.commit()
    stored_text = (await session.execute(select(Visit.problems))).scalar_one()
    assert stored_text == "HP Bu Sri 6281*******32, NIK 3202********0001, kas Rp 2.500.000"


# --- nothing of an erased household anywhere ---------------------------------------------------

SITI_NIK = "3202114507800009"
# The household's name, its NIK and its phone number (the digits a masked copy never keeps).
SITI_TRACES = ("siti aminah", SITI_NIK, "81277776666", "7777 6666", "7777-6666")


async def traces_in_tables(session, *, but: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every table of the database (``but`` these) whose rows hold one of SITI_TRACES in any
    column, read as stored (ciphertexts stay ciphertexts), with the traces found."""
    from sqlalchemy import String, cast, literal
    from sqlmodel import SQLModel

    await session.rollback()
    found: dict[str, list[str]] = {}
    logging.disable()  # the search's own statements would quote what it looks for
    try:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in but:
                continue
            # Each row as one text, every column cast (raw: the typed ones would decrypt).
            row_text = literal("|")
            for column in table.columns:
                row_text = row_text + func.coalesce(cast(column, String), "") + "|"
            stored = "\n".join((await session.execute(select(row_text))).scalars()).lower()
            if hits := [trace for trace in SITI_TRACES if trace in stored]:
                found[table.name] = hits
    finally:
        logging.disable(logging.NOTSET)
    return found


async def test_after_erasure_no_table_and_no_log_line_knows_the_household(bot, session,
                                                                          caplog):
    """A household named, with its NIK and phone, in a visit's notes and in another household's
    leaving note (both through the bot) and holding the group's account, then erased through
    the bot: its name, NIK and phone are in no table (the audit trail included), no draft and
    no log line, DEBUG included."""
    caplog.set_level(logging.DEBUG)
    # The bot's logging as it runs (bot.logs), at DEBUG.
    levels = {name: logging.getLogger(name).level for name in DATA_LOGGERS}
    quiet_data_loggers()
    try:
        await _enter_visit_name_and_erase(bot, session, caplog)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def _enter_visit_name_and_erase(bot, session, caplog) -> None:
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", members=6)
    gid = group.id
    await group_queries.add_member(
        session=session, group=group, actor=mentor, joined_on=TODAY, consented=True,
        data={"name": "Siti Aminah", "welfare_category": "miskin", "role": "anggota",
              "nik": SITI_NIK, "phone": "+6281277776666"})
    chat = bot.chat(MENTOR)
    # A visit whose notes name her, with her NIK and phone number.
    await save_with_notes(
        chat, f"Siti Aminah (ketua) sakit keras, NIK {SITI_NIK}, HP 0812 7777 6666",
        "Jenguk siti aminah, telp 081277776666")
    # Another household leaving with a note naming her, and the group's account in her name
    # (saved as the profile edit saves it: the chat's steps are test_group_life's).
    await chat.press_data(f"mem:list:{gid}")
    await chat.press("🚪 Catat keluar")
    await chat.press("Anggota 2 (sekretaris)")
    await chat.press("Lainnya")
    await chat.send("ikut Siti Aminah ke kota")
    await chat.send(f"{TODAY:%d/%m/%Y}")
    await session.rollback()
    await profiles.change_profile(
        session=session, group=await session.get(Group, gid), actor=mentor, on=TODAY,
        today=TODAY, values={"bank_name": "BRI", "bank_holder": "Siti Aminah",
                             "bank_account": "012345678901"})

    before = await traces_in_tables(session, but=("area",))  # (the same search, less long)
    # The search finds what is there: the household, the notes, the account, the history.
    assert {"member", "visit", "kube_group", "group_change"} <= set(before), before
    assert "audit_log" not in before, before  # the trail never held them
    siti = (await session.execute(select(Member.id).where(Member.name == "Siti Aminah"))
            ).scalar_one()

    await erase_through_the_bot(chat, "KUBE Mawar – Sekarwangi", "Siti Aminah")
    assert f"(dihapus #{siti})" in chat.last_text()
    assert await traces_in_tables(session) == {}
    # Nor in what is stored encrypted: the conversations' drafts, decrypted.
    drafts = str((await session.execute(select(UserData.data))).scalars().all()).lower()
    assert [trace for trace in SITI_TRACES if trace in drafts] == []
    logged = caplog.text.lower()  # every record, tracebacks included
    assert [trace for trace in SITI_TRACES if trace in logged] == [], {
        record.name for record in caplog.records
        if any(trace in record.getMessage().lower() for trace in SITI_TRACES)}
    # The notes keep what they said about the group, with her stand-in.
    visit = (await session.execute(select(Visit))).scalar_one()
    assert visit.problems.startswith(f"(dihapus #{siti}) (ketua) sakit keras")
    # /audit tells what changed without saying it.
    await session.rollback()
    admin = bot.chat(ADMIN_ID, first_name="Admin")
    await admin.send("/audit")
    trail = admin.last_text()
    assert "Kelompok KUBE Mawar diubah (Nomor rekening diubah; Nama pemilik rekening diubah; " \
        "Nama bank: - → BRI)" in trail
    # Five notes: the visit's two, the leaving note, the account holder and its history.
    assert f"anggota #{siti} dihapus" in trail and "Catatan yang dibersihkan: 5" in trail
