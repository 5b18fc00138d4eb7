"""The one clock of the bot. Tests move time by replacing ``now`` (never by sleeping)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.core.places import timezone_for


def now() -> datetime:
    """Aware UTC now; tests patch this function."""
    return datetime.now(UTC)


def local_now(area_code: str | None) -> datetime:
    """Now in the time zone of the area's province (WIB when the area is unknown)."""
    zone = timezone_for(area_code) if area_code else "Asia/Jakarta"
    return now().astimezone(ZoneInfo(zone))


def today_for(area_code: str | None) -> date:
    """The calendar date where the area is: what a mentor there calls "today"."""
    return local_now(area_code).date()
