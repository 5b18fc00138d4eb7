"""The dashboard's API (bot.web.api) as the page reaches it: the bot's own server over HTTP,
signed in with Telegram's initData. Bad input is 400, another regency's ids are 404 like
made-up ones, and a photo comes from Telegram once, then from memory."""

from __future__ import annotations

import aiohttp

from bot.web import api
from tests.web.conftest import Site


async def _get(site: Site, http: aiohttp.ClientSession, path: str) -> aiohttp.ClientResponse:
    response = await http.get(site.base_url + path.lstrip("/"),
                              headers={"X-Telegram-Init-Data": site.init_data})
    await response.read()
    return response


async def test_bad_input_is_400_and_another_regencys_ids_are_404(site: Site) -> None:
    data = site.data
    async with aiohttp.ClientSession() as http:
        for path in ("api/overview?period=kemarin", "api/groups?visit=late",
                     "api/groups?mentor=abc"):
            response = await _get(site, http, path)
            assert (response.status, await response.json()) == (400, {"error": "bad_request"})
        overview = await (await _get(site, http, "api/overview?period=bulan_ini")).json()
        assert overview["period"] == {"key": "bulan_ini", "label": "November 2026",
                                      "start": "2026-11-01", "end": "2026-11-30"}
        assert overview["groups"]["total"] == 5
        # Cianjur's group and visit, asked by Sukabumi's coordinator: as if they did not exist.
        cianjur_visit = data.visits["X"][0].id
        for path in (f"api/groups/{data.groups['X'].id}", "api/groups/999999",
                     "api/groups/99999999999999999999", "api/groups/abc",
                     f"api/visits/{cianjur_visit}/photos/0"):
            response = await _get(site, http, path)
            assert (response.status, await response.json()) == (404, {"error": "not_found"}), path
        group = await (await _get(site, http, f"api/groups/{data.groups['A'].id}")).json()
        assert group["group"]["name"] == "KUBE A"
        table = await (await _get(site, http, "api/groups?district=32.02.12")).json()
        assert [g["name"] for g in table["groups"]] == ["KUBE D", "KUBE C"]
        assert table["total"] == 2


async def test_a_wide_area_sends_its_first_groups_and_how_many(site: Site, monkeypatch) -> None:
    monkeypatch.setattr(api, "GROUPS_SHOWN", 3)
    async with aiohttp.ClientSession() as http:
        table = await (await _get(site, http, "api/groups?sort=name&order=asc")).json()
    assert [g["name"] for g in table["groups"]] == ["KUBE A", "KUBE B", "KUBE C"]
    assert table["total"] == 5


async def test_a_photo_comes_from_telegram_once(site: Site, bot) -> None:
    path = f"api/visits/{site.data.visits['A'][0].id}/photos/1"
    async with aiohttp.ClientSession() as http:
        first = await _get(site, http, path)
        again = await _get(site, http, path)
        assert first.status == again.status == 200
        assert first.content_type == "image/jpeg"
        assert (await first.read())[:2] == b"\xff\xd8" and await first.read() == await again.read()
        assert bot.server.calls["getFile"] == 1
        assert (await _get(site, http, path[:-1] + "2")).status == 404
