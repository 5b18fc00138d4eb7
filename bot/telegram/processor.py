"""Runs updates of different users at the same time and each user's updates in order.

python-telegram-bot either handles one update at a time (a slow /ekspor then holds up every
mentor) or handles all of them concurrently (then two quick answers of one mentor could overtake
each other and confuse her conversation). This processor keeps a queue per user: a user's next
update starts only after the previous one finished, while other users go on. A user who floods
the bot (far more messages than anyone can type) is slowed down on their own: updates beyond
the allowance are dropped and the user is told, once, to slow down.

Every update that ran (or was dropped) is reported to ``on_finished`` (bot.app marks it handled,
bot.telegram.inbox). While an update runs, a typed answer's confirmation is held to go out with
the next message (bot.telegram.confirmations). When the bot stops, updates still waiting for
their turn are left alone: they stay unhandled in the database and the next start handles them,
so a stop does not wait for a flooder's backlog.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import NetworkError, RetryAfter
from telegram.ext import BaseUpdateProcessor

from bot.telegram.confirmations import holding
from bot.telegram.ratelimit import answering, retry_seconds
from models import sqlite_trips

log = logging.getLogger(__name__)

# Called (without awaiting the user's turn) when an update is dropped by the throttle.
Throttled = Callable[[Update], Awaitable[None]]
# Called once an update ran to its end or was dropped: it need not run again.
Finished = Callable[[Update], Awaitable[None]]


def _chat(update: object) -> int | None:
    chat = update.effective_chat if isinstance(update, Update) else None
    return chat.id if chat is not None else None


def user_key(update: object) -> int | None:
    """Whose turn an update waits for: the user, else the chat; None runs it at once."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


@dataclass
class _Lane:
    """One user's place in line: the last update's finish signal and the throttle bucket."""

    tail: asyncio.Future[None] | None = None
    waiting: int = 0
    tokens: float = 0.0
    refilled: float = field(default_factory=time.monotonic)
    warned_at: float = float("-inf")


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across users, ordered per user, with a token-bucket throttle per user.

    PTB's own semaphore is taken before ``do_process_update`` is called, so an update waiting for
    its user's turn would hold a slot; that limit is therefore set high, and the real limit on
    updates running at once (``max_running``) is taken only when it is the update's turn.
    """

    def __init__(self, max_running: int = 64, *, burst: int = 20, per_second: float = 4.0,
                 on_throttled: Throttled | None = None, warn_every: float = 10.0,
                 on_finished: Finished | None = None) -> None:
        super().__init__(max_concurrent_updates=100_000)
        self.max_running = max_running
        self.burst = burst
        self.per_second = per_second
        self.on_throttled = on_throttled
        self.warn_every = warn_every
        self.on_finished = on_finished
        self.dropped = 0
        self.stopping = False
        # Updates given to the processor and not finished (running or waiting for their turn):
        # how busy the bot is (bot.telegram.inbox polls less often when it is).
        self.unfinished = 0
        # Updates handled again after a restart (bot.telegram.inbox): they arrive all at once
        # but were sent at a person's pace, so the throttle lets them through.
        self.exempt: set[int] = set()
        self._warnings: set[asyncio.Task[None]] = set()
        self._running: asyncio.Semaphore | None = None
        self._lanes: dict[int, _Lane] = {}
        # Lanes are kept between updates (the bucket must remember a flood) and pruned when
        # there are many.
        self.prune_above = 10_000

    async def initialize(self) -> None:
        self._running = asyncio.Semaphore(self.max_running)

    async def shutdown(self) -> None:
        for task in list(self._warnings):
            task.cancel()
        self._lanes.clear()

    def stop_waiting(self) -> None:
        """From now on, updates that have not started are left for the next start."""
        self.stopping = True

    async def _finished(self, update: object) -> None:
        if self.on_finished is not None and isinstance(update, Update):
            try:
                await self.on_finished(update)
            except Exception as error:  # noqa: BLE001 - the next start handles it once more
                log.warning("could not mark update %s handled (%s)", update.update_id,
                            type(error).__name__)

    def _leave(self, coroutine: Awaitable[Any]) -> None:
        """Drops a coroutine that will never run (without Python's "never awaited" warning)."""
        close = getattr(coroutine, "close", None)
        if close is not None:
            close()

    def _left_for_next_start(self, coroutine: Awaitable[Any]) -> bool:
        """When stopping, drops an update that has not started: it stays unhandled, stored."""
        if self.stopping:
            self._leave(coroutine)
        return self.stopping

    def _admit(self, lane: _Lane) -> bool:
        now = time.monotonic()
        lane.tokens = min(self.burst, lane.tokens + (now - lane.refilled) * self.per_second)
        lane.refilled = now
        if lane.tokens >= 1:
            lane.tokens -= 1
            return True
        return False

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Waits for this user's previous update, then runs this one."""
        if self._running is None:  # PTB initialises the processor first; this is a safety net
            await self.initialize()
        assert self._running is not None
        key = user_key(update)
        self.unfinished += 1
        try:
            # What the handlers send now answers this user: it goes before bulk
            # (bot.telegram.ratelimit), and a reply that got no answer from Telegram counts as
            # arrived (bot.app).
            # … and its writes to SQLite run on the loop's thread (models.sqlite_trips).
            with answering(_chat(update)), sqlite_trips.on_the_loop():
                await self._process(update, key, coroutine)
        finally:
            self.unfinished -= 1

    async def _process(self, update: object, key: int | None, coroutine: Awaitable[Any]) -> None:
        assert self._running is not None
        if key is None:
            if self._left_for_next_start(coroutine):
                return
            async with self._running:
                await holding(update, coroutine)
            await self._finished(update)
            return
        lane = self._lanes.get(key)
        if lane is None:
            if len(self._lanes) >= self.prune_above:
                self._prune()
            lane = self._lanes[key] = _Lane(tokens=float(self.burst))
        replayed = isinstance(update, Update) and update.update_id in self.exempt
        if replayed:
            self.exempt.discard(update.update_id)  # type: ignore[union-attr]
        elif not self._admit(lane):
            await self._drop(update, lane, coroutine)
            return
        # Nothing is awaited between reading the tail and replacing it, so the order in which
        # updates reach this line (PTB's fetch order) is the order they run in.
        previous, done = lane.tail, asyncio.get_running_loop().create_future()
        lane.tail = done
        lane.waiting += 1
        try:
            if previous is not None:
                await previous
            if self._left_for_next_start(coroutine):
                return
            async with self._running:
                await holding(update, coroutine)
            # Inside the turn: the user's next update starts once this one is marked.
            await self._finished(update)
        finally:
            lane.waiting -= 1
            done.set_result(None)
            if lane.tail is done:
                lane.tail = None

    def _prune(self) -> None:
        """Forgets idle users whose bucket has refilled: a new lane would be the same."""
        now = time.monotonic()
        full_after = self.burst / self.per_second
        for key, lane in list(self._lanes.items()):
            if lane.waiting == 0 and now - lane.refilled >= full_after \
                    and now - lane.warned_at >= self.warn_every:
                del self._lanes[key]

    async def _drop(self, update: object, lane: _Lane, coroutine: Awaitable[Any]) -> None:
        self.dropped += 1
        self._leave(coroutine)
        await self._finished(update)  # dropped for good: not to be handled after a restart
        now = time.monotonic()
        log.info("throttled an update of a user sending too fast")
        if self.on_throttled is not None and isinstance(update, Update) \
                and now - lane.warned_at >= self.warn_every:
            lane.warned_at = now
            # Sent as bulk, outside the user's turn and outside "answering" (an empty context):
            # it waits for the chat's turn under Telegram's per-chat limit, which the answers
            # to the flood itself have just used up, instead of failing on a 429.
            task = asyncio.get_running_loop().create_task(
                self._warn(update, lane), context=contextvars.Context())
            self._warnings.add(task)
            task.add_done_callback(self._warnings.discard)

    async def _warn(self, update: Update, lane: _Lane, tries: int = 6) -> None:
        """Sends the notice, waiting out Telegram's refusals (a 429 per chat lasts a few
        seconds); given up after ``tries``, the next dropped update tries again."""
        assert self.on_throttled is not None
        for attempt in range(tries):
            try:
                await self.on_throttled(update)
                return
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error))
            except NetworkError:
                await asyncio.sleep(2 ** attempt)
            except Exception:  # noqa: BLE001 - a failed warning must not stop the others
                break
        lane.warned_at = float("-inf")
        log.warning("could not tell a throttled user to slow down")
