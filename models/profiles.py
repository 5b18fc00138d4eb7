"""A group's details changed after registration (name, business type, ties, village, bank
account, the grant's decree): each field that differs is set, audited, and kept in the group's
history as a profile GroupChange, in one commit. The account number is stored encrypted
(models.tables) and appears only masked in the history and the audit trail."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuditAction, ChangeKind, GroupStatus
from bot.core.reminder_rules import Rules
from models import audit, changes, reminders
from models.areas import is_within
from models.tables import Group, GroupChange, Mentor

# The fields a profile edit may set, in the order they are shown.
FIELDS = ("name", "business_type", "binding_ties", "village_code", "bank_name", "bank_holder",
          "bank_account", "decree_year", "decree_number")
ACCOUNT_DIGITS = (6, 20)


def mask_account(number: str | None) -> str | None:
    """An account number as shown anywhere: its last four digits ("****7890")."""
    if not number:
        return None
    return "****" + number[-4:] if len(number) > 4 else "****"


def read_account(text: str) -> str | None:
    """The digits of a typed account number ("0123 4567-8901" → "012345678901"), 6–20 of
    them and nothing but digits, spaces, dots and dashes; else None."""
    cleaned = "".join(ch for ch in text if ch not in " .-")
    low, high = ACCOUNT_DIGITS
    if not cleaned.isdigit() or not low <= len(cleaned) <= high:
        return None
    return cleaned


def stored(field: str, value: Any) -> str | None:
    """A field's value as the history keeps it: plain text, ties joined by commas, the
    account number masked."""
    if value is None or value == "" or value == []:
        return None
    if field == "bank_account":
        return mask_account(value)
    if field == "binding_ties":
        return ",".join(value)
    return str(value)


def village_fits(village_code: str, mentor: Mentor) -> bool:
    """Whether the village lies in the work area of the group's mentor."""
    return not mentor.area_code or is_within(village_code, mentor.area_code)


async def change_profile(*, session: AsyncSession, group: Group, actor: Mentor,
                         values: dict[str, Any], on: date, today: date,
                         rules: Rules | None = None) -> list[GroupChange]:
    """Sets the fields of ``values`` that differ from the group's (each one of :data:`FIELDS`),
    with one audit row and a profile change per field, and commits. A new village moves the
    reminders to its time zone. Returns the changes; none when nothing differed (nothing is
    written)."""
    differ = {field: value for field, value in values.items()
              if field in FIELDS and getattr(group, field) != value}
    if not differ:
        return []
    old = audit.snapshot(group, set(differ))
    rows = []
    for field, value in differ.items():
        rows.append(changes.record(
            session=session, group_id=group.id, kind=ChangeKind.PROFILE, field=field,
            old=stored(field, getattr(group, field)), new=stored(field, value), by=actor,
            on=on))
        setattr(group, field, list(value) if field == "binding_ties" else value)
    session.add(group)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="group", entity_id=group.id, old=old,
                 new=audit.snapshot(group, set(differ)))
    if "village_code" in differ and group.status == GroupStatus.ACTIVE:
        await reminders.reschedule_group(session=session, group=group, today=today, rules=rules)
    await session.commit()
    return rows
