"""What finding NIKs and phone numbers in text costs, per log line and per note.

The log filter runs on every log line and note masking on every note saved, so the figures
that matter: a typical line without 9 digits close together (the cheap pre-check ends it), a
line with short numbers (ids, amounts, a date) and a note that quotes a phone number and a NIK.
Each is timed through RedactingFilter._clean (token and secrets included) and mask_numbers.

Times are CPU time of this process (time.process_time), so that other work on the machine
counts less; "new number" clears the cache of phone numbers already judged before each call,
as for a number seen for the first time.

Run: .venv/bin/python bench/redaction.py [--repeat 20000]
"""

from __future__ import annotations

import argparse
import time
import timeit

from bot.core import parsing
from bot.core.parsing import mask_numbers
from bot.logs import RedactingFilter

TOKEN = "7312456789:AAFq3kZ_vX-TeStToKeNLooksReal0123456"
LINES = {
    "log line, no digits": "telegram.ext.Application: Processing update of type message from "
                           "the mentor; handler conversation visit state problems",
    "log line, ids and a date": "update 123456789 from user 700001 in chat 700001 at "
                                "2026-11-25 03:00:00 took 125 ms (attempt 2 of 3)",
    "log line, amounts": "saved visit 4521 for group 812: kas Rp 15.000.000, omzet 1.500.000,- "
                         "on 12-03-2026",
    "log line, SQL with a phone": "INSERT INTO member (name, phone, nik) VALUES (?, ?, ?) "
                                  "('Siti', '0812-9876-5432', '3202114507800001')",
    "note with phone and NIK": "Bu Siti minta ditelepon di (0812) 5555-6666, NIK 3202 - 1145 - "
                               "0780 - 0004, modal Rp 15.000.000 sejak 12/03/2026",
}


def per_call(call, repeat: int) -> float:
    """Microseconds of CPU per call, the best of three rounds."""
    rounds = timeit.repeat(call, number=repeat, repeat=3, timer=time.process_time)
    return min(rounds) / repeat * 1e6


def main() -> None:
    """Prints microseconds per call for each line, through the log filter and the note mask."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20_000)
    repeat = parser.parse_args().repeat
    clean = RedactingFilter([TOKEN])._clean
    # The cache of phone numbers already judged (none before the one recogniser).
    forget = getattr(getattr(parsing, "numbers", None), "_e164", None)

    def first_time(line: str) -> None:
        if forget is not None:
            forget.cache_clear()
        mask_numbers(line)

    print(f"{'text':28} {'log filter µs':>14} {'mask_numbers µs':>16} {'new number µs':>14}")
    for name, line in LINES.items():
        print(f"{name:28} {per_call(lambda line=line: clean(line), repeat):14.1f} "
              f"{per_call(lambda line=line: mask_numbers(line), repeat):16.1f} "
              f"{per_call(lambda line=line: first_time(line), max(repeat // 10, 1)):14.1f}")


if __name__ == "__main__":
    main()
