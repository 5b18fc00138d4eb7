"""The dashboard in a real browser: Debian's chromium driven by Playwright (never
`playwright install`: .ci/run installs chromium with apt-get), against the bot's own server on
a seeded database (tests/web/conftest.site). Playwright's async API shares the test's event
loop with the bot and the server, so a test is one coroutine like the others."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.web.conftest import Site

CHROMIUM = Path("/usr/bin/chromium")
# The page does not care which database answers: SQLite only (tests/web/test_api.py runs on both).
pytestmark = [pytest.mark.sqlite_only, pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)")]
async_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright for Python is not installed (pip install .[test])")
expect = async_api.expect

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# A cheap Android phone's screen.
PHONE = {"width": 360, "height": 740}


@pytest.fixture
async def page(site: Site) -> AsyncIterator[object]:
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = await browser.new_context(viewport=PHONE, locale="id-ID")
        context.set_default_timeout(5000)

        # Nothing leaves the machine: the map's tiles fail, as they do on a closed network,
        # and the page must still show its markers.
        async def local_only(route) -> None:
            if route.request.url.startswith(site.base_url):
                await route.continue_()
            else:
                await route.abort()

        await context.route("**/*", local_only)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        await browser.close()
    assert not errors, errors


async def fits(page, table: str) -> bool:
    """Whether ``table`` fits its scroll box's width (nothing to scroll sideways)."""
    return await page.locator(table).evaluate(
        "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")


async def api(page, site: Site, path: str) -> dict:
    """What the API answers the page's credentials (the expected counts)."""
    response = await page.request.get(site.base_url + path,
                                      headers={"X-Telegram-Init-Data": site.init_data})
    assert response.ok, (path, response.status)
    return json.loads(await response.body())


async def test_map_markers_table_rows_and_a_kecamatan_filter(page, site: Site) -> None:
    theme = json.dumps({"bg_color": "#1c1c1d", "text_color": "#f5f5f5"})
    await page.goto(site.telegram_url() + "&tgWebAppThemeParams=" + quote(theme, safe=""))
    await expect(page.locator(".tile").first).to_be_visible()
    assert "tgWebAppData" not in page.url  # the fragment is the page's route again
    # Telegram's colours, not the page's own.
    await expect(page.locator("header.top")).to_have_css("background-color", "rgb(28, 28, 29)")
    # On a phone the per-kecamatan table fits the screen: no sideways scrolling.
    await expect(page.locator("table.districts tbody tr")).to_have_count(2)
    assert await fits(page, "table.districts")
    groups = (await api(page, site, "api/groups"))["groups"]
    placed = [g for g in groups if g["place"]]
    assert placed and len(placed) < len(groups)  # the data has both kinds

    await page.get_by_role("link", name="Peta").click()
    await expect(page.locator("path.marker")).to_have_count(len(placed))
    for visit in ("on_time", "due", "overdue"):
        expected = sum(g["visit"] == visit for g in placed)
        await expect(page.locator(f"path.marker-{visit}")).to_have_count(expected)
    await expect(page.locator(".unplaced li")).to_have_count(len(groups) - len(placed))

    await page.get_by_role("link", name="Kelompok", exact=True).click()
    rows = page.locator("table.groups tbody tr")
    await expect(rows).to_have_count(len(groups))

    # Filtering by kecamatan narrows the rows (one browser start for both: each costs seconds).
    table = await api(page, site, "api/groups")
    district = next(d for d in table["filters"]["districts"] if d["code"] == "32.02.12")
    expected = len((await api(page, site, f"api/groups?district={district['code']}"))["groups"])
    assert 0 < expected < len(table["groups"])

    await page.locator("details.filters-box summary").click()  # folded on a phone's screen
    await page.locator("select[name=district]").select_option(district["code"])
    await expect(rows).to_have_count(expected)
    await expect(page.locator(f"td[data-district='{district['code']}']")).to_have_count(expected)
    assert f"district={district['code']}" in page.url  # the filter survives a reload


async def test_a_group_page_shows_its_visits_and_photos(page, site: Site) -> None:
    group_id = site.data.groups["A"].id
    group = await api(page, site, f"api/groups/{group_id}")
    await page.goto(site.telegram_url("/kelompok"))
    await page.locator(f"tr[data-id='{group_id}']").click()

    await expect(page.locator("h1", has_text=group["group"]["name"])).to_be_visible()
    visits = page.locator("li.visit")
    await expect(visits).to_have_count(len(group["visits"]))
    # The check is stated as a fact on each visit, newest first: none, far, ok.
    assert [v["check"] for v in group["visits"]] == ["none", "far", "ok"]
    for index, visit in enumerate(group["visits"]):
        await expect(visits.nth(index).locator(f".check-{visit['check']}")).to_be_visible()
    # The households, masked as in chat, each a small card on a phone.
    await expect(page.locator("body")).not_to_contain_text("3202114507800001")
    assert await fits(page, "table.households")
    photo = page.locator("li.visit img.photo").first
    await photo.scroll_into_view_if_needed()
    # Fetched with the page's credentials once in sight (from the local Bot API server).
    await page.wait_for_function("img => img.currentSrc && img.complete && img.naturalWidth > 0",
                                 arg=await photo.element_handle())

    # Without Telegram's initData (a fresh tab, no cookie) the page says where to open it.
    bare = await page.context.new_page()
    await bare.goto(site.base_url)
    await expect(bare.get_by_role("alert")).to_contain_text("Buka dasbor dari bot (/dasbor)")
