"""Telegram update ids already handled: a redelivered update is dropped, not handled twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from bot.core.enums import AuditAction
from models import audit
from models.state import insert_new_for
from models.tables import HandledUpdate, utcnow


async def was_handled(*, session: AsyncSession, update_id: int) -> bool:
    result = await session.execute(
        select(HandledUpdate.update_id).where(HandledUpdate.update_id == update_id)
    )
    return result.first() is not None


R = TypeVar("R", bound=SQLModel)


async def saved_by(*, session: AsyncSession, model: type[R], update_id: int | None) -> R | None:
    """The record of ``model`` that the update with ``update_id`` saved, if any."""
    if update_id is None:
        return None
    column: Any = model.source_update_id  # type: ignore[attr-defined]
    return (await session.execute(select(model).where(column == update_id))).scalar_one_or_none()


async def add_once(*, session: AsyncSession, row: R, update_id: int | None) -> tuple[R, bool]:
    """Adds and flushes ``row`` (which carries ``source_update_id``), unless the same update
    already saved one: then that one is returned, with False. A redelivery racing this one
    loses at the unique index, rolls back and gets the record the winner saved."""
    existing = await saved_by(session=session, model=type(row), update_id=update_id)
    if existing is not None:
        return existing, False
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        winner = await saved_by(session=session, model=type(row), update_id=update_id)
        if winner is None:
            raise
        return winner, False
    return row, True


async def create_once(*, session: AsyncSession, row: R, update_id: int | None,
                      actor_telegram_id: int | None, entity: str) -> tuple[R, bool]:
    """:func:`add_once`, with the audit row of a new record (what was created, by whom) in
    the same transaction; a record the update already saved is returned as it is."""
    row, created = await add_once(session=session, row=row, update_id=update_id)
    if created:
        audit.record(session=session, actor_telegram_id=actor_telegram_id,
                     action=AuditAction.CREATE, entity=entity,
                     entity_id=row.id,  # type: ignore[attr-defined]
                     new=audit.snapshot(row))
    return row, created


def mark_in_transaction(*, session: AsyncSession, update_id: int) -> None:
    """Marks the update handled as part of the caller's transaction (the save it caused)."""
    session.add(HandledUpdate(update_id=update_id))


async def mark_handled(*, session: AsyncSession, update_id: int) -> None:
    """Marks the update handled on its own; already marked (by a save) is fine."""
    if await was_handled(session=session, update_id=update_id):
        return
    session.add(HandledUpdate(update_id=update_id))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()


async def prune(*, session: AsyncSession, before: datetime) -> int:
    """Forgets old ids: Telegram redelivers only recent updates."""
    result = await session.execute(delete(HandledUpdate).where(HandledUpdate.handled_at < before))
    await session.commit()
    return result.rowcount or 0


async def last_handled(*, session: AsyncSession) -> int:
    """The highest update id handled so far (0 when none)."""
    result = await session.execute(select(func.max(HandledUpdate.update_id)))
    return int(result.scalar_one() or 0)


async def mark_many(*, session: AsyncSession, update_ids: set[int]) -> None:
    """Marks updates handled in the caller's transaction; ids already marked are left alone."""
    if not update_ids:
        return

    now = utcnow()
    await session.execute(
        insert_new_for(session, HandledUpdate.__table__, ("update_id",)),
        [{"update_id": update_id, "handled_at": now} for update_id in sorted(update_ids)])
