"""The audit trail: one row for every create, change and delete."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from models.tables import AuditLog

# Personal data never enters the audit trail: the trail is read by more people, and it cannot
# be changed, so a household's erasure (/hapus_anggota) could not reach it. The entity id links
# a row to the record, which holds the values (encrypted) until they are erased.
# A household's leave note is free text (it may name someone): the trail only says there was one.
_PERSONAL_FIELDS = {"member": {"name", "nik", "phone", "nik_hash", "phone_hash", "leave_note"},
                    "mentor": {"phone"}}
_DEFAULT_PERSONAL = {"nik", "phone"}
REDACTED = "***"


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def snapshot(row: SQLModel, fields: set[str] | None = None) -> dict[str, Any]:
    """A JSON-ready copy of a row's fields for the audit trail; personal values show only as
    "***" (there was one)."""
    data = row.model_dump()
    personal = _PERSONAL_FIELDS.get(getattr(row, "__tablename__", ""), _DEFAULT_PERSONAL)
    out: dict[str, Any] = {}
    for name, value in data.items():
        if fields is not None and name not in fields:
            continue
        if name in personal and value:
            value = REDACTED
        out[name] = _plain(value)
    return out


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
    """Adds an audit row to the session; it commits with the change it describes."""
    entry = AuditLog(
        actor_telegram_id=actor_telegram_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        old=old,
        new=new,
    )
    session.add(entry)
    return entry


async def list_for(*, session: AsyncSession, entity: str, entity_id: int) -> list[AuditLog]:
    result = await session.execute(
        select(AuditLog)
        .where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
        .order_by(AuditLog.id)
    )
    return list(result.scalars())
