"""LocalBotApi's delivery (bot.localapi.delivery): long polling, offsets, redelivery,
restarts and the faults it injects, with the echo bot."""

from __future__ import annotations

import asyncio
import datetime as dtm

import pytest
from telegram.error import EndPointNotFound, Forbidden, RetryAfter

from bot.localapi import LocalBotApi, stop_application
from tests.bot.localapi.echo import ADMIN, USER, build_echo_app, errors, post
from tests.harness import BotHarness

# ---------------------------------------------------------------------------------------------
# Long polling and offsets
# ---------------------------------------------------------------------------------------------


async def test_long_poll_wakes_promptly(harness: BotHarness) -> None:
    siti = harness.chat(USER)
    await asyncio.sleep(0.3)  # let the bot sit in a long poll
    # Woken by the update, not by the end of the 10-second poll.
    async with asyncio.timeout(3):
        replies = await siti.send("halo")
    assert [m.text for m in replies] == ["Kamu menulis: halo"]


async def test_get_updates_offset_limit_and_timeout(server: LocalBotApi) -> None:
    first = server.send_text(USER, "satu")
    second = server.send_text(USER, "dua")
    third = server.send_text(USER, "tiga")

    status, body = await post(server, "getUpdates", limit="2")
    assert status == 200 and [u["update_id"] for u in body["result"]] == [first, second]
    # Fetching does not confirm: without an offset the same updates come again.
    _, body = await post(server, "getUpdates")
    assert [u["update_id"] for u in body["result"]] == [first, second, third]
    _, body = await post(server, "getUpdates", offset=str(second))
    assert [u["update_id"] for u in body["result"]] == [second, third]
    assert server.pending_updates == [second, third]
    await server.wait_fetched(first, timeout=0.1)  # confirmed, returns at once

    _, body = await post(server, "getUpdates", offset=str(third + 1), timeout="0.2")
    assert body == {"ok": True, "result": []}

    # A waiting poll returns as soon as an update arrives.
    poll = asyncio.create_task(post(server, "getUpdates", offset=str(third + 1), timeout="30"))
    await asyncio.sleep(0.1)
    fourth = server.send_text(USER, "empat")
    async with asyncio.timeout(5):  # woken by the update, long before the 30-second poll ends
        _, body = await poll
    assert [u["update_id"] for u in body["result"]] == [fourth]
    message = body["result"][0]["message"]
    assert message["from"]["id"] == USER and message["chat"] == {
        "id": USER, "type": "private", "first_name": f"Pengguna {USER}"}


async def test_newer_poll_terminates_older(server: LocalBotApi) -> None:
    older = asyncio.create_task(post(server, "getUpdates", timeout="5"))
    await asyncio.sleep(0.1)
    _, newer = await post(server, "getUpdates", timeout="0")
    status, body = await older
    assert newer["ok"] is True
    assert status == 409 and body["description"].startswith("Conflict: terminated by other")


async def test_wait_fetched_times_out_without_a_bot(server: LocalBotApi) -> None:
    update_id = server.send_text(USER, "halo")
    with pytest.raises(TimeoutError, match="did not fetch update"):
        await server.wait_fetched(update_id, timeout=0.1)


async def test_unknown_method_is_404(harness: BotHarness) -> None:
    status, body = await post(harness.server, "fooBar")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    with pytest.raises(EndPointNotFound):
        await harness.application.bot.do_api_request("fooBar")



# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------


async def test_blocked_user_gives_forbidden(harness: BotHarness) -> None:
    siti = harness.chat(USER)
    harness.server.block(USER)
    assert await siti.send("halo") == []
    [error] = errors(harness)
    assert isinstance(error, Forbidden)
    assert error.message == "Forbidden: bot was blocked by the user"
    harness.server.unblock(USER)
    assert [m.text for m in await siti.send("lagi")] == ["Kamu menulis: lagi"]


async def test_sending_to_a_blocked_other_chat(harness: BotHarness) -> None:
    siti = harness.chat(USER)
    harness.server.block(ADMIN)
    assert await siti.send(f"/kirim {ADMIN}") == []
    assert isinstance(errors(harness)[0], Forbidden)


async def test_rate_limit_gives_retry_after(harness: BotHarness,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB >= 22.2 warns when RetryAfter.retry_after is read as int; opt in to timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    bot = harness.application.bot
    harness.server.rate_limit(7, count=1, chat_id=USER)
    await bot.send_message(ADMIN, "other chats are not limited")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "too fast")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    await bot.send_message(USER, "later")  # the rule was used up
    assert [m.text for m in harness.server.sent(USER)] == ["later"]


async def test_rate_limiter_retries_after_429(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    harness = await BotHarness.start(lambda url: build_echo_app(url, rate_limiter=True))
    try:
        siti = harness.chat(USER)
        harness.server.rate_limit(1, count=1)
        replies = await siti.send("halo")
        assert [m.text for m in replies] == ["Kamu menulis: halo"]
        assert harness.server.calls["sendMessage"] == 2
    finally:
        await harness.stop()


async def test_enforced_limits(harness: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    bot = harness.application.bot
    harness.server.enforce_limits(per_second_overall=3, per_chat_per_second=1)
    await bot.send_message(USER, "1")
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "2")
    await bot.send_message(ADMIN, "3")
    await bot.send_message(ADMIN + 1, "4")
    with pytest.raises(RetryAfter):  # overall limit
        await bot.send_message(ADMIN + 2, "5")
    harness.server.disable_limits()
    await bot.send_message(USER, "6")


async def test_redelivered_update_keeps_its_id(harness: BotHarness) -> None:
    siti = harness.chat(USER)
    await siti.send("halo")
    [update_id] = harness.application.bot_data["seen"]
    assert harness.server.redeliver(update_id) == update_id
    await harness.settle(update_id)
    assert harness.application.bot_data["seen"] == [update_id, update_id]
    assert siti.texts() == ["Kamu menulis: halo", "Kamu menulis: halo"]
    # Later updates still flow normally.
    await siti.send("baru")
    assert harness.application.bot_data["seen"][-1] == update_id + 1


async def test_restart_hands_pending_updates_to_the_new_app(harness: BotHarness) -> None:
    siti = harness.chat(USER)
    await siti.send("sebelum")
    old_app = harness.application
    await harness.restart()
    assert harness.application is not old_app and not old_app.running
    await siti.send("sesudah")
    assert siti.texts() == ["Kamu menulis: sebelum", "Kamu menulis: sesudah"]
    # An update queued while the bot is down is handled after the restart, exactly once.
    await stop_only(harness)
    update_id = harness.server.send_text(USER, "saat mati")
    await harness.restart()
    await harness.settle(update_id)
    assert siti.last_text() == "Kamu menulis: saat mati"
    assert harness.application.bot_data["seen"] == [update_id]


async def stop_only(harness: BotHarness) -> None:
    app, harness.app = harness.app, None
    assert app is not None
    await stop_application(app)


async def test_stop_leaves_no_tasks() -> None:
    harness = await BotHarness.start(build_echo_app)
    await harness.chat(USER).send("halo")
    await harness.stop()
    await harness.stop()  # idempotent
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leftover == []


async def test_raw_update_with_an_old_id_is_still_delivered(harness: BotHarness) -> None:
    siti = harness.chat(USER, first_name="Siti")
    await siti.send("satu")
    [first_id] = harness.application.bot_data["seen"]
    raw = {
        "update_id": first_id,
        "message": {
            "message_id": 99, "date": 0, "text": "mentah",
            "chat": {"id": USER, "type": "private", "first_name": "Siti"},
            "from": {"id": USER, "is_bot": False, "first_name": "Siti"},
        },
    }
    assert harness.server.send_raw_update(raw) == first_id
    await harness.settle(first_id)
    assert siti.last_text() == "Kamu menulis: mentah"
    assert harness.server.send_raw_update({"message": raw["message"]}) == first_id + 1
