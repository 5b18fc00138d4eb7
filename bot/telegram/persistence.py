"""PTB persistence kept in the project's own database, so a restart mid-conversation loses nothing.

Only conversations and user_data (the drafts of half-answered questions) are kept; bot_data holds
live services and chat_data is unused. The application flushes after every update
(handlers.system.after_update), so what a user typed is on disk before the bot answers the next
message. Updates handled at the same time share one transaction for that (with the marks that
they were handled): a write per batch rather than three per update.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from models import sqlite_trips
from models import updates as update_queries
from models.state import save_conversations, save_user_data
from models.tables import ConversationState, UserData, utcnow


def _key(key: ConversationKey) -> str:
    return json.dumps(list(key))


class DatabasePersistence(BasePersistence[dict, dict, Any]):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *,
                 may_write: Callable[[], bool] | None = None) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True,
                                        callback_data=False),
            # The periodic job is a safety net only; bot.app flushes after each update.
            update_interval=30,
        )
        self._sessionmaker = sessionmaker
        # An instance that lost the leadership (bot.leader) writes nothing more, marks
        # included: its answers may not have gone out, so the new leader handles its updates
        # again, and owns the state now. None: always writes.
        self._may_write = may_write
        # Changes waiting for the next write, and the future of that write.
        self._users: dict[int, dict | None] = {}
        self._conversations: dict[tuple[str, str], int | None] = {}
        self._handled: set[int] = set()
        # Updates whose mark went into a batch (handlers.system.after_update); the processor's
        # check at the end (ensure_handled) then writes nothing more.
        self._noted: set[int] = set()
        # Marks waiting for their user's state (hold_mark): they go into the same batch.
        self._held: dict[int, set[int]] = {}
        self._batch: asyncio.Future[None] | None = None
        self._writing = asyncio.Lock()
        # Each user's data as last committed (None: no row): the same data again is not
        # written. PTB hands over a user's data after every update of theirs, also when the
        # update changed nothing, and again after handlers.system.after_update wrote it.
        self._stored: dict[int, dict | None] = {}
        # Each conversation's state as last committed (absent: no row), for the same reason:
        # PTB hands a state over whenever a handler returned one, also the state it was in (a
        # question asked again, a draft's answer corrected from the summary).
        self._states: dict[tuple[str, str], int] = {}

    async def get_user_data(self) -> dict[int, dict]:
        async with self._sessionmaker() as session:
            rows = (await session.execute(select(UserData))).scalars()
            self._stored = {row.user_id: row.data for row in rows}
            return {user_id: deepcopy(data) for user_id, data in self._stored.items()}

    async def get_chat_data(self) -> dict[int, dict]:
        return {}

    async def get_bot_data(self) -> Any:  # pragma: no cover - bot_data is not persisted
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self._sessionmaker() as session:
            rows = (await session.execute(
                select(ConversationState).where(ConversationState.name == name)
            )).scalars()
            states = {row.key: row.state for row in rows if row.state is not None}
        self._states = {key: state for key, state in self._states.items() if key[0] != name}
        self._states.update(((name, key), state) for key, state in states.items())
        return {tuple(json.loads(key)): state for key, state in states.items()}

    # --- writing: one transaction for everything that changed meanwhile (group commit) ---------

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        state = None if new_state is None else int(new_state)
        await self.written(self._stash(conversations={(name, _key(key)): state}))

    async def update_user_data(self, user_id: int, data: dict) -> None:
        # PTB hands over a deep copy already.
        await self.written(self._stash(users={user_id: data or None}))

    async def drop_user_data(self, user_id: int) -> None:
        await self.written(self._stash(users={user_id: None}))

    def committed_elsewhere(self, *, user_id: int, data: dict | None,
                            conversation: tuple[str, str]) -> None:
        """Takes note that a save's own commit stored the user's data and ended the
        conversation (models.drafts.end_in_transaction): PTB's hand-over of the same right after
        is then not written again. Call it only once that commit succeeded."""
        self._stored[user_id] = deepcopy(data) or None
        self._states.pop(conversation, None)

    def note_handled(self, update_id: int) -> asyncio.Future[None]:
        """Marks the update handled in the next write, with the state it left behind; await
        :meth:`written` with the returned batch."""
        self._noted.add(update_id)
        return self._stash(handled={update_id})

    def hold_mark(self, user_id: int, update_id: int) -> None:
        """Marks the update handled in the batch that takes this user's data or conversation
        state next, so the mark and the state it produced commit together, whichever update's
        write takes them (handlers.system.after_update)."""
        self._noted.add(update_id)
        self._held.setdefault(user_id, set()).add(update_id)

    async def release_marks(self, user_id: int) -> None:
        """Writes the user's held marks that no state took along (nothing changed)."""
        held = self._held.pop(user_id, None)
        if held:
            await self.written(self._stash(handled=held))

    async def ensure_handled(self, update_id: int) -> None:
        """Marks an update handled unless it was already (an update whose handling stopped
        early, or that the throttle dropped, never reached handlers.system.after_update)."""
        if update_id in self._noted:
            self._noted.discard(update_id)
            return
        batch = self._stash(handled={update_id})
        await self.written(batch)

    def _stash(self, *, users: dict[int, dict | None] | None = None,
               conversations: dict[tuple[str, str], int | None] | None = None,
               handled: set[int] | None = None) -> asyncio.Future[None]:
        """Adds changes to the next batch; its future resolves once they are committed."""
        self._users.update(users or {})
        self._conversations.update(conversations or {})
        self._handled.update(handled or ())
        if self._held:
            for user_id in users or ():
                self._handled |= self._held.pop(user_id, set())
            for _name, key in conversations or ():
                for part in json.loads(key):  # (chat id, user id)
                    self._handled |= self._held.pop(part, set())
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_future()
        return self._batch

    async def written(self, batch: asyncio.Future[None]) -> None:
        """Waits until ``batch`` is committed, writing it (and whatever joined it) if nobody is.

        Updates handled side by side finish at about the same time: the first to get the lock
        writes all of their changes in one transaction, the others find them written. Each
        user's next update waits for this (bot.telegram.processor), so what was typed is on disk first.
        """
        async with self._writing:
            if batch.done():
                return batch.result()
            if self._may_write is not None and not self._may_write():
                self._users, self._conversations, self._handled = {}, {}, set()
                self._batch = None
                batch.set_result(None)
                return None
            # PTB's update_persistence hands over each user and conversation in a task of its
            # own, all started together: they join this write before it is taken.
            await asyncio.sleep(0)
            users, conversations, handled = self._users, self._conversations, self._handled
            self._users, self._conversations, self._handled = {}, {}, set()
            self._batch = None
            changed = {user_id: data for user_id, data in users.items()
                       if user_id not in self._stored or self._stored[user_id] != data}
            moved = {key: state for key, state in conversations.items()
                     if self._states.get(key) != state}
            try:
                await self._write(changed, moved, handled)
            except BaseException as error:
                # Kept for the next write (unless changed again meanwhile): nothing is lost.
                for pending, taken in ((self._users, users),
                                       (self._conversations, conversations)):
                    for key, value in taken.items():
                        pending.setdefault(key, value)
                self._handled |= handled
                batch.set_exception(error)
                batch.exception()  # retrieved: the waiters re-raise it themselves
                raise
            self._stored.update(changed)
            for key, state in moved.items():
                if state is None:
                    self._states.pop(key, None)
                else:
                    self._states[key] = state
            batch.set_result(None)

    async def _write(self, users: dict[int, dict | None],
                     conversations: dict[tuple[str, str], int | None],
                     handled: set[int]) -> None:
        if not (users or conversations or handled):
            return
        # A few small statements: on the loop's thread with SQLite (models.sqlite_trips).
        with sqlite_trips.on_the_loop():
            await self._write_batch(users, conversations, handled)

    async def _write_batch(self, users: dict[int, dict | None],
                           conversations: dict[tuple[str, str], int | None],
                           handled: set[int]) -> None:
        async with self._sessionmaker() as session:
            now = utcnow()
            await save_user_data(session=session, data=users, now=now)
            await save_conversations(session=session, states=conversations, now=now)
            await update_queries.mark_many(session=session, update_ids=handled)
            await session.commit()

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        return None

    async def update_bot_data(self, data: Any) -> None:  # pragma: no cover
        return None

    async def update_callback_data(self, data: Any) -> None:  # pragma: no cover
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Any) -> None:
        return None

    async def flush(self) -> None:
        """Writes what a failed write left behind (PTB hands over only what changed since)."""
        if self._users or self._conversations or self._handled:
            await self.written(self._stash())
