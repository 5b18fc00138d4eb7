"""The /rekap queries: counts per area match the rows, set-based, with each group's local today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.enums import Role
from models import grants as grant_queries
from models import groups as group_queries
from models import reports
from models.tables import Grant, Group, Mentor
from tests.conftest import NOW, TODAY
from tests.factories import make_grant, make_group, make_mentor, make_visit

REGENCY = "32.02"  # Kab. Sukabumi
CIBADAK = "32.02.11"
NAGRAK = "32.02.12"
CIBADAK_VILLAGES = ("32.02.11.2002", "32.02.11.2003", "32.02.11.2004")
NAGRAK_VILLAGES = ("32.02.12.2001", "32.02.12.2002")
CIANJUR_VILLAGE = "32.03.01.1006"  # another regency of the same province
MAKASSAR_VILLAGE = "73.71.01.1001"  # Kota Makassar (WITA)


async def set_due(session, group: Group, due: date | None) -> None:
    group.next_visit_due = due
    session.add(group)
    await session.commit()


@dataclass
class Area:
    """What seed_area made, for the assertions."""

    coordinator: Mentor
    admin: Mentor
    mentors: dict[str, Mentor]
    groups: list[Group] = field(default_factory=list)
    cianjur_group: Group | None = None


async def seed_area(session, *, coordinator_id: int = 810001, admin_id: int = 810009) -> Area:
    """Kab. Sukabumi with 13 groups in two districts and three mentors of different on-time
    shares, plus one group in Kab. Cianjur that must never show up in Sukabumi's numbers.

    Ani (Cibadak): 7 groups, 1 overdue → 85% 🟢; Budi (Nagrak): 4 groups, 1 overdue → 75% 🟡;
    Cici (Cibadak): 2 groups, 1 overdue → 50% 🔴. Overdue per district: Cibadak 2, Nagrak 1.
    """
    coordinator = await make_mentor(session, telegram_id=coordinator_id, name="Koor Sukabumi",
                                    area_code=REGENCY, role=Role.COORDINATOR)
    admin = await make_mentor(session, telegram_id=admin_id, name="Admin Pusat",
                              area_code=REGENCY, role=Role.ADMIN)
    ani = await make_mentor(session, telegram_id=coordinator_id + 1, name="Ani Lestari",
                            area_code=CIBADAK)
    budi = await make_mentor(session, telegram_id=coordinator_id + 2, name="Budi Santoso",
                             area_code=NAGRAK)
    cici = await make_mentor(session, telegram_id=coordinator_id + 3, name="Cici Paramida",
                             area_code=CIBADAK)
    dedi = await make_mentor(session, telegram_id=coordinator_id + 4, name="Dedi Cianjur",
                             area_code="32.03.01")
    area = Area(coordinator, admin, {"ani": ani, "budi": budi, "cici": cici, "dedi": dedi})
    plan = [(ani, CIBADAK_VILLAGES, 7), (budi, NAGRAK_VILLAGES, 4), (cici, CIBADAK_VILLAGES, 2)]
    for mentor, villages, count in plan:
        for no in range(count):
            group = await make_group(session, mentor, name=f"KUBE {mentor.name.split()[0]} {no}",
                                     village_code=villages[no % len(villages)])
            area.groups.append(group)
    area.cianjur_group = await make_group(session, dedi, name="KUBE Cianjur",
                                          village_code=CIANJUR_VILLAGE)
    # Visits: two this month and one last month in Sukabumi, one this month in Cianjur.
    await make_visit(session, area.groups[0], ani, visited_on=TODAY - timedelta(days=3))
    await make_visit(session, area.groups[7], budi, visited_on=date(2026, 11, 2))
    await make_visit(session, area.groups[1], ani, visited_on=date(2026, 10, 20))
    await make_visit(session, area.cianjur_group, dedi, visited_on=TODAY - timedelta(days=1))
    # Due dates after the visits: one overdue group per mentor (and Cianjur's too).
    for group in [*area.groups, area.cianjur_group]:
        await set_due(session, group, TODAY + timedelta(days=10))
    for index in (0, 7, 11):  # Ani's first, Budi's first, Cici's first
        await set_due(session, area.groups[index], TODAY - timedelta(days=4))
    await set_due(session, area.cianjur_group, TODAY - timedelta(days=40))
    # Stages: two berkembang, one mandiri.
    for index, stage in ((2, "berkembang"), (3, "berkembang"), (8, "mandiri")):
        area.groups[index].stage = stage
        session.add(area.groups[index])
    await session.commit()
    # Completeness: group 4 gets a second ketua, group 5 loses three households (4 left).
    await group_queries.add_member(session=session, group=area.groups[4], actor=ani,
                                   data={"name": "Ketua Kedua", "welfare_category": "fakir_miskin",
                                         "role": "ketua"}, joined_on=TODAY)
    members = await group_queries.active_members(session=session, group_id=area.groups[5].id)
    for member in members[-3:]:
        await group_queries.remove_member(session=session, member=member, actor=ani,
                                          left_on=TODAY)
    # Grants: done, partial, late, not started (and one in Cianjur).
    done = await make_grant(session, area.groups[0], ani)
    partial = await make_grant(session, area.groups[7], budi)
    await make_grant(session, area.groups[11], cici, received_on=TODAY - timedelta(days=400))
    await make_grant(session, area.groups[12], cici, amount=5_000_000)
    await make_grant(session, area.cianjur_group, dedi)
    for grant, group, mentor, amount in ((done, area.groups[0], ani, 10_000_000),
                                         (partial, area.groups[7], budi, 2_000_000)):
        await grant_queries.create_rollover(
            session=session, grant=grant, group=group, mentor=mentor, today=TODAY,
            fields={"rolled_on": TODAY, "recipient_kind": "kk", "recipient_name": "Bu Sri",
                    "amount": amount})
    return area


async def test_summary_of_a_regency_matches_the_rows(session):
    area = await seed_area(session)
    data = await reports.summary(session=session, area_code=REGENCY, now=NOW, today=TODAY,
                                 min_size=5, max_size=10)
    assert data.groups == 13
    assert data.by_stage == {"tumbuh": 10, "berkembang": 2, "mandiri": 1}
    assert (data.complete, data.incomplete) == (11, 2)
    # 13 groups × 7 households, one more in group 4, three left group 5.
    assert data.households == {"miskin": 13 * 7 - 3, "fakir_miskin": 1}
    assert data.visits_this_month == 2
    assert (data.overdue, data.on_time) == (3, 10)
    assert data.grants == 4 and data.grants_total == 3 * 20_000_000 + 5_000_000
    assert data.rollovers == {"selesai": 1, "sebagian": 1, "terlambat": 1, "belum": 1}
    lines = [(line.name, line.groups, line.overdue, line.light) for line in data.mentors]
    assert lines == [("Cici Paramida", 2, 1, "red"), ("Budi Santoso", 4, 1, "yellow"),
                     ("Ani Lestari", 7, 1, "green")]
    assert area.cianjur_group.id not in {g.id for g in area.groups}


async def test_rollover_statuses_agree_with_progress(session):
    await seed_area(session)
    grants = list((await session.execute(select(Grant))).scalars())
    states = await grant_queries.progress_for(session=session, grants=grants, today=TODAY)
    expected: dict[str, int] = {}
    for state in states.values():
        expected[str(state.status)] = expected.get(str(state.status), 0) + 1
    data = await reports.summary(session=session, area_code=None, now=NOW, today=TODAY,
                                 min_size=5, max_size=10)
    assert {k: v for k, v in data.rollovers.items() if v} == expected


async def test_other_areas_see_none_of_it(session):
    await seed_area(session)
    data = await reports.summary(session=session, area_code="32.03", now=NOW, today=TODAY,
                                 min_size=5, max_size=10)
    assert (data.groups, data.overdue, data.visits_this_month, data.grants) == (1, 1, 1, 1)
    assert [line.name for line in data.mentors] == ["Dedi Cianjur"]
    district = await reports.summary(session=session, area_code=NAGRAK, now=NOW, today=TODAY,
                                     min_size=5, max_size=10)
    assert district.groups == 4 and [m.name for m in district.mentors] == ["Budi Santoso"]
    # A prefix of a code is not the area: "32.0" is no area, and 32.02 does not include 32.021.
    nothing = await reports.summary(session=session, area_code="32.0", now=NOW, today=TODAY,
                                    min_size=5, max_size=10)
    assert nothing.groups == 0 and nothing.mentors == []


async def test_chart_data(session):
    await seed_area(session)
    weeks = await reports.visits_per_week(session=session, area_code=REGENCY, today=TODAY)
    assert len(weeks) == 12 and weeks[-1][0] == date(2026, 11, 23)
    assert all(monday.weekday() == 0 for monday, _ in weeks)
    by_week = dict(weeks)
    assert by_week[date(2026, 11, 16)] == 1  # Sunday 22 November
    assert by_week[date(2026, 11, 2)] == 1  # a Monday starts its own week
    assert by_week[date(2026, 10, 19)] == 1  # 20 October
    assert sum(by_week.values()) == 3
    assert await reports.overdue_by_district(session=session, area_code=REGENCY, now=NOW) == [
        (CIBADAK, 2), (NAGRAK, 1)]


async def test_overdue_uses_each_groups_local_today(session):
    """At 23:30 WIB it is already tomorrow in Makassar (WITA): a group there due today is
    overdue, while a group in Sukabumi due today is not yet."""
    mentor = await make_mentor(session, area_code=CIBADAK)
    far = await make_mentor(session, area_code="73.71.01")
    late_evening = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)  # 23:30 WIB, 00:30 WITA
    west = await make_group(session, mentor, village_code=CIBADAK_VILLAGES[0])
    east = await make_group(session, far, village_code=MAKASSAR_VILLAGE)
    await set_due(session, west, date(2026, 11, 25))
    await set_due(session, east, date(2026, 11, 25))
    data = await reports.summary(session=session, area_code=None, now=late_evening,
                                 today=TODAY, min_size=5, max_size=10)
    assert (data.groups, data.overdue) == (2, 1)
    assert await reports.overdue_by_district(session=session, area_code=None,
                                             now=late_evening) == [("73.71.01", 1)]
    morning = await reports.summary(session=session, area_code=None, now=NOW, today=TODAY,
                                    min_size=5, max_size=10)
    assert morning.overdue == 0


def test_traffic_lights():
    def light(groups: int, overdue: int) -> str:
        return reports.MentorLine(1, "x", 1, groups, overdue).light

    assert light(20, 3) == "green"  # exactly 85%
    assert light(100, 16) == "yellow"  # 84%
    assert light(5, 2) == "yellow"  # exactly 60%
    assert light(100, 41) == "red"  # 59%


def test_area_for_roles():
    assert reports.area_for(Mentor(telegram_id=1, name="a", role="admin")) is None
    assert reports.area_for(Mentor(telegram_id=1, name="c", role="coordinator",
                                   area_code="32.02")) == "32.02"
    with pytest.raises(reports.NotAllowed):
        reports.area_for(Mentor(telegram_id=1, name="m", role="mentor", area_code="32.02.11"))
    with pytest.raises(reports.NotAllowed):
        reports.area_for(Mentor(telegram_id=1, name="c", role="coordinator"))
