"""Full garbage-collection passes only while no update is at hand, or when overdue."""

from __future__ import annotations

import asyncio
import gc

import pytest

from bot.telegram.collector import NEVER, IdleCollector


class _FullPasses:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            self.count += 1


async def _run(collector: IdleCollector, passes: _FullPasses, until: int) -> None:
    task = asyncio.create_task(collector.run())
    try:
        async with asyncio.timeout(5):
            while passes.count < until:
                gc.collect(1)  # something reached the oldest generation
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_full_passes_wait_for_an_idle_bot_and_thresholds_come_back():
    before = gc.get_threshold()
    at_hand = [3]
    passes = _FullPasses()
    collector = IdleCollector(lambda: at_hand[0], check_every=0.01, idle_every=0, at_most=60)
    gc.callbacks.append(passes)
    try:
        task = asyncio.create_task(collector.run())
        for _ in range(10):
            gc.collect(1)
            await asyncio.sleep(0.01)
        assert gc.get_threshold()[2] == NEVER
        assert collector.passes == 0  # busy: Python's automatic full pass is off, none taken
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert gc.get_threshold() == before
        at_hand[0] = 0
        await _run(collector, passes, until=1)
        assert collector.passes >= 1 and collector.forced == 0
    finally:
        gc.callbacks.remove(passes)
    assert gc.get_threshold() == before


@pytest.mark.parametrize("at_hand", [3, 100])  # a quiet moment, or none at all
async def test_a_bot_never_idle_still_gets_a_full_pass(at_hand):
    passes = _FullPasses()
    collector = IdleCollector(lambda: at_hand, check_every=0.01, idle_every=0, at_most=0.05)
    gc.callbacks.append(passes)
    try:
        await _run(collector, passes, until=1)
    finally:
        gc.callbacks.remove(passes)
    assert collector.forced >= 1


async def test_two_collectors_in_one_process_leave_the_thresholds_as_they_found_them():
    before = gc.get_threshold()
    first = asyncio.create_task(IdleCollector(lambda: 1, check_every=0.01).run())
    await asyncio.sleep(0.02)
    second = asyncio.create_task(IdleCollector(lambda: 1, check_every=0.01).run())
    await asyncio.sleep(0.02)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert gc.get_threshold()[2] == NEVER  # the second still runs
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert gc.get_threshold() == before
