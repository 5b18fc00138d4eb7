"""The echo bot behind the test harness, and a bare server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.localapi import LocalBotApi
from tests.bot.localapi.echo import build_echo_app
from tests.harness import BotHarness


@pytest.fixture
async def harness() -> AsyncIterator[BotHarness]:
    harness = await BotHarness.start(build_echo_app)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as server:
        yield server

