"""What an import looks up in the data: the mentors a group may be given, and the groups and
households the file names (in chunks, so a large file stays within a query's parameters)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import MentorStatus, Role
from models.exchange.report import RefusalCode
from models.exchange.values import group_key, norm, text
from models.reports import in_area_clause
from models.tables import Grant, Group, Member, Mentor


def _chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Mentors:
    """The mentors a group may be given: active mentors (and coordinators) of the area."""

    def __init__(self, mentors: list[Mentor]) -> None:
        self.by_tid = {m.telegram_id: m for m in mentors}
        self.by_name: dict[str, list[Mentor]] = {}
        for mentor in mentors:
            self.by_name.setdefault(norm(mentor.name), []).append(mentor)

    def find(self, value: Any) -> tuple[Mentor | None, RefusalCode | None]:
        """(mentor, None) or (None, reason)."""
        written = text(value)
        if re.fullmatch(r"\d{4,15}", written):
            found = self.by_tid.get(int(written))
            return (found, None) if found else (None, RefusalCode.MENTOR_UNKNOWN)
        matches = self.by_name.get(norm(written), [])
        if len(matches) == 1:
            return matches[0], None
        return None, RefusalCode.MENTOR_AMBIGUOUS if matches else RefusalCode.MENTOR_UNKNOWN


async def allowed_mentors(*, session: AsyncSession, area_code: str | None) -> Mentors:
    result = await session.execute(
        select(Mentor).where(Mentor.role.in_((Role.MENTOR.value, Role.COORDINATOR.value)),
                             Mentor.status == MentorStatus.ACTIVE.value,
                             in_area_clause(Mentor.area_code, area_code))
        .order_by(Mentor.id))
    return Mentors(list(result.scalars()))


async def existing_groups(*, session: AsyncSession, villages: set[str]
                          ) -> dict[tuple[str, str], list[Group]]:
    found: dict[tuple[str, str], list[Group]] = {}
    for chunk in _chunks(sorted(villages)):
        result = await session.execute(
            select(Group).where(Group.village_code.in_(chunk)).order_by(Group.id))
        for group in result.scalars():
            found.setdefault(group_key(group.village_code, group.name), []).append(group)
    return found


async def existing_members(*, session: AsyncSession, group_ids: list[int]
                           ) -> dict[int, list[Member]]:
    found: dict[int, list[Member]] = {}
    for chunk in _chunks(sorted(group_ids)):
        result = await session.execute(
            select(Member).where(Member.group_id.in_(chunk)).order_by(Member.id))
        for member in result.scalars():
            found.setdefault(member.group_id, []).append(member)
    return found


async def existing_grants(*, session: AsyncSession, group_ids: list[int]
                          ) -> dict[int, list[Grant]]:
    found: dict[int, list[Grant]] = {}
    for chunk in _chunks(sorted(group_ids)):
        result = await session.execute(
            select(Grant).where(Grant.group_id.in_(chunk)).order_by(Grant.id))
        for grant in result.scalars():
            found.setdefault(grant.group_id, []).append(grant)
    return found
