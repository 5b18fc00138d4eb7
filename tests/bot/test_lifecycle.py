"""The event loop a process serves on (bot.lifecycle.run_on_loop): uvloop where installed, and
Python's own when asked for (PENDAMPING_EVENT_LOOP=asyncio)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.settings import Settings
from bot.lifecycle import loop_factory, run_on_loop


def _serve_on(event_loop: str) -> tuple[str, str]:
    async def main() -> tuple[str, str]:
        await asyncio.sleep(0)  # the loop runs a coroutine to its end
        loop = asyncio.get_running_loop()
        return type(loop).__module__, await loop.run_in_executor(None, lambda: "done")
    return run_on_loop(main, event_loop=event_loop)


def test_uvloop_is_the_default_and_runs_the_process(caplog):
    pytest.importorskip("uvloop", reason="uvloop is not built for this platform (Windows)")
    assert Settings(_env_file=None).event_loop == "uvloop"
    with caplog.at_level(logging.INFO, logger="bot.lifecycle"):
        module, result = _serve_on("uvloop")
    assert module.startswith("uvloop")
    assert result == "done"
    assert "event loop: uvloop" in caplog.text


def test_asyncio_loop_when_asked_for(caplog, monkeypatch):
    monkeypatch.setenv("PENDAMPING_EVENT_LOOP", "asyncio")
    settings = Settings(_env_file=None)
    assert loop_factory(settings.event_loop) is None
    with caplog.at_level(logging.INFO, logger="bot.lifecycle"):
        module, result = _serve_on(settings.event_loop)
    assert module.startswith("asyncio")
    assert result == "done"
    assert "event loop: asyncio" in caplog.text


def test_an_unknown_loop_is_refused(monkeypatch):
    monkeypatch.setenv("PENDAMPING_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="event_loop"):
        Settings(_env_file=None)
