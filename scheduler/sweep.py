"""The reminder sweep: turn due reminders into deliveries, then send one digest per person.

Two phases, each safe to interrupt:
1. Expand. Every pending reminder whose time has come gets one delivery row per recipient, is
   marked sent, and its rule's next occurrence is stored: one transaction per reminder.
2. Deliver. Per recipient, the open deliveries are claimed (committed) before the message goes
   out and finished after. A crash in between leaves them claimed, and the next start marks
   them failed instead of sending them again: a reminder arrives at most once.
Deliveries wait for the recipient's daytime (06:00-21:00 local) and for the end of a
conversation they are in the middle of; reminders older than the catch-up window expire.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, RetryAfter, TelegramError

from bot.formatting import format_date
from bot.places import timezone_for
from bot.settings import Settings
from bot.texts import t
from bot.transport import worth_retrying
from models import grants as grant_queries
from models import groups as group_queries
from models import mentors as mentor_queries
from models import reminders as reminder_queries
from models.areas import is_within
from models.enums import DeliveryStatus, MentorStatus, ReminderRule, ReminderStatus
from models.tables import ConversationState, Grant, Group, Mentor, Reminder, ReminderDelivery

log = logging.getLogger(__name__)

MAX_ITEMS = 15
GROUP_RULES = {ReminderRule.VISIT_DUE, ReminderRule.VISIT_OVERDUE,
               ReminderRule.VISIT_ESCALATION}
TO_COORDINATORS = {ReminderRule.VISIT_ESCALATION, ReminderRule.ROLLOVER_OVERDUE}
TO_MENTOR = {ReminderRule.VISIT_DUE, ReminderRule.VISIT_OVERDUE, ReminderRule.ROLLOVER_SOON,
             ReminderRule.ROLLOVER_OVERDUE}


@dataclass
class Digest:
    """One message for one person."""

    telegram_id: int
    name: str
    text: str
    delivery_ids: list[int]
    markup: InlineKeyboardMarkup | None = None


@dataclass
class SweepReport:
    now: datetime
    expanded: int = 0
    expired: int = 0
    digests: list[Digest] = field(default_factory=list)
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    deferred: int = 0

    def summary(self) -> str:
        return (f"{self.expanded} reminders due, {self.expired} expired, "
                f"{len(self.digests)} digests: {self.sent} sent, {self.blocked} blocked, "
                f"{self.failed} failed, {self.deferred} deferred")


def _local(now: datetime, area_code: str | None) -> datetime:
    return now.astimezone(ZoneInfo(timezone_for(area_code) if area_code else "Asia/Jakarta"))


def _too_old(reminder: Reminder, now: datetime, area_code: str | None,
              settings: Settings) -> bool:
    """Missed for more than the catch-up window, counted in calendar days where it applies."""
    return (_local(now, area_code).date() - reminder.fire_on).days > \
        settings.reminder_catchup_days


def _daytime(now: datetime, area_code: str | None, settings: Settings) -> bool:
    if settings.quiet_hours_start == settings.quiet_hours_end:
        return True  # equal start and end: no quiet hours at all
    hour = _local(now, area_code).hour
    return settings.quiet_hours_end <= hour < settings.quiet_hours_start


async def _recipients(*, session: AsyncSession, reminder: Reminder, group: Group,
                      mentor: Mentor | None, settings: Settings) -> set[int]:
    """Who hears of this reminder: the group's mentor and/or the area's coordinators (the
    admins while the area has no coordinator)."""
    out: set[int] = set()
    if reminder.rule in TO_MENTOR and mentor is not None and mentor.status == MentorStatus.ACTIVE:
        out.add(mentor.telegram_id)
    if reminder.rule in TO_COORDINATORS:
        covering = [c.telegram_id for c in await mentor_queries.coordinators(session=session)
                    if is_within(group.village_code, c.area_code)]
        if covering:
            out.update(covering)
        else:
            out.update(await mentor_queries.admins(session=session,
                                                   extra_ids=settings.admin_ids))
    return out


async def expand(*, session: AsyncSession, now: datetime, settings: Settings,
                 report: SweepReport, commit: bool = True) -> None:
    """Phase 1: due reminders become deliveries; each rule's next occurrence is stored.

    Repeats until nothing is due, because the occurrence that follows an expired one may be
    due already (after a long downtime); fire dates only move forward, so it ends.
    """
    rules = settings.reminder_rules
    handled: set[int] = set()
    while batch := [r for r in await reminder_queries.due(session=session, now=now)
                    if r.id not in handled]:
        for reminder in batch:
            handled.add(reminder.id)
            await _expand_one(session=session, reminder=reminder, now=now, settings=settings,
                              rules=rules, report=report)
            if commit:
                await session.commit()


async def _expand_one(*, session: AsyncSession, reminder: Reminder, now: datetime,
                      settings: Settings, rules, report: SweepReport) -> None:
    group, _grant = await _subject(session=session, reminder=reminder)
    if group is None:
        reminder.status = ReminderStatus.CANCELLED
    elif _too_old(reminder, now, group.village_code, settings):
        # Too old to be useful (the bot was down for long): skip it, keep the rule going.
        reminder.status = ReminderStatus.EXPIRED
        report.expired += 1
    else:
        mentor = (await mentor_queries.get_many(session=session,
                                                mentor_ids=[group.mentor_id])).get(
            group.mentor_id)
        for telegram_id in await _recipients(session=session, reminder=reminder, group=group,
                                             mentor=mentor, settings=settings):
            session.add(ReminderDelivery(reminder_id=reminder.id,
                                         recipient_telegram_id=telegram_id))
        reminder.status = ReminderStatus.SENT
        reminder.sent_at = now
        report.expanded += 1
    session.add(reminder)
    await session.flush()
    if group is not None:
        await reminder_queries.schedule_next(
            session=session, rule=reminder.rule, subject_id=reminder.subject_id,
            cycle=reminder.cycle, area_code=group.village_code,
            not_before=reminder.fire_on + timedelta(days=1), rules=rules)


async def _subject(*, session: AsyncSession, reminder: Reminder
                   ) -> tuple[Group | None, Grant | None]:
    if reminder.rule in GROUP_RULES:
        groups = await group_queries.get_many(session=session, group_ids=[reminder.subject_id])
        return groups.get(reminder.subject_id), None
    grants = await grant_queries.get_many(session=session, grant_ids=[reminder.subject_id])
    grant = grants.get(reminder.subject_id)
    if grant is None:
        return None, None
    groups = await group_queries.get_many(session=session, group_ids=[grant.group_id])
    return groups.get(grant.group_id), grant


async def _busy(*, session: AsyncSession, telegram_id: int, now: datetime,
                settings: Settings) -> bool:
    """In the middle of answering questions (recently): the digest waits until it is over."""
    key = f"[{telegram_id}, {telegram_id}]"
    result = await session.execute(
        select(ConversationState.updated_at).where(ConversationState.key == key,
                                                   ConversationState.state.is_not(None)))
    recent = now - timedelta(minutes=settings.conversation_defer_minutes)
    return any(updated_at > recent for updated_at in result.scalars())


async def _item(*, session: AsyncSession, reminder: Reminder, group: Group, grant: Grant | None,
                lang: str, to_mentor: bool, now: datetime) -> tuple[str, list[tuple[str, str]]]:
    """The line for one reminder and its buttons."""
    today = _local(now, group.village_code).date()
    rule = reminder.rule
    if rule in GROUP_RULES:
        due: date = group.next_visit_due or reminder.cycle
        days = (today - due).days
        if days <= 0:
            line = t(lang, "rem.item.visit_due", group=group.name)
        elif not to_mentor:
            mentor = (await mentor_queries.get_many(session=session,
                                                    mentor_ids=[group.mentor_id]))[
                group.mentor_id]
            line = t(lang, "rem.item.escalation", group=group.name, mentor=mentor.name,
                     days=days)
        else:
            line = t(lang, "rem.item.visit_overdue", group=group.name, days=days)
        buttons = [(t(lang, "rem.btn.visit"), f"kun:start:{group.id}")] if to_mentor else []
        view = f"kel:card:{group.id}"
    else:
        assert grant is not None
        state = await grant_queries.progress(session=session, grant=grant, today=today)
        days = (grant.rollover_due - today).days
        if days >= 0:
            line = t(lang, "rem.item.rollover_soon", group=group.name,
                     date=format_date(grant.rollover_due, lang), days=days,
                     percent=state.percent)
        else:
            line = t(lang, "rem.item.rollover_overdue", group=group.name, days=-days,
                     percent=state.percent)
        buttons = [(t(lang, "rem.btn.rollover"), f"gul:start:{grant.id}")] if to_mentor else []
        view = f"hib:view:{grant.id}"
    if to_mentor:
        buttons.append((t(lang, "rem.btn.snooze"), f"rem:snooze:{reminder.id}"))
    buttons.append((t(lang, "rem.btn.view"), view))
    return line, buttons


async def build_digests(*, session: AsyncSession, now: datetime, settings: Settings,
                        report: SweepReport, dry_run: bool = False) -> list[Digest]:
    """Phase 2a: one digest per recipient who may be told now."""
    per_recipient: dict[int, list[tuple[ReminderDelivery, Reminder]]] = defaultdict(list)
    for delivery, reminder in await reminder_queries.open_deliveries(session=session):
        per_recipient[delivery.recipient_telegram_id].append((delivery, reminder))
    people = await mentor_queries.by_telegram_ids(session=session,
                                                  telegram_ids=list(per_recipient))
    stale: list[int] = []
    for telegram_id, rows in list(per_recipient.items()):
        person = people.get(telegram_id)
        area = person.area_code if person else None
        fresh = [(d, r) for d, r in rows if not _too_old(r, now, area, settings)]
        stale += [d.id for d, r in rows if _too_old(r, now, area, settings)]
        if fresh:
            per_recipient[telegram_id] = fresh
        else:
            del per_recipient[telegram_id]
    if stale and not dry_run:
        await reminder_queries.finish(session=session, delivery_ids=stale,
                                      status=DeliveryStatus.EXPIRED, now=now, reason="too old")
        report.expired += len(stale)
    digests = []
    for telegram_id, rows in per_recipient.items():
        person = people.get(telegram_id)
        lang = person.language if person else settings.language
        area = person.area_code if person else None
        if not _daytime(now, area, settings) or (
            not dry_run and await _busy(session=session, telegram_id=telegram_id, now=now,
                                       settings=settings)):
            report.deferred += 1
            continue
        lines, keyboard = [], []
        # One line per group or grant: a late due-day reminder and the overdue one that
        # followed it say the same thing, and the latest says it best.
        latest: dict[tuple[bool, int], tuple[ReminderDelivery, Reminder]] = {}
        for delivery, reminder in rows:
            key = (reminder.rule in GROUP_RULES, reminder.subject_id)
            if key not in latest or reminder.fire_on >= latest[key][1].fire_on:
                latest[key] = (delivery, reminder)
        shown = sorted(latest.values(), key=lambda row: row[1].cycle)[:MAX_ITEMS]
        for number, (_delivery, reminder) in enumerate(shown, start=1):
            group, grant = await _subject(session=session, reminder=reminder)
            if group is None:
                continue
            to_mentor = person is not None and group.mentor_id == person.id
            line, buttons = await _item(session=session, reminder=reminder, group=group,
                                        grant=grant, lang=lang, to_mentor=to_mentor, now=now)
            lines.append(f"{number}. {line}")
            keyboard.append([InlineKeyboardButton(f"{number}. {text}", callback_data=data)
                             for text, data in buttons])
        text = t(lang, "rem.digest", name=person.name if person else "", items="\n".join(lines))
        if len(latest) > MAX_ITEMS:
            text += "\n" + t(lang, "rem.more", count=len(latest) - MAX_ITEMS)
        digests.append(Digest(telegram_id, person.name if person else str(telegram_id), text,
                              [d.id for d, _ in rows], InlineKeyboardMarkup(keyboard)))
    return digests


async def deliver(*, session: AsyncSession, bot: Bot, digest: Digest, now: datetime,
                  report: SweepReport) -> None:
    """Phase 2b: claim, send, finish. Never sends what another sweep already claimed."""
    if await reminder_queries.claim(session=session, delivery_ids=digest.delivery_ids) == 0:
        return
    try:
        await bot.send_message(digest.telegram_id, digest.text, reply_markup=digest.markup)
    except Forbidden:
        await reminder_queries.finish(session=session, delivery_ids=digest.delivery_ids,
                                      status=DeliveryStatus.BLOCKED, now=now,
                                      reason="blocked the bot")
        await mentor_queries.deactivate_blocked(session=session, telegram_id=digest.telegram_id)
        report.blocked += 1
        log.info("reminder recipient %s has blocked the bot; marked inactive",
                 digest.telegram_id)
        return
    except RetryAfter:
        # Telegram refused before sending: safe to try again on a later sweep.
        await reminder_queries.release(session=session, delivery_ids=digest.delivery_ids)
        report.deferred += 1
        return
    except TelegramError as exc:
        if worth_retrying(exc):
            # Telegram had a bad moment (5xx) or it never left: nothing arrived; next sweep.
            await reminder_queries.release(session=session, delivery_ids=digest.delivery_ids)
            report.deferred += 1
            return
        # A timeout may or may not have delivered: never risk sending twice.
        await reminder_queries.finish(session=session, delivery_ids=digest.delivery_ids,
                                      status=DeliveryStatus.FAILED, now=now,
                                      reason=type(exc).__name__)
        report.failed += 1
        log.warning("reminder digest to %s failed: %s", digest.telegram_id,
                    type(exc).__name__)
        return
    await reminder_queries.finish(session=session, delivery_ids=digest.delivery_ids,
                                  status=DeliveryStatus.SENT, now=now)
    report.sent += 1


async def sweep(*, sessionmaker: async_sessionmaker[AsyncSession], bot: Bot | None,
                settings: Settings, now: datetime, dry_run: bool = False) -> SweepReport:
    """One sweep as of ``now``. With ``dry_run`` nothing is written and nothing is sent."""
    report = SweepReport(now=now)
    async with sessionmaker() as session:
        if dry_run:
            await expand(session=session, now=now, settings=settings, report=report,
                         commit=False)
            await session.flush()
            report.digests = await build_digests(session=session, now=now, settings=settings,
                                                 report=report, dry_run=True)
            await session.rollback()
            return report
        await expand(session=session, now=now, settings=settings, report=report)
        report.digests = await build_digests(session=session, now=now, settings=settings,
                                             report=report)
        assert bot is not None
        for digest in report.digests:
            await deliver(session=session, bot=bot, digest=digest, now=now, report=report)
    return report
