"""How many updates a second the bot handles per conversation, and how fast it answers, against a
bare python-telegram-bot echo bot answering the same steps in the same run.

Workloads (``--workloads``, all five by default), each with its own ``--users`` simulated people
who all start at once:

- ``signup``: strangers (not registered yet) go through the whole /start conversation: name,
  shared contact, unsur, a typed work area, the area button;
- ``group``: approved mentors register a KUBE group (/tambah_kelompok, 7 households);
- ``visit``: mentors with a group log a visit (/kunjungan with figures and a location);
- ``grant``: mentors with a group record a grant that must be rolled over (/hibah);
- ``rollover``: mentors with such a grant record a roll-over to a household (/gulir).

Each person waits for the bot's answer before the next step, thinking ``--think`` seconds on
average (0: none). Buttons are pressed by their labels (exact, else a unique start, else a unique
part), so small changes of the flows do not break the bench; what each conversation saved is
counted in the database afterwards, so a conversation that went astray shows.

Latency is the time from an update being offered (queued on the server for the bot's long poll)
to the answer the person waits for (the message with the button pressed next; else the bot's
next new message), taken when the server receives it. The bot and the echo bot each run in a
process of their own (as in production, where Telegram is another machine): the server and the
simulated people in this process do not take their CPU. The bot serves on the loop `pendamping
run` serves on (uvloop where installed, PENDAMPING_EVENT_LOOP; bot.lifecycle), the echo bot, a
bare python-telegram-bot bot, on asyncio's. Each bot process reports its CPU per update and its
longest single hold of the event loop, with what held it longest: on asyncio's loop every
callback is timed; uvloop runs its callbacks in C, so there every step of every task is timed
(updates are handled in tasks; the transports' own short callbacks are not counted).

Run: .venv/bin/python bench/updates.py [--workloads signup group visit grant rollover]
     [--users 100] [--think 0] [--database-url URL]

To find what is slow: PENDAMPING_BENCH_STEPS=1 prints the loop's CPU per update for each step
(and, on SQLite, how long writers held and waited for their turn, models.sqlite_trips);
PENDAMPING_BENCH_TIMELINE=1 the answers second by second; PENDAMPING_BENCH_SQL=1 the statements
per update and those compiled while serving; PENDAMPING_BENCH_PROFILE=FILE a cProfile of the bot
process.

This process stands in for Telegram and the people: what it imported and prepared is frozen
out of its garbage collector before each run (a full pass over it paused the server up to
109 ms), and each run prints this process's collector passes, so a pause here shows.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import collections.abc
import gc
import json
import os
import platform
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Self

os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import event, func, insert, select
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
from bot.lifecycle import run_on_loop
from bot.localapi import LocalBotApi, SentMessage, start_application, stop_application

try:
    from bot.startup import warm_up
except ImportError:  # code from before the warm-up (the bench runs against older commits too)
    warm_up = None
from models import grants as grant_queries
from models import groups as group_queries
from models.areas import load_areas
from models.crypto import new_key
from models.db import create_engine, create_sessionmaker, upgrade
from models.tables import Grant, Group, Mentor, Rollover, Visit, utcnow

# Which step an update is (its text or button data, shortened), for PENDAMPING_BENCH_STEPS=1: the
# event loop's callbacks run in their task's context, so each one's CPU is added to its step.
STEP: ContextVar[str] = ContextVar("bench_step", default="(other)")
FIRST_ID = 3_000_000
DISTRICT = "32.02.11"  # Kec. Cibadak, Kab. Sukabumi
VILLAGE = "32.02.11.2002"  # Desa Sekarwangi
TIMEOUT = float(os.environ.get("PENDAMPING_BENCH_TIMEOUT", "300"))  # one answer; then lost
MEMBER_LINES = ("Siti Aminah; miskin; ketua\nBudi Santoso; fakir miskin; sekretaris\n"
                "Rina Wati; hampir miskin; bendahara\nJoko Susilo; miskin; anggota\n"
                "Dewi Lestari; miskin; anggota\nAgus Salim; fakir miskin; anggota\n"
                "Nur Hayati; miskin; anggota")


# --- the conversations -----------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """What a person does: types ``what`` (text), presses the button labelled ``what``
    (press), shares their contact or a location. ``until`` (a part of the answer's text)
    overrides the answer waited for."""

    kind: str
    what: object
    until: str | None = None

    @property
    def name(self) -> str:
        shown = str(self.what).split("\n", 1)[0][:22]
        return f"{self.kind} {shown}" if self.kind != "text" else shown


def text(what: str, until: str | None = None) -> Step:
    return Step("text", what, until)


def press(label: str, until: str | None = None) -> Step:
    return Step("press", label, until)


CONVERSATIONS: dict[str, list[Step]] = {
    "signup": [
        text("/start"), text("Siti Rahmawati"), Step("contact", None), press("PSM"),
        text("cibadak"), press("Kec. Cibadak, Kab. Sukabumi"),
    ],
    "group": [
        text("/tambah_kelompok"), text("KUBE Mawar Sejahtera"), text("sekarwangi"),
        press("Desa Sekarwangi"), press("Ternak"), press("Kedekatan"), press("Selesai"),
        text("12/03/2026"), press("Tumbuh"), text(MEMBER_LINES), press("Simpan"),
    ],
    "visit": [
        text("/kunjungan"), press("KUBE Bench"), text("kemarin"), text("6"),
        press("Pemantauan usaha"), press("Selesai"), press("Ya"), text("1,5 jt"),
        text("300rb"), text("2 jt"), text("50rb"), press("Lewati"),
        text("Harga pakan naik, 2 anggota jarang hadir"),
        text("Bantu cari pemasok pakan yang lebih murah"),
        Step("location", (-6.8937, 106.7846)), press("Selesai"), press("Pakai"),
        press("Simpan"),
    ],
    "grant": [
        text("/hibah"), press("KUBE Bench"), press("Bantuan UEP Kemensos"), press("Tunai"),
        text("20 jt"), press("Hari ini"), press("Ya"), text("10jt"), press("Lewati"),
        text("-"), press("Pakai"), press("Simpan"),
    ],
    "rollover": [
        text("/gulir"), press("KUBE Bench"), press("Hari ini"), press("KK"),
        text("Sari Wulandari"), press("Lewati"), text("2 jt"), press("Lewati"), press("Simpan"),
    ],
}
# What each conversation leaves in the database, one per person (counted after the bot's run).
SAVED = {"signup": Mentor, "group": Group, "visit": Visit, "grant": Grant, "rollover": Rollover}


def first_id(workload: str) -> int:
    return FIRST_ID + 100_000 * list(CONVERSATIONS).index(workload)


# --- data ------------------------------------------------------------------------------------

async def prepare(url: str, workloads: list[str], users: int) -> None:
    """The official areas, and the mentors each workload starts from (approved; with a group of
    7 households for a visit or a grant; with a grant to roll over for a roll-over)."""
    await upgrade(url)
    engine = create_engine(url)
    today = clock.today_for(VILLAGE)
    members = [{"name": f"Anggota {i + 1}", "welfare_category": "miskin",
                "role": ("ketua", "sekretaris", "bendahara")[i] if i < 3 else "anggota"}
               for i in range(7)]
    async with create_sessionmaker(engine)() as session:
        await load_areas(session=session)
        for workload in workloads:
            if workload == "signup":
                continue  # strangers
            first = first_id(workload)
            await session.execute(insert(Mentor), [
                {"telegram_id": first + i, "name": f"Pendamping {i}", "area_code": DISTRICT,
                 "role": "mentor", "status": "active", "language": "id",
                 "created_at": utcnow()} for i in range(users)])
            await session.commit()
            if workload == "group":
                continue
            for i in range(users):
                mentor = (await session.execute(
                    select(Mentor).where(Mentor.telegram_id == first + i))).scalar_one()
                group, _ = await group_queries.create_group(
                    session=session, mentor=mentor, name=f"KUBE Bench {i}",
                    village_code=VILLAGE, business_type="ternak", binding_ties=["kedekatan"],
                    formed_on=today - timedelta(days=200), stage="tumbuh",
                    visit_interval_days=30, next_visit_due=today + timedelta(days=10),
                    members=members, today=today - timedelta(days=200))
                if workload == "rollover":
                    received = today - timedelta(days=100)
                    await grant_queries.create_grant(
                        session=session, group=group, mentor=mentor, today=today, fields={
                            "kind": "uep", "funding_source": "apbn", "form": "tunai",
                            "amount": 20_000_000, "received_on": received,
                            "rollover_required": True, "rollover_amount": 10_000_000,
                            "rollover_due": received + timedelta(days=365),
                            "lpj_due": received + timedelta(days=90)})
                    await session.commit()
    await engine.dispose()


async def saved(url: str, workload: str, users: int) -> int:
    """How many of the workload's records the bot saved (one per person when all went well)."""
    engine = create_engine(url)
    first = first_id(workload)
    model = SAVED[workload]
    async with create_sessionmaker(engine)() as session:
        mentors = select(Mentor.id).where(Mentor.telegram_id.between(first, first + users - 1))
        if model is Mentor:
            query = select(func.count()).select_from(Mentor).where(
                Mentor.telegram_id.between(first, first + users - 1))
        elif model in (Group, Grant, Rollover):
            by = {Group: Group.mentor_id, Grant: Grant.recorded_by, Rollover: Rollover.recorded_by}
            query = select(func.count()).select_from(model).where(by[model].in_(mentors))
            if model is Group:  # the groups registered here, not the ones prepared
                query = query.where(Group.name == "KUBE Mawar Sejahtera")
            if model is Grant:
                query = query.where(Grant.source_update_id.is_not(None))
        else:
            query = select(func.count()).select_from(Visit).where(Visit.mentor_id.in_(mentors))
        count = (await session.execute(query)).scalar_one()
    await engine.dispose()
    return int(count)


# --- what the people see ---------------------------------------------------------------------

@dataclass(frozen=True)
class Seen:
    """One message the bot sent or edited, as it was at that moment."""

    at: float
    message_id: int
    text: str
    buttons: tuple[tuple[str, str], ...]  # (label, callback data), inline
    keys: tuple[str, ...]  # reply keyboard labels
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
        buttons = tuple((str(b.get("text", "")), str(b.get("callback_data", "")))
                        for b in message.inline_buttons if "callback_data" in b)
        keyboard = (message.reply_markup or {}).get("keyboard") or []
        keys = tuple(str(k.get("text", "")) if isinstance(k, dict) else str(k)
                     for row in keyboard for k in row)
        chat.seen.append(Seen(time.perf_counter(), message.message_id, message.content or "",
                              buttons, keys, bool(message.edits)))
        chat.changed.set()


def find(buttons: tuple[tuple[str, str], ...], label: str) -> str | None:
    """The callback data of the button labelled ``label``: exact, else the one starting with
    it, else the one containing it (case-insensitive); None when none or several."""
    wanted = label.casefold()
    for test in (lambda t: t == wanted, lambda t: t.startswith(wanted),
                 lambda t: wanted in t):
        found = [data for text, data in buttons if test(text.casefold())]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            return None
    return None


Expect = Callable[[Seen], bool]


def expectation(steps: list[Step], index: int) -> Expect:
    """The answer step ``index`` waits for: the message with the next step's button, else the
    next question (the last step: any new message), or the text ``until`` asks for."""
    step = steps[index]
    if step.until is not None:
        until = step.until.casefold()
        return lambda seen: until in seen.text.casefold()
    following = steps[index + 1] if index + 1 < len(steps) else None
    if following is not None and following.kind == "press":
        label = str(following.what)
        return lambda seen: find(seen.buttons, label) is not None
    if following is None:
        return lambda seen: not seen.edit
    return asks


def asks(seen: Seen) -> bool:
    """A new message, not the line that confirms the answer just given ("✓ Rp 2.000.000")
    which comes before the next question: on its own (older commits) or on top of it, as its
    first paragraph ("✓ Rp 2.000.000\n\nBerapa ...", bot.telegram.confirmations)."""
    return not seen.edit and not seen.text.rsplit("\n\n", 1)[-1].startswith("✓")


def any_new(seen: Seen) -> bool:
    return not seen.edit


@dataclass
class Result:
    latencies: dict[int, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    lost: int = 0
    lost_at: collections.Counter[str] = field(default_factory=collections.Counter)
    first_offer: float = float("inf")
    last_answer: float = 0.0
    stuck: str = ""  # what the first lost person saw last
    # (when offered, step, latency) of every answer, for PENDAMPING_BENCH_TIMELINE
    timeline: list[tuple[float, int, float]] = field(default_factory=list)

    @property
    def all(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]


async def person(server: LocalBotApi, screens: Screens, steps: list[Step], user_id: int, *,
                 echo: bool, think: float, rng: random.Random, result: Result) -> None:
    chat = screens.chat(user_id)
    server.user(user_id, first_name="Siti")
    last: Seen | None = None
    for index, step in enumerate(steps):
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
        position = len(chat.seen)
        offered = time.perf_counter()
        if step.kind == "text":
            server.send_text(user_id, str(step.what))
        elif step.kind == "contact":
            server.share_contact(user_id, f"+62812{10_000_000 + user_id % 10_000_000}")
        elif step.kind == "location":
            server.share_location(user_id, *step.what)  # type: ignore[misc]
        else:
            assert last is not None
            data = "echo" if echo else find(last.buttons, str(step.what))
            if data is None:  # a reply-keyboard button is typed text
                data = str(step.what) if str(step.what) in last.keys else None
                if data is None:
                    result.lost += 1
                    result.lost_at[step.name] += 1
                    result.stuck = result.stuck or (
                        f"no button {step.what!r}: {last.text[:200]!r} "
                        f"{[label for label, _ in last.buttons]}")
                    return
                server.send_text(user_id, data)
            else:
                server.press_button(user_id, last.message_id, data, strict=not echo)
        wanted = any_new if echo else expectation(steps, index)
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
                result.lost_at[step.name] += 1
                tail = chat.seen[-1] if chat.seen else None
                result.stuck = result.stuck or (
                    f"after {step.name!r} no answer; last seen: "
                    f"{(tail.text[:200] if tail else '')!r} "
                    f"{[label for label, _ in tail.buttons] if tail else []}")
                if os.environ.get("PENDAMPING_BENCH_TRACE"):
                    print("\n".join(f"{s.edit and 'edit' or 'new '} {s.text[:90]!r} "
                                     f"{[b for b, _ in s.buttons]}" for s in chat.seen))
                return
            try:
                await asyncio.wait_for(chat.changed.wait(), remaining)
            except TimeoutError:
                pass
        result.latencies[index].append(answer.at - offered)
        result.timeline.append((offered, index, answer.at - offered))
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
    workload: str
    users: int
    result: Result
    seconds: float
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    process: dict = field(default_factory=dict)  # what the bot process reported
    saved: int | None = None
    pauses: ServerPauses | None = None  # this process's, while the people answered

    @property
    def updates(self) -> int:
        return len(self.result.all)

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


class ServerPauses:
    """The garbage collector's passes in this process (the server and the people) while they
    run: how many, and the longest, per generation. A long one delays every update offered and
    every answer received, whichever bot is measured."""

    def __init__(self) -> None:
        self.passes = [[0, 0.0] for _ in range(3)]
        self._began = 0.0

    def _seen(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        passes = self.passes[info["generation"]]
        passes[0] += 1
        passes[1] = max(passes[1], time.perf_counter() - self._began)

    def __enter__(self) -> Self:
        gc.callbacks.append(self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._seen)

    def __str__(self) -> str:
        return "; ".join(f"{generation}: {count}, longest {longest * 1000:.1f} ms"
                         for generation, (count, longest) in enumerate(self.passes))


class _TimedSteps(collections.abc.Coroutine):
    """A task's coroutine, each step (send or throw) timed by ``holds`` (LoopHolds). Inline
    rather than through closures: this runs at every step of every task of the measured bot,
    whose CPU per update it would otherwise add to (7-8% of the bot's samples in py-spy)."""

    def __init__(self, coro: Any, holds: LoopHolds) -> None:
        self.coro, self.holds = coro, holds
        self.__qualname__ = getattr(coro, "__qualname__", type(coro).__qualname__)

    def send(self, value: object) -> object:
        holds = self.holds
        holds.started = time.perf_counter()
        holds.sampled = None
        began = time.thread_time()
        try:
            return self.coro.send(value)
        finally:
            holds.finished(time.thread_time() - began, STEP.get, self.coro)

    def throw(self, *error: object) -> object:
        holds = self.holds
        holds.started = time.perf_counter()
        holds.sampled = None
        began = time.thread_time()
        try:
            return self.coro.throw(*error)
        finally:
            holds.finished(time.thread_time() - began, STEP.get, self.coro)

    def close(self) -> None:
        self.coro.close()

    def __await__(self) -> Any:
        return self

    def __next__(self) -> object:
        return self.send(None)


class LoopHolds:
    """Times every callback the event loop runs (asyncio's Handle._run, in CPU time): the longest
    single hold of the loop, and how many held it beyond 20 ms, with the longest holders (where a
    sampler found the loop thread 15 ms into it, else where the task stopped after it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.longest: list[tuple[float, str]] = []  # the 5 longest, longest first
        self.over_20ms = 0
        self.by_step = bool(os.environ.get("PENDAMPING_BENCH_STEPS"))
        self.steps: collections.Counter[str] = collections.Counter()
        self.step_updates: collections.Counter[str] = collections.Counter()
        self._original = asyncio.events.Handle._run
        holds = self
        original = self._original

        self.started = 0.0
        self.sampled: str | None = None  # where the current callback was, once past 15 ms
        main = threading.get_ident()

        def watch() -> None:  # a sampler: where the loop is when a callback holds it long
            while True:
                time.sleep(0.005)
                started = holds.started
                if started and holds.sampled is None and time.perf_counter() - started > 0.015:
                    frame = sys._current_frames().get(main)
                    where = []
                    while frame is not None:
                        name = frame.f_code.co_filename
                        if "/site-packages/" not in name and "/lib/python3" not in name:
                            where.append(f"{'/'.join(name.rsplit('/', 2)[-2:])}"
                                         f":{frame.f_lineno} {frame.f_code.co_name}")
                        frame = frame.f_back
                    innermost = sys._current_frames().get(main)
                    library = (f"{innermost.f_code.co_filename.rsplit('site-packages/', 1)[-1]}"
                               f":{innermost.f_code.co_name}") if innermost else ""
                    holds.sampled = " < ".join(where[:3]) + f" [in {library}]"

        threading.Thread(target=watch, daemon=True).start()

        def timed(handle: asyncio.events.Handle) -> None:
            holds.started = time.perf_counter()
            holds.sampled = None
            began = time.thread_time()
            try:
                original(handle)
            finally:
                holds.finished(time.thread_time() - began,
                               lambda: handle._context.get(STEP),  # type: ignore[attr-defined]
                               handle)

        if isinstance(loop, asyncio.BaseEventLoop):
            self.covers = "every callback"
            asyncio.events.Handle._run = timed  # type: ignore[method-assign]
            return
        # uvloop (the bot's production loop, bot.lifecycle) runs its callbacks in C, out of
        # reach: every step of every task is timed instead. Updates are handled in tasks, so each
        # update's holds are all counted; the transports' own short callbacks are not.
        self.covers = "every task step"

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task:
            return asyncio.Task(_TimedSteps(coro, holds), loop=loop, **kwargs)

        loop.set_task_factory(factory)

    def finished(self, spent: float, step: Callable[[], str], what: Any) -> None:
        """Counts one callback or task step that held the loop ``spent`` seconds of CPU (this
        thread's CPU time, not the clock: on a busy machine the process is also paused by
        others, which holds nobody up that the bot could spare). ``what``: the handle, or the
        task's coroutine, named only when the hold is among the longest."""
        self.started = 0.0
        if self.by_step:  # off unless asked: this is work on every callback
            self.steps[step()] += spent
        if spent > 0.020:
            self.over_20ms += 1
        longest = self.longest
        if len(longest) < 5 or spent > longest[-1][0]:
            name = (self.name(what) if isinstance(what, asyncio.events.Handle)
                    else self.stopped_at(what))
            longest.append((spent, self.sampled or name))
            longest.sort(reverse=True)
            del longest[5:]

    @staticmethod
    def name(handle: asyncio.events.Handle) -> str:
        callback = handle._callback  # type: ignore[attr-defined]
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, asyncio.Task):
            return LoopHolds.stopped_at(owner.get_coro())
        return getattr(callback, "__qualname__", repr(callback))[:80]

    @staticmethod
    def stopped_at(coro: Any) -> str:
        """Where a task stopped after a hold: its innermost awaiting coroutines."""
        coro, path = getattr(coro, "coro", coro), []
        while coro is not None and hasattr(coro, "cr_frame"):
            frame = coro.cr_frame
            if frame is not None:
                path.append(f"{frame.f_code.co_qualname}:{frame.f_lineno}")
            coro = coro.cr_await
        return "task " + " > ".join(path[-3:])

    def reset(self) -> None:
        self.longest, self.over_20ms = [], 0
        self.steps.clear()
        self.step_updates.clear()


async def serve(who: str, base_url: str, database_url: str, data_key: str) -> None:
    """The bot's own process: the bot (or the echo bot) polls the bench's server until killed;
    SIGUSR1 starts a measurement, SIGUSR2 prints it (one JSON line)."""
    if who == "echo":
        application = echo_application(base_url)
    else:
        settings = Settings(_env_file=None, database_url=database_url,
                            telegram_token="123456:BENCH", data_key=data_key,
                            reminders_enabled=False, broadcasts_enabled=False, health_port=0)
        application = build_application(settings, base_url=base_url)
        if warm_up is not None:  # as `pendamping run` does before it serves
            await asyncio.to_thread(warm_up)
    await start_application(application, poll_timeout=10)
    counts = Counts(application, who)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, counts.reset)
    loop.add_signal_handler(signal.SIGUSR2, counts.report)
    await stop.wait()
    await stop_application(application)


class Counts:
    """What a bot process spent per update: database work (counted by SQLAlchemy's events,
    so the same on a busy machine), CPU time (this process, all its threads) and loop holds."""

    def __init__(self, application: Application, who: str) -> None:
        self.who = who
        self.application = application
        self.holds = LoopHolds(asyncio.get_running_loop())
        self.reset()
        gc.callbacks.append(self._collected)

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
            if os.environ.get("PENDAMPING_BENCH_SQL"):  # which statements, how often
                def kind(_conn, _cursor, statement, *_args: object) -> None:
                    self.kinds[" ".join(statement.split())[:90]] += 1
                event.listen(engine, "before_cursor_execute", kind)
                event.listen(engine, "commit", lambda *_a: self.kinds.update(["COMMIT"]))
                event.listen(engine, "rollback", lambda *_a: self.kinds.update(["ROLLBACK"]))
                event.listen(engine, "checkout", lambda *_a: self.kinds.update(["CHECKOUT"]))
                self._time_compiles()
            event.listen(Session, "after_transaction_create", begun)

        async def handled(update: object, _context: object) -> None:
            self.updates += 1
            if self.holds.by_step and isinstance(update, Update):
                if update.callback_query:  # without its ids: one line per kind of button
                    step = "press " + re.sub(r":\d+", ":N", update.callback_query.data or "")[:24]
                else:
                    message = update.effective_message
                    step = (message.text or "(contact/location)")[:20] if message else "?"
                STEP.set(step)
                self.holds.step_updates[step] += 1

        application.add_handler(TypeHandler(object, handled), group=-99)

    def _time_compiles(self) -> None:
        """Counts statements compiled while serving (the statement cache missed), with their CPU
        time: each runs on the event loop, so a slow first compile is a hold every user feels."""
        from sqlalchemy.sql.elements import ClauseElement

        compiler = ClauseElement._compiler
        counts = self

        def timed(element: ClauseElement, *args: Any, **kwargs: Any) -> Any:
            began = time.thread_time()
            try:
                return compiler(element, *args, **kwargs)
            finally:
                spent = (time.thread_time() - began) * 1000
                counts.compiles.append((spent, " ".join(str(element).split())[:90]
                                        if spent > 2 else type(element).__name__))

        ClauseElement._compiler = timed  # type: ignore[method-assign]

    def reset(self) -> None:
        self.compiles: list[tuple[float, str]] = []
        self.updates = self.checkouts = self.transactions = self.commits = self.statements = 0
        self.kinds: collections.Counter[str] = collections.Counter()
        self.cpu = self._cpu()
        self.holds.reset()
        # The garbage collector's passes per generation: how many, their time, the longest.
        self.collections = [[0, 0.0, 0.0] for _ in range(3)]
        self._collecting = 0.0

    def _collected(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._collecting = time.thread_time()
            return
        spent = time.thread_time() - self._collecting
        passes = self.collections[info["generation"]]
        passes[0] += 1
        passes[1] += spent
        passes[2] = max(passes[2], spent)

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    @staticmethod
    def _rss() -> int:
        try:
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * resource.getpagesize()
        except OSError:  # not Linux
            return 0

    def report(self) -> None:
        n = max(self.updates, 1)
        print("BENCH " + json.dumps({
            "updates": self.updates, "cpu_ms": (self._cpu() - self.cpu) * 1000 / n,
            "checkouts": self.checkouts / n, "transactions": self.transactions / n,
            "commits": self.commits / n, "statements": self.statements / n,
            "longest_ms": [(round(s * 1000, 1), name) for s, name in self.holds.longest],
            "over_20ms": self.holds.over_20ms, "timed": self.holds.covers,
            "loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
            "gc": [(count, round(total * 1000), round(longest * 1000, 1))
                   for count, total, longest in self.collections],
            "gc_objects": [len(gc.get_objects(generation)) for generation in range(3)]
            + [gc.get_freeze_count()],
            # Resident memory now and at its peak (MB): what the collector lets grow.
            "rss_mb": [round(self._rss() / 2**20), round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)]}), flush=True)
        if self.holds.by_step:  # the loop's CPU per update, per step
            holds = self.holds
            for step, spent in sorted(holds.steps.items(), key=lambda item: -item[1]):
                count = holds.step_updates.get(step, 0)
                each = f"{spent * 1000 / count:6.2f} ms each" if count else " " * 14
                print(f"STEP {spent * 1000:8.0f} ms {count:5d} updates {each}  {step!r}",
                      file=sys.stderr, flush=True)
        gate = getattr(getattr(self.application.bot_data.engine.sync_engine.dialect, "dbapi", None),
                       "gate", None) if self.who == "bot" else None
        if self.holds.by_step and gate is not None and gate.turns:
            print(f"GATE {gate.turns} writing transactions, held {gate.held * 1000 / gate.turns:.1f} "
                  f"ms each (longest {gate.longest * 1000:.0f} ms, {gate.held:.1f} s in all), "
                  f"waited {gate.waited * 1000 / gate.turns:.1f} ms each", file=sys.stderr)
        if self.kinds:
            cache = self.application.bot_data.engine.sync_engine._compiled_cache
            print(f"SQL compiled cache: {len(cache)} of {cache.capacity}", file=sys.stderr)
            spent = sum(ms for ms, _ in self.compiles)
            print(f"SQL compiled while serving: {len(self.compiles)}, {spent:.0f} ms in all",
                  file=sys.stderr)
            for ms, statement in sorted(self.compiles, reverse=True)[:8]:
                print(f"SQL compile {ms:5.1f} ms {statement}", file=sys.stderr)
        for statement, count in self.kinds.most_common():
            print(f"SQL {count / n:6.3f} {statement}", file=sys.stderr, flush=True)


async def drive(server: LocalBotApi, screens: Screens, who: str, workload: str, users: int, *,
                think: float, seed: int, database_url: str, data_key: str) -> Run:
    # The bot runs in a process of its own, as in production where Telegram is elsewhere: the
    # server and the simulated people here do not take the bot's CPU.
    calls_before = server.calls["getUpdates"]
    process = subprocess.Popen(  # noqa: ASYNC220 - started once per run, before any timing
        [sys.executable, __file__, "--serve", who, "--url", server.base_url,
         "--database-url", database_url], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PENDAMPING_BENCH_KEY": data_key,
             "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    steps = CONVERSATIONS[workload]
    first = first_id(workload)
    ids = list(range(first, first + users))
    try:
        while server.calls["getUpdates"] <= calls_before:  # polling: the bot is ready
            if process.poll() is not None:
                raise SystemExit(f"the {who} process ended with {process.returncode}")
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)
        process.send_signal(signal.SIGUSR1)  # start counting now, not during the start
        await asyncio.sleep(0.2)
        result = Result()
        calls = collections.Counter(server.calls)
        rng = random.Random(seed)
        seeds = [rng.random() for _ in ids]
        for user_id in ids:
            screens.chats.pop(user_id, None)
        # This process stands in for Telegram: its own pauses must not count as the bot's. A
        # full collection here walked the quarter of a million objects imported and prepared
        # (up to 109 ms, seven times in a roll-over run), holding up the server and the
        # people alike; frozen, they are left out of it.
        gc.collect()
        gc.freeze()
        with ServerPauses() as pauses:
            await asyncio.gather(*(person(server, screens, steps, user_id, echo=who == "echo",
                                          think=think, rng=random.Random(s), result=result)
                                   for user_id, s in zip(ids, seeds, strict=True)))
        calls = collections.Counter(server.calls) - calls
        process.send_signal(signal.SIGUSR2)
    finally:
        await asyncio.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.to_thread(process.communicate, None, 60)
    report = next((json.loads(line[6:]) for line in out.splitlines()
                   if line.startswith("BENCH ")), {})
    seconds = result.last_answer - result.first_offer
    return Run(who, workload, users, result, seconds, calls, report, pauses=pauses)


async def run(args: argparse.Namespace) -> list[tuple[Run, Run]]:
    directory = Path(tempfile.mkdtemp(prefix="bench-updates-"))
    url = args.database_url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    began = time.perf_counter()
    await prepare(url, args.workloads, args.users)
    print(f"prepared {args.users} people for each of {', '.join(args.workloads)} in "
          f"{time.perf_counter() - began:.1f} s ({url.split(':', 1)[0]})", flush=True)
    data_key = new_key()
    server = LocalBotApi()
    await server.start()
    screens = Screens(server)
    pairs = []
    try:
        for workload in args.workloads:
            runs = {}
            for who in ("echo", "bot"):
                runs[who] = await drive(server, screens, who, workload, args.users,
                                        think=args.think, seed=args.users,
                                        database_url=url, data_key=data_key)
            runs["bot"].saved = await saved(url, workload, args.users)
            report(runs["echo"], runs["bot"])
            pairs.append((runs["echo"], runs["bot"]))
    finally:
        await server.stop()
    return pairs


def ms(value: float) -> str:
    return f"{value * 1000:.0f}"


def report(echo: Run, bot: Run) -> None:
    steps = CONVERSATIONS[bot.workload]
    ratio = bot.per_second / echo.per_second if echo.per_second else 0.0
    print(f"\n== {bot.workload}: {bot.users} people, {len(steps)} steps each", flush=True)
    for run in (echo, bot):
        p = run.process
        longest = p.get("longest_ms") or [[float("nan"), "?"]]
        database = (f", {p.get('transactions', 0):.2f} transactions, "
                    f"{p.get('commits', 0):.2f} commits, {p.get('statements', 0):.2f} statements"
                    if run.who == "bot" else "")
        print(f"{run.who:>4}: {run.updates} answers in {run.seconds:.1f} s = "
              f"{run.per_second:.1f}/s; p50 {ms(percentile(run.result.all, 0.5))} ms, "
              f"p95 {ms(percentile(run.result.all, 0.95))} ms; lost {run.result.lost}; "
              f"{p.get('cpu_ms', float('nan')):.1f} ms CPU per update{database}; "
              f"longest loop hold {longest[0][0]} ms ({p.get('over_20ms', '?')} over 20 ms); "
              f"{p.get('loop', '?')} loop, {p.get('timed', '?')} timed", flush=True)
        calls = ", ".join(f"{method} {count / max(run.updates, 1):.2f}"
                          for method, count in run.calls.most_common())
        print(f"      Bot API calls per update: {calls}")
        if p.get("gc"):
            print("      garbage collector passes (generation: count, ms in all, longest ms): "
                  + "; ".join(f"{generation}: {count}, {total}, {longest}"
                              for generation, (count, total, longest) in enumerate(p["gc"]))
                  + f" (objects per generation and frozen: {p.get('gc_objects')}); "
                  f"memory now and at its peak {p.get('rss_mb')} MB")
    print(f"  this process's collector passes (generation: count, longest), echo: {echo.pauses}; "
          f"bot: {bot.pauses}")
    if bot.result.lost:
        print(f"  LOST at {dict(bot.result.lost_at)}; {bot.result.stuck}")
    print(f"  saved {bot.saved} of {bot.users}; ratio {ratio:.2f}")
    print("  longest holds (bot): " + "; ".join(
        f"{hold} ms {name}" for hold, name in bot.process.get("longest_ms", [])[:3]))
    print(f"  {'step':<26} {'bot p50':>8} {'p95':>6}   {'echo p50':>8} {'p95':>6}")
    for index, step in enumerate(steps):
        b, e = bot.result.latencies.get(index, []), echo.result.latencies.get(index, [])
        print(f"  {step.name:<26} {ms(percentile(b, 0.5)):>8} {ms(percentile(b, 0.95)):>6}   "
              f"{ms(percentile(e, 0.5)):>8} {ms(percentile(e, 0.95)):>6}")
    if os.environ.get("PENDAMPING_BENCH_TIMELINE"):  # second by second: what came, how fast
        timeline = sorted(bot.result.timeline)
        began = timeline[0][0] if timeline else 0.0
        seconds: dict[int, list[tuple[int, float]]] = collections.defaultdict(list)
        for offered, index, latency in timeline:
            seconds[int(offered - began)].append((index, latency))
        for second, answers in sorted(seconds.items()):
            heavy = collections.Counter(steps[index].name[:10] for index, _ in answers)
            print(f"  t={second:3d}s {len(answers):4d} offered, p95 "
                  f"{ms(percentile([latency for _, latency in answers], 0.95)):>6} ms; "
                  + ", ".join(f"{name} {count}" for name, count in heavy.most_common(3)))


def table(pairs: list[tuple[Run, Run]], think: float) -> None:
    print()
    print(f"{'workload':<9} {'bot/s':>7} {'echo/s':>7} {'ratio':>6} {'cpu':>5} {'worst p95':>22} "
          f"{'hold':>7} {'>20ms':>6} {'saved':>7} {'lost':>5}")
    for echo, bot in pairs:
        steps = CONVERSATIONS[bot.workload]
        ratio = bot.per_second / echo.per_second if echo.per_second else 0.0
        worst = max(range(len(steps)), key=lambda i: percentile(
            bot.result.latencies.get(i, []) or [0.0], 0.95))
        p95 = percentile(bot.result.latencies.get(worst, []) or [float("nan")], 0.95)
        hold = (bot.process.get("longest_ms") or [[float("nan")]])[0][0]
        cpu = echo.process.get("cpu_ms", 0.0) / bot.process.get("cpu_ms", float("inf"))
        print(f"{bot.workload:<9} {bot.per_second:>7.1f} {echo.per_second:>7.1f} {ratio:>6.2f} "
              f"{cpu:>5.2f} "
              f"{f'{ms(p95)} ms ({steps[worst].name[:12]})':>22} {hold:>7} "
              f"{bot.process.get('over_20ms', '?'):>6} {f'{bot.saved}/{bot.users}':>7} "
              f"{bot.result.lost + echo.result.lost:>5}")
    print("\nratio: updates/s against the echo bot's in the same run; cpu: the echo bot's CPU per "
          "update over the bot's (steadier on a shared machine, where the echo bot's pace swings)")
    print(f"think time {think * 0.5:.1f}-{think * 1.5:.1f} s per step; targets: ratio >= 0.7 "
          "(no pauses), p95 < 100 ms every step (300 people, 1-3 s), no hold > 20 ms; "
          f"{platform.node()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"{date.today()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--workloads", nargs="+", choices=list(CONVERSATIONS),
                        default=list(CONVERSATIONS))
    parser.add_argument("--users", "--mentors", type=int, default=100,
                        help="people per workload, all at once")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a person takes per step (0: none)")
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
        elif args.serve == "bot":  # on the loop `pendamping run` serves on
            run_on_loop(lambda: work, event_loop=Settings(_env_file=None).event_loop)
        else:  # a bare python-telegram-bot bot: asyncio's loop
            asyncio.run(work)
        return
    pairs = asyncio.run(run(args))
    table(pairs, args.think)


if __name__ == "__main__":
    main()
