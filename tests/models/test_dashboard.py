"""The dashboard's data (models.dashboard): the counts of an area match its rows and no other
area's, places and visit checks, the table's filters and order, and a group's page masked and
audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.core.enums import GroupStatus, Role
from bot.core.geo import middle
from bot.core.parsing import mask_nik, mask_phone
from bot.core.periods import Period
from models import dashboard
from models import groups as group_queries
from models.group_places import refresh_places
from models.tables import AuditLog, Group, Mentor, Visit
from tests.conftest import NOW, TODAY
from tests.factories import make_group, make_mentor, make_visit

CIBADAK, NAGRAK = "32.02.11", "32.02.12"
NOVEMBER = Period.month(2026, 11)
FAR_KM = 2.0
PLACE_A = (-6.920, 106.750)  # recorded for KUBE A
NIK, PHONE = "3202114507800001", "+6281277776666"


@dataclass
class Seed:
    coordinator: Mentor
    admin: Mentor
    ani: Mentor
    budi: Mentor
    cianjur_coordinator: Mentor
    groups: dict[str, Group]
    visits: dict[str, list[Visit]]


async def _visit(session, group, mentor, day: date, where: tuple[float, float] | None) -> Visit:
    visit = await make_visit(session, group, mentor, visited_on=day)
    if where is not None:
        visit.latitude, visit.longitude = where
        session.add(visit)
        await session.commit()
    return visit


async def seed(session) -> Seed:
    """Kab. Sukabumi: in Cibadak A (aktif, place recorded, due in 3 days), B (aktif, placed by
    its visits), E (bubar); in Nagrak C (tidak aktif) and D (aktif, 5 days overdue). Kab.
    Cianjur: X, never to be counted for Sukabumi. November's visits: A near, far and without
    a location; B near, near and far (plus one in October); X one without a location."""
    coordinator = await make_mentor(session, name="Koor Sukabumi", area_code="32.02",
                                    role=Role.COORDINATOR)
    admin = await make_mentor(session, name="Admin Pusat", area_code="32.02", role=Role.ADMIN)
    cianjur_coordinator = await make_mentor(session, name="Koor Cianjur", area_code="32.03",
                                            role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari", area_code=CIBADAK)
    budi = await make_mentor(session, name="Budi Santoso", area_code=NAGRAK)
    dedi = await make_mentor(session, name="Dedi Cianjur", area_code="32.03.01")
    plan = {"A": (ani, "32.02.11.2002"), "B": (ani, "32.02.11.2003"),
            "E": (ani, "32.02.11.2004"), "C": (budi, "32.02.12.2001"),
            "D": (budi, "32.02.12.2002"), "X": (dedi, "32.03.01.1006")}
    groups = {key: await make_group(session, mentor, name=f"KUBE {key}", village_code=village,
                                    members=5)
              for key, (mentor, village) in plan.items()}
    near_b, far_b = (-6.950, 106.800), (-6.700, 106.800)
    visits = {
        "A": [await _visit(session, groups["A"], ani, date(2026, 11, 3), (-6.922, 106.751)),
              await _visit(session, groups["A"], ani, date(2026, 11, 10), (-6.820, 106.750)),
              await _visit(session, groups["A"], ani, date(2026, 11, 17), None)],
        "B": [await _visit(session, groups["B"], ani, date(2026, 10, 20), near_b),
              await _visit(session, groups["B"], ani, date(2026, 11, 5), near_b),
              await _visit(session, groups["B"], ani, date(2026, 11, 12), (-6.951, 106.801)),
              await _visit(session, groups["B"], ani, date(2026, 11, 19), far_b)],
        "X": [await _visit(session, groups["X"], dedi, date(2026, 11, 20), None)],
    }
    states = {"A": (GroupStatus.ACTIVE, 3), "B": (GroupStatus.ACTIVE, 20),
              "C": (GroupStatus.INACTIVE, -40), "D": (GroupStatus.ACTIVE, -5),
              "E": (GroupStatus.DISSOLVED, -60), "X": (GroupStatus.ACTIVE, -9)}
    for key, (status, days) in states.items():
        groups[key].status = status
        groups[key].next_visit_due = TODAY + timedelta(days=days)
        session.add(groups[key])
    groups["A"].latitude, groups["A"].longitude = PLACE_A
    visits["A"][0].photo_file_ids = ["PHOTO-0", "PHOTO-1"]
    session.add(visits["A"][0])
    await session.commit()
    # Places and locations were written around models.visits and set_place: placed again.
    await refresh_places(session=session)
    members = await group_queries.active_members(session=session, group_id=groups["A"].id)
    await group_queries.remove_member(session=session, member=members[-1], actor=ani,
                                      left_on=TODAY, reason="graduasi")
    await group_queries.add_member(
        session=session, group=groups["A"], actor=ani, joined_on=TODAY, consented=True,
        data={"name": "Siti Aminah", "welfare_category": "hampir_miskin", "role": "anggota",
              "nik": NIK, "phone": PHONE})
    return Seed(coordinator, admin, ani, budi, cianjur_coordinator, groups, visits)


async def test_overview_counts_the_area_with_its_visit_checks(session):
    s = await seed(session)
    data = await dashboard.overview(session=session, actor=s.coordinator, period=NOVEMBER,
                                    now=NOW, far_km=FAR_KM)
    assert data["groups"] == {"total": 5, "aktif": 3, "tidak_aktif": 1, "bubar": 1}
    assert data["stages"] == {"tumbuh": 3, "berkembang": 0, "mandiri": 0}
    assert (data["overdue"], data["on_time_share"]) == (1, pytest.approx(2 / 3))
    assert data["graduations"] == 1
    # A: near, far, none; B: near, near, far (its October visit only places it).
    assert data["visits"] == {"total": 6, "far": 2, "no_location": 1}
    assert data["period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert data["districts"] == [
        {"code": CIBADAK, "name": "Kec. Cibadak", "groups": 3, "aktif": 2, "overdue": 0,
         "on_time_share": 1.0, "visits": 6, "far": 2, "no_location": 1, "graduations": 1},
        {"code": NAGRAK, "name": "Kec. Nagrak", "groups": 2, "aktif": 1, "overdue": 1,
         "on_time_share": 0.0, "visits": 0, "far": 0, "no_location": 0, "graduations": 0}]
    # B's place is the middle of its four located visits (an even count: the middle two's
    # mean, as geo.middle), October's included.
    await session.refresh(s.groups["B"])
    assert (s.groups["B"].place_latitude, s.groups["B"].place_longitude) == pytest.approx(
        middle([(v.latitude, v.longitude) for v in s.visits["B"]]), abs=1e-9)
    everything = await dashboard.overview(session=session, actor=s.admin, period=NOVEMBER,
                                          now=NOW, far_km=FAR_KM)
    assert everything["groups"]["total"] == 6 and everything["overdue"] == 2
    assert everything["visits"] == {"total": 7, "far": 2, "no_location": 2}


async def test_groups_are_filtered_sorted_and_placed(session):
    s = await seed(session)

    async def listed(**query: str) -> list[str]:
        data = await dashboard.groups(session=session, actor=s.coordinator, now=NOW,
                                      far_km=FAR_KM, filters=dashboard.GroupFilters.parse(query))
        return [row["name"][-1] for row in data["groups"]]

    assert await listed() == ["D", "A", "B", "C", "E"]  # most overdue first, then by name
    assert await listed(district=NAGRAK) == ["D", "C"]
    assert await listed(visit="due") == ["A"]
    assert await listed(status="tidak_aktif") == ["C"]
    assert await listed(mentor=str(s.budi.id), order="asc") == ["C", "D"]
    assert await listed(sort="name", order="desc") == ["E", "D", "C", "B", "A"]
    assert await listed(sort="last_visit") == ["A", "B", "C", "D", "E"]  # no visit: last
    assert await listed(village="32.03.01.1006") == []  # Cianjur's village: not theirs

    data = await dashboard.groups(session=session, actor=s.coordinator, now=NOW,
                                  far_km=FAR_KM, filters=dashboard.GroupFilters())
    rows = {row["name"][-1]: row for row in data["groups"]}
    assert rows["A"]["place"] == {"lat": PLACE_A[0], "lon": PLACE_A[1], "source": "recorded"}
    assert rows["B"]["place"] == {"lat": -6.950, "lon": 106.800, "source": "visits"}
    assert rows["D"]["place"] is None
    assert (rows["A"]["far_visits"], rows["A"]["no_location_visits"]) == (1, 1)
    assert (rows["B"]["far_visits"], rows["B"]["no_location_visits"]) == (1, 0)
    assert (rows["D"]["visit"], rows["D"]["days_overdue"], rows["C"]["visit"]) == \
        ("overdue", 5, None)
    assert rows["A"]["members"] == 5 and rows["A"]["last_visit"] == "2026-11-17"
    assert rows["A"]["district"] == {"code": CIBADAK, "name": "Kec. Cibadak"}
    assert rows["A"]["village"] == {"code": "32.02.11.2002", "name": "Desa Sekarwangi"}
    assert [d["code"] for d in data["filters"]["districts"]] == [CIBADAK, NAGRAK]
    assert [m["name"] for m in data["filters"]["mentors"]] == ["Ani Lestari", "Budi Santoso"]
    for bad in ({"visit": "late"}, {"sort": "id"}, {"mentor": "4; drop"},
                {"district": "32.02"}, {"order": "up"}, {"stage": "maju"}):
        with pytest.raises(ValueError):
            dashboard.GroupFilters.parse(bad)


async def test_a_groups_page_is_masked_audited_and_only_for_its_area(session):
    """And so are a visit's photos; the mentors are listed with their lights."""
    s = await seed(session)
    group_a = s.groups["A"]
    page = await dashboard.group_page(session=session, actor=s.coordinator,
                                      group_id=group_a.id, now=NOW, far_km=FAR_KM)
    siti = next(h for h in page["households"] if h["name"] == "Siti Aminah")
    assert (siti["nik"], siti["phone"]) == (mask_nik(NIK), mask_phone(PHONE))
    assert NIK not in str(page) and PHONE[3:] not in str(page)
    assert len(page["households"]) == 6 and page["categories"] == {"miskin": 4,
                                                                    "hampir_miskin": 1}
    assert [h["left_reason"] for h in page["households"] if not h["active"]] == ["graduasi"]
    assert [(v["on"], v["check"]) for v in page["visits"]] == [
        ("2026-11-17", "none"), ("2026-11-10", "far"), ("2026-11-03", "ok")]
    assert page["visits"][2]["photos"] == [f"api/visits/{s.visits['A'][0].id}/photos/0",
                                           f"api/visits/{s.visits['A'][0].id}/photos/1"]
    assert page["group"]["visit"] == "due" and page["group"]["place"]["source"] == "recorded"
    assert {(h["kind"], h["new"]) for h in page["history"]} == {("status", "aktif"),
                                                                ("stage", "tumbuh")}

    views = (await session.execute(select(AuditLog).where(
        AuditLog.action == "dashboard_view"))).scalars().all()
    assert [(v.actor_telegram_id, v.entity, v.entity_id) for v in views] == [
        (s.coordinator.telegram_id, "group", group_a.id)]

    elsewhere = await dashboard.group_page(session=session, actor=s.coordinator,
                                           group_id=s.groups["X"].id, now=NOW, far_km=FAR_KM)
    made_up = await dashboard.group_page(session=session, actor=s.coordinator,
                                         group_id=999_999, now=NOW, far_km=FAR_KM)
    assert elsewhere is None and made_up is None
    assert len((await session.execute(select(AuditLog).where(
        AuditLog.action == "dashboard_view"))).scalars().all()) == 1

    data = await dashboard.mentors(session=session, actor=s.coordinator, now=NOW)
    assert [(m["name"], m["groups"], m["overdue"], m["light"], m["last_visit"])
            for m in data["mentors"]] == [("Budi Santoso", 1, 1, "red", None),
                                          ("Ani Lestari", 2, 0, "green", "2026-11-19")]
    assert data["mentors"][1]["affiliation"] == "psm"
    first = s.visits["A"][0].id
    found = [await dashboard.photo_file_id(session=session, actor=actor, visit_id=first, n=n)
             for actor, n in ((s.coordinator, 1), (s.coordinator, 2),
                              (s.cianjur_coordinator, 0))]
    assert found == ["PHOTO-1", None, None]
