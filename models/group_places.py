"""A group's place stored on its row, and the visit check as SQL.

A group's place is its recorded one (models.groups.set_place), else the middle of its visits'
locations (bot.core.geo.place_of). It is written on the group (``place_*``) in the same
transaction as whatever changes it: a located visit saved, a place recorded. So /rekap, the
Ringkasan sheet and the dashboard count far visits in one grouped statement
(:func:`far_clause`) instead of reading every located visit of an area into Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import cos, pi, radians
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.geo import EARTH_RADIUS_KM, Point, middle, place_of
from models.tables import Group, Visit

# A degree of latitude on the sphere bot.core.geo.distance_km uses: 111.195 km.
KM_PER_DEGREE = EARTH_RADIUS_KM * pi / 180
# Groups placed per statement when many are (bench data, a repair).
BATCH = 2000


def unlocated_clause() -> Any:
    """The visit was logged without a location (visit_check: "none")."""
    return or_(Visit.latitude.is_(None), Visit.longitude.is_(None))


def far_clause(far_km: float) -> Any:
    """The visit (joined with its Group) was logged more than ``far_km`` from the group's
    stored place (visit_check: "far"); false without a location or a place.

    The distance is equirectangular (dy = Δlat·111.195 km, dx = Δlon·111.195·cos(lat of the
    place)), plain arithmetic every database does, compared squared: at 2 km it is within
    centimetres of the haversine the group's page shows (bot.core.geo.distance_km), so a
    visit sits on the same side of the line in both but for a hair's breadth."""
    dy = (Visit.latitude - Group.place_latitude) * KM_PER_DEGREE
    dx = (Visit.longitude - Group.place_longitude) * KM_PER_DEGREE * Group.place_cos_lat
    return and_(Visit.latitude.is_not(None), Visit.longitude.is_not(None),
                Group.place_latitude.is_not(None), dx * dx + dy * dy > far_km * far_km)


def stored_place(group: Group) -> tuple[Point | None, str | None]:
    """The group's stored place and where it came from ("recorded" | "visits" | None)."""
    if group.place_latitude is None or group.place_longitude is None:
        return None, None
    return (group.place_latitude, group.place_longitude), group.place_source


def place_values(place: Point | None, source: str | None) -> dict[str, Any]:
    """The ``place_*`` columns of a group placed at ``place`` (None: no place)."""
    if place is None:
        return {"place_latitude": None, "place_longitude": None, "place_source": None,
                "place_cos_lat": None}
    return {"place_latitude": place[0], "place_longitude": place[1], "place_source": source,
            "place_cos_lat": cos(radians(place[0]))}


def _recorded(group: Group) -> Point | None:
    if group.latitude is None or group.longitude is None:
        return None
    return group.latitude, group.longitude


# Read at every located visit of a group without a recorded place: built once.
_LOCATED = select(Visit.latitude, Visit.longitude).where(
    Visit.group_id == bindparam("group_id"), Visit.latitude.is_not(None),
    Visit.longitude.is_not(None))


async def refresh_place(*, session: AsyncSession, group: Group) -> None:
    """Works out ``group``'s place again and stages it on the row (the caller commits): one
    read of its located visits when it has no recorded place, none when it has."""
    located: Sequence[Point] = ()
    if _recorded(group) is None:
        located = [(lat, lon) for lat, lon in (await session.execute(
            _LOCATED, {"group_id": group.id})).all()]
    for name, value in place_values(*place_of(_recorded(group), located)).items():
        setattr(group, name, value)
    session.add(group)


async def refresh_places(*, session: AsyncSession, group_ids: Iterable[int] | None = None
                         ) -> int:
    """Works out the place of the given groups (None: every group) again, in batches, and
    commits; for data written around the bot (a bench's, a repair). Returns how many groups
    have a place."""
    if group_ids is None:
        group_ids = (await session.execute(select(Group.id).order_by(Group.id))).scalars().all()
    ids = list(group_ids)
    placed = 0
    for at in range(0, len(ids), BATCH):
        batch = ids[at:at + BATCH]
        rows = (await session.execute(select(Group.id, Group.latitude, Group.longitude)
                                      .where(Group.id.in_(batch)))).all()
        located: dict[int, list[Point]] = {}
        for group_id, lat, lon in (await session.execute(
                select(Visit.group_id, Visit.latitude, Visit.longitude)
                .join(Group, Group.id == Visit.group_id)
                .where(Visit.group_id.in_(batch), Visit.latitude.is_not(None),
                       Visit.longitude.is_not(None),
                       or_(Group.latitude.is_(None), Group.longitude.is_(None))))).all():
            located.setdefault(group_id, []).append((lat, lon))
        values = []
        for group_id, lat, lon in rows:
            recorded = (lat, lon) if lat is not None and lon is not None else None
            place, source = (recorded, "recorded") if recorded else (
                (found, "visits") if (found := middle(located.get(group_id, ()))) else (None, None))
            placed += place is not None
            values.append({"id": group_id, **place_values(place, source)})
        if values:
            await session.execute(update(Group), values)
        await session.commit()
    return placed
