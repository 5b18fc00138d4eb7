"""/kunjungan through the real Application over HTTP: the span the business figures cover, the
group's assets, the stage question at the end of a visit, and the training it may lead to."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.core.enums import ChangeKind
from models.tables import AuditLog, Group, GroupChange, Member, Mentor, Training, Visit
from tests.factories import DISTRICT_ELSEWHERE, make_group, make_mentor, make_visit, rows, shown
from tests.handlers.visit_walks import (
    FORMED,
    MENTOR,
    OTHER,
    assert_retried,
    mentor_with_group,
    visits,
)
from tests.harness import ChatUser

LAST_VISIT = date(2026, 11, 5)


async def _group_with_a_visit(session) -> int:
    """KUBE Mawar, visited on 5 November."""
    group_id = await mentor_with_group(session)
    group = await session.get(Group, group_id)
    mentor = await session.get(Mentor, group.mentor_id)
    await make_visit(session, group, mentor, visited_on=LAST_VISIT)
    return group_id


async def _to_figures(chat: ChatUser, *activities: str) -> None:
    await chat.send("/kunjungan")
    await chat.press("KUBE Mawar")
    await chat.send("kemarin")  # 24 November
    await chat.send("6")
    for activity in activities or ("Pemantauan usaha",):
        await chat.press(f"▫️ {activity}")
    await chat.press("Selesai")


async def _after_figures_to_summary(chat: ChatUser) -> None:
    await chat.press("Lewati")  # problems
    await chat.press("Lewati")  # follow-up
    await chat.send("Lewati")  # location
    await chat.press("Selesai")  # photos
    await chat.press("Pakai ")  # the next visit


async def _save_a_visit(chat: ChatUser, *activities: str) -> None:
    await _to_figures(chat, *activities)
    await chat.press("Lewati")  # no figures
    await _after_figures_to_summary(chat)
    await chat.press("✅ Simpan")


# --- the figures' span and the assets ----------------------------------------------------------

async def test_figures_name_the_last_visit_and_assets_are_stored(bot, session):
    group_id = await _group_with_a_visit(session)
    chat = bot.chat(MENTOR)
    await _to_figures(chat)
    assert ("Catat angka usaha kelompok sejak kunjungan terakhir, 5 Nov 2026"
            in chat.last_text())
    await chat.press("Ya")
    assert "Berapa omzet (hasil penjualan) kelompok sejak kunjungan terakhir, 5 Nov 2026?" \
        in chat.last_text()
    await chat.send("2 jt")
    assert "keuntungan kelompok sejak kunjungan terakhir, 5 Nov 2026" in chat.last_text()
    await chat.send("400rb")
    assert "saldo kas" in chat.last_text()
    await chat.send("-")
    assert "IKS" in chat.last_text() and "sejak kunjungan terakhir, 5 Nov 2026" in chat.last_text()
    await chat.send("60rb")

    assert "Catat aset kelompok" in chat.last_text()
    await chat.press("Ya")
    assert "ekor ternak" in chat.last_text()
    assert_retried(await chat.send("banyak sekali"), "Contoh: 12 ekor", "ekor ternak")
    replies = await chat.send("12 ekor")
    assert "✓ 12 ekor" in shown(replies) and "nilai peralatan" in chat.last_text()
    await chat.send("5 jt")
    assert "nilai stok" in chat.last_text()
    await chat.send("750rb")
    assert "masalah" in chat.last_text()
    await _after_figures_to_summary(chat)

    summary = chat.last_text()
    for part in ("Angka usaha sejak kunjungan terakhir, 5 Nov 2026:", "Omzet: Rp 2.000.000",
                 "Keuntungan: Rp 400.000", "Kas: -", "IKS: Rp 60.000",
                 "Aset: ternak 12 ekor, peralatan Rp 5.000.000, stok Rp 750.000"):
        assert part in summary, part

    # Changing one asset from the summary: the assets with their values, then that one.
    await chat.press("✏️ Ubah")
    await chat.press("Aset")
    assert chat.buttons() == ["Ternak: 12 ekor", "Peralatan: Rp 5.000.000",
                              "Stok: Rp 750.000", "« Kembali"]
    await chat.press("Ternak: 12 ekor")
    assert chat.buttons() == ["✔️ Tetap 12 ekor", "🧹 Kosongkan"]
    await chat.send("15")
    await chat.press("✏️ Ubah")
    await chat.press("Aset")
    await chat.press("Stok: Rp 750.000")
    await chat.press("🧹 Kosongkan")
    assert "Aset: ternak 15 ekor, peralatan Rp 5.000.000\n" in chat.last_text()
    await chat.press("✅ Simpan")

    [_, visit] = await visits(session)
    assert (visit.group_id, visit.visited_on) == (group_id, date(2026, 11, 24))
    assert visit.figures_from == LAST_VISIT
    assert (visit.turnover, visit.profit, visit.solidarity_fee) == (2_000_000, 400_000, 60_000)
    assert (visit.livestock_count, visit.equipment_value, visit.stock_value) == (
        15, 5_000_000, None)
    [created] = (await session.execute(select(AuditLog).where(
        AuditLog.entity == "visit", AuditLog.entity_id == visit.id))).scalars().all()
    assert created.new["figures_from"] == "2026-11-05" and created.new["livestock_count"] == 15

    # /riwayat shows the figures with their span, and the assets.
    await chat.send("/riwayat")
    text = chat.last_text()
    assert ("Omzet Rp 2.000.000 · Keuntungan Rp 400.000 · IKS Rp 60.000 (sejak 5 Nov 2026)"
            in text)
    assert "Aset: ternak 15 ekor, peralatan Rp 5.000.000" in text
    await chat.press_data(f"riw:group:{group_id}")
    assert "(sejak 5 Nov 2026)" in chat.last_text()


async def test_a_visit_without_figures_asks_no_assets_and_stores_no_span(bot, session):
    await _group_with_a_visit(session)
    chat = bot.chat(MENTOR)
    await _to_figures(chat)
    await chat.press("Lewati")
    assert "masalah" in chat.last_text()  # no assets question after skipped figures
    await _after_figures_to_summary(chat)
    assert "Aset: -" in chat.last_text()
    await chat.press("✅ Simpan")
    [_, visit] = await visits(session)
    assert visit.figures_from is None and visit.turnover is None


async def test_the_span_follows_a_changed_visit_date(bot, session):
    """Ubah, Tanggal: a visit dated before the last one counts its figures from the group's
    formation, and the question says so."""
    await _group_with_a_visit(session)
    chat = bot.chat(MENTOR)
    await _to_figures(chat)
    await chat.press("Ya")
    for amount in ("1 jt", "-", "-", "-"):
        await chat.send(amount)
    await chat.press("Lewati")  # assets
    await _after_figures_to_summary(chat)
    await chat.press("✏️ Ubah")
    await chat.press("Tanggal")
    await chat.send("1/11/2026")
    assert "Angka usaha sejak kelompok dibentuk, 10 Jan 2026:" in chat.last_text()
    await chat.press("✅ Simpan")
    [first, _] = sorted(await visits(session), key=lambda v: v.visited_on)
    assert first.visited_on == date(2026, 11, 1) and first.figures_from == FORMED


# --- the stage at the end of a visit ------------------------------------------------------------

async def _stage_changes(session, group_id: int) -> list[GroupChange]:
    await session.rollback()
    return list((await session.execute(select(GroupChange).where(
        GroupChange.group_id == group_id, GroupChange.kind == ChangeKind.STAGE,
        GroupChange.visit_id.is_not(None)))).scalars())


async def test_a_stage_change_at_the_end_of_a_visit_is_kept_with_its_history(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await _save_a_visit(chat)
    saved = chat.last()
    assert "Tersimpan" in saved.content and "Apakah tahap KUBE Mawar berubah?" in saved.content
    assert chat.buttons() == ["✅ Tumbuh (sekarang)", "Berkembang", "Maju/Mandiri", "Tidak berubah"]

    replies = await chat.press("Berkembang")
    assert "Tahap KUBE Mawar sekarang Berkembang (sebelumnya Tumbuh)" in shown(replies)
    assert chat.buttons(chat.last()) == []  # answered: the stage buttons are gone
    [visit] = await visits(session)
    visit_id, visited_on = visit.id, visit.visited_on
    group = await session.get(Group, group_id, populate_existing=True)
    assert group.stage == "berkembang"
    mentor_id = group.mentor_id
    [change] = await _stage_changes(session, group_id)
    assert (change.field, change.old, change.new, change.visit_id, change.changed_on) == (
        "stage", "tumbuh", "berkembang", visit_id, visited_on)
    assert change.by_mentor_id == mentor_id
    [audit] = (await session.execute(select(AuditLog).where(
        AuditLog.entity == "group", AuditLog.entity_id == group_id,
        AuditLog.action == "update").order_by(AuditLog.id.desc()).limit(1))).scalars().all()
    assert (audit.old, audit.new) == ({"stage": "tumbuh"}, {"stage": "berkembang"})

    # A second press of the old button (a redelivery, a double tap) changes nothing more.
    await chat.press_data(f"kun:stage:{visit_id}:berkembang", message_id=saved.message_id)
    assert len(await _stage_changes(session, group_id)) == 1


async def test_tidak_berubah_changes_nothing(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await _save_a_visit(chat)
    replies = await chat.press("Tidak berubah")
    assert "Tahap tetap Tumbuh" in shown(replies)
    assert (await session.get(Group, group_id, populate_existing=True)).stage == "tumbuh"
    assert await _stage_changes(session, group_id) == []


async def test_forged_stage_buttons_change_no_other_group(bot, session):
    await mentor_with_group(session)
    other = await make_mentor(session, telegram_id=OTHER, name="Budi",
                              area_code=DISTRICT_ELSEWHERE)
    foreign = await make_group(session, other, name="KUBE Anggrek",
                               village_code="73.71.01.1001", formed_on=FORMED)
    foreign_visit = await make_visit(session, foreign, other, visited_on=date(2026, 11, 20))
    foreign_id, foreign_visit_id = foreign.id, foreign_visit.id
    chat = bot.chat(MENTOR)
    for data in (f"kun:stage:{foreign_visit_id}:mandiri", "kun:stage:999999:mandiri",
                 f"kun:stage:{foreign_visit_id}:kaya"):
        await chat.press_data(data)
    answers = [answer.text for answer in chat.callback_answers()]
    assert answers[:2] == ["Kunjungan tidak ditemukan atau kelompoknya bukan dampingan Anda."] * 2
    assert (await session.get(Group, foreign_id, populate_existing=True)).stage == "tumbuh"
    assert await _stage_changes(session, foreign_id) == []


# --- a training recorded from a visit ---------------------------------------------------------

async def test_a_visit_with_training_offers_to_record_it(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await _save_a_visit(chat, "Pelatihan keterampilan")
    assert chat.buttons() == ["✅ Tumbuh (sekarang)", "Berkembang", "Maju/Mandiri", "Tidak berubah",
                              "🎓 Catat pelatihan"]
    [visit] = await visits(session)
    visit_id, visited_on = visit.id, visit.visited_on

    replies = await chat.press("🎓 Catat pelatihan")
    assert "Catat pelatihan untuk KUBE Mawar, tanggal 24 November 2026" in shown(replies)
    assert "topik" in chat.last_text()  # no date question: the visit's date
    await chat.send("Membuat pakan ternak fermentasi")
    await chat.send("Dinas Sosial Kab. Sukabumi")
    await chat.press("👥 Semua KK (7)")
    summary = chat.last_text()
    for part in ("Kelompok: KUBE Mawar", "Tanggal: 24 November 2026",
                 "Topik: Membuat pakan ternak fermentasi",
                 "Penyelenggara: Dinas Sosial Kab. Sukabumi", "Peserta: semua KK (7)",
                 "Dicatat dari kunjungan"):
        assert part in summary, part
    replies = await chat.press("✅ Simpan")
    assert "Tersimpan" in shown(replies) and "7 KK ikut" in shown(replies)

    [training] = await rows(session, Training)
    members = (await session.execute(select(Member.id).where(
        Member.group_id == group_id).order_by(Member.id))).scalars().all()
    assert (training.group_id, training.visit_id, training.held_on) == (
        group_id, visit_id, visited_on)
    assert training.attendee_ids == list(members)

    # The stage question under the visit still works after the training.
    await chat.press("Tidak berubah")
    assert "Tahap tetap Tumbuh" in "".join(chat.texts())


async def test_a_visit_without_training_offers_none_and_a_forged_offer_is_refused(bot, session):
    await mentor_with_group(session)
    other = await make_mentor(session, telegram_id=OTHER, name="Budi")
    foreign = await make_group(session, other, name="KUBE Melati", formed_on=FORMED)
    foreign_visit = await make_visit(session, foreign, other, visited_on=date(2026, 11, 20))
    chat = bot.chat(MENTOR)
    await _save_a_visit(chat)
    assert "🎓 Catat pelatihan" not in chat.buttons()
    replies = await chat.press_data(f"lat:visit:{foreign_visit.id}")
    assert "Kunjungan itu tidak ditemukan" in shown(replies)
    assert await rows(session, Training) == []
    assert len(await rows(session, Visit)) == 2


async def test_the_training_button_leaves_the_stage_question_answerable(bot, session):
    group_id = await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await _save_a_visit(chat, "Pelatihan keterampilan")
    saved = chat.last()
    stage_buttons = ["✅ Tumbuh (sekarang)", "Berkembang", "Maju/Mandiri", "Tidak berubah"]

    def under_the_visit() -> list[str]:
        return next(m for m in chat.messages() if m.message_id == saved.message_id).button_texts

    # 🎓 only starts the training: the stage question under the visit keeps its buttons, while
    # the training is asked and after it is saved.
    await chat.press("🎓 Catat pelatihan")
    assert "topik" in chat.last_text()
    assert under_the_visit() == [*stage_buttons, "🎓 Catat pelatihan"]
    await chat.send("Membuat pakan ternak fermentasi")
    await chat.send("Dinas Sosial Kab. Sukabumi")
    await chat.press("👥 Semua KK (7)")
    await chat.press("✅ Simpan")
    assert "Tersimpan" in chat.last_text()
    assert under_the_visit() == [*stage_buttons, "🎓 Catat pelatihan"]
    replies = await chat.press("Berkembang")
    assert "Tahap KUBE Mawar sekarang Berkembang (sebelumnya Tumbuh)" in shown(replies)
    assert (await session.get(Group, group_id, populate_existing=True)).stage == "berkembang"
    assert under_the_visit() == ["🎓 Catat pelatihan"]  # the stage answered, its buttons gone
