"""Prints how the dashboard's API (bot/web/api.py) goes for a regency of 540 groups and for the
whole country, on SQLite and on PostgreSQL, with each target met or missed.

Run: .venv/bin/python bench/dashboard.py [--groups 100000] [--database sqlite|postgresql|both]
     [--regency 32.01] [--repeat 5]

Data: bench/sweep.py's national-scale data (bench/sweep_data.build: ``--groups`` groups over
every province's real districts, 10 visits each; Kab. Bogor, 32.01, gets 540 of 100,000), then
places and visit locations it does not have: three groups in ten have a recorded place, seven
visits in eight a shared location near their group's place, one located visit in 25 about
11 km off. PostgreSQL works in a schema of its own (``bench_dashboard``), dropped at the end.

Each endpoint is asked once cold (statements compiled and prepared), then ``--repeat`` times over real HTTP (aiohttp's test server on localhost,
the API's own routes, a middleware standing in for bot.web.auth that sets the user): Kab.
Bogor's coordinator for the regency figures, an admin for the country's. Printed per
endpoint: median and slowest wall time of a request (query, Python, JSON and HTTP), the
answer's size and the SQL statements it sent. The photo is served by a stand-in bot (no
Telegram here): its figure is the database check and the cache.

Targets (issue 16): every regency request under 300 ms; the national overview under 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

from sweep import PG_URL, _pg, fresh_database, verdict  # bench/ is this script's folder
from sweep_data import NOW, build

os.environ.setdefault("PTB_TIMEDELTA", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGETS = {"regency": 0.3, "country_overview": 3.0}
SCHEMA = "bench_dashboard"

# Places the build does not make: deterministic in the ids, the same on both databases.
LOCATIONS = (
    ("UPDATE kube_group SET latitude = -6.0 - (id % 97) * 0.01, "
     "longitude = 106.0 + (id % 89) * 0.01, location_set_at = :now WHERE id % 10 < 3"),
    ("UPDATE visit SET latitude = -6.0 - (group_id % 97) * 0.01 + (id % 7) * 0.001 "
     "+ CASE WHEN id % 25 = 0 THEN 0.1 ELSE 0 END, "
     "longitude = 106.0 + (group_id % 89) * 0.01 + (id % 5) * 0.001 WHERE id % 8 <> 0"),
)


async def add_places(url: str) -> dict:
    from sqlalchemy import text

    from models.db import create_engine

    engine = create_engine(url)
    async with engine.begin() as connection:
        for statement in LOCATIONS:
            await connection.execute(text(statement), {"now": NOW})
        counts = {
            "recorded places": (await connection.execute(text(
                "SELECT count(*) FROM kube_group WHERE latitude IS NOT NULL"))).scalar_one(),
            "located visits": (await connection.execute(text(
                "SELECT count(*) FROM visit WHERE latitude IS NOT NULL"))).scalar_one()}
    # Written around the bot: the groups' stored places follow as the bot would keep them.
    from models.db import create_sessionmaker
    from models.group_places import refresh_places
    async with create_sessionmaker(engine)() as session:
        started = time.perf_counter()
        counts["placed groups"] = await refresh_places(session=session)
        print(f"placed the groups in {time.perf_counter() - started:.0f} s", flush=True)
    if url.startswith("postgresql"):
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    await engine.dispose()
    return counts


class Counter:
    """SQL statements sent while ``on``."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args) -> None:
        self.count += 1


async def measure(url: str, regency: str, repeat: int) -> list[dict]:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer
    from sqlalchemy import event, select, update

    from bot.core import clock
    from bot.core.settings import Settings
    from bot.web import ACTOR, APPLICATION, LANG, api
    from models import reports
    from models.db import create_engine, create_sessionmaker
    from models.reports import groups_in
    from models.tables import Group, Mentor, Visit

    clock.now = lambda: NOW  # the data's own day, as bench/sweep.py measures
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        coordinator = (await session.execute(select(Mentor).where(
            Mentor.role == "coordinator", Mentor.area_code == regency))).scalar_one()
        admin = (await session.execute(select(Mentor).where(Mentor.role == "admin")
                                       .limit(1))).scalar_one()
        group_id, district = (await session.execute(
            select(Group.id, Group.village_code).where(groups_in(regency))
            .order_by(Group.id).limit(1))).one()
        visit_id = (await session.execute(select(Visit.id).where(Visit.group_id == group_id)
                                          .limit(1))).scalar_one()
        await session.execute(update(Visit).where(Visit.id == visit_id)
                              .values(photo_file_ids=["BENCH-PHOTO"]))
        await session.commit()
        # The overview's visit checks alone (one grouped statement), for the record.
        checks = {}
        for label, (start, end) in {"bulan_ini": ("2026-11-01", "2026-11-30"),
                                    "tahun_ini": ("2026-01-01", "2026-12-31")}.items():
            started = time.perf_counter()
            counts = await reports.visit_lines(
                session=session, area_code=None, start=date.fromisoformat(start),
                end=date.fromisoformat(end), far_km=2.0)
            checks[label] = (time.perf_counter() - started,
                             sum(c.visits for c in counts.values()))

    class Photo:
        async def download_as_bytearray(self) -> bytearray:
            return bytearray(b"\xff\xd8" + b"\0" * 60_000)

    class StandInBot:
        async def get_file(self, _file_id: str) -> Photo:
            return Photo()

    users = {"regency": coordinator, "country": admin}

    @web.middleware
    async def signed_in(request: web.Request, handler):
        request[ACTOR] = users[request.headers["X-Bench-User"]]
        request[LANG] = "id"
        return await handler(request)

    app = web.Application(middlewares=[signed_in])
    app[APPLICATION] = SimpleNamespace(bot=StandInBot(), bot_data=SimpleNamespace(
        sessionmaker=sessionmaker, settings=Settings(_env_file=None, database_url=url,
                                                     telegram_token="123456:BENCH")))
    app[api.PHOTOS] = api.PhotoCache()
    app.add_routes(api.routes())
    counter = Counter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    asks = [
        ("regency", "/api/overview?period=bulan_ini", repeat),
        ("regency", "/api/overview?period=tahun_ini", repeat),
        ("regency", "/api/groups", repeat),
        ("regency", f"/api/groups?district={district[:8]}&sort=name", repeat),
        ("regency", f"/api/groups/{group_id}", repeat),
        ("regency", "/api/mentors", repeat),
        ("regency", f"/api/visits/{visit_id}/photos/0", repeat),
        ("country", "/api/overview?period=bulan_ini", repeat),
        ("country", "/api/overview?period=tahun_ini", max(1, repeat // 2)),
        ("country", "/api/mentors", max(1, repeat // 2)),
        ("country", "/api/groups", 1),  # every group of the country: no target, for the record
    ]
    results = []
    async with TestClient(TestServer(app)) as client:
        for user, path, times in asks:
            walls, sizes, statements = [], 0, 0
            # The first answer of a statement shape also compiles and prepares it: shown
            # apart (cold), the bot's process serves many.
            started = time.perf_counter()
            await (await client.get(path, headers={"X-Bench-User": user})).read()
            cold = time.perf_counter() - started
            for _ in range(times):
                counter.count = 0
                started = time.perf_counter()
                response = await client.get(path, headers={"X-Bench-User": user})
                body = await response.read()
                walls.append(time.perf_counter() - started)
                assert response.status == 200, (path, response.status, body[:200])
                sizes, statements = len(body), counter.count
            results.append({"user": user, "path": path, "median": statistics.median(walls),
                            "max": max(walls), "bytes": sizes, "statements": statements,
                            "times": times, "cold": cold})
    event.remove(engine.sync_engine, "before_cursor_execute", counter)
    await engine.dispose()
    results.append({"checks": checks})
    return results


def run_database(kind: str, args: argparse.Namespace, folder: Path) -> list[dict]:
    from models.crypto import configure, new_key
    from models.db import upgrade_sync

    configure(new_key())
    url = fresh_database(kind, folder, "dashboard" if kind == "sqlite" else SCHEMA, args.pg_url)
    try:
        upgrade_sync(url)
        started = time.perf_counter()
        counts = asyncio.run(build(url, args.groups))
        places = asyncio.run(add_places(url))
        print(f"[{kind}] built in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in {**counts, **places}.items()), flush=True)
        return asyncio.run(measure(url, args.regency, args.repeat))
    finally:
        if kind == "postgresql":
            asyncio.run(_pg(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE', args.pg_url))


def report(kind: str, results: list[dict], regency: str) -> list[str]:
    checks = results[-1]["checks"]
    print(f"\n=== {kind} ===")
    print(f"{'who':<8} {'request':<52} {'cold':>8} {'median':>8} {'max':>8} {'bytes':>10} "
          f"{'stmts':>5}  verdict (on max)")
    verdicts = []
    for r in results[:-1]:
        target = TARGETS["regency"] if r["user"] == "regency" else (
            TARGETS["country_overview"] if "/api/overview" in r["path"] else None)
        note = verdict(r["max"], target) if target else "(no target)"
        who = regency if r["user"] == "regency" else "country"
        print(f"{who:<8} {r['path'][:52]:<52} {r['cold'] * 1000:>6.0f}ms "
              f"{r['median'] * 1000:>6.0f}ms "
              f"{r['max'] * 1000:>6.0f}ms {r['bytes']:>10,} {r['statements']:>5}  {note}")
        if target:
            verdicts.append(note)
    for label, (seconds, visits) in checks.items():
        print(f"country visit checks alone, {label}: {seconds * 1000:.0f} ms for "
              f"{visits:,} visits in the period")
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--regency", default="32.01")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-url", default=os.environ.get("PENDAMPING_BENCH_PG_URL", PG_URL))
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            results[kind] = run_database(kind, args, Path(folder))
    missed = []
    for kind in kinds:
        missed += [v for v in report(kind, results[kind], args.regency) if "MISSED" in v]
    print("\nall targets met" if not missed else f"\n{len(missed)} target(s) missed")


if __name__ == "__main__":
    main()
