"""/dasbor through the real Application: a coordinator's one-time link opens the running
dashboard, with https also the Mini App button and the chat's menu button; a mentor is told it
is for coordinators."""

from __future__ import annotations

import re
import socket
from http.cookies import Morsel
from urllib.parse import urlsplit

import aiohttp

from bot.app import build_application
from bot.core.enums import Role
from bot.web.server import free_port, start_dashboard
from tests.factories import REGENCY_SUKABUMI, make_mentor
from tests.harness import BotHarness

COORDINATOR = 800001
LINK = re.compile(r"(\S+/masuk\?t=\S+)")


async def _coordinator(bot, session):
    await make_mentor(session, telegram_id=COORDINATOR, name="Budi Hartono",
                      area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    return bot.chat(COORDINATOR, "Budi")


async def _signs_in(local_url: str, link: str) -> tuple[dict, Morsel]:
    """Opens the link against the running server as a browser would, then asks /api/me: its
    answer, and the cookie the link set."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        parts = urlsplit(link)
        async with browser.get(f"{local_url}{parts.path}?{parts.query}",
                               allow_redirects=False) as answer:
            assert answer.status == 302, await answer.text()
            cookie = answer.cookies["pk_session"]
        # Sent by hand: a browser sends a Secure cookie over https, the proxy's side.
        async with browser.get(f"{local_url}/api/me",
                               cookies={"pk_session": cookie.value}) as answer:
            assert answer.status == 200
            return await answer.json(), cookie


async def test_a_coordinator_gets_a_link_that_opens_the_dashboard(bot, session):
    budi = await _coordinator(bot, session)
    off = await budi.send("/dasbor")
    assert "belum dinyalakan" in off[0].text
    server = await start_dashboard(bot.application, host="127.0.0.1", port=0)
    replies = await budi.send("/dasbor")
    assert len(replies) == 1 and "sekali, berlaku 15 menit" in replies[0].text
    assert not replies[0].inline_buttons  # http: no Mini App, the link only
    link = LINK.search(replies[0].text).group(1)
    assert link.startswith(f"{server.local_url}/masuk?t=")
    me, cookie = await _signs_in(server.local_url, link)
    assert me["name"] == "Budi Hartono" and not cookie["secure"]
    assert COORDINATOR not in bot.server.menu_buttons


async def test_with_https_the_mini_app_button_and_the_menu_button(bot, session, settings):
    budi = await _coordinator(bot, session)
    settings.dashboard_url = "https://kube.example.go.id/dasbor/"
    server = await start_dashboard(bot.application, host="127.0.0.1", port=0)
    reply = (await budi.send("/dasbor"))[0]
    app = {"url": "https://kube.example.go.id/dasbor/"}
    assert reply.inline_buttons == [{"text": "📊 Buka dasbor", "web_app": app}]
    assert bot.server.menu_buttons[COORDINATOR] == {"type": "web_app", "text": "Dasbor",
                                                     "web_app": app}
    link = LINK.search(reply.text).group(1)
    assert link.startswith("https://kube.example.go.id/dasbor/masuk?t=")
    # The proxy takes /dasbor/ away; the server behind it answers the rest.
    local_link = link.replace("https://kube.example.go.id/dasbor", "")
    me, cookie = await _signs_in(server.local_url, local_link)
    assert me["role"] == "coordinator" and cookie["secure"]


async def test_a_mentor_hears_it_is_for_coordinators(bot, session):
    await make_mentor(session, telegram_id=700001, role=Role.MENTOR)
    await start_dashboard(bot.application, host="127.0.0.1", port=0)
    replies = await bot.chat(700001).send("/dasbor")
    assert "untuk koordinator dan admin" in replies[0].text
    assert "masuk?t=" not in replies[0].text


async def test_the_bot_starts_and_stops_its_dashboard_and_serves_on_without_it(
        settings, session, caplog):
    """post_init starts the dashboard on PENDAMPING_DASHBOARD_PORT and post_shutdown frees the
    port; a port already taken leaves the bot serving, with the dashboard off and said why."""
    port = free_port("127.0.0.1", 0)
    settings.dashboard_port = port
    harness = await BotHarness.start(lambda url: build_application(settings, base_url=url))
    taken = socket.socket()

    async def take_the_port() -> None:  # free again after the stop, so it can be bound
        taken.bind(("127.0.0.1", port))
        taken.listen()

    try:
        budi = await _coordinator(harness, session)
        link = LINK.search((await budi.send("/dasbor"))[0].text).group(1)
        assert link.startswith(f"http://127.0.0.1:{port}/masuk?t=")
        await harness.restart(meanwhile=take_the_port)
        replies = await budi.send("/dasbor")
    finally:
        taken.close()
        await harness.stop()
    assert "belum dinyalakan" in replies[0].text
    assert f"Port {port} is already in use" in caplog.text
