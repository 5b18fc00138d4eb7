"""The Kemendagri area codes: loading them, and queries on them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AreaLevel
from bot.core.places import WILAYAH_DIR
from models.tables import Area

_FILES = (
    ("provinces.csv", AreaLevel.PROVINCE, None),
    ("regencies.csv", AreaLevel.REGENCY, "province_code"),
    ("districts.csv", AreaLevel.DISTRICT, "regency_code"),
    ("villages.csv", AreaLevel.VILLAGE, "district_code"),
)


def iter_area_rows(directory: Path = WILAYAH_DIR) -> Iterator[dict]:
    """Yields area rows, parents before children (foreign keys rely on that order)."""
    for filename, level, parent_column in _FILES:
        with open(directory / filename, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                yield {
                    "code": row["code"],
                    "parent_code": row[parent_column] if parent_column else None,
                    "level": int(level),
                    "name": row["name"],
                }


async def count_areas(*, session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(Area))).scalar_one()


async def load_areas(*, session: AsyncSession, directory: Path = WILAYAH_DIR) -> int:
    """Loads the official areas into an empty table; returns how many rows were added."""
    if await count_areas(session=session):
        return 0
    batch: list[dict] = []
    added = 0
    for row in iter_area_rows(directory):
        batch.append(row)
        if len(batch) >= 5000:
            await session.execute(insert(Area), batch)
            added += len(batch)
            batch = []
    if batch:
        await session.execute(insert(Area), batch)
        added += len(batch)
    await session.commit()
    return added


async def get_area(*, session: AsyncSession, code: str) -> Area | None:
    return await session.get(Area, code)


def is_within(code: str | None, area_code: str | None) -> bool:
    """True when ``code`` lies inside ``area_code`` (codes are hierarchical: 32.01.01.2001 ⊂ 32.01)."""
    if not code or not area_code:
        return False
    return code == area_code or code.startswith(area_code + ".")
