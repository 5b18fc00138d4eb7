"""The broadcast outbox worker: sends each pending siaran row once, at Telegram's pace.

It runs beside the bot as one asyncio task (started in post_init, stopped in post_shutdown)
and never inside update handling, so the bot keeps answering everyone while it sends.

- Pace: at most ``broadcast_rate_per_second`` messages overall (Telegram allows ~30/s; the
  rest is left for the bot's replies) and ``broadcast_per_chat_per_second`` per chat.
- At most once: each row is claimed (status sending, attempts + 1, committed) right before
  its message goes out, and finished after. A crash in between leaves only the messages in
  flight 'sending'; the next start marks them failed "interrupted" instead of sending them
  again. A clean stop lets the messages in flight finish; the rest stay pending.
- 429 (RetryAfter): only that row waits (``not_before``); the others go on.
- 403 (Forbidden): the row is 'blocked' and the user marked inactive.
- Other errors Telegram answers (a 5xx, a refusal: nothing was delivered) and requests that
  never left: retried up to ``broadcast_max_attempts``, then failed with the reason (a 5xx is
  first tried again at once by bot.telegram.transport). A timeout or a dropped connection may or may
  not have delivered: failed at once, never retried (never twice).
- The coordinator's progress message is edited every ``broadcast_progress_seconds`` and, at
  the end, replaced by the final report with "Lihat yang gagal" when someone was missed.

It sends with its own ``telegram.Bot`` (same token and server), not the Application's: a 429
here must only make that row wait, not be retried in place. It still takes each message's turn
from the Application's ``bot.telegram.ratelimit.SendBudget`` (at the broadcast's own pace, and
per chat), so broadcasts, reminders and the replies to users together stay within Telegram's 30
a second, and replies go first. ``wall`` time (real time) spaces retries; the bot's clock
(``bot.core.clock``) stamps the records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.request import BaseRequest

from bot.core.enums import OutboxStatus
from bot.core.settings import Settings
from bot.core.texts import t
from bot.telegram.ratelimit import SendBudget, retry_seconds
from bot.telegram.transport import maybe_delivered, telegram_request
from models import broadcasts as queries
from models import mentors as mentor_queries
from models.tables import Broadcast, BroadcastRecipient, Mentor, utcnow

log = logging.getLogger(__name__)

IDLE_SECONDS = 5.0  # nothing to send: look again this often (a new broadcast wakes it at once)
ORPHAN_SECONDS = 30.0  # a finished broadcast whose progress message was never stored
STOP_SECONDS = 15.0  # a clean stop waits this long for the messages in flight
MAX_CONCURRENCY = 32
FINAL_REPORT_TRIES = 5
FAIL_PREFIX = "sia:fail"

REASON_BLOCKED = "blocked the bot"
REASON_INTERRUPTED = "interrupted"
REASON_TIMED_OUT = "timed out"


def wall_now() -> datetime:
    """Real time (not the bot's clock): Telegram's waits are in real seconds."""
    return datetime.now(UTC)


def _concurrency(settings: Settings) -> int:
    """Messages in flight at once: about a second's worth at the broadcast pace."""
    return max(1, min(MAX_CONCURRENCY, math.ceil(settings.broadcast_rate_per_second)))


@dataclass
class Outcome:
    """What became of one row."""

    row: BroadcastRecipient
    # sent | blocked | failed | retry (an attempt) | wait (429: not an attempt) | skipped (not
    # claimed: stopping, or taken meanwhile)
    status: str
    reason: str | None = None
    not_before: datetime | None = None


@dataclass
class StepResult:
    handled: int  # rows tried in this step
    open: int  # broadcasts still being sent afterwards
    wait: float  # how long until something may be due (when nothing was handled)


class Outbox:
    """The worker. ``step`` does one round by hand (tests); ``start`` runs rounds for ever."""

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], bot: Bot,
                 settings: Settings, wall: Callable[[], datetime] = wall_now,
                 requests: tuple[BaseRequest, ...] = (),
                 budget: SendBudget | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.bot = bot
        self.settings = settings
        self.wall = wall
        # The token's budget, shared with the Application's replies and reminders (one made
        # here only when the worker runs without an Application, as in some tests).
        self.budget = budget or SendBudget.for_settings(settings)
        self.rate = settings.broadcast_rate_per_second
        self.monotonic = self.budget.monotonic
        self.concurrency = _concurrency(settings)
        self._requests = requests
        self._stopping = False
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()  # one short claim transaction at a time
        self._task: asyncio.Task[None] | None = None
        self._last_edit: dict[int, float] = {}
        self._last_text: dict[int, str] = {}
        self._orphans: dict[int, float] = {}
        self._final_tries: dict[int, int] = {}
        self._languages: dict[int, tuple[str, int | None]] = {}

    @classmethod
    def for_application(cls, application, **kwargs) -> Outbox:
        """A worker with its own Bot on the Application's token and server (see the module
        docstring for why not the Application's bot)."""
        services = application.bot_data
        settings = services.settings
        app_bot = application.bot
        requests = (telegram_request(settings, pool_size=1, may_send=services.may_send),
                    telegram_request(settings, pool_size=_concurrency(settings) + 2,
                                     may_send=services.may_send))
        bot = Bot(app_bot.token, base_url=lambda _token: app_bot.base_url,
                  base_file_url=lambda _token: app_bot.base_file_url,
                  get_updates_request=requests[0], request=requests[1])
        limiter = app_bot.rate_limiter if hasattr(app_bot, "rate_limiter") else None
        kwargs.setdefault("budget", getattr(limiter, "budget", None))
        return cls(sessionmaker=services.sessionmaker, bot=bot, settings=settings,
                   requests=requests, **kwargs)

    # --- lifecycle --------------------------------------------------------------------------

    async def recover(self) -> int:
        """Start-up: rows a crash left 'sending' are failed "interrupted", never resent."""
        async with self.sessionmaker() as session:
            interrupted = await queries.fail_interrupted(session=session)
        if interrupted:
            log.warning("%s broadcast messages were interrupted by a crash; not resent",
                        interrupted)
        return interrupted

    async def _settle_first(self) -> bool:
        """What a crash interrupted is settled before anything is sent, here rather than
        before the bot starts: a leader that hung half way through recording a message keeps
        that row locked until it wakes or its session ends, and mentors are answered
        meanwhile. Tried again every second while it fails; False if stopped first."""
        while not self._stopping:
            try:
                await self.recover()
                return True
            except Exception:
                log.exception("settling the broadcast messages a crash interrupted failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)
        return False

    def start(self) -> None:
        """Runs rounds in the background until ``stop``."""
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="broadcast-outbox")

    def wake(self) -> None:
        """Something new to send: start the next round now."""
        self._wake.set()

    async def stop(self) -> None:
        """Lets the messages in flight finish (the rest stay pending) and closes the HTTP pool."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, STOP_SECONDS)
            except TimeoutError:
                log.warning("the broadcast outbox did not stop in time; cancelled")
            except Exception:
                log.exception("the broadcast outbox failed")
        await self.close()

    async def close(self) -> None:
        for request in self._requests:
            with contextlib.suppress(Exception):
                await request.shutdown()

    async def run(self) -> None:
        if not await self._settle_first():
            return
        while not self._stopping:
            try:
                result = await self.step()
            except Exception:
                log.exception("broadcast outbox round failed")
                result = StepResult(handled=0, open=1, wait=1.0)
            if result.handled and not self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), result.wait)
            self._wake.clear()

    async def run_until_done(self, timeout: float = 30.0) -> None:
        """Rounds until no broadcast is being sent (tests, the bench)."""
        deadline = time.monotonic() + timeout
        while True:
            result = await self.step()
            if not result.open:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{result.open} broadcasts still being sent")
            if not result.handled:
                await asyncio.sleep(min(result.wait, max(0.0, deadline - time.monotonic())))

    # --- one round --------------------------------------------------------------------------

    async def step(self, *, limit: int | None = None) -> StepResult:
        """Sends up to ``limit`` due rows (about one second's worth by default), each claimed
        just before it goes, records how each went, then updates the progress messages."""
        batch = limit or max(1, math.ceil(self.settings.broadcast_rate_per_second))
        now = self.monotonic()
        waits = [IDLE_SECONDS]
        async with self.sessionmaker() as session:
            candidates = await queries.due(session=session, now=self.wall(),
                                           limit=batch * 4 + 50)
            chosen: list[BroadcastRecipient] = []
            seen: set[int] = set()
            for row in candidates:
                if row.telegram_id in seen:
                    continue
                if not self.budget.ready(row.telegram_id, now):
                    waits.append(self.budget.chat_wait(row.telegram_id, now))
                    continue
                seen.add(row.telegram_id)
                chosen.append(row)
                if len(chosen) >= batch:
                    break
            broadcasts = {bid: await queries.get(session=session, broadcast_id=bid)
                          for bid in {row.broadcast_id for row in chosen}}
        outcomes = [o for o in await self._send_all(chosen, broadcasts) if o.status != "skipped"]
        rows = [o.row for o in outcomes]
        still_open, report_wait = await self._report()
        if still_open:
            waits.append(report_wait)
            async with self.sessionmaker() as session:
                waiting_until = await queries.next_not_before(session=session)
            if waiting_until is not None:
                waits.append((waiting_until - self.wall()).total_seconds())
        return StepResult(handled=len(rows), open=still_open, wait=max(0.02, min(waits)))

    async def _send_all(self, rows: list[BroadcastRecipient],
                        broadcasts: dict[int, Broadcast | None]) -> list[Outcome]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row: BroadcastRecipient) -> Outcome:
            async with gate:
                if self._stopping:
                    return Outcome(row, "skipped")
                await self._turn(row.telegram_id)
                if self._stopping or not await self._claim(row):
                    return Outcome(row, "skipped")
                outcome = await self._send(row, broadcasts.get(row.broadcast_id))
                # Recorded at once, not with the round: a crash then leaves only the messages
                # actually in flight unrecorded, not everything sent this round.
                await self._record([outcome])
                return outcome

        return list(await asyncio.gather(*(one(row) for row in rows)))

    async def _turn(self, chat_id: int) -> None:
        """Waits for a message's turn: at the broadcast pace, within the token's budget."""
        await self.budget.take_bulk(chat_id, rate=self.rate)

    async def _claim(self, row: BroadcastRecipient) -> bool:
        """Marks the row 'sending' and commits, right before its message goes out."""
        async with self._claiming, self.sessionmaker() as session:
            return bool(await queries.claim(session=session, row_ids=[row.id]))

    async def _send(self, row: BroadcastRecipient, broadcast: Broadcast | None) -> Outcome:
        if broadcast is None:
            return Outcome(row, "failed", "broadcast gone")
        text = queries.render(broadcast.text, row.name)
        attempt = row.attempts + 1  # the claim counted this one
        try:
            if broadcast.photo_file_id:
                await self.bot.send_photo(row.telegram_id, broadcast.photo_file_id,
                                          caption=text or None)
            elif broadcast.document_file_id:
                await self.bot.send_document(row.telegram_id, broadcast.document_file_id,
                                             caption=text or None)
            else:
                await self.bot.send_message(row.telegram_id, text)
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            return Outcome(row, "wait", not_before=self.wall() + timedelta(seconds=seconds))
        except Forbidden:
            return Outcome(row, "blocked", REASON_BLOCKED)
        except TelegramError as exc:
            if maybe_delivered(exc):  # a timeout or a dropped connection: never twice
                return Outcome(row, "failed", REASON_TIMED_OUT)
            # Telegram answered with an error (a 5xx, a refusal) or it never left: not delivered.
            return self._retry(row, attempt, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug or a bad file id: do not loop on it
            log.exception("broadcast %s to %s failed", row.broadcast_id, row.telegram_id)
            return Outcome(row, "failed", type(exc).__name__)
        return Outcome(row, "sent")

    def _retry(self, row: BroadcastRecipient, attempt: int, reason: str) -> Outcome:
        if attempt >= self.settings.broadcast_max_attempts:
            return Outcome(row, "failed", reason)
        return Outcome(row, "retry", reason,
                       not_before=self.wall() + timedelta(seconds=2 * attempt))

    async def _record(self, outcomes: list[Outcome]) -> None:
        """Writes how each row went in one transaction; blocked users are then marked inactive."""
        blocked: list[int] = []
        async with self.sessionmaker() as session:
            await queries.mark_sent(session=session, now=utcnow(), row_ids=[
                outcome.row.id for outcome in outcomes if outcome.status == "sent"])
            for outcome in outcomes:
                row_id = outcome.row.id
                if outcome.status == "sent":
                    continue
                if outcome.status in ("blocked", "failed"):
                    status = (OutboxStatus.BLOCKED if outcome.status == "blocked"
                              else OutboxStatus.FAILED)
                    await queries.mark_finished(session=session, row_id=row_id, status=status,
                                                reason=outcome.reason or "")
                    if outcome.status == "blocked":
                        blocked.append(outcome.row.telegram_id)
                elif outcome.status == "retry":
                    await queries.release(session=session, row_id=row_id,
                                          not_before=outcome.not_before, reason=outcome.reason)
                else:  # wait (429): not an attempt
                    await queries.release(session=session, row_id=row_id,
                                          not_before=outcome.not_before, count_attempt=False)
            await session.commit()
            for telegram_id in blocked:
                await mentor_queries.deactivate_blocked(session=session, telegram_id=telegram_id)
        if blocked:
            log.info("%s broadcast recipients have blocked the bot; marked inactive",
                     len(blocked))

    # --- the coordinator's progress message and final report ------------------------------

    async def _report(self) -> tuple[int, float]:
        """Edits progress messages that are due and finishes broadcasts that are complete.
        Returns how many are still open and how long until the next progress edit."""
        now = self.monotonic()
        every = self.settings.broadcast_progress_seconds
        still_open = 0
        wait = every
        async with self.sessionmaker() as session:
            for broadcast in await queries.open_broadcasts(session=session):
                counts = await queries.tally(session=session, broadcast_id=broadcast.id)
                if counts.finished:
                    if not await self._finish(session, broadcast, counts):
                        still_open += 1
                        wait = min(wait, 1.0)
                    continue
                still_open += 1
                first = self._last_edit.setdefault(broadcast.id, now)
                if now - first >= every:
                    await self._progress(session, broadcast, counts)
                else:
                    wait = min(wait, every - (now - first))
        return still_open, wait

    async def _language(self, session: AsyncSession, broadcast: Broadcast
                        ) -> tuple[str, int | None]:
        """The author's language and Telegram id."""
        if broadcast.created_by not in self._languages:
            author = await session.get(Mentor, broadcast.created_by)
            self._languages[broadcast.created_by] = (
                (author.language or self.settings.language, author.telegram_id)
                if author else (self.settings.language, None))
        return self._languages[broadcast.created_by]

    async def _progress(self, session: AsyncSession, broadcast: Broadcast,
                        counts: queries.Tally) -> None:
        self._last_edit[broadcast.id] = self.monotonic()
        chat_id, message_id = broadcast.progress_chat_id, broadcast.progress_message_id
        if chat_id is None or message_id is None or not self.budget.ready(chat_id):
            return
        lang, _ = await self._language(session, broadcast)
        text = t(lang, "bc.progress", done=counts.done, total=counts.total)
        if self._last_text.get(broadcast.id) == text:
            return
        await self._turn(chat_id)
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
        except RetryAfter as exc:
            self.budget.hold(retry_seconds(exc), chat_id, overall=False)
            return
        except TelegramError as exc:  # "not modified", deleted, blocked: the next one may do
            log.debug("progress of broadcast %s: %s", broadcast.id, exc)
        self._last_text[broadcast.id] = text

    async def _finish(self, session: AsyncSession, broadcast: Broadcast,
                      counts: queries.Tally) -> bool:
        """Puts the final report in place of the progress message, then marks the broadcast
        done; False when that has to wait (a 429, or the progress message not stored yet)."""
        lang, author_id = await self._language(session, broadcast)
        chat_id, message_id = broadcast.progress_chat_id, broadcast.progress_message_id
        if message_id is None:
            # The handler stores it right after creating the broadcast; wait a little for it.
            first = self._orphans.setdefault(broadcast.id, self.monotonic())
            if self.monotonic() - first < ORPHAN_SECONDS:
                return False
            chat_id = chat_id or author_id
        if chat_id is not None and not await self._send_report(broadcast, counts, lang,
                                                                 chat_id, message_id):
            tries = self._final_tries[broadcast.id] = self._final_tries.get(broadcast.id, 0) + 1
            if tries < FINAL_REPORT_TRIES:
                return False
            log.warning("could not report broadcast %s to its author", broadcast.id)
        await queries.finish_broadcast(session=session, broadcast_id=broadcast.id, counts=counts)
        for memo in (self._last_edit, self._last_text, self._orphans, self._final_tries):
            memo.pop(broadcast.id, None)
        log.info("broadcast %s done: %s sent, %s blocked, %s failed of %s", broadcast.id,
                 counts.sent, counts.blocked, counts.failed, counts.total)
        return True

    async def _send_report(self, broadcast: Broadcast, counts: queries.Tally, lang: str,
                           chat_id: int, message_id: int | None) -> bool:
        if not self.budget.ready(chat_id):
            return False
        text = t(lang, "bc.report", sent=counts.sent, total=counts.total,
                 blocked=counts.blocked, failed=counts.failed)
        markup = None
        if counts.blocked or counts.failed:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                t(lang, "bc.show_failed"), callback_data=f"{FAIL_PREFIX}:{broadcast.id}")]])
        await self._turn(chat_id)
        try:
            if message_id is not None:
                try:
                    await self.bot.edit_message_text(text, chat_id=chat_id,
                                                      message_id=message_id,
                                                      reply_markup=markup)
                    return True
                except BadRequest as exc:
                    if "not modified" in str(exc).lower():
                        return True
                    log.info("progress message of broadcast %s gone (%s); sending anew",
                             broadcast.id, exc)
                    await self._turn(chat_id)
            await self.bot.send_message(chat_id, text, reply_markup=markup)
        except RetryAfter as exc:
            self.budget.hold(retry_seconds(exc), chat_id, overall=False)
            return False
        except Forbidden:
            return True  # the author blocked the bot: nobody to tell
        except TelegramError as exc:
            log.warning("final report of broadcast %s: %s", broadcast.id, exc)
            return False
        return True


# --- the one worker of each Application ------------------------------------------------------

_workers: dict[int, Outbox] = {}


async def start(application) -> Outbox:
    """post_init: settles what a crash interrupted, then sends, in the background."""
    worker = Outbox.for_application(application)
    worker.start()
    _workers[id(application)] = worker
    return worker


async def stop(application) -> None:
    """post_shutdown: a clean stop (nothing is left half sent)."""
    worker = _workers.pop(id(application), None)
    if worker is not None:
        await worker.stop()


def wake(application) -> None:
    """A broadcast was just created: send it now rather than at the next look."""
    worker = _workers.get(id(application))
    if worker is not None:
        worker.wake()
