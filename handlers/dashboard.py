"""/dasbor: the coordinator's dashboard (bot.web), as a Telegram Mini App and as a one-time
link for a browser outside Telegram.

Not in the command menu: that menu is everyone's (bot.app.MENU_COMMANDS), and a mentor would
find a command that only refuses them. Coordinators and admins read /dasbor in /bantuan's
coordinator menu, and once they have used it, the chat's menu button opens the Mini App
itself (set here rather than at their approval: it needs the public https address, and a
coordinator appointed before the dashboard was switched on gets it just the same).
"""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler

from bot.core import clock
from bot.telegram.context import BotContext
from handlers.common import STAFF_ROLES, guard, say
from models import dashboard_links

log = logging.getLogger(__name__)


def public_url(context: BotContext) -> str | None:
    """Where the dashboard is opened: PENDAMPING_DASHBOARD_URL, else the address the server
    answers on this machine (the demo, a laptop); None while it is off."""
    if context.services.dashboard_local_url is None:
        return None
    return (context.settings.dashboard_url or context.services.dashboard_local_url).rstrip("/")


@guard()
async def dashboard(update: Update, context: BotContext) -> None:
    """Gives a coordinator or admin the dashboard: a Mini App button (with https) and a
    one-time link; a mentor hears it is for coordinators."""
    mentor = context.mentor
    if mentor.role not in STAFF_ROLES:
        await say(update, context.t("dash.only_staff"))
        return
    base = public_url(context)
    if base is None:
        await say(update, context.t("dash.off"))
        return
    minutes = context.settings.dashboard_link_minutes
    token = await dashboard_links.issue(session=context.session, mentor_id=mentor.id,
                                        now=clock.now(), minutes=minutes)
    link = f"{base}/masuk?t={token}"
    if not base.startswith("https://"):  # Telegram opens a Mini App only from https
        await say(update, context.t("dash.link_only", minutes=minutes, link=link))
        return
    app = WebAppInfo(url=f"{base}/")
    await say(update, context.t("dash.open", minutes=minutes, link=link),
              reply_markup=InlineKeyboardMarkup(
                  [[InlineKeyboardButton(context.t("dash.btn.open"), web_app=app)]]))
    try:
        await context.bot.set_chat_menu_button(
            chat_id=update.effective_chat.id,
            menu_button=MenuButtonWebApp(context.t("dash.menu_button"), app))
    except TelegramError as exc:  # the button above opens it all the same
        log.info("the dashboard's menu button was not set: %s", type(exc).__name__)


def handlers() -> list[BaseHandler]:
    """/dasbor (and /dashboard), new for each Application."""
    return [CommandHandler(["dasbor", "dashboard"], dashboard)]
