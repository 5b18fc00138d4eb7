"""What every handler shares: the role guard, saying things, buttons and keyboards. Question
flows (conversations) are in handlers.flow."""

from __future__ import annotations

import asyncio
import calendar
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from datetime import date
from typing import Any, TypeVar

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, NetworkError
from telegram.ext import ConversationHandler

from bot.core.enums import AreaLevel, MentorStatus, Role
from bot.core.formatting import format_month
from bot.core.parsing import nonexistent_date
from bot.core.places import Place, village_kind
from bot.telegram import confirmations
from bot.telegram.context import BotContext
from models import changes
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

# The inline buttons ((label, data)s) sent while a Flow asks a question, each keyboard with the
# id of its message (None: not asking), so a typed answer to that question can name one of
# them (handlers.questions: its label, its start or its number).
Shown = tuple[list[tuple[str, str]], int | None]
shown_buttons: ContextVar[list[Shown] | None] = ContextVar("shown_buttons", default=None)
# Buttons that take the place of a question's own when it is asked again: the keyboard a typed
# press changed (a ticked box, Ubah's fields), sent anew under its question (TypedPress).
replaced_buttons: ContextVar[InlineKeyboardMarkup | None] = ContextVar("replaced_buttons",
                                                                       default=None)
# A question asked only to learn its buttons, nothing sent (a draft of an earlier version,
# which kept their labels only).
unsent: ContextVar[bool] = ContextVar("unsent", default=False)

ALL_ROLES = frozenset(Role)
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})


async def say_first(update: Update, text: str) -> None:
    """Says ``text`` on top of the update's next message (the question that follows it): one
    message to wait for on a weak signal instead of two, one call to Telegram less. Sent on
    its own if nothing follows (bot.telegram.confirmations)."""
    chat = update.effective_chat
    assert chat is not None
    if not confirmations.hold(chat.id, text):
        await say(update, text)


async def say(update: Update, text: str, reply_markup: Any = None, *,
              typed: Sequence[tuple[str, str]] = ()) -> Message | None:
    """Sends a new message into the chat the update came from.

    None when no answer came back (a timeout, a dropped connection): the message may well have
    arrived, so the conversation goes on as if it had (bot.app.PendampingBot). ``typed``: the
    buttons of a reply keyboard that stand for a flow's buttons ((label, data)s; a reply
    keyboard's button only sends its label as text), so that text naming one presses it as a
    typed inline button is pressed (handlers.questions).
    """
    chat = update.effective_chat
    assert chat is not None
    if isinstance(reply_markup, InlineKeyboardMarkup):
        reply_markup = replaced_buttons.get() or reply_markup
    sent = None if unsent.get() else await chat.send_message(confirmations.fold(chat.id, text),
                                                             reply_markup=reply_markup)
    shown = shown_buttons.get()
    if shown is not None and isinstance(reply_markup, InlineKeyboardMarkup):
        shown.append(([(button.text, button.callback_data) for row in reply_markup.inline_keyboard
                       for button in row if isinstance(button.callback_data, str)],
                      sent.message_id if sent is not None else None))
    if shown is not None and typed:
        shown.append((list(typed), None))  # no inline keyboard to take away once pressed
    return sent


async def confirm(update: Update, text: str) -> None:
    """Says ``text`` ("✓ Rp 200.000", what a typed answer was taken as) on top of the next
    message of this update, else on its own at its end (bot.telegram.confirmations): one
    message instead of two."""
    chat = update.effective_chat
    assert chat is not None
    await _confirm_in(chat, text)


async def _confirm_in(chat: Chat, text: str) -> None:
    """confirm, in ``chat``."""
    if not unsent.get() and not confirmations.hold(chat.id, text):
        await chat.send_message(text)


class TypedPress(CallbackQuery):
    """A button pressed by typing its label, its start or its number (handlers.questions):
    handed to the button's own handler as its press, so the same checks and the same changes
    follow. There is no callback query to answer and no message of the bot to edit in place:
    an answer's words are said in the chat, the question's buttons (``shown_at``) are taken
    away, and a changed keyboard or text is sent anew (``resend`` asks the question again
    with it)."""

    def __init__(self, message: Message, *, data: str, label: str, shown_at: int | None,
                 resend: Callable[[InlineKeyboardMarkup | None], Awaitable[None]]) -> None:
        assert message.from_user is not None
        super().__init__(id=f"typed:{message.message_id}", from_user=message.from_user,
                         chat_instance=str(message.chat.id), message=message, data=data)
        with self._unfrozen():
            self.label = label
            self.shown_at = shown_at
            self.resend = resend
            self.said: list[str] = []  # what answer() said (a refusal, an "old button")
        self.set_bot(message.get_bot())

    @property
    def chat(self) -> Chat:
        assert isinstance(self.message, Message)
        return self.message.chat

    async def answer(self, text: str | None = None, show_alert: bool | None = None,
                     *args: Any, **kwargs: Any) -> bool:
        """Says ``text`` (an alert or a toast of a real press) in the chat."""
        if text:
            self.said.append(text)
            await self.chat.send_message(text)
        return True

    async def take_buttons_away(self) -> None:
        """Takes the keyboard off the question that showed the button: pressed once, by typing."""
        if self.shown_at is None:
            return
        try:
            await self.get_bot().edit_message_reply_markup(chat_id=self.chat.id,
                                                           message_id=self.shown_at)
        except (BadRequest, NetworkError) as exc:  # gone, or already without buttons
            log.debug("typed press: %s", type(exc).__name__)

    async def close(self, note: str | None) -> None:
        """close_buttons for a typed press: the buttons taken away, "✓ <note>" said."""
        await self.take_buttons_away()
        if note:  # one mark, as under a tapped button: "✓ Simpan sekarang", not "✓ 💾 …"
            await _confirm_in(self.chat, f"✓ {without_marks(note)}")

    async def edit_message_reply_markup(self, reply_markup: InlineKeyboardMarkup | None = None,
                                        *args: Any, **kwargs: Any) -> bool:
        """The question again, with ``reply_markup`` (a ticked box, Ubah's fields)."""
        await self.take_buttons_away()
        await self.resend(reply_markup)
        return True

    async def edit_message_text(self, text: str, *args: Any, **kwargs: Any) -> bool:
        """``text`` sent anew (with its ``reply_markup``)."""
        await self.take_buttons_away()
        await self.chat.send_message(text, reply_markup=kwargs.get("reply_markup"))
        return True


async def close_buttons(query: CallbackQuery, note: str | None = None) -> None:
    """Answers a button press and removes the keyboard, so old buttons cannot be pressed twice.

    With ``note`` the pressed choice is written under the question, so the chat reads as a record:
    "✓ Simpan" for a button "✅ Simpan" (one mark, not "✓ ✅").
    """
    if isinstance(query, TypedPress):
        await query.close(note)
        return
    message = query.message
    if not isinstance(message, Message) or not (note and message.text or message.reply_markup):
        await query.answer()
        return
    # The answer (which stops the button's spinner) and the edit go out side by side: one round
    # trip to Telegram instead of two before the next question. A late or failed answer is
    # gone past (bot.app.PendampingBot), so the edit never waits on it.
    answered = asyncio.ensure_future(query.answer())
    try:
        if note and message.text:
            await message.edit_text(f"{message.text}\n\n✓ {without_marks(note)}",
                                    reply_markup=None)
        else:
            await message.edit_reply_markup(reply_markup=None)
    except BadRequest as exc:  # already edited (a double tap): nothing to do
        log.debug("close_buttons: %s", exc)
    except NetworkError as exc:
        # Telegram had a bad moment: the old buttons may stay, and each handler re-checks a
        # press (a second Simpan finds no draft), so the work goes on.
        log.info("close_buttons: %s", type(exc).__name__)
    finally:
        await answered


def without_marks(note: str) -> str:
    """The note without the emoji or marks a button label starts with ("✅ ", "❌ ", "📅 ",
    "« "); a note that is nothing else stays as it is."""
    at = 0
    while at < len(note) and not (note[at].isalnum() or note[at] in "\"'(-+<"):
        at += 1
    return note[at:] or note


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


def typed_search(update: Update) -> str:
    """What was typed to search by (a place's name): spaces folded, 60 characters at most."""
    return " ".join(message_text(update).split())[:60]


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


async def redraw(update: Update, text: str,
                 reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Shows ``text`` in place of the pressed message (a page turned, or changed by one of its
    own buttons); sent anew when that message cannot be edited. Unchanged text is left be."""
    query = update.callback_query
    message = query.message if query is not None else None
    if isinstance(query, TypedPress):
        await query.take_buttons_away()
    elif isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=reply_markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.debug("cannot edit the pressed message, sending anew: %s", exc)
    await say(update, text, reply_markup=reply_markup)


def back_to_group(context: BotContext, group_id: int) -> InlineKeyboardMarkup:
    """One button back to the group's detail, under what was just saved for it: the next
    change is one tap away instead of /kelompok and two presses."""
    return keyboard([[(context.t("grp.btn.back_to_group"), f"kel:det:{group_id}")]])


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
    username = user.username.lower() if user.username else None
    if mentor is not None and mentor.username != username:  # rare: only when it changed
        await mentor_queries.note_username(session=context.session, mentor=mentor,
                                           username=username)
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



T = TypeVar("T")


async def answer_found(query: CallbackQuery, context: BotContext, found: T | None,
                       not_found: str) -> T | None:
    """Answers a press on a button that names a record the caller looked up (and so
    re-checked): an alert with the text ``not_found`` when there is none; returns the record."""
    if found is None:
        await query.answer(context.t(not_found), show_alert=True)
        return None
    await query.answer()
    return found


async def pressed_group(query: CallbackQuery, context: BotContext) -> Group | None:
    """The group a "<prefix>:<action>:<id>" button names, if the user may see it (its mentor,
    its area's coordinators, admins); the press is answered, with an alert when not."""
    group = await group_queries.get_visible(session=context.session,
                                            group_id=int((query.data or "").split(":")[2]),
                                            actor=context.mentor)
    return await answer_found(query, context, group, "grp.not_found")


async def own_group(context: BotContext, group_id: int) -> Group | None:
    """The group if the current user is its mentor and its records may still change (the
    check every mentor action that writes repeats): a dissolved group is read-only."""
    return await group_queries.get_writable(session=context.session, group_id=group_id,
                                            mentor=context.mentor)


async def pressed_manageable(update: Update, context: BotContext, *,
                             writable: bool = True) -> Group | None:
    """The group a "<prefix>:start:<id>" button names, if the user may manage it (its mentor,
    or a coordinator or admin of its area) and, when ``writable``, it is not dissolved;
    otherwise answers the press with why (an alert) and returns None."""
    query = update.callback_query
    group = await group_queries.get_manageable(session=context.session,
                                               group_id=int(pressed(query)),
                                               actor=context.mentor)
    if group is None:
        await query.answer(context.t("grp.not_found"), show_alert=True)
    elif writable and changes.is_read_only(group):
        await query.answer(context.t("life.read_only", group=group.name), show_alert=True)
        group = None
    return group


async def read_only_text(context: BotContext, group_id: int) -> str | None:
    """The kind words for a group the user sees but cannot write to because it is dissolved
    ("… sudah bubar; catatannya tetap bisa dilihat"), else None (not theirs, or not there)."""
    group = await group_queries.dissolved_own(session=context.session, group_id=group_id,
                                              actor=context.mentor)
    return context.t("life.read_only", group=group.name) if group is not None else None


def village_hint(context: BotContext, villages: list) -> str:
    """"Warnajati is a village in Kec. Cibadak …" before a list of work areas, when a village
    name was typed (PlaceIndex.search_work_area); empty otherwise."""
    return "".join(context.t("area.village_hint", village=village.name,
                             kind=context.t(f"place.{village_kind(village.code)}"),
                             district=context.places.parents(village.code)[0].label) + "\n\n"
                   for village in villages[:2])
