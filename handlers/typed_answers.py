"""Answers that are typed or skipped: one function stores both.

A question with Lewati stores its answer in one ``got_*(update, context, text)``: Flow.skip
hands it "-" (as typing "-" would), and :func:`typed` makes the callback for a typed message.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.telegram.context import BotContext
from handlers.common import message_text

Store = Callable[[Update, BotContext, str], Awaitable[int]]


def typed(store: Store) -> Callable[[Update, BotContext], Awaitable[int]]:
    """The callback for a typed answer: ``store`` with the message's text (name and docstring
    kept, for the logs)."""

    @functools.wraps(store)
    async def answer(update: Update, context: BotContext) -> int:
        return await store(update, context, message_text(update))

    return answer
