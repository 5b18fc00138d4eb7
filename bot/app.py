"""Builds the Application: settings, database, persistence, handlers in one explicit order."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from datetime import UTC

from telegram.warnings import PTBUserWarning

# Our conversations are per user, and buttons carry ids that handlers re-check, so the
# per_message tracking this warning is about is not wanted.
warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    ExtBot,
)

import scheduler
from bot.core.places import default_index
from bot.core.settings import Settings
from bot.core.texts import t
from bot.problems import SetupProblem
from bot.telegram import confirmations
from bot.telegram.context import BotContext, Services
from bot.telegram.inbox import Inbox
from bot.telegram.persistence import DatabasePersistence
from bot.telegram.processor import PerUserUpdateProcessor
from bot.telegram.ratelimit import PriorityRateLimiter, SendBudget, is_answering
from bot.telegram.transport import maybe_delivered, telegram_request
from bot.web.server import start_dashboard, stop_dashboard
from handlers import (
    agenda,
    approvals,
    broadcasts,
    coordinators,
    dashboard,
    erasure,
    grants,
    group_changes,
    group_chart,
    group_place,
    group_profile,
    group_registration,
    group_stage,
    group_status,
    groups,
    history,
    member_leaving,
    members,
    onboarding,
    reports,
    rollovers,
    schedule,
    system,
    trainings,
    visit_correction,
    visits,
)
from handlers import (
    help as help_handlers,
)
from models import crypto
from models.db import create_engine, create_sessionmaker
from scheduler import outbox

log = logging.getLogger(__name__)

# The command menu, in the order users see it.
MENU_COMMANDS = ("kelompok", "kunjungan", "jadwal", "hibah", "gulir", "pelatihan",
                 "tambah_kelompok", "riwayat", "hapus_anggota", "bantuan", "bahasa", "batal",
                 "start")

async def post_init(application: Application) -> None:
    """Creates the shared services, registers the command menu in both languages and starts
    the dashboard (unless its port is 0)."""
    services: Services = application.bot_data
    # Built once per process and shared: the official areas are read-only.
    services.places = default_index()
    for lang, language_code in (("id", None), ("en", "en")):
        commands = [BotCommand(name, t(lang, f"cmd.{name}")) for name in MENU_COMMANDS]
        await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault(),
                                              language_code=language_code)
    if services.settings.reminders_enabled:
        await scheduler.install(application)
    if services.settings.broadcasts_enabled:
        await outbox.start(application)
    if services.settings.dashboard_port:
        try:
            await start_dashboard(application)
        except SetupProblem as problem:
            # The mentors' bot matters more than the dashboard: it serves on without it
            # (/dasbor says the dashboard is off), and the log says why.
            log.error("the dashboard is off: %s", problem)


async def post_shutdown(application: Application) -> None:
    """Stops the dashboard and the broadcast outbox (cleanly), then closes the database
    connections."""
    services: Services = application.bot_data
    await stop_dashboard(application)
    await outbox.stop(application)
    if services.engine is not None:
        await services.engine.dispose()


# The modules whose handlers answer users (group 0), in the order add_handlers adds them; the
# one list of them (the tests walk it too).
HANDLER_MODULES = (onboarding, group_registration, visits, visit_correction, trainings, grants,
                   rollovers, members, member_leaving, erasure, group_status, group_stage,
                   group_profile, group_place, approvals, broadcasts, coordinators, groups,
                   group_chart, group_changes, reports, dashboard, agenda, schedule, history,
                   help_handlers)


def add_handlers(application: Application) -> None:
    """Adds every handler, new for this Application. Order matters, so it is spelled out here
    and nowhere else.

    Group -2 stops button presses without data (PTB would let them match any button handler);
    redelivered updates never get this far (bot.telegram.inbox). In group 0, conversations
    come first so that an answer to a question (which is plain text) reaches the conversation
    that asked it; then single commands and buttons; the catch-alls last, since they take
    anything. Group 1 persists state after whatever handled the update.
    """
    application.add_handlers(system.empty_buttons(), group=-2)
    application.add_handlers(
        [*(handler for module in HANDLER_MODULES for handler in module.handlers()),
         *help_handlers.catch_all()],
        group=0,
    )
    application.add_handlers(system.last(), group=1)
    application.add_error_handler(system.on_error)


class PendampingBot(ExtBot):
    """The bot, with one forgiveness: a button press answered too late is not an error.

    Telegram refuses to answer a callback query after about 15 seconds or a second time. That
    happens when the database was slow and the update is handled again (handlers.system); the
    answer only stops the button's spinner, so the work must go on without it (also when
    Telegram had a bad moment and the answer failed).
    """

    async def answer_callback_query(self, *args, **kwargs) -> bool:
        try:
            return await super().answer_callback_query(*args, **kwargs)
        except BadRequest as error:
            message = str(error).lower()
            if "query is too old" in message or "query id is invalid" in message:
                log.info("a button press was answered too late; going on")
                return False
            raise
        except (NetworkError, RetryAfter) as error:
            # Telegram had a bad moment: the spinner stops by itself, the work goes on.
            log.info("a button press could not be answered (%s); going on",
                     type(error).__name__)
            return False


    async def _send_message(self, endpoint: str, *args, **kwargs):
        """Every message sent or edited. While an update is handled, one whose answer did not
        come back (a timeout, a dropped connection) is taken as arrived, since it may well
        have: the conversation goes on with the user rather than failing half way, and it is
        never sent again (bot.telegram.transport). Returns None then. A new message is preceded
        by the confirmations held for its chat (bot.telegram.confirmations)."""
        if not endpoint.startswith("edit"):  # a new message: what is held goes before it
            data = args[0] if args else kwargs.get("data", {})
            await confirmations.send_held(self, data.get("chat_id"))
        try:
            return await super()._send_message(endpoint, *args, **kwargs)
        except NetworkError as error:
            if not (is_answering() and maybe_delivered(error)):
                raise
            log.warning("no answer from Telegram to %s (%s); going on as if it arrived",
                        endpoint, type(error).__name__)
            return None


async def _tell(application: Application, update: Update, key: str) -> None:
    """Sends the text ``key`` to the update's chat, in the user's language as last known."""
    user = update.effective_user
    lang = None
    if user is not None:
        lang = application.user_data.get(user.id, {}).get("lang")
    if update.effective_chat is not None:
        await application.bot.send_message(
            update.effective_chat.id, t(lang or application.bot_data.settings.language, key))


def build_application(settings: Settings, *, base_url: str | None = None,
                      may_send: Callable[[], bool] | None = None) -> Application:
    """The whole bot, ready for run_polling / run_webhook or a manual start (bot.serve, bot.localapi.start_application).

    ``may_send``: asked before every request to Telegram (the leadership's, bot.serve); None:
    always allowed. Raises models.crypto.MissingKey without a data key: nothing personal could
    be stored.
    """
    crypto.configure(settings.data_key)
    engine = create_engine(settings.database_url, busy_seconds=settings.database_busy_seconds)
    sessionmaker = create_sessionmaker(engine)
    token = settings.telegram_token.get_secret_value() or "0:demo"
    base_url = base_url or settings.telegram_base_url
    # Files live beside the API: https://api.telegram.org/file/bot<token>/...
    base_file_url = base_url.replace("/bot", "/file/bot", 1) if base_url.endswith("/bot") else None
    # An instance that may no longer send writes no state and marks nothing handled either.
    persistence = DatabasePersistence(sessionmaker, may_write=may_send)
    processor = PerUserUpdateProcessor(
        settings.max_running_updates, burst=settings.throttle_burst,
        per_second=settings.throttle_per_second,
        # A user whose messages the throttle dropped hears to wait and send again.
        on_throttled=lambda update: _tell(application, update, "common.slow_down"),
        on_finished=lambda update: persistence.ensure_handled(update.update_id))
    bot = PendampingBot(
        token=token, base_url=base_url,
        base_file_url=base_file_url or "https://api.telegram.org/file/bot",
        defaults=Defaults(block=True, tzinfo=UTC),
        # The pool sizes python-telegram-bot's builder would choose; timeouts from the settings.
        request=telegram_request(settings, pool_size=256, may_send=may_send),
        get_updates_request=telegram_request(settings, pool_size=1, may_send=may_send),
        # Answers to users first, reminders and broadcasts in what is left (bot.telegram.ratelimit).
        rate_limiter=PriorityRateLimiter(SendBudget.for_settings(settings), max_retries=2))
    application = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=BotContext, bot_data=Services))
        .persistence(persistence)
        # Updates are received by bot.telegram.inbox, which stores them before confirming.
        .updater(None)
        # Users are served side by side, each one's messages in order (bot.telegram.processor).
        .concurrent_updates(processor)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    services: Services = application.bot_data
    services.settings = settings
    services.engine = engine
    services.sessionmaker = sessionmaker
    services.inbox = Inbox(application, sessionmaker, keep_hours=settings.received_keep_hours,
                           body_limit=settings.webhook_body_limit,
                           # Told while the database cannot store the message yet.
                           on_waiting=lambda update: _tell(application, update,
                                                           "common.db_busy"))
    services.may_send = may_send
    add_handlers(application)
    return application
