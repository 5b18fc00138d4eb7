"""Query functions against a real (SQLite) database with the official areas loaded."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from bot.core.enums import MentorStatus, Role
from models import audit
from models import groups as group_queries
from models import mentors as mentor_queries
from models import updates as update_queries
from models import visits as visit_queries
from models.areas import count_areas, is_within
from models.tables import AuditLog, Member, Visit
from tests.conftest import TODAY
from tests.factories import (
    DISTRICT_ELSEWHERE,
    make_group,
    make_mentor,
    make_visit,
    received,
)


async def test_official_areas_are_loaded(session):
    # 38 provinces + 514 regencies + 7,285 districts + 83,762 villages
    assert await count_areas(session=session) == 38 + 514 + 7285 + 83762


def test_is_within_follows_the_code_hierarchy():
    assert is_within("32.02.11.2002", "32.02")
    assert is_within("32.02", "32.02")
    assert not is_within("32.021.1", "32.02")
    assert not is_within("32.02.11.2002", None)


async def test_group_saved_with_members_and_audit(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor, members=7)
    members = await group_queries.active_members(session=session, group_id=group.id)
    assert [m.role for m in members][:3] == ["ketua", "sekretaris", "bendahara"]
    assert len(members) == 7
    rows = await audit.list_for(session=session, entity="group", entity_id=group.id)
    # A group's name is often a person's or a place's: the trail says only that it had one.
    assert rows[0].action == "create" and rows[0].new["name"] == "***"
    assert rows[0].new["village_code"] == group.village_code


async def test_redelivered_update_does_not_create_a_second_group(session):
    mentor = await make_mentor(session)
    kwargs = {"session": session, "mentor": mentor, "name": "KUBE Melati",
                  "village_code": "32.02.11.2002", "business_type": "dagang", "binding_ties": ["budaya"],
                  "formed_on": date(2026, 1, 5), "stage": "tumbuh", "visit_interval_days": 30,
                  "next_visit_due": date(2026, 12, 27), "members": [], "today": date(2026, 11, 27),
                  "update_id": 4242}
    await received(session, 4242)
    first, created = await group_queries.create_group(**kwargs)
    again, created_again = await group_queries.create_group(**kwargs)
    assert created and not created_again and first.id == again.id
    assert await update_queries.was_handled(session=session, update_id=4242)


async def test_mentor_sees_only_own_groups_coordinator_sees_area(session):
    siti = await make_mentor(session, name="Siti")
    other = await make_mentor(session, name="Andi", area_code=DISTRICT_ELSEWHERE)
    mine = await make_group(session, siti)
    theirs = await make_group(session, other, name="KUBE Jauh", village_code="73.71.01.1001")
    assert await group_queries.get_visible(session=session, group_id=mine.id, actor=siti)
    assert await group_queries.get_visible(session=session, group_id=theirs.id,
                                           actor=siti) is None
    assert await group_queries.get_own(session=session, group_id=theirs.id, mentor=siti) is None
    coordinator = await make_mentor(session, name="Koor", role=Role.COORDINATOR,
                                    area_code="32.02")
    assert await group_queries.get_visible(session=session, group_id=mine.id,
                                           actor=coordinator)
    assert await group_queries.get_visible(session=session, group_id=theirs.id,
                                           actor=coordinator) is None


async def test_visit_moves_next_due_in_the_same_transaction(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor, next_visit_due=TODAY - timedelta(days=5))
    visit = await make_visit(session, group, mentor, visited_on=TODAY)
    assert group.next_visit_due == visit.next_visit_on == TODAY + timedelta(days=30)
    rows = await group_queries.list_for_mentor(session=session, mentor=mentor)
    assert rows[0].last_visit == TODAY and rows[0].members == 7


async def test_redelivered_visit_is_saved_once(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    fields = {"visited_on": TODAY, "attendance": 5, "activities": ["pembukuan"],
              "next_visit_on": TODAY + timedelta(days=14)}
    for _ in range(2):
        await visit_queries.create_visit(session=session, group=group, mentor=mentor,
                                         fields=dict(fields), update_id=777)
    count = (await session.execute(select(func.count()).select_from(Visit))).scalar_one()
    assert count == 1


async def test_list_orders_most_overdue_first(session):
    mentor = await make_mentor(session)
    today = TODAY
    await make_group(session, mentor, name="Baru", next_visit_due=today + timedelta(days=20))
    await make_group(session, mentor, name="Lama", next_visit_due=today - timedelta(days=12))
    rows = await group_queries.list_for_mentor(session=session, mentor=mentor)
    assert [r.group.name for r in rows] == ["Lama", "Baru"]
    assert rows[0].days_overdue(today) == 12 and rows[1].days_overdue(today) == 0


async def test_member_leaves_and_history_is_kept(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor, members=6)
    member = (await group_queries.active_members(session=session, group_id=group.id))[-1]
    await group_queries.remove_member(session=session, member=member, actor=mentor,
                                      left_on=TODAY)
    assert len(await group_queries.active_members(session=session, group_id=group.id)) == 5
    history = await group_queries.all_members(session=session, group_id=group.id)
    assert len(history) == 6 and history[-1].left_on == TODAY


async def test_officer_role_moves_from_previous_holder(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    members = await group_queries.active_members(session=session, group_id=group.id)
    chair, newcomer = members[0], members[5]
    previous = await group_queries.change_role(session=session, group=group, member=newcomer,
                                               role="ketua", actor=mentor)
    assert previous.id == chair.id
    roles = {m.id: m.role for m in await session.scalars(
        select(Member).where(Member.group_id == group.id))}
    assert roles[chair.id] == "anggota" and roles[newcomer.id] == "ketua"
    changes = (await session.execute(
        select(func.count()).select_from(AuditLog).where(AuditLog.entity == "member",
                                                         AuditLog.action == "update")
    )).scalar_one()
    assert changes == 2


async def test_pending_mentor_decided_once(session):
    mentor = await make_mentor(session, status=MentorStatus.PENDING)
    first, changed = await mentor_queries.decide_pending(
        session=session, mentor_id=mentor.id, approve=True, actor_telegram_id=1)
    second, changed_again = await mentor_queries.decide_pending(
        session=session, mentor_id=mentor.id, approve=False, actor_telegram_id=2)
    assert changed and not changed_again
    assert first.status == second.status == "active"


async def test_invite_is_used_up(session):
    invite = await mentor_queries.create_invite(session=session, created_by=1, max_uses=1)
    assert await mentor_queries.usable_invite(session=session, code=invite.code)
    assert await mentor_queries.use_invite(session=session, code=invite.code)
    await session.commit()
    assert not await mentor_queries.use_invite(session=session, code=invite.code)
    assert await mentor_queries.usable_invite(session=session, code=invite.code) is None


async def test_audit_holds_no_personal_data(session):
    mentor = await make_mentor(session)
    rows = await audit.list_for(session=session, entity="mentor", entity_id=mentor.id)
    assert rows[0].new["phone"] == "***" and rows[0].new["name"] == "***"
    group = await make_group(session, mentor)
    member = await group_queries.add_member(
        session=session, group=group, actor=mentor, joined_on=TODAY, consented=True,
        data={"name": "Sri Wahyuni", "welfare_category": "miskin", "role": "anggota",
              "nik": "3202114507800001", "phone": "+6281298765432"})
    [row] = await audit.list_for(session=session, entity="member", entity_id=member.id)
    # A household's name, NIK and phone stay out: an erasure could not reach the trail.
    assert (row.new["name"], row.new["nik"], row.new["phone"]) == ("***", "***", "***")
    assert "3202114507800001" not in str(row.new) and "Sri" not in str(row.new)
    assert row.new["welfare_category"] == "miskin" and row.new["consent_by"] == mentor.id
