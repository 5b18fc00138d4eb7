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

from sqlalchemy.ext.asyncio import AsyncSession

from models.state import save_conversations, save_user_data
from models.tables import utcnow


def conversation_key(chat_id: int, user_id: int) -> str:
    """The stored key of a per-chat, per-user conversation (as bot.telegram.persistence writes it)."""
    return json.dumps([chat_id, user_id])


async def end_in_transaction(*, session: AsyncSession, user_id: int, user_data: dict[str, Any],
                             conversation: str, key: str) -> None:
    """Stores ``user_data`` (the finished draft already left out) and ends the conversation,
    without committing: the caller's commit makes them one with the record it saves. The same
    statements as bot.telegram.persistence's, without reading the row first."""
    now = utcnow()
    await save_user_data(session=session, data={user_id: deepcopy(user_data) or None}, now=now)
    await save_conversations(session=session, states={(conversation, key): None}, now=now)
