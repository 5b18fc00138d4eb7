"""The dashboard's API handlers (bot.web.api) through aiohttp's test client, with the user set
by a stand-in for bot.web.auth's middleware: bad input is 400, another area's id is 404 like
a made-up one, and a photo is fetched once from Telegram."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web import APPLICATION, api
from models.db import create_engine, create_sessionmaker
from tests.models.test_dashboard import seed


class FakeBot:
    """Telegram's getFile and the download, counted."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def get_file(self, file_id: str) -> SimpleNamespace:
        self.asked.append(file_id)

        async def download_as_bytearray() -> bytearray:
            return bytearray(b"\xff\xd8JPEG " + file_id.encode())

        return SimpleNamespace(download_as_bytearray=download_as_bytearray)


@pytest.fixture
async def client(session, settings, db_url):
    """A client of the API for Sukabumi's coordinator, and what was seeded."""
    data = await seed(session)
    engine = create_engine(db_url)
    bot = FakeBot()

    @web.middleware
    async def signed_in(request: web.Request, handler):
        request["actor"], request["lang"] = data.coordinator, "en"
        return await handler(request)

    app = web.Application(middlewares=[signed_in])
    app[APPLICATION] = SimpleNamespace(  # type: ignore[assignment]
        bot=bot, bot_data=SimpleNamespace(sessionmaker=create_sessionmaker(engine),
                                          settings=settings))
    app.add_routes(api.routes())
    api.photos = api.PhotoCache()
    async with TestClient(TestServer(app)) as test_client:
        yield test_client, data, bot
    await engine.dispose()


async def test_bad_input_is_400_and_another_areas_ids_are_404(client):
    http, data, _ = client
    for path in ("/api/overview?period=kemarin", "/api/groups?visit=late",
                 "/api/groups?mentor=abc"):
        response = await http.get(path)
        assert (response.status, await response.json()) == (400, {"error": "bad_request"})
    response = await http.get("/api/overview?period=bulan_ini")
    overview = await response.json()
    assert response.status == 200
    assert overview["period"] == {"key": "bulan_ini", "label": "November 2026",
                                  "start": "2026-11-01", "end": "2026-11-30"}
    assert overview["groups"]["total"] == 5
    cianjur_visit = data.visits["X"][0].id
    for path in (f"/api/groups/{data.groups['X'].id}", "/api/groups/999999",
                 "/api/groups/99999999999999999999", "/api/groups/abc",
                 f"/api/visits/{cianjur_visit}/photos/0"):
        response = await http.get(path)
        assert (response.status, await response.json()) == (404, {"error": "not_found"}), path
    response = await http.get(f"/api/groups/{data.groups['A'].id}")
    assert response.status == 200 and (await response.json())["group"]["name"] == "KUBE A"
    names = [g["name"] for g in (await (await http.get("/api/groups?district=32.02.12"))
                                 .json())["groups"]]
    assert names == ["KUBE D", "KUBE C"]


async def test_a_photo_is_fetched_once_and_cached(client):
    http, data, bot = client
    path = f"/api/visits/{data.visits['A'][0].id}/photos/1"
    first, again = await http.get(path), await http.get(path)
    assert first.status == again.status == 200
    assert first.content_type == "image/jpeg"
    assert await again.read() == b"\xff\xd8JPEG PHOTO-1"
    assert bot.asked == ["PHOTO-1"]
    assert (await http.get(path[:-1] + "2")).status == 404
