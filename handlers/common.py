"""What every handler shares: the role guard, question flows with retries, and keyboards."""

from __future__ import annotations

import calendar
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, NetworkError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.core import clock
from bot.core.enums import AreaLevel, MentorStatus, Role
from bot.core.formatting import format_month
from bot.core.parsing import nonexistent_date
from bot.core.patterns import ID  # noqa: F401 - the handlers take it from here, with PAGE
from bot.core.places import Place
from bot.telegram.context import BotContext
from models import drafts
from models import groups as group_queries
from models import mentors as mentor_queries
from models.areas import is_within
from models.tables import Group, Mentor

log = logging.getLogger(__name__)

END = ConversationHandler.END
Callback = Callable[[Update, BotContext], Awaitable[Any]]

# Parts of button data, for the handlers' patterns. Whatever a pattern lets through reaches
# int() and then SQL, so numbers are bounded (a database id fits 64 bits; a modified client
# can send any data up to Telegram's 64 bytes).
PAGE = r"\d{1,4}"
AREA_CODE = r"\d{2}(?:\.\d{2}){0,2}(?:\.\d{4})?"  # "32", "32.02", "32.02.11", "32.02.11.2002"
VILLAGE_CODE = r"\d{2}\.\d{2}\.\d{2}\.\d{4}"

# The labels of the inline buttons sent while a Flow asks a question (None: not asking), so a
# typed answer to that question can be told to press one, with a real label as the example.
_shown_buttons: ContextVar[list[str] | None] = ContextVar("shown_buttons", default=None)

ALL_ROLES = frozenset(Role)
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})


async def say(update: Update, text: str, reply_markup: Any = None) -> Message | None:
    """Sends a new message into the chat the update came from.

    None when no answer came back (a timeout, a dropped connection): the message may well have
    arrived, so the conversation goes on as if it had (bot.app.PendampingBot).
    """
    chat = update.effective_chat
    assert chat is not None
    shown = _shown_buttons.get()
    if shown is not None and isinstance(reply_markup, InlineKeyboardMarkup):
        shown.extend(button.text for row in reply_markup.inline_keyboard for button in row)
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
    except NetworkError as exc:
        # Telegram had a bad moment: the old buttons may stay, and each handler re-checks a
        # press (a second Simpan finds no draft), so the work goes on.
        log.info("close_buttons: %s", type(exc).__name__)


def pressed(query: CallbackQuery) -> str:
    """What a button carries after its last ":" (an id, a value or a field name)."""
    return (query.data or "").rsplit(":", 1)[-1]


async def button_choice(query: CallbackQuery, context: BotContext,
                        among: Iterable[str]) -> str | None:
    """The value of a choice button if it is one of ``among`` (an enum's values); otherwise the
    press is answered as an old button and None returned."""
    value = pressed(query)
    if value not in set(among):
        await query.answer(context.t("common.old_button"))
        return None
    return value


async def pressed_village(query: CallbackQuery, context: BotContext) -> Place | None:
    """The village of a "<prefix>:vil:<code>" button, re-checked: a village inside the user's
    area; otherwise the press is answered as an old button and None returned."""
    code = (query.data or "").split(":", 2)[2]
    place = context.places.get(code)
    area = context.mentor.area_code
    if place is None or place.level != AreaLevel.VILLAGE or (area and not is_within(code, area)):
        await query.answer(context.t("common.old_button"), show_alert=True)
        return None
    return place


def message_text(update: Update) -> str:
    """The text of the update's message ("" for none)."""
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def iso_date(value: str | None) -> date | None:
    """A date kept in a draft as an ISO string, or None."""
    return date.fromisoformat(value) if value else None


def unreadable_date(context: BotContext, text: str, today: date, fallback: str) -> str:
    """The answer to a typed date that could not be read: a day its month does not have
    ("31/02/2026") is named as such, with the month's last day as the example; anything else
    gets ``fallback`` (the question's own "cannot read that date" text)."""
    missing = nonexistent_date(text)
    if missing is None:
        return fallback
    _, month, year = missing
    year = year if year is not None else today.year
    last = calendar.monthrange(year, month)[1]
    example = date(year, month, last)
    return context.t("common.no_such_date", date=" ".join(text.split())[:40],
                     month=format_month(example, context.lang), last=last,
                     example=f"{example:%d/%m/%Y}")


def village_example(context: BotContext) -> str:
    """A village of the user's own area for "Contoh:" in a village question."""
    return context.places.example(int(AreaLevel.VILLAGE), context.mentor.area_code,
                                  default="Sekarwangi")


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


# Only new messages answer a question: an edited old answer (or a live location moving) is not
# an answer to the question asked now.
NEW_TEXT = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND


async def ignore_edit(update: Update, context: BotContext) -> None:
    """An edited message (a corrected old answer, a live location update): nothing to do."""


@dataclass(frozen=True)
class Pick:
    """What a flow's first question picks from buttons (a group, a grant), for Flow.open and
    Flow.picked."""

    step: int  # the question that picks it
    chosen: str  # the draft key set once it is picked ("group_id")
    choices: Callable[[BotContext], Awaitable[list]]  # its buttons; none: nothing to pick from
    find: Callable[[BotContext, int], Awaitable[Any]]  # by id, re-checked (the user's own) or None
    label: Callable[[Any], str]  # what was picked, noted under the question
    begin: Callable[[Update, BotContext, Any], Awaitable[int]]  # into the draft; the next question
    resume: Callable[[BotContext, dict[str, Any]], str]  # "continuing the draft for …"
    none: str  # text key: nothing to pick from
    not_found: str  # text key: not found, or not the user's


QuestionRenderer = Callable[[Update, BotContext], Awaitable[None]]


class Flow:
    """The questions of one conversation, with the draft kept in user_data.

    Each question knows how to ask itself again, so a wrong answer, a sticker or a stray command
    gets a short explanation and the very same question, and the draft is never touched.
    """

    # Every conversation, so that starting one while another is half answered can be refused.
    registry: ClassVar[list[Flow]] = []

    def __init__(self, name: str, *, prefix: str, what: str, summary: int | None = None,
                 edit_key: str = "_edit") -> None:
        self.name = name
        self.prefix = prefix  # callback data prefix of this conversation's buttons
        self.what = what  # text key naming the conversation ("what.visit")
        self.summary = summary  # the state of the summary (Simpan / Ubah / Batal), if any
        # The draft key marking an answer being changed from the summary (kept per flow, as
        # drafts saved by earlier versions name it so).
        self.edit_key = edit_key
        self.questions: dict[int, QuestionRenderer] = {}
        self._summary_route: Callable[[Update, BotContext], Awaitable[int]] | None = None
        self.pick: Pick | None = None  # what the first question picks (set by the module)
        Flow.registry.append(self)

    def question(self, state: int) -> Callable[[QuestionRenderer], QuestionRenderer]:
        def register(renderer: QuestionRenderer) -> QuestionRenderer:
            self.questions[state] = renderer
            return renderer

        return register

    def summary_route(self, route: Callable[[Update, BotContext], Awaitable[int]]
                      ) -> Callable[[Update, BotContext], Awaitable[int]]:
        """Registers the way to the summary when it is not simply asking it (a question that must
        come first, such as a confirmation)."""
        self._summary_route = route
        return route

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

    async def end_with_save(self, update: Update, context: BotContext) -> None:
        """Ends the draft and the conversation in the transaction of the save that follows
        (call it right before the query that saves and commits): a crash after that commit
        cannot leave a draft to be saved a second time (models.drafts)."""
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None and context.user_data is not None
        remaining = {key: value for key, value in context.user_data.items() if key != self.key}
        await drafts.end_in_transaction(
            session=context.session, user_id=user.id, user_data=remaining,
            conversation=self.name, key=drafts.conversation_key(chat.id, user.id))

    def current(self, context: BotContext) -> int | None:
        """The question being answered, or None (reads without creating a draft)."""
        if context.user_data is None:
            return None
        return context.user_data.get(self.key, {}).get("_state")

    def today(self, context: BotContext) -> date:
        """Today where the draft's group is (its province's time zone), else where the mentor
        works."""
        village = self.draft(context).get("village_code")
        if village:
            return clock.today_for(village)
        mentor = context.mentor
        return clock.today_for(mentor.area_code if mentor else None)

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
        await self._render(update, context, state)
        return state

    async def _render(self, update: Update, context: BotContext, state: int) -> None:
        """Asks the question of ``state``, noting the labels of the buttons it shows in the draft
        ("_buttons"), for press_a_button."""
        token = _shown_buttons.set([])
        try:
            await self.questions[state](update, context)
            labels = _shown_buttons.get() or []
        finally:
            _shown_buttons.reset(token)
        if context.user_data is None or self.key not in context.user_data:
            return  # the question ended the conversation (nothing left to pick from)
        draft = self.draft(context)
        if labels:
            draft["_buttons"] = labels[:20]
        else:
            draft.pop("_buttons", None)

    async def retry(self, update: Update, context: BotContext, state: int, error: str) -> int:
        """Explains what was wrong (with an example), then asks the same question again."""
        draft = self.draft(context)
        draft["_state"] = int(state)
        draft["_misses"] = draft.get("_misses", 0) + 1
        if draft["_misses"] >= context.settings.max_wrong_answers:
            error = f"{error}\n\n{context.t('common.offer_cancel')}"
        await say(update, error)
        await self._render(update, context, state)
        return state

    async def press_a_button(self, update: Update, context: BotContext) -> int:
        """Typed text where the question is answered by a button: says so, with one of the
        question's own buttons as the example, and asks it again with its buttons (nothing in the
        draft changes). A question whose buttons are not known gets the general "cannot read"."""
        state = self.current(context)
        if state is None:
            return END
        skip = {context.t("common.cancel"), context.t("common.back")}
        labels = [label for label in self.draft(context).get("_buttons", []) if label not in skip]
        if not labels:
            return await self.retry(update, context, state, context.t("common.wrong_kind"))
        return await self.retry(update, context, state,
                                context.t("common.use_buttons", button=labels[0]))

    async def reask(self, update: Update, context: BotContext) -> int:
        """For input of the wrong kind (a sticker, a photo, a stray command): same question again."""
        state = self.current(context)
        if state is None:
            return END
        if update.callback_query is not None:
            await update.callback_query.answer(context.t("common.old_button"), show_alert=False)
            return state
        if message_text(update).strip():
            # Text where no text answer is taken: the question is answered by its buttons.
            return await self.press_a_button(update, context)
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
        await self._render(update, context, state)
        return state

    async def stop(self, update: Update, context: BotContext, *texts: str,
                   remove_keyboard: bool = False) -> int:
        """Drops the draft, says ``texts`` (why there is nothing to ask; the last one removing a
        reply keyboard if asked) and ends."""
        self.clear(context)
        for no, text in enumerate(texts, start=1):
            markup = ReplyKeyboardRemove() if remove_keyboard and no == len(texts) else None
            await say(update, text, reply_markup=markup)
        return END

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

    # --- starting: the command, a start button, the first question's buttons ---------------------

    async def open(self, update: Update, context: BotContext) -> int:
        """The command or a start button ("<prefix>:start:<id>", the id re-checked): an unfinished
        draft is continued where it stopped (nothing typed is thrown away); else the command asks
        the first question and the button begins with its subject."""
        pick = self._pick()
        if await self.other_in_progress(update, context):
            return END
        query = update.callback_query
        if query is not None:
            await query.answer()
        resumed = await self._resume(update, context)
        if resumed is not None:
            return resumed
        if query is None:
            if not await pick.choices(context):
                return await self.stop(update, context, context.t(pick.none))
            self.start(context)
            return await self.ask(update, context, pick.step)
        self.start(context)
        found = await pick.find(context, int(pressed(query)))
        if found is not None:
            return await pick.begin(update, context, found)
        if not await pick.choices(context):
            return await self.stop(update, context, context.t(pick.not_found),
                                   context.t(pick.none))
        return await self.retry(update, context, pick.step, context.t(pick.not_found))

    async def picked(self, update: Update, context: BotContext) -> int:
        """A button of the first question: its subject, re-checked, noted and begun with."""
        pick = self._pick()
        query = update.callback_query
        assert query is not None
        found = await pick.find(context, int(pressed(query)))
        if found is None:
            await close_buttons(query)
            return await self.retry(update, context, pick.step, context.t(pick.not_found))
        await close_buttons(query, pick.label(found))
        return await pick.begin(update, context, found)

    async def picked_by_name(self, update: Update, context: BotContext) -> int:
        """Text at the first question: the one choice whose label holds what was typed (any
        case, 3 letters or more) counts as pressed, re-checked like a press. Otherwise the same
        question again, with one of the real choices as the example."""
        pick = self._pick()
        typed = " ".join(message_text(update).lower().split())
        buttons = await pick.choices(context)
        hits = [data for label, data in buttons if len(typed) >= 3 and typed in label.lower()]
        if len(hits) == 1:
            found = await pick.find(context, int(hits[0].rsplit(":", 1)[1]))
            if found is not None:
                await say(update, f"✓ {pick.label(found)}")
                return await pick.begin(update, context, found)
        example = buttons[0][0] if buttons else ""
        return await self.retry(update, context, pick.step,
                                context.t("common.pick_by_name", example=example))

    async def _resume(self, update: Update, context: BotContext) -> int | None:
        """Asks an unfinished draft's question again, after saying what it is about; None when
        there is none (nothing picked yet)."""
        pick = self._pick()
        draft = self.draft(context)
        state = draft.get("_state")
        if not draft.get(pick.chosen) or state not in self.questions or state == pick.step:
            return None
        await say(update, pick.resume(context, draft))
        return await self.ask(update, context, self._step(state))

    def _step(self, state: int) -> int:
        """The state as registered (the module's IntEnum member) for a stored int."""
        return next(step for step in self.questions if step == state)

    def _pick(self) -> Pick:
        assert self.pick is not None, f"{self.name}: no Pick set"
        return self.pick

    async def use_buttons(self, update: Update, context: BotContext, examples: Mapping[int, str],
                          *, default: str, text: str) -> int:
        """Typed text where a button was expected: ``text`` with the question's example (a text
        key from ``examples``, else ``default``), then the same question again."""
        state = self._step(self.current(context) or self._pick().step)
        example = context.t(examples.get(state, default))
        return await self.retry(update, context, state, context.t(text, example=example))

    # --- answers ---------------------------------------------------------------------------------

    async def choose(self, update: Update, context: BotContext, *, store: str,
                     among: Iterable[str], label: str, then: int) -> int | None:
        """A choice button: stores its value (one of ``among``, else answered as an old button)
        under ``store``, notes the choice (text key ``label.<value>``) and goes to ``then`` (or
        back to the summary)."""
        query = update.callback_query
        assert query is not None
        value = await button_choice(query, context, among)
        if value is None:
            return self.current(context)
        self.draft(context)[store] = value
        await close_buttons(query, context.t(f"{label}.{value}"))
        return await self.next(update, context, then)

    def skip_keyboard(self, context: BotContext, field: str) -> InlineKeyboardMarkup:
        """Lewati under an optional question ("<prefix>:skip:<field>")."""
        return keyboard([[(context.t("common.skip"), f"{self.prefix}:skip:{field}")]])

    async def skip(self, update: Update, context: BotContext,
                   stores: Mapping[str, Callable[[Update, BotContext, str], Awaitable[int]]]
                   ) -> int:
        """Lewati on an optional question: notes it and stores "-" through ``stores[field]``."""
        query = update.callback_query
        assert query is not None
        await close_buttons(query, context.t("common.skip"))
        return await stores[pressed(query)](update, context, "-")

    async def offer_villages(self, update: Update, context: BotContext, step: int, text: str, *,
                             texts: str, more: Iterable[tuple[str, str]] = ()) -> int:
        """Offers the villages inside the user's area closest to ``text`` as buttons
        ("<prefix>:vil:<code>", then ``more``); none: says so ("<texts>.village_not_found") and
        asks ``step`` again."""
        area = context.mentor.area_code
        matches = context.places.search(text, levels={int(AreaLevel.VILLAGE)}, within=area,
                                        limit=6) if len(text) >= 2 else []
        if not matches:
            place = context.places.get(area) if area else None
            return await self.retry(update, context, step, context.t(
                f"{texts}.village_not_found", query=text or "…",
                area=place.label if place else "-", example=village_example(context)))
        buttons = [(place.label, f"{self.prefix}:vil:{place.code}") for place in matches]
        buttons.extend(more)
        await say(update, context.t(f"{texts}.pick_village"), reply_markup=column(buttons))
        return step

    async def next(self, update: Update, context: BotContext, step: int) -> int:
        """Goes to ``step``, or back to the summary when the user was changing one answer."""
        if self.editing(context):
            return await self.sum_up(update, context)
        return await self.ask(update, context, step)

    # --- the summary, and changing one answer from it --------------------------------------------

    def summary_keyboard(self, context: BotContext) -> InlineKeyboardMarkup:
        """Simpan / Ubah / Batal under the summary."""
        return keyboard([[(context.t("common.save"), f"{self.prefix}:save"),
                          (context.t("common.edit"), f"{self.prefix}:edit"),
                          (context.t("common.cancel"), f"{self.prefix}:cancel")]])

    def edit_keyboard(self, context: BotContext, labels: str,
                      fields: Iterable[str]) -> InlineKeyboardMarkup:
        """The fields that can be changed (two a row, named by the ``labels`` text keys), and
        « Kembali."""
        buttons = [(context.t(f"{labels}.{field}"), f"{self.prefix}:edit:{field}")
                   for field in fields]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        rows.append([(context.t("common.back"), f"{self.prefix}:back")])
        return keyboard(rows)

    async def swap_buttons(self, update: Update, context: BotContext,
                           markup: InlineKeyboardMarkup) -> int:
        """Puts ``markup`` under the summary in place (Ubah, « Kembali); a summary that is gone is
        sent again."""
        assert self.summary is not None
        query = update.callback_query
        assert query is not None
        await query.answer()
        try:
            await query.edit_message_reply_markup(reply_markup=markup)
        except BadRequest as exc:
            if "not modified" in str(exc).lower():  # a double tap
                return self.summary
            return await self.ask(update, context, self.summary)  # the message is gone: resend
        return self.summary

    async def edit_field(self, update: Update, context: BotContext, steps: Mapping[str, int],
                         labels: str) -> int:
        """A field button under the summary: notes "Ubah: <field>", marks it as being changed
        and asks its question again."""
        query = update.callback_query
        assert query is not None
        field = pressed(query)
        await close_buttons(query, context.t("common.edit") + ": "
                            + context.t(f"{labels}.{field}"))
        self.set_editing(context, field)
        return await self.ask(update, context, steps[field])

    def editing(self, context: BotContext) -> Any:
        """The answer being changed from the summary (a field name), or nothing."""
        return self.draft(context).get(self.edit_key)

    def set_editing(self, context: BotContext, field: str | None) -> None:
        """Marks ``field`` as being changed (its answer leads back to the summary); None unmarks."""
        self.draft(context)[self.edit_key] = field

    async def sum_up(self, update: Update, context: BotContext) -> int:
        """Shows the summary (by its route, if one is registered); no answer is being changed."""
        assert self.summary is not None
        self.set_editing(context, None)
        if self._summary_route is not None:
            return await self._summary_route(update, context)
        return await self.ask(update, context, self.summary)

    def complete(self, context: BotContext, required: Iterable[str]) -> bool:
        """Whether the draft has every one of the ``required`` answers."""
        draft = self.draft(context)
        return all(draft.get(key) is not None for key in required)

    async def stale(self, update: Update, context: BotContext) -> int:
        """A button of a draft that is gone or not complete (an old summary): says so in an alert
        and stays at the current question."""
        assert update.callback_query is not None
        await update.callback_query.answer(context.t("common.old_button"), show_alert=True)
        return self.current(context) or END


def choice_labels(context: BotContext, vocabulary: str, values: Iterable[str]) -> Mapping[str, str]:
    return {value: context.t(f"{vocabulary}.{value}") for value in values}


async def own_group(context: BotContext, group_id: int) -> Group | None:
    """The group if the current user is its mentor (the check every mentor action repeats)."""
    return await group_queries.get_own(session=context.session, group_id=group_id,
                                       mentor=context.mentor)


def village_hint(context: BotContext, villages: list) -> str:
    """"Warnajati is a village in Kec. Cibadak …" before a list of work areas, when a village
    name was typed (PlaceIndex.search_work_area); empty otherwise."""
    return "".join(context.t("area.village_hint", village=village.label,
                             district=context.places.parents(village.code)[0].label) + "\n\n"
                   for village in villages[:2])
