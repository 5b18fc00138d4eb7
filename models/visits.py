"""Queries on mentoring visits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuditAction
from bot.core.reminder_rules import Rules
from models import audit, reminders
from models import updates as update_queries
from models.group_places import refresh_place
from models.groups import visible_groups_clause
from models.tables import Group, Mentor, Visit


def move_due(*, session: AsyncSession, group: Group, due: date,
             actor_telegram_id: int) -> None:
    """Moves the group's next due date to ``due``, with its audit row (not committed)."""
    old_due = group.next_visit_due
    group.next_visit_due = due
    session.add(group)
    audit.record(session=session, actor_telegram_id=actor_telegram_id,
                 action=AuditAction.UPDATE, entity="group", entity_id=group.id,
                 old={"next_visit_due": old_due.isoformat() if old_due else None},
                 new={"next_visit_due": due.isoformat()})


# Read while a visit is logged and saved: built once, as building a statement costs more than
# running it on SQLite.
_OF_GROUP = Visit.group_id == bindparam("group_id")
_LATEST_OTHER = select(func.max(Visit.visited_on)).where(
    _OF_GROUP, Visit.id != bindparam("visit_id"))
_LATEST_BEFORE = select(func.max(Visit.visited_on)).where(
    _OF_GROUP, Visit.visited_on < bindparam("day"))
_ON_DAY = select(Visit.id).where(_OF_GROUP, Visit.visited_on == bindparam("day")).limit(1)


async def create_visit(
    *,
    session: AsyncSession,
    group: Group,
    mentor: Mentor,
    fields: dict[str, Any],
    update_id: int | None = None,
    today: date | None = None,
    rules: Rules | None = None,
) -> tuple[Visit, bool]:
    """Saves a visit, moves the group's next due date and its stored place, in one
    transaction.

    Returns (visit, created); a redelivered update finds the visit it already saved.
    """
    visit, created = await update_queries.create_once(session=session, row=Visit(
        group_id=group.id, mentor_id=mentor.id, source_update_id=update_id, **fields),
        update_id=update_id, actor_telegram_id=mentor.telegram_id, entity="visit")
    if not created:
        return visit, False
    latest_other = (await session.execute(_LATEST_OTHER, {
        "group_id": group.id, "visit_id": visit.id})).scalar_one_or_none()
    # A visit logged late, older than one already recorded, is history: the schedule follows
    # the latest visit, not the last one typed.
    if (latest_other is None or visit.visited_on >= latest_other) \
            and visit.next_visit_on != group.next_visit_due:
        move_due(session=session, group=group, due=visit.next_visit_on,
                 actor_telegram_id=mentor.telegram_id)
    # A located visit moves the middle of a group placed by its visits.
    if visit.latitude is not None and visit.longitude is not None:
        await refresh_place(session=session, group=group)
    # What was pending for the old due date is void now; the new due date gets its own.
    await reminders.reschedule_group(session=session, group=group,
                                     today=today or visit.visited_on, rules=rules)
    if update_id is not None:
        await update_queries.mark_in_transaction(session=session, update_id=update_id)
    await session.commit()
    return visit, True


async def list_for_group(
    *, session: AsyncSession, group_id: int, limit: int = 10, offset: int = 0
) -> list[Visit]:
    """A group's visits, latest first (``offset`` skips that many, for paging)."""
    result = await session.execute(
        select(Visit).where(Visit.group_id == group_id)
        .order_by(Visit.visited_on.desc(), Visit.id.desc()).offset(offset).limit(limit)
    )
    return list(result.scalars())


async def recent_visible(
    *, session: AsyncSession, actor: Mentor, limit: int = 10, offset: int = 0
) -> list[tuple[Visit, str]]:
    """The latest visits to groups ``actor`` may see, with the group's name."""
    result = await session.execute(
        select(Visit, Group.name).join(Group, Group.id == Visit.group_id)
        .where(visible_groups_clause(actor))
        .order_by(Visit.visited_on.desc(), Visit.id.desc()).offset(offset).limit(limit)
    )
    return [(visit, name) for visit, name in result]


async def last_visit_on(*, session: AsyncSession, group_id: int) -> date | None:
    result = await session.execute(
        select(Visit.visited_on).where(Visit.group_id == group_id)
        .order_by(Visit.visited_on.desc()).limit(1)
    )
    return result.scalar_one_or_none()


async def visited_on_day(*, session: AsyncSession, group_id: int, day: date) -> bool:
    """Whether the group already has a visit recorded on ``day``."""
    result = await session.execute(_ON_DAY, {"group_id": group_id, "day": day})
    return result.first() is not None


async def figures_start(*, session: AsyncSession, group_id: int, formed_on: date, day: date
                        ) -> tuple[date, bool]:
    """Where the business figures of a visit on ``day`` begin: the group's latest visit before
    that day (True), or, for its first visit, the day the group was formed (``formed_on``,
    False)."""
    last = (await session.execute(_LATEST_BEFORE, {
        "group_id": group_id, "day": day})).scalar_one_or_none()
    return (last, True) if last is not None else (formed_on, False)


async def with_figures(*, session: AsyncSession, group_id: int, limit: int = 24) -> list[Visit]:
    """A group's latest ``limit`` visits that recorded a turnover, a profit or an IKS, oldest
    first (its figures over time)."""
    result = await session.execute(
        select(Visit).where(Visit.group_id == group_id,
                            (Visit.turnover.is_not(None)) | (Visit.profit.is_not(None))
                            | (Visit.solidarity_fee.is_not(None)))
        .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(limit))
    return list(reversed(result.scalars().all()))


# The figures whose last value a new one is compared with (handlers.amount_check).
_FIGURE_COLUMNS = {"turnover": Visit.turnover, "profit": Visit.profit, "cash": Visit.cash,
                   "solidarity_fee": Visit.solidarity_fee}


async def last_figure(*, session: AsyncSession, group_id: int, field: str) -> int | None:
    """The group's latest recorded value of the figure ``field`` (turnover, profit, cash,
    solidarity_fee), or None if no visit recorded it."""
    column = _FIGURE_COLUMNS[field]
    result = await session.execute(
        select(column).where(Visit.group_id == group_id, column.is_not(None))
        .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(1))
    return result.scalar_one_or_none()


async def get(*, session: AsyncSession, visit_id: int) -> Visit | None:
    """A visit by id (the caller checks the user's right to its group)."""
    return await session.get(Visit, visit_id)


async def get_visible(*, session: AsyncSession, visit_id: int, actor: Mentor
                      ) -> tuple[Visit, Group] | None:
    """A visit and its group, if ``actor`` may see the group (its mentor, a coordinator of its
    area, an admin); else None, whether the visit is not theirs or does not exist."""
    result = await session.execute(
        select(Visit, Group).join(Group, Group.id == Visit.group_id)
        .where(Visit.id == visit_id, visible_groups_clause(actor)))
    row = result.first()
    return None if row is None else (row[0], row[1])


async def latest_for_group(*, session: AsyncSession, group_id: int) -> Visit | None:
    """The group's latest visit (the one its schedule follows), or None."""
    result = await session.execute(
        select(Visit).where(Visit.group_id == group_id)
        .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(1))
    return result.scalar_one_or_none()
