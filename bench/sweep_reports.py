"""Prints how long /rekap's queries and /ekspor take over many groups (speed is measured here,
not in tests).

Run: .venv/bin/python bench/sweep_reports.py [--groups 100000] [--area 32]

Builds a throw-away SQLite database with ``--groups`` groups spread over the villages of
province 32 (Jawa Barat), 7 households each, a visit per group in the last 12 weeks and a
grant with a roll-over for every fifth group, then times the summary, the chart's queries and
the export of one regency.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bot.places import default_index
from models import exchange, reports
from models.areas import load_areas
from models.db import create_engine, create_sessionmaker, upgrade_sync
from models.tables import Area, Grant, Group, Member, Mentor, Rollover, Visit

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TODAY = NOW.date()


async def build(url: str, groups: int, province: str) -> None:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        await load_areas(session=session)
        villages = list((await session.execute(
            select(Area.code).where(Area.level == 4, Area.code.like(province + ".%"))
        )).scalars())
        rng = random.Random(7)
        mentors = [{"telegram_id": 10_000 + n, "name": f"Pendamping {n}", "role": "mentor",
                    "status": "active", "area_code": rng.choice(villages)[:8], "language": "id"}
                   for n in range(max(1, groups // 10))]
        await session.execute(insert(Mentor), mentors)
        for start in range(0, groups, 5000):
            batch = range(start, min(groups, start + 5000))
            await session.execute(insert(Group), [{
                "id": n + 1, "name": f"KUBE {n}", "village_code": rng.choice(villages),
                "business_type": "ternak", "binding_ties": ["kedekatan"],
                "formed_on": date(2025, 1, 1), "stage": rng.choice(
                    ["tumbuh", "berkembang", "mandiri"]), "visit_interval_days": 30,
                "mentor_id": n // 10 + 1,
                "next_visit_due": TODAY + timedelta(days=rng.randint(-20, 30)),
            } for n in batch])
            roles = ["ketua", "sekretaris", "bendahara"] + ["anggota"] * 4
            await session.execute(insert(Member), [{
                "group_id": n + 1, "name": f"KK {n}-{k}", "role": roles[k],
                "welfare_category": rng.choice(["fakir_miskin", "miskin", "hampir_miskin"]),
                "joined_on": date(2025, 1, 1)} for n in batch for k in range(7)])
            await session.execute(insert(Visit), [{
                "group_id": n + 1, "mentor_id": n // 10 + 1, "attendance": 6,
                "visited_on": TODAY - timedelta(days=rng.randint(0, 83)), "activities": [],
                "photo_file_ids": [], "next_visit_on": TODAY} for n in batch])
            await session.execute(insert(Grant), [{
                "id": n // 5 + 1, "group_id": n + 1, "kind": "stimulan",
                "funding_source": "apbn", "amount": 20_000_000, "received_on": date(2026, 1, 1),
                "rollover_amount": 10_000_000, "rollover_due": date(2027, 1, 1),
                "recorded_by": 1} for n in batch if n % 5 == 0])
            await session.execute(insert(Rollover), [{
                "grant_id": n // 5 + 1, "rolled_on": TODAY, "recipient_kind": "kk",
                "recipient_name": "Penerima", "amount": rng.choice([2_000_000, 10_000_000]),
                "recorded_by": 1} for n in batch if n % 5 == 0])
        await session.commit()
    await engine.dispose()


async def measure(url: str, area: str, regency: str) -> None:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        for label, call in [
            (f"summary ({area})", lambda: reports.summary(
                session=session, area_code=area, now=NOW, today=TODAY, min_size=5,
                max_size=10)),
            (f"summary ({regency})", lambda: reports.summary(
                session=session, area_code=regency, now=NOW, today=TODAY, min_size=5,
                max_size=10)),
            ("visits per week", lambda: reports.visits_per_week(
                session=session, area_code=area, today=TODAY)),
            ("overdue per district", lambda: reports.overdue_by_district(
                session=session, area_code=area, now=NOW)),
            (f"export ({regency})", lambda: exchange.export_workbook(
                session=session, area_code=regency, places=default_index(), masked=True,
                now=NOW, min_size=5, max_size=10)),
        ]:
            started = time.perf_counter()
            result = await call()
            elapsed = time.perf_counter() - started
            extra = ""
            if isinstance(result, reports.Summary):
                extra = f"{result.groups} groups, {len(result.mentors)} mentors"
            elif isinstance(result, tuple):
                extra = f"{len(result[0]) / 1e6:.1f} MB, {result[1]}"
            print(f"{label:28s} {elapsed:7.2f} s  {extra}")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--area", default="32")
    parser.add_argument("--regency", default="32.02")
    args = parser.parse_args()
    default_index()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        upgrade_sync(url)
        started = time.perf_counter()
        asyncio.run(build(url, args.groups, args.area))
        print(f"build: {time.perf_counter() - started:.1f} s for {args.groups} groups")
        asyncio.run(measure(url, args.area, args.regency))


if __name__ == "__main__":
    main()
