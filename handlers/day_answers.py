"""The answer to "when did it happen?" (a grant received, a roll-over): a typed day, or the
"Hari ini" button. What does not fit is the question's own words (``words``), from the rules
in models.saving; here is only how the two answers come.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from telegram import Update

from bot.core.formatting import format_date
from bot.core.parsing import parse_date
from bot.telegram.context import BotContext
from handlers.common import close_buttons, message_text, say
from handlers.questions import Questions

# Why a day does not fit (None: it fits), given the day read (None: unreadable) and the text.
DayWords = Callable[[BotContext, date | None, str], str | None]
DayStore = Callable[[Update, BotContext, date], Awaitable[int]]


async def typed_day(update: Update, context: BotContext, flow: Questions, step: int, *,
                    words: DayWords, store: DayStore) -> int:
    """A typed day, read relative to today where the user is: "✓ <day>" and ``store``, or
    ``words`` and the same question again."""
    text = message_text(update)
    day = parse_date(text, today=flow.today(context))
    error = words(context, day, text)
    if error:
        return await flow.retry(update, context, step, error)
    assert day is not None  # ``words`` answers a day it cannot read
    await say(update, f"✓ {format_date(day, context.lang)}")
    return await store(update, context, day)


async def today_pressed(update: Update, context: BotContext, flow: Questions, step: int, *,
                        words: DayWords, store: DayStore, note: bool = True) -> int:
    """Hari ini: today where the user is, noted under the question (``note``; else said after
    it), then ``store``; or ``words`` and the question again (a group formed "today" in a time
    zone ahead)."""
    query = update.callback_query
    assert query is not None
    today = flow.today(context)
    error = words(context, today, "")
    await close_buttons(query, format_date(today, context.lang) if note and not error else None)
    if error:
        return await flow.retry(update, context, step, error)
    if not note:
        await say(update, f"✓ {format_date(today, context.lang)}")
    return await store(update, context, today)
