"""/bantuan (help), /bahasa (language) and the catch-alls for unknown commands and old buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core.enums import MentorStatus, Role
from bot.telegram.context import BotContext
from handlers.common import close_buttons, keyboard, say, with_session
from models import mentors as mentor_queries

PREFIX = "lang"


def menu_text(context: BotContext) -> str:
    """The command menu for the current user's role."""
    text = context.t("help.menu")
    mentor = context.mentor
    if mentor is not None and mentor.role in (Role.COORDINATOR, Role.ADMIN):
        text = f"{text}\n\n{context.t('help.coord_menu')}"
    if mentor is not None and mentor.role == Role.ADMIN:
        text = f"{text}\n\n{context.t('help.admin_menu')}"
    return text


@with_session
async def show_help(update: Update, context: BotContext) -> None:
    """Shows the menu, or for a stranger how to sign up."""
    mentor = context.mentor
    if mentor is None:
        await say(update, context.t("help.stranger"))
    elif mentor.status != MentorStatus.ACTIVE:
        await say(update, context.t("guard.pending" if mentor.status == MentorStatus.PENDING
                                    else "guard.inactive"))
    else:
        await say(update, menu_text(context))


async def choose_language(update: Update, context: BotContext) -> None:
    """Offers Indonesian and English."""
    await say(update, context.t("lang.choose"),
              reply_markup=keyboard([[("Bahasa Indonesia", f"{PREFIX}:id"),
                                      ("English", f"{PREFIX}:en")]]))


@with_session
async def set_language(update: Update, context: BotContext) -> None:
    """Stores the language (on the user's record when they have one) and confirms in it."""
    query = update.callback_query
    lang = query.data.split(":", 1)[1]
    context.user_data["lang"] = lang
    if context.mentor is not None:
        await mentor_queries.set_language(session=context.session, mentor=context.mentor,
                                          language=lang)
    await close_buttons(query)
    await say(update, context.t("lang.set"))


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/batal with no conversation going on: say so, rather than "unknown command"."""
    await say(update, context.t("common.nothing_to_cancel"))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not know."""
    await say(update, context.t("common.unknown_command"))


async def stray_message(update: Update, context: BotContext) -> None:
    """Text outside any conversation (often typed at a picker that is not one: /bahasa, Ubah
    jadwal, Catat keluar): point to the buttons, then to the menu."""
    await say(update, context.t("common.use_menu"))


async def old_button(update: Update, context: BotContext) -> None:
    """A button whose conversation is over (an old message): say so instead of silence."""
    await update.callback_query.answer(context.t("common.old_button"), show_alert=True)


def handlers() -> list[BaseHandler]:
    """/bantuan, /batal outside a conversation, /bahasa, new for each Application."""
    return [
        CommandHandler(["bantuan", "help"], show_help),
        # Conversations take /batal first (bot.app adds them earlier); this answers the rest.
        CommandHandler(["batal", "cancel"], nothing_to_cancel),
        CommandHandler(["bahasa", "language"], choose_language),
        CallbackQueryHandler(set_language, pattern=rf"^{PREFIX}:(id|en)$"),
    ]


def catch_all() -> list[BaseHandler]:
    """Added last of all (bot.app): they answer whatever nothing else took."""
    return [
        MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, unknown_command),
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, stray_message),
        CallbackQueryHandler(old_button),
    ]
