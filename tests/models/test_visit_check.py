"""A group's place (models.groups.set_place, the stored place models.group_places keeps) and
the visit check of a period (models.reports.visit_lines through period_figures, the Ringkasan
sheet), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from bot.core.enums import GroupStatus, Role
from bot.core.geo import visit_check
from bot.core.periods import Period
from bot.core.places import default_index
from models import exchange, reports
from models import groups as group_queries
from models import visits as visit_queries
from models.group_places import stored_place
from models.tables import AuditLog, Group, Visit
from tests.conftest import NOW, TODAY
from tests.factories import REGENCY_SUKABUMI, make_group, make_mentor, rows

CIANJUR_VILLAGE = "32.03.01.1006"
NOVEMBER = Period.month(2026, 11)


async def visit(session, group, mentor, on: date, point=None) -> int:
    row, _ = await visit_queries.create_visit(session=session, group=group, mentor=mentor, fields={
        "visited_on": on, "attendance": 6, "activities": ["pemantauan"], "next_visit_on": on,
        "latitude": point[0] if point else None, "longitude": point[1] if point else None})
    return row.id


async def test_set_place_checks_role_area_state_and_the_box(session):
    mentor = await make_mentor(session)
    other = await make_mentor(session, name="Rudi")
    far_coordinator = await make_mentor(session, role=Role.COORDINATOR, area_code="32.03")
    coordinator = await make_mentor(session, role=Role.COORDINATOR, area_code=REGENCY_SUKABUMI)
    group = await make_group(session, mentor)
    gid = group.id
    for actor, point in ((other, (-6.9, 106.8)), (far_coordinator, (-6.9, 106.8)),
                         (mentor, (6.9, 106.8)), (mentor, (-6.9, 16.8))):
        assert await group_queries.set_place(session=session, group_id=gid, actor=actor,
                                             point=point) is None
    assert await group_queries.set_place(session=session, group_id=gid, actor=coordinator,
                                         point=(-6.9, 106.8)) is not None
    saved = (await rows(session, Group))[0]
    assert (saved.latitude, saved.longitude) == (-6.9, 106.8) and saved.location_set_at
    assert stored_place(saved) == ((-6.9, 106.8), "recorded")
    updates = [row for row in await rows(session, AuditLog)
               if row.entity == "group" and row.action == "update"]
    assert [(row.entity_id, row.new["latitude"], row.new["longitude"]) for row in updates] \
        == [(gid, -6.9, 106.8)]
    # A dissolved group is read-only, its place too.
    saved = (await rows(session, Group))[0]
    saved.status = GroupStatus.DISSOLVED
    session.add(saved)
    await session.commit()
    await session.refresh(mentor)
    assert await group_queries.set_place(session=session, group_id=gid, actor=mentor,
                                         point=(-6.8, 106.7)) is None


async def test_visits_are_checked_against_the_recorded_place_or_the_middle(session):
    mentor = await make_mentor(session)
    placed = await make_group(session, mentor, name="KUBE Mawar")
    placed.latitude, placed.longitude = -6.9000, 106.8000
    session.add(placed)
    await session.commit()
    near = await visit(session, placed, mentor, TODAY, (-6.9050, 106.8050))  # 0.8 km
    far = await visit(session, placed, mentor, TODAY, (-6.9500, 106.9000))  # 12 km
    none = await visit(session, placed, mentor, TODAY)
    await visit(session, placed, mentor, date(2026, 10, 5), (-7.5, 107.5))  # October: not counted
    # No place saved: the middle of all its located visits (October's two and November's
    # own), so the November visit logged away from the others is far.
    unplaced = await make_group(session, mentor, name="KUBE Melati", village_code="32.02.12.2001")
    await visit(session, unplaced, mentor, date(2026, 10, 1), (-6.8000, 106.7000))
    await visit(session, unplaced, mentor, date(2026, 10, 8), (-6.8010, 106.7010))
    away = await visit(session, unplaced, mentor, TODAY, (-6.7000, 106.7000))
    # Another regency's visits stay out of Sukabumi's.
    elsewhere = await make_group(session, await make_mentor(session, area_code="32.03.01"),
                                 name="KUBE Cianjur", village_code=CIANJUR_VILLAGE)
    await visit(session, elsewhere, mentor, TODAY)

    # The places kept as the visits came: recorded, else the middle of the three located
    # visits (October's two and November's own).
    await session.refresh(placed)
    await session.refresh(unplaced)
    places = {placed.id: stored_place(placed), unplaced.id: stored_place(unplaced)}
    assert places == {placed.id: ((-6.9, 106.8), "recorded"),
                      unplaced.id: ((-6.8, 106.7), "visits")}
    # A group's page checks each visit against that place (the far count below, in SQL,
    # must agree).
    located = {row.id: ((row.latitude, row.longitude) if row.latitude is not None else None,
                        row.group_id) for row in await rows(session, Visit)}
    checked = {visit_id: visit_check(places[located[visit_id][1]][0], located[visit_id][0], 2.0)
               for visit_id in (near, far, none, away)}
    assert {visit_id: check for visit_id, (check, _) in checked.items()} == {
        near: "ok", far: "far", none: "none", away: "far"}
    assert round(checked[near][1], 1) == 0.8

    figures = await reports.period_figures(session=session, area_code=REGENCY_SUKABUMI,
                                           period=NOVEMBER, today=TODAY, far_km=2.0)
    by_code = {line.code: (line.visits, line.far_visits, line.no_location_visits)
               for line in figures.districts}
    assert by_code == {"32.02.11": (3, 1, 1), "32.02.12": (1, 1, 0)}
    assert (figures.total.far_visits, figures.total.no_location_visits) == (2, 1)
    # Farther allowed: only what lies beyond it.
    wide = await reports.period_figures(session=session, area_code=REGENCY_SUKABUMI,
                                        period=NOVEMBER, today=TODAY, far_km=20.0)
    assert wide.total.far_visits == 0

    content, _ = await exchange.export_workbook(
        session=session, area_code=REGENCY_SUKABUMI, places=default_index(), masked=True,
        now=NOW, min_size=5, max_size=10, period=NOVEMBER, far_km=2.0)
    sheet = load_workbook(io.BytesIO(content))["Ringkasan"]
    assert "Kunjungan jauh: dicatat lebih dari 2 km dari tempat kelompok" in sheet["A2"].value
    headers = [cell.value for cell in sheet[4]]
    total = next(row for row in sheet.iter_rows(min_row=5, values_only=True)
                 if row[1] == "Jumlah")
    values = dict(zip(headers, total, strict=True))
    assert (values["Kunjungan"], values["Kunjungan tanpa lokasi"], values["Kunjungan jauh"]) \
        == (4, 1, 2)
