"""The inbox (bot.telegram.inbox): what was received is handled once, after a crash too, and
forgotten only once Telegram can no longer redeliver it.

On SQLite only: every conversation test on PostgreSQL receives its updates through the inbox.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.app import build_application
from bot.core.settings import Settings
from bot.telegram.inbox import BUSY, POLL_LINGER, Inbox, fingerprint
from bot.telegram.persistence import DatabasePersistence
from models import updates as update_queries
from models.db import create_engine, create_sessionmaker
from models.tables import ConversationState, ReceivedUpdate, utcnow
from tests.harness import BotHarness

SITI = 700001
pytestmark = pytest.mark.sqlite_only


def _message(update_id: int, message_id: int, text: str) -> dict:
    """Telegram's JSON for Siti writing ``text`` in her chat with the bot."""
    user = {"id": SITI, "is_bot": False, "first_name": "Siti", "language_code": "id"}
    entities = [{"type": "bot_command", "offset": 0, "length": len(text)}] \
        if text.startswith("/") else None
    message = {"message_id": message_id, "date": int(time.time()), "text": text,
               "chat": {"id": SITI, "type": "private", "first_name": "Siti"}, "from": user}
    if entities:
        message["entities"] = entities
    return {"update_id": update_id, "message": message}


async def _rows(settings: Settings) -> list[ReceivedUpdate]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.execute(
                select(ReceivedUpdate).order_by(ReceivedUpdate.id))).scalars())
    finally:
        await engine.dispose()


async def _receive(settings: Settings, *payloads: dict) -> None:
    """Writes updates as the inbox does on arrival: received, not handled (a crash came)."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            await update_queries.receive(session=session, arrivals=[
                update_queries.Arrival(p["update_id"], fingerprint(p), p) for p in payloads])
    finally:
        await engine.dispose()


async def test_what_was_received_before_a_crash_is_handled_at_the_next_start_in_order(
        settings):
    # Before the crash Siti wrote /start and her name; the bot had stored both, answered none.
    await _receive(settings, _message(41, 501, "/start"), _message(42, 502, "Siti Rahmawati"))
    async with await BotHarness.start(
            lambda url: build_application(settings, base_url=url)) as bot:
        await bot.settle()
        texts = [message.text or "" for message in bot.server.sent(SITI)]
        # Welcomed, asked her name, then (her name taken) asked for her phone: in that order.
        assert len(texts) >= 2
        assert "Selamat datang" in texts[0]
        assert "Siti Rahmawati" in texts[-1] or "nomor" in texts[-1].lower()
        rows = await _rows(settings)
        assert [(row.update_id, row.handled_at is not None, row.payload) for row in rows] == [
            (41, True, None), (42, True, None)]  # what she typed is not kept once handled

        # Started again: nothing is handled twice.
        sent = len(bot.server.sent(SITI))
        await bot.restart()
        await bot.settle()
        assert len(bot.server.sent(SITI)) == sent


async def test_a_reused_update_id_with_another_message_is_a_new_update(settings):
    async with await BotHarness.start(
            lambda url: build_application(settings, base_url=url)) as bot:
        siti = bot.chat(SITI, first_name="Siti")
        await siti.send("/bantuan")
        [first] = await _rows(settings)
        # A week without updates later Telegram numbers from the same id again: the new
        # message carries the old id, and is answered.
        await _receive(settings, _message(first.update_id + 1, 900, "/bantuan"))
        engine = create_engine(settings.database_url)
        async with create_sessionmaker(engine)() as session:
            await update_queries.mark_handled(session=session, update_id=first.update_id + 1)
        await engine.dispose()
        answers = len(siti.messages())
        replies = await siti.send("/bantuan")  # the server gives it first.update_id + 1 too
        assert replies and "/start" in replies[-1].text
        assert len(siti.messages()) == answers + 1
        rows = await _rows(settings)
        assert [row.update_id for row in rows].count(first.update_id + 1) == 2
        assert all(row.handled_at is not None for row in rows)


async def test_handled_updates_are_forgotten_after_the_safe_window_only(settings):
    async with await BotHarness.start(
            lambda url: build_application(settings, base_url=url)) as bot:
        await _receive(settings, _message(1, 1, "/start"), _message(2, 2, "lama"),
                       _message(3, 3, "baru"))
        engine = create_engine(settings.database_url)
        async with create_sessionmaker(engine)() as session:
            await update_queries.mark_handled(session=session, update_id=2)
            await update_queries.mark_handled(session=session, update_id=3)
            # Update 2 was handled three days ago, 3 an hour ago; 1 never (still waiting).
            table = ReceivedUpdate.__table__
            for update_id, age in ((2, timedelta(days=3)), (3, timedelta(hours=1)),
                                   (1, timedelta(days=3))):
                await session.execute(table.update().where(table.c.update_id == update_id)
                                      .values(received_at=utcnow() - age,
                                              handled_at=(utcnow() - age) if update_id > 1
                                              else None))
            await session.commit()
        await engine.dispose()
        assert await bot.application.bot_data.inbox.prune() == 1
        assert [row.update_id for row in await _rows(settings)] == [1, 3]


async def test_updates_the_throttle_dropped_are_not_handled_after_a_restart(settings):
    throttled = settings.model_copy(update={"throttle_burst": 2, "throttle_per_second": 0.1})
    async with await BotHarness.start(
            lambda url: build_application(throttled, base_url=url)) as bot:
        bot.server.user(SITI, first_name="Siti")
        ids = [bot.server.send_text(SITI, "/bantuan") for _ in range(6)]
        await bot.settle(ids[-1])
        async with asyncio.timeout(10):  # the notice takes its turn after the answers
            while len(bot.server.sent(SITI)) < 3:
                await asyncio.sleep(0.02)
        texts = [message.text or "" for message in bot.server.sent(SITI)]
        assert sum("/start" in text for text in texts) == 2
        assert sum("terlalu cepat" in text for text in texts) == 1
        assert all(row.handled_at is not None for row in await _rows(settings))
        sent = len(bot.server.sent(SITI))
        await bot.restart()
        await bot.settle()
        assert len(bot.server.sent(SITI)) == sent


async def test_a_stop_leaves_a_backlog_for_the_next_start_which_answers_each_once(settings):
    async with await BotHarness.start(
            lambda url: build_application(settings, base_url=url)) as bot:
        bot.server.user(SITI, first_name="Siti")
        ids = [bot.server.send_text(SITI, "/bantuan") for _ in range(60)]
        await bot.server.wait_fetched(ids[-1], timeout=10)
        # Stopped (as SIGTERM does) with most of her messages still waiting their turn: the
        # stop does not work through them ...
        left: list[ReceivedUpdate] = []

        async def look() -> None:
            left.extend(row for row in await _rows(settings) if row.handled_at is None)
        await bot.restart(meanwhile=look)
        assert len(left) > 0
        # ... the next start does, and each is answered once.
        await bot.settle()
        answers = [m.text or "" for m in bot.server.sent(SITI)]
        assert len(answers) == 60 and all("/start" in text for text in answers)
        assert all(row.handled_at is not None for row in await _rows(settings))


async def test_a_backlog_handled_after_a_restart_is_not_taken_for_a_flood(settings):
    throttled = settings.model_copy(update={"throttle_burst": 2, "throttle_per_second": 0.1})
    await _receive(settings, *(_message(100 + n, 600 + n, "/bantuan") for n in range(8)))
    async with await BotHarness.start(
            lambda url: build_application(throttled, base_url=url)) as bot:
        await bot.settle()
        texts = [message.text or "" for message in bot.server.sent(SITI)]
        assert len(texts) == 8 and all("/start" in text for text in texts)


async def test_redeliveries_of_updates_handled_before_the_upgrade_are_recognised(settings):
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            # As migration 0008 carries over an update handled by the version before.
            session.add(ReceivedUpdate(update_id=77, fingerprint="old:77",
                                       received_at=utcnow(), handled_at=utcnow()))
            await session.commit()
            upto = await update_queries.carried_over_upto(session=session)
            assert upto == 77
            again, new = _message(77, 501, "/start"), _message(78, 502, "/start")
            fresh = await update_queries.receive(session=session, carried_over_upto=upto,
                                                 arrivals=[
                update_queries.Arrival(77, fingerprint(again), again),
                update_queries.Arrival(78, fingerprint(new), new)])
            assert [arrival.update_id for arrival in fresh] == [78]
    finally:
        await engine.dispose()


async def test_the_same_update_stored_twice_at_once_is_stored_once(settings):
    engine = create_engine(settings.database_url)
    payload = _message(5, 5, "/start")
    arrival = update_queries.Arrival(5, fingerprint(payload), payload)
    try:
        async def store() -> int:
            async with create_sessionmaker(engine)() as session:
                return len(await update_queries.receive(session=session, arrivals=[arrival]))
        assert sorted(await asyncio.gather(store(), store(), store())) == [0, 0, 1]
    finally:
        await engine.dispose()
    assert len(await _rows(settings)) == 1


async def test_a_mark_waits_for_the_state_it_belongs_to_and_survives_a_failed_write(settings):
    engine = create_engine(settings.database_url)
    persistence = DatabasePersistence(create_sessionmaker(engine))
    try:
        await _receive(settings, _message(9, 9, "Siti Rahmawati"))
        # Siti's answer is handled; her new state is not handed over yet when another user's
        # write goes: her mark must not go with it.
        persistence.hold_mark(SITI, 9)
        await persistence.update_user_data(700002, {"lang": "id"})
        assert [row.handled_at for row in await _rows(settings)] == [None]
        # Her state's write fails (the database is away a moment): nothing is marked ...
        write = persistence._write

        async def broken(*args):
            raise OSError("database away")
        persistence._write = broken
        with pytest.raises(OSError):
            await persistence.update_conversation("onboarding", (SITI, SITI), 2)
        assert [row.handled_at for row in await _rows(settings)] == [None]
        # ... and the stop's flush writes the mark and the state together.
        persistence._write = write
        await persistence.flush()
        [row] = await _rows(settings)
        assert row.handled_at is not None
        async with create_sessionmaker(engine)() as session:
            states = (await session.execute(select(ConversationState))).scalars().all()
        assert [(state.name, state.state) for state in states] == [("onboarding", 2)]
    finally:
        await engine.dispose()


async def test_a_busy_bot_lets_the_next_batch_grow_a_quiet_one_polls_at_once():
    # Only the counts the inbox reads: the updates queued and those the processor has not
    # finished.
    processor = SimpleNamespace(unfinished=0)
    inbox = Inbox(SimpleNamespace(update_queue=asyncio.Queue(), update_processor=processor),
                  None)
    loop = asyncio.get_running_loop()

    async def waited() -> float:
        began = loop.time()
        await inbox._linger()
        return loop.time() - began

    assert await waited() < POLL_LINGER / 10  # quiet: polled again at once
    processor.unfinished = BUSY
    assert await waited() >= POLL_LINGER  # busy all along: the whole linger
    # Busy, then the work at hand runs low: polled again then, before the linger is over.
    loop.call_later(POLL_LINGER / 4, setattr, processor, "unfinished", BUSY - 1)
    assert await waited() < POLL_LINGER * 0.8


async def test_a_stop_ends_a_task_whose_cancellation_was_lost():
    # Python 3.11's wait_for can swallow a cancellation that comes as what it waits for is done;
    # the task then sleeps on (the pruning task: an hour). The stop cancels it again.
    inbox = Inbox(SimpleNamespace(update_queue=asyncio.Queue()), sessionmaker=None)
    lost = asyncio.Event()

    async def swallows_one_cancellation() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            lost.set()
        await asyncio.sleep(3600)

    inbox._start(swallows_one_cancellation(), "lost-cancellation")
    await asyncio.sleep(0)
    began = time.monotonic()
    await asyncio.wait_for(inbox.stop(), 10)
    assert lost.is_set()
    assert time.monotonic() - began < 3
