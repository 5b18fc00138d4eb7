"""A question of several choices (a visit's activities, a group's binding ties, the households
who attended a training): each press ticks or unticks a choice in place, by editing the
keyboard, and Selesai goes on.

Registered in one line; its answers come from :meth:`TickBoxes.answers`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.telegram.context import BotContext
from handlers.common import (
    Callback,
    button_choice,
    close_buttons,
    keyboard,
    message_text,
    pressed,
    say,
)
from handlers.flow import TEXT
from handlers.questions import Questions

Choices = Callable[[dict[str, Any]], list[tuple[str, str]]]  # the draft → (value, label)s
# Button rows under Selesai, given the values ticked (a visit's "Simpan sekarang").
MoreRows = Callable[[BotContext, list[str]], list[list[tuple[str, str]]]]


class TickBoxes:
    """The question of ``step``: the text key ``text`` with a button per value of ``among``,
    "✅ "/"▫️ " and the text key "<label>.<value>", its data "<prefix>:<data>:<value>", then
    Selesai ("<prefix>:<data>:done"), which asks ``then``. The values ticked are stored in the
    draft's ``field``: in the order of ``among`` (``in_order``), else in the order ticked.
    Selesai with none ticked: the text key ``need``, as an alert over the buttons (``alert``)
    or said before the question again.

    Choices that differ per draft (a group's households) come from ``choices`` instead of
    ``among`` and ``label``: the draft's (value, label) pairs, the values matching ``values``
    (a regex, for the buttons' pattern); a press of a value not among them is an old button.
    ``more``: rows of the flow's own buttons under Selesai, redrawn with each tick."""

    def __init__(self, flow: Questions, step: int, text: str, *, among: Iterable[str] = (),
                 label: str = "", data: str, field: str, then: int, need: str,
                 alert: bool = False, in_order: bool = True, choices: Choices | None = None,
                 values: str | None = None, more: MoreRows | None = None) -> None:
        assert (choices is None) == (values is None), "choices come with their values' pattern"
        self.flow, self.step, self.then = flow, step, then
        self.values = tuple(among)
        self.label, self.data, self.field, self.need = label, data, field, need
        self.alert, self.in_order = alert, in_order
        self._choices, self._pattern, self._more = choices, values, more

        async def ask(update: Update, context: BotContext) -> None:
            await say(update, context.t(text), reply_markup=self.keyboard(
                context, self.flow.draft(context).get(field, [])))

        flow.question(step)(ask)

    def choices(self, context: BotContext) -> list[tuple[str, str]]:
        """The values offered now, each with its label."""
        if self._choices is not None:
            return self._choices(self.flow.draft(context))
        return [(value, context.t(f"{self.label}.{value}")) for value in self.values]

    def keyboard(self, context: BotContext, chosen: list[str]) -> InlineKeyboardMarkup:
        rows = [[(("✅ " if value in chosen else "▫️ ") + label,
                  f"{self.flow.prefix}:{self.data}:{value}")]
                for value, label in self.choices(context)]
        rows.append([(context.t("common.done"), f"{self.flow.prefix}:{self.data}:done")])
        if self._more is not None:
            rows.extend(self._more(context, chosen))
        return keyboard(rows)

    def shown(self, context: BotContext, chosen: list[str]) -> str:
        """The values ticked, in words ("" for none)."""
        labels = dict(self.choices(context))
        return ", ".join(labels.get(value, value) for value in chosen)

    async def done(self, update: Update, context: BotContext) -> int:
        """Selesai (or typed "selesai"): the next question, once one at least is ticked."""
        chosen, query = self.flow.draft(context).get(self.field, []), update.callback_query
        if not chosen and query is not None and self.alert:
            await query.answer(context.t(self.need), show_alert=True)
            return self.step
        if query is not None:  # the choice noted under the question, if any
            await close_buttons(query, self.shown(context, chosen))
        if not chosen:
            return await self.flow.retry(update, context, self.step, context.t(self.need))
        return await self.flow.next(update, context, self.then)

    async def press(self, update: Update, context: BotContext) -> int:
        """Ticks or unticks a value in place; Selesai goes on."""
        query = update.callback_query
        assert query is not None
        if pressed(query) == "done":
            return await self.done(update, context)
        values = [value for value, _ in self.choices(context)]
        value = await button_choice(query, context, values)
        if value is None:
            return self.step
        draft = self.flow.draft(context)
        chosen = [v for v in draft.get(self.field, []) if v != value]  # ticked: unticked
        if len(chosen) == len(draft.get(self.field, [])):
            chosen.append(value)
        draft[self.field] = [v for v in values if v in chosen] if self.in_order else chosen
        await query.answer()
        markup = self.keyboard(context, draft[self.field])
        # The buttons as they stand now (a tick may add one, as 💾 Simpan sekarang): a label
        # typed next names one of these (Questions.typed_press).
        message = query.message
        self.flow.note_buttons(
            context, self.step, [(button.text, str(button.callback_data))
                                 for row in markup.inline_keyboard for button in row],
            message.message_id if message is not None else None)
        try:
            await query.edit_message_reply_markup(reply_markup=markup)
        except BadRequest:  # the same keyboard (a double tap): nothing to change
            pass
        return self.step

    def answers(self, typed: str | None = None) -> dict[Any, Callback]:
        """The presses, anchored to the values; with ``typed`` (a text key), typed "selesai"
        finishes too and other text is told ``typed`` before the question again."""
        pattern = self._pattern or "|".join(self.values)
        found: dict[Any, Callback] = {f"{self.data}:({pattern}|done)": self.press}
        if typed is not None:
            async def typed_text(update: Update, context: BotContext) -> int:
                """Typed "selesai" finishes the choice; a choice's name or number ticks it
                (Questions.retry); other text is explained."""
                if message_text(update).strip().lower() in {"selesai", "done"}:
                    return await self.done(update, context)
                return await self.flow.retry(update, context, self.step, context.t(typed),
                                             numbers=True)
            found[TEXT] = typed_text
        return found
