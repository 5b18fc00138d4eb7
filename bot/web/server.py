"""The dashboard's web server, in the bot's own process: the Mini App's files, the one-time
link's sign-in, /api/me and the data API (bot.web.api), behind bot.web.auth's check.

It serves at "/" on PENDAMPING_DASHBOARD_LISTEN:PENDAMPING_DASHBOARD_PORT (127.0.0.1:8081); a
reverse proxy maps PENDAMPING_DASHBOARD_URL (https, which Telegram needs for a Mini App) to it,
at the root of its own host or under a prefix (README: Deployment). Every address the server
gives out is relative ("./" after the sign-in), so a prefix needs nothing here.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import mimetypes
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from telegram.ext import Application

from bot.core import clock
from bot.core.enums import Role
from bot.core.periods import Preset, preset
from bot.core.places import default_index
from bot.core.settings import Settings
from bot.core.texts import t, vocabulary_words
from bot.problems import SetupProblem, port_problem
from bot.web import APPLICATION, actor, api, lang
from bot.web.auth import api_auth, may_use, set_session_cookie
from models import dashboard_links
from models import mentors as mentor_queries

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Types worth compressing; images and fonts are compressed already.
_COMPRESSIBLE = re.compile(r"^(text/|application/(javascript|json|xml)|image/svg)")
_TEMPLATE = re.compile(r"\{[^}]*\}")


def content_security_policy(settings: Settings) -> str:
    """Scripts, styles and data from this server only; pictures also from the map's tile host
    (a "{s}" subdomain becomes "*"); framed only by Telegram's web clients (a phone's Telegram
    opens the page in a web view, not a frame). Styles may be inline: the map library sets
    them on its elements."""
    tiles = urlsplit(settings.dashboard_tiles_url)
    tile_host = (f" {tiles.scheme}://{_TEMPLATE.sub('*', tiles.netloc)}"
                 if tiles.scheme in ("http", "https") and tiles.netloc else "")
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{tile_host}; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'self' https://web.telegram.org")


@dataclass
class _File:
    mtime_ns: int
    body: bytes
    etag: str
    content_type: str
    gzipped: bytes | None = None


class StaticFiles:
    """The page's files from one folder, kept in memory once read (the whole page is a few
    hundred KB), each with an ETag and, for text, a gzipped copy made on first request."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._files: dict[Path, _File] = {}

    def _find(self, name: str) -> _File | None:
        if any(part.startswith(".") for part in name.split("/")):
            return None
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        mtime = path.stat().st_mtime_ns
        cached = self._files.get(path)
        if cached is None or cached.mtime_ns != mtime:  # a new release's file
            body = path.read_bytes()
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind == "application/javascript":
                kind += "; charset=utf-8"
            cached = _File(mtime, body, f'"{hashlib.sha256(body).hexdigest()[:20]}"', kind)
            self._files[path] = cached
        return cached

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("path") or "index.html"
        found = self._find(name)
        if found is None:
            raise web.HTTPNotFound()
        # The page itself is checked every time (a new release shows at once); its parts
        # are kept an hour.
        headers = {"ETag": found.etag, "Vary": "Accept-Encoding",
                   "Cache-Control": "no-cache" if name.endswith(".html")
                   else "public, max-age=3600"}
        if request.headers.get("If-None-Match") == found.etag:
            return web.Response(status=304, headers=headers)
        body = found.body
        if ("gzip" in request.headers.get("Accept-Encoding", "")
                and _COMPRESSIBLE.match(found.content_type) and len(body) > 512):
            if found.gzipped is None:
                found.gzipped = gzip.compress(body, compresslevel=6, mtime=0)
            body = found.gzipped
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers,
                            content_type=found.content_type.split(";")[0],
                            charset="utf-8" if "charset" in found.content_type else None)


def _refused_page(settings: Settings) -> web.Response:
    """The one-time link was forged, used or expired: a short page in both languages."""
    paragraphs = "".join(f"<p lang=\"{code}\">{html.escape(t(code, 'dash.link_refused'))}</p>"
                         for code in ("id", "en"))
    page = ("<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(t(settings.language, 'dash.title'))}</title></head>"
            f"<body>{paragraphs}</body></html>")
    return web.Response(status=403, text=page, content_type="text/html",
                        headers={"Cache-Control": "no-store"})


async def sign_in(request: web.Request) -> web.StreamResponse:
    """GET /masuk?t=<token>: the one-time link. Its first use sets the session cookie and goes
    on to the page; a forged, used or expired one (or a user no longer staff) is refused."""
    services = request.app[APPLICATION].bot_data
    async with services.sessionmaker() as session:
        mentor_id = await dashboard_links.redeem(session=session,
                                                 token=request.query.get("t", ""),
                                                 now=clock.now())
        mentor = (await mentor_queries.get(session=session, mentor_id=mentor_id)
                  if mentor_id is not None else None)
    if not may_use(mentor):
        return _refused_page(services.settings)
    response = web.Response(status=302, headers={"Location": "./", "Cache-Control": "no-store"})
    set_session_cookie(response, mentor.telegram_id, now=clock.now(),
                       secure=services.settings.dashboard_url.startswith("https://"))
    return response


async def me(request: web.Request) -> web.Response:
    """GET /api/me (API.md): who is signed in, their area, the periods and the map's
    settings."""
    services = request.app[APPLICATION].bot_data
    mentor, language = actor(request), lang(request)
    places = services.places or default_index()
    place = places.get(mentor.area_code) if mentor.area_code else None
    area = (None if mentor.role == Role.ADMIN or place is None
            else {"code": place.code, "name": place.label.split(", ")[0]})
    today = clock.today_for(mentor.area_code)
    settings = services.settings
    return web.json_response({
        "name": mentor.name, "role": mentor.role, "lang": language, "area": area,
        "periods": [{"key": str(which), "label": preset(which, today).label(language)}
                    for which in Preset],
        "tiles_url": settings.dashboard_tiles_url, "far_km": settings.visit_far_km,
        "words": vocabulary_words(language)})


def build_web_app(application: Application, *, extra_routes: Iterable[web.RouteDef] = (),
                  static_dir: Path = STATIC_DIR) -> web.Application:
    """The dashboard's aiohttp application for the bot ``application``: its sign-in, /api/me,
    ``extra_routes`` (bot.web.api's) and the page's files, behind the checks of bot.web.auth
    and with the security headers on every answer."""
    app = web.Application(middlewares=[api_auth], client_max_size=64 * 1024)
    app[APPLICATION] = application
    app[api.PHOTOS] = api.PhotoCache()
    policy = content_security_policy(application.bot_data.settings)

    async def secure_headers(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")

    app.on_response_prepare.append(secure_headers)
    app.router.add_get("/masuk", sign_in)
    app.router.add_get("/api/me", me)
    app.router.add_routes(list(extra_routes))
    files = StaticFiles(static_dir)
    app.router.add_get("/", files.handle)
    app.router.add_get("/{path:(?!api/).+}", files.handle)
    return app


@dataclass
class DashboardServer:
    """The running server and the address it answers on this machine."""

    runner: web.AppRunner
    local_url: str

    async def stop(self) -> None:
        await self.runner.cleanup()


def _shown_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


async def start_dashboard(application: Application, *, host: str | None = None,
                          port: int | None = None,
                          extra_routes: Iterable[web.RouteDef] | None = None,
                          static_dir: Path = STATIC_DIR) -> DashboardServer:
    """Starts the dashboard for ``application`` on ``host``:``port`` (by default the
    settings'; port 0 here: any free port, for the tests) and notes where it answers in the
    bot's services (/dasbor's link). Raises SetupProblem when the port cannot be used."""
    services = application.bot_data
    settings = services.settings
    host = settings.dashboard_listen if host is None else host
    port = settings.dashboard_port if port is None else port
    app = build_web_app(application, static_dir=static_dir,
                        extra_routes=api.routes() if extra_routes is None else extra_routes)
    # No access log: a one-time link's request line carries its token.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise SetupProblem(port_problem(exc, port, "PENDAMPING_DASHBOARD_PORT (0 turns it off)")
                           or f"The dashboard cannot start on {host}:{port}: {exc}") from None
    bound = runner.addresses[0][1]
    server = DashboardServer(runner, f"http://{_shown_host(host)}:{bound}")
    services.dashboard = server
    services.dashboard_local_url = server.local_url
    return server


async def stop_dashboard(application: Application) -> None:
    """Stops the dashboard of ``application`` if it runs."""
    services = application.bot_data
    server, services.dashboard = services.dashboard, None
    services.dashboard_local_url = None
    if server is not None:
        await server.stop()


def free_port(host: str, preferred: int) -> int:
    """``preferred`` if it can be listened on, else a port the system has free (the demo:
    a second demo, or the bot, may hold 8081)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, preferred))
        except OSError:
            probe.bind((host, 0))
        return probe.getsockname()[1]
