"""models.saving.visit_correction on both databases: who may correct a visit and until when,
the visit's rules on the new answer, and what follows a changed date (the schedule, the
trail)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core import clock
from bot.core.enums import GroupStatus
from models.saving.visit import VisitReason
from models.saving.visit_correction import CorrectionReason, CorrectionRefusal, correct_visit
from models.tables import AuditLog, Group, Mentor, Visit
from tests.conftest import NOW
from tests.factories import make_group, make_mentor, make_visit, rows


async def test_correction_rules_schedule_and_window(session, monkeypatch):
    mentor = await make_mentor(session, telegram_id=700501)
    other = await make_mentor(session, telegram_id=700502)
    group = await make_group(session, mentor, members=7, formed_on=date(2026, 1, 10))
    older = await make_visit(session, group, mentor, visited_on=date(2026, 11, 1))
    visit = await make_visit(session, group, mentor, visited_on=date(2026, 11, 24))
    ids = (older.id, visit.id, group.id)
    mentor, other = mentor.id, other.id

    async def correct(actor_id, values, visit_id=ids[1]):
        # Read again each time: reading the rows back (tests.factories.rows) expires them.
        actor = await session.get(Mentor, actor_id)
        return await correct_visit(session=session, actor=actor, visit_id=visit_id,
                                   values=values, days=7)

    assert (await correct(other, {"attendance": 5})).reason is CorrectionReason.NOT_FOUND
    refused = await correct(mentor, {"attendance": 8})
    assert isinstance(refused, CorrectionRefusal)
    assert (refused.reason, refused.members) == (VisitReason.ATTENDANCE_OVER_MEMBERS, 7)
    assert (await correct(mentor, {"visited_on": date(2026, 11, 26)})).reason \
        is VisitReason.DATE_IN_FUTURE
    assert (await correct(mentor, {"next_visit_on": date(2026, 11, 24)})).reason \
        is VisitReason.NEXT_OUT_OF_WINDOW

    # The latest visit moved before the older one: the schedule follows the older one now.
    saved = await correct(mentor, {"visited_on": date(2026, 10, 30),
                                   "next_visit_on": date(2026, 11, 29)})
    assert saved.created
    [group_row] = await rows(session, Group)
    assert group_row.next_visit_due == date(2026, 12, 1)  # the older visit's next date
    visit_row = next(row for row in await rows(session, Visit) if row.id == ids[1])
    assert visit_row.visited_on == date(2026, 10, 30) and visit_row.corrected_at is not None
    trail = [(row.entity, row.new) for row in await rows(session, AuditLog)
             if row.action == "update"]
    assert ("visit", {"visited_on": "2026-10-30", "next_visit_on": "2026-11-29"}) in trail
    assert ("group", {"next_visit_due": "2026-12-01"}) in trail
    assert not (await correct(mentor, {"attendance": 6})).created  # as it was: nothing written

    monkeypatch.setattr(clock, "now", lambda: NOW + timedelta(days=8))
    assert (await correct(mentor, {"attendance": 5})).reason is CorrectionReason.TOO_LATE
    monkeypatch.setattr(clock, "now", lambda: NOW)
    dissolved = await session.get(Group, ids[2])
    dissolved.status = GroupStatus.DISSOLVED
    await session.commit()
    assert (await correct(mentor, {"attendance": 5})).reason is CorrectionReason.DISSOLVED
