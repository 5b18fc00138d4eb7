"""Reminder jobs. APScheduler (through PTB's JobQueue) only wakes the sweep; what is due, sent
or pending lives in the database, so a restart neither loses nor repeats a reminder."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram.ext import Application, ContextTypes

from bot.core import clock
from models import reminders as reminder_queries
from scheduler.sweep import sweep

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "reminder-sweep"


async def sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs one sweep as of now; errors are logged and the next run tries again."""
    services = context.application.bot_data
    try:
        report = await sweep(sessionmaker=services.sessionmaker, bot=context.bot,
                             settings=services.settings, now=clock.now())
    except Exception:
        log.exception("reminder sweep failed")
        return
    if report.expanded or report.digests:
        log.info("reminder sweep: %s", report.summary())


async def install(application: Application) -> None:
    """At start-up: settle deliveries a crash interrupted, then sweep now and every minute."""
    services = application.bot_data
    async with services.sessionmaker() as session:
        interrupted = await reminder_queries.fail_interrupted(session=session)
    if interrupted:
        log.warning("%s reminder deliveries were interrupted by a crash; not resent",
                    interrupted)
    job_queue = application.job_queue
    # The scheduler runs in UTC (Defaults.tzinfo in bot.app); local delivery times are
    # computed per group from its province's zone.
    assert job_queue.scheduler.timezone == UTC
    interval = services.settings.reminder_sweep_seconds
    job_queue.run_repeating(
        sweep_job, interval=interval, first=interval, name=SWEEP_JOB_ID,
        job_kwargs={"id": SWEEP_JOB_ID, "replace_existing": True, "coalesce": True,
                    "max_instances": 1, "misfire_grace_time": None,
                    # Not `first=0`: this runs before the scheduler starts, and APScheduler
                    # rounds a start already past up to the next interval, so the catch-up
                    # sweep would wait a whole interval. An explicit first run time is kept.
                    "next_run_time": datetime.now(UTC)},
    )
