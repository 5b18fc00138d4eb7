"""Which reminder comes next for a group or a grant. The database is the source of truth.

Each rule has offsets in days from a due date (the "cycle"): a visit due date, a roll-over
deadline or a grant's LPJ deadline. The table keeps, per rule and subject, the one next
occurrence that is pending; sending it (scheduler.sweep) stores the following one in the same
transaction. Logging a visit, changing an interval, recording a roll-over or an LPJ calls
``reschedule_*`` in the transaction that saves it, which cancels what no longer applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import DeliveryStatus, GroupStatus, ReminderRule, ReminderStatus
from bot.core.places import zone_for
from bot.core.reminder_rules import Rules
from models.tables import (
    ConversationState,
    Grant,
    Group,
    Mentor,
    Reminder,
    ReminderDelivery,
    utcnow,
)

T = TypeVar("T")
# Ids per IN (...) list: far below SQLite's and asyncpg's limits on bound parameters.
CHUNK = 500


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]

VISIT_RULES = (ReminderRule.VISIT_DUE, ReminderRule.VISIT_OVERDUE, ReminderRule.VISIT_ESCALATION)
GRANT_RULES = (ReminderRule.ROLLOVER_SOON, ReminderRule.ROLLOVER_OVERDUE)
LPJ_RULES = (ReminderRule.LPJ_SOON, ReminderRule.LPJ_OVERDUE)
# Rules whose subject is a grant (the others' is a group).
ABOUT_GRANTS = frozenset(GRANT_RULES + LPJ_RULES)
# The sweep's bulk writes go to the tables, not the entities: the ORM's bookkeeping per
# statement (and per row) is most of their cost, and the sweep holds no entities to keep in step.
_REMINDER = Reminder.__table__
_DELIVERY = ReminderDelivery.__table__


def local_morning(fire_on: date, area_code: str, hour: int) -> datetime:
    """``hour``:00 on ``fire_on`` where the area is, in UTC."""
    return datetime.combine(fire_on, time(hour), tzinfo=zone_for(area_code)).astimezone(UTC)


# Every save of a visit, grant or roll-over cancels and replaces reminders: these statements
# are built once, as building one costs more than running it on SQLite.
_OF_SUBJECT = (Reminder.rule.in_(bindparam("rules", expanding=True)),
               Reminder.subject_id == bindparam("of_subject"))
_CANCEL_DELIVERIES = (
    update(ReminderDelivery)
    .where(ReminderDelivery.reminder_id.in_(select(Reminder.id).where(*_OF_SUBJECT)),
           ReminderDelivery.status == DeliveryStatus.PENDING)
    .values(status=DeliveryStatus.CANCELLED, reason="resolved")
    # Nothing loaded to bring up to date: the saves read no reminders first.
    .execution_options(synchronize_session=False))
_CANCEL_REMINDERS = (
    update(Reminder)
    .where(*_OF_SUBJECT, Reminder.status == ReminderStatus.PENDING)
    .values(status=ReminderStatus.CANCELLED)
    .execution_options(synchronize_session=False))
_LAST_FIRED_PER_RULE = (
    select(Reminder.rule, func.max(Reminder.fire_on))
    .where(*_OF_SUBJECT, Reminder.cycle == bindparam("cycle"),
           # Repeats the partial index's condition, so SQLite sees it may use it.
           Reminder.status != ReminderStatus.CANCELLED,
           Reminder.status.in_([ReminderStatus.SENT, ReminderStatus.EXPIRED]))
    .group_by(Reminder.rule))


async def _cancel(*, session: AsyncSession, rules: tuple[str, ...], subject_id: int) -> None:
    """Cancels pending reminders (and deliveries not yet sent) of these rules for a subject."""
    params = {"rules": list(rules), "of_subject": subject_id}
    await session.execute(_CANCEL_DELIVERIES, params)
    await session.execute(_CANCEL_REMINDERS, params)


async def _last_fired(*, session: AsyncSession, rule: str, subject_id: int, cycle: date
                      ) -> date | None:
    result = await session.execute(
        select(func.max(Reminder.fire_on)).where(
            Reminder.rule == rule, Reminder.subject_id == subject_id, Reminder.cycle == cycle,
            Reminder.status.in_([ReminderStatus.SENT, ReminderStatus.EXPIRED]))
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True)
class Follow:
    """A reminder just handled: its rule's next occurrence comes from here."""

    rule: str
    subject_id: int
    cycle: date
    area_code: str
    not_before: date


async def schedule_next_many(*, session: AsyncSession, follows: Sequence[Follow],
                             rules: Rules) -> int:
    """:func:`schedule_next` for many subjects at once: one read per rule and few hundred
    subjects (by the occurrence index) and one bulk insert. Returns how many were added."""
    fired: dict[tuple[str, int, date], date] = {}
    subjects_of: dict[str, set[int]] = {}
    for follow in follows:
        subjects_of.setdefault(follow.rule, set()).add(follow.subject_id)
    # One rule per query: with every rule against every subject, the index would be probed
    # for pairs that do not exist (the rules' subjects are groups or grants, not both).
    for rule, subject_ids in subjects_of.items():
        for chunk in chunked(sorted(subject_ids)):
            rows = await session.execute(
                select(Reminder.subject_id, Reminder.cycle, func.max(Reminder.fire_on))
                .where(Reminder.rule == rule, Reminder.subject_id.in_(chunk),
                       # Repeats the partial index's condition, so SQLite sees it may use it.
                       Reminder.status != ReminderStatus.CANCELLED,
                       Reminder.status.in_([ReminderStatus.SENT, ReminderStatus.EXPIRED]))
                .group_by(Reminder.subject_id, Reminder.cycle))
            fired.update({(rule, subject_id, cycle): last for subject_id, cycle, last in rows})
    return await _add_next(session=session, follows=follows, fired=fired, rules=rules)


async def _add_next(*, session: AsyncSession, follows: Sequence[Follow],
                    fired: dict[tuple[str, int, date], date], rules: Rules) -> int:
    """Inserts each follow's next occurrence (in one statement), after the last one ``fired``
    for its rule, subject and cycle; returns how many."""
    new: list[dict[str, Any]] = []
    created_at = utcnow()
    for follow in follows:
        not_before = follow.not_before
        last = fired.get((follow.rule, follow.subject_id, follow.cycle))
        if last is not None and last >= not_before:
            not_before = last + timedelta(days=1)
        found = rules.next_step(follow.rule, follow.cycle, not_before)
        if found is None:
            continue
        step, fire_on = found
        new.append({"rule": follow.rule, "subject_id": follow.subject_id, "cycle": follow.cycle,
                    "step": step, "fire_on": fire_on, "status": ReminderStatus.PENDING,
                    "due_at": local_morning(fire_on, follow.area_code, rules.hour),
                    "created_at": created_at})
    if new:
        await session.execute(insert(_REMINDER), new)
    return len(new)


async def schedule_next(
    *, session: AsyncSession, rule: str, subject_id: int, cycle: date, area_code: str,
    not_before: date, rules: Rules,
) -> Reminder | None:
    """Adds the next pending occurrence of ``rule``, never one already sent for this cycle."""
    fired = await _last_fired(session=session, rule=rule, subject_id=subject_id, cycle=cycle)
    if fired is not None and fired >= not_before:
        not_before = fired + timedelta(days=1)
    found = rules.next_step(rule, cycle, not_before)
    if found is None:
        return None
    step, fire_on = found
    reminder = Reminder(rule=rule, subject_id=subject_id, cycle=cycle, step=step,
                        fire_on=fire_on, due_at=local_morning(fire_on, area_code, rules.hour))
    session.add(reminder)
    await session.flush()
    return reminder


async def reschedule_group(*, session: AsyncSession, group: Group, today: date,
                           rules: Rules | None = None) -> None:
    """Replaces the group's pending visit reminders with those of its current due date; a
    group that is not active (tidak aktif, bubar) gets none."""
    active = group.status == GroupStatus.ACTIVE
    await _replace(session=session, rule_set=VISIT_RULES, subject_id=group.id,
                   cycle=group.next_visit_due if active else None, area_code=group.village_code, today=today,
                   rules=rules)


async def schedule_new_group(*, session: AsyncSession, group: Group, today: date,
                             rules: Rules | None = None) -> None:
    """:func:`reschedule_group` for a group just created, in one insert: it has nothing
    pending to cancel nor sent to follow (groups are never deleted, so no group's id is ever
    used again)."""
    if group.status != GroupStatus.ACTIVE or group.next_visit_due is None:
        return
    await _add_next(session=session, follows=[
        Follow(rule, group.id, group.next_visit_due, group.village_code, today)
        for rule in VISIT_RULES], fired={}, rules=rules or Rules())


async def reschedule_grant(*, session: AsyncSession, grant: Grant, group: Group, today: date,
                           done: bool, rules: Rules | None = None) -> None:
    """Replaces a grant's pending roll-over reminders; none once the roll-over is complete,
    nor for a grant that need not be rolled over."""
    required = grant.rollover_required and grant.rollover_due is not None
    await _replace(session=session, rule_set=GRANT_RULES, subject_id=grant.id,
                   cycle=grant.rollover_due if required and not done else None,
                   area_code=group.village_code, today=today, rules=rules)


async def reschedule_lpj(*, session: AsyncSession, grant: Grant, group: Group, today: date,
                         rules: Rules | None = None) -> None:
    """Replaces a grant's pending LPJ reminders; none once the LPJ is handed in."""
    await _replace(session=session, rule_set=LPJ_RULES, subject_id=grant.id,
                   cycle=None if grant.lpj_submitted_on else grant.lpj_due,
                   area_code=group.village_code, today=today, rules=rules)


async def schedule_new_grant(*, session: AsyncSession, grant: Grant, group: Group,
                             today: date, rules: Rules | None = None) -> None:
    """:func:`reschedule_grant` and :func:`reschedule_lpj` for a grant just created, in one
    insert: it has nothing pending to cancel nor sent to follow (grants are never deleted, so
    no grant's id is ever used again)."""
    cycles = ((GRANT_RULES, grant.rollover_due if grant.rollover_required else None),
              (LPJ_RULES, None if grant.lpj_submitted_on else grant.lpj_due))
    await _add_next(session=session, follows=[
        Follow(rule, grant.id, cycle, group.village_code, today)  # type: ignore[arg-type]
        for rule_set, cycle in cycles if cycle is not None for rule in rule_set],
        fired={}, rules=rules or Rules())


async def _replace(*, session: AsyncSession, rule_set: tuple[str, ...], subject_id: int,
                   cycle: date | None, area_code: str, today: date, rules: Rules | None) -> None:
    """Cancels what is pending of ``rule_set`` for the subject and, with a ``cycle`` (a due
    date or deadline), schedules each rule's next step from it."""
    await _cancel(session=session, rules=rule_set, subject_id=subject_id)
    if cycle is None:
        return
    # One read for the whole rule set and one insert: a save runs this with its update's
    # other statements, while SQLite's write lock is held.
    rows = await session.execute(_LAST_FIRED_PER_RULE, {
        "rules": list(rule_set), "of_subject": subject_id, "cycle": cycle})
    await _add_next(session=session, follows=[
        Follow(rule, subject_id, cycle, area_code, today) for rule in rule_set],
        fired={(rule, subject_id, cycle): last for rule, last in rows},
        rules=rules or Rules())


async def snooze(*, session: AsyncSession, reminder: Reminder, area_code: str, today: date,
                 rules: Rules | None = None) -> Reminder:
    """Asks for the same reminder again tomorrow morning (replacing what was pending)."""
    rules = rules or Rules()
    await _cancel(session=session, rules=(reminder.rule,), subject_id=reminder.subject_id)
    fire_on = today + timedelta(days=1)
    again = Reminder(rule=reminder.rule, subject_id=reminder.subject_id, cycle=reminder.cycle,
                     step=reminder.step, fire_on=fire_on,
                     due_at=local_morning(fire_on, area_code, rules.hour))
    session.add(again)
    await session.commit()
    return again


async def get(*, session: AsyncSession, reminder_id: int) -> Reminder | None:
    return await session.get(Reminder, reminder_id)


# --- what the sweep reads and writes --------------------------------------------------------

async def due(*, session: AsyncSession, now: datetime, limit: int = 500) -> list[Row]:
    """Pending reminders whose time has come, oldest first (reads the partial due index):
    plain rows of what the sweep reads (id, rule, subject_id, cycle, fire_on)."""
    result = await session.execute(
        select(Reminder.id, Reminder.rule, Reminder.subject_id, Reminder.cycle,
               Reminder.fire_on)
        .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id).limit(limit))
    return list(result)


async def set_status(*, session: AsyncSession, reminder_ids: list[int], status: str,
                     sent_at: datetime | None = None) -> None:
    """Marks reminders sent, expired or cancelled (no commit: part of the sweep's batch)."""
    values: dict[str, Any] = {"status": status}
    if sent_at is not None:
        values["sent_at"] = sent_at
    for chunk in chunked(reminder_ids):
        await session.execute(update(_REMINDER).where(_REMINDER.c.id.in_(chunk)).values(**values))


@dataclass(frozen=True)
class Owed:
    """A group past the escalation day, told late: its escalation for ``cycle`` is owed unless
    one was sent."""

    group_id: int
    cycle: date
    area_code: str


async def owed_escalations(*, session: AsyncSession, owed: Sequence[Owed], rules: Rules,
                           now: datetime) -> dict[int, int]:
    """Of these groups, those whose escalation for the cycle was never sent (expired by an
    outage, or never scheduled because the due date was set past its day): that escalation is
    stored as sent now. Returns the reminder id per group, for the sweep's deliveries. A
    pending one is left to the sweep (it is due, or will be this morning)."""
    wanted = {o.group_id: o for o in owed}
    taken: set[int] = set()
    revive: dict[int, int] = {}
    for chunk in chunked(sorted(wanted)):
        rows = await session.execute(
            select(_REMINDER.c.id, _REMINDER.c.subject_id, _REMINDER.c.cycle,
                   _REMINDER.c.status)
            .where(_REMINDER.c.rule == ReminderRule.VISIT_ESCALATION,
                   _REMINDER.c.subject_id.in_(chunk),
                   # The occurrence index's condition: SQLite then reads it by that index.
                   _REMINDER.c.status != ReminderStatus.CANCELLED))
        for reminder_id, group_id, cycle, status in rows:
            if cycle != wanted[group_id].cycle:
                continue
            if status == ReminderStatus.EXPIRED:
                revive.setdefault(group_id, reminder_id)
            else:
                taken.add(group_id)
    found = {group_id: reminder_id for group_id, reminder_id in revive.items()
             if group_id not in taken}
    await set_status(session=session, reminder_ids=list(found.values()),
                     status=ReminderStatus.SENT, sent_at=now)
    new = []
    for group_id, o in wanted.items():
        if group_id in taken or group_id in found:
            continue
        fire_on = o.cycle + timedelta(days=rules.escalation_days)
        # Stored on the rule's own day: the occurrence is then the one a later schedule of
        # this cycle sees as fired, and never adds again.
        new.append({"rule": ReminderRule.VISIT_ESCALATION, "subject_id": group_id,
                    "cycle": o.cycle, "step": 0, "fire_on": fire_on,
                    "due_at": local_morning(fire_on, o.area_code, rules.hour),
                    "status": ReminderStatus.SENT, "created_at": utcnow(), "sent_at": now})
    if new:
        result = await session.execute(
            insert(_REMINDER).returning(_REMINDER.c.id, _REMINDER.c.subject_id), new)
        found.update({group_id: reminder_id for reminder_id, group_id in result})
    return found


async def add_deliveries(*, session: AsyncSession, rows: list[tuple[int, int]]) -> None:
    """One pending delivery per (reminder id, recipient Telegram id), in one bulk insert."""
    if rows:
        created_at = utcnow()
        await session.execute(insert(_DELIVERY), [
            {"reminder_id": reminder_id, "recipient_telegram_id": telegram_id,
             "status": DeliveryStatus.PENDING, "created_at": created_at}
            for reminder_id, telegram_id in rows])


async def open_deliveries(*, session: AsyncSession) -> list[Row]:
    """Deliveries still to be sent, grouped by recipient: plain rows of (delivery_id,
    telegram_id) and their reminder's (reminder_id, rule, subject_id, cycle, fire_on)."""
    result = await session.execute(
        select(ReminderDelivery.id.label("delivery_id"),
               ReminderDelivery.recipient_telegram_id.label("telegram_id"),
               Reminder.id.label("reminder_id"), Reminder.rule, Reminder.subject_id,
               Reminder.cycle, Reminder.fire_on)
        .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
        .where(ReminderDelivery.status == DeliveryStatus.PENDING)
        .order_by(ReminderDelivery.recipient_telegram_id, Reminder.due_at, Reminder.id))
    return list(result)


# The sweep reads only a few columns of the subjects and people of its reminders: plain rows
# (attribute access like the entities) cost a fraction of loading full entities.

async def subject_groups(*, session: AsyncSession, group_ids: list[int]) -> dict[int, Row]:
    if not group_ids:
        return {}
    result = await session.execute(
        select(Group.id, Group.name, Group.village_code, Group.mentor_id, Group.next_visit_due,
               Group.status)
        .where(Group.id.in_(group_ids)))
    return {row.id: row for row in result}


async def subject_grants(*, session: AsyncSession, grant_ids: list[int]) -> dict[int, Row]:
    """The grants' fields the digest, the roll-over progress and the LPJ read."""
    if not grant_ids:
        return {}
    result = await session.execute(
        select(Grant.id, Grant.group_id, Grant.kind, Grant.rollover_required,
               Grant.rollover_due, Grant.rollover_amount, Grant.rollover_units,
               Grant.rollover_households, Grant.lpj_due, Grant.lpj_submitted_on)
        .where(Grant.id.in_(grant_ids)))
    return {row.id: row for row in result}


_PERSON = (Mentor.id, Mentor.telegram_id, Mentor.name, Mentor.status, Mentor.area_code,
           Mentor.language)


async def subject_mentors(*, session: AsyncSession, mentor_ids: list[int]) -> dict[int, Row]:
    if not mentor_ids:
        return {}
    result = await session.execute(select(*_PERSON).where(Mentor.id.in_(mentor_ids)))
    return {row.id: row for row in result}


async def recipients(*, session: AsyncSession, telegram_ids: list[int]) -> dict[int, Row]:
    """The people behind these Telegram ids, by Telegram id."""
    if not telegram_ids:
        return {}
    result = await session.execute(
        select(*_PERSON).where(Mentor.telegram_id.in_(telegram_ids)))
    return {row.telegram_id: row for row in result}


async def busy_recipients(*, session: AsyncSession, telegram_ids: Iterable[int],
                          since: datetime) -> set[int]:
    """Of these users, those in the middle of a conversation touched after ``since``."""
    keys = {f"[{telegram_id}, {telegram_id}]": telegram_id for telegram_id in telegram_ids}
    busy: set[int] = set()
    for chunk in chunked(keys):
        rows = await session.execute(
            select(ConversationState.key, ConversationState.updated_at)
            .where(ConversationState.key.in_(chunk), ConversationState.state.is_not(None)))
        # Compared here, not in SQL: SQLite stores these instants as text.
        busy.update(keys[key] for key, updated_at in rows if updated_at > since)
    return busy


async def claim(*, session: AsyncSession, delivery_ids: list[int]) -> int:
    """Marks deliveries as being sent, before the message goes out: if the process dies after
    this, a restart will not send them again (at most once, never twice)."""
    return len(await claim_many(session=session, delivery_ids=delivery_ids))


async def claim_many(*, session: AsyncSession, delivery_ids: list[int]) -> set[int]:
    """:func:`claim` in one transaction for many digests; returns the ids this call claimed
    (those another sweep took already are left out)."""
    claimed: set[int] = set()
    for chunk in chunked(delivery_ids):
        result = await session.execute(
            update(_DELIVERY)
            .where(_DELIVERY.c.id.in_(chunk), _DELIVERY.c.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SENDING)
            .returning(_DELIVERY.c.id))
        claimed.update(result.scalars())
    await session.commit()
    return claimed


async def _set_delivery_status(*, session: AsyncSession, delivery_ids: list[int],
                               status: DeliveryStatus, now: datetime,
                               reason: str | None) -> None:
    values: dict[str, Any] = {"status": status, "reason": reason}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = now
    for chunk in chunked(delivery_ids):
        await session.execute(
            update(_DELIVERY).where(_DELIVERY.c.id.in_(chunk)).values(**values))


async def finish(*, session: AsyncSession, delivery_ids: list[int], status: DeliveryStatus,
                 now: datetime, reason: str | None = None) -> None:
    await _set_delivery_status(session=session, delivery_ids=delivery_ids, status=status,
                               now=now, reason=reason)
    await session.commit()


async def finish_many(*, session: AsyncSession,
                      outcomes: dict[tuple[DeliveryStatus, str | None], list[int]],
                      now: datetime, commit: bool = True) -> None:
    """Settles a batch of sends in one transaction: ids per (status, reason). Status
    ``pending`` puts claimed deliveries back (Telegram asked to wait; nothing was sent).
    Without ``commit`` the caller commits (with the next batch's claim: one commit less)."""
    for (status, reason), delivery_ids in outcomes.items():
        if status == DeliveryStatus.PENDING:
            for chunk in chunked(delivery_ids):
                await session.execute(
                    update(_DELIVERY)
                    .where(_DELIVERY.c.id.in_(chunk),
                           _DELIVERY.c.status == DeliveryStatus.SENDING)
                    .values(status=DeliveryStatus.PENDING))
        else:
            await _set_delivery_status(session=session, delivery_ids=delivery_ids,
                                       status=status, now=now, reason=reason)
    if commit:
        await session.commit()


async def fail_interrupted(*, session: AsyncSession) -> int:
    """At start-up: deliveries left 'sending' by a crash may or may not have arrived. They are
    not sent again (never twice); they are marked so an operator can see them."""
    result = await session.execute(
        update(ReminderDelivery).where(ReminderDelivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.FAILED, reason="interrupted"))
    await session.commit()
    return result.rowcount or 0

