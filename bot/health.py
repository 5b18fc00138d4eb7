"""A small HTTP endpoint for load balancers and operators: am I the leader, does the database answer?

It runs on every instance, leader or standby, on its own port (the webhook port belongs to
python-telegram-bot and exists only on the leader).

    GET /health         200 when the database answers, else 503; the body says the role and,
                        with PostgreSQL, the leader's lease as this instance last saw it
    GET /health/leader  200 only on the leader with a working database (route the webhook here)
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.leader import Leadership

log = logging.getLogger(__name__)


class HealthServer:
    def __init__(self, leadership: Leadership, engine: AsyncEngine, *, mode: str) -> None:
        self.leadership = leadership
        self.engine = engine
        self.mode = mode
        self.started = time.time()
        self.leader_since: float | None = None
        # Leader only once Telegram is being served; "starting" while the bot starts up.
        self.serving = False
        self._runner: web.AppRunner | None = None

    async def database_problem(self) -> str | None:
        """None when the database answers within 3 seconds, else a short reason (no secrets)."""
        try:
            async with asyncio.timeout(3):
                async with self.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any failure is "not healthy"
            return type(error).__name__
        return None

    @property
    def role(self) -> str:
        # A leader past its lease's local deadline sends nothing: no webhook should come here.
        if not self.leadership.may_send():
            return "standby"
        return "leader" if self.serving else "starting"

    async def report(self) -> tuple[int, dict]:
        problem = await self.database_problem()
        body = {
            "role": self.role,
            "database": "ok" if problem is None else f"error: {problem}",
            "mode": self.mode,
            "uptime_seconds": round(time.time() - self.started, 1),
        }
        if self.leader_since is not None and self.role == "leader":
            body["leader_for_seconds"] = round(time.time() - self.leader_since, 1)
        # The lease's epoch and seconds left (negative: run out, a standby is about to lead).
        body.update(self.leadership.lease_report())
        return (200 if problem is None else 503), body

    async def _health(self, _request: web.Request) -> web.Response:
        status, body = await self.report()
        return web.json_response(body, status=status)

    async def _leader(self, _request: web.Request) -> web.Response:
        status, body = await self.report()
        if self.role != "leader":
            status = 503
        return web.json_response(body, status=status)

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/health/leader", self._leader)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("health endpoint on http://%s:%s/health", host, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
