"""The rate limiter: answers before bulk, bulk within the window, RetryAfter honoured.

A hand-driven clock stands in for time: ``sleep`` only moves it, so every wait is asserted
exactly and nothing depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from telegram.error import RetryAfter

from bot.telegram.ratelimit import PriorityRateLimiter, SendBudget, answering, puts_into_chat


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        await asyncio.sleep(0)  # others run meanwhile, still at the old time
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def limiter(clock: Clock, *, ceiling: int = 3, max_retries: int = 2) -> PriorityRateLimiter:
    budget = SendBudget(bulk_ceiling=ceiling, per_chat=1.0, monotonic=clock.monotonic,
                        sleep=clock.sleep)
    return PriorityRateLimiter(budget, max_retries=max_retries)


def call_log(clock: Clock, calls: list, *, refuse: list[float] | None = None):
    """A stand-in for the HTTP call: records (endpoint, chat, when); answers 429 with the
    waits in ``refuse`` first."""
    refusals = list(refuse or [])

    async def callback(endpoint: str, data: dict) -> bool:
        calls.append((endpoint, data.get("chat_id"), clock.now))
        if refusals:
            raise RetryAfter(timedelta(seconds=refusals.pop(0)))
        return True

    return callback


async def send(rl: PriorityRateLimiter, callback, endpoint: str, chat_id: int | None,
               rate_limit_args: dict | None = None):
    data = {} if chat_id is None else {"chat_id": chat_id}
    return await rl.process_request(callback=callback, args=(endpoint, data), kwargs={},
                                    endpoint=endpoint, data=data,
                                    rate_limit_args=rate_limit_args)


async def test_bulk_waits_for_room_in_the_window(clock):
    rl, calls = limiter(clock, ceiling=3), []
    callback = call_log(clock, calls)
    for chat in (1, 2, 3, 4, 5):
        await send(rl, callback, "sendMessage", chat)
    # Three go at once; the fourth waits until the first has left the one-second window.
    assert [at for _, _, at in calls] == [100.0, 100.0, 100.0, 101.0, 101.0]


async def test_bulk_to_one_chat_is_one_a_second(clock):
    rl, calls = limiter(clock, ceiling=30), []
    callback = call_log(clock, calls)
    for _ in range(3):
        await send(rl, callback, "sendMessage", 7)
    assert [at for _, _, at in calls] == [100.0, 101.0, 102.0]


async def test_answers_never_wait_but_bulk_gives_way_to_them(clock):
    rl, calls = limiter(clock, ceiling=3), []
    callback = call_log(clock, calls)
    with answering(1):
        for _ in range(4):  # a burst in the user's own chat: no per-chat spacing for answers
            await send(rl, callback, "sendMessage", 1)
        await send(rl, callback, "answerCallbackQuery", None)
    assert [at for _, _, at in calls] == [100.0] * 5
    assert clock.slept == []
    # The window is full of answers: a reminder now waits until they have left it.
    await send(rl, callback, "sendMessage", 2)
    assert calls[-1] == ("sendMessage", 2, 101.0)


async def test_a_button_answer_is_an_answer_even_outside_an_update(clock):
    rl, calls = limiter(clock, ceiling=1), []
    callback = call_log(clock, calls)
    await send(rl, callback, "sendMessage", 2)  # bulk fills the window
    await send(rl, callback, "answerCallbackQuery", None)
    assert calls[-1][2] == 100.0


async def test_a_queued_reminder_does_not_hold_up_an_answer(clock):
    rl, calls = limiter(clock, ceiling=1), []
    callback = call_log(clock, calls)
    order: list[str] = []

    async def reminder(chat: int) -> None:
        await send(rl, callback, "sendMessage", chat)
        order.append(f"reminder {chat}")

    async def answer() -> None:
        with answering(9):
            await send(rl, callback, "editMessageText", 9)
        order.append("answer")

    await asyncio.gather(reminder(1), reminder(2), reminder(3), answer())
    # Reminder 1 took the window; 2 and 3 wait their turn; the answer went at once.
    assert order.index("answer") < order.index("reminder 2")
    assert [call for call in calls if call[0] == "editMessageText"] == [
        ("editMessageText", 9, 100.0)]


async def test_retry_after_is_honoured_and_holds_back_bulk(clock):
    rl, calls = limiter(clock, ceiling=30), []
    callback = call_log(clock, calls, refuse=[3])
    with answering(1):
        assert await send(rl, callback, "sendMessage", 1) is True
    # Refused once, tried again exactly three seconds later.
    assert [at for _, _, at in calls] == [100.0, 103.0]
    assert rl.retried == 1
    # Telegram asked the bot to slow down: bulk waits out the same three seconds.
    clock.now = 101.0
    await send(rl, call_log(clock, calls), "sendMessage", 2)
    assert calls[-1] == ("sendMessage", 2, 103.0)


async def test_retry_after_beyond_the_retries_reaches_the_caller(clock):
    rl, calls = limiter(clock, max_retries=1), []
    callback = call_log(clock, calls, refuse=[1, 2])
    with pytest.raises(RetryAfter):
        await send(rl, callback, "sendMessage", 5)
    assert [at for _, _, at in calls] == [100.0, 101.0]


async def test_calls_that_send_nothing_pass_untouched(clock):
    rl, calls = limiter(clock, ceiling=1), []
    callback = call_log(clock, calls)
    await send(rl, callback, "sendMessage", 1)
    for endpoint in ("getMe", "setMyCommands", "getFile", "sendChatAction"):
        await send(rl, callback, endpoint, 1)
    assert [at for _, _, at in calls] == [100.0] * 5
    assert not puts_into_chat("sendChatAction") and puts_into_chat("editMessageReplyMarkup")


async def test_rate_limit_args_override_the_class(clock):
    rl, calls = limiter(clock, ceiling=1), []
    callback = call_log(clock, calls)
    await send(rl, callback, "sendMessage", 1)
    await send(rl, callback, "sendMessage", 2, {"bulk": False})  # goes at once
    with answering(3):
        await send(rl, callback, "sendMessage", 3, {"bulk": True})  # waits like bulk
    assert [at for _, _, at in calls] == [100.0, 100.0, 101.0]


async def test_broadcast_turns_come_from_the_same_budget(clock):
    budget = SendBudget(bulk_ceiling=2, monotonic=clock.monotonic, sleep=clock.sleep)
    budget.note_answer(50)  # a user's answer went out just now
    start = clock.now
    await budget.take_bulk(1, rate=1000)
    await budget.take_bulk(2, rate=1000)
    # Room for two in the window: the answer and the first broadcast message; the second
    # waits until the answer has left the window (its pace alone would allow it at once).
    assert clock.now == pytest.approx(start + 1.0)
    assert budget.bulk_sent == 2 and budget.answers == 1


async def test_broadcast_turns_are_spaced_evenly_without_a_burst_after_a_pause(clock):
    budget = SendBudget(bulk_ceiling=100, per_chat=100, monotonic=clock.monotonic,
                        sleep=clock.sleep)
    sent = []
    for chat_id in (1, 2, 3):
        await budget.take_bulk(chat_id, rate=4)
        sent.append(clock.now)
    clock.now += 10  # a pause: the next turns are not taken all at once afterwards
    for chat_id in (4, 5):
        await budget.take_bulk(chat_id, rate=4)
        sent.append(clock.now)
    assert sent == pytest.approx([100.0, 100.25, 100.5, 110.5, 110.75])