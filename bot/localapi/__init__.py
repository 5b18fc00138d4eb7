"""A local, in-process Telegram Bot API server for tests and the terminal demo.

``LocalBotApi`` speaks the HTTP Bot API the way python-telegram-bot uses it (POST to
``/bot<token>/<method>`` with url-encoded or multipart bodies), so a real PTB ``Application``
can run against it unchanged: pass :attr:`LocalBotApi.base_url` to
``ApplicationBuilder().base_url(...)`` and :attr:`LocalBotApi.base_file_url` to
``.base_file_url(...)``.

Besides answering the bot, the server plays the users: ``send_text``, ``press_button``,
``share_contact`` ... queue updates that the bot fetches with real long polling, and every
message the bot sends is recorded as a :class:`SentMessage`. Faults Telegram produces in real
life (blocked users, flood limits, redelivery after a crash) can be injected on purpose, and
so can the failures of a bad minute (:class:`Faults`: 5xx answers, timeouts, dropped
connections, slow answers, updates delivered twice, bursts of 429), at random from a seed or
one by one with :meth:`LocalBotApi.fail_next`; ``fault_counts`` says how many were injected.

The server validates what real Telegram validates where a bug would otherwise slip through
unnoticed: HTML / MarkdownV2 markup, message and caption length, callback data length,
edits that change nothing, double answers to a callback query.

Its parts: ``records`` (what it stores and is told), ``markup`` (parse modes), ``server`` (the
state and HTTP), ``users`` (what users do, what a test reads back), ``delivery`` (updates and
injected faults), ``methods`` (the Bot API methods). An Application is started and stopped
against it with bot.lifecycle's pair, re-exported here.
"""

from bot.lifecycle import start_application, stop_application
from bot.localapi.records import CallbackAnswer, Faults, SentMessage
from bot.localapi.server import LocalBotApi

__all__ = [
    "CallbackAnswer",
    "Faults",
    "LocalBotApi",
    "SentMessage",
    "start_application",
    "stop_application",
]
