"""`pendamping run`: webhook with a secret token, the health endpoint, one leader per database.

The standby test runs two real `pendamping run` processes against PostgreSQL and the local Bot
API server, and stops the leader with SIGSTOP in the middle of a broadcast: a hung leader,
whose database session stays open, is replaced once its lease runs out, and when it wakes up
it sends nothing more and exits with 75. (A killed leader is the same case to the standby: a
lease nobody renews.)
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select
from telegram import Bot

from bot.core.enums import Audience, BroadcastStatus, Role
from bot.lifecycle import loop_factory
from bot.localapi import LocalBotApi
from bot.serve import serve
from models import broadcasts as broadcast_queries
from models.db import create_engine, create_sessionmaker
from models.tables import Broadcast, BroadcastRecipient, Reminder
from tests.conftest import ADMIN_ID, TEST_DATA_KEY
from tests.factories import REGENCY_SUKABUMI, make_group, make_mentor

ROOT = Path(__file__).resolve().parents[2]
HAS_UVLOOP = loop_factory("uvloop") is not None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def get_json(url: str) -> tuple[int, dict]:
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as client, client.get(url) as response:
        return response.status, await response.json()


async def wait_until(check, timeout: float, what: str, detail: Callable[[], str] | None = None):
    """Polls ``check`` (async, returns a truthy value when done) until it holds; on a timeout
    the failure shows ``detail()`` too (say, the bot's log), so a rare failure explains itself."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
        except (aiohttp.ClientError, OSError, TimeoutError):
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}"
                                 + (f"\n{detail()}" if detail else ""))
        await asyncio.sleep(0.1)


async def _posted_twice(server: LocalBotApi, update_id: int) -> bool:
    return sum(attempt == (update_id, "200") for attempt in server.webhook_attempts) == 2


async def test_webhook_checks_the_secret_token_and_health_says_leader(settings):
    server = LocalBotApi()
    await server.start()
    hook_port, health_port = free_port(), free_port()
    webhook_settings = settings.model_copy(update={
        "telegram_base_url": server.base_url, "webhook_url": f"http://127.0.0.1:{hook_port}",
        "webhook_listen": "127.0.0.1", "webhook_port": hook_port,
        "health_host": "127.0.0.1", "health_port": health_port,
        "broadcasts_enabled": False})
    stop = asyncio.Event()
    running = asyncio.create_task(serve(webhook_settings, webhook=True, stop=stop))
    try:
        health = f"http://127.0.0.1:{health_port}"
        status, body = await wait_until(
            lambda: _leader_report(health), 20, "the instance to lead")
        assert (status, body["role"], body["database"], body["mode"]) == (
            200, "leader", "ok", "webhook")
        # The bot registered its webhook with a secret token, as Telegram requires.
        assert server.webhook["url"] == f"http://127.0.0.1:{hook_port}/telegram"
        secret = server.webhook["secret_token"]
        assert secret and len(secret) >= 32

        server.user(ADMIN_ID, first_name="Admin")
        update_id = server.send_text(ADMIN_ID, "/start")
        await server.wait_fetched(update_id, timeout=10)
        await wait_until(lambda: _sent_to(server, ADMIN_ID), 10, "the bot's answer")
        assert (update_id, "200") in server.webhook_attempts

        # Telegram posts the same update twice (it did not see the first one confirmed): it
        # is answered once.
        answers = len(server.sent(ADMIN_ID))
        server.fail_next("duplicate")
        update_id = server.send_text(ADMIN_ID, "/bantuan")
        await wait_until(lambda: _posted_twice(server, update_id), 10, "the second post")
        await asyncio.sleep(0.5)
        assert server.fault_counts["duplicate"] == 1
        assert len(server.sent(ADMIN_ID)) == answers + 1

        # A post without the secret, or with a wrong one, is refused and never handled.
        forged = {"update_id": 999_999, "message": {
            "message_id": 1, "date": int(time.time()), "text": "/start",
            "chat": {"id": 424242, "type": "private", "first_name": "Palsu"},
            "from": {"id": 424242, "is_bot": False, "first_name": "Palsu"}}}
        async with aiohttp.ClientSession() as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "tebakan"}):
                async with client.post(server.webhook["url"], json=forged,
                                       headers=headers) as response:
                    assert response.status == 403
        await asyncio.sleep(0.3)
        assert server.sent(424242) == []

        # Hostile posts are answered from the headers alone, before a byte of the body is read:
        # a stranger announcing 100 MB gets 403 at once, and so does the right secret with more
        # than the body limit (413); only then is a body read, and a malformed one is a 400.
        hook = f"/{webhook_settings.webhook_path}"
        huge = 100 * 1024 * 1024
        assert await raw_post(hook_port, hook, {"X-Telegram-Bot-Api-Secret-Token": "x"},
                              declared=huge) == 403
        assert await raw_post(hook_port, hook, {"X-Telegram-Bot-Api-Secret-Token": secret},
                              declared=huge) == 413
        for body in (b"{not json", b"[1, 2]", b'{"update_id": "satu"}', b"\xff\xfe"):
            assert await raw_post(hook_port, hook, {"X-Telegram-Bot-Api-Secret-Token": secret},
                                  body=body) == 400, body
        # Strangers learn the role and whether the database answers, not which machine.
        status, body = await get_json(f"{health}/health")
        assert "instance" not in body and socket.gethostname() not in json.dumps(body)
        assert f":{os.getpid()}" not in json.dumps(body)
    finally:
        stop.set()
        assert await asyncio.wait_for(running, 20) == 0
        await server.stop()
    # Stopped cleanly: the port is free again and nobody answers.
    with pytest.raises(aiohttp.ClientError):
        await get_json(f"http://127.0.0.1:{health_port}/health")


async def raw_post(port: int, path: str, headers: dict[str, str], *, body: bytes = b"",
                   declared: int | None = None) -> int:
    """POSTs by hand, announcing ``declared`` bytes (default: the body's length) but sending
    only ``body``; returns the status the server answers with within 3 seconds."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
                 "Content-Type: application/json",
                 f"Content-Length: {len(body) if declared is None else declared}",
                 *(f"{name}: {value}" for name, value in headers.items()), "", ""]
        writer.write("\r\n".join(lines).encode() + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 3)
        return int(status_line.split()[1])
    finally:
        writer.close()


async def _leader_report(health: str):
    status, body = await get_json(f"{health}/health/leader")
    return (status, body) if status == 200 else None


async def _sent_to(server: LocalBotApi, chat_id: int):
    return server.sent(chat_id)


def _env(database_url: str, base_url: str, health_port: int, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PENDAMPING_")}
    env.update({
        "PENDAMPING_DATABASE_URL": database_url,
        "PENDAMPING_TELEGRAM_TOKEN": "123456:TEST-TOKEN",
        "PENDAMPING_TELEGRAM_BASE_URL": base_url,
        "PENDAMPING_ADMIN_IDS": str(ADMIN_ID),
        "PENDAMPING_HEALTH_HOST": "127.0.0.1",
        "PENDAMPING_HEALTH_PORT": str(health_port),
        "PENDAMPING_POLL_TIMEOUT_SECONDS": "1",
        "PTB_TIMEDELTA": "true",
        "PENDAMPING_DATA_KEY": TEST_DATA_KEY,
        "PENDAMPING_DASHBOARD_PORT": "0",
        **extra,
    })
    return env


def _start_instance(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                            stdout=log_file, stderr=subprocess.STDOUT)


async def test_second_instance_on_the_same_sqlite_file_is_refused(template_db, tmp_path):
    database = tmp_path / "bot.db"
    shutil.copyfile(template_db, database)
    server = LocalBotApi()
    await server.start()
    env = _env(f"sqlite+aiosqlite:///{database}", server.base_url, 0)
    first = _start_instance(env, tmp_path / "first.log")
    try:
        await wait_until(lambda: _commands_set(server), 30, "the first instance to start")
        second = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=60)
        assert second.returncode == 3
        assert "Another Pendamping KUBE is already running on this SQLite database" \
            in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.to_thread(first.wait, 20)
        await server.stop()
    log = (tmp_path / "first.log").read_text()
    assert first.returncode == 0, log
    # `pendamping run` serves on uvloop where it is installed (bot.lifecycle.loop_factory).
    assert f"event loop: {'uvloop' if HAS_UVLOOP else 'asyncio'}" in log


async def _commands_set(server: LocalBotApi):
    return server.calls["setMyCommands"] >= 2


@pytest.fixture
def pg_url(postgres_schema) -> str:
    """The test session's PostgreSQL schema, emptied (outside the event loop)."""
    postgres_schema.reset()
    return postgres_schema.url


@pytest.fixture
async def pg_session(pg_url):
    engine = create_engine(pg_url)
    async with create_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


class TwoDoors(LocalBotApi):
    """The local Bot API server, reached at 127.0.0.1 by one instance and at 127.0.0.2 by the
    other: the calls are counted per door, so per instance."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.by_door: collections.Counter[str] = collections.Counter()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await super().start(host, port)
        await web.TCPSite(self._runner, "127.0.0.2", self.port).start()

    def door(self, n: int) -> str:
        return f"http://127.0.0.{n}:{self.port}/bot"

    async def _handle_api(self, request: web.Request) -> web.Response:
        self.by_door[request.host.rsplit(":", 1)[0]] += 1
        return await super()._handle_api(request)


async def test_a_hung_leader_is_replaced_and_sends_nothing_when_it_wakes(
        postgres_schema, pg_session, tmp_path):
    session = pg_session
    # A group whose visit was due yesterday (Sukabumi time): today's reminder is due now.
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    coordinator = await make_mentor(session, telegram_id=800001, name="Koor Sukabumi",
                                    area_code=REGENCY_SUKABUMI, role=Role.COORDINATOR)
    siti = await make_mentor(session, telegram_id=700001, name="Siti Rahma")
    await make_group(session, siti, next_visit_due=today - timedelta(days=1))
    recipients = []
    for n in range(60):
        recipients.append(await make_mentor(session, telegram_id=710000 + n,
                                            name=f"Pendamping {n}"))
    broadcast, _ = await broadcast_queries.create(
        session=session, actor=coordinator, audience=Audience.ALL_MENTORS, audience_code=None,
        text="Halo {nama}, rapat Senin.", photo_file_id=None, document_file_id=None,
        to=recipients)
    await session.commit()

    server = TwoDoors()
    await server.start()
    # The coordinator's progress message, as /siaran leaves it.
    async with Bot("123456:TEST-TOKEN", base_url=server.base_url) as sender:
        progress = await sender.send_message(coordinator.telegram_id, "📤 …")
    await broadcast_queries.set_progress_message(
        session=session, broadcast_id=broadcast.id, chat_id=coordinator.telegram_id,
        message_id=progress.message_id)
    # Quiet hours off and 00:00 as reminder hour: whatever the time of day, the reminder is due.
    # A short lease keeps the test quick (15 s by default).
    extra = {"PENDAMPING_REMINDER_HOUR": "0", "PENDAMPING_QUIET_HOURS_START": "0",
             "PENDAMPING_QUIET_HOURS_END": "0", "PENDAMPING_REMINDER_SWEEP_SECONDS": "5",
             "PENDAMPING_BROADCAST_RATE_PER_SECOND": "10",
             "PENDAMPING_LEADER_POLL_SECONDS": "0.5", "PENDAMPING_LEADER_LEASE_SECONDS": "4",
             "PENDAMPING_LEADER_RENEW_SECONDS": "1"}
    ports = {1: free_port(), 2: free_port()}
    # Both start at once; whichever takes the lease first leads.
    processes = {n: _start_instance(_env(postgres_schema.url, server.door(n), ports[n], **extra),
                                    tmp_path / f"instance{n}.log") for n in (1, 2)}

    def logs() -> str:
        return "\n".join(f"--- instance{n}.log\n" + (tmp_path / f"instance{n}.log").read_text(
            errors="replace")[-4000:] for n in (1, 2))

    async def roles():
        found = {}
        for n, port in ports.items():
            status, body = await get_json(f"http://127.0.0.1:{port}/health")
            found[n] = body["role"] if status == 200 else None
        return found if sorted(found.values()) == ["leader", "standby"] else None
    try:
        found = await wait_until(roles, 60, "one leader and one standby", logs)
        old, new = sorted(found, key=lambda n: found[n] != "leader")
        hung, standby = processes[old], processes[new]
        # The standby shows the leader's lease as it last saw it.
        status, body = await wait_until(lambda: _lease_seen(ports[new]), 10, "the lease seen")
        assert (status, body["role"], body["database"], body["leader_epoch"]) == (
            200, "standby", "ok", 1)
        assert 0 < body["leader_lease_expires_in"] <= 4
        status, _ = await get_json(f"http://127.0.0.1:{ports[new]}/health/leader")
        assert status == 503

        ids = [person.telegram_id for person in recipients]
        # The leader sends the reminder and is half-way through the broadcast ...
        await wait_until(lambda: _delivered(server, ids, 20), 30, "part of the broadcast")
        await wait_until(lambda: _sent_to(server, siti.telegram_id), 30, "the reminder")
        hung.send_signal(signal.SIGSTOP)  # ... when it hangs, its database session still open.
        stopped_at = time.monotonic()

        # The bound: the standby leads within 30 seconds of the leader hanging.
        await wait_until(lambda: _leader_report(f"http://127.0.0.1:{ports[new]}"),
                         30 - (time.monotonic() - stopped_at), "the standby to take over", logs)
        print(f"standby took over {time.monotonic() - stopped_at:.1f} s after the leader hung")

        # The new leader answers mentors ...
        update_id = server.send_text(siti.telegram_id, "/bantuan")
        await server.wait_fetched(update_id, timeout=15)
        await wait_until(lambda: _answered_help(server, siti.telegram_id), 15, "the answer",
                         logs)
        # ... and the old one wakes up: it sends nothing more (no request reaches Telegram at
        # all) and stops with 75, for its supervisor to start it again as a standby.
        calls_before = server.by_door[f"127.0.0.{old}"]
        hung.send_signal(signal.SIGCONT)
        woke_at = time.monotonic()
        assert await asyncio.to_thread(hung.wait, 30) == 75, logs()
        print(f"the old leader exited 75 {time.monotonic() - woke_at:.1f} s after it woke")
        assert server.by_door[f"127.0.0.{old}"] == calls_before, logs()

        # The new leader finishes the broadcast, and its own sweeps send no reminder twice.
        done = await wait_until(lambda: _finished(session, broadcast.id), 30,
                                "the broadcast to finish", logs)
        await asyncio.sleep(1)  # the new leader swept at its start; give a late send time to show
        counts = {tid: len(server.sent(tid)) for tid in ids}
        assert max(counts.values()) == 1, "a broadcast message was sent twice"
        rows = dict((await session.execute(
            select(BroadcastRecipient.telegram_id, BroadcastRecipient.status))).all())
        # Every row is finished. Only rows whose message was in flight when the leader hung
        # are failed ("interrupted": maybe delivered, so never resent); every other recipient
        # got the message exactly once.
        interrupted = [tid for tid, status in rows.items() if status == "failed"]
        assert set(rows.values()) <= {"sent", "failed"}
        assert all(counts[tid] == 1 for tid, status in rows.items() if status == "sent")
        assert len(interrupted) <= 10  # at most one per concurrent send (rate 10/s)
        assert done.status == BroadcastStatus.DONE
        siti_texts = [m.content or "" for m in server.sent(siti.telegram_id)]
        assert sum("Pengingat" in text for text in siti_texts) == 1, siti_texts
        sent_reminders = (await session.execute(
            select(func.count()).select_from(Reminder).where(Reminder.status == "sent"))).scalar()
        assert sent_reminders >= 1
        report = server.message(coordinator.telegram_id, progress.message_id).text
        assert report.startswith("✅ Siaran selesai: "), report
    finally:
        # Both woken before either is awaited: a stopped one holds its database session, and
        # the other's stop may wait on it. One that does not stop is killed, so that a failure
        # here never leaves a process (and its locks) behind for the next test.
        running = [process for process in processes.values() if process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGCONT)
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                await asyncio.to_thread(process.wait, 20)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 10)
        await server.stop()
    assert standby.returncode == 0, logs()


async def _lease_seen(port: int):
    status, body = await get_json(f"http://127.0.0.1:{port}/health")
    return (status, body) if body.get("leader_epoch") else None


async def _answered_help(server: LocalBotApi, chat_id: int):
    return any("/kunjungan" in (m.content or "") for m in server.sent(chat_id))


async def _delivered(server: LocalBotApi, ids: list[int], at_least: int):
    return sum(len(server.sent(tid)) for tid in ids) >= at_least


async def _finished(session, broadcast_id: int):
    row = await session.get(Broadcast, broadcast_id, populate_existing=True)
    await session.commit()
    return row if row is not None and row.status == BroadcastStatus.DONE else None


