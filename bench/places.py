"""Prints how fast the place index builds and searches (speed is measured here, not in tests).

Run: .venv/bin/python bench/places.py
"""

from __future__ import annotations

import statistics
import time

from bot.core.places import PlaceIndex


def main() -> None:
    started = time.perf_counter()
    index = PlaceIndex.from_csv_dir()
    print(f"build: {time.perf_counter() - started:.2f} s for {len(index)} areas")
    index.search("warmup", levels={2, 3})
    for label, query, levels, within in [
        ("districts+regencies", "cibadak", {2, 3}, None),
        ("districts+regencies (typo)", "sukabumu", {2, 3}, None),
        ("villages in a district", "sukamaju", {4}, "32.02.11"),
        ("villages in a regency", "sukamaju", {4}, "32.02"),
    ]:
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            index.search(query, levels=levels, within=within)
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{label:30s} median {statistics.median(timings):6.2f} ms  "
              f"max {max(timings):6.2f} ms")


if __name__ == "__main__":
    main()
