"""Requests to Telegram: their timeouts, a retry when Telegram says it did nothing, and what a
failed send means for "never twice".

A send that fails in one of three ways:
- Telegram answered with an error (5xx, 400, ...): nothing was done, so it may be sent again.
  A 5xx is tried again here a couple of times, a moment apart, before anyone sees it.
- It never left this process (no connection, no free connection in the pool): sent again safely.
- It left, and no answer came back (a timeout, a dropped connection): it may have arrived.
  It is never sent again, so nobody gets a message twice (:func:`maybe_delivered`).

Every request, whoever makes it (answers, the reminder sweep, the broadcast outbox, polling),
passes :meth:`TelegramRequest.do_request`, the one place that asks the leadership whether this
instance may still talk to Telegram (bot.leader): as late as possible before the request
leaves. A refused request is :class:`NotLeading`, one that never left.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from functools import cache

import httpx
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import HTTPXRequest

from bot.core.settings import Settings

log = logging.getLogger(__name__)

SERVER_ERROR_RETRIES = 2
SERVER_ERROR_PAUSE_SECONDS = 0.5  # doubled on each try
# httpx errors raised before the request reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class NotLeading(NetworkError):
    """This instance no longer leads (its lease ran out or was taken over): the request was
    not sent, and another instance will do the work."""

    def __init__(self) -> None:
        super().__init__("not the leader (any more): nothing was sent to Telegram")


class TelegramRequest(HTTPXRequest):
    """PTB's HTTPXRequest, trying a 5xx answer again (Telegram did nothing: resending is safe),
    and sending nothing once ``may_send()`` says no (bot.leader; None: always allowed)."""

    def __init__(self, *, server_error_retries: int = SERVER_ERROR_RETRIES,
                 may_send: Callable[[], bool] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.server_error_retries = server_error_retries
        self.may_send = may_send

    async def do_request(self, url, method, request_data=None, **timeouts):
        for attempt in range(self.server_error_retries + 1):
            if self.may_send is not None and not self.may_send():
                raise NotLeading
            code, payload = await super().do_request(url, method, request_data, **timeouts)
            if code < 500 or attempt == self.server_error_retries:
                return code, payload
            # The URL holds the token: only the status is logged.
            log.info("Telegram answered %s; trying again (%s of %s)", code, attempt + 1,
                     self.server_error_retries)
            await asyncio.sleep(SERVER_ERROR_PAUSE_SECONDS * 2 ** attempt)
        raise AssertionError("unreachable")  # pragma: no cover


@cache
def tls_context() -> ssl.SSLContext:
    """The certificate check for Telegram's HTTPS, made once: reading the system's CA bundle
    takes about 30 ms, and every request object (the bot's, its polling, the outbox's two)
    would otherwise read it again."""
    return ssl.create_default_context()


def telegram_request(settings: Settings, *, pool_size: int,
                     may_send: Callable[[], bool] | None = None) -> TelegramRequest:
    """A request object with the configured timeouts (uploads get at least PTB's 20 s),
    refusing to send once ``may_send()`` says no."""
    seconds = settings.telegram_timeout_seconds
    return TelegramRequest(may_send=may_send, connection_pool_size=pool_size, read_timeout=seconds,
                           write_timeout=seconds, connect_timeout=seconds,
                           media_write_timeout=max(seconds, 20.0),
                           httpx_kwargs={"verify": tls_context()})


def maybe_delivered(error: BaseException) -> bool:
    """The request left and no answer came back: Telegram may have done it. Never resend."""
    if isinstance(error, BadRequest) or not isinstance(error, NetworkError):
        return False
    cause = error.__cause__
    if isinstance(cause, _NOT_SENT):
        return False
    return isinstance(cause, httpx.HTTPError) or isinstance(error, TimedOut)


def worth_retrying(error: BaseException) -> bool:
    """Telegram had a bad moment (5xx) or the request never left: nothing arrived, and the
    same request may well work later. Not for a refusal (400, 403) or a flood wait (429)."""
    return (isinstance(error, NetworkError) and not isinstance(error, BadRequest)
            and not maybe_delivered(error))
