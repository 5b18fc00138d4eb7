"""The server itself: its state, its HTTP routes and the helpers every part of it uses."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import itertools
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Self

from aiohttp import web

from bot.localapi.delivery import Delivery
from bot.localapi.methods import BotMethods
from bot.localapi.records import (
    _SEND_METHODS,
    _SERVER_ERRORS,
    AnswerListener,
    ApiCall,
    BotApiError,
    CallbackAnswer,
    Faults,
    LocalUser,
    SentListener,
    SentMessage,
    _bad_request,
    _Params,
    _QueuedUpdate,
    _RateRule,
    _StoredFile,
    _TargetedFault,
)
from bot.localapi.users import UserSide

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class LocalBotApi(UserSide, Delivery, BotMethods):
    """An in-process Telegram Bot API server with simulated users (see bot.localapi).

    State lives in memory and is only touched from the event loop; every request handler runs
    to completion without awaiting between reading and changing state, so no locks are needed.
    The state is set up here and shared by the parts the class is made of: what the users do
    and what a test reads back (bot.localapi.users), how updates reach the bot and the faults
    on the way (bot.localapi.delivery), and the Bot API methods (bot.localapi.methods).
    """

    def __init__(
        self,
        *,
        bot_id: int = 1000,
        bot_username: str = "pendamping_kube_bot",
        bot_first_name: str = "Pendamping KUBE",
        strict_chats: bool = False,
        first_update_id: int = 1,
        faults: Faults | None = None,
    ) -> None:
        """``strict_chats``: refuse to message users who never wrote to the bot (Telegram does,
        with 403 "bot can't initiate conversation"); off by default so tests may notify an
        admin who has not pressed /start yet. ``faults``: failures injected at random (off
        by default; see :class:`Faults` and :meth:`fail_next`)."""
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.strict_chats = strict_chats
        self.calls: collections.Counter[str] = collections.Counter()
        self.requests: list[ApiCall] = []
        self.webhook: dict[str, Any] | None = None
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}

        self._runner: web.AppRunner | None = None
        self._pusher: asyncio.Task[None] | None = None
        # What the webhook pusher saw: (update id, HTTP status or error name) per attempt.
        self.webhook_attempts: list[tuple[int, str]] = []
        self._host = "127.0.0.1"
        self._port = 0
        self._closing = False

        self._users: dict[int, LocalUser] = {}
        self._started_chats: set[int] = set()
        self._blocked: set[int] = set()
        self._rate_rules: list[_RateRule] = []
        self._limits: tuple[int, int] | None = None
        self._recent_overall: collections.deque[float] = collections.deque()
        self._recent_per_chat: dict[int, collections.deque[float]] = {}
        self.faults = Faults()
        self._rng = random.Random(0)
        self.set_faults(faults or Faults())
        # Injected faults by kind (Faults), for a test to report.
        self.fault_counts: collections.Counter[str] = collections.Counter()
        self._targeted: list[_TargetedFault] = []
        self._burst_left = 0

        self._next_update_id = first_update_id
        self._all_updates: dict[int, dict[str, Any]] = {}
        self._queue: list[_QueuedUpdate] = []
        self._allowed_updates: frozenset[str] = frozenset()
        self._poll_generation = 0
        # Replaced (after being set) on every state change: waiters grab the current event,
        # so a change between their check and their wait can never be missed.
        self._changed = asyncio.Event()

        self._message_ids: dict[int, itertools.count[int]] = {}
        self._sent: dict[int, dict[int, SentMessage]] = {}
        self._events: dict[int, list[SentMessage]] = {}
        self._reply_keyboards: dict[int, dict[str, Any] | None] = {}
        self._callback_queries: dict[str, tuple[int, bool]] = {}  # id -> (user id, answered)
        self._callback_answers: list[CallbackAnswer] = []
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)

        self._sent_listeners: list[SentListener] = []
        self._answer_listeners: list[AnswerListener] = []

        self._methods: dict[str, Callable[[_Params], Awaitable[Any]]] = {
            name.lower(): getattr(self, f"_api_{name}")
            for name in (
                "getMe", "getUpdates", "deleteWebhook", "setWebhook", "getWebhookInfo", "logOut",
                "close", "sendMessage", "editMessageText", "editMessageCaption",
                "editMessageReplyMarkup", "deleteMessage", "answerCallbackQuery", "sendPhoto",
                "sendMediaGroup", "sendDocument", "sendLocation", "sendChatAction", "setMyCommands",
                "getMyCommands", "deleteMyCommands", "setChatMenuButton", "getChatMenuButton",
                "getFile", "getChat",
            )
        }
        self._method_names = {key: value.__name__[5:] for key, value in self._methods.items()}

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listens on ``host:port`` (0 picks a free port)."""
        if self._runner is not None:
            raise RuntimeError("LocalBotApi is already running")
        # Uploads (reports, charts) can exceed aiohttp's default 1 MiB body limit.
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # access_log=None: the request path contains the bot token, which must never be logged.
        # handler_cancellation: a long poll whose client went away must not linger.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        address = self._runner.addresses[0]
        self._host, self._port = str(address[0]), int(address[1])
        self._closing = False
        self._pusher = asyncio.create_task(self._push_to_webhook(), name="localapi-webhook")

    async def stop(self) -> None:
        """Releases waiting long polls and stops listening."""
        if self._runner is None:
            return
        self._closing = True
        self._notify()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``; PTB appends the token."""
        return f"http://{self._host}:{self._port}/file/bot"


    # ----------------------------------------------------------------------------------------
    # HTTP plumbing
    # ----------------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        requested = request.match_info["method"]
        handler = self._methods.get(requested.lower())
        name = self._method_names.get(requested.lower(), requested)
        self.calls[name] += 1
        if handler is None:
            return self._error_response(BotApiError(404, "Not Found: method not found"))
        fault = self._draw_fault(requested.lower())
        if fault == "error_5xx":
            code, description = self._rng.choice(_SERVER_ERRORS)
            return self._error_response(BotApiError(code, description))
        if fault == "burst_429":
            retry_after = self.faults.retry_after
            return self._error_response(BotApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after))
        if fault == "slow":
            await asyncio.sleep(self.faults.slow_seconds)
        response = await self._answer(request, name, handler)
        if fault == "timeout":
            # Done, but the answer comes after the client gave up (the handler is cancelled
            # when the client goes away).
            await asyncio.sleep(self.faults.timeout_seconds)
        elif fault == "drop" and request.transport is not None:
            request.transport.close()
        return response

    async def _answer(self, request: web.Request, name: str,
                      handler: Callable[[_Params], Awaitable[Any]]) -> web.Response:
        try:
            params = await self._read_params(request)
            self.requests.append(ApiCall(name, params.describe()))
            result = await handler(params)
        except BotApiError as error:
            return self._error_response(error)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("LocalBotApi failed on %s", name)
            return self._error_response(BotApiError(500, "Internal Server Error: LocalBotApi bug"))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._file_paths.get(request.match_info["path"])
        if stored is None:
            return web.Response(status=404, text="Not Found")
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.content, content_type=content_type)

    @staticmethod
    def _error_response(error: BotApiError) -> web.Response:
        return web.json_response(error.payload(), status=error.error_code)

    @staticmethod
    async def _read_params(request: web.Request) -> _Params:
        values: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    values.update(body)
            else:
                form = await request.post()
                for key in form:
                    values[key] = form[key]
        return _Params(values)

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def _emit_sent(self, message: SentMessage) -> None:
        self._events.setdefault(message.chat_id, []).append(message)
        for listener in list(self._sent_listeners):
            await self._call_listener(listener, message)

    @staticmethod
    async def _call_listener(listener: Callable[[Any], Any], argument: Any) -> None:
        # A broken listener (the demo's printer, a test spy) must not break the bot's request.
        try:
            result = listener(argument)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("LocalBotApi listener failed")

    # ----------------------------------------------------------------------------------------
    # Helpers
    # ----------------------------------------------------------------------------------------

    def _enqueue(self, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        full = {"update_id": update_id, **payload}
        self._all_updates[update_id] = full
        self._queue.append(_QueuedUpdate(full))
        self._notify()
        return update_id

    def _user_message(self, user_id: int, content: dict[str, Any]) -> int:
        user = self.get_user(user_id)
        self._started_chats.add(user_id)
        message = {
            "message_id": self._new_message_id(user_id),
            "date": int(time.time()),
            "chat": user.chat_payload(),
            "from": user.user_payload(),
            **content,
        }
        return self._enqueue({"message": message})

    def _new_message_id(self, chat_id: int) -> int:
        # Message ids are per chat and shared by both sides of the conversation.
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _chat_payload(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self._users:
            return self._users[chat_id].chat_payload()
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": f"Grup {chat_id}"}
        return {"id": chat_id, "type": "private", "first_name": f"Pengguna {chat_id}"}

    def _chat_id(self, params: _Params) -> int:
        raw = params.values.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        try:
            return int(raw)
        except (TypeError, ValueError):
            username = str(raw).lstrip("@").lower()
            for user in self._users.values():
                if user.username and user.username.lower() == username:
                    return user.user_id
            raise _bad_request("chat not found") from None

    def _check_chat(self, chat_id: int, method: str) -> None:
        """Raises what Telegram answers when the bot may not write to the chat right now."""
        if self.strict_chats and chat_id not in self._started_chats:
            if chat_id in self._users:
                raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise _bad_request("chat not found")
        if chat_id in self._blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        if method not in _SEND_METHODS:
            return
        for rule in self._rate_rules:
            if rule.remaining > 0 and rule.chat_id in (None, chat_id):
                rule.remaining -= 1
                self._rate_rules = [r for r in self._rate_rules if r.remaining > 0]
                raise BotApiError(429, f"Too Many Requests: retry after {rule.retry_after}",
                                  retry_after=rule.retry_after)
        if self._limits is not None:
            self._check_flood(chat_id)

    def _check_flood(self, chat_id: int) -> None:
        assert self._limits is not None
        overall_limit, chat_limit = self._limits
        now = time.monotonic()
        per_chat = self._recent_per_chat.setdefault(chat_id, collections.deque())
        for window in (self._recent_overall, per_chat):
            while window and window[0] <= now - 1.0:
                window.popleft()
        for window, limit in ((self._recent_overall, overall_limit), (per_chat, chat_limit)):
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + 1.0 - now))
                raise BotApiError(429, f"Too Many Requests: retry after {retry_after}",
                                  retry_after=retry_after)
        self._recent_overall.append(now)
        per_chat.append(now)

    def _store_file(self, content: bytes, folder: str, suffix: str, *, mime_type: str | None = None,
                    file_name: str | None = None, file_id: str | None = None) -> _StoredFile:
        number = next(self._file_counter)
        if not suffix and file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        stored = _StoredFile(
            file_id=file_id or f"LOCAL-{folder[:3].upper()}-{number:06d}-{id(self) % 9973:04d}",
            file_unique_id=f"U{number:06d}",
            content=content,
            file_path=f"{folder}/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

