"""Screenshots of the dashboard for the README: the overview (desktop width) and a group's
page (a phone's width), written to docs/ as PNG. Uses Debian's chromium through Playwright.

Run against a real bot, with the one-time link `/dasbor` gave (or a Telegram-style address
with #tgWebAppData=…):
    .venv/bin/python web/screenshots.py --url 'https://…/masuk?t=…' [--group 17]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def base_of(url: str) -> str:
    """The page's own address: the one-time link and the fragment dropped."""
    url = url.split("#", 1)[0]
    return url.split("masuk?", 1)[0] if "masuk?" in url else url


def shoot(url: str, group: int | None, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    overview, group_page = out / "dashboard-overview.png", out / "dashboard-group.png"
    base = base_of(url)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="id-ID")
        context.set_default_timeout(15000)
        page = context.new_page()
        # Signs in (the one-time link sets the session cookie; a Telegram address carries
        # tgWebAppData, which the page keeps for the tab), then lands on the overview.
        page.goto(url)
        page.locator(".tile").first.wait_for()
        page.screenshot(path=overview, full_page=True)

        if group is None:
            page.goto(base + "#/kelompok")
            row = page.locator("table.groups tbody tr").first
            row.wait_for()
            group = int(row.get_attribute("data-id"))
        page.set_viewport_size({"width": 412, "height": 915})
        page.goto(f"{base}#/kelompok/{group}")
        page.locator("article.group").wait_for()
        # Photos load as they scroll into sight: pass over the page once.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_load_state("networkidle")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=group_page, full_page=True)
        browser.close()
    return [overview, group_page]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the one-time link /dasbor gave, or a Telegram-style address")
    parser.add_argument("--group", type=int, help="the group to photograph (default: the table's first)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    for path in shoot(args.url, args.group, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
