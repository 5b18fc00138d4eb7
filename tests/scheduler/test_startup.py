"""A starting bot sweeps at once: what fell due while it was down goes out when it is back,
not one sweep interval later (scheduler.install)."""

from __future__ import annotations

import asyncio
from datetime import date

from bot.app import build_application
from tests.factories import DISTRICT_CIBADAK, make_group, make_mentor
from tests.harness import BotHarness

TODAY = date(2026, 11, 25)  # conftest's NOW is 10:00 WIB that day: past the 07:00 reminder


async def _reminders(server, chat_id: int, timeout: float) -> list[str]:
    """The reminder texts ``chat_id`` got, waiting up to ``timeout`` seconds for a first one."""
    for _ in range(int(timeout * 10)):
        texts = [m.content for m in server.sent(chat_id) if "Pengingat" in (m.content or "")]
        if texts:
            return texts
        await asyncio.sleep(0.1)
    return []


async def test_a_starting_bot_sweeps_at_once_not_an_interval_later(settings, session):
    mentor = await make_mentor(session, telegram_id=730001, area_code=DISTRICT_CIBADAK)
    await make_group(session, mentor, name="KUBE Mawar", village_code="32.02.11.2002",
                     next_visit_due=TODAY)
    # An hourly sweep: had the first sweep waited for its interval, nothing would come.
    hourly = settings.model_copy(update={"reminders_enabled": True,
                                         "reminder_sweep_seconds": 3600})
    async with await BotHarness.start(lambda url: build_application(hourly, base_url=url)) as bot:
        texts = await _reminders(bot.server, mentor.telegram_id, timeout=20)
    assert len(texts) == 1, "no reminder at start-up: the first sweep waited an interval"
    assert "KUBE Mawar: jadwal kunjungan hari ini" in texts[0]
