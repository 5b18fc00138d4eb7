"""The dashboard's JSON API (bot/web/API.md): the overview, the table of groups, a group's page,
the mentors and a visit's photos. The user is checked by bot.web.auth's middleware before any
of these runs; each handler opens one database session, and every query restricts to the
user's area itself (models.dashboard), so an id from elsewhere answers 404 like a made-up one.
"""

from __future__ import annotations

import functools
import json
import logging
from collections import OrderedDict
from typing import Any

from aiohttp import web
from telegram.error import TelegramError

from bot.core import clock
from bot.core.periods import Preset, preset
from bot.web import APPLICATION, actor, lang
from models import dashboard
from models.reports import NotAllowed

log = logging.getLogger(__name__)

# Ids are database integers; a larger number is no row (and would overflow PostgreSQL's int).
MAX_ID = 2**31 - 1
_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def error(status: int, code: str) -> web.Response:
    """An error as API.md says: ``{"error": code}`` with its status."""
    return _json({"error": code}, status=status)


def _sessionmaker(request: web.Request) -> Any:
    return request.app[APPLICATION].bot_data.sessionmaker


def _far_km(request: web.Request) -> float:
    return request.app[APPLICATION].bot_data.settings.visit_far_km


def _id(text: str) -> int | None:
    """A positive id from the path, or None (not a number, or out of range)."""
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def _guarded(handler: Any) -> Any:
    """A coordinator without an area has nothing to supervise (as /rekap says in chat): 403."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotAllowed:
            return error(403, "forbidden")

    return wrapper


@_guarded
async def get_overview(request: web.Request) -> web.Response:
    """The area's overview for ?period= (a /rekap preset, this month by default)."""
    user = actor(request)
    key = request.query.get("period") or Preset.THIS_MONTH.value
    try:
        which = Preset(key)
    except ValueError:
        return error(400, "bad_request")
    period = preset(which, clock.today_for(user.area_code))
    async with _sessionmaker(request)() as session:
        data = await dashboard.overview(session=session, actor=user, period=period,
                                        now=clock.now(), far_km=_far_km(request))
    data["period"] = {"key": which.value, "label": period.label(lang(request)),
                      **data["period"]}
    return _json(data)


GROUPS_SHOWN = 2000


@_guarded
async def get_groups(request: web.Request) -> web.Response:
    """The area's groups, filtered and sorted by the query (API.md)."""
    try:
        filters = dashboard.GroupFilters.parse(request.query)
    except ValueError:
        return error(400, "bad_request")
    async with _sessionmaker(request)() as session:
        data = await dashboard.groups(session=session, actor=actor(request), now=clock.now(),
                                      far_km=_far_km(request), filters=filters)
    # A phone cannot draw a country's groups: the first of them in the asked order, and how
    # many there are, so the page asks for a filter (an admin's whole country is 100k).
    data["total"] = len(data["groups"])
    data["groups"] = data["groups"][:GROUPS_SHOWN]
    return _json(data)


@_guarded
async def get_group(request: web.Request) -> web.Response:
    """One group's page; its households' view is audited (models.dashboard.group_page)."""
    group_id = _id(request.match_info["id"])
    if group_id is None:
        return error(404, "not_found")
    async with _sessionmaker(request)() as session:
        data = await dashboard.group_page(session=session, actor=actor(request),
                                          group_id=group_id, now=clock.now(),
                                          far_km=_far_km(request))
    return error(404, "not_found") if data is None else _json(data)


@_guarded
async def get_mentors(request: web.Request) -> web.Response:
    """The area's mentors with their traffic lights."""
    async with _sessionmaker(request)() as session:
        data = await dashboard.mentors(session=session, actor=actor(request), now=clock.now())
    return _json(data)


class PhotoCache:
    """The last few photos fetched from Telegram, by file id: a coordinator paging through a
    group's visits asks for the same ones again, and Telegram is slow and far."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()

    def get(self, file_id: str) -> bytes | None:
        found = self._items.get(file_id)
        if found is not None:
            self._items.move_to_end(file_id)
        return found

    def put(self, file_id: str, content: bytes) -> None:
        self._items[file_id] = content
        self._items.move_to_end(file_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


# One cache per server (bot.web.server.build_web_app makes it).
PHOTOS: web.AppKey[PhotoCache] = web.AppKey("photos", PhotoCache)


async def get_photo(request: web.Request) -> web.Response:
    """A visit's photo (JPEG), if the user may see the visit's group; fetched by the bot."""
    visit_id = _id(request.match_info["visit_id"])
    n = request.match_info["n"]
    if visit_id is None or not n.isascii() or not n.isdigit() or len(n) > 3:
        return error(404, "not_found")
    async with _sessionmaker(request)() as session:
        file_id = await dashboard.photo_file_id(session=session, actor=actor(request),
                                                visit_id=visit_id, n=int(n))
    if file_id is None:
        return error(404, "not_found")
    photos = request.app[PHOTOS]
    content = photos.get(file_id)
    if content is None:
        try:
            file = await request.app[APPLICATION].bot.get_file(file_id)
            content = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            # The file may be gone from Telegram; the page shows the visit without it.
            log.warning("visit photo not fetched: %s", type(exc).__name__)
            return error(404, "not_found")
        photos.put(file_id, content)
    return web.Response(body=content, content_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400"})


def routes() -> list[web.RouteDef]:
    """The API's routes, for bot.web.server to add."""
    return [
        web.get("/api/overview", get_overview),
        web.get("/api/groups", get_groups),
        web.get("/api/groups/{id}", get_group),
        web.get("/api/mentors", get_mentors),
        web.get("/api/visits/{visit_id}/photos/{n}", get_photo),
    ]
