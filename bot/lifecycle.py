"""Starting and stopping a PTB Application by hand, the way ``run_polling`` would.

One pair for every way the bot runs: ``pendamping run`` (bot.serve: long polling or the webhook,
after winning the leadership), the terminal demo and the tests (bot.localapi's server). PTB's
``run_polling`` / ``run_webhook`` take over the event loop, which none of them can allow.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Literal, TypeVar

from telegram.ext import Application

log = logging.getLogger(__name__)

T = TypeVar("T")
EventLoop = Literal["uvloop", "asyncio"]


def loop_factory(event_loop: EventLoop) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop a process serves on: uvloop where it is installed (not on Windows), else
    Python's own (None). The bot is CPU-bound under load, and uvloop's loop and sockets, written
    in C, take about a fifth less of its CPU per update than asyncio's (bench/updates.py), so
    more people are answered before anyone waits."""
    if event_loop != "uvloop":
        return None
    try:
        import uvloop  # optional: not built for Windows
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_on_loop(main: Callable[[], Coroutine[Any, Any, T]], *, event_loop: EventLoop) -> T:
    """``asyncio.run(main())`` on the chosen loop (:func:`loop_factory`)."""
    with asyncio.Runner(loop_factory=loop_factory(event_loop)) as runner:
        log.info("event loop: %s", type(runner.get_loop()).__module__.split(".")[0])
        return runner.run(main())


async def start_application(
    application: Application, *, poll_timeout: float = 10,
    allowed_updates: Sequence[str] | None = None, drop_pending_updates: bool | None = None,
    webhook: dict[str, Any] | None = None,
) -> None:
    """Starts ``application`` like ``run_polling`` does, but without taking over the loop.

    ``initialize``/``start`` do not call ``post_init`` (only ``run_polling`` does), so it is
    called here, in the same order as ``run_polling``: initialize, post_init, updates, start.
    The bot's inbox (bot.telegram.inbox) first queues what a previous run received and did not
    handle, then receives by long polling, or with ``webhook`` (Inbox.start_webhook's
    arguments) on its own webhook server. An Application without an inbox uses PTB's Updater.
    """
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    inbox = getattr(application.bot_data, "inbox", None)
    updater = application.updater
    if inbox is not None:
        await inbox.replay()
        if webhook is not None:
            await inbox.start_webhook(allowed_updates=allowed_updates,
                                      drop_pending_updates=drop_pending_updates, **webhook)
        else:
            await inbox.start_polling(timeout=poll_timeout, allowed_updates=allowed_updates,
                                      drop_pending_updates=drop_pending_updates)
        inbox.start_pruning()
        inbox.start_collecting()
    elif updater is not None:
        if webhook is not None:
            await updater.start_webhook(allowed_updates=allowed_updates,
                                        drop_pending_updates=drop_pending_updates, **webhook)
        else:
            await updater.start_polling(
                poll_interval=0, timeout=dtm.timedelta(seconds=poll_timeout),
                allowed_updates=allowed_updates, drop_pending_updates=drop_pending_updates)
    await application.start()


async def stop_application(application: Application) -> None:
    """Stops what :func:`start_application` started, with the post_stop / post_shutdown hooks.

    Every step is taken even when an earlier one fails (a stopping process must still shut the
    database and the outbox down); the first failure is raised at the end.
    """
    failures: list[BaseException] = []

    async def step(action) -> None:
        try:
            await action()
        except Exception as exc:  # noqa: BLE001 - kept, raised after the remaining steps
            failures.append(exc)

    async def stop_running() -> None:
        await application.stop()
        if application.post_stop:
            await application.post_stop(application)

    inbox = getattr(application.bot_data, "inbox", None)
    if inbox is not None and inbox.running:
        await step(inbox.stop)
    if application.updater is not None and application.updater.running:
        await step(application.updater.stop)
    # Updates still waiting for their turn stay in the database for the next start: stopping
    # waits only for the ones running (a flooder's backlog would take long).
    stop_waiting = getattr(application.update_processor, "stop_waiting", None)
    if stop_waiting is not None:
        stop_waiting()
    if application.running:
        await step(stop_running)
    await step(application.shutdown)
    if application.post_shutdown:
        await step(lambda: application.post_shutdown(application))
    if failures:
        raise failures[0]
