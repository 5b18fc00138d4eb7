"""A 10,000-recipient broadcast at Telegram's real limits, with the sender killed half way.

The local Bot API server enforces Telegram's limits (30 messages a second overall, one a second
per chat, 429 with retry_after beyond them) and 1% of the recipients have blocked the bot (403).
The bot is a real `pendamping run` process (SQLite). Half way through the broadcast it is
killed with SIGKILL and started again; meanwhile a mentor keeps asking /bantuan and the time to
each answer is measured. Printed: the broadcast's rate against the allowed 30/s, recipients who
got nothing (lost) or more than once (twice), and the mentor's answer times.

Run: .venv/bin/python bench/broadcast.py [--recipients 10000] [--blocked-share 0.01]
     [--no-kill]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import insert, select
from telegram import Bot

from bot.core.enums import Audience
from bot.core.settings import Settings
from bot.localapi import LocalBotApi, SentMessage
from bot.startup import prepare_database
from models import broadcasts as queries
from models import crypto
from models.crypto import new_key
from models.db import create_engine, create_sessionmaker
from models.tables import Mentor, utcnow

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH"
COORDINATOR = 800001
ASKER = 810001  # a mentor elsewhere who keeps asking for /bantuan meanwhile
FIRST = 2_000_000
ALLOWED = 30  # what the server lets through per second overall


async def prepare(url: str, key: str, recipients: int) -> list[int]:
    settings = Settings(_env_file=None, database_url=url, data_key=key)
    await prepare_database(settings)  # migrations and the official areas, as `pendamping run`
    engine = create_engine(url)
    ids = list(range(FIRST, FIRST + recipients))
    async with create_sessionmaker(engine)() as session:
        rows = [{"telegram_id": tid, "name": f"Pendamping {tid}", "area_code": "32.02.11",
                 "role": "mentor", "status": "active", "language": "id",
                 "created_at": utcnow()} for tid in ids]
        rows.append({"telegram_id": COORDINATOR, "name": "Koordinator", "area_code": "32.02",
                     "role": "coordinator", "status": "active", "language": "id",
                     "created_at": utcnow()})
        rows.append({"telegram_id": ASKER, "name": "Penanya", "area_code": "32.01.01",
                     "role": "mentor", "status": "active", "language": "id",
                     "created_at": utcnow()})
        await session.execute(insert(Mentor), rows)
        await session.commit()
    await engine.dispose()
    return ids


def start_bot(url: str, key: str, base_url: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PENDAMPING_")}
    env.update({"PENDAMPING_DATABASE_URL": url, "PENDAMPING_TELEGRAM_TOKEN": TOKEN,
                "PENDAMPING_TELEGRAM_BASE_URL": base_url, "PENDAMPING_DATA_KEY": key,
                "PENDAMPING_HEALTH_PORT": "0", "PENDAMPING_DASHBOARD_PORT": "0",
                "PENDAMPING_REMINDERS_ENABLED": "false",
                "PENDAMPING_POLL_TIMEOUT_SECONDS": "1", "PTB_TIMEDELTA": "true",
                "PYTHONPATH": str(ROOT)})
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def rate_between(times: list[float], start: float, end: float) -> tuple[int, float]:
    inside = [t for t in times if start <= t <= end]
    if len(inside) < 2:
        return len(inside), 0.0
    return len(inside), (len(inside) - 1) / (inside[-1] - inside[0])


async def run(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    key = new_key()
    crypto.configure(key)
    began = time.monotonic()
    ids = await prepare(url, key, args.recipients)
    print(f"prepared {len(ids)} recipients in {time.monotonic() - began:.1f} s", flush=True)

    server = LocalBotApi()
    await server.start()
    server.enforce_limits(per_second_overall=ALLOWED, per_chat_per_second=1)
    every = max(1, round(1 / args.blocked_share)) if args.blocked_share else 0
    blocked = set(ids[::every]) if every else set()
    for tid in blocked:
        server.block(tid)
    recipients = set(ids)
    first_at: dict[int, float] = {}
    deliveries: dict[int, int] = {}
    all_sends: list[float] = []

    def seen(message: SentMessage) -> None:
        now = time.monotonic()
        all_sends.append(now)
        if message.chat_id in recipients and not message.edits:
            deliveries[message.chat_id] = deliveries.get(message.chat_id, 0) + 1
            first_at.setdefault(message.chat_id, now)

    server.on_sent(seen)

    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        coordinator = (await session.execute(
            select(Mentor).where(Mentor.telegram_id == COORDINATOR))).scalar_one()
        people = list((await session.execute(
            select(Mentor).where(Mentor.telegram_id.in_(ids)))).scalars())
        broadcast, _ = await queries.create(
            session=session, actor=coordinator, audience=Audience.ALL_MENTORS,
            audience_code=None, text="Yth. {nama}, laporan bulan ini ditunggu.",
            photo_file_id=None, document_file_id=None, to=people)
        async with Bot(TOKEN, base_url=server.base_url) as sender:
            progress = await sender.send_message(COORDINATOR, "📤 …")
        await queries.set_progress_message(session=session, broadcast_id=broadcast.id,
                                           chat_id=COORDINATOR, message_id=progress.message_id)
    server.user(ASKER, first_name="Penanya")

    latencies: list[float] = []
    log = directory / "bot.log"
    process = start_bot(url, key, server.base_url, log)
    started = time.monotonic()
    killed_at = restarted_at = None
    asking = True

    async def ask() -> None:
        while True:
            if not asking:
                await asyncio.sleep(0.05)
                continue
            position = server.log_position(ASKER)
            before = time.monotonic()
            server.send_text(ASKER, "/bantuan")
            while not server.sent_since(ASKER, position):
                await asyncio.sleep(0.002)
            reply = server.sent_since(ASKER, position)[0]
            latencies.append(time.monotonic() - before)
            assert "/kelompok" in (reply.text or ""), reply.text
            # A person reads the answer before asking again (and the server allows one
            # message a second per chat, answers included).
            await asyncio.sleep(1.0)

    asker = asyncio.create_task(ask())
    try:
        while True:
            await asyncio.sleep(0.2)
            if args.kill and killed_at is None and len(first_at) >= len(ids) // 2:
                asking = False  # no question left hanging on a process about to die
                await asyncio.sleep(0.6)
                process.send_signal(signal.SIGKILL)
                killed_at = time.monotonic()
                await asyncio.to_thread(process.wait, 10)
                print(f"killed the bot (SIGKILL) after {len(first_at)} deliveries", flush=True)
                process = start_bot(url, key, server.base_url, log)
                restarted_at = time.monotonic()
                asking = True
            async with sessionmaker() as session:
                status = (await queries.get(session=session,
                                            broadcast_id=broadcast.id)).status
            if status == "done":
                break
            if time.monotonic() - started > args.timeout:
                print("TIMEOUT: the broadcast did not finish")
                break
        finished = time.monotonic()
    finally:
        asker.cancel()
        with contextlib.suppress(asyncio.CancelledError, AssertionError):
            await asker
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 30)
        await server.stop()

    async with sessionmaker() as session:
        counts = await queries.tally(session=session, broadcast_id=broadcast.id)
    await engine.dispose()
    reachable = recipients - blocked
    lost = sorted(tid for tid in reachable if deliveries.get(tid, 0) == 0)
    twice = sorted(tid for tid, n in deliveries.items() if n > 1)
    times = sorted(first_at.values())
    window_end = killed_at if killed_at is not None else finished
    before_n, before_rate = rate_between(times, started, window_end)
    after_n, after_rate = rate_between(times, restarted_at or finished, finished)
    sending = (window_end - times[0]) + ((times[-1] - (min(t for t in times if t >= restarted_at)))
                                         if restarted_at and after_n else 0.0)
    overall = (len(times) - 1) / sending if sending else 0.0
    totals = sorted(all_sends)
    busiest = 0
    left = 0
    for right, moment in enumerate(totals):
        while totals[left] <= moment - 1.0:
            left += 1
        busiest = max(busiest, right - left + 1)
    p95 = percentile(latencies, 0.95)
    print()
    print(f"recipients {counts.total}: {counts.sent} sent, {counts.blocked} blocked (403), "
          f"{counts.failed} failed; {len(blocked)} had blocked the bot")
    print(f"delivered: {len(first_at)} of {len(reachable)} reachable; lost {len(lost)}; "
          f"sent twice {len(twice)}")
    if killed_at is not None:
        print(f"killed after {before_n} deliveries; restart to first delivery "
              f"{(min(t for t in times if t >= restarted_at) - killed_at):.1f} s")
    print(f"broadcast rate while sending: {overall:.1f}/s = {overall / ALLOWED:.0%} of "
          f"{ALLOWED}/s (before the kill {before_rate:.1f}/s, after {after_rate:.1f}/s)")
    print(f"busiest second, all the bot's messages: {busiest} (limit {ALLOWED}); "
          f"all its messages and edits {len(totals)}")
    print(f"/bantuan meanwhile ({len(latencies)}x): p50 {percentile(latencies, 0.5) * 1000:.0f}"
          f" ms, p95 {p95 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    print()
    print(f"{'target':<36} {'figure':>16}  verdict")
    rows = [
        (f">= 90% of {ALLOWED}/s", f"{overall / ALLOWED:.0%}", overall >= 0.9 * ALLOWED,
         f"by {(0.9 * ALLOWED - overall):.1f}/s"),
        ("0 lost", str(len(lost)), not lost, f"{len(lost)} lost"),
        ("0 sent twice", str(len(twice)), not twice, f"{len(twice)} twice"),
        ("p95 /bantuan < 1.5 s", f"{p95 * 1000:.0f} ms", p95 < 1.5,
         f"by {(p95 - 1.5) * 1000:.0f} ms"),
    ]
    for target, figure, met, by in rows:
        print(f"{target:<36} {figure:>16}  {'met' if met else 'MISSED ' + by}")
    print(f"\n{'killed half way and restarted' if killed_at else 'no kill'}; total "
          f"{finished - started:.0f} s; {platform.node()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}, {date.today()}; bot log {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--blocked-share", type=float, default=0.01)
    parser.add_argument("--no-kill", dest="kill", action="store_false")
    parser.add_argument("--timeout", type=float, default=1800)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
