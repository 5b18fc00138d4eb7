"""The typed context every callback receives, and the shared services it reaches."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot

from bot.core.settings import Settings
from bot.core.texts import t

if TYPE_CHECKING:
    from bot.core.places import PlaceIndex
    from bot.telegram.inbox import Inbox
    from models.tables import Mentor


class Services:
    """Shared things created in post_init and closed in post_shutdown (PTB's bot_data slot)."""

    def __init__(self) -> None:
        self.settings: Settings = Settings()
        self.engine: AsyncEngine | None = None
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.places: PlaceIndex | None = None
        # Updates that failed on an unavailable database: tries so far
        # (handlers.system.handle_again_later).
        self.db_attempts: dict[int, int] = {}
        # Receives the updates, stores them before confirming (bot.telegram.inbox).
        self.inbox: Inbox | None = None
        # Whether this instance may still send to Telegram (bot.leader); None: always. Every
        # request object of the bot and of the broadcast outbox asks it (bot.telegram.transport).
        self.may_send: Callable[[], bool] | None = None
        # The dashboard's web server while it runs in this process (bot.web.server), and the
        # address it answers on this machine ("http://127.0.0.1:8081"): /dasbor's link when
        # no public PENDAMPING_DASHBOARD_URL is set. None: the dashboard is off.
        self.dashboard: Any = None
        self.dashboard_local_url: str | None = None


class BotContext(CallbackContext[ExtBot, dict, dict, Services]):
    """Adds the per-update session, the current user's record and their language."""

    def __init__(self, application: Application, chat_id: int | None = None,
                 user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.mentor: Mentor | None = None
        self._session: AsyncSession | None = None

    @property
    def services(self) -> Services:
        return self.bot_data

    @property
    def settings(self) -> Settings:
        return self.bot_data.settings

    @property
    def places(self) -> PlaceIndex:
        assert self.bot_data.places is not None, "post_init has not run"
        return self.bot_data.places

    @property
    def session(self) -> AsyncSession:
        """The one session of this update (opened by the guard around every callback)."""
        if self._session is None:
            raise RuntimeError("no session: wrap the callback with handlers.common.guard")
        return self._session

    @asynccontextmanager
    async def open_session(self) -> AsyncIterator[AsyncSession]:
        """Opens the update's session; nested use reuses it, so one update has one session."""
        if self._session is not None:
            yield self._session
            return
        assert self.bot_data.sessionmaker is not None, "post_init has not run"
        async with self.bot_data.sessionmaker() as session:
            self._session = session
            try:
                yield session
            finally:
                self._session = None

    @property
    def lang(self) -> str:
        if self.mentor is not None and self.mentor.language:
            return self.mentor.language
        if self.user_data is not None and self.user_data.get("lang"):
            return self.user_data["lang"]
        return self.settings.language

    def t(self, key: str, /, **kwargs: object) -> str:
        return t(self.lang, key, **kwargs)
