"""Signing in to the dashboard: a Mini App's initData, a one-time link and its cookie, and the
database's say on every /api/ request (API.md: Signing in)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.enums import MentorStatus, Role
from models import dashboard_links
from tests.conftest import NOW
from tests.factories import REGENCY_SUKABUMI, make_mentor
from tests.web.conftest import signed_init_data

COORDINATOR = 800001


@pytest.fixture
async def coordinator(session):
    return await make_mentor(session, telegram_id=COORDINATOR, name="Budi Hartono",
                             area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)


async def me(client, init_data: str | None = None, **kwargs):
    headers = {"X-Telegram-Init-Data": init_data} if init_data is not None else {}
    return await client.get("/api/me", headers=headers, **kwargs)


async def test_valid_init_data_shows_who_is_signed_in(client, coordinator):
    answer = await me(client, signed_init_data(COORDINATOR, at=NOW - timedelta(minutes=59)))
    assert answer.status == 200
    body = await answer.json()
    assert body["name"] == "Budi Hartono" and body["role"] == "coordinator"
    assert body["lang"] == "id"
    assert body["area"] == {"code": "32.02", "name": "Kab. Sukabumi"}
    assert body["periods"][0] == {"key": "bulan_ini", "label": "November 2026"}
    assert body["far_km"] == 2.0 and "{z}" in body["tiles_url"]
    # The chat's own words for the codes the API sends.
    assert body["words"]["stage.mandiri"] == "Maju/Mandiri"
    assert body["words"]["affiliation.tksk"].startswith("TKSK (Tenaga Kesejahteraan")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "https://tile.openstreetmap.org" in policy
    assert "frame-ancestors 'self' https://web.telegram.org" in policy


@pytest.mark.parametrize("case", ["forged", "other bot", "stale", "future", "none", "garbage"])
async def test_init_data_that_is_not_telegrams_or_too_old_is_refused(client, coordinator, case):
    fresh = signed_init_data(COORDINATOR, at=NOW)
    init_data = {
        "forged": fresh.replace("hash=", "hash=0", 1)[:-1],
        "other bot": signed_init_data(COORDINATOR, at=NOW, token="654321:OTHER"),
        "stale": signed_init_data(COORDINATOR, at=NOW - timedelta(seconds=3601)),
        "future": signed_init_data(COORDINATOR, at=NOW + timedelta(minutes=2)),
        "none": None,
        "garbage": "user=%7B%22id%22%3A800001%7D&auth_date=1&hash=&hash=x",
    }[case]
    answer = await me(client, init_data)
    assert answer.status == 401
    assert await answer.json() == {"error": "unauthorized"}


async def test_only_active_coordinators_and_admins_get_in(client, session, coordinator):
    mentor = await make_mentor(session, telegram_id=700002, role=Role.MENTOR)
    answer = await me(client, signed_init_data(mentor.telegram_id, at=NOW))
    assert (answer.status, await answer.json()) == (403, {"error": "forbidden"})
    stranger = await me(client, signed_init_data(123, at=NOW))
    assert stranger.status == 403
    # Checked in the database on every request: deactivated a minute ago is out now.
    coordinator.status = MentorStatus.INACTIVE
    await session.commit()
    assert (await me(client, signed_init_data(COORDINATOR, at=NOW))).status == 403


async def _link(session, coordinator, *, issued_at=NOW) -> str:
    token = await dashboard_links.issue(session=session, mentor_id=coordinator.id,
                                        now=issued_at, minutes=15)
    return f"/masuk?t={token}"


async def test_a_one_time_link_signs_in_once(client, session, coordinator):
    link = await _link(session, coordinator)
    first = await client.get(link, allow_redirects=False)
    assert first.status == 302 and first.headers["Location"] == "./"
    cookie = first.cookies["pk_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["max-age"] == str(8 * 3600) and not cookie["secure"]  # http: the demo
    assert not cookie["path"]  # the folder of the link: a proxy's /dasbor/ prefix keeps it
    answer = await me(client)  # the test client keeps the cookie
    assert answer.status == 200 and (await answer.json())["name"] == "Budi Hartono"
    client.session.cookie_jar.clear()
    again = await client.get(link, allow_redirects=False)
    assert again.status == 403 and "pk_session" not in again.cookies
    assert "sudah dipakai atau kedaluwarsa" in await again.text()
    assert "/dasbor" in await again.text()


async def test_an_expired_or_forged_link_and_a_forged_cookie_are_refused(client, session,
                                                                         coordinator):
    expired = await _link(session, coordinator, issued_at=NOW - timedelta(minutes=15))
    assert (await client.get(expired, allow_redirects=False)).status == 403
    link = await _link(session, coordinator)
    link_id, expiry, _signature = link.removeprefix("/masuk?t=").split(".")
    later = f"/masuk?t={link_id}.{int(expiry) + 3600}.{_signature}"
    assert (await client.get(later, allow_redirects=False)).status == 403
    # The untouched link still works: a forged copy did not spend it.
    assert (await client.get(link, allow_redirects=False)).status == 302
    value = client.session.cookie_jar.filter_cookies(client.make_url("/"))["pk_session"].value
    telegram_id, expiry, signature = value.split(".")
    client.session.cookie_jar.clear()
    forged = f"{telegram_id}.{int(expiry) + 86400}.{signature}"
    assert (await me(client, cookies={"pk_session": forged})).status == 401
    assert (await me(client, cookies={"pk_session": value})).status == 200


async def test_a_link_opened_twice_at_once_lets_in_one_browser(client, session, coordinator):
    link = await _link(session, coordinator)
    answers = await asyncio.gather(*(client.get(link, allow_redirects=False)
                                     for _ in range(2)))
    assert sorted(answer.status for answer in answers) == [302, 403]


async def test_the_page_its_cache_headers_and_api_errors(client, coordinator):
    page = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.status == 200 and "peta" in await page.text()
    assert page.headers["Content-Encoding"] == "gzip"
    assert page.headers["Cache-Control"] == "no-cache"
    again = await client.get("/", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status == 304
    assert (await client.get("/../conftest.py")).status == 404
    assert (await client.get("/%2e%2e/conftest.py")).status == 404
    unknown = await client.get("/api/nothing", headers={
        "X-Telegram-Init-Data": signed_init_data(COORDINATOR, at=NOW)})
    assert (unknown.status, await unknown.json()) == (404, {"error": "not_found"})
