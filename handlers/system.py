"""Handlers that run around every update: drop empty presses, persist state, report errors."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.core.texts import t
from bot.telegram import confirmations
from bot.telegram.context import BotContext

log = logging.getLogger(__name__)

# Errors of a database that is busy or away (not of a wrong query): the update is tried again.
DB_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, ConnectionError,
                  TimeoutError)


async def drop_empty_button(update: Update, context: BotContext) -> None:
    """Answers a button press that carries no data (a forged or broken client) and stops it.

    python-telegram-bot lets such a press match every button handler, whatever its pattern.
    """
    query = update.callback_query
    if query is not None and not query.data:
        lang = context.user_data.get("lang") if context.user_data else None
        with contextlib.suppress(TelegramError):
            await query.answer(t(lang or context.settings.language, "common.old_button"),
                               show_alert=True)
        raise ApplicationHandlerStop


async def after_update(update: Update, context: BotContext) -> None:
    """Marks the update handled and writes conversation state and drafts to the database now."""
    application = context.application
    persistence = application.persistence
    user = update.effective_user
    try:
        if user is not None:
            # Nothing is awaited between the handler's end and here, so the user's new state
            # cannot have been taken by another update's write yet: the mark is held for the
            # batch that takes that state (or the user's data, handed over below), and the two
            # commit together. A crash can then leave neither or both, never a new state whose
            # answer would be handled again against it.
            persistence.hold_mark(user.id, update.update_id)
            application.mark_data_for_update_persistence(user_ids=user.id)
            await application.update_persistence()
            await persistence.release_marks(user.id)
        else:
            batch = persistence.note_handled(update.update_id)
            await application.update_persistence()
            await persistence.written(batch)
    except DB_UNAVAILABLE:
        # The update itself was handled; what is missing is bookkeeping, which the next write
        # (the next update, or the flush at the stop) takes with it.
        log.warning("could not mark update %s handled: database unavailable", update.update_id)


def is_db_unavailable(error: BaseException | None) -> bool:
    """A database that is locked, restarting or unreachable: worth trying again shortly."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, DB_UNAVAILABLE)


async def handle_again_later(update: Update, context: BotContext) -> bool:
    """Handles an update that failed on the database again, a little later; False when the
    tries are used up.

    It runs inside the user's turn (bot.telegram.processor), so the user's later messages wait and keep
    their order, while other users go on. The user hears once that the message arrived; nothing
    typed is lost. The conversation did not move on (PTB keeps the state when a callback
    fails), so the same answer meets the same question again.
    """
    settings = context.settings
    attempts = context.services.db_attempts
    attempt = attempts.get(update.update_id, 0)
    if attempt >= settings.db_retry_attempts:
        return False
    attempts[update.update_id] = attempt + 1
    # The run again says this run's confirmations ("✓ Rp 200.000") anew: not twice.
    confirmations.drop()
    if attempt == 0:
        lang = context.user_data.get("lang") if context.user_data else None
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        if update.effective_chat is not None:
            try:
                await update.effective_chat.send_message(
                    t(lang or settings.language, "common.db_busy"))
            except TelegramError:
                log.warning("could not tell the user to wait")
    delay = settings.db_retry_seconds * (2 ** attempt)
    log.warning("database unavailable for update %s; trying again in %.1f s (try %s of %s)",
                update.update_id, delay, attempt + 1, settings.db_retry_attempts)
    await asyncio.sleep(delay)
    try:
        await context.application.process_update(update)
    finally:
        if attempts.get(update.update_id) == attempt + 1:
            attempts.pop(update.update_id, None)
    return True


async def on_error(update: object, context: BotContext) -> None:
    """Logs first, then apologises to the user and tells the admins briefly. No traceback to users."""
    if isinstance(update, Update) and is_db_unavailable(context.error) \
            and await handle_again_later(update, context):
        # Handled again (successfully or not) in there: this failed run must stop here.
        raise ApplicationHandlerStop
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    context.services.db_attempts.pop(update.update_id, None)
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


def empty_buttons() -> list[BaseHandler]:
    """Before everything (group -2): button presses without data."""
    return [TypeHandler(Update, drop_empty_button)]


def last() -> list[BaseHandler]:
    """After the handlers (group 1): the state persisted."""
    return [TypeHandler(Update, after_update)]
