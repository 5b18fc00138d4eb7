"""Conversations declared once: a Flow keeps one conversation's draft in user_data, asks its
questions (with retries), and builds its ConversationHandler for each Application.

A module declares its states' own handlers as a mapping (how an answer comes → the callback
that takes it); the Flow adds what every conversation has the same: the entry points of a
picking conversation, the first question's buttons and typed names, the summary's Simpan /
Ubah / fields / « Kembali, /batal and the other fallbacks, persistence, and one text filter
that never takes an edited message. The Flow also owns the state: whatever a callback returns
is recorded in the draft ("_state"), so the draft and PTB never disagree on the question.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from telegram import InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.ext.filters import BaseFilter

from bot.core import clock
from bot.core.enums import AreaLevel
from bot.telegram.context import BotContext
from handlers.common import (
    END,
    ID,
    Callback,
    shown_buttons,
    button_choice,
    close_buttons,
    column,
    guard,
    keyboard,
    message_text,
    pressed,
    say,
    village_example,
    with_session,
)
from models import drafts

# Only new messages answer a question: an edited old answer (or a live location moving) is not
# an answer to the question asked now. TEXT is the one filter of every typed answer; other kinds
# of answer (a photo, a location, a contact) are new messages of that kind (NEW & kind).
NEW = filters.UpdateType.MESSAGE
TEXT = NEW_TEXT = NEW & filters.TEXT & ~filters.COMMAND

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


@dataclass(frozen=True)
class Summary:
    """The summary's buttons: Simpan saves; Ubah swaps them in place for the answers that can be
    changed (``fields``, named by the ``labels`` text keys), each asking its question again and
    then the summary; « Kembali brings Simpan / Ubah / Batal back."""

    save: Callback
    fields: Mapping[str, int]  # field → the question that asks it
    labels: str  # text keys of the fields' names ("visit.field" → "visit.field.date")
    offered: Callable[[BotContext], Iterable[str]] | None = None  # fields offered now (all)
    before_edit: Callable[[BotContext, str], None] | None = None  # to the draft, before asking


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

    def _record(self, context: BotContext, state: int) -> None:
        """Remembers ``state`` as the question being answered (a new question: no wrong answers
        yet). The only writer of "_state": the draft and PTB's state never disagree."""
        draft = self.draft(context)
        if draft.get("_state") != state:
            draft["_misses"] = 0
        draft["_state"] = int(state)

    def _owned(self, callback: Callback) -> Callback:
        """``callback`` with the state it returns recorded in the draft (END and None, "stay",
        record nothing): a callback returning a bare state cannot leave the draft behind."""

        @functools.wraps(callback)
        async def recorded(update: Update, context: BotContext) -> Any:
            state = await callback(update, context)
            if state is not None and state != END and context.user_data is not None \
                    and self.key in context.user_data:
                self._record(context, state)
            return state

        return recorded

    async def ask(self, update: Update, context: BotContext, state: int, *,
                  fresh: bool = False) -> int:
        """Asks the question of ``state`` and remembers it as the current one (``fresh``: as a
        new question even when it is the same state, such as the next of several amounts)."""
        if fresh:
            self.draft(context)["_misses"] = 0
        self._record(context, state)
        await self._render(update, context, state)
        return state

    async def _render(self, update: Update, context: BotContext, state: int) -> None:
        """Asks the question of ``state``, noting the labels of the buttons it shows in the draft
        ("_buttons"), for press_a_button."""
        token = shown_buttons.set([])
        try:
            await self.questions[state](update, context)
            labels = shown_buttons.get() or []
        finally:
            shown_buttons.reset(token)
        if context.user_data is None or self.key not in context.user_data:
            return  # the question ended the conversation (nothing left to pick from)
        draft = self.draft(context)
        if labels:
            draft["_buttons"] = labels[:20]
        else:
            draft.pop("_buttons", None)

    async def retry(self, update: Update, context: BotContext, state: int, error: str) -> int:
        """Explains what was wrong (with an example), then asks the same question again."""
        self._record(context, state)
        draft = self.draft(context)
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
            opener = guard()(self.open)
            entry_points += self._handlers({f"/{self.pick.command}": opener,
                                            rf"start:{ID}": opener})
            built[self.pick.step] = self._handlers({
                rf"{self.pick.button}:{ID}": guard()(self.picked),
                TEXT: guard()(self.picked_by_name),
            }) + built.get(self.pick.step, [])
        if summary is not None:
            assert self.summary is not None, f"{self.name}: a Summary needs the summary state"
            built[self.summary] = self._summary_handlers(summary) + built.get(self.summary, [])
        cancel, busy, reask = (self._owned(with_session(callback))
                               for callback in (self.cancel, self.busy, self.reask))
        return ConversationHandler(
            entry_points=entry_points,
            states=built,
            fallbacks=[
                MessageHandler(filters.UpdateType.EDITED, ignore_edit),
                *fallbacks,
                CommandHandler("batal", cancel),
                CallbackQueryHandler(cancel, pattern=rf"^{self.prefix}:cancel$"),
                MessageHandler(filters.COMMAND & NEW, busy),
                MessageHandler(NEW & ~filters.StatusUpdate.ALL, reask),  # a sticker, a photo …
                CallbackQueryHandler(reask, pattern=rf"^{self.prefix}:"),  # a stale button
            ],
            name=self.name,
            persistent=True,
            allow_reentry=True,
        )

    def _handlers(self, answers: Answers) -> list[BaseHandler]:
        """The handlers of one state's answers, in their order, each callback's returned state
        recorded (Flow._owned)."""
        handlers: list[BaseHandler] = []
        for how, callback in answers.items():
            owned = self._owned(callback)
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

        @guard()
        async def edit(update: Update, context: BotContext) -> int:
            """Ubah: the summary's buttons become the answers that can be changed."""
            return await self.swap_buttons(update, context, self.edit_keyboard(
                context, summary.labels, offered(context)))

        @guard()
        async def back(update: Update, context: BotContext) -> int:
            """« Kembali: the summary's own buttons again."""
            return await self.swap_buttons(update, context, self.summary_keyboard(context))

        @guard()
        async def edit_field(update: Update, context: BotContext) -> int:
            """A field: asks its question again; its answer leads back to the summary."""
            query = update.callback_query
            assert query is not None
            field = pressed(query)
            if field not in offered(context):  # not offered for this draft (an old keyboard)
                await query.answer(context.t("common.old_button"))
                return step
            if summary.before_edit is not None:
                summary.before_edit(context, field)
            return await self.edit_field(update, context, summary.fields, summary.labels)

        return self._handlers({"save": summary.save, "edit": edit,
                               f"edit:({'|'.join(summary.fields)})": edit_field, "back": back})

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
