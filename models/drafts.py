"""Conversation drafts (PTB user_data and conversation state, bot.telegram.persistence) ended as part of
the save they led to.

bot.telegram.persistence writes drafts after the update is handled. A save that commits its record
while the draft is still stored could, after a crash between the two, be continued and saved
a second time; so a save ends its draft in its own transaction.
"""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import ConversationState, UserData, utcnow


def conversation_key(chat_id: int, user_id: int) -> str:
    """The stored key of a per-chat, per-user conversation (as bot.telegram.persistence writes it)."""
    return json.dumps([chat_id, user_id])


async def end_in_transaction(*, session: AsyncSession, user_id: int, user_data: dict[str, Any],
                             conversation: str, key: str) -> None:
    """Stores ``user_data`` (the finished draft already left out) and ends the conversation,
    without committing: the caller's commit makes them one with the record it saves."""
    row = await session.get(UserData, user_id)
    if not user_data:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(UserData(user_id=user_id, data=deepcopy(user_data)))
    else:
        row.data = deepcopy(user_data)
        row.updated_at = utcnow()
    await session.execute(delete(ConversationState).where(
        ConversationState.name == conversation, ConversationState.key == key))
