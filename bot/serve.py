"""`pendamping run`: wait to lead, then serve Telegram (long polling or webhook) until stopped.

Every instance first checks the database (PostgreSQL: the schema is this version's, and the
data key opens what is stored), so that a standby with a wrong key or on a wrong schema stops
at once rather than when it is needed; then it starts the health endpoint. Only the leader
(bot.leader) builds the Application, and with it the polling or webhook server, the reminder
sweep and the broadcast worker; so a standby never sends anything, and every request of the
leader asks its lease first. If a leader loses its lease it stops at once and exits with code
75, and the process supervisor starts it again as a standby.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import signal
import socket
import time

from bot.app import build_application
from bot.core.settings import Settings
from bot.health import HealthServer
from bot.leader import AlreadyRunning, leadership_for
from bot.lifecycle import run_on_loop, start_application, stop_application
from bot.problems import check_sqlite_folder, port_problem
from bot.startup import check_data_key, check_schema, prepare_database, warm_up
from models.db import create_engine

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
LOST_LEADERSHIP = 75  # EX_TEMPFAIL: "try again", which is what the supervisor should do


class ServeError(Exception):
    """A setting is missing or wrong; the message says what to do."""


def webhook_settings(settings: Settings) -> tuple[str, str]:
    """The public URL Telegram posts to, and the secret token it must send with every post."""
    if not settings.webhook_url:
        raise ServeError("--webhook needs PENDAMPING_WEBHOOK_URL, the public https address "
                         "Telegram should post to (e.g. https://bot.example.go.id).")
    # Telegram itself posts only to https; a self-hosted Bot API server may post to http.
    official = settings.telegram_base_url.startswith("https://api.telegram.org")
    if official and not settings.webhook_url.startswith("https://"):
        raise ServeError("PENDAMPING_WEBHOOK_URL must be an https address (Telegram posts "
                         "only to https), e.g. https://bot.example.go.id.")
    url = settings.webhook_url.rstrip("/") + "/" + settings.webhook_path.strip("/")
    return url, webhook_secret(settings)


def webhook_secret(settings: Settings) -> str:
    """PENDAMPING_WEBHOOK_SECRET, or one derived from the token: every instance of this bot
    then registers the same secret, so one started by mistake (say, on another database)
    cannot lock out the one serving."""
    return settings.webhook_secret.get_secret_value() or hmac.new(
        settings.telegram_token.get_secret_value().encode(), b"pendamping-kube webhook",
        hashlib.sha256).hexdigest()


def _check_port(host: str, port: int, variable: str) -> None:
    """Fails before anything is registered with Telegram when the port cannot be served."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServeError(port_problem(exc, port, variable) or
                             f"Port {port} cannot be used ({exc.strerror}): set {variable}.") \
                from None


def _updates(settings: Settings, *, webhook: bool) -> dict:
    """How the leader receives updates: long polling, or the bot's webhook server."""
    if not webhook:
        return {"poll_timeout": settings.poll_timeout_seconds}
    url, secret = webhook_settings(settings)
    # The webhook server (bot.telegram.inbox) answers 403 to any post without this secret
    # token, before it reads the body.
    return {"webhook": {"listen": settings.webhook_listen, "port": settings.webhook_port,
                        "url_path": settings.webhook_path.strip("/"), "webhook_url": url,
                        "secret_token": secret, "max_connections": 40}}


async def _check_database(settings: Settings) -> None:
    """The schema is this version's and the data key opens what is stored (PostgreSQL)."""
    await check_schema(settings)
    await check_data_key(settings)


async def serve(settings: Settings, *, webhook: bool = False,
                stop: asyncio.Event | None = None) -> int:
    """Runs one instance until ``stop`` is set (0) or its leadership is lost (75)."""
    stop = stop or asyncio.Event()
    if webhook:  # fail now, not after the wait for leadership
        webhook_settings(settings)
        _check_port(settings.webhook_listen, settings.webhook_port, "PENDAMPING_WEBHOOK_PORT")
    leadership = leadership_for(
        settings.database_url, poll_seconds=settings.leader_poll_seconds,
        lease_seconds=settings.leader_lease_seconds, renew_seconds=settings.leader_renew_seconds)
    if settings.is_sqlite:
        check_sqlite_folder(settings.database_url)  # before the lock file could be made there
        # With SQLite the check is immediate: a second instance is refused, not kept waiting.
        await leadership.acquire()
        await prepare_database(settings)
        await check_data_key(settings)  # a wrong data key: refuse now, with its explanation
    engine = create_engine(settings.database_url)
    health = HealthServer(leadership, engine, mode="webhook" if webhook else "polling")
    application = None
    stopping = asyncio.create_task(stop.wait())
    try:
        if not settings.is_sqlite:
            # PostgreSQL is migrated by `pendamping db upgrade` (once, from one machine: two
            # instances must not migrate side by side), so both are checked, not changed. A
            # standby checks before it waits: found out only at takeover, a wrong data key
            # would leave nobody serving. A database out of reach is waited for.
            checks = asyncio.create_task(leadership.until_reachable(
                lambda: _check_database(settings)))
            await asyncio.wait({checks, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not checks.done():
                checks.cancel()
                return 0
            checks.result()
        if settings.health_port:
            try:
                await health.start(settings.health_host, settings.health_port)
            except OSError as exc:
                raise ServeError(port_problem(exc, settings.health_port,
                                              "PENDAMPING_HEALTH_PORT (0 turns it off)")
                                 or f"The health endpoint cannot start: {exc}") from None
        # Built now, before the lease: a second or more of work that would hold up the event
        # loop (and the lease's renewals) while the leader starts, and delay a takeover; and
        # would otherwise hold it at the first date, amount or place a user types.
        await asyncio.to_thread(warm_up)
        acquire = asyncio.create_task(leadership.acquire())
        await asyncio.wait({acquire, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            acquire.cancel()
            return 0
        acquire.result()
        if not settings.is_sqlite:
            # Again: while this one waited, the database may have been migrated further, or
            # had its first personal data stored (an empty one opens with any key).
            await _check_database(settings)
        health.leader_since = time.time()
        log.info("this instance is the leader: serving Telegram (%s)", health.mode)
        application = build_application(settings, may_send=leadership.may_send)
        try:
            await start_application(application, allowed_updates=ALLOWED_UPDATES,
                                    **_updates(settings, webhook=webhook))
        except Exception:
            if leadership.may_send():
                raise
            # The lease ran out while starting (its requests were refused): not the start's
            # failure, so the same exit as a lease lost later.
            log.error("leadership lost while starting: stopping so that this instance "
                      "restarts as a standby")
            return LOST_LEADERSHIP
        health.serving = True
        lost = asyncio.create_task(leadership.lost.wait())
        await asyncio.wait({lost, stopping}, return_when=asyncio.FIRST_COMPLETED)
        lost.cancel()
        if stop.is_set():
            log.info("stopping")
            return 0
        log.error("leadership lost: stopping so that this instance restarts as a standby")
        return LOST_LEADERSHIP
    finally:
        stopping.cancel()
        health.serving = False
        if application is not None:
            # Whatever fails there, the leadership is released and the health endpoint stops.
            with contextlib.suppress(Exception):
                await stop_application(application)
        await leadership.release()
        await health.stop()
        await engine.dispose()


def run(settings: Settings, *, webhook: bool) -> int:
    """The process's main: SIGTERM/SIGINT stop cleanly; wrong settings get a plain message."""

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows
                loop.add_signal_handler(signum, stop.set)
        return await serve(settings, webhook=webhook, stop=stop)

    try:
        return run_on_loop(main, event_loop=settings.event_loop)
    except AlreadyRunning as running:
        raise ServeError(
            "Another Pendamping KUBE is already running on this SQLite database "
            f"(lock file {running}). Stop it first: with SQLite only one instance can run. "
            "For a hot standby, use PostgreSQL (README: Deployment).") from None
