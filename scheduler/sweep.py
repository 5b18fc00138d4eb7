"""The reminder sweep: turn due reminders into deliveries, then send one digest per person.

Two phases, each safe to interrupt:
1. Expand. Due reminders are read in batches (by the partial due index). Each batch gets one
   delivery row per recipient, its reminders are marked sent, and each rule's next occurrence
   is stored: one transaction per batch, a few queries whatever its size.
2. Deliver. Per recipient, the open deliveries become one digest. Digests are claimed
   (committed) in batches before any message of the batch goes out, sent side by side, and
   finished together after (committed with the next batch's claim). A crash in between
   leaves them claimed, and the next start marks them failed instead of sending them
   again: a reminder arrives at most once. A batch is no bigger than the number of sends
   in flight, so a crash costs at most that many people one reminder (the rules remind
   them again later), and some of those did get it.
Deliveries wait for the recipient's daytime (06:00-21:00 local) and for the end of a
conversation they are in the middle of.
After an outage (due reminders older than the catch-up window, counted in calendar days) the
first sweep tells the truth instead of expiring them or replaying them: each late reminder is
told once, in the person's one digest, with the state of now ("terlambat 40 hari": the lines
are made from the group and grant, not from the reminder), under a header that says reminders
stopped for a while; each rule's next occurrence is scheduled from tomorrow, so the missed
steps are not walked through; and a group past the escalation day whose escalation was never
sent (it fell in the outage, or its due date was set past that day) is escalated once.
The database work grows with the number of due items, never with the size of the tables:
every read goes by an index to the rows at hand (bench/sweep.py prints the plans).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, RetryAfter, TelegramError

from bot.core.enums import (
    DeliveryStatus,
    GroupStatus,
    MentorStatus,
    ReminderRule,
    ReminderStatus,
)
from bot.core.formatting import format_date
from bot.core.places import zone_for
from bot.core.reminder_rules import Rules
from bot.core.settings import Settings
from bot.core.texts import t
from bot.telegram.transport import worth_retrying
from models import grants as grant_queries
from models import mentors as mentor_queries
from models import reminders as reminder_queries

log = logging.getLogger(__name__)

MAX_ITEMS = 15
EXPAND_BATCH = 500  # due reminders per expand transaction
SEND_CONCURRENCY = 16  # messages in flight at once (the bot's rate limiter paces them)
# Digests claimed per transaction, then sent side by side. No more than are in flight: a
# crash marks the whole claimed batch failed, so a bigger batch would cost more reminders.
CLAIM_BATCH = SEND_CONCURRENCY
GROUP_RULES = {ReminderRule.VISIT_DUE, ReminderRule.VISIT_OVERDUE,
               ReminderRule.VISIT_ESCALATION}
LPJ_RULES = {ReminderRule.LPJ_SOON, ReminderRule.LPJ_OVERDUE}
TO_COORDINATORS = {ReminderRule.VISIT_ESCALATION, ReminderRule.ROLLOVER_OVERDUE,
                   ReminderRule.LPJ_OVERDUE}
TO_MENTOR = {ReminderRule.VISIT_DUE, ReminderRule.VISIT_OVERDUE, ReminderRule.ROLLOVER_SOON,
             ReminderRule.ROLLOVER_OVERDUE, ReminderRule.LPJ_SOON, ReminderRule.LPJ_OVERDUE}


def _topic(rule: str) -> str:
    """What a reminder is about: a group's visit, a grant's roll-over or a grant's LPJ (one
    line each in a digest)."""
    if rule in GROUP_RULES:
        return "visit"
    return "lpj" if rule in LPJ_RULES else "rollover"


def _resolved(rule: str, group: Row, grant: Row | None) -> bool:
    """A grant's reminder that no longer applies: its LPJ is in, or it need not be rolled over
    (recording either cancels them; this covers a row changed another way, such as an import),
    or its group is dissolved (its records are read-only: nothing could be recorded)."""
    if grant is None:
        return False
    if group.status == GroupStatus.DISSOLVED:
        return True
    if rule in LPJ_RULES:
        return grant.lpj_submitted_on is not None or grant.lpj_due is None
    return not grant.rollover_required or grant.rollover_due is None


@dataclass
class Digest:
    """One message for one person."""

    telegram_id: int
    name: str
    text: str
    delivery_ids: list[int]
    # (label, callback data) per button, a list per row. The Telegram objects are made when
    # the digest is sent: paced by the rate limiter there, they would hold up every digest
    # of the sweep here.
    keyboard: list[list[tuple[str, str]]] = field(default_factory=list)

    @property
    def markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([
            [InlineKeyboardButton(text, callback_data=data) for text, data in row]
            for row in self.keyboard])


@dataclass
class SweepReport:
    now: datetime
    expanded: int = 0
    late: int = 0  # of the expanded: missed for more than the catch-up window
    digests: list[Digest] = field(default_factory=list)
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    deferred: int = 0
    # Seconds per part: expand, plan (build the digests), claim, send, finish.
    timings: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def database_seconds(self) -> float:
        """All but the sends: what grows with the due items on the database's side."""
        return sum(v for k, v in self.timings.items() if k != "send")

    def summary(self) -> str:
        return (f"{self.expanded} reminders due, {self.late} of them late, "
                f"{len(self.digests)} digests: {self.sent} sent, {self.blocked} blocked, "
                f"{self.failed} failed, {self.deferred} deferred")


_JAKARTA = ZoneInfo("Asia/Jakarta")


def _local(now: datetime, area_code: str | None) -> datetime:
    return now.astimezone(zone_for(area_code) if area_code else _JAKARTA)


@lru_cache(maxsize=1024)
def _date_text(day: date, lang: str) -> str:
    # Babel is slow and a sweep shows the same few deadlines many times.
    return format_date(day, lang)


def _too_old(reminder: Row, now: datetime, area_code: str | None,
              settings: Settings) -> bool:
    """Missed for more than the catch-up window, counted in calendar days where it applies."""
    return (_local(now, area_code).date() - reminder.fire_on).days > \
        settings.reminder_catchup_days


def _daytime(now: datetime, area_code: str | None, settings: Settings) -> bool:
    if settings.quiet_hours_start == settings.quiet_hours_end:
        return True  # equal start and end: no quiet hours at all
    hour = _local(now, area_code).hour
    return settings.quiet_hours_end <= hour < settings.quiet_hours_start


K = TypeVar("K")
V = TypeVar("V")


async def _fetch_many(fetch: Callable[..., Awaitable[dict[K, V]]], key: str,
                      ids: Iterable[K], session: AsyncSession) -> dict[K, V]:
    """``fetch(session=..., key=chunk)`` over chunks of ``ids``, merged."""
    found: dict[K, V] = {}
    for chunk in reminder_queries.chunked(sorted(set(ids))):
        found.update(await fetch(session=session, **{key: chunk}))
    return found


class _Subjects:
    """The groups, grants and mentors a batch of reminders is about, each read once (plain
    rows of the columns the sweep reads)."""

    def __init__(self) -> None:
        self.groups: dict[int, Row] = {}
        self.grants: dict[int, Row] = {}
        self.mentors: dict[int, Row] = {}

    async def load(self, *, session: AsyncSession, reminders: Iterable[Row]) -> None:
        reminders = list(reminders)
        grant_ids = {r.subject_id for r in reminders if r.rule not in GROUP_RULES} \
            - self.grants.keys()
        self.grants.update(await _fetch_many(reminder_queries.subject_grants, "grant_ids",
                                             grant_ids, session))
        group_ids = {r.subject_id for r in reminders if r.rule in GROUP_RULES} | {
            self.grants[r.subject_id].group_id for r in reminders
            if r.rule not in GROUP_RULES and r.subject_id in self.grants}
        self.groups.update(await _fetch_many(reminder_queries.subject_groups, "group_ids",
                                             group_ids - self.groups.keys(), session))
        mentor_ids = {g.mentor_id for g in self.groups.values()} - self.mentors.keys()
        self.mentors.update(await _fetch_many(reminder_queries.subject_mentors, "mentor_ids",
                                              mentor_ids, session))

    def of(self, reminder: Row) -> tuple[Row | None, Row | None]:
        if reminder.rule in GROUP_RULES:
            return self.groups.get(reminder.subject_id), None
        grant = self.grants.get(reminder.subject_id)
        if grant is None:
            return None, None
        return self.groups.get(grant.group_id), grant


class _Coordinators:
    """Who covers which area, read once per sweep (there are few coordinators)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.by_area: dict[str, list[int]] | None = None
        self.admins: list[int] | None = None

    async def covering(self, *, session: AsyncSession, village_code: str) -> list[int]:
        """The coordinators whose area holds the village, else the admins."""
        if self.by_area is None:
            self.by_area = defaultdict(list)
            for coordinator in await mentor_queries.coordinators(session=session):
                if coordinator.area_code:
                    self.by_area[coordinator.area_code].append(coordinator.telegram_id)
        parts = village_code.split(".")
        # Codes are hierarchical: the village's province, regency, district and itself.
        found = [telegram_id for depth in range(1, len(parts) + 1)
                 for telegram_id in self.by_area.get(".".join(parts[:depth]), [])]
        if found:
            return found
        if self.admins is None:
            self.admins = await mentor_queries.admins(session=session,
                                                      extra_ids=self.settings.admin_ids)
        return self.admins


async def _recipients(*, session: AsyncSession, rule: str, group: Row,
                      mentor: Row | None, coordinators: _Coordinators) -> set[int]:
    """Who hears of a reminder of this rule: the group's mentor and/or the area's coordinators
    (the admins while the area has no coordinator)."""
    out: set[int] = set()
    if rule in TO_MENTOR and mentor is not None and mentor.status == MentorStatus.ACTIVE:
        out.add(mentor.telegram_id)
    if rule in TO_COORDINATORS:
        out.update(await coordinators.covering(session=session,
                                               village_code=group.village_code))
    return out


async def expand(*, session: AsyncSession, now: datetime, settings: Settings,
                 report: SweepReport, commit: bool = True) -> None:
    """Phase 1: due reminders become deliveries; each rule's next occurrence is stored.

    Repeats until nothing is due, because the occurrence that follows one sent late within the
    catch-up window may be due already; fire dates only move forward, so it ends.
    """
    started = time.perf_counter()
    rules = settings.reminder_rules
    coordinators = _Coordinators(settings)
    handled: set[int] = set()
    while batch := [r for r in await reminder_queries.due(session=session, now=now,
                                                          limit=EXPAND_BATCH)
                    if r.id not in handled]:
        handled.update(r.id for r in batch)
        await _expand_batch(session=session, batch=batch, now=now, settings=settings,
                            rules=rules, coordinators=coordinators, report=report)
        if commit:
            await session.commit()
    report.timings["expand"] += time.perf_counter() - started


async def _expand_batch(*, session: AsyncSession, batch: list[Row], now: datetime,
                        settings: Settings, rules: Rules,
                        coordinators: _Coordinators, report: SweepReport) -> None:
    subjects = _Subjects()
    await subjects.load(session=session, reminders=batch)
    statuses: dict[str, list[int]] = defaultdict(list)
    deliveries: list[tuple[int, int]] = []
    follows: list[reminder_queries.Follow] = []
    escalating = {r.subject_id for r in batch if r.rule == ReminderRule.VISIT_ESCALATION}
    owed: dict[int, reminder_queries.Owed] = {}
    for reminder in batch:
        group, grant = subjects.of(reminder)
        if group is None or _resolved(reminder.rule, group, grant):
            statuses[ReminderStatus.CANCELLED].append(reminder.id)
            continue
        mentor = subjects.mentors.get(group.mentor_id)
        for telegram_id in await _recipients(session=session, rule=reminder.rule, group=group,
                                             mentor=mentor, coordinators=coordinators):
            deliveries.append((reminder.id, telegram_id))
        statuses[ReminderStatus.SENT].append(reminder.id)
        report.expanded += 1
        not_before = reminder.fire_on + timedelta(days=1)
        if _too_old(reminder, now, group.village_code, settings):
            # Missed in an outage: told once now, with today's state (the digest's lines are
            # made from the group, not the reminder). The rule goes on from tomorrow rather
            # than from this step: the steps missed in between would only say it again.
            report.late += 1
            today = _local(now, group.village_code).date()
            not_before = today + timedelta(days=1)
            if reminder.rule in GROUP_RULES and group.next_visit_due is not None \
                    and group.status == GroupStatus.ACTIVE \
                    and reminder.subject_id not in escalating \
                    and (today - group.next_visit_due).days >= rules.escalation_days:
                owed[group.id] = reminder_queries.Owed(
                    group_id=group.id, cycle=group.next_visit_due, area_code=group.village_code)
        follows.append(reminder_queries.Follow(
            rule=reminder.rule, subject_id=reminder.subject_id, cycle=reminder.cycle,
            area_code=group.village_code, not_before=not_before))
    # The statuses first: the next occurrence may only be added once this one is no longer
    # the pending one, and it must see this one as fired.
    for status, ids in statuses.items():
        await reminder_queries.set_status(
            session=session, reminder_ids=ids, status=status,
            sent_at=now if status == ReminderStatus.SENT else None)
    if owed:
        # Only after an outage, so an ordinary sweep pays nothing for it.
        escalations = await reminder_queries.owed_escalations(
            session=session, owed=list(owed.values()), rules=rules, now=now)
        for group_id, reminder_id in escalations.items():
            group = subjects.groups[group_id]
            for telegram_id in await _recipients(
                    session=session, rule=ReminderRule.VISIT_ESCALATION, group=group,
                    mentor=None, coordinators=coordinators):
                deliveries.append((reminder_id, telegram_id))
    await reminder_queries.add_deliveries(session=session, rows=deliveries)
    await reminder_queries.schedule_next_many(session=session, follows=follows, rules=rules)


def _item(*, reminder: Row, group: Row, grant: Row | None,
          progress: dict[int, int], mentors: dict[int, Row], lang: str,
          to_mentor: bool, now: datetime) -> tuple[str, list[tuple[str, str]]]:
    """The line for one reminder and its buttons."""
    today = _local(now, group.village_code).date()
    rule = reminder.rule
    if rule in GROUP_RULES:
        due: date = group.next_visit_due or reminder.cycle
        days = (today - due).days
        if days <= 0:
            line = t(lang, "rem.item.visit_due", group=group.name)
        elif not to_mentor:
            line = t(lang, "rem.item.escalation", group=group.name,
                     mentor=mentors[group.mentor_id].name, days=days)
        else:
            line = t(lang, "rem.item.visit_overdue", group=group.name, days=days)
        buttons = [(t(lang, "rem.btn.visit"), f"kun:start:{group.id}")] if to_mentor else []
        view = f"kel:card:{group.id}"
    elif rule in LPJ_RULES:
        assert grant is not None
        kind = t(lang, f"grantkind.{grant.kind}")
        due = grant.lpj_due
        days = (due - today).days
        if days > 0:
            line = t(lang, "rem.item.lpj_soon", group=group.name, kind=kind,
                     date=_date_text(due, lang), days=days)
        elif days == 0:
            line = t(lang, "rem.item.lpj_today", group=group.name, kind=kind)
        elif not to_mentor:
            line = t(lang, "rem.item.lpj_escalation", group=group.name, kind=kind,
                     mentor=mentors[group.mentor_id].name, days=-days,
                     date=_date_text(due, lang))
        else:
            line = t(lang, "rem.item.lpj_overdue", group=group.name, kind=kind, days=-days,
                     date=_date_text(due, lang))
        # A coordinator of the area may record the LPJ as well as the mentor.
        buttons = [(t(lang, "rem.btn.lpj"), f"lpj:start:{grant.id}")]
        view = f"hib:view:{grant.id}"
    else:
        assert grant is not None
        percent = progress.get(grant.id, 0)
        days = (grant.rollover_due - today).days
        if days >= 0:
            line = t(lang, "rem.item.rollover_soon", group=group.name,
                     date=_date_text(grant.rollover_due, lang), days=days,
                     percent=percent)
        else:
            line = t(lang, "rem.item.rollover_overdue", group=group.name, days=-days,
                     percent=percent)
        buttons = [(t(lang, "rem.btn.rollover"), f"gul:start:{grant.id}")] if to_mentor else []
        view = f"hib:view:{grant.id}"
    if to_mentor:
        buttons.append((t(lang, "rem.btn.snooze"), f"rem:snooze:{reminder.reminder_id}"))
    buttons.append((t(lang, "rem.btn.view"), view))
    return line, buttons


async def build_digests(*, session: AsyncSession, now: datetime, settings: Settings,
                        report: SweepReport, dry_run: bool = False) -> list[Digest]:
    """Phase 2a: one digest per recipient who may be told now."""
    started = time.perf_counter()
    # One row per delivery, with its reminder's fields.
    per_recipient: dict[int, list[Row]] = defaultdict(list)
    for row in await reminder_queries.open_deliveries(session=session):
        per_recipient[row.telegram_id].append(row)
    people = await _fetch_many(reminder_queries.recipients, "telegram_ids", per_recipient,
                               session)
    area = {telegram_id: people[telegram_id].area_code if telegram_id in people else None
            for telegram_id in per_recipient}
    # Told late (an outage, or days of Telegram refusing): not dropped, but said so. The
    # lines are made from today's state whatever the age of the reminder.
    late = {telegram_id for telegram_id, rows in per_recipient.items()
            if any(_too_old(row, now, area[telegram_id], settings) for row in rows)}
    awake = [telegram_id for telegram_id in per_recipient
             if _daytime(now, area[telegram_id], settings)]
    busy = set() if dry_run else await reminder_queries.busy_recipients(
        session=session, telegram_ids=awake,
        since=now - timedelta(minutes=settings.conversation_defer_minutes))
    report.deferred += len(per_recipient) - len(awake) + len(busy)
    # One line per group's visit, grant's roll-over or grant's LPJ: a late due-day reminder and
    # the overdue one that followed it say the same thing, and the latest says it best.
    shown: dict[int, tuple[list[Row], int]] = {}
    for telegram_id in awake:
        if telegram_id in busy:
            continue
        latest: dict[tuple[str, int], Row] = {}
        for row in per_recipient[telegram_id]:
            key = (_topic(row.rule), row.subject_id)
            if key not in latest or row.fire_on >= latest[key].fire_on:
                latest[key] = row
        # By due date, then kind and subject: the same order whichever reminder was told late.
        items = sorted(latest.values(),
                       key=lambda row: (row.cycle, _topic(row.rule), row.subject_id))
        shown[telegram_id] = (items[:MAX_ITEMS], len(items))
    subjects = _Subjects()
    await subjects.load(session=session,
                        reminders=(r for items, _ in shown.values() for r in items))
    # The share done does not depend on the day (only the status does).
    progress: dict[int, int] = {}
    rolling = {r.subject_id for items, _ in shown.values() for r in items
               if _topic(r.rule) == "rollover"}
    for chunk in reminder_queries.chunked(
            grant for grant_id, grant in subjects.grants.items() if grant_id in rolling):
        states = await grant_queries.progress_for(session=session, grants=chunk,
                                                  today=now.date())
        progress.update({grant_id: state.percent for grant_id, state in states.items()})
    digests = []
    for telegram_id, (items, total) in shown.items():
        person = people.get(telegram_id)
        lang = person.language if person else settings.language
        lines, keyboard = [], []
        for number, reminder in enumerate(items, start=1):
            group, grant = subjects.of(reminder)
            if group is None:
                continue
            to_mentor = person is not None and group.mentor_id == person.id
            line, buttons = _item(reminder=reminder, group=group, grant=grant,
                                  progress=progress, mentors=subjects.mentors, lang=lang,
                                  to_mentor=to_mentor, now=now)
            lines.append(f"{number}. {line}")
            keyboard.append([(f"{number}. {text}", data) for text, data in buttons])
        text = t(lang, "rem.digest_late" if telegram_id in late else "rem.digest",
                 name=person.name if person else "", items="\n".join(lines))
        if total > MAX_ITEMS:
            text += "\n" + t(lang, "rem.more", count=total - MAX_ITEMS)
        digests.append(Digest(telegram_id, person.name if person else str(telegram_id), text,
                              [row.delivery_id for row in per_recipient[telegram_id]],
                              keyboard))
    report.timings["plan"] += time.perf_counter() - started
    return digests


async def _send(bot: Bot, digest: Digest) -> None:
    """One digest to Telegram. Whatever it raises decides the deliveries' fate (_attempt)."""
    await bot.send_message(digest.telegram_id, digest.text, reply_markup=digest.markup)


async def _attempt(bot: Bot, digest: Digest, slots: asyncio.Semaphore
                   ) -> tuple[DeliveryStatus, str | None]:
    """Sends a claimed digest; the status its deliveries get (pending: nothing was sent)."""
    async with slots:
        try:
            await _send(bot, digest)
        except Forbidden:
            log.info("reminder recipient %s has blocked the bot; marked inactive",
                     digest.telegram_id)
            return DeliveryStatus.BLOCKED, "blocked the bot"
        except RetryAfter:
            # Telegram refused before sending: safe to try again on a later sweep.
            return DeliveryStatus.PENDING, None
        except TelegramError as exc:
            if worth_retrying(exc):
                # Telegram had a bad moment (5xx) or it never left: nothing arrived. Like a
                # flood answer, it and the rest wait for a later sweep.
                return DeliveryStatus.PENDING, None
            # A timeout may or may not have delivered: never risk sending twice.
            log.warning("reminder digest to %s failed: %s", digest.telegram_id,
                        type(exc).__name__)
            return DeliveryStatus.FAILED, type(exc).__name__
        except Exception as exc:  # claimed: it must be settled, never resent
            log.exception("reminder digest to %s failed", digest.telegram_id)
            return DeliveryStatus.FAILED, type(exc).__name__
    return DeliveryStatus.SENT, None


async def deliver(*, session: AsyncSession, bot: Bot, digests: list[Digest], now: datetime,
                  report: SweepReport) -> None:
    """Phase 2b: claim a batch, send it, finish it. Never sends what another sweep already
    claimed. Once Telegram asks to wait, what is left waits for a later sweep."""
    slots = asyncio.Semaphore(SEND_CONCURRENCY)
    for start in range(0, len(digests), CLAIM_BATCH):
        batch = digests[start:start + CLAIM_BATCH]
        started = time.perf_counter()
        claimed = await reminder_queries.claim_many(
            session=session, delivery_ids=[i for d in batch for i in d.delivery_ids])
        mine = []
        for digest in batch:
            ids = [i for i in digest.delivery_ids if i in claimed]
            if ids:
                digest.delivery_ids = ids
                mine.append(digest)
        report.timings["claim"] += time.perf_counter() - started
        started = time.perf_counter()
        results = await asyncio.gather(*(_attempt(bot, digest, slots) for digest in mine))
        report.timings["send"] += time.perf_counter() - started
        started = time.perf_counter()
        outcomes: dict[tuple[DeliveryStatus, str | None], list[int]] = defaultdict(list)
        for digest, outcome in zip(mine, results, strict=True):
            outcomes[outcome] += digest.delivery_ids
        stop = any(status == DeliveryStatus.PENDING for status, _ in results)
        # Committed with the next batch's claim, before any of its sends: a commit per batch
        # instead of two. A crash before that leaves this batch claimed, hence failed, never
        # sent again.
        await reminder_queries.finish_many(
            session=session, outcomes=outcomes, now=now,
            commit=stop or start + CLAIM_BATCH >= len(digests))
        for digest, (status, _reason) in zip(mine, results, strict=True):
            if status == DeliveryStatus.BLOCKED:
                await mentor_queries.deactivate_blocked(session=session,
                                                        telegram_id=digest.telegram_id)
                report.blocked += 1
            elif status == DeliveryStatus.FAILED:
                report.failed += 1
            elif status == DeliveryStatus.PENDING:
                report.deferred += 1
            else:
                report.sent += 1
        report.timings["finish"] += time.perf_counter() - started
        if stop:
            report.deferred += len(digests) - start - len(batch)
            return


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
        await deliver(session=session, bot=bot, digests=report.digests, now=now,
                      report=report)
    return report
