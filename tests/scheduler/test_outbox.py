"""The broadcast outbox worker against the local Bot API server: 429s, blocked users, a
restart in the middle, per-chat pacing, and the bot staying responsive while it sends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.app import build_application
from bot.core.enums import Audience, MentorStatus, OutboxStatus, Role
from bot.core.settings import Settings
from models import broadcasts as queries
from models.db import create_engine
from models.tables import BroadcastRecipient, Mentor
from scheduler.outbox import Outbox, wall_now
from tests.factories import DISTRICT_CIBADAK, REGENCY_SUKABUMI, make_mentor
from tests.handlers.test_broadcasts import (
    COORDINATOR,
    DISTRICT_BOGOR,
    bulk_mentors,
    compose,
    last_broadcast,
    wait_done,
)
from tests.harness import BotHarness

FAST = {"broadcast_rate_per_second": 1000, "broadcast_per_chat_per_second": 1000}


@pytest.fixture
async def start_bot(settings: Settings) -> AsyncIterator[Callable]:
    """Starts the bot with some settings changed (the outbox's, mostly)."""
    harnesses: list[BotHarness] = []

    async def start(**changes) -> BotHarness:
        changed = settings.model_copy(update=changes)
        harness = await BotHarness.start(
            lambda base_url: build_application(changed, base_url=base_url))
        harnesses.append(harness)
        return harness

    yield start
    for harness in harnesses:
        await harness.stop()


async def with_progress_message(bot: BotHarness, session, broadcast_id: int) -> None:
    """What the /siaran handler does after creating a broadcast (made here by hand)."""
    message = await bot.application.bot.send_message(COORDINATOR, "📤 …")
    await queries.set_progress_message(session=session, broadcast_id=broadcast_id,
                                       chat_id=COORDINATOR, message_id=message.message_id)


def deliveries(server, ids: list[int]) -> dict[int, int]:
    """How many messages each of ``ids`` received."""
    return {tid: len(server.sent(tid)) for tid in ids}


async def test_three_hundred_recipients_with_429s_and_blocked_users(start_bot, session):
    bot = await start_bot(broadcasts_enabled=False, **FAST)
    await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY_SUKABUMI,
                      role=Role.COORDINATOR)
    reachable = await bulk_mentors(session, 297)
    blocking = await bulk_mentors(session, 3, prefix="Pemblokir")
    inactive = await bulk_mentors(session, 4, status=MentorStatus.INACTIVE)
    elsewhere = await bulk_mentors(session, 5, area_code=DISTRICT_BOGOR)
    coord = bot.chat(COORDINATOR)
    preview = await compose(coord, "Yth. {nama}, mohon laporan bulan ini.")
    assert "Jumlah: 300 orang" in preview[-1].text and "4 tidak aktif" in preview[-1].text
    await coord.press("📤 Kirim")

    bot.server.rate_limit(retry_after=1, count=5)
    for tid in blocking:
        bot.server.block(tid)
    before = bot.server.calls["sendMessage"]
    worker = Outbox.for_application(bot.application)
    try:
        await worker.run_until_done(timeout=30)
    finally:
        await worker.close()

    # Exactly one delivery each: the 429s were retried once, nothing twice.
    assert set(deliveries(bot.server, reachable).values()) == {1}
    first = reachable[0]
    assert bot.server.sent(first)[0].text == f"Yth. Pendamping {first}, mohon laporan bulan ini."
    assert deliveries(bot.server, blocking + inactive + elsewhere) == dict.fromkeys(
        blocking + inactive + elsewhere, 0)
    assert bot.server.calls["sendMessage"] - before == 300 + 5

    broadcast = await wait_done(session, (await last_broadcast(session)).id, timeout=10)
    rows = (await session.execute(select(BroadcastRecipient.telegram_id,
                                         BroadcastRecipient.status))).all()
    assert {tid for tid, status in rows if status == OutboxStatus.BLOCKED} == set(blocking)
    statuses = (await session.execute(select(Mentor.status).where(
        Mentor.telegram_id.in_(blocking)))).scalars().all()
    assert statuses == ["inactive"] * 3
    report = bot.server.message(COORDINATOR, broadcast.progress_message_id)
    assert report.text == "✅ Siaran selesai: 297 dari 300 terkirim, 3 memblokir bot, 0 gagal."
    replies = await coord.press("Lihat yang gagal")
    assert "Yang tidak menerima siaran ini (3)" in replies[-1].text
    assert all(f"Pemblokir {tid} – memblokir bot" in replies[-1].text for tid in blocking)


async def broadcast_under_way(bot: BotHarness, session, recipients: int,
                               delivered: int) -> tuple[list[int], int]:
    """A coordinator's broadcast to ``recipients`` new mentors, sent through /siaran until
    ``delivered`` have it: (their ids, the broadcast's id)."""
    await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY_SUKABUMI,
                      role=Role.COORDINATOR)
    ids = await bulk_mentors(session, recipients)
    coord = bot.chat(COORDINATOR)
    await compose(coord, "Halo {nama}.")
    await coord.press("📤 Kirim")
    broadcast = await last_broadcast(session)
    async with asyncio.timeout(5):
        while sum(deliveries(bot.server, ids).values()) < delivered:
            await asyncio.sleep(0.01)
    return ids, broadcast.id


async def test_a_restart_in_the_middle_sends_nobody_anything_twice(start_bot, session):
    bot = await start_bot(broadcast_rate_per_second=100, broadcast_per_chat_per_second=1000)
    ids, broadcast_id = await broadcast_under_way(bot, session, 150, 30)
    # As if the process had died right after claiming one row: it may have been sent, so it
    # must not be sent again.
    result = await session.execute(
        select(BroadcastRecipient.id, BroadcastRecipient.telegram_id)
        .where(BroadcastRecipient.status == OutboxStatus.PENDING)
        .order_by(BroadcastRecipient.id.desc()).limit(1))
    crashed_id, crashed_tid = result.one()
    await session.execute(update(BroadcastRecipient).where(BroadcastRecipient.id == crashed_id)
                          .values(status=OutboxStatus.SENDING, attempts=1))
    await session.commit()

    await bot.restart()  # a clean stop of the worker, then a new process resumes
    broadcast = await wait_done(session, broadcast_id)

    counts = deliveries(bot.server, ids)
    assert counts.pop(crashed_tid) == 0
    assert set(counts.values()) == {1}
    crashed = await session.get(BroadcastRecipient, crashed_id, populate_existing=True)
    assert (crashed.status, crashed.reason) == ("failed", "interrupted")
    report = bot.server.message(COORDINATOR, broadcast.progress_message_id)
    assert report.text == "✅ Siaran selesai: 149 dari 150 terkirim, 0 memblokir bot, 1 gagal."


async def test_one_message_per_second_to_the_same_chat(start_bot, session):
    bot = await start_bot(broadcasts_enabled=False, broadcast_rate_per_second=1000)
    coordinator = await make_mentor(session, telegram_id=COORDINATOR,
                                    area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    ids = await bulk_mentors(session, 3)
    people = list((await session.execute(
        select(Mentor).where(Mentor.telegram_id.in_(ids)))).scalars())
    for text in ("Pertama", "Kedua"):
        broadcast, _ = await queries.create(
            session=session, actor=coordinator, audience=Audience.ALL_MENTORS,
            audience_code=None, text=text, photo_file_id=None, document_file_id=None, to=people)
        await with_progress_message(bot, session, broadcast.id)
    times: dict[int, list[float]] = {}
    unsubscribe = bot.server.on_sent(
        lambda message: times.setdefault(message.chat_id, []).append(time.monotonic()))
    worker = Outbox.for_application(bot.application)
    try:
        await worker.run_until_done(timeout=30)
    finally:
        unsubscribe()
        await worker.close()
    for tid in ids:
        assert [m.text for m in bot.server.sent(tid)] == ["Pertama", "Kedua"]
        first, second = times[tid]
        assert second - first >= 0.95


async def test_other_errors_are_retried_three_times_then_failed(start_bot, session):
    bot = await start_bot(broadcasts_enabled=False, **FAST)
    coordinator = await make_mentor(session, telegram_id=COORDINATOR,
                                    area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari", area_code=DISTRICT_CIBADAK)
    broadcast, _ = await queries.create(
        session=session, actor=coordinator, audience=Audience.ALL_MENTORS, audience_code=None,
        text="Foto", photo_file_id="NO-SUCH-FILE", document_file_id=None, to=[ani])
    await with_progress_message(bot, session, broadcast.id)
    # Retries wait 2 s, 4 s...: a clock running ahead makes them due at once.
    ahead = [0.0]

    def fast_wall():
        ahead[0] += 10
        return wall_now() + timedelta(seconds=ahead[0])

    worker = Outbox.for_application(bot.application, wall=fast_wall)
    try:
        await worker.run_until_done(timeout=30)
    finally:
        await worker.close()
    row = (await session.execute(select(BroadcastRecipient))).scalar_one()
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.reason.startswith("BadRequest")
    assert bot.server.calls["sendPhoto"] == 3
    report = bot.server.last_message(COORDINATOR)
    assert report.text == "✅ Siaran selesai: 0 dari 1 terkirim, 0 memblokir bot, 1 gagal."
    replies = await bot.chat(COORDINATOR).press("Lihat yang gagal")
    assert "Ani Lestari – gagal (BadRequest:" in replies[-1].text


async def test_replies_stay_fast_while_a_broadcast_runs(start_bot, session):
    bot = await start_bot()  # the real worker, at the real pace (28/s, 1/s per chat)
    await make_mentor(session, telegram_id=COORDINATOR, area_code=REGENCY_SUKABUMI,
                      role=Role.COORDINATOR)
    ids = await bulk_mentors(session, 200)
    far = await make_mentor(session, name="Dedi Bogor", area_code=DISTRICT_BOGOR)
    coord = bot.chat(COORDINATOR)
    await compose(coord, "Halo {nama}.")
    bot.server.enforce_limits(per_second_overall=30, per_chat_per_second=1)
    await coord.press("📤 Kirim")
    async with asyncio.timeout(5):
        while sum(deliveries(bot.server, ids).values()) < 20:
            await asyncio.sleep(0.01)

    mentor = bot.chat(far.telegram_id)
    replies = await mentor.send("/bantuan")
    assert any("/kelompok" in (m.text or "") for m in replies)
    # Answered while the broadcast is still being sent: the bot did not wait for it (the
    # reply times under load are measured by bench/broadcast.py).
    assert sum(deliveries(bot.server, ids).values()) < 200


async def test_a_row_left_locked_by_a_hung_leader_holds_up_only_the_broadcast(
        start_bot, session, db_url):
    """A leader that hung half way through recording a message keeps that row locked (its
    transaction open) until it wakes. The next leader answers mentors meanwhile, and settles
    the row ("interrupted", never resent) and finishes the broadcast once the lock is gone."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: on SQLite one open writer holds up every other")
    bot = await start_bot(broadcast_rate_per_second=100, broadcast_per_chat_per_second=1000)
    ids, broadcast_id = await broadcast_under_way(bot, session, 40, 10)
    hung = create_engine(db_url)
    connection = await hung.connect()
    hung_row: list[tuple[int, int]] = []

    async def hang_while_recording() -> None:
        # While no bot runs: a row the stopped one left pending is claimed and, half recorded,
        # held locked by the hung leader's open transaction.
        result = await session.execute(
            select(BroadcastRecipient.id, BroadcastRecipient.telegram_id)
            .where(BroadcastRecipient.status == OutboxStatus.PENDING)
            .order_by(BroadcastRecipient.id.desc()).limit(1))
        hung_row.append(tuple(result.one()))
        await session.execute(update(BroadcastRecipient)
                              .where(BroadcastRecipient.id == hung_row[0][0])
                              .values(status=OutboxStatus.SENDING, attempts=1))
        await session.commit()
        await connection.execute(update(BroadcastRecipient)
                                 .where(BroadcastRecipient.id == hung_row[0][0])
                                 .values(reason="recording"))

    try:
        await asyncio.wait_for(bot.restart(meanwhile=hang_while_recording), 20)
        # The new leader has started and answers a mentor while the row is still locked.
        replies = await asyncio.wait_for(bot.chat(ids[0]).send("/bantuan"), 20)
        assert any("/kunjungan" in (reply.content or "") for reply in replies)
        await connection.rollback()  # the hung leader wakes (or its session ends)
        await wait_done(session, broadcast_id)
    finally:
        await connection.close()
        await hung.dispose()
    hung_id, hung_tid = hung_row[0]
    counts = {tid: sum((m.content or "").startswith("Halo") for m in bot.server.sent(tid))
              for tid in ids}
    assert counts.pop(hung_tid) == 0
    assert set(counts.values()) == {1}
    row = await session.get(BroadcastRecipient, hung_id, populate_existing=True)
    assert (row.status, row.reason) == ("failed", "interrupted")
