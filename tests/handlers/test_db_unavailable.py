"""A database that is briefly locked: the bot says to wait, tries again, and loses no answer."""

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


async def test_a_database_locked_too_long_gets_an_apology_and_the_draft_survives(start,
                                                                                   database):
    bot = await start(db_retry_attempts=2)
    siti = bot.chat(700001, first_name="Siti")
    await up_to_area(siti)

    lock = WriterLock(database)
    try:
        replies = await siti.press("Kec. Cibadak, Kab. Sukabumi, Jawa Barat")
    finally:
        lock.release()
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


async def test_others_are_served_while_one_user_waits_for_the_database(start, database):
    bot = await start(db_retry_seconds=1.0)
    siti = bot.chat(700001, first_name="Siti")
    await up_to_area(siti)
    lock = WriterLock(database)
    message, data = siti._find_button("Kec. Cibadak, Kab. Sukabumi, Jawa Barat")
    pressed = bot.server.press_button(700001, message.message_id, data)
    try:
        async with asyncio.timeout(20):
            while not any(BUSY in (m.text or "") for m in bot.server.sent(700001)):
                await asyncio.sleep(0.02)
        # Siti's update is waiting for the database; another user is answered meanwhile
        # (reading needs no write lock).
        # (Sent straight to the server: the harness's settle would wait for Siti's update too.)
        bot.server.user(700002, first_name="Budi")
        bot.server.send_text(700002, "/bantuan")
        async with asyncio.timeout(20):
            while not bot.server.sent(700002):
                await asyncio.sleep(0.02)
        assert "/start" in bot.server.sent(700002)[-1].text
        # ... while Siti's still waits.
        assert all("menunggu persetujuan" not in (m.text or "")
                   for m in bot.server.sent(700001))
    finally:
        lock.release()
    await bot.settle(pressed)
    assert "menunggu persetujuan" in bot.server.sent(700001)[-1].text
