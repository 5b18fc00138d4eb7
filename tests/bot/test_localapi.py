"""LocalBotApi and the test harness, driving a tiny real PTB Application (an echo bot)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, EndPointNotFound, Forbidden, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.localapi import LocalBotApi
from tests.harness import BotHarness

USER = 700001
ADMIN = 900001
REPORT_BYTES = b"wilayah;kelompok\nBandung;3\n" + bytes(range(256)) * 40


# ---------------------------------------------------------------------------------------------
# The echo bot
# ---------------------------------------------------------------------------------------------


def build_echo_app(
    base_url: str, *, admin_id: int | None = ADMIN, rate_limiter: bool = False
) -> Application:
    """A tiny bot exercising what the real bot uses: commands, buttons, keyboards, files."""
    builder = ApplicationBuilder().token("123456:TEST-TOKEN").base_url(base_url)
    builder = builder.base_file_url(base_url.replace("/bot", "/file/bot"))
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=1))
    app = builder.post_init(_post_init).build()
    app.bot_data.update(errors=[], seen=[], admin_id=admin_id)
    app.add_handler(TypeHandler(Update, _remember), group=-1)
    app.add_handlers([
        CommandHandler("start", _start),
        CommandHandler("kontak", _ask_contact),
        CommandHandler("laporan", _report),
        CommandHandler("kirim", _send_to),
        CallbackQueryHandler(_button),
        MessageHandler(filters.CONTACT, _contact),
        MessageHandler(filters.LOCATION, _location),
        MessageHandler(filters.PHOTO, _photo),
        MessageHandler(filters.Document.ALL, _document),
        MessageHandler(filters.Sticker.ALL, _sticker),
        MessageHandler(filters.TEXT & ~filters.COMMAND, _echo),
    ])
    app.add_error_handler(_on_error)
    return app


async def _post_init(app: Application) -> None:
    await app.bot.set_my_commands([BotCommand("start", "Mulai"), BotCommand("kontak", "Nomor HP")])
    await app.bot.set_my_commands([BotCommand("start", "Start"), BotCommand("kontak", "Phone")],
                                  language_code="en")


async def _remember(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data["seen"].append(update.update_id)


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    code = context.args[0] if context.args else "-"
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton("Setujui", callback_data="approve"),
         InlineKeyboardButton("Tolak", callback_data="reject")],
        [InlineKeyboardButton("Sama saja", callback_data="same")],
    ])
    await update.message.reply_text(f"Halo <b>{update.effective_user.first_name}</b>! Kode: {code}",
                                    parse_mode="HTML", reply_markup=keyboard)
    admin_id = context.bot_data["admin_id"]
    if admin_id:
        await context.bot.send_message(admin_id, f"Permintaan persetujuan dari "
                                                 f"{update.effective_user.first_name}")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query.data == "same":
        await query.answer()
        # Deliberately unchanged: the server must answer "message is not modified".
        await query.edit_message_text(query.message.text, entities=query.message.entities,
                                      reply_markup=query.message.reply_markup)
        return
    if query.data not in ("approve", "reject"):
        await query.answer("Tombol tidak dikenal", show_alert=True)
        return
    await query.answer("Disetujui" if query.data == "approve" else "Ditolak")
    await query.edit_message_text("Disetujui ✅" if query.data == "approve" else "Ditolak ❌")


async def _ask_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Bagikan nomor HP", request_contact=True)],
                                    ["Batal"]], resize_keyboard=True, one_time_keyboard=True)
    await update.message.reply_text("Tekan tombol untuk membagikan nomor.", reply_markup=keyboard)


async def _contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    contact = update.message.contact
    own = contact.user_id == update.effective_user.id
    await update.message.reply_text(
        f"Nomor diterima: {contact.phone_number} (milik sendiri: {own})",
        reply_markup=ReplyKeyboardRemove(),
    )


async def _location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    location = update.message.location
    await update.message.reply_text(f"Lokasi: {location.latitude}, {location.longitude}")
    await update.message.reply_location(location.latitude, location.longitude)


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    file = await update.message.photo[-1].get_file()
    content = await file.download_as_bytearray()
    await update.message.reply_text(f"Foto diterima: {len(content)} byte, "
                                    f"{len(update.message.photo)} ukuran")


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    document = update.message.document
    content = await (await document.get_file()).download_as_bytearray()
    await update.message.reply_text(f"Dokumen diterima: {document.file_name} ({len(content)} byte)")


async def _sticker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text("Stiker tidak bisa dibaca.")


async def _report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_document(InputFile(io.BytesIO(REPORT_BYTES), filename="laporan.csv"),
                                        caption="Laporan <i>bulanan</i>", parse_mode="HTML")


async def _send_to(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot.send_message(int(context.args[0]), "Pesan titipan")
    await update.message.reply_text("Terkirim")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(f"Kamu menulis: {update.message.text}")


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data["errors"].append(context.error)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture
async def harness() -> AsyncIterator[BotHarness]:
    harness = await BotHarness.start(build_echo_app)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as server:
        yield server


def errors(harness: BotHarness) -> list[Exception]:
    return harness.application.bot_data["errors"]


async def post(server: LocalBotApi, method: str, **data: Any) -> tuple[int, dict[str, Any]]:
    url = f"{server.base_url}42:token/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, data=data) as response:
        return response.status, await response.json()


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
# Conversation features
# ---------------------------------------------------------------------------------------------


async def test_start_deep_link_buttons_and_edit(harness: BotHarness) -> None:
    siti = harness.chat(USER, first_name="Siti")
    admin = harness.chat(ADMIN, first_name="Admin")
    replies = await siti.send("/start KODE123")
    assert [m.text for m in replies] == ["Halo Siti! Kode: KODE123"]
    greeting = replies[0]
    assert greeting.raw_text == "Halo <b>Siti</b>! Kode: KODE123"
    assert greeting.entities == [{"type": "bold", "offset": 5, "length": 4}]
    assert siti.buttons() == ["Setujui", "Tolak", "Sama saja"]
    assert admin.texts() == ["Permintaan persetujuan dari Siti"]

    replies = await siti.press("Setuj")  # a unique prefix is enough
    assert replies == [greeting]
    assert greeting.text == "Disetujui ✅" and greeting.reply_markup is None
    assert [old.text for old in greeting.edits] == ["Halo Siti! Kode: KODE123"]
    assert [(a.text, a.show_alert) for a in siti.callback_answers()] == [("Disetujui", False)]
    assert siti.texts() == ["Disetujui ✅"]
    assert harness.server.calls["editMessageText"] == 1


async def test_edit_not_modified_and_missing_message(harness: BotHarness) -> None:
    siti = harness.chat(USER)
    await siti.send("/start")
    replies = await siti.press("Sama saja")
    assert replies == []
    [error] = errors(harness)
    assert isinstance(error, BadRequest) and "Message is not modified" in error.message
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await harness.application.bot.edit_message_text("x", chat_id=USER, message_id=999)


async def test_press_reports_available_buttons(harness: BotHarness) -> None:
    siti = harness.chat(USER)
    await siti.send("/start")
    with pytest.raises(AssertionError, match=r"no button 'Hapus'.*'Setujui', 'Tolak', 'Sama saja'"):
        await siti.press("Hapus")
    with pytest.raises(LookupError):
        harness.server.press_button(USER, siti.last().message_id, "forged")


async def test_forged_callback_data_reaches_the_bot(harness: BotHarness) -> None:
    siti = harness.chat(USER)
    await siti.send("/start")
    await siti.press_data("delete_everything")
    assert [(a.text, a.show_alert) for a in siti.callback_answers()] == [
        ("Tombol tidak dikenal", True)]


async def test_contact_location_photo_document_sticker(harness: BotHarness) -> None:
    siti = harness.chat(USER, first_name="Siti", phone_number="+6281234567890")
    await siti.send("/kontak")
    assert siti.reply_keyboard() == [["Bagikan nomor HP"], ["Batal"]]
    markup = harness.server.reply_keyboard_markup(USER)
    assert markup is not None and markup["keyboard"][0][0]["request_contact"] is True

    replies = await siti.share_contact()
    assert [m.text for m in replies] == ["Nomor diterima: +6281234567890 (milik sendiri: True)"]
    assert siti.reply_keyboard() is None

    replies = await siti.share_location(-6.91, 107.61)
    assert [m.kind for m in replies] == ["text", "location"]
    assert replies[0].text == "Lokasi: -6.91, 107.61"
    assert (replies[1].latitude, replies[1].longitude) == (-6.91, 107.61)

    [reply] = await siti.send_photo()
    assert reply.text is not None and reply.text.startswith("Foto diterima: ")
    assert reply.text.endswith("byte, 3 ukuran") and not reply.text.startswith("Foto diterima: 0 ")

    [reply] = await siti.send_document("anggota.xlsx", b"PK\x03\x04isi")
    assert reply.text == "Dokumen diterima: anggota.xlsx (7 byte)"

    [reply] = await siti.send_sticker()
    assert reply.text == "Stiker tidak bisa dibaca."
    assert errors(harness) == []


async def test_multipart_send_document_is_recorded(harness: BotHarness) -> None:
    siti = harness.chat(USER)
    [report] = await siti.send("/laporan")
    assert report.kind == "document"
    assert report.document_name == "laporan.csv"
    assert report.document_bytes == REPORT_BYTES
    assert report.caption == "Laporan bulanan" and report.text is None
    # The file id the bot got back can be downloaded again through getFile.
    bot = harness.application.bot
    assert report.file_id is not None
    downloaded = await (await bot.get_file(report.file_id)).download_as_bytearray()
    assert bytes(downloaded) == REPORT_BYTES


async def test_set_my_commands_per_language(harness: BotHarness) -> None:
    server = harness.server
    assert [c["description"] for c in server.commands()] == ["Mulai", "Nomor HP"]
    assert [c["description"] for c in server.commands("en")] == ["Start", "Phone"]
    bot = harness.application.bot
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == [
        "Start", "Phone"]
    await bot.delete_my_commands(language_code="en")
    assert server.commands("en") == [] and len(server.commands()) == 2
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


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
    from bot.localapi import stop_application

    app, harness.app = harness.app, None
    assert app is not None
    await stop_application(app)


async def test_markup_errors_like_telegram(harness: BotHarness) -> None:
    bot = harness.application.bot
    with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag \"siti\""):
        await bot.send_message(USER, "Halo <Siti>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="reserved and must be escaped"):
        await bot.send_message(USER, "Selesai.", parse_mode="MarkdownV2")
    sent = await bot.send_message(USER, "*Tebal* dan \\.", parse_mode="MarkdownV2")
    assert sent.text == "Tebal dan ." and sent.entities[0].type == "bold"
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER, "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("a", callback_data="d" * 65)]]))


async def test_listener_and_delete(harness: BotHarness) -> None:
    seen: list[tuple[str | None, int, bool]] = []
    harness.server.on_sent(
        lambda m: seen.append((m.text, len(m.edits), m.deleted)) if m.chat_id == USER else None)
    siti = harness.chat(USER)
    [greeting] = await siti.send("/start")
    await siti.press("Tolak")
    await harness.application.bot.delete_message(USER, greeting.message_id)
    assert seen == [("Halo Siti! Kode: -", 0, False), ("Ditolak ❌", 1, False),
                    ("Ditolak ❌", 1, True)]
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await harness.application.bot.delete_message(USER, greeting.message_id)


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
