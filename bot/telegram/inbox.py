"""Updates are written to the database before Telegram hears they arrived, then handled from there.

python-telegram-bot's Updater confirms an update (the next getUpdates offset, or the webhook's
200) as soon as it is in memory, before its handler ends; a crash then loses it, and the answer
a mentor just gave is forgotten. Here an update is committed to ``received_update`` first:

- long polling: the next getUpdates (whose offset confirms the batch) is asked only after the
  batch is committed; if the database is away, the offset stays and Telegram keeps them;
- webhook: 200 only after the commit (503 otherwise, and Telegram posts it again).

Updates go on to ``application.update_queue`` as before, so the per-user order of
bot.telegram.processor holds. Each is marked handled in the transaction that writes the state it
produced (bot.telegram.persistence) or the record it saved (models.updates); a restarted bot first
puts what is still unhandled back in the queue, in arrival order, before it receives anything new.
A redelivery (same id, same message or press) is recognised on arrival and never queued twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.telegram.collector import IdleCollector
from bot.telegram.ratelimit import retry_seconds
from models import sqlite_trips
from models import updates as update_queries
from models.tables import utcnow

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What a database that is away or locked raises.
STORE_ERRORS = (SQLAlchemyError, OSError, ConnectionError, TimeoutError)
# Message-like parts of an update: the chat and message id (and edit time) name the message.
_MESSAGES = ("message", "edited_message", "channel_post", "edited_channel_post",
             "business_message", "edited_business_message")


# Updates per getUpdates (Telegram's default is 100): a batch is read from JSON and copied for
# the database in one go, on the event loop; 100 at once held it for 30-50 ms, 25 for under 10.
# Batches are usually small; after a pause the backlog comes in a few more requests.
POLL_LIMIT = 25
# While this many updates or more are being handled or wait for their turn, the next poll waits
# POLL_LINGER seconds (or until fewer are left) so that it brings a bigger batch: each batch
# costs a getUpdates and a commit. Meanwhile the bot has more than that much work at hand, so
# nobody waits longer for it; below BUSY (a quiet bot) it polls again at once.
BUSY = 16
POLL_LINGER = 0.05

# Told to a user whose update cannot be stored yet (the database is away): it will be handled.
Waiting = Callable[[Update], Awaitable[None]]


def fingerprint(payload: dict[str, Any]) -> str:
    """What the update carries, short: a redelivery has the same, a new update with a reused
    id does not (message ids and button-press ids are never reused)."""
    query = payload.get("callback_query")
    if isinstance(query, dict) and query.get("id"):
        return f"q:{query['id']}"
    for kind in _MESSAGES:
        message = payload.get(kind)
        if isinstance(message, dict) and "message_id" in message:
            chat = (message.get("chat") or {}).get("id")
            return f"m:{chat}:{message['message_id']}:{message.get('edit_date') or 0}"
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"h:{digest[:40]}"


def arrival(payload: dict[str, Any]) -> update_queries.Arrival:
    """The update as Telegram sent it: its JSON, not the Update made from it (turning that
    back into a dict cost more than parsing it)."""
    return update_queries.Arrival(payload["update_id"], fingerprint(payload), payload)


# An update and the JSON it was read from.
Received = tuple[Update, dict[str, Any]]


async def fetch(bot: Bot, *, offset: int | None, timeout: float, limit: int,
                allowed_updates: Sequence[str] | None) -> list[Received]:
    """getUpdates, keeping each update's JSON beside the Update (PTB's get_updates keeps only the
    latter). The same request as PTB's: the polling request object, the long poll's timeout on
    top of its read timeout. (ExtBot.get_updates also fills in arbitrary callback data, which
    this bot does not use.)"""
    polling = bot._request[0]  # getUpdates' own request object, as in PTB
    payloads = await bot._post(  # PTB's private call: the one way to the raw JSON
        "getUpdates", {"timeout": timeout, "offset": offset, "limit": limit,
                       "allowed_updates": allowed_updates},
        read_timeout=(polling.read_timeout or 0) + timeout)
    return [(Update.de_json(payload, bot), payload) for payload in payloads]


class Inbox:
    """Receives updates for one Application (polling or webhook) and replays what waits."""

    def __init__(self, application: Application,
                 sessionmaker: async_sessionmaker[AsyncSession], *,
                 keep_hours: float = 48, body_limit: int = 256 * 1024,
                 on_waiting: Waiting | None = None) -> None:
        self.application = application
        self.sessionmaker = sessionmaker
        self.keep = timedelta(hours=keep_hours)
        self.body_limit = body_limit
        # Ids handled before fingerprints were stored (migration 0008): matched by id alone.
        self.carried_over_upto = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._secret = ""
        self.on_waiting = on_waiting
        # Chats told to wait during the current database outage (each once).
        self._told: set[int] = set()

    @property
    def running(self) -> bool:
        return bool(self._tasks) or self._runner is not None

    async def take(self, received: Sequence[Received]) -> list[Update]:
        """Commits the updates not seen before and queues them; returns those."""
        updates = [update for update, _ in received]
        arrivals = [arrival(payload) for _, payload in received]
        # One small insert (a poll's updates): on the loop's thread with SQLite.
        with sqlite_trips.on_the_loop():
            async with self.sessionmaker() as session:
                fresh = await update_queries.receive(session=session, arrivals=arrivals,
                                                     carried_over_upto=self.carried_over_upto)
        kept = {(item.update_id, item.fingerprint) for item in fresh}
        queued = [update for update, item in zip(updates, arrivals, strict=True)
                  if (item.update_id, item.fingerprint) in kept]
        if len(updates) > len(queued):
            log.info("%s redelivered update(s) recognised and left out",
                     len(updates) - len(queued))
        self._told.clear()
        for update in queued:
            await self.application.update_queue.put(update)
        return queued

    async def _not_stored(self, updates: Sequence[Update], error: Exception) -> None:
        """Tells each user once per outage that the message arrived and will be handled."""
        log.warning("could not store %s received update(s) (%s); Telegram keeps them",
                    len(updates), type(error).__name__)
        if self.on_waiting is None:
            return
        for update in updates:
            chat = update.effective_chat
            if chat is None or chat.id in self._told:
                continue
            self._told.add(chat.id)
            try:
                await self.on_waiting(update)
            except Exception:  # noqa: BLE001 - only a courtesy
                log.warning("could not tell a user to wait for the database")

    async def replay(self) -> int:
        """Queues what was received and not handled before this start, in arrival order."""
        async with self.sessionmaker() as session:
            waiting = await update_queries.waiting(session=session)
            self.carried_over_upto = await update_queries.carried_over_upto(session=session)
        bot = self.application.bot
        # They come all at once now, but were sent at a person's pace: not a flood.
        exempt = getattr(self.application.update_processor, "exempt", None)
        for item in waiting:
            if exempt is not None:
                exempt.add(item.update_id)
            await self.application.update_queue.put(Update.de_json(item.payload, bot))
        if waiting:
            log.info("handling %s update(s) received before the restart", len(waiting))
        return len(waiting)

    # --- long polling ------------------------------------------------------------------------

    async def start_polling(self, *, timeout: float, allowed_updates: Sequence[str] | None,
                            drop_pending_updates: bool | None = None) -> None:
        """Deletes a webhook (polling and webhook exclude each other), then polls."""
        await self.application.bot.delete_webhook(drop_pending_updates=drop_pending_updates)
        self._start(self._poll(timeout, allowed_updates), "inbox-poll")

    async def _poll(self, timeout: float, allowed_updates: Sequence[str] | None) -> None:
        bot = self.application.bot
        offset: int | None = None
        pause = 0.0
        while True:
            if pause:
                await asyncio.sleep(pause)
            received: Sequence[Received] = ()
            try:
                received = await fetch(bot, offset=offset, timeout=timeout, limit=POLL_LIMIT,
                                       allowed_updates=allowed_updates)
                if received:
                    await self.take(received)
                    # Only now may Telegram forget them: the next poll confirms this batch.
                    offset = received[-1][0].update_id + 1
                    await self._linger()
                pause = 0.0
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                log.critical("Telegram refuses the bot token: no updates can be received")
                raise
            except RetryAfter as error:
                pause = retry_seconds(error)
            except (Conflict, NetworkError, TelegramError) as error:
                pause = min(max(pause * 2, 1.0), 30.0)
                log.warning("could not fetch updates (%s); trying again in %.0f s",
                            type(error).__name__, pause)
            except STORE_ERRORS as error:  # the database: the offset stays put
                # Tried again soon: a database locked for a moment should cost a moment.
                pause = min(max(pause * 2, 0.25), 5.0)
                await self._not_stored([update for update, _ in received], error)
            except Exception:
                # A bug, not an outage: said loudly, and tried again (Telegram keeps them).
                pause = min(max(pause * 2, 1.0), 30.0)
                log.exception("could not take received updates")

    def _at_hand(self) -> int:
        """Updates received and not finished: being handled, or waiting for their turn."""
        processor = self.application.update_processor
        return self.application.update_queue.qsize() + getattr(processor, "unfinished", 0)

    async def _linger(self) -> None:
        """Lets the next batch grow while the bot is busy (``BUSY``), at most ``POLL_LINGER``."""
        if self._at_hand() < BUSY:
            return
        loop = asyncio.get_running_loop()
        until = loop.time() + POLL_LINGER
        while self._at_hand() >= BUSY and loop.time() < until:
            await asyncio.sleep(POLL_LINGER / 5)

    # --- webhook -----------------------------------------------------------------------------

    async def start_webhook(self, *, listen: str, port: int, url_path: str, webhook_url: str,
                            secret_token: str, max_connections: int = 40,
                            allowed_updates: Sequence[str] | None = None,
                            drop_pending_updates: bool | None = None) -> None:
        """Serves the webhook, then tells Telegram where it is."""
        self._secret = secret_token
        app = web.Application(client_max_size=self.body_limit)
        app.router.add_post("/" + url_path.strip("/"), self._posted)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, listen, port).start()
        self._runner = runner
        log.info("webhook listening on %s:%s", listen, port)
        await self.application.bot.set_webhook(
            webhook_url, secret_token=secret_token, max_connections=max_connections,
            allowed_updates=allowed_updates, drop_pending_updates=drop_pending_updates)

    async def _posted(self, request: web.Request) -> web.Response:
        """One update from Telegram: secret and size first, the body only then; 200 once
        committed."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return web.Response(status=403)
        if request.content_length is not None and request.content_length > self.body_limit:
            return web.Response(status=413)
        try:
            body = await request.read()  # client_max_size stops a body without a length
            data = json.loads(body)
            update = Update.de_json(data, self.application.bot) \
                if isinstance(data, dict) and type(data.get("update_id")) is int else None
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413)
        except (ValueError, TypeError, KeyError, AttributeError):
            update = None
        if update is None:
            return web.Response(status=400)
        try:
            await self.take([(update, data)])
        except STORE_ERRORS as error:  # not stored: Telegram must post it again
            await self._not_stored([update], error)
            return web.Response(status=503)
        return web.Response(status=200)

    # --- housekeeping ------------------------------------------------------------------------

    def _start(self, coroutine: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coroutine, name=name))

    def start_pruning(self, every_seconds: float = 3600) -> None:
        """Forgets handled updates older than the safe window, now and then."""
        self._start(self._prune_every(every_seconds), "inbox-prune")

    def start_collecting(self) -> None:
        """Python's full garbage-collection passes only while no update is at hand
        (bot.telegram.collector)."""
        self._start(IdleCollector(self._at_hand).run(), "idle-collector")

    async def _prune_every(self, every_seconds: float) -> None:
        while True:
            try:
                await self.prune()
            except Exception as error:  # noqa: BLE001 - tried again next time
                log.warning("could not prune handled updates (%s)", type(error).__name__)
            await asyncio.sleep(every_seconds)

    async def prune(self) -> int:
        async with self.sessionmaker() as session:
            return await update_queries.prune(session=session, before=utcnow() - self.keep)

    async def stop(self) -> None:
        """Stops receiving; what was received and not handled stays for the next start."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            # Cancelled again until it ends: a cancellation can be lost in a library (Python
            # 3.11's wait_for swallows one that comes as what it waits for is done), and a
            # stop must not then wait for the task's next hour of sleep.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
