"""A database that is briefly locked: the bot says to wait, tries again, and loses no answer.

While the database cannot store a message (bot.telegram.inbox), the message is not confirmed to
Telegram, which keeps it; the user hears once that it will be handled. A database that goes
away after the message was stored fails the handler instead, which is tried again a little
later (handlers.system.handle_again_later), and at last apologised for.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.core.settings import Settings
from models.db import create_engine, create_sessionmaker
from models.tables import Mentor
from tests.conftest import ADMIN_ID, TEST_DATA_KEY
from tests.harness import BotHarness

BUSY = "Sistem sedang sibuk"


@pytest.fixture
def database(template_db: Path, tmp_path: Path) -> Path:
    """SQLite only: its writer lock is what "briefly locked" means (PostgreSQL waits for row
    locks instead of failing)."""
    target = tmp_path / "bot.db"
    shutil.copyfile(template_db, target)
    return target


def _settings(database: Path, **changes) -> Settings:
    values = {"database_busy_seconds": 0.2, "db_retry_seconds": 0.3, **changes}
    return Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{database}",
                    admin_ids=[ADMIN_ID], telegram_token="123456:TEST-TOKEN",
                    reminders_enabled=False, broadcasts_enabled=False, throttle_burst=10_000,
                    data_key=TEST_DATA_KEY, **values)


@pytest.fixture
async def start(database: Path) -> AsyncIterator:
    harnesses: list[BotHarness] = []

    async def start(**changes) -> BotHarness:
        settings = _settings(database, **changes)
        harness = await BotHarness.start(
            lambda url: build_application(settings, base_url=url), settle_timeout=60)
        harnesses.append(harness)
        return harness

    yield start
    for harness in harnesses:
        await harness.stop()


class WriterLock:
    """Another program holding SQLite's write lock (readers may still read: WAL)."""

    def __init__(self, database: Path) -> None:
        self.connection = sqlite3.connect(database, isolation_level=None, timeout=5)
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.connection is not None:
            self.connection.execute("ROLLBACK")
            self.connection.close()
            self.connection = None


async def up_to_area(chat) -> None:
    await chat.send("/start")
    await chat.send("Siti Rahmawati")
    await chat.share_contact("+6281234567890")
    await chat.press("PSM")
    await chat.send("cibadak")


async def mentors_named(database: Path, name: str) -> int:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with create_sessionmaker(engine)() as session:
            return (await session.execute(
                select(func.count()).select_from(Mentor).where(Mentor.name == name))).scalar()
    finally:
        await engine.dispose()


async def test_a_briefly_locked_database_is_waited_for_and_the_answer_kept(start, database):
    bot = await start()
    siti = bot.chat(700001, first_name="Siti")
    await up_to_area(siti)

    lock = WriterLock(database)
    loop = asyncio.get_running_loop()
    loop.call_later(1.0, lock.release)  # the other program finishes after a second
    try:
        replies = await siti.press("Kec. Cibadak, Kab. Sukabumi, Jawa Barat")
    finally:
        lock.release()
    texts = [reply.text or "" for reply in replies]
    # First the promise to handle it, then, once the lock is gone, the usual answer.
    assert any(BUSY in text for text in texts)
    assert sum(BUSY in text for text in texts) == 1
    assert "menunggu persetujuan" in texts[-1]
    assert "gangguan" not in " ".join(texts)
    assert await mentors_named(database, "Siti Rahmawati") == 1


async def test_a_database_locked_while_handling_gets_an_apology_and_the_draft_survives(
        start, database):
    bot = await start(db_retry_attempts=2)
    siti = bot.chat(700001, first_name="Siti")
    await up_to_area(siti)

    # The lock comes right after her press is stored: the handler's own write is what fails.
    inbox = bot.application.bot_data.inbox
    store, locks = inbox.take, []

    async def take_then_lock(updates):
        queued = await store(updates)
        locks.append(WriterLock(database))
        return queued

    inbox.take = take_then_lock
    try:
        replies = await siti.press("Kec. Cibadak, Kab. Sukabumi, Jawa Barat")
    finally:
        for lock in locks:
            lock.release()
        inbox.take = store
    texts = [reply.text or "" for reply in replies]
    assert any(BUSY in text for text in texts)
    assert "Maaf, ada gangguan" in texts[-1] and "tetap tersimpan" in texts[-1]
    assert all("Traceback" not in text for text in texts)
    assert await mentors_named(database, "Siti Rahmawati") == 0

    # The database is back. The picker had already closed, so she types her area again; the
    # name, phone and role she gave before are still there, and it is saved once.
    await siti.send("cibadak")
    replies = await siti.press("Kec. Cibadak, Kab. Sukabumi, Jawa Barat")
    assert "menunggu persetujuan" in replies[-1].text
    assert await mentors_named(database, "Siti Rahmawati") == 1


async def test_while_the_database_cannot_store_everyone_is_told_once_and_nothing_is_lost(
        start, database):
    bot = await start()
    siti = bot.chat(700001, first_name="Siti")
    await up_to_area(siti)
    lock = WriterLock(database)
    message, data = siti._find_button("Kec. Cibadak, Kab. Sukabumi, Jawa Barat")
    pressed = bot.server.press_button(700001, message.message_id, data)
    try:
        async with asyncio.timeout(20):
            while not any(BUSY in (m.text or "") for m in bot.server.sent(700001)):
                await asyncio.sleep(0.02)
        # Another user writes meanwhile: told the same, once, although he writes twice.
        # (Sent straight to the server: the harness's settle would wait for Siti's update too.)
        bot.server.user(700002, first_name="Budi")
        bot.server.send_text(700002, "/bantuan")
        async with asyncio.timeout(20):
            while not bot.server.sent(700002):
                await asyncio.sleep(0.02)
        bot.server.send_text(700002, "/bantuan")
        await asyncio.sleep(1.0)  # several tries to store, all refused by the lock
        assert [m.text for m in bot.server.sent(700002)] == [bot.server.sent(700001)[-1].text]
        assert all("menunggu persetujuan" not in (m.text or "")
                   for m in bot.server.sent(700001))
        assert await mentors_named(database, "Siti Rahmawati") == 0
    finally:
        lock.release()
    await bot.settle(pressed)
    await bot.settle(bot.server.send_text(700002, "/bantuan"))
    assert "menunggu persetujuan" in bot.server.sent(700001)[-1].text
    assert await mentors_named(database, "Siti Rahmawati") == 1
    # Budi's three messages, each answered once, after the one notice.
    budi = [m.text or "" for m in bot.server.sent(700002)]
    assert BUSY in budi[0] and sum(BUSY in text for text in budi) == 1
    assert sum("/start" in text for text in budi[1:]) == 3
