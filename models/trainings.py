"""Queries on the trainings (pelatihan) a group or some of its households received."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import updates as update_queries
from models.tables import Group, Mentor, Training


async def create_training(*, session: AsyncSession, group: Group, mentor: Mentor,
                          fields: dict[str, Any], update_id: int | None = None
                          ) -> tuple[Training, bool]:
    """Saves a training with its audit row, in one commit. Returns (training, created); a
    redelivered update finds the training it already saved."""
    training, created = await update_queries.create_once(session=session, row=Training(
        group_id=group.id, recorded_by=mentor.id, source_update_id=update_id, **fields),
        update_id=update_id, actor_telegram_id=mentor.telegram_id, entity="training")
    if created and update_id is not None:
        await update_queries.mark_in_transaction(session=session, update_id=update_id)
    await session.commit()
    return training, created


async def latest_for_group(*, session: AsyncSession, group_id: int, limit: int = 3
                           ) -> list[Training]:
    """A group's latest ``limit`` trainings, latest first."""
    result = await session.execute(
        select(Training).where(Training.group_id == group_id)
        .order_by(Training.held_on.desc(), Training.id.desc()).limit(limit))
    return list(result.scalars())


async def count_for_group(*, session: AsyncSession, group_id: int) -> int:
    """How many trainings the group has recorded."""
    return (await session.execute(
        select(func.count()).select_from(Training)
        .where(Training.group_id == group_id))).scalar_one()
