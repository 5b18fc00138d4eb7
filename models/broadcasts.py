"""Broadcasts (siaran): who a coordinator's message goes to, and the outbox it is sent from.

Recipients are always computed here from the actor's own area, never taken from a button.
The outbox is one row per recipient: claimed (committed) before the message goes out and
finished after, so a restart resumes what is pending and never sends anyone twice.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import clock
from bot.core.enums import (
    Audience,
    AuditAction,
    BroadcastStatus,
    GroupStatus,
    MentorStatus,
    OutboxStatus,
    Role,
)
from models import audit
from models import mentors as mentor_queries
from models import updates as update_queries
from models.areas import is_within
from models.tables import Broadcast, BroadcastRecipient, Group, Mentor, utcnow

ENTITY = "broadcast"
# Where {nama} stands in a text, and the longest name it may become (Mentor.name).
NAME_TAG = "{nama}"
LONGEST_NAME = 100
_TAG = re.compile(r"\{[^{}\n]{1,30}\}")


def render(text: str, name: str) -> str:
    """The text as one recipient reads it: only {nama} is replaced, any other {...} stays."""
    return text.replace(NAME_TAG, name)


def unknown_tags(text: str) -> list[str]:
    """The {...} in a text that are not {nama}, e.g. a mistyped {name}: they go out as written."""
    found = dict.fromkeys(m.group(0) for m in _TAG.finditer(text or ""))
    return [tag for tag in found if tag != NAME_TAG]


def longest_rendering(text: str) -> int:
    """How long the text can get once {nama} becomes a name (Telegram's limits apply to that)."""
    return len(render(text, "x" * LONGEST_NAME))


def district_of(code: str | None) -> str | None:
    """The district ("32.02.11") a district or village code lies in; None above districts."""
    if not code:
        return None
    parts = code.split(".")
    return ".".join(parts[:3]) if len(parts) >= 3 else None


def covers_districts(area_code: str | None) -> bool:
    """True when an area holds several districts (the whole country, a province, a regency)."""
    return district_of(area_code) is None


# --- the audience --------------------------------------------------------------------------

@dataclass
class Recipients:
    """Who a broadcast reaches, and how many of the same audience it leaves out."""

    mentors: list[Mentor] = field(default_factory=list)
    inactive: int = 0

    @property
    def count(self) -> int:
        return len(self.mentors)


def _scope(actor: Mentor) -> str | None:
    """The area an actor may broadcast to: everywhere for an admin, else their own area."""
    return None if actor.role == Role.ADMIN else actor.area_code


def may_reach(actor: Mentor, code: str | None) -> bool:
    """True when ``code`` lies inside the actor's area (anywhere for an admin)."""
    if actor.role == Role.ADMIN:
        return True
    return bool(actor.area_code) and is_within(code, actor.area_code)


async def districts_with_mentors(*, session: AsyncSession, actor: Mentor) -> dict[str, int]:
    """The districts inside the actor's area that have active mentors, with how many."""
    result = await session.execute(
        select(Mentor.area_code).where(mentor_queries.area_clause(_scope(actor)),
                                       Mentor.role == Role.MENTOR,
                                       Mentor.status == MentorStatus.ACTIVE))
    counts: Counter[str] = Counter()
    for code in result.scalars():
        district = district_of(code)
        if district is not None:
            counts[district] += 1
    return dict(sorted(counts.items()))


async def _overdue_mentor_ids(*, session: AsyncSession, mentor_ids: list[int]) -> set[int]:
    """Mentors (of ``mentor_ids``) with a group whose visit was due before today, today being
    the group's own local date (WIB, WITA or WIT)."""
    if not mentor_ids:
        return set()
    # Nowhere in Indonesia is it later than in WIT (UTC+9): a first cut in SQL, then per group.
    latest_today = clock.now().date() + timedelta(days=1)
    overdue: set[int] = set()
    for start in range(0, len(mentor_ids), 500):
        chunk = mentor_ids[start:start + 500]
        result = await session.execute(
            select(Group.mentor_id, Group.village_code, Group.next_visit_due).where(
                Group.mentor_id.in_(chunk), Group.next_visit_due.is_not(None),
                Group.next_visit_due < latest_today, Group.status == GroupStatus.ACTIVE))
        for mentor_id, village_code, due in result:
            if mentor_id not in overdue and due < clock.today_for(village_code):
                overdue.add(mentor_id)
    return overdue


async def recipients(*, session: AsyncSession, actor: Mentor, audience: str,
                     district: str | None = None) -> Recipients | None:
    """Who receives a broadcast of ``actor`` to ``audience`` (and ``district``), computed from
    the actor's own area; None when the choice is not the actor's to make (a district outside
    their area, an unknown audience)."""
    if audience not in set(Audience):
        return None
    scope = _scope(actor)
    roles: tuple[Role, ...] = (Role.MENTOR,)
    if audience == Audience.DISTRICT:
        if district_of(district) != district or not may_reach(actor, district):
            return None
        scope = district
    elif audience == Audience.COORDINATORS:
        roles = (Role.COORDINATOR,)
    people = [m for m in await mentor_queries.in_area(
        session=session, area_code=scope, roles=roles,
        statuses=(MentorStatus.ACTIVE, MentorStatus.INACTIVE)) if m.id != actor.id]
    if audience == Audience.OVERDUE:
        overdue = await _overdue_mentor_ids(session=session, mentor_ids=[m.id for m in people])
        people = [m for m in people if m.id in overdue]
    found = Recipients()
    seen: set[int] = set()
    for person in people:
        if person.status != MentorStatus.ACTIVE:
            found.inactive += 1
        elif person.telegram_id not in seen:
            seen.add(person.telegram_id)
            found.mentors.append(person)
    return found


# --- creating one --------------------------------------------------------------------------

async def create(
    *,
    session: AsyncSession,
    actor: Mentor,
    audience: str,
    audience_code: str | None,
    text: str,
    photo_file_id: str | None,
    document_file_id: str | None,
    to: list[Mentor],
    update_id: int | None = None,
) -> tuple[Broadcast, bool]:
    """The broadcast (status sending), one pending outbox row per recipient and the audit row,
    in one transaction. Returns (broadcast, created): a redelivered press finds the first."""
    broadcast, created = await update_queries.add_once(session=session, row=Broadcast(
        created_by=actor.id, area_code=_scope(actor), audience=audience,
        audience_code=audience_code, text=text, photo_file_id=photo_file_id,
        document_file_id=document_file_id, status=BroadcastStatus.SENDING,
        source_update_id=update_id), update_id=update_id)
    if not created:
        return broadcast, False
    rows = [{"broadcast_id": broadcast.id, "telegram_id": person.telegram_id,
             "name": person.name[:100], "status": OutboxStatus.PENDING, "attempts": 0}
            for person in to]
    for start in range(0, len(rows), 500):
        await session.execute(insert(BroadcastRecipient), rows[start:start + 500])
    new = audit.snapshot(broadcast, {"area_code", "audience", "audience_code", "text",
                                     "photo_file_id", "document_file_id", "status"})
    new["recipients"] = len(rows)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.CREATE, entity=ENTITY, entity_id=broadcast.id, new=new)
    if update_id is not None:
        await update_queries.mark_in_transaction(session=session, update_id=update_id)
    await session.commit()
    return broadcast, True


async def set_progress_message(*, session: AsyncSession, broadcast_id: int, chat_id: int,
                               message_id: int) -> None:
    """Where the coordinator watches the progress (edited by the outbox worker)."""
    await session.execute(
        update(Broadcast).where(Broadcast.id == broadcast_id)
        .values(progress_chat_id=chat_id, progress_message_id=message_id))
    await session.commit()


async def get(*, session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id, populate_existing=True)


async def get_visible(*, session: AsyncSession, broadcast_id: int, actor: Mentor
                      ) -> Broadcast | None:
    """The broadcast if the actor may look into it: an admin, its author, or a coordinator
    whose area holds the broadcast's area. None otherwise (callers treat both the same)."""
    broadcast = await get(session=session, broadcast_id=broadcast_id)
    if broadcast is None:
        return None
    if actor.role == Role.ADMIN or broadcast.created_by == actor.id:
        return broadcast
    if actor.role == Role.COORDINATOR and broadcast.area_code and may_reach(
            actor, broadcast.area_code):
        return broadcast
    return None


async def undelivered(*, session: AsyncSession, broadcast_id: int) -> list[BroadcastRecipient]:
    """Recipients who did not get the broadcast (blocked the bot, or failed), by name."""
    result = await session.execute(
        select(BroadcastRecipient).where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.status.in_([OutboxStatus.BLOCKED, OutboxStatus.FAILED]))
        .order_by(BroadcastRecipient.name, BroadcastRecipient.id))
    return list(result.scalars())


# --- the outbox ----------------------------------------------------------------------------

async def fail_interrupted(*, session: AsyncSession) -> int:
    """At start-up: rows left 'sending' by a crash may or may not have arrived. They are never
    sent again; they are marked failed so the coordinator sees them."""
    result = await session.execute(
        update(BroadcastRecipient).where(BroadcastRecipient.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.FAILED, reason="interrupted"))
    await session.commit()
    return result.rowcount or 0


async def due(*, session: AsyncSession, now: datetime, limit: int) -> list[BroadcastRecipient]:
    """Pending rows of broadcasts being sent whose wait (after a 429) is over, oldest first."""
    result = await session.execute(
        select(BroadcastRecipient)
        .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
        .where(Broadcast.status == BroadcastStatus.SENDING,
               BroadcastRecipient.status == OutboxStatus.PENDING,
               BroadcastRecipient.not_before.is_(None) | (BroadcastRecipient.not_before <= now))
        .order_by(BroadcastRecipient.broadcast_id, BroadcastRecipient.id)
        .limit(limit))
    return list(result.scalars())


async def next_not_before(*, session: AsyncSession) -> datetime | None:
    """The earliest moment a waiting row may be tried again (None: nothing waits)."""
    result = await session.execute(
        select(func.min(BroadcastRecipient.not_before))
        .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
        .where(Broadcast.status == BroadcastStatus.SENDING,
               BroadcastRecipient.status == OutboxStatus.PENDING))
    return result.scalar_one_or_none()


async def claim(*, session: AsyncSession, row_ids: list[int]) -> list[int]:
    """Marks rows as being sent (attempts + 1) and commits, before anything goes out; returns
    the ids actually claimed (a row another worker claimed meanwhile is left alone)."""
    claimed: list[int] = []
    for start in range(0, len(row_ids), 500):
        result = await session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.id.in_(row_ids[start:start + 500]),
                   BroadcastRecipient.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, attempts=BroadcastRecipient.attempts + 1)
            .returning(BroadcastRecipient.id)
            # Loaded rows keep their values: the caller counts this attempt itself.
            .execution_options(synchronize_session=False))
        claimed += result.scalars().all()
    await session.commit()
    return sorted(claimed)  # RETURNING has no guaranteed order on PostgreSQL


async def mark_sent(*, session: AsyncSession, row_ids: list[int], now: datetime) -> None:
    for start in range(0, len(row_ids), 500):
        await session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.id.in_(row_ids[start:start + 500]))
            .values(status=OutboxStatus.SENT, sent_at=now, reason=None, not_before=None))


async def mark_finished(*, session: AsyncSession, row_id: int, status: OutboxStatus,
                        reason: str) -> None:
    """Blocked or failed for good, with the reason."""
    await session.execute(
        update(BroadcastRecipient).where(BroadcastRecipient.id == row_id)
        .values(status=status, reason=reason[:200]))


async def release(*, session: AsyncSession, row_id: int, not_before: datetime | None,
                  reason: str | None = None, count_attempt: bool = True) -> None:
    """Puts a claimed row back (nothing was delivered): tried again after ``not_before``.
    Without ``count_attempt`` the claim does not count as an attempt (Telegram said wait)."""
    values: dict = {"status": OutboxStatus.PENDING, "not_before": not_before}
    if reason is not None:
        values["reason"] = reason[:200]
    if not count_attempt:
        values["attempts"] = BroadcastRecipient.attempts - 1
    await session.execute(
        update(BroadcastRecipient)
        .where(BroadcastRecipient.id == row_id,
               BroadcastRecipient.status == OutboxStatus.SENDING)
        .values(**values))


async def open_broadcasts(*, session: AsyncSession) -> list[Broadcast]:
    result = await session.execute(
        select(Broadcast).where(Broadcast.status == BroadcastStatus.SENDING)
        .order_by(Broadcast.id).execution_options(populate_existing=True))
    return list(result.scalars())


@dataclass(frozen=True)
class Tally:
    """How far a broadcast has come."""

    total: int = 0
    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed

    @property
    def finished(self) -> bool:
        return self.pending == 0 and self.sending == 0


async def tally(*, session: AsyncSession, broadcast_id: int) -> Tally:
    result = await session.execute(
        select(BroadcastRecipient.status, func.count())
        .where(BroadcastRecipient.broadcast_id == broadcast_id)
        .group_by(BroadcastRecipient.status))
    counts = {str(status): int(n) for status, n in result}
    return Tally(total=sum(counts.values()),
                 **{status: counts.get(status, 0)
                    for status in ("pending", "sending", "sent", "blocked", "failed")})


async def finish_broadcast(*, session: AsyncSession, broadcast_id: int, counts: Tally) -> bool:
    """Marks a broadcast done (once), with an audit row of its figures; commits."""
    result = await session.execute(
        update(Broadcast).where(Broadcast.id == broadcast_id,
                                Broadcast.status == BroadcastStatus.SENDING)
        .values(status=BroadcastStatus.DONE, finished_at=utcnow()))
    changed = result.rowcount == 1
    if changed:
        audit.record(session=session, actor_telegram_id=None, action=AuditAction.UPDATE,
                     entity=ENTITY, entity_id=broadcast_id,
                     old={"status": str(BroadcastStatus.SENDING)},
                     new={"status": str(BroadcastStatus.DONE), "sent": counts.sent,
                          "blocked": counts.blocked, "failed": counts.failed})
    await session.commit()
    return changed
