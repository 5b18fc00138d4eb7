"""The dashboard's first load: the bytes of index.html and of every script and stylesheet it
names (the vendored Leaflet and uPlot included), uncompressed, against the 300 KB budget of
issue 16. Images and photos load later, on demand, and are not counted.

Run: .venv/bin/python bench/dashboard_weight.py   (exit status 1 over the budget)
"""

from __future__ import annotations

import gzip
import sys
from html.parser import HTMLParser
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "bot" / "web" / "static"
BUDGET = 300 * 1000


class Loads(HTMLParser):
    """Collects what the page fetches before it can draw: scripts and stylesheets."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and named.get("src"):
            self.paths.append(named["src"])
        elif tag == "link" and "stylesheet" in (named.get("rel") or "").split():
            self.paths.append(named["href"])


def first_load() -> list[tuple[str, bytes]]:
    index = STATIC / "index.html"
    parser = Loads()
    parser.feed(index.read_text(encoding="utf-8"))
    files = [("index.html", index.read_bytes())]
    for path in parser.paths:
        if "//" in path:
            raise SystemExit(f"index.html loads {path} from elsewhere: everything ships in the package")
        files.append((path, (STATIC / path).read_bytes()))
    return files


def main() -> int:
    files = first_load()
    total = sum(len(body) for _, body in files)
    # What a proxy that compresses would send, for comparison only: the budget is uncompressed.
    zipped = sum(len(gzip.compress(body, 9)) for _, body in files)
    for path, body in files:
        print(f"{len(body):>9,}  {path}")
    print(f"{total:>9,}  total, uncompressed (budget {BUDGET:,}: {total / BUDGET:.0%})")
    print(f"{zipped:>9,}  total, gzip -9")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
