"""Help, language, the command menu, unknown input and the one error handler."""

from __future__ import annotations

import logging

from models import groups as group_queries
from tests.conftest import ADMIN_ID
from tests.factories import make_mentor

MENTOR = 700301


async def test_command_menu_is_registered_in_both_languages(bot):
    indonesian = {c["command"]: c["description"] for c in bot.server.commands()}
    english = {c["command"]: c["description"] for c in bot.server.commands("en")}
    assert indonesian["kunjungan"] == "Catat kunjungan"
    assert english["kunjungan"] == "Record a visit"
    assert set(indonesian) == set(english) >= {"kelompok", "tambah_kelompok", "riwayat",
                                               "bantuan", "bahasa", "batal", "start"}


async def test_help_and_language_switch(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await chat.send("/bantuan")
    assert "/tambah_kelompok" in chat.last_text() and "/undang" not in chat.last_text()
    await chat.send("/bahasa")
    await chat.send("english")  # typed at a picker outside any conversation: press a button
    assert "tekan salah satunya" in chat.last_text()
    await session.refresh(mentor)
    assert mentor.language == "id"
    await chat.press("English")
    assert chat.last_text() == "Language changed to English."
    await session.refresh(mentor)
    assert mentor.language == "en"
    await chat.send("/kelompok")
    assert "/tambah_kelompok" in chat.last_text() and "kelompok dampingan" not in chat.last_text()
    await chat.send("/bahasa")
    await chat.press("Bahasa Indonesia")
    assert chat.last_text() == "Bahasa diganti ke Bahasa Indonesia."


async def test_admin_help_shows_admin_commands(bot):
    admin = bot.chat(ADMIN_ID)
    await admin.send("/bantuan")
    assert "/undang" in admin.last_text()


async def test_unknown_command_text_and_sticker_outside_a_conversation(bot, session):
    await make_mentor(session, telegram_id=MENTOR)
    chat = bot.chat(MENTOR)
    await chat.send("/terbang")
    assert "tidak saya kenal" in chat.last_text()
    await chat.send("halo")
    assert "/bantuan" in chat.last_text()
    await chat.send_sticker()
    assert "/bantuan" in chat.last_text()
    await chat.press_data("nonsense:123")
    assert chat.callback_answers()[-1].text == "Tombol ini sudah tidak berlaku."


async def test_unexpected_error_gets_an_apology_not_a_traceback(bot, session, monkeypatch, caplog):
    await make_mentor(session, telegram_id=MENTOR)

    async def broken(**_kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr(group_queries, "list_for_mentor", broken)
    chat = bot.chat(MENTOR)
    admin = bot.chat(ADMIN_ID)
    with caplog.at_level(logging.ERROR):
        await chat.send("/kelompok")
    assert chat.last_text().startswith("Maaf, ada gangguan")
    assert "Traceback" not in chat.last_text() and "exploded" not in chat.last_text()
    assert "RuntimeError" in admin.last_text()
    assert any("error while handling an update" in r.getMessage() for r in caplog.records)
