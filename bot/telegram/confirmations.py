"""Confirmations of a typed answer ("✓ Rp 200.000") held back to ride on the next message.

Each message costs the bot a Bot API call (an HTTP round trip and PTB's parsing of the answer)
and costs a mentor with a weak signal one more message to wait for. So while an update is
handled (``holding``, around each update in bot.telegram.processor) a confirmation is held,
and the next plain text said in that chat (handlers.common.say) carries it on top:
"✓ Rp 200.000\n\nBerapa kas kelompok saat ini?". Whatever else goes to the chat first (a
photo, a location request, a message sent not through say) is preceded by the held
confirmation on its own (PendampingBot in bot.app, ``send_held``), so the order the user reads
stays the order things happened; and what is still held when the update ends is sent on its
own then: a confirmation is never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError

log = logging.getLogger(__name__)

# Telegram's limit for a message's text: a confirmation that would push the next message over
# it is sent on its own instead.
TEXT_LIMIT = 4096


@dataclass
class Held:
    """The confirmations waiting in one update's chat."""

    chat_id: int
    texts: list[str] = field(default_factory=list)


_held: ContextVar[Held | None] = ContextVar("held_confirmations", default=None)


def hold(chat_id: int, text: str) -> bool:
    """Holds ``text`` for the next message to ``chat_id``; False outside an update's handling
    (a job, a test calling a handler directly) or for another chat: then the caller sends it."""
    held = _held.get()
    if held is None or held.chat_id != chat_id:
        return False
    held.texts.append(text)
    return True


def fold(chat_id: int, text: str) -> str:
    """``text`` with the confirmations held for ``chat_id`` on top (they are taken); ``text`` as
    it is when none are held or together they would be too long (then they stay held, and go
    out on their own just before it, ``send_held``)."""
    held = _held.get()
    if held is None or held.chat_id != chat_id or not held.texts:
        return text
    folded = "\n\n".join([*held.texts, text])
    if len(folded) > TEXT_LIMIT:
        return text
    held.texts.clear()
    return folded


def drop() -> None:
    """Forgets what is held: the update is handled again from the start (a database failure,
    handlers.system), which says the same confirmations once more."""
    held = _held.get()
    if held is not None:
        held.texts.clear()


async def send_held(bot: Bot, chat_id: Any) -> None:
    """Sends what is held for ``chat_id`` as one message, before something else goes there."""
    held = _held.get()
    if held is None or held.chat_id != chat_id:
        return
    text = _take(held)  # taken first: the send below comes back through PendampingBot
    if text is not None:
        await bot.send_message(held.chat_id, text)


def _take(held: Held) -> str | None:
    """What ``held`` holds, as one message's text (None: nothing); it holds nothing after."""
    if not held.texts:
        return None
    text = "\n\n".join(held.texts)[:TEXT_LIMIT]
    held.texts.clear()
    return text


async def holding(update: object, coroutine: Awaitable[Any]) -> None:
    """Runs the handling of ``update`` with confirmations held, then sends what is left."""
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is None:
        await coroutine
        return
    held = Held(chat.id)
    token = _held.set(held)
    try:
        await coroutine
    finally:
        _held.reset(token)
    text = _take(held)
    if text is not None:
        try:
            await chat.get_bot().send_message(chat.id, text)
        except TelegramError as error:
            log.warning("could not send a confirmation (%s)", type(error).__name__)
