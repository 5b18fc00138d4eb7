"""Prints how the reminder sweep, /rekap and /ekspor go at national scale, on SQLite and on
PostgreSQL, with each target met or missed by how much (speed is measured here, not in tests).

Run: .venv/bin/python bench/sweep.py [--groups 100000] [--database sqlite|postgresql|both]
     [--due 300,1000,3000] [--regency 32.01] [--quick]

Data: ``--groups`` groups over the real Kemendagri districts of every province (so all three
time zones), 7 households each, 10 visits each (1,000,000 at full size), a grant for every
second group with 0-3 roll-overs, a mentor per 10 groups, a coordinator per regency and per
province, the pending reminders those imply plus a history of sent ones and their deliveries.
Loaded with bulk inserts in chunks (COPY on PostgreSQL, then ANALYZE; SQLite gets no ANALYZE,
like a real deployment). PostgreSQL works in schemas of its own (``bench_sweep``,
``bench_sweep_half``), dropped at the end.

Then, in a fresh process (so its peak memory is that of the measured work, not of the build):
/rekap (summary, last quarter's figures and chart queries, and the chart) of the whole
country and of one regency, /ekspor of that regency for last quarter, and one reminder sweep for each due count. A sweep's due items are
made due by moving that many pending reminders to this morning; it sends to the local Bot API
server (another process) over real HTTP with no rate limit. The same middle due count runs again over a database
of half the size: the sweep's cost follows the due items, not the tables. Every distinct
statement of a sweep is printed with its plan (EXPLAIN QUERY PLAN / EXPLAIN) and checked for
full scans of the big tables.

Peak memory: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the measuring process (Linux:
KiB), which includes the interpreter, the place index and matplotlib; the local Bot API
server runs in a process of its own (as Telegram is not inside the bot) and PostgreSQL's own
processes are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sweep_data import NOW, TODAY, build  # bench/ is this script's folder

os.environ.setdefault("PTB_TIMEDELTA", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BIG_TABLES = ("visit", "kube_group", "member", "reminder", "reminder_delivery", "mentor")
TARGETS = {"sweep": 2.0, "rekap_country": 3.0, "rekap_regency": 0.3, "rss_mb": 300.0}
TELEGRAM_RATE = 30  # messages per second Telegram allows one bot overall


# --- measuring (a fresh process) ----------------------------------------------------------------

def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def arm(engine, due: int, salt: int, built: int) -> int:
    """Makes ``due`` pending reminders due this morning; returns how many are due now. Only
    rows of the build (id <= ``built``): those a sweep added follow one already moved."""
    from sqlalchemy import text

    async with engine.begin() as connection:
        await connection.execute(text(
            "UPDATE reminder SET fire_on = :today, due_at = :due_at WHERE id IN ("
            " SELECT id FROM reminder WHERE status = 'pending' AND due_at > :now"
            " AND id <= :built AND id % 13 = :salt ORDER BY id LIMIT :n)"),
            {"today": TODAY, "due_at": NOW - timedelta(minutes=30), "now": NOW,
             "salt": salt % 13, "n": due, "built": built})
        return (await connection.execute(text(
            "SELECT count(*) FROM reminder WHERE status = 'pending' AND due_at <= :now"),
            {"now": NOW})).scalar_one()


class Recorder:
    """Every statement the sweep sends to the database (for EXPLAIN afterwards)."""

    def __init__(self) -> None:
        self.statements: dict[str, tuple] = {}
        self.count = 0
        self.on = False

    def __call__(self, _conn, _cursor, statement, parameters, _context, executemany):
        if not self.on:
            return
        self.count += 1
        if statement.lstrip().split(None, 1)[0].upper() in {"SELECT", "UPDATE", "INSERT",
                                                             "DELETE", "WITH"}:
            params = parameters[0] if executemany and parameters else parameters
            # One entry per statement shape: IN lists of any length are the same query.
            shape = re.sub(r"\((?:\?|\$\d+(?:::[A-Z ]+)?)(?:, (?:\?|\$\d+(?:::[A-Z ]+)?))*\)",
                           "(…)", statement)
            self.statements.setdefault(shape, (statement, params))


async def explain(engine, recorder: Recorder, postgresql: bool) -> tuple[list[str], list[str]]:
    """The plan of every recorded statement; and the full scans of big tables found."""
    lines, scans = [], []
    async with engine.connect() as connection:
        for number, (shape, (statement, params)) in enumerate(recorder.statements.items(),
                                                             start=1):
            prefix = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
            result = await connection.exec_driver_sql(prefix + statement, params or ())
            plan = ["  ".join(str(v) for v in row[-1:]) for row in result]
            short = re.sub(r"\s+", " ", shape)
            lines.append(f"[{number}] {short[:300]}{' …' if len(short) > 300 else ''}")
            lines += [f"      {step}" for step in plan] or ["      (no table read)"]
            for step in plan:
                if postgresql:
                    hit = re.search(r"Seq Scan on (\w+)", step)
                else:
                    hit = re.match(r"\s*SCAN (\w+)(?! USING)", step)
                if hit and hit.group(1) in BIG_TABLES:
                    scans.append(f"[{number}] {step.strip()}")
        await connection.rollback()
    return lines, scans


async def measure(url: str, dues: list[int], regency: str, full: bool) -> dict:
    from sqlalchemy import event
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.core.periods import Preset, preset
    from bot.core.places import default_index
    from bot.core.settings import Settings
    from handlers.reports import render_chart
    from models import exchange, reports
    from models.db import create_engine, create_sessionmaker
    from scheduler.sweep import SEND_CONCURRENCY, sweep

    postgresql = url.startswith("postgresql")
    titles = {"visits": "Kunjungan", "week": "Minggu", "overdue": "Terlambat", "none": "-"}
    render_chart([(TODAY, 1)], [], titles=titles)  # matplotlib's first use, as in a warm bot
    out: dict = {"baseline_rss_mb": rss_mb(), "sweeps": []}
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    if full:
        places = default_index()
        for label, area in (("rekap_country", None), ("rekap_regency", regency)):
            async with sessionmaker() as session:
                started = time.perf_counter()
                quarter = preset(Preset.LAST_QUARTER, TODAY)
                data = await reports.summary(session=session, area_code=area, now=NOW,
                                             today=TODAY, min_size=5, max_size=10,
                                             period=quarter)
                await reports.period_figures(session=session, area_code=area,
                                             period=quarter, today=TODAY)
                weeks = await reports.visits_per_week(session=session, area_code=area,
                                                      today=TODAY)
                overdue = await reports.overdue_by_district(session=session, area_code=area,
                                                            now=NOW)
                queries = time.perf_counter() - started
                render_chart(weeks, [(places.get(c).name if places.get(c) else c, n)
                                     for c, n in overdue], titles=titles)
                out[label] = {"seconds": time.perf_counter() - started,
                              "queries_seconds": queries, "groups": data.groups,
                              "mentors": len(data.mentors)}
        async with sessionmaker() as session:
            started = time.perf_counter()
            content, counts = await exchange.export_workbook(
                session=session, area_code=regency, places=places, masked=True, now=NOW,
                min_size=5, max_size=10, period=preset(Preset.LAST_QUARTER, TODAY))
            out["export_regency"] = {"seconds": time.perf_counter() - started,
                                     "bytes": len(content), "counts": counts}
    settings = Settings(_env_file=None, database_url=url, telegram_token="123456:BENCH",
                        reminders_enabled=False, broadcasts_enabled=False)
    # The Bot API server runs in a process of its own, as Telegram is not inside the bot.
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--stage", "server", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    base_url = (await server.stdout.readline()).decode().strip()
    bot = Bot("123456:BENCH", base_url=base_url,
              request=HTTPXRequest(connection_pool_size=SEND_CONCURRENCY))
    await bot.initialize()
    recorder = Recorder()
    event.listen(engine.sync_engine, "before_cursor_execute", recorder)
    async with engine.connect() as connection:
        built = (await connection.exec_driver_sql("SELECT max(id) FROM reminder")).scalar_one()
    for index, due in enumerate(dues):
        due_now = await arm(engine, due, salt=index + (0 if full else 5), built=built)
        recorder.on = True
        recorder.count = 0
        started = time.perf_counter()
        report = await sweep(sessionmaker=sessionmaker, bot=bot,
                                          settings=settings, now=NOW)
        wall = time.perf_counter() - started
        recorder.on = False
        out["sweeps"].append({
            "due": due_now, "expanded": report.expanded, "digests": len(report.digests),
            "sent": report.sent, "deferred": report.deferred, "failed": report.failed,
            "statements": recorder.count, "wall": wall,
            "database": report.database_seconds,
            "timings": dict(report.timings)})
    event.remove(engine.sync_engine, "before_cursor_execute", recorder)
    plans, scans = await explain(engine, recorder, postgresql)
    out["plans"], out["scans"] = plans, scans
    await bot.shutdown()
    server.stdin.close()
    await server.wait()
    await engine.dispose()
    out["peak_rss_mb"] = rss_mb()
    return out


# --- orchestration -------------------------------------------------------------------------------

async def serve() -> None:
    """The local Bot API server (no rate limits) until stdin closes; prints its URL first."""
    from bot.localapi import LocalBotApi

    server = LocalBotApi()
    await server.start()
    print(server.base_url, flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await server.stop()


def child(args: argparse.Namespace) -> None:
    """Runs one stage in this (fresh) process and writes its result as JSON."""
    if args.stage == "server":
        asyncio.run(serve())
        return
    from models.crypto import configure, new_key

    configure(new_key())
    if args.stage == "build":
        result = asyncio.run(build(args.url, args.groups))
    else:
        result = asyncio.run(measure(args.url, [int(d) for d in args.due.split(",")],
                                     args.regency, args.full))
    Path(args.result).write_text(json.dumps(result, default=str))


def run_stage(stage: str, url: str, args: argparse.Namespace, **extra) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_path = handle.name
    command = [sys.executable, __file__, "--stage", stage, "--url", url, "--result",
               result_path, "--groups", str(extra.get("groups", args.groups)),
               "--due", extra.get("due", args.due), "--regency", args.regency]
    if extra.get("full"):
        command.append("--full")
    subprocess.run(command, check=True)
    result = json.loads(Path(result_path).read_text())
    os.unlink(result_path)
    return result


def fresh_database(kind: str, folder: Path, name: str, pg_url: str) -> str:
    """An empty database for a bench run: a SQLite file in ``folder``, or the PostgreSQL
    schema ``name`` dropped and made again (the bench's own, never the tests')."""
    from models.db import with_search_path

    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
    asyncio.run(_pg(f'DROP SCHEMA IF EXISTS "{name}" CASCADE', pg_url))
    asyncio.run(_pg(f'CREATE SCHEMA "{name}"', pg_url))
    return with_search_path(pg_url, name)


async def _pg(statement: str, base: str) -> None:
    from sqlalchemy import text

    from models.db import create_engine

    engine = create_engine(base)
    async with engine.begin() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


def verdict(value: float, target: float) -> str:
    if value <= target:
        return f"met ({target / value:.1f}x under)" if value else "met"
    return f"MISSED by {value - target:.3g} ({value / target:.2f}x)"


def run_database(kind: str, args: argparse.Namespace, folder: Path) -> dict:
    from models.db import upgrade_sync

    dues = args.due.split(",")
    middle = dues[len(dues) // 2]
    sizes = [("full", args.groups), ("half", args.groups // 2)]
    results: dict = {}
    for label, groups in sizes:
        schema = f"bench_sweep{'' if label == 'full' else '_half'}"
        url = fresh_database(kind, folder, label if kind == "sqlite" else schema, args.pg_url)
        try:
            upgrade_sync(url)
            started = time.perf_counter()
            counts = run_stage("build", url, args, groups=groups)
            build_seconds = time.perf_counter() - started
            print(f"[{kind} {label}] built in {build_seconds:.0f} s: "
                  + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
            measured = run_stage("measure", url, args, groups=groups,
                                 due=args.due if label == "full" else middle,
                                 full=label == "full")
            measured["build_seconds"], measured["counts"] = build_seconds, counts
            results[label] = measured
        finally:
            if kind == "postgresql":
                asyncio.run(_pg(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', args.pg_url))
    return results


def report(kind: str, results: dict, regency: str) -> list[tuple[str, float, float, str]]:
    full, half = results["full"], results["half"]
    print(f"\n=== {kind} ===")
    print("tables (full): " + ", ".join(f"{k} {v:,}" for k, v in full["counts"].items()))
    print("tables (half): " + ", ".join(f"{k} {v:,}" for k, v in half["counts"].items()))
    for label in ("rekap_country", "rekap_regency"):
        r = full[label]
        print(f"/rekap {'whole country' if label == 'rekap_country' else regency}: "
              f"{r['seconds'] * 1000:.0f} ms (queries {r['queries_seconds'] * 1000:.0f} ms, "
              f"chart the rest); {r['groups']:,} groups, {r['mentors']:,} mentors")
    e = full["export_regency"]
    print(f"/ekspor {regency}: {e['seconds'] * 1000:.0f} ms, {e['bytes'] / 1e6:.1f} MB, "
          f"{e['counts']}")
    print("\nsweep (D = database part: expand + plan + claims + finish; E2E = end to end "
          "with sends to the local server, no rate limit; T = delivery at "
          f"{TELEGRAM_RATE}/s)")
    print(f"{'tables':>6} {'due':>6} {'digests':>7} {'sent':>6} {'stmts':>5} "
          f"{'expand':>7} {'plan':>6} {'claim':>6} {'finish':>6} {'D':>6} {'sends':>6} "
          f"{'E2E':>6} {'T':>7} {'D ms/due':>8}")
    rows = [("full", s) for s in full["sweeps"]] + [("half", s) for s in half["sweeps"]]
    for label, s in rows:
        t = s["timings"]
        print(f"{label:>6} {s['due']:>6} {s['digests']:>7} {s['sent']:>6} "
              f"{s['statements']:>5} {t.get('expand', 0):>7.2f} {t.get('plan', 0):>6.2f} "
              f"{t.get('claim', 0):>6.2f} {t.get('finish', 0):>6.2f} {s['database']:>6.2f} "
              f"{t.get('send', 0):>6.2f} {s['wall']:>6.2f} {s['digests'] / TELEGRAM_RATE:>6.0f}s "
              f"{s['database'] * 1000 / max(1, s['due']):>8.2f}")
    print(f"\nstatements of the last sweep ({len(full['plans'])} plan lines):")
    for line in full["plans"]:
        print(line)
    scans = full["scans"]
    print("full scans of big tables: " + ("none" if not scans else "; ".join(scans)))
    print(f"peak RSS of the measuring process: {full['peak_rss_mb']:.0f} MB "
          f"(after imports and a first chart {full['baseline_rss_mb']:.0f} MB)")
    targets = []
    for s in full["sweeps"]:
        targets.append((f"sweep DB part, {s['due']} due", s["database"], TARGETS["sweep"], "s"))
        targets.append((f"sweep end to end (local), {s['due']} due", s["wall"],
                        TARGETS["sweep"], "s"))
    targets += [("/rekap whole country", full["rekap_country"]["seconds"],
                 TARGETS["rekap_country"], "s"),
                (f"/rekap regency {regency}", full["rekap_regency"]["seconds"],
                 TARGETS["rekap_regency"], "s"),
                ("peak RSS (MB)", full["peak_rss_mb"], TARGETS["rss_mb"], "MB")]
    return [(f"{kind}: {name}", value, target, unit) for name, value, target, unit in targets]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--due", default="300,1000,3000",
                        help="due counts, comma-separated; the middle one also at half size")
    parser.add_argument("--regency", default="32.01")
    parser.add_argument("--pg-url", default=os.environ.get("PENDAMPING_BENCH_PG_URL", PG_URL))
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 5,000 groups, 30/100/300 due")
    parser.add_argument("--stage", choices=["build", "measure", "server"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        child(args)
        return
    if args.quick:
        args.groups, args.due = 5_000, "30,100,300"
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    started = time.perf_counter()
    print(f"bench/sweep.py: {args.groups:,} groups, due {args.due}, regency {args.regency}, "
          f"now {NOW.isoformat()}; {os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d}")
    table = []
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
        for kind in kinds:
            results = run_database(kind, args, Path(folder))
            table += report(kind, results, args.regency)
    print("\n=== targets ===")
    print(f"{'what':58s} {'figure':>9} {'target':>8}  verdict")
    for name, value, target, unit in table:
        print(f"{name:58s} {value:>8.3g}{unit:<1} {target:>7g}{unit:<1}  "
              f"{verdict(value, target)}")
    print(f"delivery on real Telegram is paced at {TELEGRAM_RATE} messages/s overall: the "
          "T column above (digests / 30) is the floor whatever the code does.")
    print(f"total bench time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
