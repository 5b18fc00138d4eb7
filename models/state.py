"""Conversation states and drafts (PTB's persistence, bot.telegram.persistence), written in batches.

The statements are built once per database kind and take their rows as parameters: built anew
for every batch, with the rows inside, SQLAlchemy would compile them anew each time.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Delete, Insert

from models.tables import ConversationState, UserData


def dialect_of(session: AsyncSession) -> str:
    """The session's database kind ("sqlite", "postgresql"), for statements built once per kind."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert(dialect: str, table: Any):
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


@functools.cache
def _upsert(dialect: str, table: Any, keys: tuple[str, ...], changed: tuple[str, ...]) -> Insert:
    statement = _insert(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={column: statement.excluded[column] for column in changed})


@functools.cache
def insert_new(dialect: str, table: Any, keys: tuple[str, ...]) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO NOTHING for a database kind (:func:`dialect_of`)."""
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))


# On the tables (Core): the ORM takes no list of parameters for a DELETE.
_USER_DATA, _CONVERSATION = UserData.__table__, ConversationState.__table__
_DELETE_USER_DATA: Delete = delete(_USER_DATA).where(
    _USER_DATA.c.user_id == bindparam("gone_user"))
_DELETE_CONVERSATION: Delete = delete(_CONVERSATION).where(
    _CONVERSATION.c.name == bindparam("gone_name"), _CONVERSATION.c.key == bindparam("gone_key"))


async def save_user_data(*, session: AsyncSession, data: dict[int, dict | None],
                         now: datetime) -> None:
    """Upserts each user's data; None (or empty) deletes it. Not committed."""
    gone = [{"gone_user": user_id} for user_id, value in data.items() if not value]
    kept = [{"user_id": user_id, "data": value, "updated_at": now}
            for user_id, value in data.items() if value]
    if gone:
        await session.execute(_DELETE_USER_DATA, gone)
    if kept:
        await session.execute(_upsert(dialect_of(session), _USER_DATA, ("user_id",),
                                      ("data", "updated_at")), kept)


async def save_conversations(*, session: AsyncSession,
                             states: dict[tuple[str, str], int | None], now: datetime) -> None:
    """Upserts each (conversation name, key) state; None deletes it. Not committed."""
    gone = [{"gone_name": name, "gone_key": key}
            for (name, key), state in states.items() if state is None]
    kept = [{"name": name, "key": key, "state": state, "updated_at": now}
            for (name, key), state in states.items() if state is not None]
    if gone:
        await session.execute(_DELETE_CONVERSATION, gone)
    if kept:
        await session.execute(_upsert(dialect_of(session), _CONVERSATION,
                                      ("name", "key"), ("state", "updated_at")), kept)

