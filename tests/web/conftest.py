"""The dashboard's server (bot.web) for a test: the real Application's services (settings,
database) behind aiohttp's test client, and initData signed as Telegram signs it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_application
from bot.core.settings import Settings
from bot.web.server import build_web_app

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
