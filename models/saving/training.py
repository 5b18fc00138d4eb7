"""Saving a training (pelatihan) a group or some of its households received: the rules, the save.

The group may have changed since the questions were asked (a household left, the group handed
to another mentor or dissolved), so what depends on it is checked again here, in the group's
time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import clock
from bot.core.reminder_rules import Rules
from models import changes
from models import groups as group_queries
from models import trainings as training_queries
from models import visits as visit_queries
from models.saving import EndDraft, Refusal, Saved, check_day, write
from models.tables import Mentor, Training

MAX_TOPIC = 200
MAX_PROVIDER = 100


class TrainingReason(StrEnum):
    GROUP_GONE = "group_gone"  # not the actor's group (any more), no such group, or its visit
    READ_ONLY = "read_only"  # the group is dissolved (bubar): its records are read-only
    DATE_IN_FUTURE = "date_in_future"  # after today where the group is
    DATE_BEFORE_FORMED = "date_before_formed"  # before the group was formed
    NO_TEXT = "no_text"  # no topic, or a topic or provider too long
    ATTENDEES_CHANGED = "attendees_changed"  # none ticked, or one is no active household now


@dataclass(frozen=True)
class TrainingRefusal(Refusal):
    """Besides GROUP_GONE, the group as it is now: its name, date formed, village, today there
    and its active households as (id, name) (a handler refreshes its draft from them)."""

    reason: TrainingReason
    group: str | None = None
    formed_on: date | None = None
    village_code: str | None = None
    today: date | None = None
    households: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class NewTraining:
    """A training's answers, parsed, and who records it (the group's own mentor).
    ``attendee_ids`` None: the whole group (its active households at the save)."""

    actor: Mentor
    group_id: int
    held_on: date
    topic: str
    provider: str | None = None  # who gave it, if known
    attendee_ids: tuple[int, ...] | None = None
    visit_id: int | None = None  # recorded from this visit (of the same group)
    update_id: int | None = None  # the Telegram update that saves it: saved once per update


def check_held(held: date, *, formed_on: date | None, today: date) -> TrainingReason | None:
    """A training was held by today (where the group is), not before the group was formed."""
    return check_day(held, earliest=formed_on, today=today,
                     future=TrainingReason.DATE_IN_FUTURE, early=TrainingReason.DATE_BEFORE_FORMED)


def text_fits(text: str | None, *, limit: int) -> bool:
    """A topic or a provider: some letters, at most ``limit`` characters."""
    return bool(text) and len(text or "") <= limit and sum(ch.isalpha() for ch in text or "") >= 2


async def save_training(*, session: AsyncSession, training: NewTraining,
                        rules: Rules | None = None, end_draft: EndDraft | None = None
                        ) -> Saved[Training] | TrainingRefusal:
    """Checks a training against its group as stored now and saves it with its audit row in
    one commit.

    Rules, in this order: the group is the actor's own (and a visit it comes from is the
    group's); the group is not dissolved; held between the date formed and today where the group
    is; a topic (and a provider, if given, of some words); the households ticked are active households of the group, one
    at least (none ticked: the whole group, its active households now).

    ``end_draft`` (see models.saving.EndDraft) is awaited only when every rule holds; a refusal
    writes and stages nothing. A redelivered update finds the training it saved (``created``
    False). ``rules`` is unused (the trainings have no reminders), for Flow.save_through.
    """
    group = await group_queries.get_own(session=session, group_id=training.group_id,
                                        mentor=training.actor)
    if group is None:
        return TrainingRefusal(TrainingReason.GROUP_GONE)
    if training.visit_id is not None:
        visit = await visit_queries.get(session=session, visit_id=training.visit_id)
        if visit is None or visit.group_id != group.id:
            return TrainingRefusal(TrainingReason.GROUP_GONE)
    members = await group_queries.active_members(session=session, group_id=group.id)
    today = clock.today_for(group.village_code)

    def refusal(reason: TrainingReason) -> TrainingRefusal:
        return TrainingRefusal(reason, group=group.name, formed_on=group.formed_on,
                               village_code=group.village_code, today=today,
                               households=tuple((m.id, m.name) for m in members
                                                if m.id is not None))

    if changes.is_read_only(group):
        return refusal(TrainingReason.READ_ONLY)
    wrong = check_held(training.held_on, formed_on=group.formed_on, today=today)
    if wrong is not None:
        return refusal(wrong)
    if not (text_fits(training.topic, limit=MAX_TOPIC) and (
            training.provider is None or text_fits(training.provider, limit=MAX_PROVIDER))):
        return refusal(TrainingReason.NO_TEXT)
    active = [m.id for m in members if m.id is not None]
    if training.attendee_ids is None:
        attendees = active
    else:
        attendees = [member_id for member_id in active if member_id in training.attendee_ids]
        if not attendees or len(attendees) != len(set(training.attendee_ids)):
            return refusal(TrainingReason.ATTENDEES_CHANGED)
    if not attendees:
        return refusal(TrainingReason.ATTENDEES_CHANGED)
    fields = {"held_on": training.held_on, "topic": training.topic,
              "provider": training.provider, "attendee_ids": attendees,
              "visit_id": training.visit_id}
    record, created = await write(end_draft, lambda: training_queries.create_training(
        session=session, group=group, mentor=training.actor, fields=fields,
        update_id=training.update_id))
    return Saved(record, group, created)
