"""Telegram updates as received and handled (bot.telegram.inbox), and the records an update
saved: a redelivered update is never handled twice, and one not yet handled is never lost."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from bot.core.enums import AuditAction
from models import audit
from models.state import dialect_of, insert_new
from models.tables import ReceivedUpdate, utcnow

# On the table (Core): the ORM takes no list of parameters for an UPDATE by other columns, nor
# an INSERT ... ON CONFLICT.
_RECEIVED = ReceivedUpdate.__table__


@dataclass(frozen=True, slots=True)
class Arrival:
    """One update as it arrived: its id, what tells it from another with the same id, and the
    update itself (Telegram's JSON)."""

    update_id: int
    fingerprint: str
    payload: dict[str, Any]


async def receive(*, session: AsyncSession, arrivals: Sequence[Arrival],
                  carried_over_upto: int = 0) -> list[Arrival]:
    """Writes and commits the arrivals not received before; returns those, in order. The ones
    already here (redeliveries) are left out: they are handled, or waiting to be.

    One statement, with no read before it: a read first would make SQLite's write wait for (or
    fail on) the writes made meanwhile. Ids up to ``carried_over_upto`` may match a row carried
    over from before fingerprints ("old:<id>", migration 0008), by id alone: looked up first.
    """
    if not arrivals:
        return []
    if carried_over_upto and min(a.update_id for a in arrivals) <= carried_over_upto:
        old = set((await session.execute(
            select(ReceivedUpdate.update_id).where(
                ReceivedUpdate.update_id.in_({a.update_id for a in arrivals}),
                ReceivedUpdate.fingerprint.startswith("old:")))).scalars())
        arrivals = [a for a in arrivals if a.update_id not in old]
        if not arrivals:
            return []
    now = utcnow()
    stored = set((await session.execute(_receive(dialect_of(session)), [
        {"update_id": a.update_id, "fingerprint": a.fingerprint, "payload": a.payload,
         "received_at": now} for a in arrivals])).all())
    await session.commit()
    fresh, seen = [], set()
    for arrival in arrivals:
        key = (arrival.update_id, arrival.fingerprint)
        if key in stored and key not in seen:  # the same update twice in one batch: once
            seen.add(key)
            fresh.append(arrival)
    return fresh


@functools.cache
def _receive(dialect: str) -> Any:
    # Built once per database kind: every batch of updates the bot fetches runs it.
    return insert_new(dialect, _RECEIVED, ("update_id", "fingerprint")).returning(
        _RECEIVED.c.update_id, _RECEIVED.c.fingerprint)


async def carried_over_upto(*, session: AsyncSession) -> int:
    """The highest id carried over from before fingerprints (0: none left)."""
    result = await session.execute(select(func.max(ReceivedUpdate.update_id)).where(
        ReceivedUpdate.fingerprint.startswith("old:")))
    return int(result.scalar_one() or 0)


async def waiting(*, session: AsyncSession) -> list[Arrival]:
    """The updates received and not handled yet, in the order they arrived."""
    rows = (await session.execute(
        select(ReceivedUpdate.update_id, ReceivedUpdate.fingerprint, ReceivedUpdate.payload)
        .where(ReceivedUpdate.handled_at.is_(None))  # type: ignore[union-attr]
        .order_by(ReceivedUpdate.id))).all()
    return [Arrival(update_id, fingerprint, payload or {})
            for update_id, fingerprint, payload in rows]


async def last_received(*, session: AsyncSession) -> int:
    """The highest update id received so far (0 when none)."""
    result = await session.execute(select(func.max(ReceivedUpdate.update_id)))
    return int(result.scalar_one() or 0)


async def was_handled(*, session: AsyncSession, update_id: int) -> bool:
    """Whether an update with this id was received and handled."""
    result = await session.execute(
        select(ReceivedUpdate.id).where(ReceivedUpdate.update_id == update_id,
                                        ReceivedUpdate.handled_at.is_not(None)))  # type: ignore[union-attr]
    return result.first() is not None


R = TypeVar("R", bound=SQLModel)


async def saved_by(*, session: AsyncSession, model: type[R], update_id: int | None) -> R | None:
    """The record of ``model`` that the update with ``update_id`` saved, if any."""
    if update_id is None:
        return None
    return (await session.execute(_saved_by(model), {"update_id": update_id})).scalar_one_or_none()


@functools.cache
def _saved_by(model: type[R]) -> Any:
    # Built once per model: every save asks it, and building costs more than running it.
    column: Any = model.source_update_id  # type: ignore[attr-defined]
    return select(model).where(column == bindparam("update_id"))


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


# Handled: the time is set and what the user typed is blanked. Only the one waiting is touched
# (an id Telegram started again may stand beside an old, handled one).
_MARK = (update(_RECEIVED)
         .where(_RECEIVED.c.update_id == bindparam("handled_id"),
                _RECEIVED.c.handled_at.is_(None))
         .values(handled_at=bindparam("handled_now"), payload=None))


async def mark_in_transaction(*, session: AsyncSession, update_id: int) -> None:
    """Marks the update handled as part of the caller's transaction (the save it caused)."""
    await session.execute(_MARK, {"handled_id": update_id, "handled_now": utcnow()})


async def mark_handled(*, session: AsyncSession, update_id: int) -> None:
    """Marks the update handled, committed on its own."""
    await mark_in_transaction(session=session, update_id=update_id)
    await session.commit()


async def mark_many(*, session: AsyncSession, update_ids: set[int]) -> None:
    """Marks updates handled in the caller's transaction; ids already marked are left alone."""
    if not update_ids:
        return
    now = utcnow()
    await session.execute(_MARK, [{"handled_id": update_id, "handled_now": now}
                           for update_id in sorted(update_ids)])


async def prune(*, session: AsyncSession, before: datetime) -> int:
    """Forgets updates handled before ``before``: Telegram redelivers only for a day."""
    result = await session.execute(
        delete(ReceivedUpdate).where(ReceivedUpdate.handled_at < before)
        .execution_options(synchronize_session=False))
    await session.commit()
    return result.rowcount or 0
