"""An amount that looks too small, asked back before it is stored: "50" as a month's turnover
gets "Maksudnya Rp 50.000?" with [Ya, Rp 50.000] [Bukan, tetap Rp 50]; typing an amount again
answers too. Used at a visit's figures (handlers.visits) and a grant's amount (handlers.grants).

Only a plain number is asked back ("50", "Rp 50", "Rp. 50,-"): one written with its scale
("50rb", "50.000", "rugi 50") says what was meant. The guess multiplies by a thousand, the unit
people leave out most ("50" for "50 rb"), or by a million when a thousand times is still too
small for the question ("2" when the group's turnover was Rp 3.000.000 last time, "50" for a
grant): the smallest reading that fits. No guess fits: nothing is asked.

A decimal ("1,5", "2.25"), which no whole Rupiah can be, is read in millions ("1,5" is how
"satu setengah juta" is written; as thousands, Rp 1.500 would look too small in its turn):
"Maksudnya Rp 1.500.000?" with the one button [Ya, Rp 1.500.000], or an amount typed again.

The amount waiting for the answer is kept in the draft (``_unsure``), so a restart loses
nothing and a button of an older question is refused.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bot.core.formatting import format_rupiah
from bot.telegram.context import BotContext
from handlers.common import close_buttons, keyboard, say
from handlers.questions import Questions

KEY = "_unsure"
ANSWERS = "amt:(meant|typed)"  # the buttons' data after the flow's prefix
# A number as typed without its scale: digits, maybe "Rp", a sign, a trailing ",-".
_PLAIN = re.compile(r"(?:rp\.?\s*)?-?\s*\d{1,6}\s*(?:,-)?")
# "1,5", "Rp 2.25": millions said as a decimal ("1.500", grouped thousands, is no decimal).
_DECIMAL = re.compile(r"(?:rp\.?\s*)?(\d{1,3})[.,](\d{1,2})")
_YES = frozenset({"ya", "y", "iya", "yes", "betul", "benar"})
_NO = frozenset({"bukan", "tidak", "tdk", "no", "tetap"})
_MULTIPLIERS = (1_000, 1_000_000)

Store = Callable[[Update, BotContext, int], Awaitable[int]]
# The same figure's last value, looked up only when a plain number is typed.
Earlier = Callable[[], Awaitable[int | None]]


def plain(text: str) -> bool:
    """Whether ``text`` is a number written without its scale ("50", "Rp 50", "Rp. 50,-")."""
    return _PLAIN.fullmatch(text.strip().lower()) is not None


def likely_meant(text: str, amount: int, *, floor: int, earlier: int | None = None
                 ) -> int | None:
    """The amount probably meant when ``text`` is a plain number whose ``amount`` looks too
    small: under ``floor``, or under a hundredth of ``earlier`` (the same figure last time);
    None when it looks right, was written with its scale, or no guess fits."""

    def small(value: int) -> bool:
        return value < floor or (earlier is not None and value * 100 < abs(earlier))

    if amount == 0 or not plain(text) or not small(abs(amount)):
        return None
    for multiplier in _MULTIPLIERS:
        if not small(abs(amount) * multiplier):
            return amount * multiplier
    return None


def decimal_meant(text: str) -> int | None:
    """The Rupiah a decimal means, in millions ("1,5" → 1.500.000); None for other text."""
    match = _DECIMAL.fullmatch(text.strip().lower())
    if match is None:
        return None
    return int(match[1]) * 1_000_000 + int(match[2].ljust(6, "0"))


def _pending(flow: Questions, context: BotContext, field: str) -> dict[str, Any] | None:
    unsure = flow.draft(context).get(KEY)
    return unsure if isinstance(unsure, dict) and unsure.get("field") == field else None


async def asked(update: Update, context: BotContext, flow: Questions, *, field: str,
                text: str, amount: int, floor: int, earlier: Earlier | None = None) -> bool:
    """Asks "Maksudnya Rp 50.000?" when the typed ``amount`` of ``field`` looks too small
    (:func:`likely_meant`, with the figure's last value from ``earlier``) and returns True (the
    question waits for the answer); False when it can be stored: it looks right, or it is the
    amount just asked about, typed again."""
    unsure = _pending(flow, context, field)
    flow.draft(context).pop(KEY, None)
    if (unsure is not None and unsure["typed"] == amount) or not plain(text):
        return False  # the same amount typed again is meant as typed
    last = await earlier() if earlier is not None and amount else None
    meant = likely_meant(text, amount, floor=floor, earlier=last)
    if meant is None:
        return False
    await _ask(update, context, flow, field, amount, meant)
    return True


async def asked_decimal(update: Update, context: BotContext, flow: Questions, *, field: str,
                        text: str) -> bool:
    """Asks "Maksudnya Rp 1.500.000?" when ``text``, which no reader took as an amount, is a
    decimal (:func:`decimal_meant`) and returns True; False for any other text."""
    meant = decimal_meant(text)
    if meant is None:
        return False
    await _ask(update, context, flow, field, None, meant)
    return True


async def _ask(update: Update, context: BotContext, flow: Questions, field: str,
               typed: int | None, meant: int) -> None:
    flow.draft(context)[KEY] = {"field": field, "typed": typed, "meant": meant}
    shown = format_rupiah(meant, context.lang)
    rows = [[(context.t("amount.yes_meant", amount=shown), f"{flow.prefix}:amt:meant")]]
    if typed is not None:
        rows.append([(context.t("amount.no_typed", amount=format_rupiah(typed, context.lang)),
                      f"{flow.prefix}:amt:typed")])
    await say(update, context.t("amount.meant", amount=shown), reply_markup=keyboard(rows))


def waiting(context: BotContext, flow: Questions) -> str | None:
    """The amount "Maksudnya …?" offers while it waits for an answer (formatted), else None:
    a shortcut past the question (Simpan sekarang) must not drop the figure typed."""
    unsure = flow.draft(context).get(KEY)
    return format_rupiah(unsure["meant"], context.lang) if unsure else None


def typed_answer(context: BotContext, flow: Questions, field: str, text: str) -> int | None:
    """The amount a typed "ya" (the one meant) or "bukan"/"tetap" (the one typed) chooses
    while "Maksudnya …?" waits for ``field``; None for any other text (read as a new amount)."""
    unsure = _pending(flow, context, field)
    word = text.strip().lower().rstrip(".!")
    if unsure is None or word not in _YES | _NO:
        return None
    flow.draft(context).pop(KEY, None)
    # "bukan" to a decimal read in millions: nothing chosen, the text is read as typed.
    return unsure["meant"] if word in _YES else unsure["typed"]


async def answered(update: Update, context: BotContext, flow: Questions, field: str | None,
                   store: Store) -> int:
    """A press on [Ya, Rp 50.000] or [Bukan, tetap Rp 50]: the amount chosen, noted under the
    question, is stored by ``store``; a button of a question no longer asked is refused."""
    query = update.callback_query
    assert query is not None and query.data is not None
    unsure = _pending(flow, context, field) if field is not None else None
    if unsure is None:
        await query.answer(context.t("common.old_button"))
        return flow.current(context) or 0
    flow.draft(context).pop(KEY, None)
    amount = unsure["meant"] if query.data.endswith(":meant") else unsure["typed"]
    if amount is None:  # no "Bukan" button was shown for a decimal: a forged press
        await query.answer(context.t("common.old_button"))
        return flow.current(context) or 0
    await close_buttons(query, format_rupiah(amount, context.lang))
    return await store(update, context, amount)
