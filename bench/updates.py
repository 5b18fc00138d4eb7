"""How many updates a second the bot handles, and how fast it answers, with many mentors at once.

Simulated mentors (pre-created, approved, one KUBE group each) all log a visit at the same time:
each drives the whole /kunjungan conversation through the local Bot API server over real HTTP
(18 updates: the command, button presses, typed answers, a shared location, Simpan), waiting for
the bot's answer before the next step and thinking a little in between, as a person would. In
the same run a bare python-telegram-bot echo bot on the same server, driven the same way (same
mentors, same kinds of updates, same think times), is the ceiling.

Latency is the time from an update being offered (queued on the server for the bot's long
poll) to the bot's answer the mentor waits for (the next question; for the echo bot its echo),
taken when the server receives that answer. The bot runs in a process of its own (as it does
in production, where Telegram is another machine), so the server and the simulated mentors in
this process do not share its CPU; the echo bot likewise.

Run: .venv/bin/python bench/updates.py [--mentors 100 1000] [--think 2] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, SessionTransaction
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.app import build_application
from bot.core import clock
from bot.core.settings import Settings
from bot.localapi import LocalBotApi, SentMessage, start_application, stop_application
from models import groups as group_queries
from models.crypto import new_key
from models.db import create_engine, create_sessionmaker, upgrade
from models.tables import Area, Mentor, utcnow

FIRST_ID = 3_000_000
VILLAGE = "32.02.11.2002"
AREAS = [("32", None, 1, "Jawa Barat"), ("32.02", "32", 2, "Kabupaten Sukabumi"),
         ("32.02.11", "32.02", 3, "Cibadak"), (VILLAGE, "32.02.11", 4, "Sekarwangi")]
TIMEOUT = 300.0  # one answer; beyond this the step counts as lost


# --- data ------------------------------------------------------------------------------------

async def prepare(url: str, mentors: int) -> None:
    """Approved mentors, each with one group of 7 households, written straight to the database."""
    await upgrade(url)
    engine = create_engine(url)
    today = clock.today_for(VILLAGE)
    members = [{"name": f"Anggota {i + 1}", "welfare_category": "miskin",
                "role": ("ketua", "sekretaris", "bendahara")[i] if i < 3 else "anggota"}
               for i in range(7)]
    async with create_sessionmaker(engine)() as session:
        await session.execute(insert(Area), [
            {"code": c, "parent_code": p, "level": lv, "name": n} for c, p, lv, n in AREAS])
        await session.execute(insert(Mentor), [
            {"telegram_id": FIRST_ID + i, "name": f"Pendamping {i}", "area_code": "32.02.11",
             "role": "mentor", "status": "active", "language": "id", "created_at": utcnow()}
            for i in range(mentors)])
        await session.commit()
        people = (await session.execute(Mentor.__table__.select())).all()
        by_id = {row.telegram_id: row.id for row in people}
        for i in range(mentors):
            mentor = await session.get(Mentor, by_id[FIRST_ID + i])
            await group_queries.create_group(
                session=session, mentor=mentor, name=f"KUBE Bench {i}", village_code=VILLAGE,
                business_type="ternak", binding_ties=["kedekatan"],
                formed_on=today - timedelta(days=200), stage="tumbuh", visit_interval_days=30,
                next_visit_due=today + timedelta(days=10), members=members,
                today=today - timedelta(days=200))
    await engine.dispose()


# --- what the mentors see --------------------------------------------------------------------

@dataclass(frozen=True)
class Seen:
    """One message the bot sent or edited, as it was at that moment."""

    at: float
    message_id: int
    text: str
    buttons: tuple[str, ...]  # callback data
    labels: tuple[str, ...]
    edit: bool


@dataclass
class Chat:
    seen: list[Seen] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class Screens:
    """Every chat's messages as the server recorded them, stamped when the answer arrived."""

    def __init__(self, server: LocalBotApi) -> None:
        self.chats: dict[int, Chat] = {}
        server.on_sent(self._sent)

    def chat(self, chat_id: int) -> Chat:
        return self.chats.setdefault(chat_id, Chat())

    def _sent(self, message: SentMessage) -> None:
        chat = self.chat(message.chat_id)
        buttons = message.inline_buttons
        chat.seen.append(Seen(time.perf_counter(), message.message_id, message.content or "",
                              tuple(str(b.get("callback_data", "")) for b in buttons),
                              tuple(str(b.get("text", "")) for b in buttons),
                              bool(message.edits)))
        chat.changed.set()


Expect = Callable[[Seen], bool]


def button(prefix: str) -> Expect:
    return lambda seen: any(data.startswith(prefix) for data in seen.buttons)


def text(start: str) -> Expect:
    return lambda seen: seen.text.startswith(start)


def ticked(seen: Seen) -> bool:
    return seen.edit and any(label.startswith("✅") for label in seen.labels)


def any_new(seen: Seen) -> bool:
    return not seen.edit


# What a mentor does, step by step: (kind, what, the answer that ends the step). A "press" takes
# the first button of the last answer whose callback data starts with ``what``.
VISIT: list[tuple[str, object, Expect]] = [
    ("text", "/kunjungan", button("kun:group:")),
    ("press", "kun:group:", button("kun:date:today")),
    ("press", "kun:date:today", text("Berapa KK yang hadir")),
    ("text", "6", button("kun:act:done")),
    ("press", "kun:act:pemantauan", ticked),
    ("press", "kun:act:done", button("kun:fig:yes")),
    ("press", "kun:fig:yes", text("Berapa omzet")),
    ("text", "1,5 jt", text("Berapa keuntungan")),
    ("text", "300rb", text("Berapa saldo kas")),
    ("text", "2 jt", text("Berapa IKS")),
    ("text", "50rb", button("kun:ast:no")),
    ("press", "kun:ast:no", text("Apa masalah")),
    ("text", "Harga pakan naik, 2 anggota jarang hadir", text("Apa tindak lanjut")),
    ("text", "Bantu cari pemasok pakan yang lebih murah", text("Kirim lokasi")),
    ("location", (-6.8937, 106.7846), button("kun:photos:done")),
    ("press", "kun:photos:done", button("kun:next:default")),
    ("press", "kun:next:default", button("kun:save")),
    ("press", "kun:save", text("✅ Tersimpan")),
]


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    first_offer: float = float("inf")
    last_answer: float = 0.0


async def mentor(server: LocalBotApi, screens: Screens, user_id: int, *, echo: bool,
                 think: float, rng: random.Random, result: Result) -> None:
    chat = screens.chat(user_id)
    server.user(user_id, first_name=f"Pendamping {user_id - FIRST_ID}")
    last: Seen | None = None
    for kind, what, expect in VISIT:
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
        position = len(chat.seen)
        offered = time.perf_counter()
        if kind == "text":
            server.send_text(user_id, str(what))
        elif kind == "location":
            server.share_location(user_id, *what)  # type: ignore[misc]
        else:
            assert last is not None
            data = next((d for d in last.buttons if d.startswith(str(what))), None)
            if echo or data is None:  # the echo bot's button carries its own data
                data = last.buttons[0] if last.buttons else "echo"
            server.press_button(user_id, last.message_id, data, strict=not echo)
        wanted = any_new if echo else expect
        result.first_offer = min(result.first_offer, offered)
        answer = None
        deadline = offered + TIMEOUT
        while answer is None:
            answer = next((s for s in chat.seen[position:] if wanted(s)), None)
            if answer is not None:
                break
            chat.changed.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                result.lost += 1
                return
            try:
                await asyncio.wait_for(chat.changed.wait(), remaining)
            except TimeoutError:
                pass
        result.latencies.append(answer.at - offered)
        result.last_answer = max(result.last_answer, answer.at)
        last = answer


# --- the two bots ----------------------------------------------------------------------------

def echo_application(base_url: str) -> Application:
    """A bare python-telegram-bot bot: every message and button press is echoed at once."""
    again = InlineKeyboardMarkup([[InlineKeyboardButton("lagi", callback_data="echo")]])

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        text = update.effective_message.text if update.effective_message else None
        await update.effective_chat.send_message(text or "ok", reply_markup=again)

    async def pressed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer()
        await update.effective_chat.send_message(update.callback_query.data or "ok",
                                                 reply_markup=again)

    application = (ApplicationBuilder().token("123456:ECHO").base_url(base_url)
                   .concurrent_updates(256).build())
    application.add_handler(MessageHandler(filters.ALL, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    return application


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


@dataclass
class Run:
    who: str
    mentors: int
    updates: int
    lost: int
    seconds: float
    p50: float
    p95: float
    p99: float
    rejected_429: int = 0
    calls: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


async def serve(who: str, base_url: str, database_url: str, data_key: str) -> None:
    """The bot's own process: the bot (or the echo bot) polls the bench's server until killed."""
    if who == "echo":
        application = echo_application(base_url)
    else:
        settings = Settings(_env_file=None, database_url=database_url,
                            telegram_token="123456:BENCH", data_key=data_key,
                            reminders_enabled=False, broadcasts_enabled=False, health_port=0)
        application = build_application(settings, base_url=base_url)
    await start_application(application, poll_timeout=10)
    counts = Counts(application, who)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    counts.report()
    await stop_application(application)


class Counts:
    """What a bot process spent per update: database work (counted by SQLAlchemy's events,
    so the same on a busy machine) and CPU time (this process, all its threads)."""

    def __init__(self, application: Application, who: str) -> None:
        self.who = who
        self.updates = self.checkouts = self.transactions = self.commits = self.statements = 0
        self.cpu = self._cpu()

        def count(name: str) -> Callable[..., None]:
            def listener(*_args: object, **_kwargs: object) -> None:
                setattr(self, name, getattr(self, name) + 1)
            return listener

        def begun(_session: object, transaction: SessionTransaction) -> None:
            if transaction.parent is None:  # a session's own transaction, not a savepoint
                self.transactions += 1

        if who == "bot":
            engine = application.bot_data.engine.sync_engine
            event.listen(engine, "checkout", count("checkouts"))
            event.listen(engine, "commit", count("commits"))
            event.listen(engine, "before_cursor_execute", count("statements"))
            event.listen(Session, "after_transaction_create", begun)

        async def handled(_update: object, _context: object) -> None:
            self.updates += 1

        application.add_handler(TypeHandler(object, handled), group=-99)

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def report(self) -> None:
        n = max(self.updates, 1)
        database = (f", {self.checkouts / n:.2f} connection checkouts, "
                    f"{self.transactions / n:.2f} transactions, {self.commits / n:.2f} commits, "
                    f"{self.statements / n:.2f} statements") if self.who == "bot" else ""
        print(f"{self.who:>4} process: {self.updates} updates; per update "
              f"{(self._cpu() - self.cpu) * 1000 / n:.1f} ms CPU{database}", flush=True)


async def drive(server: LocalBotApi, screens: Screens, who: str, ids: list[int], *,
                think: float, seed: int, database_url: str, data_key: str) -> Run:
    # The bot runs in a process of its own, as in production where Telegram is elsewhere: the
    # server and the simulated mentors here do not take the bot's CPU.
    calls_before = server.calls["getUpdates"]
    process = subprocess.Popen(  # noqa: ASYNC220 - started once per run, before any timing
        [sys.executable, __file__, "--serve", who, "--url", server.base_url,
         "--database-url", database_url],
        env={**os.environ, "PENDAMPING_BENCH_KEY": data_key,
             "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    try:
        while server.calls["getUpdates"] <= calls_before:  # polling: the bot is ready
            if process.poll() is not None:
                raise SystemExit(f"the {who} process ended with {process.returncode}")
            await asyncio.sleep(0.1)
        result = Result()
        calls = collections.Counter(server.calls)
        rng = random.Random(seed)
        seeds = [rng.random() for _ in ids]
        for user_id in ids:
            screens.chats.pop(user_id, None)
        await asyncio.gather(*(mentor(server, screens, user_id, echo=who == "echo",
                                      think=think, rng=random.Random(s), result=result)
                               for user_id, s in zip(ids, seeds, strict=True)))
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 60)
    seconds = result.last_answer - result.first_offer
    lat = result.latencies
    calls = collections.Counter(server.calls) - calls
    return Run(who, len(ids), len(lat), result.lost, seconds, percentile(lat, 0.50),
               percentile(lat, 0.95), percentile(lat, 0.99), calls=calls)


async def run(args: argparse.Namespace) -> list[tuple[Run, Run]]:
    directory = Path(tempfile.mkdtemp(prefix="bench-updates-"))
    total = sum(args.mentors)
    url = args.database_url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    began = time.perf_counter()
    await prepare(url, total)  # fresh mentors for every run: each logs one visit
    print(f"prepared {total} mentors with a group each in "
          f"{time.perf_counter() - began:.1f} s ({url.split(':', 1)[0]})", flush=True)
    data_key = new_key()
    server = LocalBotApi()
    await server.start()
    screens = Screens(server)
    pairs = []
    offset = 0
    try:
        for count in args.mentors:
            ids = list(range(FIRST_ID + offset, FIRST_ID + offset + count))
            offset += count
            echo = await drive(server, screens, "echo", ids, think=args.think, seed=count,
                               database_url=url, data_key=data_key)
            report(echo)
            bot = await drive(server, screens, "bot", ids, think=args.think, seed=count,
                              database_url=url, data_key=data_key)
            report(bot)
            pairs.append((echo, bot))
    finally:
        await server.stop()
    return pairs


def report(run: Run) -> None:
    print(f"{run.who:>4} {run.mentors:>5} mentors: {run.updates} updates in {run.seconds:.1f} s "
          f"= {run.per_second:.1f}/s; p50 {run.p50 * 1000:.0f} ms, p95 {run.p95 * 1000:.0f} ms, "
          f"p99 {run.p99 * 1000:.0f} ms; lost {run.lost}", flush=True)
    per_update = ", ".join(f"{method} {count / max(run.updates, 1):.2f}"
                           for method, count in run.calls.most_common())
    print(f"{run.who:>4} Bot API calls per update: {per_update}", flush=True)


def table(pairs: list[tuple[Run, Run]], think: float) -> None:
    print()
    print(f"{'target':<44} {'figure':>22} {'ratio':>7}  verdict")
    for echo, bot in pairs:
        ratio = bot.per_second / echo.per_second if echo.per_second else 0.0
        verdict = "met" if ratio >= 0.5 else f"MISSED by {(0.5 - ratio) / 0.5:.0%}"
        print(f"{f'throughput >= 0.5 x echo ({bot.mentors} mentors)':<44} "
              f"{f'{bot.per_second:.1f} vs {echo.per_second:.1f}/s':>22} {ratio:>7.2f}  {verdict}")
    for echo, bot in pairs:
        if bot.mentors == 100:
            ratio = bot.p95 / 0.100
            verdict = "met" if bot.p95 < 0.100 else f"MISSED by {bot.p95 * 1000 - 100:.0f} ms"
            print(f"{'p95 answer < 100 ms (100 mentors)':<44} "
                  f"{f'{bot.p95 * 1000:.0f} ms (echo {echo.p95 * 1000:.0f})':>22} "
                  f"{ratio:>7.2f}  {verdict}")
    lost = sum(b.lost + e.lost for e, b in pairs)
    print(f"{'no answer lost':<44} {lost:>22} {'':>7}  {'met' if not lost else 'MISSED'}")
    print(f"\nthink time {think * 0.5:.1f}-{think * 1.5:.1f} s per step; "
          f"{len(VISIT)} updates per mentor; {platform.node()}, {platform.processor() or '?'}, "
          f"{os.cpu_count()} cores, python {platform.python_version()}, {date.today()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentors", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds a mentor takes per step (0: none)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--serve", choices=["bot", "echo"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        work = serve(args.serve, args.url, args.database_url, os.environ["PENDAMPING_BENCH_KEY"])
        profile_to = os.environ.get("PENDAMPING_BENCH_PROFILE")
        if profile_to and args.serve == "bot":  # where the bot's time goes (pstats file)
            import cProfile
            cProfile.runctx("asyncio.run(work)", globals(), {"work": work}, profile_to)
        else:
            asyncio.run(work)
        return
    pairs = asyncio.run(run(args))
    table(pairs, args.think)


if __name__ == "__main__":
    main()
