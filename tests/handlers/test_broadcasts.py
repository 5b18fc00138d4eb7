"""/siaran through the real Application over HTTP: compose, preview, send, failures, access."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from itertools import count

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import Audience, BroadcastStatus, MentorStatus, OutboxStatus, Role
from models import broadcasts as queries
from models.drafts import conversation_key
from models.tables import (
    AuditLog,
    Broadcast,
    BroadcastRecipient,
    ConversationState,
    Mentor,
    UserData,
)
from tests.conftest import ADMIN_ID, NOW, TODAY
from tests.factories import DISTRICT_CIBADAK, REGENCY_SUKABUMI, make_group, make_mentor

COORDINATOR = 800001
DISTRICT_NAGRAK = "32.02.12"  # another district of Kab. Sukabumi
DISTRICT_BOGOR = "32.01.01"  # Kec. Cibinong, Kab. Bogor: another regency

_bulk_ids = count(2_000_000)


async def bulk_mentors(session: AsyncSession, n: int, *, area_code: str = DISTRICT_CIBADAK,
                       status: MentorStatus = MentorStatus.ACTIVE, role: Role = Role.MENTOR,
                       prefix: str = "Pendamping") -> list[int]:
    """``n`` users in one INSERT (the factory's one-by-one audit rows are too slow for
    hundreds); returns their Telegram ids."""
    ids = [next(_bulk_ids) for _ in range(n)]
    await session.execute(insert(Mentor), [
        {"telegram_id": tid, "name": f"{prefix} {tid}", "phone": None, "affiliation": "psm",
         "area_code": area_code, "role": str(role), "status": str(status), "language": "id",
         "created_at": NOW} for tid in ids])
    await session.commit()
    return ids


async def wait_done(session: AsyncSession, broadcast_id: int, timeout: float = 10) -> Broadcast:
    """Waits until the outbox worker has finished the broadcast (and reported it)."""
    async with asyncio.timeout(timeout):
        while True:
            broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
            # Ends the read transaction: a fresh snapshot next time (nothing is expired).
            await session.commit()
            if broadcast is not None and broadcast.status == BroadcastStatus.DONE:
                return broadcast
            await asyncio.sleep(0.05)


async def last_broadcast(session: AsyncSession) -> Broadcast:
    result = await session.execute(select(Broadcast).order_by(Broadcast.id.desc()).limit(1))
    broadcast = result.scalar_one()
    await session.commit()
    return broadcast


async def compose(chat, text: str, audience: str = "👥 Semua pendamping aktif"):
    """/siaran, the message and the audience; returns the preview replies."""
    await chat.send("/siaran")
    await chat.send(text)
    return await chat.press(audience)


async def test_compose_preview_and_send_reaches_each_active_mentor_once(bot, session):
    await make_mentor(session, telegram_id=COORDINATOR, name="Koordinator Sukabumi",
                      area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari")
    budi = await make_mentor(session, name="Budi Hartono", area_code=DISTRICT_NAGRAK)
    citra = await make_mentor(session, name="Citra Dewi", status=MentorStatus.INACTIVE)
    dedi = await make_mentor(session, name="Dedi Bogor", area_code=DISTRICT_BOGOR)
    coord = bot.chat(COORDINATOR)

    replies = await coord.send("/siaran")
    assert "{nama}" in replies[-1].text
    replies = await coord.send("x")
    assert "2–3500 huruf" in replies[0].text
    replies = await coord.send("Halo {nama}, rapat {tanggal} besok jam 9.")
    assert replies[-1].button_texts == [
        "👥 Semua pendamping aktif", "📍 Pendamping satu kecamatan",
        "⏰ Pendamping dengan kunjungan terlambat", "🧑‍💼 Koordinator"]
    assert "Kab. Sukabumi" in replies[-1].text

    preview = await coord.press("👥 Semua pendamping aktif")
    rendered, summary = preview[-2], preview[-1]
    # The example is a real recipient; any other {...} stays as written.
    assert rendered.text == "Halo Ani Lestari, rapat {tanggal} besok jam 9."
    assert "Jumlah: 2 orang" in summary.text and "1 tidak aktif" in summary.text
    # The unknown {tanggal} is pointed out before anything goes out.
    assert summary.text.startswith("⚠️ {tanggal} tidak dikenal dan akan terkirim apa adanya.")
    assert "semua pendamping aktif di Kab. Sukabumi" in summary.text
    assert summary.button_texts == ["📤 Kirim", "✏️ Ubah", "❌ Batal"]

    replies = await coord.press("📤 Kirim")
    assert "0 dari 2" in replies[-1].text
    broadcast = await wait_done(session, (await last_broadcast(session)).id)

    assert [m.text for m in bot.server.sent(ani.telegram_id)] == [
        "Halo Ani Lestari, rapat {tanggal} besok jam 9."]
    assert [m.text for m in bot.server.sent(budi.telegram_id)] == [
        "Halo Budi Hartono, rapat {tanggal} besok jam 9."]
    assert bot.server.sent(citra.telegram_id) == []
    assert bot.server.sent(dedi.telegram_id) == []
    # The progress message became the final report; nobody failed, so no button.
    progress = bot.server.message(COORDINATOR, broadcast.progress_message_id)
    assert progress.text == ("✅ Siaran selesai: 2 dari 2 terkirim, 0 memblokir bot, 0 gagal.")
    assert progress.inline_buttons == []
    assert (broadcast.audience, broadcast.area_code) == ("semua", REGENCY_SUKABUMI)
    audits = (await session.execute(select(AuditLog.action).where(
        AuditLog.entity == "broadcast", AuditLog.entity_id == broadcast.id))).scalars().all()
    assert audits == ["create", "update"]


async def test_one_district_then_change_the_message(bot, session):
    await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY_SUKABUMI,
                      role=Role.COORDINATOR)
    await make_mentor(session, name="Ani Lestari")
    await make_mentor(session, name="Budi Hartono", area_code=DISTRICT_NAGRAK)
    await make_mentor(session, name="Dedi Bogor", area_code=DISTRICT_BOGOR)
    coord = bot.chat(COORDINATOR)
    replies = await compose(coord, "Pertemuan kecamatan hari Senin.",
                            audience="📍 Pendamping satu kecamatan")
    # Only the districts of my regency that have active mentors.
    assert replies[-1].button_texts == ["Cibadak (1)", "Nagrak (1)", "« Kembali"]
    preview = await coord.press("Nagrak (1)")
    assert preview[-2].text == "Pertemuan kecamatan hari Senin."
    assert "Jumlah: 1 orang" in preview[-1].text and "Kec. Nagrak" in preview[-1].text

    # Ubah swaps the preview's buttons in place, as every summary does; « Kembali brings its
    # own buttons back.
    summary = preview[-1]
    replies = await coord.press("✏️ Ubah")
    assert [(r.message_id, r.button_texts) for r in replies] == [
        (summary.message_id, ["Pesan", "Penerima", "« Kembali"])]
    replies = await coord.press("« Kembali")
    assert [(r.message_id, r.button_texts) for r in replies] == [
        (summary.message_id, ["📤 Kirim", "✏️ Ubah", "❌ Batal"])]

    await coord.press("✏️ Ubah")
    replies = await coord.press("Pesan")
    assert "Pesan" in bot.server.message(COORDINATOR, summary.message_id).text
    preview = await coord.send("Pertemuan kecamatan hari Selasa, {nama}.")
    assert preview[-2].text == "Pertemuan kecamatan hari Selasa, Budi Hartono."
    assert "tidak dikenal" not in preview[-1].text
    assert preview[-1].button_texts == ["📤 Kirim", "✏️ Ubah", "❌ Batal"]

    # Changing the recipients keeps the message and comes back to the preview.
    await coord.press("✏️ Ubah")
    await coord.press("Penerima")
    preview = await coord.press("👥 Semua pendamping aktif")
    assert preview[-2].text == "Pertemuan kecamatan hari Selasa, Ani Lestari."
    assert "Jumlah: 2 orang" in preview[-1].text
    await coord.press("❌ Batal")
    count_ = (await session.execute(select(func.count()).select_from(Broadcast))).scalar_one()
    assert count_ == 0


async def test_a_draft_left_at_the_former_which_part_question_goes_on(bot, session):
    """Before Ubah swapped the preview's buttons, it asked "Apa yang ingin diubah?" in a state
    of its own (5); a draft stored there, and that question's buttons, still work."""
    await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY_SUKABUMI,
                      role=Role.COORDINATOR)
    await make_mentor(session, name="Ani Lestari")
    draft = {"_state": 5, "text": "Rapat hari Senin.", "photo": None, "document": None,
             "masked": False, "audience": "semua", "district": None}
    session.add(UserData(user_id=COORDINATOR, data={"draft:broadcast": draft, "lang": "id"}))
    session.add(ConversationState(name="broadcast", state=5,
                                  key=conversation_key(COORDINATOR, COORDINATOR)))
    await session.commit()
    await bot.restart()
    coord = bot.chat(COORDINATOR)

    replies = await coord.send("halo")  # typed where a button is expected: the preview again
    assert replies[-2].text == "Rapat hari Senin."
    assert replies[-1].button_texts == ["📤 Kirim", "✏️ Ubah", "❌ Batal"]
    await coord.press_data("sia:edit:text")  # a button of the old question
    preview = await coord.send("Rapat hari Selasa.")
    assert preview[-2].text == "Rapat hari Selasa."
    await coord.press("📤 Kirim")
    assert (await last_broadcast(session)).text == "Rapat hari Selasa."


async def test_district_coordinator_has_no_district_choice(bot, session):
    await make_mentor(session, telegram_id=COORDINATOR, area_code=DISTRICT_CIBADAK,
                      role=Role.COORDINATOR)
    coord = bot.chat(COORDINATOR)
    await coord.send("/siaran")
    replies = await coord.send("Halo semua.")
    assert "📍 Pendamping satu kecamatan" not in replies[-1].button_texts
    # A forged district button is refused, whatever it says.
    await coord.press_data("sia:aud:kecamatan")
    assert coord.callback_answers()[-1].text == "Tombol ini sudah tidak berlaku."


async def test_photo_broadcast_with_caption(bot, session):
    await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY_SUKABUMI,
                      role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari")
    coord = bot.chat(COORDINATOR)
    await coord.send("/siaran")
    replies = await coord.send_photo(caption="Jadwal baru untuk {nama}")
    assert replies[0].text == "✓ Foto diterima."
    preview = await coord.press("👥 Semua pendamping aktif")
    assert preview[-2].kind == "photo" and preview[-2].caption == "Jadwal baru untuk Ani Lestari"
    await coord.press("📤 Kirim")
    broadcast = await wait_done(session, (await last_broadcast(session)).id)
    assert broadcast.photo_file_id
    [received] = bot.server.sent(ani.telegram_id)
    assert received.kind == "photo" and received.caption == "Jadwal baru untuk Ani Lestari"


async def test_audiences_are_computed_from_the_actors_area(session):
    coordinator = await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY_SUKABUMI,
                                    role=Role.COORDINATOR)
    late = await make_mentor(session, name="Ani Terlambat")
    on_time = await make_mentor(session, name="Budi Tepat")
    far = await make_mentor(session, name="Dedi Bogor", area_code=DISTRICT_BOGOR)
    await make_group(session, late, next_visit_due=TODAY - timedelta(days=3))
    await make_group(session, on_time, next_visit_due=TODAY)  # due today: not overdue yet
    await make_group(session, far, village_code="32.01.01.1001",
                     next_visit_due=TODAY - timedelta(days=3))
    other = await make_mentor(session, name="Koordinator Cibadak", area_code=DISTRICT_CIBADAK,
                              role=Role.COORDINATOR)
    await make_mentor(session, name="Koordinator Bogor", area_code="32.01",
                      role=Role.COORDINATOR)
    admin = await make_mentor(session, telegram_id=ADMIN_ID, area_code=None, role=Role.ADMIN)

    overdue = await queries.recipients(session=session, actor=coordinator,
                                       audience=Audience.OVERDUE)
    assert [m.name for m in overdue.mentors] == ["Ani Terlambat"]
    coordinators = await queries.recipients(session=session, actor=coordinator,
                                            audience=Audience.COORDINATORS)
    assert [m.id for m in coordinators.mentors] == [other.id]  # not myself, not Bogor's
    everyone = await queries.recipients(session=session, actor=admin,
                                        audience=Audience.COORDINATORS)
    assert len(everyone.mentors) == 3
    assert await queries.recipients(session=session, actor=coordinator,
                                    audience=Audience.DISTRICT, district=DISTRICT_BOGOR) is None
    assert await queries.districts_with_mentors(session=session, actor=admin) == {
        DISTRICT_BOGOR: 1, DISTRICT_CIBADAK: 2}


async def test_a_redelivered_press_creates_nothing_twice(session):
    coordinator = await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY_SUKABUMI,
                                    role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari")
    first, created = await queries.create(
        session=session, actor=coordinator, audience=Audience.ALL_MENTORS, audience_code=None,
        text="Halo", photo_file_id=None, document_file_id=None, to=[ani], update_id=4242)
    again, created_again = await queries.create(
        session=session, actor=coordinator, audience=Audience.ALL_MENTORS, audience_code=None,
        text="Halo", photo_file_id=None, document_file_id=None, to=[ani], update_id=4242)
    assert created and not created_again and again.id == first.id
    rows = (await session.execute(select(func.count()).select_from(BroadcastRecipient)))
    assert rows.scalar_one() == 1


async def test_a_mentor_cannot_broadcast(bot, session):
    mentor = await make_mentor(session, name="Ani Lestari")
    chat = bot.chat(mentor.telegram_id)
    replies = await chat.send("/siaran")
    assert replies[0].text == "Maaf, menu ini bukan untuk peran Anda."
    await chat.press_data("sia:fail:1")
    assert chat.callback_answers()[-1].text == "Maaf, menu ini bukan untuk peran Anda."


async def test_failed_list_only_for_the_broadcasts_area(bot, session):
    sukabumi = await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY_SUKABUMI,
                                 role=Role.COORDINATOR)
    makassar = await make_mentor(session, telegram_id=COORDINATOR + 1, area_code="73.71",
                                 role=Role.COORDINATOR)
    far = await make_mentor(session, name="Rahmat Makassar", area_code="73.71.01")
    broadcast, _ = await queries.create(
        session=session, actor=makassar, audience=Audience.ALL_MENTORS, audience_code=None,
        text="Halo", photo_file_id=None, document_file_id=None, to=[far])
    await session.execute(BroadcastRecipient.__table__.update().values(
        status=OutboxStatus.BLOCKED, reason="blocked the bot"))
    await session.commit()

    coord = bot.chat(sukabumi.telegram_id)
    replies = await coord.press_data(f"sia:fail:{broadcast.id}")
    assert replies == []
    answer = coord.callback_answers()[-1]
    assert answer.show_alert and "bukan dari wilayah Anda" in answer.text

    owner = bot.chat(makassar.telegram_id)
    replies = await owner.press_data(f"sia:fail:{broadcast.id}")
    assert "Rahmat Makassar – memblokir bot" in replies[-1].text
    # Also in the middle of a new draft, which goes on afterwards.
    await owner.send("/siaran")
    replies = await owner.press_data(f"sia:fail:{broadcast.id}")
    assert "Rahmat Makassar – memblokir bot" in replies[-1].text
    replies = await owner.send("Pesan berikutnya.")
    assert "👥 Semua pendamping aktif" in replies[-1].button_texts
    admin = bot.chat(ADMIN_ID)
    replies = await admin.press_data(f"sia:fail:{broadcast.id}")
    assert "Rahmat Makassar" in replies[-1].text


async def test_admin_finds_a_district_by_name_when_there_are_many(bot, session, monkeypatch):
    from handlers import broadcasts as handler

    monkeypatch.setattr(handler, "DISTRICT_BUTTONS", 1)
    await make_mentor(session, name="Ani Lestari")
    dedi = await make_mentor(session, name="Dedi Bogor", area_code=DISTRICT_BOGOR)
    admin = bot.chat(ADMIN_ID)
    await admin.send("/siaran")
    replies = await admin.send("Halo {nama}.")
    assert "seluruh Indonesia" in replies[-1].text
    replies = await admin.press("📍 Pendamping satu kecamatan")
    assert "Ada 2 kecamatan" in replies[-1].text
    replies = await admin.send("zzz")
    assert "Tidak ada kecamatan" in replies[0].text
    replies = await admin.send("cibinong")
    [button] = replies[-1].button_texts
    assert button.startswith("Kec. Cibinong, Kab. Bogor") and button.endswith("(1)")
    preview = await admin.press(button)
    assert preview[-2].text == "Halo Dedi Bogor."
    assert "Jumlah: 1 orang" in preview[-1].text
    # A district button that is not offered (forged) is refused.
    await admin.press_data("sia:dist:73.71.01")
    assert admin.callback_answers()[-1].text == "Tombol ini sudah tidak berlaku."
    await admin.press("📤 Kirim")
    await wait_done(session, (await last_broadcast(session)).id)
    assert [m.text for m in bot.server.sent(dedi.telegram_id)] == ["Halo Dedi Bogor."]


async def test_a_nik_or_phone_in_a_broadcast_goes_out_masked_but_the_senders_own(bot, session):
    # The factory gives the coordinator the profile phone +6281234567890.
    await make_mentor(session, telegram_id=COORDINATOR, name="Koordinator Sukabumi",
                      area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari")
    coord = bot.chat(COORDINATOR)
    preview = await compose(coord, "Halo {nama}, cek NIK 3202011203850001 dan HP 081298765432 "
                                   "sebelum Rp 2.500.000 cair. Hubungi saya di 0812-3456-7890.")
    rendered, summary = preview[-2], preview[-1]
    masked = ("Halo Ani Lestari, cek NIK 3202********0001 dan HP 0812******32 sebelum "
              "Rp 2.500.000 cair. Hubungi saya di 0812-3456-7890.")
    assert rendered.text == masked
    assert summary.text.startswith("🔒 NIK dan nomor HP di pesan ini disamarkan")
    await coord.press("📤 Kirim")
    await wait_done(session, (await last_broadcast(session)).id)
    assert [m.text for m in bot.server.sent(ani.telegram_id)] == [masked]
    assert "3202011203850001" not in (await last_broadcast(session)).text
