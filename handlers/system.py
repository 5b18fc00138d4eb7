"""Handlers that run around every update: drop redeliveries, persist state, report errors."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import BotContext
from bot.texts import t
from models import updates as update_queries

log = logging.getLogger(__name__)


async def drop_redelivered(update: Update, context: BotContext) -> None:
    """Stops an update Telegram delivers a second time (after a crash) before anything acts."""
    async with context.open_session() as session:
        seen = await update_queries.was_handled(session=session, update_id=update.update_id)
    if seen:
        log.info("dropping redelivered update %s", update.update_id)
        raise ApplicationHandlerStop


async def after_update(update: Update, context: BotContext) -> None:
    """Marks the update handled and writes conversation state and drafts to the database now."""
    async with context.open_session() as session:
        await update_queries.mark_handled(session=session, update_id=update.update_id)
    await context.application.update_persistence()


async def on_error(update: object, context: BotContext) -> None:
    """Logs first, then apologises to the user and tells the admins briefly. No traceback to users."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    # Whatever the user had typed so far is in the draft; persist it so nothing is lost.
    try:
        await context.application.update_persistence()
    except Exception:
        log.exception("could not persist after an error")
    lang = context.lang if context.user_data is not None else context.settings.language
    if update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(t(lang, "common.error"))
        except TelegramError:
            log.warning("could not send the apology")
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            pass
    error = html.escape(type(context.error).__name__)
    for admin_id in context.settings.admin_ids:
        try:
            await context.bot.send_message(
                admin_id, t(context.settings.language, "common.admin_error", error=error,
                            update_id=update.update_id)
            )
        except TelegramError:
            log.warning("could not notify an admin of the error")


FIRST = [TypeHandler(Update, drop_redelivered)]
LAST = [TypeHandler(Update, after_update)]
