"""The /rekap queries: counts per area match the rows, set-based, with each group's local today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.enums import Role
from bot.core.periods import Period
from models import grants as grant_queries
from models import groups as group_queries
from models import reports
from models.tables import Grant, Group, GroupChange, Mentor, Training, Visit
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
    assert data.rollovers == {"selesai": 1, "sebagian": 1, "terlambat": 1, "belum": 1,
                              "tidak_wajib": 0}
    lines = [(line.name, line.groups, line.overdue, line.light) for line in data.mentors]
    assert lines == [("Cici Paramida", 2, 1, "red"), ("Budi Santoso", 4, 1, "yellow"),
                     ("Ani Lestari", 7, 1, "green")]
    assert area.cianjur_group.id not in {g.id for g in area.groups}


async def test_an_inactive_group_is_not_overdue_and_a_free_grant_is_not_behind(session):
    """A group that stopped is not waiting for a visit: it leaves the overdue count, the
    on-time share and its mentor's light, and stays among the groups. A grant that need not
    be rolled over is counted apart, never "belum"."""
    from bot.core.enums import GroupStatus, StatusReason
    from models import changes

    area = await seed_area(session)
    ani = area.mentors["ani"]
    await changes.change_status(session=session, group=area.groups[0],
                                status=GroupStatus.INACTIVE, reason=StatusReason.DISASTER,
                                actor=ani, on=TODAY, today=TODAY)
    await make_grant(session, area.groups[1], ani, rollover_required=False)
    data = await reports.summary(session=session, area_code=REGENCY, now=NOW, today=TODAY,
                                 min_size=5, max_size=10)
    assert (data.groups, data.active, data.overdue, data.on_time) == (13, 12, 2, 10)
    assert data.rollovers["tidak_wajib"] == 1 and data.rollovers["belum"] == 1
    lines = {line.name: (line.groups, line.overdue) for line in data.mentors}
    assert lines["Ani Lestari"] == (6, 0)


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


# --- the period's figures ----------------------------------------------------------------------

async def _history(session, group: Group, kind: str, old: str | None, new: str, on: date,
                   by: Mentor | None = None, reason: str | None = None) -> None:
    session.add(GroupChange(group_id=group.id, kind=kind, field=kind, old=old, new=new,
                            reason=reason, changed_on=on, by_mentor_id=by.id if by else None,
                            at=NOW))


async def seed_outcomes(session, area: Area) -> None:
    """The programme's outcomes over seed_area (Cibadak: groups 0-6, 11, 12; Nagrak: 7-10):

    status: group 1 tidak aktif since 10 Nov, group 9 bubar since 5 Oct; stage: group 2 up on
    1 Nov, group 3 up on 15 Sep, group 8 up on 1 Aug and 10 Oct (mandiri), group 10 up on
    2 Oct and down on 3 Nov; graduations: one of group 0 on 20 Nov, one of group 7 on 10 Sep
    (and one of group 4 moved away on 12 Nov); trainings: two in group 0 (4 households), one
    in group 7 (2), one in Cianjur; visits with figures; LPJ of group 0's grant in, group 7's
    and group 11's late, group 12's due later.
    """
    groups = area.groups
    ani, budi = area.mentors["ani"], area.mentors["budi"]
    known = set((await session.execute(select(GroupChange.group_id))).scalars())
    for group in [*groups, area.cianjur_group]:
        if group.id not in known:  # as migration 0007 starts every group's history
            await _history(session, group, "status", None, "aktif", group.formed_on)
            await _history(session, group, "stage", None, "tumbuh", group.formed_on)
    await _history(session, groups[1], "status", "aktif", "tidak_aktif", date(2026, 11, 10),
                   ani, "usaha_berhenti")
    groups[1].status = "tidak_aktif"
    await _history(session, groups[9], "status", "aktif", "bubar", date(2026, 10, 5), budi,
                   "lainnya")
    groups[9].status = "bubar"
    for index, old, new, on in ((2, "tumbuh", "berkembang", date(2026, 11, 1)),
                                (3, "tumbuh", "berkembang", date(2026, 9, 15)),
                                (8, "tumbuh", "berkembang", date(2026, 8, 1)),
                                (8, "berkembang", "mandiri", date(2026, 10, 10)),
                                (10, "tumbuh", "berkembang", date(2026, 10, 2)),
                                (10, "berkembang", "tumbuh", date(2026, 11, 3))):
        await _history(session, groups[index], "stage", old, new, on, ani)
    for group in groups:
        session.add(group)
    await session.commit()

    members = {}
    for index in (0, 4, 7):
        members[index] = await group_queries.active_members(session=session,
                                                            group_id=groups[index].id)
    for index, left_on, reason in ((0, date(2026, 11, 20), "graduasi"),
                                   (7, date(2026, 9, 10), "graduasi"),
                                   (4, date(2026, 11, 12), "pindah")):
        member = members[index][-1]
        member.left_on, member.leave_reason = left_on, reason
        session.add(member)
    ids = [m.id for m in members[0]]
    for group, held_on, attendees in ((groups[0], date(2026, 11, 15), ids[:3]),
                                      (groups[0], date(2026, 11, 18), ids[2:4]),
                                      (groups[7], date(2026, 10, 16),
                                       [m.id for m in members[7][:2]]),
                                      (area.cianjur_group, date(2026, 11, 1), [])):
        session.add(Training(group_id=group.id, held_on=held_on, topic="Pembukuan",
                             provider="Dinas Sosial", attendee_ids=attendees,
                             recorded_by=ani.id, created_at=NOW))
    figures = {groups[0].id: (5_000_000, 1_000_000, 50_000),
               groups[1].id: (3_000_000, 500_000, 25_000),
               groups[7].id: (2_000_000, 400_000, 20_000),
               area.cianjur_group.id: (9_000_000, 900_000, 90_000)}
    for visit in (await session.execute(select(Visit))).scalars():
        visit.turnover, visit.profit, visit.solidarity_fee = figures[visit.group_id]
        session.add(visit)
    lpj = {groups[0].id: (date(2026, 9, 30), date(2026, 9, 1)),
           groups[7].id: (TODAY - timedelta(days=1), None),
           groups[11].id: (date(2025, 12, 1), None),
           groups[12].id: (TODAY + timedelta(days=30), None)}
    for grant in (await session.execute(select(Grant))).scalars():
        grant.lpj_due, grant.lpj_submitted_on = lpj.get(grant.group_id, (None, None))
        session.add(grant)
    await session.commit()


def _district(figures, code):
    return next(line for line in figures.districts if line.code == code)


async def test_period_figures_per_district_for_a_quarter(session):
    area = await seed_area(session)
    await seed_outcomes(session, area)
    q4 = Period.quarter(2026, 4)
    figures = await reports.period_figures(session=session, area_code=REGENCY, period=q4,
                                           today=TODAY)
    assert [line.code for line in figures.districts] == [CIBADAK, NAGRAK]
    total = figures.total
    assert total.groups == 13
    assert total.status == {"aktif": 11, "tidak_aktif": 1, "bubar": 1}
    assert total.stages == {"tumbuh": 10, "berkembang": 2, "mandiri": 1}
    assert (total.stage_up, total.stage_down) == (3, 1)
    assert total.graduated == 1 and total.households == 13 * 7 + 1 - 3 - 3
    assert (total.trainings, total.trained) == (3, 6)
    assert (total.visits, total.turnover, total.profit, total.solidarity) == (
        3, 10_000_000, 1_900_000, 95_000)
    assert (total.without_lpj, total.lpj_late) == (3, 2)
    cibadak, nagrak = _district(figures, CIBADAK), _district(figures, NAGRAK)
    assert cibadak.stages == {"tumbuh": 7, "berkembang": 2}
    assert nagrak.stages == {"tumbuh": 3, "mandiri": 1}
    assert (cibadak.trainings, cibadak.trained, nagrak.trainings, nagrak.trained) == (2, 4, 1, 2)
    assert (cibadak.turnover, nagrak.turnover) == (8_000_000, 2_000_000)
    assert (cibadak.without_lpj, cibadak.lpj_late, nagrak.lpj_late) == (2, 1, 1)
    assert nagrak.status == {"aktif": 3, "bubar": 1}


async def test_period_figures_are_as_of_the_periods_end(session):
    area = await seed_area(session)
    await seed_outcomes(session, area)
    october = await reports.period_figures(session=session, area_code=REGENCY,
                                           period=Period.month(2026, 10), today=TODAY)
    assert october.total.status == {"aktif": 12, "bubar": 1}
    assert _district(october, CIBADAK).stages == {"tumbuh": 8, "berkembang": 1}
    assert _district(october, NAGRAK).stages == {"tumbuh": 2, "berkembang": 1, "mandiri": 1}
    assert (october.total.stage_up, october.total.stage_down) == (2, 0)
    assert october.total.graduated == 0 and october.total.trained == 2
    assert (october.total.visits, october.total.turnover) == (1, 3_000_000)
    september = await reports.period_figures(session=session, area_code=REGENCY,
                                             period=Period.month(2026, 9), today=TODAY)
    assert september.total.graduated == 1 and september.total.stage_up == 1
    # A group formed after the period is not counted in it.
    early = await reports.period_figures(session=session, area_code=REGENCY,
                                         period=Period.month(2026, 1), today=TODAY)
    assert early.total.groups == 0 and early.districts == [
        line for line in early.districts if line.without_lpj]


async def test_period_figures_stay_in_their_area(session):
    area = await seed_area(session)
    await seed_outcomes(session, area)
    cianjur = await reports.period_figures(session=session, area_code="32.03",
                                           period=Period.quarter(2026, 4), today=TODAY)
    assert cianjur.total.groups == 1 and cianjur.total.turnover == 9_000_000
    assert cianjur.total.trainings == 1 and cianjur.total.trained == 0
    everything = await reports.period_figures(session=session, area_code=None,
                                              period=Period.quarter(2026, 4), today=TODAY)
    assert everything.total.groups == 14 and everything.total.turnover == 19_000_000


async def test_period_figures_take_a_bounded_number_of_queries(session):
    """Six statements whatever the number of groups (no loop over groups): the visit check is
    counted inside the visits' one (its far visits in SQL, no read of their locations)."""
    from sqlalchemy import event

    area = await seed_area(session)
    await seed_outcomes(session, area)
    statements = []
    engine = session.bind.sync_engine

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        await reports.period_figures(session=session, area_code=None,
                                     period=Period.year(2026), today=TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 6
