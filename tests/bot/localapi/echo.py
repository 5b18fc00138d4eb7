"""A tiny real PTB Application (an echo bot) that the local Bot API server's tests drive."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
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


def errors(harness: BotHarness) -> list[Exception]:
    return harness.application.bot_data["errors"]


async def post(server: LocalBotApi, method: str, **data: Any) -> tuple[int, dict[str, Any]]:
    url = f"{server.base_url}42:token/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, data=data) as response:
        return response.status, await response.json()

