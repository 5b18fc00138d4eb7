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

The HTTP client is aiohttp rather than PTB's httpx: the bot makes one request per answer, and
httpx's layers (httpcore, anyio, h11) cost about a quarter of the bot's CPU per update; aiohttp
(already here for the webhook server) does the same request for a fraction of that.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from functools import cache

import aiohttp
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.core.settings import Settings

log = logging.getLogger(__name__)

SERVER_ERROR_RETRIES = 2
SERVER_ERROR_PAUSE_SECONDS = 0.5  # doubled on each try
# aiohttp errors raised before a byte of the request was written: the connection could not be
# made, or no pool connection came free in time (aiohttp reports both as a connect timeout).
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# Whatever else aiohttp raises, and a timeout, may come after the request (or part of it) was
# written: a reset or closed connection, a missing or cut answer, no answer in time.
_MAYBE_SENT = (aiohttp.ClientError, TimeoutError)


class NotLeading(NetworkError):
    """This instance no longer leads (its lease ran out or was taken over): the request was
    not sent, and another instance will do the work."""

    def __init__(self) -> None:
        super().__init__("not the leader (any more): nothing was sent to Telegram")


def _chosen(value, default):
    """PTB's ``DEFAULT_NONE`` means "not given": the request object's own value then."""
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


def _plus(*seconds: float | None) -> float | None:
    return None if any(s is None for s in seconds) else sum(seconds)


class TelegramRequest(BaseRequest):
    """PTB's request interface over an aiohttp session, trying a 5xx answer again (Telegram did
    nothing: resending is safe), and sending nothing once ``may_send()`` says no (bot.leader;
    None: always allowed).

    Timeouts follow PTB's four, mapped onto what aiohttp offers: ``pool`` + ``connect`` bound
    getting a connection (aiohttp times a wait for a free one and the connecting together),
    ``connect`` alone the socket's connect, ``read`` each wait for the answer once the request
    is written. aiohttp has no timeout per write, so the whole request is bounded by the sum of
    the four (``media_write`` instead of ``write`` for uploads): a peer that stops reading an
    upload still ends in a timeout."""

    def __init__(self, *, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0,
                 ssl_context: ssl.SSLContext | None = None,
                 server_error_retries: int = SERVER_ERROR_RETRIES,
                 may_send: Callable[[], bool] | None = None) -> None:
        self.connection_pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.connect_timeout = connect_timeout
        self.pool_timeout = pool_timeout
        self.media_write_timeout = media_write_timeout
        self.ssl_context = ssl_context
        self.server_error_retries = server_error_retries
        self.may_send = may_send
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        # PTB adds getUpdates' long-poll timeout to this.
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._open()

    def _open(self) -> None:
        # An aiohttp session belongs to the loop it was made in: made inside it, not in
        # __init__, which may run before the loop does.
        connector = aiohttp.TCPConnector(limit=self.connection_pool_size, limit_per_host=0,
                                         ssl=self.ssl_context if self.ssl_context else True)
        self._session = aiohttp.ClientSession(
            connector=connector, headers={"User-Agent": self.USER_AGENT},
            # Proxies are not used: the environment's settings are not read either.
            trust_env=False)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(self, url, method, request_data=None,
                         read_timeout=BaseRequest.DEFAULT_NONE,
                         write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE,
                         pool_timeout=BaseRequest.DEFAULT_NONE):
        if self._session is None:
            # A Bot never initialized (the broadcast outbox's) still sends, as it did with
            # httpx, whose client exists from the start; after shutdown nothing is sent.
            self._open()
        elif self._session.closed:
            raise RuntimeError("This TelegramRequest is shut down")
        files = request_data.multipart_data if request_data else None
        read = _chosen(read_timeout, self._read_timeout)
        connect = _chosen(connect_timeout, self.connect_timeout)
        pool = _chosen(pool_timeout, self.pool_timeout)
        write = _chosen(write_timeout, self.media_write_timeout if files else self.write_timeout)
        timeout = aiohttp.ClientTimeout(total=_plus(pool, connect, write, read),
                                        connect=_plus(pool, connect), sock_connect=connect,
                                        sock_read=read)
        for attempt in range(self.server_error_retries + 1):
            if self.may_send is not None and not self.may_send():
                raise NotLeading
            code, payload = await self._send(url, method, request_data, files, timeout)
            if code < 500 or attempt == self.server_error_retries:
                return code, payload
            # The URL holds the token: only the status is logged.
            log.info("Telegram answered %s; trying again (%s of %s)", code, attempt + 1,
                     self.server_error_retries)
            await asyncio.sleep(SERVER_ERROR_PAUSE_SECONDS * 2 ** attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, url: str, method: str, request_data: RequestData | None, files,
                    timeout: aiohttp.ClientTimeout) -> tuple[int, bytes]:
        """One HTTP request; aiohttp's errors become PTB's, the aiohttp one as the cause."""
        assert self._session is not None
        if files:
            data = _form(request_data, files)
            headers = None
        elif request_data is not None:
            # Telegram takes JSON for everything but uploads; the parameters are encoded as PTB
            # would encode them for a form, one json.dumps cheaper than URL-encoding them.
            data = request_data.json_payload
            headers = {"Content-Type": "application/json"}
        else:
            data = headers = None
        try:
            async with self._session.request(method, url, data=data, headers=headers,
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise TimedOut("Timed out getting a connection to Telegram (or a free one in the "
                           "pool): the request was not sent") from error
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _form(request_data: RequestData, files) -> aiohttp.FormData:
    """An upload as multipart form data: the parameters as fields, the files as parts with
    their names and types."""
    # quote_fields=False: file names go out in UTF-8, as httpx sent them, not %-escaped.
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


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
                           media_write_timeout=max(seconds, 20.0), ssl_context=tls_context())


def maybe_delivered(error: BaseException) -> bool:
    """The request left and no answer came back: Telegram may have done it. Never resend."""
    if isinstance(error, BadRequest) or not isinstance(error, NetworkError):
        return False
    cause = error.__cause__
    if isinstance(cause, _NOT_SENT):
        return False
    return isinstance(cause, _MAYBE_SENT) or isinstance(error, TimedOut)


def worth_retrying(error: BaseException) -> bool:
    """Telegram had a bad moment (5xx) or the request never left: nothing arrived, and the
    same request may well work later. Not for a refusal (400, 403) or a flood wait (429)."""
    return (isinstance(error, NetworkError) and not isinstance(error, BadRequest)
            and not maybe_delivered(error))
