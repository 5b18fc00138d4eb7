"""How a send to Telegram fails, through the real PTB Bot and HTTP stack against the local Bot
API server's injected faults: what is tried again, and what may have arrived and is never sent
again (bot.telegram.transport)."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.core.settings import Settings
from bot.localapi import Faults, LocalBotApi
from bot.telegram import transport
from bot.telegram.transport import maybe_delivered, telegram_request, worth_retrying

CHAT = 730001


@pytest.fixture
async def server():
    server = LocalBotApi(faults=Faults(timeout_seconds=1.5))
    await server.start()
    server.user(CHAT, first_name="Siti")
    yield server
    await server.stop()


@pytest.fixture
async def bot(server, monkeypatch):
    monkeypatch.setattr(transport, "SERVER_ERROR_PAUSE_SECONDS", 0.01)
    settings = Settings(_env_file=None, telegram_timeout_seconds=0.5)
    bot = Bot("123456:TRANSPORT", base_url=server.base_url,
              request=telegram_request(settings, pool_size=4))
    async with bot:
        yield bot


async def failure(bot: Bot, text: str) -> Exception:
    with pytest.raises(NetworkError) as raised:
        await bot.send_message(CHAT, text)
    return raised.value


async def test_a_5xx_is_tried_again_and_the_message_arrives_once(server, bot):
    server.fail_next("error_5xx", method="sendMessage", count=2)
    await bot.send_message(CHAT, "Halo")
    assert server.fault_counts["error_5xx"] == 2
    assert server.calls["sendMessage"] == 3
    assert [m.text for m in server.sent(CHAT)] == ["Halo"]


async def test_5xx_after_every_try_is_worth_retrying_later(server, bot):
    server.fail_next("error_5xx", method="sendMessage", count=3)
    error = await failure(bot, "Halo")
    assert server.calls["sendMessage"] == 1 + transport.SERVER_ERROR_RETRIES
    assert server.sent(CHAT) == []
    assert worth_retrying(error) and not maybe_delivered(error)


async def test_a_timeout_may_have_arrived_and_is_never_sent_again(server, bot):
    server.fail_next("timeout", method="sendMessage")
    error = await failure(bot, "Halo")
    assert isinstance(error, TimedOut)
    assert maybe_delivered(error) and not worth_retrying(error)
    # It did arrive: the server did the work before holding the answer back.
    assert [m.text for m in server.sent(CHAT)] == ["Halo"]
    assert server.calls["sendMessage"] == 1


async def test_a_dropped_answer_may_have_arrived(server, bot):
    server.fail_next("drop", method="sendMessage")
    error = await failure(bot, "Halo")
    assert maybe_delivered(error) and not worth_retrying(error)
    assert [m.text for m in server.sent(CHAT)] == ["Halo"]
    assert server.calls["sendMessage"] == 1


async def test_a_request_that_never_left_is_worth_retrying(server, bot):
    await server.stop()  # nobody listens: the connection is refused
    # One loop turn lets the client see the server close its idle connection, as it would
    # after any pause; a request written into a connection closing under it may have arrived.
    await asyncio.sleep(0)
    error = await failure(bot, "Halo")
    assert worth_retrying(error) and not maybe_delivered(error)


async def test_a_slow_answer_within_the_timeout_is_just_slow(server, bot):
    server.set_faults(Faults(slow=1.0, slow_seconds=0.1, methods=frozenset({"sendmessage"})))
    await bot.send_message(CHAT, "Halo")
    assert server.fault_counts["slow"] == 1
    assert [m.text for m in server.sent(CHAT)] == ["Halo"]


async def test_fail_next_refuses_an_unknown_kind(server):
    with pytest.raises(ValueError, match="unknown fault"):
        server.fail_next("meteor")


async def test_uploads_go_as_multipart_with_their_names_and_bytes(server, bot):
    pdf = b"%PDF-1.4 laporan"
    await bot.send_document(CHAT, pdf, filename="Laporan Mei – Siti.pdf", caption="Laporan")
    await bot.send_photo(CHAT, b"\xff\xd8\xff foto", caption="Foto kunjungan")
    document, photo = server.sent(CHAT)
    assert (document.kind, document.document_name, document.document_bytes, document.caption) \
        == ("document", "Laporan Mei – Siti.pdf", pdf, "Laporan")
    assert (photo.kind, photo.document_bytes, photo.caption) \
        == ("photo", b"\xff\xd8\xff foto", "Foto kunjungan")


async def test_no_free_connection_in_the_pool_never_left(server):
    server.set_faults(Faults(slow=1.0, slow_seconds=0.3, methods=frozenset({"sendmessage"})))
    request = transport.TelegramRequest(connection_pool_size=1, pool_timeout=0.05,
                                        connect_timeout=0.05)
    async with Bot("123456:TRANSPORT", base_url=server.base_url, request=request) as bot:
        slow = asyncio.create_task(bot.send_message(CHAT, "Lama"))
        while not server.calls.get("sendMessage"):  # the one connection is busy with it
            await asyncio.sleep(0.01)
        error = await failure(bot, "Halo")
        await slow
    assert isinstance(error, TimedOut)
    assert worth_retrying(error) and not maybe_delivered(error)
    assert [m.text for m in server.sent(CHAT)] == ["Lama"]
