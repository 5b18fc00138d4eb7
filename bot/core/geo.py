"""Distances on the earth and a group's place, for the dashboard's map and visit check."""

from __future__ import annotations

from collections.abc import Iterable
from math import asin, cos, radians, sin, sqrt
from statistics import median

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)

Point = tuple[float, float]  # (latitude, longitude) in degrees

# A box around Indonesia, Sabang to Merauke and Rote to Miangas, with a margin: a point
# outside it is a slip (latitude and longitude swapped, a sign lost), not a KUBE's place.
INDONESIA_LAT = (-11.0, 6.5)
INDONESIA_LON = (94.0, 141.5)


def in_indonesia(point: Point) -> bool:
    """Whether ``point`` lies roughly inside Indonesia (INDONESIA_LAT, INDONESIA_LON)."""
    lat, lon = point
    return (INDONESIA_LAT[0] <= lat <= INDONESIA_LAT[1]
            and INDONESIA_LON[0] <= lon <= INDONESIA_LON[1])


def distance_km(a: Point, b: Point) -> float:
    """The great-circle distance between two points (haversine: metres off at village scale,
    which is all a "was the visit there" check needs)."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def middle(points: Iterable[Point]) -> Point | None:
    """The middle of a group's visit locations: the median of each coordinate, so that one
    visit logged far away does not drag the group's place towards it. None without points."""
    pts = list(points)
    if not pts:
        return None
    return (median(p[0] for p in pts), median(p[1] for p in pts))


def place_of(recorded: Point | None, visits: Iterable[Point]) -> tuple[Point | None, str | None]:
    """A group's place and where it came from: ("recorded"), else ("visits"), else (None)."""
    if recorded is not None:
        return recorded, "recorded"
    found = middle(visits)
    return (found, "visits") if found is not None else (None, None)


def visit_check(place: Point | None, visit: Point | None, far_km: float) -> tuple[str, float | None]:
    """How a visit's shared location compares with its group's place: ("ok" | "far", km), or
    ("none", None) when the visit has no location, or ("unknown", None) when the group has no
    place yet."""
    if visit is None:
        return "none", None
    if place is None:
        return "unknown", None
    km = distance_km(place, visit)
    return ("far" if km > far_km else "ok"), km
