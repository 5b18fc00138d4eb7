"""Prints the CPU time of reading a typed date, per form (median and p99 over many reads), on
the thread that reads it: in the bot that is the event loop, where every other user waits.

Run: .venv/bin/python bench/dates.py [--runs 300]
Against another checkout (e.g. the code before issue 15), from that checkout's directory:
  PYTHONPATH=$PWD /path/to/.venv/bin/python /path/to/bench/dates.py

Every read starts as for a text not seen before: the cache of words read as misspelt months,
where the code has it, is emptied before each read, so a figure is what a new answer costs. The
day's dateparser (one per day) is kept, as in the running bot; its creation is timed apart.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

from bot.core.parsing import dates

TODAY = date(2026, 11, 27)
AFTER = TODAY - timedelta(days=2)

# (label, text, question direction): the forms mentors type, old and new.
FORMS = [
    ("digits", "25/11/2026", "past"),
    ("digits, short", "25/11", "past"),
    ("digits, 2-digit year", "25-11-26", "past"),
    ("month name", "25 Nov", "past"),
    ("full, with weekday", "Rabu, 25 November 2026", "past"),
    ("kemarin", "kemarin", "past"),
    ("hari ini", "hari ini", "past"),
    ("2 hari lalu", "2 hari lalu", "past"),
    ("weekday", "senin", "past"),
    ("minggu lalu (refused)", "minggu lalu", "past"),
    ("not a date", "garbage", "past"),
    ("besok", "besok", "ahead"),
    ("lusa", "lusa", "ahead"),
    ("minggu depan", "minggu depan", "ahead"),
    ("bulan depan", "bulan depan", "ahead"),
    ("senin depan", "senin depan", "ahead"),
    ("3 hari lagi", "3 hari lagi", "ahead"),
    ("tgl 5", "tgl 5", "ahead"),
    ("misspelt month", "3 desmber", "ahead"),
    ("next visit, day+month", "27 Des", "ahead"),
]


def _clear_text_caches() -> None:
    for name in ("_misspelt_month",):
        cache_clear = getattr(getattr(dates, name, None), "cache_clear", None)
        if cache_clear is not None:
            cache_clear()


def _reader(direction: str) -> Callable[[str], object]:
    if direction == "past":
        return lambda text: dates.parse_date(text, today=TODAY)
    return lambda text: dates.parse_date_ahead(text, after=AFTER, horizon_days=365, today=TODAY)


def _cpu_ms(read: Callable[[str], object], text: str, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        _clear_text_caches()
        started = time.thread_time_ns()
        read(text)
        timings.append((time.thread_time_ns() - started) / 1e6)
    return timings


def _p99(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    runs = parser.parse_args().runs

    warm_up = getattr(dates, "warm_up_dates", None)
    if warm_up is not None:  # at the bot's start, before any update
        started = time.thread_time_ns()
        warm_up()
        print(f"warm-up at start:          {(time.thread_time_ns() - started) / 1e6:7.2f} ms")
    for text in ("25 Nov", "minggu lalu"):  # Babel's tables; dateparser's language data
        started = time.thread_time_ns()
        dates.parse_date(text, today=TODAY - timedelta(days=30))
        print(f"first read of {text!r:13s}: {(time.thread_time_ns() - started) / 1e6:7.2f} ms")
    day_parser = dates._date_parser  # the per-day dateparser, whose creation is timed
    day_parser.cache_clear()
    started = time.thread_time_ns()
    day_parser(TODAY)
    print(f"a new day's dateparser:    {(time.thread_time_ns() - started) / 1e6:7.2f} ms")
    for direction in ("past", "ahead"):
        _reader(direction)("warm-up")

    print(f"\n{'form':24s} {'text':24s} {'read as':12s} {'median ms':>9s} {'p99 ms':>8s}")
    every = []
    for label, text, direction in FORMS:
        read = _reader(direction)
        timings = _cpu_ms(read, text, runs)
        every.extend(timings)
        print(f"{label:24s} {text!r:24s} {read(text)!s:12s} "
              f"{statistics.median(timings):9.3f} {_p99(timings):8.3f}")
    print(f"{'all forms':24s} {'':24s} {'':12s} {statistics.median(every):9.3f} "
          f"{_p99(every):8.3f}  (max {max(every):.3f})")


if __name__ == "__main__":
    main()
