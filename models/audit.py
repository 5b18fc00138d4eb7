"""The audit trail: one row for every create, change and delete."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import SQLModel

from models.crypto import EncryptedJSON, EncryptedString
from models.tables import (
    FREE_TEXT,
    AuditLog,
    Broadcast,
    Grant,
    Group,
    Invite,
    Member,
    Mentor,
    Rollover,
    Training,
    Visit,
)

# Names, free text, NIKs and phone numbers never enter the audit trail: it is read by more
# people, and it cannot be changed, so a household's erasure (/hapus_anggota) could not reach
# it. A row keeps which field was there or changed ("***"), not its value; the entity id links
# it to the record, which holds the values (encrypted, or scrubbed on erasure) until they go.
# Which columns those are is declared on the tables (models.tables.PERSONAL, FREE_TEXT, the
# encrypted types); this only says which table each entity name of the trail stands for.
REDACTED = "***"
ENTITIES: dict[str, type[SQLModel]] = {
    "mentor": Mentor, "invite": Invite, "group": Group, "member": Member, "visit": Visit,
    "grant": Grant, "rollover": Rollover, "training": Training, "broadcast": Broadcast}


@cache
def personal_fields(model: type[SQLModel]) -> frozenset[str]:
    """The fields of ``model`` whose values the trail never holds: declared personal, free
    text, or encrypted."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    return frozenset(
        column.name for column in table.columns
        if column.info.get("personal") or isinstance(column.type, (EncryptedString,
                                                                    EncryptedJSON))
    ) | frozenset(FREE_TEXT.get(model, ()))


def redact(entity: str, data: dict[str, Any] | None) -> dict[str, Any] | None:
    """``data`` for the trail of ``entity``: personal values become "***" (one was there);
    an empty one stays empty."""
    model = ENTITIES.get(entity)
    if data is None or model is None:
        return data
    hidden = personal_fields(model)
    return {name: REDACTED if name in hidden and value not in (None, "", [], {}) else value
            for name, value in data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def snapshot(row: SQLModel, fields: set[str] | None = None) -> dict[str, Any]:
    """A JSON-ready copy of a row's fields (all, or ``fields``), to compare and to pass to
    :func:`record`, which keeps personal values out of the trail."""
    return {name: _plain(value) for name, value in row.model_dump().items()
            if fields is None or name in fields}


def changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, as (old, new)."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


def record(
    *,
    session: AsyncSession,
    actor_telegram_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditLog:
    """Adds an audit row to the session; it commits with the change it describes. Personal
    values of a table's entity are kept out (:func:`redact`), whoever wrote ``old``/``new``.

    The rows wait in the session (``session.info``) and the commit writes all of them in one
    statement (:func:`_write_pending`): a save records its record and what it moved with it
    (a visit and its group's due date) between its other statements, which would each flush
    one row. Rolled back, they go with the rest. The returned row is not in the session."""
    entry = AuditLog(
        actor_telegram_id=actor_telegram_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        old=redact(entity, old),
        new=redact(entity, new),
    )
    # Begun here, as session.add() begins it: a rollback before any statement drops them too.
    if not session.in_transaction():
        getattr(session, "sync_session", session).begin()
    session.info.setdefault(_PENDING, []).append(
        {"at": entry.at, "actor_telegram_id": actor_telegram_id, "action": action,
         "entity": entity, "entity_id": entity_id, "old": entry.old, "new": entry.new})
    return entry


_PENDING = "audit_rows"
_AUDIT = AuditLog.__table__  # type: ignore[attr-defined]
_INSERT = insert(_AUDIT)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if rows:
        session.execute(_INSERT, rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    # Ended without the commit that writes them (rolled back, closed): they go too.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


async def list_for(*, session: AsyncSession, entity: str, entity_id: int) -> list[AuditLog]:
    result = await session.execute(
        select(AuditLog)
        .where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
        .order_by(AuditLog.id)
    )
    return list(result.scalars())
