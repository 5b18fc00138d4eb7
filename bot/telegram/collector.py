"""Python's full garbage-collection passes, taken while the bot is idle.

A full pass walks every object that is not frozen (bot.startup.warm_up freezes what lives as
long as the process): with a hundred updates in flight, their objects too, and the event loop
stops for all of it (10-25 ms measured by bench/updates.py, the only holds above 20 ms left).
Python starts one whenever enough objects have survived the middle generation, busy or not.
Here the automatic full passes are turned off (the younger generations keep their thresholds)
and one is taken when nothing is at hand, at most every ``IDLE_EVERY`` seconds. A bot that is
never idle gets one after ``AT_MOST`` seconds at a moment when few updates are in flight (fewer
objects to walk), and after twice that whatever the moment: cyclic garbage which reached the
oldest generation is freed, and memory stays bounded.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

CHECK_EVERY = 0.5
IDLE_EVERY = 10.0
AT_MOST = 120.0
QUIET = 8
# The oldest generation's threshold counts middle-generation passes (about one per 7,000
# allocations): this many is never reached between the passes taken here.
NEVER = 1_000_000

_running: set[IdleCollector] = set()
_saved: tuple[int, ...] = gc.get_threshold()


class IdleCollector:
    """Takes the full passes; ``at_hand()`` says how many updates are in flight."""

    def __init__(self, at_hand: Callable[[], int], *, check_every: float = CHECK_EVERY,
                 idle_every: float = IDLE_EVERY, at_most: float = AT_MOST,
                 quiet: int = QUIET) -> None:
        self.at_hand = at_hand
        self.check_every = check_every
        self.idle_every = idle_every
        self.at_most = at_most
        self.quiet = quiet
        self.passes = 0
        self.forced = 0

    async def run(self) -> None:
        """Until cancelled; Python's own thresholds come back when the last one stops."""
        global _saved
        if not _running:  # several Applications in one process (the tests) share the setting
            _saved = gc.get_threshold()
            gc.set_threshold(_saved[0], _saved[1], NEVER)
        _running.add(self)
        last = time.monotonic()
        try:
            while True:
                await asyncio.sleep(self.check_every)
                since = time.monotonic() - last
                # Nothing reached the oldest generation since the last pass: nothing to free.
                if gc.get_count()[2] == 0:
                    continue
                at_hand = self.at_hand()
                idle = since >= self.idle_every and at_hand == 0
                overdue = since >= self.at_most and at_hand < self.quiet \
                    or since >= 2 * self.at_most
                if idle or overdue:
                    gc.collect(2)
                    last = time.monotonic()
                    self.passes += 1
                    self.forced += not idle
        finally:
            _running.discard(self)
            if not _running:
                gc.set_threshold(*_saved)
