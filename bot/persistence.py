"""PTB persistence kept in the project's own database, so a restart mid-conversation loses nothing.

Only conversations and user_data (the drafts of half-answered questions) are kept; bot_data holds
live services and chat_data is unused. The application flushes after every update (bot.app), so
what a user typed is on disk before the bot answers the next message.
"""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from models.tables import ConversationState, UserData, utcnow


def _key(key: ConversationKey) -> str:
    return json.dumps(list(key))


class DatabasePersistence(BasePersistence[dict, dict, Any]):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True,
                                        callback_data=False),
            # The periodic job is a safety net only; bot.app flushes after each update.
            update_interval=30,
        )
        self._sessionmaker = sessionmaker

    async def get_user_data(self) -> dict[int, dict]:
        async with self._sessionmaker() as session:
            rows = (await session.execute(select(UserData))).scalars()
            return {row.user_id: deepcopy(row.data) for row in rows}

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
            return {tuple(json.loads(row.key)): row.state for row in rows
                    if row.state is not None}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        async with self._sessionmaker() as session:
            row = (await session.execute(
                select(ConversationState).where(ConversationState.name == name,
                                                ConversationState.key == _key(key))
            )).scalar_one_or_none()
            if new_state is None:
                if row is not None:
                    await session.delete(row)
            elif row is None:
                session.add(ConversationState(name=name, key=_key(key), state=int(new_state)))
            else:
                row.state = int(new_state)
                row.updated_at = utcnow()
            await session.commit()

    async def update_user_data(self, user_id: int, data: dict) -> None:
        async with self._sessionmaker() as session:
            row = await session.get(UserData, user_id)
            if not data:
                if row is not None:
                    await session.delete(row)
            elif row is None:
                session.add(UserData(user_id=user_id, data=deepcopy(data)))
            else:
                row.data = deepcopy(data)
                row.updated_at = utcnow()
            await session.commit()

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        return None

    async def update_bot_data(self, data: Any) -> None:  # pragma: no cover
        return None

    async def update_callback_data(self, data: Any) -> None:  # pragma: no cover
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        async with self._sessionmaker() as session:
            await session.execute(delete(UserData).where(UserData.user_id == user_id))
            await session.commit()

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Any) -> None:
        return None

    async def flush(self) -> None:
        return None
