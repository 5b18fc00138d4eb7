"""What every handler shares: the role guard, question flows with retries, and keyboards."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from models import mentors as mentor_queries
from models.enums import MentorStatus, Role
from models.tables import Mentor

log = logging.getLogger(__name__)

END = ConversationHandler.END
Callback = Callable[[Update, BotContext], Awaitable[Any]]

ALL_ROLES = frozenset(Role)
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})


async def say(update: Update, text: str, reply_markup: Any = None) -> Message:
    """Sends a new message into the chat the update came from."""
    chat = update.effective_chat
    assert chat is not None
    return await chat.send_message(text, reply_markup=reply_markup)


async def close_buttons(query: CallbackQuery, note: str | None = None) -> None:
    """Answers a button press and removes the keyboard, so old buttons cannot be pressed twice.

    With ``note`` the pressed choice is written under the question, so the chat reads as a record.
    """
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    try:
        if note and message.text:
            await message.edit_text(f"{message.text}\n\n✓ {note}", reply_markup=None)
        elif message.reply_markup:
            await message.edit_reply_markup(reply_markup=None)
    except BadRequest as exc:  # already edited (a double tap): nothing to do
        log.debug("close_buttons: %s", exc)


def keyboard(rows: Iterable[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (text, callback_data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def column(buttons: Iterable[tuple[str, str]], per_row: int = 1) -> InlineKeyboardMarkup:
    items = list(buttons)
    return keyboard(items[i : i + per_row] for i in range(0, len(items), per_row))


async def load_user(update: Update, context: BotContext) -> Mentor | None:
    """Loads the user's record into ``context.mentor``.

    An admin named in the settings is an active admin from their first update on, even
    before /start, so an approval request can be answered straight away.
    """
    user = update.effective_user
    if user is None:
        context.mentor = None
        return None
    mentor = await mentor_queries.get_by_telegram_id(session=context.session,
                                                     telegram_id=user.id)
    if user.id in context.settings.admin_ids and (
        mentor is None or mentor.role != Role.ADMIN or mentor.status != MentorStatus.ACTIVE
    ):
        mentor = await mentor_queries.ensure_admin(
            session=context.session, telegram_id=user.id, name=user.full_name,
            language=context.lang)
    context.mentor = mentor
    return mentor


def guard(roles: frozenset[Role] | set[Role] = ALL_ROLES) -> Callable[[Callback], Callback]:
    """Opens the update's session, loads the user and lets only active users of ``roles`` through.

    Every handler but onboarding goes through this, so a button or command can never act for
    someone the database does not say may act.
    """

    def decorator(callback: Callback) -> Callback:
        @functools.wraps(callback)
        async def wrapper(update: Update, context: BotContext) -> Any:
            async with context.open_session():
                mentor = await load_user(update, context)
                if mentor is None or mentor.status != MentorStatus.ACTIVE or mentor.role not in roles:
                    await refuse(update, context)
                    return END
                return await callback(update, context)

        return wrapper

    return decorator


def with_session(callback: Callback) -> Callback:
    """Opens the update's session and loads the user (if registered) without checking roles."""

    @functools.wraps(callback)
    async def wrapper(update: Update, context: BotContext) -> Any:
        async with context.open_session():
            await load_user(update, context)
            return await callback(update, context)

    return wrapper


async def refuse(update: Update, context: BotContext) -> None:
    """Tells a user politely why they cannot do this (not registered, waiting, or not allowed)."""
    mentor = context.mentor
    if mentor is None:
        key = "guard.unknown"
    elif mentor.status == MentorStatus.PENDING:
        key = "guard.pending"
    elif mentor.status in (MentorStatus.INACTIVE, MentorStatus.REJECTED):
        key = "guard.inactive"
    else:
        key = "guard.not_allowed"
    text = context.t(key)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await say(update, text)


QuestionRenderer = Callable[[Update, BotContext], Awaitable[None]]


class Flow:
    """The questions of one conversation, with the draft kept in user_data.

    Each question knows how to ask itself again, so a wrong answer, a sticker or a stray command
    gets a short explanation and the very same question, and the draft is never touched.
    """

    # Every conversation, so that starting one while another is half answered can be refused.
    registry: ClassVar[list[Flow]] = []

    def __init__(self, name: str, *, prefix: str, what: str) -> None:
        self.name = name
        self.prefix = prefix  # callback data prefix of this conversation's buttons
        self.what = what  # text key naming the conversation ("what.visit")
        self.questions: dict[int, QuestionRenderer] = {}
        Flow.registry.append(self)

    def question(self, state: int) -> Callable[[QuestionRenderer], QuestionRenderer]:
        def register(renderer: QuestionRenderer) -> QuestionRenderer:
            self.questions[state] = renderer
            return renderer

        return register

    @property
    def key(self) -> str:
        return f"draft:{self.name}"

    def draft(self, context: BotContext) -> dict[str, Any]:
        assert context.user_data is not None
        return context.user_data.setdefault(self.key, {})

    def start(self, context: BotContext, **values: Any) -> dict[str, Any]:
        assert context.user_data is not None
        context.user_data[self.key] = dict(values)
        return context.user_data[self.key]

    def clear(self, context: BotContext) -> None:
        if context.user_data is not None:
            context.user_data.pop(self.key, None)

    def current(self, context: BotContext) -> int | None:
        """The question being answered, or None (reads without creating a draft)."""
        if context.user_data is None:
            return None
        return context.user_data.get(self.key, {}).get("_state")

    async def other_in_progress(self, update: Update, context: BotContext) -> bool:
        """True (after saying so and asking its question again) when another conversation is
        half answered: one at a time, so typed answers never go to the wrong one."""
        for other in Flow.registry:
            if other is not self and other.current(context) is not None:
                if update.callback_query is not None:
                    await update.callback_query.answer()
                await other.busy(update, context)
                return True
        return False

    async def ask(self, update: Update, context: BotContext, state: int) -> int:
        """Asks the question of ``state`` and remembers it as the current one."""
        draft = self.draft(context)
        if draft.get("_state") != state:
            draft["_misses"] = 0
        draft["_state"] = int(state)
        await self.questions[state](update, context)
        return state

    async def retry(self, update: Update, context: BotContext, state: int, error: str) -> int:
        """Explains what was wrong (with an example), then asks the same question again."""
        draft = self.draft(context)
        draft["_state"] = int(state)
        draft["_misses"] = draft.get("_misses", 0) + 1
        if draft["_misses"] >= context.settings.max_wrong_answers:
            error = f"{error}\n\n{context.t('common.offer_cancel')}"
        await say(update, error)
        await self.questions[state](update, context)
        return state

    async def reask(self, update: Update, context: BotContext) -> int:
        """For input of the wrong kind (a sticker, a photo, a stray command): same question again."""
        state = self.current(context)
        if state is None:
            return END
        if update.callback_query is not None:
            await update.callback_query.answer(context.t("common.old_button"), show_alert=False)
            return state
        return await self.retry(update, context, state, context.t("common.wrong_kind"))


    async def cancel(self, update: Update, context: BotContext) -> int:
        """/batal (or the Batal button): drops the draft and says nothing was saved."""
        self.clear(context)
        if update.callback_query is not None:
            await close_buttons(update.callback_query)
        await say(update, context.t("common.cancelled"), reply_markup=ReplyKeyboardRemove())
        return END

    async def busy(self, update: Update, context: BotContext) -> int:
        """Another command in the middle: finish or cancel this one first."""
        await say(update, context.t("common.busy", what=context.t(self.what)))
        state = self.current(context)
        if state is None:
            return END
        await self.questions[state](update, context)
        return state

    def fallbacks(self) -> list[BaseHandler]:
        """/batal, stray commands, wrong kinds of input and this flow's stale buttons."""
        cancel, busy, reask = (with_session(self.cancel), with_session(self.busy),
                               with_session(self.reask))
        return [
            CommandHandler("batal", cancel),
            CallbackQueryHandler(cancel, pattern=rf"^{self.prefix}:cancel$"),
            MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, busy),
            # Edits (a corrected old answer, a live location moving) are not new answers.
            MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, reask),
            CallbackQueryHandler(reask, pattern=rf"^{self.prefix}:"),
        ]


def choice_labels(context: BotContext, vocabulary: str, values: Iterable[str]) -> Mapping[str, str]:
    return {value: context.t(f"{vocabulary}.{value}") for value in values}
