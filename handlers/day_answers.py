"""The question "when did it happen?" (a visit, a grant received, a roll-over) and its
answers: a typed day, or the "Hari ini" button; and the question of a day planned ahead (the
next visit, a roll-over deadline): a typed day, or the suggested day's "Pakai <day>" button.
What does not fit is the question's own words (``words``), from the rules in models.saving;
here is only how the answers come, and the words every such question shares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from telegram import Update

from bot.core.formatting import format_date, format_date_short
from bot.core.parsing import parse_date, parse_date_ahead
from bot.telegram.context import BotContext
from handlers.common import (
    Callback,
    close_buttons,
    confirm,
    keyboard,
    message_text,
    say,
    unreadable_date,
)
from handlers.flow import TEXT
from handlers.questions import Questions

# Why a day read does not fit (None: it fits).
DayWords = Callable[[BotContext, date], str | None]
DayStore = Callable[[Update, BotContext, date], Awaitable[int]]
# How a typed day is read, given the text and today where the user is (None: unreadable).
DayReader = Callable[[str, date], date | None]


def ask_day(flow: Questions, step: int, text: str, *, button: str, data: str = "date:today",
            example: Callable[[BotContext, date], str] | None = None) -> None:
    """Registers the question of ``step``: the text key ``text`` (with ``example`` of today, if
    given) and the button ``button`` ("Hari ini"), its data "<prefix>:<data>"."""

    async def ask(update: Update, context: BotContext) -> None:
        values = {"example": example(context, flow.today(context))} if example else {}
        markup = keyboard([[(context.t(button), f"{flow.prefix}:{data}")]])
        await say(update, context.t(text, **values), reply_markup=markup)

    flow.question(step)(ask)


def day_error(context: BotContext, *, late: bool, today: date, example: str, texts: str,
              before: str, **values: str) -> str:
    """The words for a day the rules refuse: after today ("<texts>.future_date", with today
    and ``example``), or before the day it cannot precede (the text key ``before``, with
    ``example`` and ``values``)."""
    if late:
        return context.t(f"{texts}.future_date", today=format_date(today, context.lang),
                         example=example)
    return context.t(before, example=example, **values)


async def typed_day(update: Update, context: BotContext, flow: Questions, step: int, *,
                    words: DayWords, store: DayStore, unreadable: Callable[[BotContext, date], str],
                    read: DayReader | None = None, said: str | None = None) -> int:
    """A typed day, read relative to today where the user is (by ``read``; else as a day that
    has come): "✓ <day>" (or the text key ``said`` with the day) and ``store``; or the same
    question again after ``unreadable`` of today (a day the month lacks is named as such) or
    ``words``."""
    text, today = message_text(update), flow.today(context)
    day = read(text, today) if read else parse_date(text, today=today)
    error = unreadable_date(context, text, today, unreadable(context, today)) if day is None \
        else words(context, day)
    if error:
        return await flow.retry(update, context, step, error)
    assert day is not None
    shown = format_date(day, context.lang)
    await confirm(update, context.t(said, date=shown) if said else f"✓ {shown}")
    return await store(update, context, day)


async def today_pressed(update: Update, context: BotContext, flow: Questions, step: int, *,
                        words: DayWords, store: DayStore, note: bool = True) -> int:
    """Hari ini: today where the user is, noted under the question (``note``; else said after
    it), then ``store``; or ``words`` and the question again (a group formed "today" in a time
    zone ahead)."""
    query = update.callback_query
    assert query is not None
    today = flow.today(context)
    error = words(context, today)
    await close_buttons(query, format_date(today, context.lang) if note and not error else None)
    if error:
        return await flow.retry(update, context, step, error)
    if not note:
        await confirm(update, f"✓ {format_date(today, context.lang)}")
    return await store(update, context, today)


def day_example(context: BotContext, day: date, texts: str) -> str:
    """``day`` written both ways it may be typed ("<texts>.date_example")."""
    return context.t(f"{texts}.date_example", numeric=f"{day:%d/%m/%Y}",
                     short=format_date_short(day, context.lang))


def ask_day_ahead(flow: Questions, step: int, *, field: str, auto: str, start: str,
                  suggest: Callable[[BotContext], date], horizon_days: int, words: DayWords,
                  texts: str, ask: str, button: str, bad: str, data: str,
                  values: Callable[[BotContext, date], dict[str, object]]
                  ) -> dict[object, Callback]:
    """Registers the question of ``step``, a day planned after the draft's day ``start`` (a
    next visit, a roll-over deadline): the text key ``ask`` with ``values`` of the start and an
    example of the day ``suggest`` gives, and its button ``button`` ("Pakai <day>", data
    "<prefix>:<data>"). Returns its answers: the button, or a typed day (without a year, the
    next one after the start within ``horizon_days``; ``words`` for one the rules refuse, the
    text key ``bad`` for one unreadable). The day is stored as ``field``, and as ``auto``
    whether it was the suggestion (which then moves along with the start); then the summary."""

    def after(context: BotContext) -> date:
        return date.fromisoformat(flow.draft(context)[start])

    def example(context: BotContext) -> str:
        return day_example(context, suggest(context), texts)

    async def question(update: Update, context: BotContext) -> None:
        shown = format_date(suggest(context), context.lang)
        markup = keyboard([[(context.t(button, date=shown), f"{flow.prefix}:{data}")]])
        await say(update, context.t(ask, example=example(context),
                                    **values(context, after(context))), reply_markup=markup)

    flow.question(step)(question)

    async def store(update: Update, context: BotContext, day: date, suggested: bool = False
                    ) -> int:
        draft = flow.draft(context)
        draft[field], draft[auto] = day.isoformat(), suggested
        return await flow.sum_up(update, context)

    async def take_suggested(update: Update, context: BotContext) -> int:
        """Takes the day suggested and sums up."""
        day = suggest(context)
        assert update.callback_query is not None
        await close_buttons(update.callback_query, format_date(day, context.lang))
        return await store(update, context, day, True)

    async def typed_ahead(update: Update, context: BotContext) -> int:
        """Stores a typed day after the start (within the rules' window) and sums up."""
        first = after(context)
        return await typed_day(
            update, context, flow, step, words=words, store=store,
            read=lambda text, today: parse_date_ahead(text, after=first, today=today,
                                                      horizon_days=horizon_days),
            unreadable=lambda context, _: context.t(bad, example=example(context)))

    return {data: take_suggested, TEXT: typed_ahead}
