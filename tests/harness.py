"""A test harness: the real PTB Application talking to a LocalBotApi, driven like a chat.

    harness = await BotHarness.start(lambda url: build_application(settings, base_url=url))
    siti = harness.chat(700001, first_name="Siti")
    replies = await siti.send("/start")
    assert "Selamat datang" in replies[0].text
    await siti.press("Setujui")
    await harness.stop()

Every ChatUser action injects one update, waits until the bot has completely handled it and
returns what the bot sent (or edited, or deleted) in that chat meanwhile.

Why waiting is exact: PTB's Updater calls getUpdates with a higher offset only after it has
put the previous batch into ``application.update_queue`` (see ``_updater.py``,
``polling_action_cb``), so :meth:`LocalBotApi.wait_fetched` means "the update is in the queue".
The Application's fetcher calls ``update_queue.task_done()`` only after ``process_update`` has
returned (``__process_update_wrapper``), and ``process_update`` awaits every handler with
``block=True``; hence ``update_queue.join()`` returns once all blocking handlers are done.
Handlers with ``block=False`` and tasks started with ``application.create_task`` are not
covered by the join, so the harness also awaits the Application's tasks created while the
update was being handled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Self

from telegram.ext import Application

from bot.localapi import (
    CallbackAnswer,
    LocalBotApi,
    SentMessage,
    start_application,
    stop_application,
)

BuildApp = Callable[[str], Application]

# Fast in tests: updates wake the long poll at once, and stop() cancels it immediately, so
# the poll timeout only decides how often an idle bot re-polls.
POLL_TIMEOUT = 10
SETTLE_TIMEOUT = 10.0


class BotHarness:
    """A LocalBotApi plus a running Application built by ``build_app(base_url)``."""

    def __init__(self, server: LocalBotApi, build_app: BuildApp, *, settle_timeout: float):
        self.server = server
        self.build_app = build_app
        self.settle_timeout = settle_timeout
        self.app: Application | None = None
        self._chats: dict[int, ChatUser] = {}
        self._server_owned = True

    @classmethod
    async def start(
        cls,
        build_app: BuildApp,
        *,
        server: LocalBotApi | None = None,
        settle_timeout: float = SETTLE_TIMEOUT,
    ) -> BotHarness:
        """Starts a server (unless one is given, running) and the bot against it."""
        harness = cls(server or LocalBotApi(), build_app, settle_timeout=settle_timeout)
        if server is None:
            await harness.server.start()
        else:
            harness._server_owned = False
        try:
            await harness._start_app(build_app)
        except BaseException:
            await harness.stop()
            raise
        return harness

    async def _start_app(self, build_app: BuildApp) -> None:
        app = build_app(self.server.base_url)
        if not isinstance(app, Application):
            raise TypeError(f"build_app must return a telegram.ext.Application, got {app!r}")
        self.app = app
        await start_application(app, poll_timeout=POLL_TIMEOUT)

    async def stop(self) -> None:
        """Stops the bot (updater, application, hooks) and then the server. Idempotent."""
        app, self.app = self.app, None
        try:
            if app is not None:
                await stop_application(app)
        finally:
            if self._server_owned:
                await self.server.stop()

    async def restart(self, build_app: BuildApp | None = None, *,
                      meanwhile: Callable[[], Awaitable[Any]] | None = None) -> None:
        """Simulates a bot process restart: a fresh Application on the same server.

        Updates not yet fetched stay queued on the server and go to the new Application;
        ``meanwhile`` runs while no bot runs (to look at what the stop left behind).
        """
        app, self.app = self.app, None
        if app is not None:
            await stop_application(app)
        if meanwhile is not None:
            await meanwhile()
        if build_app is not None:
            self.build_app = build_app
        await self._start_app(self.build_app)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def application(self) -> Application:
        """The running Application (raises if the bot is stopped)."""
        if self.app is None:
            raise RuntimeError("the bot is not running")
        return self.app

    def chat(
        self,
        user_id: int,
        first_name: str = "Siti",
        language_code: str | None = "id",
        *,
        last_name: str | None = None,
        username: str | None = None,
        phone_number: str | None = None,
    ) -> ChatUser:
        """A user in a private chat with the bot (registered on the server)."""
        self.server.user(user_id, first_name=first_name, last_name=last_name, username=username,
                         language_code=language_code, phone_number=phone_number)
        chat = ChatUser(self, user_id, phone_number=phone_number)
        self._chats[user_id] = chat
        return chat

    async def settle(self, update_id: int | None = None, *, since_tasks: set[asyncio.Task[Any]]
                     | None = None) -> None:
        """Waits until ``update_id`` (if given) was fetched and everything queued is handled."""
        async with asyncio.timeout(self.settle_timeout):
            if update_id is not None:
                await self.server.wait_fetched(update_id, timeout=self.settle_timeout)
            await self._drain(since_tasks if since_tasks is not None else self.app_tasks())

    async def _drain(self, before: set[asyncio.Task[Any]]) -> None:
        app = self.application
        while True:
            await app.update_queue.join()
            # Non-blocking handlers and error handlers run as Application tasks; wait for the
            # ones started since `before`, but not for long-lived tasks started earlier.
            pending = [task for task in self.app_tasks() - before if not task.done()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    def app_tasks(self) -> set[asyncio.Task[Any]]:
        """Tasks the Application started through ``create_task`` and still tracks.

        PTB keeps them in a private, name-mangled set; if a future version renames it this
        returns an empty set and only blocking handlers are waited for.
        """
        tasks = getattr(self.app, "_Application__create_task_tasks", None)
        return set(tasks) if tasks else set()


class ChatUser:
    """One simulated user. Actions return the bot's messages in this chat caused by them."""

    def __init__(self, harness: BotHarness, user_id: int, *, phone_number: str | None = None):
        self.harness = harness
        self.user_id = user_id
        self.phone_number = phone_number or f"+62812{user_id % 10**7:07d}"

    @property
    def server(self) -> LocalBotApi:
        return self.harness.server

    async def _act(self, inject: Callable[[], int]) -> list[SentMessage]:
        position = self.server.log_position(self.user_id)
        tasks_before = self.harness.app_tasks()
        update_id = inject()
        await self.harness.settle(update_id, since_tasks=tasks_before)
        return self.server.sent_since(self.user_id, position)

    # -- actions -------------------------------------------------------------------------------

    async def send(self, text: str) -> list[SentMessage]:
        """Types ``text`` (commands get their bot_command entity)."""
        return await self._act(lambda: self.server.send_text(self.user_id, text))

    async def press(self, button: str) -> list[SentMessage]:
        """Presses the inline button labelled ``button`` (exact text, else a unique prefix) on
        the newest bot message that has such a button."""
        message, data = self._find_button(button)
        return await self._act(
            lambda: self.server.press_button(self.user_id, message.message_id, data)
        )

    async def press_data(
        self, callback_data: str, message_id: int | None = None
    ) -> list[SentMessage]:
        """Sends a callback query with any data (forged data included), on ``message_id`` or
        on the newest bot message."""
        if message_id is None:
            last = self.server.last_message(self.user_id)
            message_id = last.message_id if last is not None else 1
        target = message_id
        return await self._act(
            lambda: self.server.press_button(self.user_id, target, callback_data, strict=False)
        )

    async def share_contact(self, phone: str | None = None) -> list[SentMessage]:
        """Shares the user's own contact (the request_contact button)."""
        number = phone or self.phone_number
        return await self._act(lambda: self.server.share_contact(self.user_id, number))

    async def share_location(self, latitude: float, longitude: float) -> list[SentMessage]:
        return await self._act(
            lambda: self.server.share_location(self.user_id, latitude, longitude)
        )

    async def send_photo(self, caption: str | None = None) -> list[SentMessage]:
        return await self._act(lambda: self.server.send_photo(self.user_id, caption=caption))

    async def send_document(self, filename: str = "data.xlsx", content: bytes = b"PK\x03\x04 demo",
                            caption: str | None = None) -> list[SentMessage]:
        return await self._act(
            lambda: self.server.send_document(self.user_id, filename, content, caption=caption)
        )

    async def send_sticker(self) -> list[SentMessage]:
        return await self._act(lambda: self.server.send_sticker(self.user_id))

    # -- inspection ----------------------------------------------------------------------------

    def messages(self) -> list[SentMessage]:
        """Every message the bot sent to this chat, oldest first, current versions."""
        return self.server.sent(self.user_id)

    def last(self) -> SentMessage | None:
        """The newest message the bot sent to this chat."""
        return self.server.last_message(self.user_id)

    def last_text(self) -> str | None:
        """Text (or caption) of the newest message the bot sent to this chat."""
        last = self.last()
        return last.content if last is not None else None

    def texts(self) -> list[str]:
        """All texts and captions the bot sent to this chat, oldest first, as they read now."""
        return [m.content for m in self.messages() if m.content is not None]

    def buttons(self, message: SentMessage | None = None) -> list[str]:
        """Inline button texts of ``message``, or of the newest message with an inline keyboard."""
        if message is None:
            message = self._latest_with_keyboard()
        return message.button_texts if message is not None else []

    def reply_keyboard(self) -> list[list[str]] | None:
        """The reply keyboard shown now (rows of button texts), or None."""
        rows = self.server.reply_keyboard(self.user_id)
        return None if rows is None else [[str(b.get("text")) for b in row] for row in rows]

    def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's answers to this user's button presses (``.text``, ``.show_alert``)."""
        return self.server.callback_answers(self.user_id)

    def _latest_with_keyboard(self) -> SentMessage | None:
        for message in reversed(self.messages()):
            if not message.deleted and message.inline_buttons:
                return message
        return None

    def _find_button(self, wanted: str) -> tuple[SentMessage, str]:
        for message in reversed(self.messages()):
            if message.deleted:
                continue
            buttons = [b for b in message.inline_buttons if "callback_data" in b]
            exact = [b for b in buttons if b.get("text") == wanted]
            if exact:
                return message, str(exact[0]["callback_data"])
            prefixed = [b for b in buttons if str(b.get("text", "")).startswith(wanted)]
            if len(prefixed) == 1:
                return message, str(prefixed[0]["callback_data"])
            if len(prefixed) > 1:
                raise AssertionError(
                    f"button {wanted!r} is ambiguous on message {message.message_id}: "
                    f"{[b['text'] for b in prefixed]}"
                )
        latest = self._latest_with_keyboard()
        available = latest.button_texts if latest is not None else []
        raise AssertionError(
            f"no button {wanted!r} in chat {self.user_id}; the newest keyboard "
            f"(message {latest.message_id if latest else '-'}) has: {available}; "
            f"last text: {self.last_text()!r}"
        )
