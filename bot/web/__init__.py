"""The coordinator's dashboard: a Telegram Mini App and its JSON API (API.md), served by the
bot's own process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from telegram.ext import Application

    from models.tables import Mentor

# The bot's Application (its bot_data is bot.telegram.context.Services: settings,
# sessionmaker), set on the aiohttp app by bot.web.server.
APPLICATION: web.AppKey[Application] = web.AppKey("application")
# What bot.web.auth's middleware checked, for the request's handlers.
ACTOR: web.RequestKey[Mentor] = web.RequestKey("actor")
LANG: web.RequestKey[str] = web.RequestKey("lang")


def actor(request: web.Request) -> Mentor:
    """The signed-in coordinator or admin, checked against the database for this request by
    bot.web.auth's middleware (never taken from the page)."""
    return request[ACTOR]


def lang(request: web.Request) -> str:
    """The language the user chose in the bot (/bahasa), "id" or "en"."""
    return request.get(LANG, "id")
