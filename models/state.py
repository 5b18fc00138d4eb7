"""Conversation states and drafts (PTB's persistence, bot.persistence), written in batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import ConversationState, UserData


def insert_for(session: AsyncSession, table: Any):
    """INSERT ... ON CONFLICT for the session's database (SQLite or PostgreSQL)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def save_user_data(*, session: AsyncSession, data: dict[int, dict | None],
                         now: datetime) -> None:
    """Upserts each user's data; None (or empty) deletes it. Not committed."""
    gone = [user_id for user_id, value in data.items() if not value]
    kept = [{"user_id": user_id, "data": value, "updated_at": now}
            for user_id, value in data.items() if value]
    if gone:
        await session.execute(delete(UserData).where(UserData.user_id.in_(gone)))
    if kept:
        statement = insert_for(session, UserData.__table__).values(kept)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"data": statement.excluded.data, "updated_at": statement.excluded.updated_at}))


async def save_conversations(*, session: AsyncSession,
                             states: dict[tuple[str, str], int | None], now: datetime) -> None:
    """Upserts each (conversation name, key) state; None deletes it. Not committed."""
    gone = [name_key for name_key, state in states.items() if state is None]
    kept = [{"name": name, "key": key, "state": state, "updated_at": now}
            for (name, key), state in states.items() if state is not None]
    if gone:
        await session.execute(delete(ConversationState).where(
            tuple_(ConversationState.name, ConversationState.key).in_(gone)))
    if kept:
        statement = insert_for(session, ConversationState.__table__).values(kept)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["name", "key"],
            set_={"state": statement.excluded.state,
                  "updated_at": statement.excluded.updated_at}))
