"""The dashboard's server (bot.web) for a test: the real Application's services (settings,
database) behind aiohttp's test client, or the whole bot serving it over HTTP on a seeded
database (``site``), and initData signed as Telegram signs it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_application
from bot.core import clock
from bot.core.settings import Settings
from bot.web.server import build_web_app, start_dashboard, stop_dashboard
from tests.harness import BotHarness
from tests.models.test_dashboard import Seed, seed

TOKEN = "123456:TEST-TOKEN"  # the settings fixture's


def signed_init_data(user_id: int, *, at: datetime, token: str = TOKEN) -> str:
    """A Mini App's initData for ``user_id`` as Telegram makes it (core.telegram.org/bots/
    webapps, "Validating data"): url-encoded fields and the hash of the decoded ones."""
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "auth_date": str(int(at.timestamp())),
              "user": json.dumps({"id": user_id, "first_name": "Budi", "language_code": "id"},
                                 separators=(",", ":")),
              "signature": "c2lnbmVkIGZvciB0aGlyZCBwYXJ0aWVz"}
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@pytest.fixture
async def client(settings: Settings, tmp_path) -> AsyncIterator[TestClient]:
    """A client of the dashboard's server, its page a small index.html in ``tmp_path``."""
    (tmp_path / "index.html").write_text("<!doctype html><title>Dasbor</title>"
                                         + "<p>peta</p>" * 200, encoding="utf-8")
    application = build_application(settings)
    client = TestClient(TestServer(build_web_app(application, static_dir=tmp_path)))
    await client.start_server()
    yield client
    await client.close()
    await application.bot_data.engine.dispose()


@dataclass(frozen=True)
class Site:
    """The dashboard of a real bot (tests/harness.py), on a database seeded as
    tests/models/test_dashboard.seed says, its photos uploaded to the local Bot API server."""

    base_url: str  # ends with "/"
    init_data: str  # a valid tgWebAppData for Kab. Sukabumi's coordinator
    data: Seed

    def telegram_url(self, route: str = "") -> str:
        """The address Telegram opens: the page, tgWebAppData in its fragment."""
        return (f"{self.base_url}#{route}{'?' if route else ''}"
                f"tgWebAppData={quote(self.init_data, safe='')}&tgWebAppVersion=8.0")


@pytest.fixture
async def site(bot: BotHarness, session) -> AsyncIterator[Site]:
    """The dashboard served over real HTTP by the bot's own process, as in production."""
    data = await seed(session)
    for file_id in ("PHOTO-0", "PHOTO-1"):  # the seeded visit's photos, as a mentor sent them
        bot.server.send_photo(data.ani.telegram_id, file_id=file_id)
    server = await start_dashboard(bot.application, host="127.0.0.1", port=0)
    try:
        yield Site(server.local_url + "/", signed_init_data(data.coordinator.telegram_id,
                                                            at=clock.now()), data)
    finally:
        await stop_dashboard(bot.application)
