"""Prints how a broadcast goes at the real pace against the local Bot API server enforcing
Telegram's limits (30 messages/s overall, 1/s per chat), and how fast the bot answers a mentor
meanwhile. Speed is measured here, not in the tests.

Run: .venv/bin/python bench/broadcast.py [--recipients 420] [--rate 25] [--blocked 6]
     [--flood 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections import deque
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import insert, select

from bot.app import build_application
from bot.localapi import LocalBotApi, start_application, stop_application
from bot.settings import Settings
from models import broadcasts as queries
from models.crypto import new_key
from models.db import create_engine, create_sessionmaker, upgrade
from models.enums import Audience
from models.tables import Area, Mentor, utcnow
from scheduler import outbox

COORDINATOR = 800001
ASKER = 810001  # a mentor elsewhere who keeps asking for /bantuan meanwhile
AREAS = [("32", None, 1, "Jawa Barat"), ("32.02", "32", 2, "Kabupaten Sukabumi"),
         ("32.02.11", "32.02", 3, "Cibadak"), ("32.01", "32", 2, "Kabupaten Bogor"),
         ("32.01.01", "32.01", 3, "Cibinong")]


async def prepare(url: str, recipients: int) -> list[int]:
    await upgrade(url)
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        await session.execute(insert(Area), [
            {"code": c, "parent_code": p, "level": lv, "name": n} for c, p, lv, n in AREAS])
        ids = list(range(2_000_000, 2_000_000 + recipients))
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


async def run(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    ids = await prepare(url, args.recipients)
    settings = Settings(_env_file=None, database_url=url, telegram_token="123456:BENCH",
                        data_key=new_key(),
                        reminders_enabled=False, broadcast_rate_per_second=args.rate)
    server = LocalBotApi()
    await server.start()
    application = build_application(settings, base_url=server.base_url)
    await start_application(application)
    server.enforce_limits(per_second_overall=30, per_chat_per_second=1)
    recipients = set(ids)
    sent_at: list[float] = []
    server.on_sent(lambda m: sent_at.append(time.monotonic())
                   if m.chat_id in recipients and not m.edits else None)
    for tid in ids[:args.blocked]:
        server.block(tid)

    sessionmaker = application.bot_data.sessionmaker
    async with sessionmaker() as session:
        coordinator = (await session.execute(
            select(Mentor).where(Mentor.telegram_id == COORDINATOR))).scalar_one()
        people = list((await session.execute(
            select(Mentor).where(Mentor.telegram_id.in_(ids)))).scalars())
        started = time.monotonic()
        broadcast, _ = await queries.create(
            session=session, actor=coordinator, audience=Audience.ALL_MENTORS,
            audience_code=None, text="Yth. {nama}, laporan bulan ini ditunggu.",
            photo_file_id=None, document_file_id=None, to=people)
        progress = await application.bot.send_message(COORDINATOR, "📤 …")
        await queries.set_progress_message(session=session, broadcast_id=broadcast.id,
                                           chat_id=COORDINATOR,
                                           message_id=progress.message_id)
    for tid in ids[-args.flood:] if args.flood else []:  # Telegram says wait to a few
        server.rate_limit(retry_after=1, count=1, chat_id=tid)
    calls_before = server.calls["sendMessage"]
    outbox.wake(application)

    server.user(ASKER, first_name="Penanya")
    latencies: list[float] = []
    while True:
        before = time.monotonic()
        position = server.log_position(ASKER)
        server.send_text(ASKER, "/bantuan")
        while not server.sent_since(ASKER, position):
            await asyncio.sleep(0.002)
        latencies.append(time.monotonic() - before)
        assert "/kelompok" in (server.sent_since(ASKER, position)[0].text or "")
        async with sessionmaker() as session:
            broadcast = await queries.get(session=session, broadcast_id=broadcast.id)
            status = broadcast.status
        if status == "done":
            break
        await asyncio.sleep(1)
    duration = time.monotonic() - started

    async with sessionmaker() as session:
        counts = await queries.tally(session=session, broadcast_id=broadcast.id)
    # Every sendMessage beyond one per recipient and one per /bantuan was answered 429.
    refused = server.calls["sendMessage"] - calls_before - counts.total - len(latencies)
    window: deque[float] = deque()
    busiest = 0
    for moment in sorted(sent_at):
        window.append(moment)
        while window[0] <= moment - 1.0:
            window.popleft()
        busiest = max(busiest, len(window))
    report = server.message(COORDINATOR, progress.message_id)
    print(f"recipients {counts.total}: {counts.sent} sent, {counts.blocked} blocked, "
          f"{counts.failed} failed in {duration:.1f} s "
          f"({counts.sent / duration:.1f} messages/s; setting {args.rate}/s)")
    spread = max(sent_at) - min(sent_at)
    print(f"first to last message: {spread:.1f} s ({(len(sent_at) - 1) / spread:.1f}/s)")
    print(f"busiest second: {busiest} broadcast messages; 429 answers: {refused} "
          f"({args.flood} injected)")
    print(f"progress message edited {len(report.edits)} times; final: {report.text}")
    print(f"/bantuan meanwhile ({len(latencies)}x): median "
          f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    await stop_application(application)
    await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=420)
    parser.add_argument("--rate", type=float, default=25)
    parser.add_argument("--blocked", type=int, default=6)
    parser.add_argument("--flood", type=int, default=5, help="recipients answered 429 once")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
