"""Conversations declared once: a Flow is one conversation's questions (handlers.questions:
the draft in user_data, asking, retries, the summary) and builds its ConversationHandler for
each Application.

A module declares its states' own handlers as a mapping (how an answer comes → the callback
that takes it); the Flow adds what every conversation has the same: the entry points of a
picking conversation, the first question's buttons and typed names, the summary's Simpan /
Ubah / fields / « Kembali, /batal and the other fallbacks, persistence, and one text filter
that never takes an edited message. The Flow also owns the state: whatever a callback returns
is recorded in the draft ("_state"), so the draft and PTB never disagree on the question.
A button may be pressed by typing it (Flow.typed_press): its press goes to the state's own
handler of it, so one place serves every question with buttons.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.ext.filters import BaseFilter

from bot.core.enums import Role
from bot.core.parsing import typed_button
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import (
    ALL_ROLES,
    END,
    Callback,
    TypedPress,
    close_buttons,
    confirm,
    guard,
    message_text,
    pressed,
    replaced_buttons,
    say,
    with_session,
    without_marks,
)
from handlers.questions import Questions

log = logging.getLogger(__name__)

# Only new messages answer a question: an edited old answer (or a live location moving) is not
# an answer to the question asked now. TEXT is the one filter of every typed answer; other kinds
# of answer (a photo, a location, a contact) are new messages of that kind (NEW & kind).
NEW = filters.UpdateType.MESSAGE
TEXT = NEW & filters.TEXT & ~filters.COMMAND

# How an answer comes, in a state's mapping: a button ("date:today": the data after the
# flow's prefix, a regex), a command in the entry points ("/kunjungan"), TEXT, or another
# kind of new message (filters.PHOTO).
Answers = Mapping[str | BaseFilter, Callback]


async def ignore_edit(update: Update, context: BotContext) -> None:
    """An edited message (a corrected old answer, a live location update): nothing to do."""


@dataclass(frozen=True)
class Pick:
    """What a flow's first question picks from buttons (a group, a grant): the flow starts by
    its command or a "<prefix>:start:<id>" button (Flow.open) and takes a press of
    "<prefix>:<button>:<id>" or a typed name (Flow.picked, Flow.picked_by_name)."""

    command: str  # the command starting the flow ("kunjungan")
    button: str  # the data of the first question's buttons after the prefix ("group")
    step: int  # the question that picks it
    chosen: str  # the draft key set once it is picked ("group_id")
    choices: Callable[[BotContext], Awaitable[list]]  # its buttons; none: nothing to pick from
    find: Callable[[BotContext, int], Awaitable[Any]]  # by id, re-checked (the user's own) or None
    label: Callable[[Any], str]  # what was picked, noted under the question
    begin: Callable[[Update, BotContext, Any], Awaitable[int]]  # into the draft; the next question
    resume: Callable[[BotContext, dict[str, Any]], str]  # "continuing the draft for …"
    none: str  # text key: nothing to pick from
    not_found: str  # text key: not found, or not the user's
    # Why an id was not found, when there is a kinder word than not_found (a dissolved
    # group: its records stay, read-only); None: not_found.
    explain: Callable[[BotContext, int], Awaitable[str | None]] | None = None


@dataclass(frozen=True)
class Summary:
    """The summary's buttons: Simpan saves; Ubah swaps them in place for the answers that can be
    changed (``fields``, named by the ``labels`` text keys), each asking its question again and
    then the summary (a field of several ``parts`` first offers its parts, in place, to change
    one alone); « Kembali brings Simpan / Ubah / Batal back."""

    save: Callback
    fields: Mapping[str, int]  # field → the question that asks it
    labels: str  # text keys of the fields' names ("visit.field" → "visit.field.date")
    offered: Callable[[BotContext], Iterable[str]] | None = None  # fields offered now (all)
    before_edit: Callable[[BotContext, str], None] | None = None  # to the draft, before asking
    # The summary's own buttons when they are not Simpan / Ubah / Batal ("<prefix>:save" for
    # Simpan): /siaran offers Kirim, and only when someone would receive it.
    buttons: Callable[[BotContext], Awaitable[InlineKeyboardMarkup]] | None = None
    save_as: str = "save"  # the save button's data after "<prefix>:"
    # States of earlier versions that were this summary's Ubah: a draft stored in one answers
    # as the summary does.
    formerly: tuple[int, ...] = ()
    # A field made of several answers (a visit's four amounts): its parts and what each holds
    # now, as (part, value shown). Pressing the field then offers its parts in place (named by
    # the ``labels`` text keys, with their values), so one is changed alone: the field's
    # question is asked with the part as the answer being changed (``before_edit`` gets the
    # part). No parts (None, or none for this draft): the field's question, whole.
    parts: Callable[[BotContext, str], Sequence[tuple[str, str]]] | None = None


class Flow(Questions):
    """A conversation declared once: its questions (Questions) and the ConversationHandler
    built from them, with the state kept by the Flow alone."""

    def __init__(self, name: str, *, prefix: str, what: str, summary: int | None = None,
                 edit_key: str = "_edit", roles: frozenset[Role] | None = ALL_ROLES) -> None:
        super().__init__(name, prefix=prefix, what=what, summary=summary, edit_key=edit_key)
        self.pick: Pick | None = None  # what the first question picks (set by the module)
        # Who may answer: every callback of the conversation goes through guard(roles), so none
        # can act for someone the database does not say may act. None: no guard (signing up,
        # before there is a user to check; its callbacks open a session where they need one).
        self.roles = roles
        # The Pick's buttons as read in the update (its context) that reads them: the command
        # counts them, then asks the question showing them (handlers.button_questions.ask_pick).
        self._choices: WeakKeyDictionary[BotContext, list] = WeakKeyDictionary()

    async def choices(self, context: BotContext) -> list:
        """The Pick's buttons, read once per update."""
        buttons = self._choices.get(context)
        if buttons is None:
            buttons = self._choices[context] = await self._pick().choices(context)
        return buttons

    # --- the ConversationHandler ----------------------------------------------------------------

    def build(self, states: Mapping[int, Answers], *, entry: Answers | None = None,
              summary: Summary | None = None,
              fallbacks: Sequence[BaseHandler] = ()) -> ConversationHandler:
        """This conversation's ConversationHandler, new for each Application (PTB keeps its
        conversations in the handler). ``states``: each state's own answers; ``entry``: how it
        starts (a picking flow starts by its Pick); ``summary``: the summary state's buttons;
        ``fallbacks``: handlers taken in any state before the standard ones (a view that can be
        opened in the middle of the questions)."""
        built = {state: self._handlers(answers) for state, answers in states.items()}
        entry_points = self._handlers(entry or {})
        if self.pick is not None:
            entry_points += self._handlers({f"/{self.pick.command}": self.open,
                                            rf"start:{ID}": self.open})
            built[self.pick.step] = self._handlers({
                rf"{self.pick.button}:{ID}": self.picked,
                TEXT: self.picked_by_name,
            }) + built.get(self.pick.step, [])
        if summary is not None:
            assert self.summary is not None, f"{self.name}: a Summary needs the summary state"
            for state in (self.summary, *summary.formerly):
                built[state] = self._summary_handlers(summary) + built.get(state, [])
        cancel, busy, reask = (with_session(self._owned(callback))
                               for callback in (self.cancel, self.busy, self.reask))
        return ConversationHandler(
            entry_points=entry_points,
            states=built,
            fallbacks=[
                MessageHandler(filters.UpdateType.EDITED, ignore_edit),
                *fallbacks,
                CommandHandler("batal", cancel),
                CallbackQueryHandler(cancel, pattern=rf"^{self.prefix}:cancel(?::(?:yes|no))?$"),
                MessageHandler(filters.COMMAND & NEW, busy),
                MessageHandler(NEW & ~filters.StatusUpdate.ALL, reask),  # a sticker, a photo …
                CallbackQueryHandler(reask, pattern=self._stale),  # a stale button
            ],
            name=self.name,
            persistent=True,
            allow_reentry=True,
        )

    @property
    def _stale(self) -> str:
        """The pattern of the fallback that answers any other button of this flow as old."""
        return rf"^{self.prefix}:"

    def _handlers(self, answers: Answers) -> list[BaseHandler]:
        """The handlers of one state's answers, in their order: each callback guarded (the
        flow's roles) and its returned state recorded (Flow._owned)."""
        handlers: list[BaseHandler] = []
        for how, callback in answers.items():
            owned = self._owned(callback)
            if self.roles is not None:
                owned = guard(self.roles)(owned)
            if isinstance(how, BaseFilter):
                handlers.append(MessageHandler(how if how is TEXT else NEW & how, owned))
            elif how.startswith("/"):
                handlers.append(CommandHandler(how[1:], owned))
            else:
                handlers.append(CallbackQueryHandler(owned, pattern=rf"^{self.prefix}:{how}$"))
        return handlers

    def _summary_handlers(self, summary: Summary) -> list[BaseHandler]:
        """Simpan, Ubah, a field, « Kembali: the same in every conversation with a summary."""
        assert self.summary is not None
        step = self.summary

        def offered(context: BotContext) -> list[str]:
            return list(summary.offered(context) if summary.offered else summary.fields)

        async def edit(update: Update, context: BotContext) -> int:
            """Ubah: the summary's buttons become the answers that can be changed."""
            return await self.swap_buttons(update, context, self.edit_keyboard(
                context, summary.labels, offered(context)))

        async def back(update: Update, context: BotContext) -> int:
            """« Kembali: the summary's own buttons again."""
            buttons = (await summary.buttons(context) if summary.buttons is not None
                       else self.summary_keyboard(context))
            return await self.swap_buttons(update, context, buttons)

        async def edit_field(update: Update, context: BotContext) -> int:
            """A field: asks its question again; its answer leads back to the summary."""
            query = update.callback_query
            assert query is not None
            field = pressed(query)
            if field not in offered(context):  # not offered for this draft (an old keyboard)
                await query.answer(context.t("common.old_button"))
                return step
            parts = summary.parts(context, field) if summary.parts is not None else ()
            if parts:
                return await self.swap_buttons(update, context, self.parts_keyboard(
                    context, summary.labels, field, parts))
            if summary.before_edit is not None:
                summary.before_edit(context, field)
            return await self.edit_field(update, context, summary.fields, summary.labels)

        async def edit_part(update: Update, context: BotContext) -> int:
            """A part of a field (one amount): asks it alone; its answer leads back to the
            summary."""
            query = update.callback_query
            assert query is not None
            _, _, field, part = (query.data or "").split(":")
            parts = dict(summary.parts(context, field)) if summary.parts is not None else {}
            if field not in offered(context) or part not in parts:  # an old keyboard
                await query.answer(context.t("common.old_button"))
                return step
            if summary.before_edit is not None:
                summary.before_edit(context, part)
            await close_buttons(query, context.t("common.edit") + ": "
                                + context.t(f"{summary.labels}.{part}"))
            return await self.ask_again(update, context, part, summary.fields[field])

        fields = "|".join(summary.fields)
        return self._handlers({summary.save_as: summary.save, "edit": edit,
                               f"edit:({fields})": edit_field, "back": back,
                               f"part:({fields}):[a-z_]+": edit_part})

    def _owned(self, callback: Callback) -> Callback:
        """``callback`` with the state it returns kept by the Flow: a state it did not ask (a
        bare ``return Step.X`` of another question) is asked now, so the draft, PTB and what
        the user was last asked always agree. END and None ("stay") change nothing."""

        @functools.wraps(callback)
        async def owned(update: Update, context: BotContext) -> Any:
            answered = await self._cancel_answer(update, context)
            if answered is not None:
                return answered
            state = await callback(update, context)
            if state is None or state == END or context.user_data is None \
                    or self.key not in context.user_data:
                return state  # ended, or nothing to keep (the draft is gone)
            if self.current(context) != state:
                log.warning("%s: %s returned %r without asking it", self.name,
                            getattr(callback, "__name__", callback), state)
                return await self.ask(update, context, state)
            return state

        return owned

    # --- a button named by typing ----------------------------------------------------------------

    async def _cancel_answer(self, update: Update, context: BotContext) -> int | None:
        """Typed text naming a button of "Buang yang sudah diketik?" while it waits ("ya",
        "tidak"): that button, before the open question reads the text (a note would take "ya"
        as its answer and go on). None: no such question waits, or the text names neither."""
        draft = context.user_data.get(self.key) if context.user_data is not None else None
        state = self.current(context)
        if update.callback_query is not None or not isinstance(draft, dict) or state is None \
                or draft.get("_cancel_asked") != state or not any(
                    isinstance(shown, list) and str(shown[-1]).startswith(f"{self.prefix}:cancel:")
                    for shown in draft.get("_buttons", [])):
            return None
        return await self.typed_press(update, context, state, numbers=False)

    async def typed_press(self, update: Update, context: BotContext, state: int, *,
                          numbers: bool) -> int | None:
        """Typed text naming one of the buttons the question of ``state`` showed (its label, its
        start, or, with ``numbers``, its number): that button is pressed, through this
        conversation's own handler of it, guard and re-checks included; a start that fits several
        gets "which one?" and the same question. None: the text names no button (or is not a new
        typed message, or the question is not the current one)."""
        message = update.message
        if update.callback_query is not None or message is None or not message.text \
                or message.text.startswith("/") or self.current(context) != state:
            return None
        buttons = await self.shown(update, context, state)
        hits = typed_button(message.text, [label for label, _ in buttons], numbers=numbers) \
            if buttons else None
        if not hits:
            return None
        if len(hits) > 1:
            await say(update, context.t("common.which_button", choices=_either(
                context, [buttons[no][0] for no in hits])))
            await self._render(update, context, state)
            return state
        label, data = buttons[hits[0]]
        return await self._press(update, context, state, label, data)

    async def _press(self, update: Update, context: BotContext, state: int, label: str,
                     data: str) -> int | None:
        """Hands the button ``data`` (``label``), typed at the question of ``state``, to the
        conversation's handler that a press of it reaches now, as a TypedPress; returns the
        state it leads to (None: no handler takes it)."""
        conversation = self._conversation(context)
        message = update.message
        if conversation is None or message is None:
            return None
        press_update: Update

        async def resend(markup: InlineKeyboardMarkup | None) -> None:
            """The question asked again, with ``markup`` in place of its buttons."""
            current = self.current(context)
            if markup is None or current is None:
                return
            token = replaced_buttons.set(markup)
            try:
                await self._render(press_update, context, current)
            finally:
                replaced_buttons.reset(token)

        press = TypedPress(message, data=data, label=label,
                           shown_at=self.draft(context).get("_buttons_at"), resend=resend)
        press_update = Update(update.update_id, callback_query=press)
        for handler in (*conversation.states.get(state, ()), *conversation.fallbacks):
            if not isinstance(handler, CallbackQueryHandler) or (
                    handler.pattern is not None and getattr(handler.pattern, "pattern", None)
                    == self._stale):
                continue
            check = handler.check_update(press_update)
            if check is None or check is False:
                continue
            result = await handler.handle_update(press_update, context.application, check,
                                                 context)
            current = self.current(context)
            if press.said and result in (None, state) and current == state:
                # Refused, in words a real press shows over the buttons: now said in the
                # chat, the question follows again with its buttons.
                await self._render(press_update, context, state)
            if result is None:
                return current if current is not None else END
            return result
        return None

    def _conversation(self, context: BotContext) -> ConversationHandler | None:
        """This flow's ConversationHandler in the running Application (built anew for each)."""
        for handlers in context.application.handlers.values():
            for handler in handlers:
                if isinstance(handler, ConversationHandler) and handler.name == self.name:
                    return handler
        return None

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
            if not await self.choices(context):
                return await self.stop(update, context, context.t(pick.none))
            self.start(context)
            return await self.ask(update, context, pick.step)
        self.start(context)
        found = await pick.find(context, int(pressed(query)))
        if found is not None:
            return await pick.begin(update, context, found)
        explained = await pick.explain(context, int(pressed(query))) if pick.explain else None
        not_found = explained or context.t(pick.not_found)
        if not await self.choices(context):
            # "You have no groups" after "this group is dissolved" would read as a contradiction.
            return await self.stop(update, context, not_found,
                                   *(() if explained else (context.t(pick.none),)))
        return await self.retry(update, context, pick.step, not_found)

    async def _not_found(self, context: BotContext, found_id: int) -> str:
        """Why the Pick's id was not found: its kinder words (Pick.explain), else not_found."""
        pick = self._pick()
        explained = await pick.explain(context, found_id) if pick.explain else None
        return explained or context.t(pick.not_found)

    async def picked(self, update: Update, context: BotContext) -> int:
        """A button of the first question: its subject, re-checked, noted and begun with."""
        pick = self._pick()
        query = update.callback_query
        assert query is not None
        found = await pick.find(context, int(pressed(query)))
        if found is None:
            await close_buttons(query)
            return await self.retry(update, context, pick.step,
                                    await self._not_found(context, int(pressed(query))))
        await close_buttons(query, pick.label(found))
        return await pick.begin(update, context, found)

    async def picked_by_name(self, update: Update, context: BotContext) -> int:
        """Text at the first question: the one choice whose label holds what was typed (any
        case, 3 letters or more) counts as pressed, re-checked like a press. Otherwise the same
        question again, with one of the real choices as the example."""
        pick = self._pick()
        typed = " ".join(message_text(update).lower().split())
        buttons = await self.choices(context)
        hits = [data for label, data in buttons if len(typed) >= 3 and typed in label.lower()]
        if len(hits) == 1:
            found = await pick.find(context, int(hits[0].rsplit(":", 1)[1]))
            if found is not None:
                await confirm(update, f"✓ {pick.label(found)}")
                return await pick.begin(update, context, found)
        example = buttons[0][0] if buttons else ""
        return await self.retry(update, context, pick.step,
                                context.t("common.pick_by_name", example=example), numbers=True)

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

    def _pick(self) -> Pick:
        assert self.pick is not None, f"{self.name}: no Pick set"
        return self.pick

    async def use_buttons(self, update: Update, context: BotContext, examples: Mapping[int, str],
                          *, default: str, text: str) -> int:
        """Typed text where a button was expected: ``text`` with the question's example (a text
        key from ``examples``, else ``default``), then the same question again."""
        state = self._step(self.current(context) or self._pick().step)
        example = context.t(examples.get(state, default))
        return await self.retry(update, context, state, context.t(text, example=example),
                                numbers=True)


def _either(context: BotContext, labels: Sequence[str]) -> str:
    """"A", "B" atau "C": the buttons a typed start fits (their marks left off), five at
    most."""
    names = ['"' + without_marks(label) + '"' for label in labels[:5]]
    if len(labels) > len(names):
        names[-1] += ", …"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {context.t('common.or')} " + names[-1]
