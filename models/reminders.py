"""Which reminder comes next for a group or a grant. The database is the source of truth.

Each rule has offsets in days from a due date (the "cycle"): a visit due date or a roll-over
deadline. The table keeps, per rule and subject, the one next occurrence that is pending;
sending it (scheduler.sweep) stores the following one in the same transaction. Logging a visit,
changing an interval or recording a roll-over calls ``reschedule_*`` in the transaction that
saves it, which cancels what no longer applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.places import timezone_for
from models.enums import DeliveryStatus, ReminderRule, ReminderStatus
from models.tables import Grant, Group, Reminder, ReminderDelivery

VISIT_RULES = (ReminderRule.VISIT_DUE, ReminderRule.VISIT_OVERDUE, ReminderRule.VISIT_ESCALATION)
GRANT_RULES = (ReminderRule.ROLLOVER_SOON, ReminderRule.ROLLOVER_OVERDUE)


@dataclass(frozen=True)
class Rules:
    """The offsets of every rule (from the settings; these defaults are the programme's)."""

    hour: int = 7
    visit_overdue_days: tuple[int, ...] = (1, 3, 7)
    visit_overdue_every: int = 7
    escalation_days: int = 14
    rollover_warning_days: tuple[int, ...] = (30, 7, 1)
    rollover_overdue_every: int = 7

    def offset(self, rule: str, step: int) -> int | None:
        """Days from the cycle's due date for ``step`` of ``rule``; None when there is no such
        step. The overdue rules repeat for ever (until a visit or the roll-over is done)."""
        if rule == ReminderRule.VISIT_DUE:
            return 0 if step == 0 else None
        if rule == ReminderRule.VISIT_OVERDUE:
            fixed = self.visit_overdue_days
            if step < len(fixed):
                return fixed[step]
            return fixed[-1] + self.visit_overdue_every * (step - len(fixed) + 1)
        if rule == ReminderRule.VISIT_ESCALATION:
            return self.escalation_days if step == 0 else None
        if rule == ReminderRule.ROLLOVER_SOON:
            days = self.rollover_warning_days
            return -days[step] if step < len(days) else None
        if rule == ReminderRule.ROLLOVER_OVERDUE:
            return 1 + self.rollover_overdue_every * step
        raise ValueError(rule)

    def next_step(self, rule: str, cycle: date, not_before: date) -> tuple[int, date] | None:
        """The first step of ``rule`` whose day is ``not_before`` or later."""
        step = 0
        while (offset := self.offset(rule, step)) is not None:
            fire_on = cycle + timedelta(days=offset)
            if fire_on >= not_before:
                return step, fire_on
            step += 1
            if step > 10_000:  # a cycle decades old: nothing sensible to send
                return None
        return None


def local_morning(fire_on: date, area_code: str, hour: int) -> datetime:
    """``hour``:00 on ``fire_on`` where the area is, in UTC."""
    zone = ZoneInfo(timezone_for(area_code))
    return datetime.combine(fire_on, time(hour), tzinfo=zone).astimezone(UTC)


async def _cancel(*, session: AsyncSession, rules: tuple[str, ...], subject_id: int) -> None:
    """Cancels pending reminders (and deliveries not yet sent) of these rules for a subject."""
    pending = select(Reminder.id).where(Reminder.rule.in_(rules),
                                        Reminder.subject_id == subject_id)
    await session.execute(
        update(ReminderDelivery)
        .where(ReminderDelivery.reminder_id.in_(pending),
               ReminderDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, reason="resolved")
    )
    await session.execute(
        update(Reminder)
        .where(Reminder.rule.in_(rules), Reminder.subject_id == subject_id,
               Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
    )


async def _last_fired(*, session: AsyncSession, rule: str, subject_id: int, cycle: date
                      ) -> date | None:
    result = await session.execute(
        select(func.max(Reminder.fire_on)).where(
            Reminder.rule == rule, Reminder.subject_id == subject_id, Reminder.cycle == cycle,
            Reminder.status.in_([ReminderStatus.SENT, ReminderStatus.EXPIRED]))
    )
    return result.scalar_one_or_none()


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
    """Replaces the group's pending visit reminders with those of its current due date."""
    rules = rules or Rules()
    await _cancel(session=session, rules=VISIT_RULES, subject_id=group.id)
    if group.next_visit_due is None:
        return
    for rule in VISIT_RULES:
        await schedule_next(session=session, rule=rule, subject_id=group.id,
                            cycle=group.next_visit_due, area_code=group.village_code,
                            not_before=today, rules=rules)


async def reschedule_grant(*, session: AsyncSession, grant: Grant, group: Group, today: date,
                           done: bool, rules: Rules | None = None) -> None:
    """Replaces a grant's pending roll-over reminders; none once the roll-over is complete."""
    rules = rules or Rules()
    await _cancel(session=session, rules=GRANT_RULES, subject_id=grant.id)
    if done:
        return
    for rule in GRANT_RULES:
        await schedule_next(session=session, rule=rule, subject_id=grant.id,
                            cycle=grant.rollover_due, area_code=group.village_code,
                            not_before=today, rules=rules)


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


async def pending_for(*, session: AsyncSession, rule: str, subject_id: int) -> Reminder | None:
    result = await session.execute(
        select(Reminder).where(Reminder.rule == rule, Reminder.subject_id == subject_id,
                               Reminder.status == ReminderStatus.PENDING))
    return result.scalar_one_or_none()


# --- what the sweep reads and writes --------------------------------------------------------

async def due(*, session: AsyncSession, now: datetime, limit: int = 500) -> list[Reminder]:
    """Pending reminders whose time has come, oldest first (reads the partial due index)."""
    result = await session.execute(
        select(Reminder).where(Reminder.status == ReminderStatus.PENDING,
                               Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id).limit(limit))
    return list(result.scalars())


async def open_deliveries(*, session: AsyncSession) -> list[tuple[ReminderDelivery, Reminder]]:
    """Deliveries still to be sent, with their reminders, grouped by recipient."""
    result = await session.execute(
        select(ReminderDelivery, Reminder)
        .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
        .where(ReminderDelivery.status == DeliveryStatus.PENDING)
        .order_by(ReminderDelivery.recipient_telegram_id, Reminder.due_at, Reminder.id))
    return [(delivery, reminder) for delivery, reminder in result]


async def claim(*, session: AsyncSession, delivery_ids: list[int]) -> int:
    """Marks deliveries as being sent, before the message goes out: if the process dies after
    this, a restart will not send them again (at most once, never twice)."""
    result = await session.execute(
        update(ReminderDelivery)
        .where(ReminderDelivery.id.in_(delivery_ids),
               ReminderDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SENDING))
    await session.commit()
    return result.rowcount or 0


async def finish(*, session: AsyncSession, delivery_ids: list[int], status: DeliveryStatus,
                 now: datetime, reason: str | None = None) -> None:
    values: dict = {"status": status, "reason": reason}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = now
    await session.execute(
        update(ReminderDelivery).where(ReminderDelivery.id.in_(delivery_ids)).values(**values))
    await session.commit()


async def release(*, session: AsyncSession, delivery_ids: list[int]) -> None:
    """Puts claimed deliveries back (Telegram asked to wait; nothing was sent)."""
    await session.execute(
        update(ReminderDelivery)
        .where(ReminderDelivery.id.in_(delivery_ids),
               ReminderDelivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING))
    await session.commit()


async def fail_interrupted(*, session: AsyncSession) -> int:
    """At start-up: deliveries left 'sending' by a crash may or may not have arrived. They are
    not sent again (never twice); they are marked so an operator can see them."""
    result = await session.execute(
        update(ReminderDelivery).where(ReminderDelivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.FAILED, reason="interrupted"))
    await session.commit()
    return result.rowcount or 0


async def sent_deliveries(*, session: AsyncSession, recipient_telegram_id: int | None = None
                          ) -> list[tuple[ReminderDelivery, Reminder]]:
    query = (select(ReminderDelivery, Reminder)
             .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
             .where(ReminderDelivery.status == DeliveryStatus.SENT))
    if recipient_telegram_id is not None:
        query = query.where(ReminderDelivery.recipient_telegram_id == recipient_telegram_id)
    return [(d, r) for d, r in await session.execute(query.order_by(ReminderDelivery.id))]
