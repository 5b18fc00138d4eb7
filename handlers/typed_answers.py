"""Answers that are typed or skipped: one function stores both.

A question with Lewati stores its answer in one ``got_*(update, context, text)``: Flow.skip
hands it "-" (as typing "-" would), and :func:`typed` makes the callback for a typed message;
:func:`read_or_skip` reads such a text, or refuses a skip where the answer is required.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update

from bot.core.parsing import is_skip
from bot.telegram.context import BotContext
from handlers.common import message_text
from handlers.questions import Questions

T = TypeVar("T")
Store = Callable[[Update, BotContext, str], Awaitable[int]]


def typed(store: Store) -> Callable[[Update, BotContext], Awaitable[int]]:
    """The callback for a typed answer: ``store`` with the message's text (name and docstring
    kept, for the logs)."""

    @functools.wraps(store)
    async def answer(update: Update, context: BotContext) -> int:
        return await store(update, context, message_text(update))

    return answer


async def read_or_skip(update: Update, context: BotContext, flow: Questions, step: int,
                       text: str, *, read: Callable[[str], T | None], bad: str,
                       store: Callable[[Update, BotContext, T | None], Awaitable[int]],
                       need: str | None = None) -> int:
    """A skip word stores None, unless the answer is required (``need``: the words to ask
    again with); other text is ``read`` and stored, or ``bad`` and the question again."""
    if is_skip(text):
        if need is not None:
            return await flow.retry(update, context, step, need)
        return await store(update, context, None)
    value = read(text)
    if value is None:
        return await flow.retry(update, context, step, bad)
    return await store(update, context, value)
