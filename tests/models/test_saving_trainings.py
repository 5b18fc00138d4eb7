"""models.saving.training (a training saved against its group as stored now, or refused with
nothing written) and the span a visit's figures cover (models.visits.figures_start, applied
again by models.saving.visit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.core.enums import GroupStatus, StatusReason
from models import changes
from models import groups as group_queries
from models import visits as visit_queries
from models.saving import Saved
from models.saving.training import NewTraining, TrainingReason, save_training
from models.saving.visit import NewVisit, save_visit
from models.tables import AuditLog, Training, Visit
from tests.factories import (
    draft_left,
    ender,
    expect_refusal,
    make_group,
    make_mentor,
    make_visit,
    rows,
    store_draft,
)

TODAY = date(2026, 11, 25)
FORMED = date(2026, 1, 10)
USER = 700778


@pytest.fixture
async def setting(session):
    mentor = await make_mentor(session, telegram_id=USER)
    group = await make_group(session, mentor, formed_on=FORMED)
    members = await group_queries.active_members(session=session, group_id=group.id)
    await store_draft(session, user_id=USER, flow="training")
    answers = NewTraining(actor=mentor, group_id=group.id, held_on=TODAY - timedelta(days=1),
                          topic="Pakan fermentasi", provider="Dinas Sosial",
                          attendee_ids=(members[1].id, members[3].id), update_id=5151)
    return mentor, group, [member.id for member in members], answers


async def test_a_training_is_saved_with_its_audit_and_the_drafts_end(session, setting):
    _, group, members, answers = setting
    group_id = group.id
    end_draft = ender(session, user_id=USER, flow="training")
    saved = await save_training(session=session, training=answers, end_draft=end_draft)
    assert isinstance(saved, Saved) and saved.created and end_draft.calls == 1
    [training] = await rows(session, Training)
    assert (training.group_id, training.attendee_ids, training.source_update_id) == (
        group_id, [members[1], members[3]], 5151)
    assert ("create", "training", training.id) in {
        (row.action, row.entity, row.entity_id) for row in await rows(session, AuditLog)}
    assert not await draft_left(session, user_id=USER, flow="training")
    await session.refresh(answers.actor)
    again = await save_training(session=session, training=answers)
    assert isinstance(again, Saved) and not again.created
    assert len(await rows(session, Training)) == 1


async def test_the_whole_group_is_its_active_households(session, setting):
    _, _, members, answers = setting
    saved = await save_training(session=session, training=replace(
        answers, attendee_ids=None, provider=None))
    assert isinstance(saved, Saved) and saved.record.attendee_ids == members
    assert saved.record.provider is None


async def _refused(session, answers, reason):
    return await expect_refusal(
        session, lambda end_draft: save_training(session=session, training=answers,
                                                 end_draft=end_draft),
        actor=answers.actor, reason=reason, user_id=USER, flow="training")


async def test_refusals_write_nothing(session, setting):
    mentor, group, members, answers = setting
    other = await make_mentor(session, name="Budi")
    other_group = await make_group(session, other, name="KUBE Melati", formed_on=FORMED)
    [foreign_member, *_] = (m.id for m in await group_queries.active_members(
        session=session, group_id=other_group.id))
    foreign_visit_id = (await make_visit(session, other_group, other, visited_on=TODAY)).id
    await _refused(session, replace(answers, actor=other), TrainingReason.GROUP_GONE)
    await _refused(session, replace(answers, visit_id=foreign_visit_id),
                   TrainingReason.GROUP_GONE)
    await _refused(session, replace(answers, held_on=TODAY + timedelta(days=1)),
                   TrainingReason.DATE_IN_FUTURE)
    await _refused(session, replace(answers, held_on=FORMED - timedelta(days=1)),
                   TrainingReason.DATE_BEFORE_FORMED)
    await _refused(session, replace(answers, topic="!!"), TrainingReason.NO_TEXT)
    await _refused(session, replace(answers, provider="x" * 101), TrainingReason.NO_TEXT)
    refusal = await _refused(session, replace(answers, attendee_ids=(members[0], foreign_member)),
                             TrainingReason.ATTENDEES_CHANGED)
    assert [member_id for member_id, _ in refusal.households] == members
    await _refused(session, replace(answers, attendee_ids=()), TrainingReason.ATTENDEES_CHANGED)
    await session.refresh(group)
    await session.refresh(mentor)
    await changes.change_status(session=session, group=group, status=GroupStatus.DISSOLVED,
                                reason=StatusReason.OTHER, actor=mentor, on=TODAY, today=TODAY)
    await _refused(session, answers, TrainingReason.READ_ONLY)


async def test_the_figures_span_from_the_last_visit_before_else_the_formation(session):
    mentor = await make_mentor(session, telegram_id=USER)
    group = await make_group(session, mentor, formed_on=FORMED)
    group_id = group.id

    def span(day: date):
        return visit_queries.figures_start(session=session, group_id=group_id,
                                           formed_on=FORMED, day=day)

    assert await span(TODAY) == (FORMED, False)
    await make_visit(session, group, mentor, visited_on=date(2026, 11, 5))
    await make_visit(session, group, mentor, visited_on=date(2026, 11, 20))
    assert await span(TODAY) == (date(2026, 11, 20), True)
    assert await span(date(2026, 11, 20)) == (date(2026, 11, 5), True)  # before, not that day
    assert await span(date(2026, 11, 1)) == (FORMED, False)

    # A save without the span (or with one that cannot be) takes the rule's; without figures,
    # none is stored.
    answers = NewVisit(actor=mentor, group_id=group_id, visited_on=TODAY, attendance=5,
                       activities=("pemantauan",), next_visit_on=TODAY + timedelta(days=30),
                       turnover=1_000_000, figures_from=TODAY + timedelta(days=3),
                       livestock_count=12)
    saved = await save_visit(session=session, visit=answers)
    assert saved.record.figures_from == date(2026, 11, 20)
    saved = await save_visit(session=session, visit=replace(answers, turnover=None))
    assert saved.record.figures_from is None and saved.record.livestock_count == 12
    assert len(await rows(session, Visit)) == 4
