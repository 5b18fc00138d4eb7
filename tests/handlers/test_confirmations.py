"""A typed answer's confirmation rides on the bot's next message (issue 15: one message, one Bot
API call, instead of two), and is never lost when no text message follows."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

from bot.telegram.context import BotContext
from handlers.common import confirm
from tests.handlers.visit_walks import MENTOR, mentor_with_group, to_amounts


async def test_a_typed_amount_and_the_next_question_are_one_message(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_amounts(chat)
    [reply] = await chat.send("1,5 jt")
    assert reply.text.startswith("✓ Rp 1.500.000\n\n")
    assert "keuntungan" in reply.text.lower()


async def _confirm_only(update: Update, context: BotContext) -> None:
    await confirm(update, "✓ hanya ini")
    raise ApplicationHandlerStop


async def _confirm_then_location(update: Update, context: BotContext) -> None:
    await confirm(update, "✓ lalu peta")
    assert update.effective_chat is not None
    await update.effective_chat.send_location(-6.9, 106.8)
    raise ApplicationHandlerStop


async def test_a_confirmation_with_no_text_after_it_still_arrives_in_order(bot):
    handlers = [MessageHandler(filters.Regex("^uji saja$"), _confirm_only),
                MessageHandler(filters.Regex("^uji peta$"), _confirm_then_location)]
    bot.application.add_handlers(handlers, group=-3)
    try:
        chat = bot.chat(MENTOR)
        # Nothing follows: sent on its own when the update ends.
        assert [(m.kind, m.text) for m in await chat.send("uji saja")] == [
            ("text", "✓ hanya ini")]
        # A location follows: the confirmation goes first, on its own.
        assert [(m.kind, m.text) for m in await chat.send("uji peta")] == [
            ("text", "✓ lalu peta"), ("location", None)]
    finally:
        for handler in handlers:
            bot.application.remove_handler(handler, group=-3)
