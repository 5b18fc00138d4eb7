"""Prints how fast the place index builds and searches (speed is measured here, not in tests).

CPU per search (time.process_time, so other processes on the machine do not count), each
search run cold: the index's answer cache, when it has one, is emptied before every run.
"work area" is what /start and /koordinator do with a typed area (PlaceIndex.search_work_area,
which also checks whether a village was typed). The last lines show how long the event loop
is held while searches run inline and while they run in asyncio.to_thread.

Run: .venv/bin/python bench/places.py
Compare with an older commit: git worktree add /tmp/old <commit>, then
PYTHONPATH=/tmp/old .venv/bin/python bench/places.py
"""

from __future__ import annotations

import asyncio
import statistics
import time

from bot.core.places import PlaceIndex

AREAS = {2, 3}
CASES = [
    # (label, query, levels, within, as a work area)
    ("work area, exact district", "Cibadak", AREAS, None, True),
    ("work area, regency", "Cianjur", AREAS, None, True),
    ("work area, regency with kab", "kab bandung", AREAS, None, True),
    ("work area, misspelt", "sukabumu", AREAS, None, True),
    ("work area, misspelt regency", "cianjr", AREAS, None, True),
    ("work area, a village typed", "warnajati", AREAS, None, True),
    ("village in a regency, exact", "sukamaju", {4}, "32.02", False),
    ("village in a regency, misspelt", "sukamju", {4}, "32.02", False),
    ("village in a district, misspelt", "warnajti", {4}, "32.02.11", False),
    ("village anywhere, misspelt", "warnajatti", {4}, None, False),
]
RUNS = 15


def _uncached(index: PlaceIndex) -> None:
    cache = getattr(index, "_cached_search", None)
    if cache is not None:
        cache.cache_clear()


def _run(index: PlaceIndex, query: str, levels: set[int], within: str | None,
         work_area: bool) -> list:
    if work_area:
        return index.search_work_area(query, levels=levels, within=within)[0]
    return index.search(query, levels=levels, within=within, limit=6)


async def _loop_held(index: PlaceIndex, off_loop: bool) -> tuple[float, float, float]:
    """(median, 95th percentile, longest) time in ms that a 1 ms ticker on the loop was held
    up while every case is searched 5 times, inline or in a thread. Wall time: other
    processes on the machine count here, which the CPU figures above leave out."""
    gaps: list[float] = []
    done = False

    async def ticker() -> None:
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(max(0.0, now - last - 0.001) * 1000)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    gaps.clear()
    for _ in range(5):
        for _, query, levels, within, work_area in CASES:
            _uncached(index)
            if off_loop:
                await asyncio.to_thread(_run, index, query, levels, within, work_area)
            else:
                _run(index, query, levels, within, work_area)
            # Time for the ticker between two searches: a gap it sees is one search at most.
            await asyncio.sleep(0.003)
    done = True
    await task
    gaps.sort()
    return (statistics.median(gaps), gaps[int(len(gaps) * 0.95)], gaps[-1])


def main() -> None:
    started = time.perf_counter()
    index = PlaceIndex.from_csv_dir()
    print(f"build: {time.perf_counter() - started:.2f} s for {len(index)} areas")
    index.search("warmup", levels={2, 3})
    print(f"{'CPU per search, cold':36s} {'median':>9s} {'max':>9s}  first offered")
    for label, query, levels, within, work_area in CASES:
        timings = []
        for _ in range(RUNS):
            _uncached(index)
            started = time.process_time()
            found = _run(index, query, levels, within, work_area)
            timings.append((time.process_time() - started) * 1000)
        first = found[0].label if found else "-"
        print(f"{label + ' (' + query + ')':36s} {statistics.median(timings):6.2f} ms "
              f"{max(timings):6.2f} ms  {first[:40]}")
    if getattr(index, "_cached_search", None) is not None:
        timings = []
        for _ in range(RUNS):
            started = time.process_time()
            index.search_work_area("sukabumu", levels=AREAS)
            timings.append((time.process_time() - started) * 1000)
        print(f"{'work area, misspelt, asked again':36s} {statistics.median(timings):6.2f} ms "
              f"{max(timings):6.2f} ms")
    for off_loop in (False, True):
        median, p95, longest = asyncio.run(_loop_held(index, off_loop))
        how = "in asyncio.to_thread" if off_loop else "on the loop"
        print(f"loop held up, searches {how:21s} median {median:5.2f} ms  p95 {p95:6.2f} ms  "
              f"max {longest:6.2f} ms")


if __name__ == "__main__":
    main()
