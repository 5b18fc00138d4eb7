"""One conversation's questions: the draft kept in user_data, asking a question (and asking it
again after a wrong answer, with an example, unless the text named one of its buttons), the
answers most questions share, and the summary with its changing of one answer. handlers.flow
builds the ConversationHandler on top."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date
from typing import Any, ClassVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest

from bot.core import clock
from bot.core.enums import AreaLevel
from bot.telegram.context import BotContext
from bot.telegram.persistence import DatabasePersistence
from handlers.common import (
    END,
    TypedPress,
    button_choice,
    close_buttons,
    column,
    keyboard,
    message_text,
    pressed,
    say,
    shown_buttons,
    unsent,
    village_example,
    without_marks,
)
from models import drafts
from models.saving import Refusal, Saved

QuestionRenderer = Callable[[Update, BotContext], Awaitable[None]]

# A draft holding this much is not thrown away by /batal without asking: a typed answer
# longer than LONG_TYPED characters (a note, a member list, the problems seen) or MANY_ANSWERS
# answers or more.
LONG_TYPED = 40
MANY_ANSWERS = 8


def typed_much(draft: Mapping[str, Any]) -> bool:
    """Whether losing ``draft`` would lose much typing: its longest typed answer ("_typed") or
    its count of answers ("_answers"), both noted by Questions.ask."""
    return draft.get("_typed", 0) > LONG_TYPED or draft.get("_answers", 0) >= MANY_ANSWERS


# Buttons of a question a typed answer may name (a group pick shows up to 50).
MAX_TYPED_BUTTONS = 60


class Questions:
    """The questions of one conversation, with the draft kept in user_data.

    Each question knows how to ask itself again, so a wrong answer, a sticker or a stray command
    gets a short explanation and the very same question, and the draft is never touched.
    """

    # Every conversation, so that starting one while another is half answered can be refused.
    registry: ClassVar[list[Questions]] = []

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
        Questions.registry.append(self)

    def question(self, state: int) -> Callable[[QuestionRenderer], QuestionRenderer]:
        def register(renderer: QuestionRenderer) -> QuestionRenderer:
            self.questions[state] = renderer
            return renderer

        return register

    def says(self, state: int, text: str, *, skip: str | None = None) -> None:
        """Registers a question that is one text (a text key), with Lewati under it for the
        optional answer ``skip`` ("<prefix>:skip:<skip>")."""

        async def ask(update: Update, context: BotContext) -> None:
            markup = self.skip_keyboard(context, skip) if skip else None
            await say(update, context.t(text), reply_markup=markup)

        self.questions[state] = ask

    def shows(self, state: int, view: Callable[[BotContext, dict[str, Any]], tuple[str, Any]]
              ) -> None:
        """Registers a question whose text and buttons (None: none) are ``view`` of the draft."""

        async def ask(update: Update, context: BotContext) -> None:
            text, markup = view(context, self.draft(context))
            await say(update, text, reply_markup=markup)

        self.questions[state] = ask

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

    async def save_through(self, update: Update, context: BotContext,
                           save: Callable[..., Awaitable[Saved[Any] | Refusal]], *,
                           closing: CallbackQuery | None = None,
                           **values: Any) -> Saved[Any] | Refusal:
        """Saves through the models' ``save`` (``values``, the settings' reminder rules, the
        draft ended right before the commit): once saved the draft is gone; a refusal keeps it,
        for the question that must be asked again.

        ``closing``: the Simpan pressed, whose buttons are taken away (close_buttons) while the
        save runs rather than before it: one round trip to Telegram fewer before "Tersimpan",
        the slowest answer of a conversation. It is over before this returns, so what is said
        next still comes after it."""
        if closing is None:
            return await self._save_through(update, context, save, **values)
        closed = asyncio.ensure_future(close_buttons(closing))
        try:
            result = await self._save_through(update, context, save, **values)
        except BaseException:
            await asyncio.gather(closed, return_exceptions=True)
            raise
        await closed
        return result

    async def _save_through(self, update: Update, context: BotContext,
                            save: Callable[..., Awaitable[Saved[Any] | Refusal]],
                            **values: Any) -> Saved[Any] | Refusal:
        result = await save(session=context.session, rules=context.settings.reminder_rules,
                            end_draft=lambda: self.end_with_save(update, context), **values)
        if not isinstance(result, Refusal):
            self.clear(context)
            persistence = context.application.persistence
            if result.created and isinstance(persistence, DatabasePersistence):
                # Committed with the record: PTB's hand-over of the same is not written again.
                user, chat = update.effective_user, update.effective_chat
                assert user is not None and chat is not None and context.user_data is not None
                persistence.committed_elsewhere(
                    user_id=user.id, data=dict(context.user_data),
                    conversation=(self.name, drafts.conversation_key(chat.id, user.id)))
        return result

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
        for other in Questions.registry:
            if other is not self and other.current(context) is not None:
                if update.callback_query is not None:
                    await update.callback_query.answer()
                await other.busy(update, context)
                return True
        return False

    async def begin(self, update: Update, context: BotContext, first: int, *,
                    intro: str | None = None) -> int:
        """A command starting a new draft: unless another conversation is half answered (asked
        again instead), says ``intro`` (a text key) and asks the ``first`` question."""
        if await self.other_in_progress(update, context):
            return END
        self.start(context)
        if intro is not None:
            await say(update, context.t(intro))
        return await self.ask(update, context, first)

    def _record(self, context: BotContext, state: int) -> None:
        """Remembers ``state`` as the question being answered (a new question: no wrong answers
        yet). The only writer of "_state": the draft and PTB's state never disagree."""
        draft = self.draft(context)
        if draft.get("_state") != state:
            draft["_misses"] = 0
        draft["_state"] = int(state)

    async def ask(self, update: Update, context: BotContext, state: int, *,
                  fresh: bool = False) -> int:
        """Asks the question of ``state`` and remembers it as the current one (``fresh``: as a
        new question even when it is the same state, such as the next of several amounts)."""
        if fresh:
            self.draft(context)["_misses"] = 0
        self._note_answer(update, context)
        self._record(context, state)
        await self._render(update, context, state)
        return state

    def _note_answer(self, update: Update, context: BotContext) -> None:
        """Counts the answer that led to the next question (a press, or typed text: its length
        kept when the longest), for typed_much; a command starting the flow is none."""
        pressed = update.callback_query is not None
        text = "" if pressed else message_text(update).strip()
        if not pressed and (not text or text.startswith("/")):
            return
        draft = self.draft(context)
        draft["_answers"] = draft.get("_answers", 0) + 1
        draft["_typed"] = max(draft.get("_typed", 0), len(text))

    async def _render(self, update: Update, context: BotContext, state: int, *,
                      quietly: bool = False) -> None:
        """Asks the question of ``state`` (``quietly``: sending nothing), noting the buttons it
        shows in the draft, for a typed answer that names one (typed_press)."""
        token, quiet = shown_buttons.set([]), unsent.set(quietly)
        try:
            await self.questions[state](update, context)
            shown = shown_buttons.get() or []
        finally:
            shown_buttons.reset(token)
            unsent.reset(quiet)
        if context.user_data is None or self.key not in context.user_data:
            return  # the question ended the conversation (nothing left to pick from)
        keyboards = [(buttons, at) for buttons, at in shown if buttons]
        if keyboards:
            self.note_buttons(context, state, *keyboards[-1])
        else:
            for key in ("_buttons", "_buttons_of", "_buttons_at"):
                self.draft(context).pop(key, None)

    def note_buttons(self, context: BotContext, state: int, buttons: list[tuple[str, str]],
                     at: int | None) -> None:
        """Keeps the buttons ((label, data)s, in the order shown) the question of ``state`` shows
        now, and the id of their message, in the draft ("_buttons", "_buttons_of",
        "_buttons_at"): a typed answer may name one after a restart too."""
        draft = self.draft(context)
        draft["_buttons"] = [[label, data] for label, data in buttons[:MAX_TYPED_BUTTONS]]
        draft["_buttons_of"], draft["_buttons_at"] = int(state), at

    async def shown(self, update: Update, context: BotContext,
                    state: int) -> list[tuple[str, str]]:
        """The buttons ((label, data)s) the question of ``state`` showed last. A draft of an
        earlier version noted only their labels: the question is asked quietly to learn them,
        so the first answer typed after the upgrade's restart is read too."""
        draft = self.draft(context)
        if draft.get("_buttons") and "_buttons_of" not in draft:
            await self._render(update, context, state, quietly=True)
        if draft.get("_buttons_of") != state:
            return []
        return [(label, data) for label, data in
                (pair for pair in draft.get("_buttons", []) if isinstance(pair, list))]

    async def typed_press(self, update: Update, context: BotContext, state: int, *,
                          numbers: bool) -> int | None:
        """Typed text that names one of the buttons of the question of ``state`` (its label, its
        start, or, with ``numbers``, its number): that button pressed (Flow); a start that fits
        several: which one, and the same question again. None: it names none (or there is no
        typed message, no button, or no conversation to press it in)."""
        return None

    async def retry(self, update: Update, context: BotContext, state: int, error: str, *,
                    numbers: bool = False) -> int:
        """Explains what was wrong (with an example), then asks the same question again; unless
        the text names one of the question's buttons, which then counts as pressed (with
        ``numbers``, its number too: where a number is not itself an answer)."""
        pressed_instead = await self.typed_press(update, context, state, numbers=numbers)
        if pressed_instead is not None:
            return pressed_instead
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
        labels = [shown if isinstance(shown, str) else shown[0]  # older drafts: labels only
                  for shown in self.draft(context).get("_buttons", [])]
        labels = [label for label in labels if label not in skip]
        if not labels:
            return await self.retry(update, context, state, context.t("common.wrong_kind"),
                                    numbers=True)
        return await self.retry(update, context, state,
                                # The words to type or tap: "Kedekatan tempat tinggal", no "▫️".
                                context.t("common.use_buttons", button=without_marks(labels[0])),
                                numbers=True)

    async def reask(self, update: Update, context: BotContext) -> int:
        """Input of the wrong kind (a sticker, a photo, a stray command): the same question
        again."""
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
        """/batal (or the Batal button): drops the draft and says nothing was saved. A draft
        holding much typed (typed_much) is asked about first, "Buang yang sudah diketik?"
        ("<prefix>:cancel:yes|no"): Ya, buang (or /batal again) drops it; Tidak, lanjutkan
        asks the open question again with everything kept."""
        query = update.callback_query
        answer = query.data.split(":")[2] if query is not None and query.data.count(":") == 2 \
            else None
        state = self.current(context)
        draft = context.user_data.get(self.key, {}) if context.user_data is not None else {}
        if answer == "no":
            await close_buttons(query, context.t("common.cancel_no"))
            draft.pop("_cancel_asked", None)
            if state is None:
                return END
            await self._render(update, context, state)  # not an answer: nothing counted
            return self._step(state)
        if answer is None and state is not None and typed_much(draft) \
                and draft.get("_cancel_asked") != state:
            # Asked once per question: /batal typed again at it means it.
            draft["_cancel_asked"] = state
            if query is not None:
                await close_buttons(query)
            choices = [(context.t("common.cancel_yes"), f"{self.prefix}:cancel:yes"),
                       (context.t("common.cancel_no"), f"{self.prefix}:cancel:no")]
            sent = await say(update, context.t("common.cancel_ask"),
                             reply_markup=keyboard([choices]))
            # "ya" typed now means "Ya, buang" (an answer to the open question still counts).
            self.note_buttons(context, state, choices,
                              sent.message_id if sent is not None else None)
            return self._step(state)
        self.clear(context)
        if query is not None:
            await close_buttons(query, context.t("common.cancel_yes") if answer else None)
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

    def _step(self, state: int) -> int:
        """The state as registered (the module's IntEnum member) for a stored int."""
        return next(step for step in self.questions if step == state)

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

    async def take(self, update: Update, context: BotContext, state: int, *,
                   parse: Callable[[str], Any | None], store: str, error: str,
                   then: int) -> int:
        """A typed answer to ``state``: read by ``parse`` and stored under ``store``, then
        ``then`` (or back to the summary); unreadable (None): ``error`` (a text key) and the
        same question again."""
        value = parse(message_text(update))
        if value is None:
            return await self.retry(update, context, state, context.t(error))
        self.draft(context)[store] = value
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
        picked = await self.typed_pick(update, context, step)
        if picked is not None:
            return picked
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
        return await self.offer(update, context, step, context.t(f"{texts}.pick_village"),
                                buttons)

    async def offer(self, update: Update, context: BotContext, step: int, text: str,
                    buttons: list[tuple[str, str]]) -> int:
        """Says ``text`` with what a search found as buttons, one a row, and notes them for
        ``step``: their number typed next picks one (typed_pick)."""
        sent = await say(update, text, reply_markup=column(buttons))
        self.note_buttons(context, step, buttons, sent.message_id if sent is not None else None)
        return step

    async def typed_pick(self, update: Update, context: BotContext, step: int) -> int | None:
        """A number typed at a search's results ("1", "#2"): that result pressed, as no place
        is called "1"; None for anything else (a new search)."""
        if not message_text(update).strip().lstrip("#").isdigit():
            return None
        return await self.typed_press(update, context, step, numbers=True)

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

    def parts_keyboard(self, context: BotContext, labels: str, field: str,
                       parts: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
        """The parts of ``field`` with their values ("Omzet: Rp 1.500.000"), one a row, and
        « Kembali to the fields."""
        rows = [[(f"{context.t(f'{labels}.{part}')}: {value}",
                  f"{self.prefix}:part:{field}:{part}")] for part, value in parts]
        rows.append([(context.t("common.back"), f"{self.prefix}:edit")])
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
        if not isinstance(query, TypedPress) and isinstance(query.message, Message):
            # Swapped in place: a typed answer now names these (a TypedPress asked anew).
            self.note_buttons(context, self.summary, [
                (button.text, button.callback_data) for row in markup.inline_keyboard
                for button in row if isinstance(button.callback_data, str)],
                query.message.message_id)
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
        return await self.ask_again(update, context, field, steps[field])

    async def ask_again(self, update: Update, context: BotContext, field: str, step: int,
                        error: str | None = None) -> int:
        """Marks ``field`` as being changed and asks its question ``step`` again (after
        ``error``, if any): its answer leads back to the summary."""
        self.set_editing(context, field)
        if error is None:
            return await self.ask(update, context, step)
        return await self.retry(update, context, step, error)

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
