"""The dashboard's data endpoints (API.md): written on the branch dash-data; until it is
merged, none (this file is replaced by that branch's)."""

from __future__ import annotations

from aiohttp import web


def routes() -> list[web.RouteDef]:
    """The data API's routes, added by bot.web.server behind bot.web.auth's check."""
    return []
