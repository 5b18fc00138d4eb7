"""Concurrency through the real Application: users side by side, each user's messages in order."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update
from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

from bot.app import build_application
from bot.localapi import LocalBotApi
from tests.conftest import ADMIN_ID
from tests.factories import make_mentor
from tests.harness import BotHarness


async def _wait_for(server: LocalBotApi, chat_id: int, count: int, timeout: float = 10) -> list[str]:
    """The texts the bot sent to ``chat_id``, once there are at least ``count`` of them."""
    async with asyncio.timeout(timeout):
        while len(server.sent(chat_id)) < count:
            await asyncio.sleep(0.01)
    return [message.content or "" for message in server.sent(chat_id)]


async def test_a_slow_user_does_not_hold_up_others_and_keeps_his_order(settings, session):
    await make_mentor(session, telegram_id=700001, name="Siti Rahma")
    await make_mentor(session, telegram_id=700002, name="Budi Santoso")
    release = asyncio.Event()
    seen: list[str] = []

    async def slow(update: Update, _context) -> None:
        # Stands in for a long export: holds this user's update until the test releases it.
        seen.append(update.effective_message.text)
        if update.effective_message.text == "lambat":
            await release.wait()
            raise ApplicationHandlerStop

    def build(base_url: str):
        application = build_application(settings, base_url=base_url)
        application.add_handler(MessageHandler(filters.TEXT, slow, block=True), group=-3)
        return application

    harness = await BotHarness.start(build)
    server = harness.server
    try:
        server.send_text(700001, "lambat")
        server.send_text(700001, "/bantuan")
        server.send_text(700002, "/bantuan")
        # Budi is answered while Siti's first message is still being handled ...
        budi = await _wait_for(server, 700002, 1)
        assert "Bantuan" in budi[0] or "/kunjungan" in budi[0]
        assert server.sent(700001) == []
        # ... and Siti's /bantuan waits its turn: it comes after "lambat", never before.
        assert seen == ["lambat", "/bantuan"][: len(seen)] and "/bantuan" not in seen[:1]
        release.set()
        siti = await _wait_for(server, 700001, 1)
        assert siti[0] == budi[0]
        assert seen.index("lambat") < len(seen) - 1
    finally:
        release.set()
        await harness.stop()


async def test_many_users_at_once_each_conversation_stays_right(settings, session):
    """Ten people sign up at the same moment; every answer lands in the right person's record."""
    from models import mentors as mentor_queries

    harness = await BotHarness.start(lambda url: build_application(settings, base_url=url))
    server = harness.server
    users = [700100 + n for n in range(10)]
    names = ["Siti Aminah", "Budi Santoso", "Ani Lestari", "Dedi Kurnia", "Euis Rahayu",
             "Fajar Nugraha", "Gita Permata", "Hadi Wijaya", "Intan Sari", "Joko Susilo"]

    def press(user_id: int, label: str) -> int:
        # Found as the harness finds it, but pressed without waiting for the answer.
        message, data = harness.chat(user_id)._find_button(label)
        return server.press_button(user_id, message.message_id, data)

    try:
        for user_id in users:
            server.user(user_id, first_name=f"U{user_id}")
        # Every step is queued for all ten before the bot has answered any of them.
        for n, user_id in enumerate(users):
            server.send_text(user_id, "/start")
            server.send_text(user_id, names[n])
            last = server.share_contact(user_id, f"+62812345678{n:02d}")
        await harness.settle(last)
        for user_id in users:
            last = press(user_id, "PSM")
        await harness.settle(last)
        for user_id in users:
            last = server.send_text(user_id, "cibadak")
        await harness.settle(last)
        for user_id in users:
            last = press(user_id, "Kec. Cibadak, Kab. Sukabumi")
        await harness.settle(last)
        for n, user_id in enumerate(users):
            texts = [message.content or "" for message in server.sent(user_id)]
            assert "Selamat datang" in texts[0]
            assert f"+62 812****78{n:02d}" in " ".join(texts)
            assert "menunggu persetujuan" in texts[-1]
            row = await mentor_queries.get_by_telegram_id(session=session, telegram_id=user_id)
            assert (row.name, row.phone, row.area_code) == (
                names[n], f"+62812345678{n:02d}", "32.02.11")
    finally:
        await harness.stop()


async def test_a_flooding_user_is_slowed_down_politely_and_others_are_served(settings,
                                                                             session):
    await make_mentor(session, telegram_id=700001, name="Siti Rahma")
    await make_mentor(session, telegram_id=700002, name="Budi Santoso")
    flood_settings = settings.model_copy(update={"throttle_burst": 5,
                                                 "throttle_per_second": 0.5})
    harness = await BotHarness.start(
        lambda url: build_application(flood_settings, base_url=url))
    server = harness.server
    try:
        for n in range(50):
            server.send_text(700001, f"pesan {n}")
        last = server.send_text(700002, "/bantuan")
        budi = await _wait_for(server, 700002, 1)
        assert budi and "Pesan Anda datang terlalu cepat" not in budi[0]
        await harness.settle(last)
        # The notice takes its turn after the answers (bulk): waited for, not assumed.
        siti = await _wait_for(server, 700001, 6)
        warnings = [text for text in siti if "terlalu cepat" in text]
        # Five messages got through and were answered; the rest were dropped with one warning.
        assert len(warnings) == 1
        assert len(siti) == 5 + 1
        processor = harness.application.update_processor
        assert processor.dropped == 45
    finally:
        await harness.stop()


@pytest.mark.sqlite_only
async def test_the_slow_down_notice_arrives_although_telegram_refuses_it_a_while(settings,
                                                                               session):
    """The answers to a flood use up Telegram's allowance for the chat (about one message a
    second), so the notice may meet a run of 429s: it waits for its turn and is sent in the
    end, rather than given up after the rate limiter's few tries."""
    await make_mentor(session, telegram_id=700001, name="Siti Rahma")
    flood_settings = settings.model_copy(update={"throttle_burst": 2,
                                                 "throttle_per_second": 0.1})
    harness = await BotHarness.start(
        lambda url: build_application(flood_settings, base_url=url))
    server = harness.server
    try:
        for _ in range(2):
            await harness.settle(server.send_text(700001, "/bantuan"))
        # Four refusals in a row: more than the rate limiter's own three tries.
        server.rate_limit(retry_after=1, count=4, chat_id=700001)
        await harness.settle(server.send_text(700001, "/bantuan"))  # dropped: too fast
        siti = await _wait_for(server, 700001, 3, timeout=20)
        assert sum("terlalu cepat" in text for text in siti) == 1
        assert harness.application.update_processor.dropped == 1
    finally:
        await harness.stop()


async def test_admin_updates_are_not_throttled_by_someone_else(settings, session):
    """The throttle is per user: one user's flood uses up only his own allowance."""
    flood_settings = settings.model_copy(update={"throttle_burst": 3,
                                                 "throttle_per_second": 0.1})
    harness = await BotHarness.start(
        lambda url: build_application(flood_settings, base_url=url))
    try:
        for n in range(10):
            harness.server.send_text(700009, f"spam {n}")
        admin = harness.chat(ADMIN_ID, first_name="Admin")
        replies = await admin.send("/start")
        assert replies and all("terlalu cepat" not in (r.content or "") for r in replies)
    finally:
        await harness.stop()
