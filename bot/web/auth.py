"""Who is asking: a Telegram Mini App's initData, or the session cookie a one-time link set;
then, on every /api/ request, the database says whether they may (API.md: Signing in).

Nothing here is ever logged: not initData, not a token, not a cookie (the server runs without
an access log, whose request lines would carry a link's token).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from aiohttp import web

from bot.core import clock
from bot.core.enums import MentorStatus, Role
from bot.core.settings import Settings
from bot.web import ACTOR, APPLICATION, LANG
from models import crypto
from models import mentors as mentor_queries
from models.tables import Mentor

log = logging.getLogger(__name__)

INIT_DATA_HEADER = "X-Telegram-Init-Data"
COOKIE = "pk_session"
SESSION_HOURS = 8
COOKIE_PURPOSE = "dashboard session"
# A phone's clock a little ahead of the server's is not a forgery.
FUTURE_SKEW = timedelta(minutes=1)
STAFF = frozenset({Role.COORDINATOR, Role.ADMIN})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, code: str) -> web.Response:
    """API.md's error answer: ``{"error": code}`` with the status."""
    return web.json_response({"error": code}, status=status,
                             headers={"Cache-Control": "no-store"})


# --- Telegram Mini App initData ------------------------------------------------------------

def init_data_user_id(init_data: str, *, bot_token: str, now: datetime,
                      max_age_seconds: int) -> int | None:
    """The Telegram user id initData was signed for, or None when it is not Telegram's (its
    hash), too old (``auth_date`` older than ``max_age_seconds``) or dated in the future.

    Telegram's rule (core.telegram.org/bots/webapps, "Validating data"): the secret is
    HMAC-SHA256 of the bot token with the key "WebAppData"; the hash is HMAC-SHA256, with that
    secret, of every other field as "key=value", sorted by key, joined by newlines.
    """
    if not init_data or len(init_data) > 8192 or not bot_token:
        return None
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a field twice: which one would the check have seen?
        return None
    received = fields.pop("hash", "")
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), received.encode("ascii", "replace")):
        return None
    try:
        signed_at = datetime.fromtimestamp(int(fields.get("auth_date", "")), now.tzinfo)
        user_id = json.loads(fields.get("user", ""))["id"]
    except (ValueError, TypeError, KeyError, OverflowError):
        return None
    if not now - timedelta(seconds=max_age_seconds) <= signed_at <= now + FUTURE_SKEW:
        return None
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None


# --- the session cookie ---------------------------------------------------------------------

def session_cookie(telegram_id: int, now: datetime) -> str:
    """The cookie's value for a user signed in by a one-time link: their Telegram id and its
    expiry (SESSION_HOURS), signed with a key derived from the data key."""
    expiry = int((now + timedelta(hours=SESSION_HOURS)).timestamp())
    message = f"{telegram_id}.{expiry}"
    return f"{message}.{crypto.keyring().sign(message, COOKIE_PURPOSE)}"


def cookie_user_id(value: str, now: datetime) -> int | None:
    """The Telegram id of a correctly signed, unexpired cookie value, else None."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    message = f"{parts[0]}.{parts[1]}"
    if not crypto.keyring().verify(message, COOKIE_PURPOSE, parts[2]):
        return None
    if int(parts[1]) <= now.timestamp():
        return None
    return int(parts[0])


def set_session_cookie(response: web.StreamResponse, telegram_id: int, *, now: datetime,
                       secure: bool) -> None:
    """Sets pk_session: HttpOnly (no script reads it), SameSite=Strict (no other site's page
    sends it), Secure behind https. No Path: the browser keeps it for the folder the link was
    opened in, so under a proxy's prefix (/dasbor/) it stays there."""
    # Set on the morsel: aiohttp's set_cookie always writes a Path.
    response.cookies[COOKIE] = session_cookie(telegram_id, now)
    morsel = response.cookies[COOKIE]
    morsel["max-age"] = str(SESSION_HOURS * 3600)
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    if secure:
        morsel["secure"] = True


# --- every /api/ request --------------------------------------------------------------------

def _user_id(request: web.Request, settings: Settings) -> int | None:
    now = clock.now()
    init_data = request.headers.get(INIT_DATA_HEADER)
    if init_data:
        return init_data_user_id(init_data, now=now,
                                 bot_token=settings.telegram_token.get_secret_value(),
                                 max_age_seconds=settings.dashboard_init_max_age_seconds)
    cookie = request.cookies.get(COOKIE)
    return cookie_user_id(cookie, now) if cookie else None


def may_use(mentor: Mentor | None) -> bool:
    """Whether this user may use the dashboard: an active coordinator or admin."""
    return (mentor is not None and mentor.status == MentorStatus.ACTIVE
            and mentor.role in STAFF)


@web.middleware
async def api_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Lets an /api/ request through only for an active coordinator or admin, read from the
    database now (a user demoted a minute ago is refused); sets request["actor"] and
    request["lang"] (bot.web.actor, bot.web.lang). 401 without valid credentials, 403 for
    anyone else. Answers an unknown /api/ address or a bad request as API.md's JSON."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    services = request.app[APPLICATION].bot_data
    telegram_id = _user_id(request, services.settings)
    if telegram_id is None:
        return error(401, "unauthorized")
    async with services.sessionmaker() as session:
        mentor = await mentor_queries.get_by_telegram_id(session=session,
                                                         telegram_id=telegram_id)
    if not may_use(mentor):
        return error(403, "forbidden")
    request[ACTOR] = mentor
    request[LANG] = mentor.language or services.settings.language
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        return error(404, "not_found")
    except web.HTTPBadRequest:
        return error(400, "bad_request")
    except web.HTTPMethodNotAllowed:
        return error(405, "bad_request")
    response.headers.setdefault("Cache-Control", "no-store")
    return response
