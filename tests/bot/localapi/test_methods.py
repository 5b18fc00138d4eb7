"""LocalBotApi's Bot API methods (bot.localapi.methods) and the users' side
(bot.localapi.users): buttons, edits, contacts, media, commands, markup, listeners."""

from __future__ import annotations

import pytest
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import BadRequest

from tests.bot.localapi.echo import ADMIN, REPORT_BYTES, USER, errors
from tests.harness import BotHarness

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


