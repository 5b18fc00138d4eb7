"""Telegram's sending limits, spent on the people waiting for an answer first.

Telegram asks a bot to stay under about 30 messages a second overall and one a second per chat
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this) and answers
429 (RetryAfter) beyond that. The 30/s is guidance for *bulk* messages to many users; a user who
just wrote waits for the answer. python-telegram-bot's AIORateLimiter puts every call (button
answers, edits, replies, reminders) through one 30/s queue, so with a few dozen mentors busy at
once each answer waited behind the others (about 1.8 calls per update: 16 updates/s at most).

So the budget is spent in two classes:

- **Answers** are the calls made while an update is being handled (``answering``, set around
  each update by bot.telegram.processor), and every answerCallbackQuery. They go out at once: no queue,
  no per-chat spacing (Telegram allows short bursts in a chat the user is writing in). They are
  still counted in the one-second window, so bulk sending gives way to them.
- **Bulk** is everything else: the reminder digests (scheduler.sweep, through the Application's
  bot) and the broadcasts (scheduler.outbox, which takes its turns from the same
  :class:`SendBudget`). A bulk message goes only while fewer than ``bulk_ceiling`` messages
  (answers included) went out in the last second, and at most ``per_chat`` a second to one
  chat. The ceiling stays just under Telegram's 30 so that a user's answer finds room even when
  a broadcast runs flat out. Broadcasts also keep their own, lower pace (``rate``): evenly
  spaced, so a pause is never followed by a burst.

A 429 is honoured wherever it comes from: the request is tried again after ``retry_after``
(up to ``max_retries`` times), and bulk sending to that chat, and overall, holds off for as long.
Calls that put nothing into a chat (getMe, setMyCommands, getFile ...) pass untouched.

Everything runs on one event loop, so the window needs no lock; bulk senders queue on an
``asyncio.Lock`` so they are served in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import math
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

if TYPE_CHECKING:
    from bot.core.settings import Settings

log = logging.getLogger(__name__)

WINDOW = 1.0  # Telegram counts per second
# The chat whose update is being handled in this task (bot.telegram.processor sets it), else None.
_answering: contextvars.ContextVar[int | None] = contextvars.ContextVar("answering",
                                                                        default=None)
_NO_CHAT = 0


@contextlib.contextmanager
def answering(chat_id: int | None) -> Iterator[None]:
    """Marks the calls made inside as answers to a user (the update of ``chat_id``)."""
    token = _answering.set(chat_id if chat_id is not None else _NO_CHAT)
    try:
        yield
    finally:
        _answering.reset(token)


def is_answering() -> bool:
    """Whether the current task is handling an update."""
    return _answering.get() is not None


def puts_into_chat(endpoint: str) -> bool:
    """Whether Telegram counts this call as a message (send*, edit*, forward, copy)."""
    name = endpoint.lower()
    if name == "sendchataction":
        return False
    return name.startswith(("send", "edit", "forward", "copy"))


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked to wait, in seconds (PTB 22 warns when it is read as an int)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _chat_of(data: dict[str, Any] | None) -> int | None:
    raw = (data or {}).get("chat_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):  # "@username": a channel, not ours to space
        return None


class SendBudget:
    """The bot token's messages of the last second, shared by every sender in the process."""

    def __init__(self, *, bulk_ceiling: int = 29, per_chat: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.bulk_ceiling = bulk_ceiling
        self.chat_gap = 1.0 / per_chat
        self.monotonic = monotonic
        self.sleep = sleep
        self._recent: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self._held_until = 0.0
        self._chat_held: dict[int, float] = {}
        self._bulk = asyncio.Lock()
        self._paced_next = 0.0
        self.answers = 0
        self.bulk_sent = 0

    @classmethod
    def for_settings(cls, settings: Settings) -> SendBudget:
        """The token's budget: bulk leaves one message a second of Telegram's rate to answers."""
        return cls(bulk_ceiling=math.ceil(settings.telegram_rate_per_second) - 1,
                   per_chat=settings.broadcast_per_chat_per_second)

    def _trim(self, now: float) -> None:
        while self._recent and self._recent[0] <= now - WINDOW:
            self._recent.popleft()
        if len(self._chat_last) > 10_000:
            self._chat_last = {c: at for c, at in self._chat_last.items()
                               if at > now - self.chat_gap}

    def _record(self, chat_id: int | None, now: float) -> None:
        self._recent.append(now)
        if chat_id is not None:
            self._chat_last[chat_id] = now

    def note_answer(self, chat_id: int | None) -> None:
        """An answer goes out now: it takes no turn, but bulk sending sees it in the window."""
        now = self.monotonic()
        self._trim(now)
        self._record(chat_id, now)
        self.answers += 1

    def hold(self, seconds: float, chat_id: int | None = None, *, overall: bool = True) -> None:
        """Telegram asked to wait: bulk sending (to the chat, and overall) holds off.
        ``overall=False``: only that chat waits (a broadcast's 429 makes only its row wait)."""
        until = self.monotonic() + seconds
        if overall:
            self._held_until = max(self._held_until, until)
        if chat_id is not None:
            self._chat_held[chat_id] = max(self._chat_held.get(chat_id, 0.0), until)

    def chat_wait(self, chat_id: int, now: float) -> float:
        """Seconds until bulk may send to this chat again."""
        last = self._chat_last.get(chat_id)
        spaced = 0.0 if last is None else last + self.chat_gap - now
        return max(spaced, self._chat_held.get(chat_id, 0.0) - now, 0.0)

    def ready(self, chat_id: int, now: float | None = None) -> bool:
        """Whether bulk may send to this chat now."""
        return self.chat_wait(chat_id, self.monotonic() if now is None else now) <= 0

    def overall_wait(self, now: float) -> float:
        """Seconds until the window has room for one more bulk message."""
        self._trim(now)
        wait = self._held_until - now
        if len(self._recent) >= self.bulk_ceiling:
            # The oldest messages that must leave the window before there is room.
            wait = max(wait, self._recent[len(self._recent) - self.bulk_ceiling] + WINDOW - now)
        return max(wait, 0.0)

    async def take_bulk(self, chat_id: int | None, *, rate: float | None = None) -> None:
        """Waits for a bulk message's turn (in call order) and counts it. With ``rate``, the
        turns are first spaced evenly at ``rate`` a second (the broadcasts' pace)."""
        if rate is not None:
            await self._pace(rate)
        async with self._bulk:
            while True:
                now = self.monotonic()
                wait = self.overall_wait(now)
                if chat_id is not None:
                    wait = max(wait, self.chat_wait(chat_id, now))
                if wait <= 0:
                    self._record(chat_id, now)
                    self.bulk_sent += 1
                    if chat_id is not None:
                        self._chat_held.pop(chat_id, None)
                    return
                await self.sleep(wait)

    async def _pace(self, rate: float) -> None:
        """Reserves the next evenly spaced turn at once, in call order, and waits for it: no
        burst after a pause, so no one-second window holds more than ``rate``."""
        now = self.monotonic()
        at = max(now, self._paced_next)
        self._paced_next = at + 1.0 / rate
        if at > now:
            await self.sleep(at - now)


class PriorityRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """The Application's rate limiter: answers first, bulk within the :class:`SendBudget`.

    ``rate_limit_args`` may say ``{"bulk": True}`` or ``{"bulk": False}`` to override the
    classification of one call.
    """

    def __init__(self, budget: SendBudget | None = None, *, max_retries: int = 2) -> None:
        self.budget = budget or SendBudget()
        self.max_retries = max_retries
        self.retried = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        counted = puts_into_chat(endpoint)
        chat_id = _chat_of(data)
        bulk = (rate_limit_args or {}).get("bulk")
        if bulk is None:
            bulk = not (is_answering() or endpoint.lower() == "answercallbackquery")
        tries = 0
        while True:
            if counted:
                if bulk:
                    await self.budget.take_bulk(chat_id)
                else:
                    self.budget.note_answer(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_seconds(error)
                self.budget.hold(seconds, chat_id)
                if tries >= self.max_retries:
                    raise
                tries += 1
                self.retried += 1
                log.info("Telegram asked to wait %.1f s (%s); trying again", seconds, endpoint)
                await self.budget.sleep(seconds)
