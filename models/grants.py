"""Grants (bantuan; hibah in the code and the commands) and their roll-overs (pengguliran).
Progress and status are computed from the records every time, never stored, so they cannot go
stale. A grant's LPJ (laporan pertanggungjawaban) is due ``lpj_due`` and handed in on
``lpj_submitted_on``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuditAction, RecipientKind, RolloverStatus
from bot.core.reminder_rules import Rules
from models import audit, reminders
from models import updates as update_queries
from models.groups import visible_groups_clause, writable_clause
from models.tables import Grant, Group, Mentor, Rollover


@dataclass(frozen=True)
class Progress:
    """How much of a grant's roll-over obligation is done, as of ``today``."""

    grant: Grant
    amount_done: int
    units_done: int
    households_done: int
    groups_done: int
    count: int
    today: date

    @property
    def required(self) -> bool:
        """Whether the grant must be rolled over at all."""
        return bool(self.grant.rollover_required) and self.grant.rollover_due is not None

    @property
    def complete(self) -> bool:
        """The obligation is met (never, for a grant without one: there is nothing to meet)."""
        if not self.required:
            return False
        g = self.grant
        targets = [(g.rollover_amount, self.amount_done), (g.rollover_units, self.units_done),
                   (g.rollover_households, self.households_done + self.groups_done)]
        set_targets = [(target, done) for target, done in targets if target]
        return bool(set_targets) and all(done >= target for target, done in set_targets)

    @property
    def status(self) -> RolloverStatus:
        if not self.required:
            return RolloverStatus.NOT_REQUIRED
        if self.complete:
            return RolloverStatus.DONE
        if self.today > self.grant.rollover_due:
            return RolloverStatus.LATE
        return RolloverStatus.PARTIAL if self.count else RolloverStatus.NOT_STARTED

    @property
    def amount_left(self) -> int | None:
        target = self.grant.rollover_amount
        return None if not target else max(0, target - self.amount_done)

    @property
    def units_left(self) -> int | None:
        target = self.grant.rollover_units
        return None if not target else max(0, target - self.units_done)

    def counting(self, rollover: Rollover) -> Progress:
        """This progress with ``rollover`` (not counted yet) counted too, as
        :func:`progress_for` would read it once it is stored."""
        kind = rollover.recipient_kind
        return replace(self, amount_done=self.amount_done + (rollover.amount or 0),
                       units_done=self.units_done + (rollover.units or 0),
                       households_done=self.households_done + (kind == RecipientKind.HOUSEHOLD),
                       groups_done=self.groups_done + (kind == RecipientKind.GROUP),
                       count=self.count + 1)

    @property
    def percent(self) -> int:
        """The least advanced of the set targets, in percent (0-100)."""
        g = self.grant
        shares = [done / target for target, done in (
            (g.rollover_amount, self.amount_done), (g.rollover_units, self.units_done),
            (g.rollover_households, self.households_done + self.groups_done)) if target]
        return int(min(1.0, min(shares)) * 100) if shares else 0


# The statements read on every step of a grant or roll-over conversation are built once:
# building one (select(), func.sum(), ==, its cache key) costs more than running it on SQLite.
_PROGRESS = (
    select(
        Rollover.grant_id,
        func.coalesce(func.sum(Rollover.amount), 0),
        func.coalesce(func.sum(Rollover.units), 0),
        func.count().filter(Rollover.recipient_kind == RecipientKind.HOUSEHOLD),
        func.count().filter(Rollover.recipient_kind == RecipientKind.GROUP),
        func.count(),
    ).where(Rollover.grant_id.in_(bindparam("ids", expanding=True)))
    .group_by(Rollover.grant_id))
_WITH_GROUP = select(Grant, Group).join(Group, Group.id == Grant.group_id)
_FOR_MENTOR = (_WITH_GROUP.where(Group.mentor_id == bindparam("mentor_id"))
               .order_by(Grant.rollover_due.is_(None), Grant.rollover_due, Grant.received_on,
                         Grant.id))
_OWN = _WITH_GROUP.where(Grant.id == bindparam("grant_id"),
                         Group.mentor_id == bindparam("mentor_id"))
_WRITABLE = _OWN.where(writable_clause())


async def progress_for(*, session: AsyncSession, grants: list[Grant], today: date
                       ) -> dict[int, Progress]:
    """Progress of several grants in one query."""
    if not grants:
        return {}
    rows = await session.execute(_PROGRESS, {"ids": [g.id for g in grants]})
    sums = {row[0]: row[1:] for row in rows}
    result = {}
    for grant in grants:
        amount, units, households, groups, count = sums.get(grant.id, (0, 0, 0, 0, 0))
        result[grant.id] = Progress(grant, int(amount), int(units), int(households),
                                    int(groups), int(count), today)
    return result


async def progress(*, session: AsyncSession, grant: Grant, today: date) -> Progress:
    return (await progress_for(session=session, grants=[grant], today=today))[grant.id]


async def create_grant(
    *, session: AsyncSession, group: Group, mentor: Mentor, fields: dict[str, Any],
    update_id: int | None = None, today: date | None = None,
    rules: Rules | None = None,
) -> tuple[Grant, bool]:
    """Saves a grant with its audit row, its roll-over reminders (if it must be rolled over)
    and its LPJ reminders; once per update."""
    grant, created = await update_queries.create_once(session=session, row=Grant(
        group_id=group.id, recorded_by=mentor.id, source_update_id=update_id, **fields),
        update_id=update_id, actor_telegram_id=mentor.telegram_id, entity="grant")
    if not created:
        return grant, False
    await reminders.schedule_new_grant(session=session, grant=grant, group=group,
                                       today=today or fields["received_on"], rules=rules)
    if update_id is not None:
        await update_queries.mark_in_transaction(session=session, update_id=update_id)
    await session.commit()
    return grant, True


async def record_lpj(*, session: AsyncSession, grant: Grant, group: Group, actor: Mentor,
                     submitted_on: date, today: date, rules: Rules | None = None
                     ) -> tuple[Grant, bool]:
    """Records the day the grant's LPJ was handed in (audited) and cancels its LPJ reminders;
    one commit. An LPJ already recorded is left as it was (False)."""
    if grant.lpj_submitted_on is not None:
        return grant, False
    old = audit.snapshot(grant, {"lpj_submitted_on"})
    grant.lpj_submitted_on = submitted_on
    session.add(grant)
    audit.record(session=session, actor_telegram_id=actor.telegram_id, action=AuditAction.UPDATE,
                 entity="grant", entity_id=grant.id, old=old,
                 new=audit.snapshot(grant, {"lpj_submitted_on"}))
    await reminders.reschedule_lpj(session=session, grant=grant, group=group, today=today,
                                   rules=rules)
    await session.commit()
    return grant, True


async def create_rollover(
    *, session: AsyncSession, grant: Grant, group: Group, mentor: Mentor,
    fields: dict[str, Any], update_id: int | None = None, today: date,
    rules: Rules | None = None,
) -> tuple[Rollover, bool]:
    """Saves a roll-over; when it completes the obligation, pending reminders are cancelled.
    One that does not leaves them as they are: the deadline they count to stays the same
    (a grant's targets are never changed, nor its roll-overs deleted)."""
    rollover, created = await update_queries.create_once(session=session, row=Rollover(
        grant_id=grant.id, recorded_by=mentor.id, source_update_id=update_id, **fields),
        update_id=update_id, actor_telegram_id=mentor.telegram_id, entity="rollover")
    if not created:
        return rollover, False
    # Read in this transaction, after the insert: a roll-over saved at the same time counts.
    state = await progress(session=session, grant=grant, today=today)
    if state.complete:
        await reminders.reschedule_grant(session=session, grant=grant, group=group,
                                         today=today, done=True, rules=rules)
    if update_id is not None:
        await update_queries.mark_in_transaction(session=session, update_id=update_id)
    await session.commit()
    return rollover, True


async def list_for_group(*, session: AsyncSession, group_id: int) -> list[Grant]:
    result = await session.execute(
        select(Grant).where(Grant.group_id == group_id).order_by(Grant.received_on, Grant.id))
    return list(result.scalars())


async def list_for_mentor(*, session: AsyncSession, mentor: Mentor) -> list[tuple[Grant, Group]]:
    """Grants of the mentor's own groups, nearest roll-over deadline first (those without an
    obligation last, by date received)."""
    result = await session.execute(_FOR_MENTOR, {"mentor_id": mentor.id})
    return [(grant, group) for grant, group in result]


async def get_visible(*, session: AsyncSession, grant_id: int, actor: Mentor
                      ) -> tuple[Grant, Group] | None:
    """The grant and its group if ``actor`` may see the group."""
    result = await session.execute(
        select(Grant, Group).join(Group, Group.id == Grant.group_id)
        .where(Grant.id == grant_id, visible_groups_clause(actor)))
    row = result.first()
    return (row[0], row[1]) if row else None


async def get_own(*, session: AsyncSession, grant_id: int, mentor: Mentor
                  ) -> tuple[Grant, Group] | None:
    """The grant and its group if ``mentor`` mentors the group (only they record roll-overs)."""
    result = await session.execute(_OWN, {"grant_id": grant_id, "mentor_id": mentor.id})
    row = result.first()
    return (row[0], row[1]) if row else None


async def get_writable(*, session: AsyncSession, grant_id: int, mentor: Mentor
                       ) -> tuple[Grant, Group] | None:
    """As :func:`get_own`, for a write (a roll-over): a dissolved group's grants are
    read-only (models.groups.writable_clause)."""
    result = await session.execute(_WRITABLE, {"grant_id": grant_id, "mentor_id": mentor.id})
    row = result.first()
    return (row[0], row[1]) if row else None


async def rollovers(*, session: AsyncSession, grant_id: int) -> list[Rollover]:
    result = await session.execute(
        select(Rollover).where(Rollover.grant_id == grant_id)
        .order_by(Rollover.rolled_on, Rollover.id))
    return list(result.scalars())


async def totals_for_groups(*, session: AsyncSession, group_ids: list[int]
                            ) -> dict[int, tuple[int, int]]:
    """Per group: (number of grants, total Rupiah)."""
    if not group_ids:
        return {}
    rows = await session.execute(
        select(Grant.group_id, func.count(), func.coalesce(func.sum(Grant.amount), 0))
        .where(Grant.group_id.in_(group_ids)).group_by(Grant.group_id))
    return {gid: (int(n), int(total)) for gid, n, total in rows}


async def get_many(*, session: AsyncSession, grant_ids: list[int]) -> dict[int, Grant]:
    if not grant_ids:
        return {}
    result = await session.execute(select(Grant).where(Grant.id.in_(grant_ids)))
    return {g.id: g for g in result.scalars()}
