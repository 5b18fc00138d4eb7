"""The dashboard in a real browser: Debian's chromium driven by Playwright (never
`playwright install`: .ci/run installs chromium with apt-get). One browser for the test session;
each test opens a fresh context (its own cookies and storage).

Only `start_dashboard` knows which server answers: today the canned one in
tests/web/fake_api.py, later bot/web/server.py on a database filled through tests/factories.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install .[test])")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# A cheap Android phone's screen.
PHONE = {"width": 360, "height": 740}


@dataclass(frozen=True)
class Dashboard:
    base_url: str  # ends with "/"
    init_data: str  # a valid tgWebAppData for a coordinator, as Telegram would pass it
    group_with_visits: int  # a group in the coordinator's area that has visits

    def telegram_url(self, route: str = "") -> str:
        """The address Telegram opens: the page, tgWebAppData in its fragment."""
        return (f"{self.base_url}#{route}{'?' if route else ''}"
                f"tgWebAppData={quote(self.init_data, safe='')}&tgWebAppVersion=8.0")

    def api(self, page, path: str) -> dict:
        """What the API answers the page's credentials (the expected counts)."""
        response = page.request.get(self.base_url + path,
                                    headers={"X-Telegram-Init-Data": self.init_data})
        assert response.ok, (path, response.status)
        return json.loads(response.body())


@contextmanager
def start_dashboard() -> Iterator[Dashboard]:
    """Starts the server the browser talks to; the one part that changes with the real one."""
    from tests.web import fake_api

    with fake_api.serving() as base_url:
        yield Dashboard(base_url, fake_api.INIT_DATA, fake_api.GROUP_WITH_VISITS)


@pytest.fixture(scope="session")
def dashboard() -> Iterator[Dashboard]:
    with start_dashboard() as site:
        yield site


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, dashboard: Dashboard) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, locale="id-ID")
    context.set_default_timeout(5000)
    # Nothing leaves the machine: the map's tiles fail, as they do on a closed network, and
    # the page must still show its markers.
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith(dashboard.base_url) else route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def test_map_markers_and_table_rows(page, dashboard: Dashboard) -> None:
    theme = json.dumps({"bg_color": "#1c1c1d", "text_color": "#f5f5f5"})
    page.goto(dashboard.telegram_url() + "&tgWebAppThemeParams=" + quote(theme, safe=""))
    sync_api.expect(page.locator(".tile").first).to_be_visible()
    assert "tgWebAppData" not in page.url  # the fragment is the page's route again
    # Telegram's colours, not the page's own.
    sync_api.expect(page.locator("header.top")).to_have_css("background-color", "rgb(28, 28, 29)")
    groups = dashboard.api(page, "api/groups")["groups"]
    placed = [g for g in groups if g["place"]]
    assert placed and len(placed) < len(groups)  # the data has both kinds

    page.get_by_role("link", name="Peta").click()
    sync_api.expect(page.locator("path.marker")).to_have_count(len(placed))
    for visit in ("on_time", "due", "overdue"):
        expected = sum(g["visit"] == visit for g in placed)
        sync_api.expect(page.locator(f"path.marker-{visit}")).to_have_count(expected)
    sync_api.expect(page.locator(".unplaced li")).to_have_count(len(groups) - len(placed))

    page.get_by_role("link", name="Kelompok", exact=True).click()
    sync_api.expect(page.locator("table.groups tbody tr")).to_have_count(len(groups))


def test_filter_by_kecamatan_narrows_the_rows(page, dashboard: Dashboard) -> None:
    page.goto(dashboard.telegram_url("/kelompok"))
    rows = page.locator("table.groups tbody tr")
    total = len(dashboard.api(page, "api/groups")["groups"])
    sync_api.expect(rows).to_have_count(total)
    district = dashboard.api(page, "api/groups")["filters"]["districts"][0]
    expected = len(dashboard.api(page, f"api/groups?district={district['code']}")["groups"])
    assert 0 < expected < total

    page.locator("details.filters-box summary").click()  # folded on a phone's screen
    page.locator("select[name=district]").select_option(district["code"])
    sync_api.expect(rows).to_have_count(expected)
    sync_api.expect(page.locator(f"td[data-district='{district['code']}']")).to_have_count(expected)
    assert f"district={district['code']}" in page.url  # the filter survives a reload


def test_a_group_page_shows_its_visits(page, dashboard: Dashboard) -> None:
    group = dashboard.api(page, f"api/groups/{dashboard.group_with_visits}")
    page.goto(dashboard.telegram_url("/kelompok"))
    page.locator(f"tr[data-id='{dashboard.group_with_visits}']").click()

    sync_api.expect(page.locator("h1", has_text=group["group"]["name"])).to_be_visible()
    visits = page.locator("li.visit")
    sync_api.expect(visits).to_have_count(len(group["visits"]))
    # The check is stated as a fact on each visit, newest first.
    for index, visit in enumerate(group["visits"]):
        sync_api.expect(visits.nth(index).locator(f".check-{visit['check']}")).to_be_visible()
    photo = page.locator("li.visit img.photo").first
    photo.scroll_into_view_if_needed()
    # Fetched with the page's credentials once in sight, then decoded.
    photo.element_handle().wait_for_element_state("visible")
    page.wait_for_function("img => img.currentSrc && img.complete && img.naturalWidth > 0",
                           arg=photo.element_handle())


def test_without_credentials_the_page_says_to_open_it_from_the_bot(page, dashboard) -> None:
    page.goto(dashboard.base_url)
    sync_api.expect(page.get_by_role("alert")).to_contain_text("Buka dasbor dari bot (/dasbor)")
