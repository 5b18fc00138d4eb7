"""Questions answered by a button, registered in one line: a choice among fixed values (the
kind of grant, a stage), the pick that starts a flow (a group, a grant) and the summary
(Simpan / Ubah / Batal).

Their answers are taken by Questions.choose and Flow's Pick; here is only what they ask.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from telegram import Update

from bot.telegram.context import BotContext
from handlers.common import column, say
from handlers.flow import Flow
from handlers.questions import Questions


def ask_choice(flow: Questions, step: int, text: str, *, among: Iterable[str], label: str,
               data: str, per_row: int = 1) -> None:
    """Registers the question of ``step``: the text key ``text`` with a button per value of
    ``among``, labelled by the text key ``<label>.<value>``, its data "<prefix>:<data>:<value>"
    (as Questions.choose reads them)."""
    values = tuple(among)

    async def ask(update: Update, context: BotContext) -> None:
        buttons = [(context.t(f"{label}.{value}"), f"{flow.prefix}:{data}:{value}")
                   for value in values]
        await say(update, context.t(text), reply_markup=column(buttons, per_row=per_row))

    flow.question(step)(ask)


def ask_pick(flow: Flow, step: int, text: str) -> None:
    """Registers the question of ``step`` that picks what the flow is about: the text key
    ``text`` with the flow's Pick choices as buttons, or the Pick's ``none`` text when there is
    nothing to pick from."""

    async def ask(update: Update, context: BotContext) -> None:
        pick = flow.pick
        assert pick is not None, f"{flow.name}: no Pick set"
        buttons = await flow.choices(context)
        if not buttons:
            await say(update, context.t(pick.none))
            return
        await say(update, context.t(text), reply_markup=column(buttons))

    flow.question(step)(ask)


def ask_summary(flow: Questions, step: int,
                text: Callable[[BotContext, dict[str, Any]], str | Awaitable[str]]) -> None:
    """Registers the summary at ``step``: ``text`` of the draft (awaited if it looks something
    up), with Simpan / Ubah / Batal."""

    async def ask(update: Update, context: BotContext) -> None:
        shown = text(context, flow.draft(context))
        if inspect.isawaitable(shown):
            shown = await shown
        await say(update, shown, reply_markup=flow.summary_keyboard(context))

    flow.question(step)(ask)
