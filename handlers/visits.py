"""/kunjungan: a mentor logs a mentoring visit to one of their KUBE groups.

Diagram: visits.mmd beside this file.

The draft lives in user_data (JSON values only, dates as ISO strings), so a restart, a wrong
answer or a stray command never loses what was typed. What the questions need to know about
the group (name, date formed, active households, visit interval, village) is copied into the
draft when the group is chosen, and the group is checked against the database again at save.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, filters

from bot.core.enums import Activity, GroupStatus, Stage
from bot.core.formatting import format_date
from bot.core.parsing import (
    is_skip,
    parse_amount,
    parse_coordinates,
    parse_note,
    typed_button,
)
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers import amount_check, schedule, trainings
from handlers import visits_views as views
from handlers.button_questions import ask_summary
from handlers.common import (
    END,
    close_buttons,
    confirm,
    guard,
    iso_date,
    keyboard,
    message_text,
    own_group,
    pressed,
    read_only_text,
    say,
    say_first,
    without_marks,
)
from handlers.day_answers import (
    ask_day,
    ask_day_ahead,
    day_example,
    today_pressed,
    typed_day,
)
from handlers.flow import TEXT, Flow, Summary
from handlers.group_pick import pick_group
from handlers.tick_boxes import TickBoxes
from handlers.typed_answers import read_or_skip, typed
from handlers.visit_answers import (
    MAX_LIVESTOCK,
    MAX_TEXT,
    date_error,
    read_attendance,
    read_livestock,
)
from models import changes
from models import groups as group_queries
from models import visits as visit_queries
from models.saving import visit as rules
from models.tables import Group

Reason = rules.VisitReason
# "Simpan sekarang" is offered once these are in; the next visit date then follows the group's
# schedule. The summary's Simpan needs the next visit date too.
REQUIRED_NOW = ("group_id", "visited_on", "attendance", "activities")
REQUIRED = (*REQUIRED_NOW, "next_visit_on")


class Step(IntEnum):
    GROUP = 1
    DATE = 2
    ATTENDANCE = 3
    ACTIVITIES = 4
    FIGURES = 5  # "Catat angka usaha?" then omzet, keuntungan, kas, IKS (draft["_figure"])
    PROBLEMS = 6
    FOLLOW_UP = 7
    LOCATION = 8
    PHOTOS = 9
    NEXT_DATE = 10
    CONFIRM = 11  # summary; "Ubah" swaps its buttons for the fields, in place
    ASSETS = 12  # "Catat aset kelompok?" then ternak, peralatan, stok (draft["_figure"])


# The optional amounts asked behind one "Catat …?": each question's block and what follows it.
# The assets are asked after the figures only: Lewati on "Catat angka usaha?" skips both, so a
# visit without figures stays as short as before (Ubah, Aset still records them).
BLOCKS = {Step.FIGURES: (views.BLOCKS["figures"], Step.ASSETS),
          Step.ASSETS: (views.BLOCKS["assets"], Step.PROBLEMS)}


PREFIX = views.PREFIX  # the buttons are built in visits_views
flow = Flow("visit", prefix=PREFIX, what="what.visit", summary=Step.CONFIRM, edit_key="_editing")


# --- "Simpan sekarang": the optional questions skipped ------------------------------------------

def _save_now_offered(context: BotContext) -> int | None:
    """The draft's id for its "💾 Simpan sekarang" button when it is offered now: once the
    required answers are in (one activity at least), and not while one answer is being changed
    from the summary (that answer leads back to the summary)."""
    draft = flow.draft(context)
    if flow.editing(context) or not flow.complete(context, REQUIRED_NOW) \
            or not draft.get("activities"):
        return None
    return draft.get("_draft_id")


def _offering_save_now(view: views.View) -> views.View:
    """``view``'s question with "💾 Simpan sekarang" under its buttons, when it is offered."""

    def offered(context: BotContext, draft: dict[str, Any]) -> views.Question:
        text, markup = view(context, draft)
        return text, views.with_save_now(context, markup, _save_now_offered(context))

    return offered


def _note_question(text: str, field: str) -> views.View:
    """A note's question (the problems, the follow-up): Lewati under it."""
    return lambda context, _: (context.t(text), flow.skip_keyboard(context, field))


# --- questions -------------------------------------------------------------------------------

ask_day(flow, Step.DATE, "visit.ask_date", button="visit.today_button")


flow.shows(Step.ATTENDANCE, views.attendance_question)
activities = TickBoxes(flow, Step.ACTIVITIES, "visit.ask_activities", among=Activity,
                       label="activity", data="act", field="activities", then=Step.FIGURES,
                       need="visit.need_activity",
                       more=lambda context, _: views.save_now_rows(context,
                                                                   _save_now_offered(context)))


def _amounts_question(step: Step) -> None:
    block, _ = BLOCKS[step]

    async def ask(update: Update, context: BotContext) -> None:
        draft = flow.draft(context)
        if "figures_from" not in draft:  # a draft from before the figures named their span
            await views.note_span(context, draft)
        text, markup = views.figures_question(context, draft, flow.editing(context), block)
        await say(update, text, reply_markup=views.with_save_now(
            context, markup or flow.skip_keyboard(context, draft["_figure"]),
            _save_now_offered(context)))

    flow.question(step)(ask)


_amounts_question(Step.FIGURES)
_amounts_question(Step.ASSETS)


flow.shows(Step.PROBLEMS, _offering_save_now(_note_question("visit.ask_problems", "problems")))
flow.shows(Step.FOLLOW_UP,
           _offering_save_now(_note_question("visit.ask_follow_up", "follow_up")))


flow.shows(Step.LOCATION, _offering_save_now(views.location_question))
flow.shows(Step.PHOTOS, _offering_save_now(views.photos_question))


ask_summary(flow, Step.CONFIRM, views.summary_text)


EDIT_FIELDS = {
    "date": Step.DATE,
    "attendance": Step.ATTENDANCE,
    "activities": Step.ACTIVITIES,
    "figures": Step.FIGURES,
    "assets": Step.ASSETS,
    "problems": Step.PROBLEMS,
    "follow_up": Step.FOLLOW_UP,
    "location": Step.LOCATION,
    "photos": Step.PHOTOS,
    "next": Step.NEXT_DATE,
}


# --- starting: /kunjungan and the "kun:start:<id>" button ------------------------------------

async def _begin(update: Update, context: BotContext, group: Group) -> int:
    """Copies what the questions need about the group into the draft and asks the date."""
    members = await group_queries.count_active_members(session=context.session,
                                                       group_id=group.id)
    flow.draft(context).update(
        group_id=group.id, group_name=group.name, village_code=group.village_code,
        formed_on=group.formed_on.isoformat(), members=members,
        interval=group.visit_interval_days,
        _draft_id=update.update_id)  # names this draft's "Simpan sekarang" buttons
    text = context.t("visit.start", group=group.name)
    if group.status == GroupStatus.INACTIVE:
        # Visiting a paused group is allowed (it may be starting again); say so, not block.
        text += "\n\n" + context.t("visit.inactive_note", group=group.name, date=format_date(
            group.status_on, context.lang) if group.status_on else "-")
    await say_first(update, text)
    return await flow.ask(update, context, Step.DATE)


pick_group(flow, Step.GROUP, command="kunjungan", texts="visit", begin=_begin,
           label=views.group_label)


async def _store_date(update: Update, context: BotContext, visited: date) -> int:
    """Stores the visit date and asks for the attendance (or goes back to the summary)."""
    draft = flow.draft(context)
    draft["visited_on"] = visited.isoformat()
    await views.note_span(context, draft)  # the figures' span begins at the visit before
    if draft.get("next_visit_on") and draft.get("next_auto"):
        draft["next_visit_on"] = views.default_next(draft).isoformat()  # the suggestion moves along
    upcoming = iso_date(draft.get("next_visit_on"))
    if flow.editing(context) and not (upcoming and rules.next_visit_fits(visited, upcoming)):
        # A new visit date the old next date no longer fits: ask it too, then the summary.
        return await flow.ask(update, context, Step.NEXT_DATE)
    return await flow.next(update, context, Step.ATTENDANCE)


def _date_error(context: BotContext, visited: date) -> str | None:
    """Why the group's dates do not allow ``visited``, in words; or None."""
    return date_error(context, flow.draft(context), visited, flow.today(context))


async def got_date_today(update: Update, context: BotContext) -> int:
    """Stores today as the visit date and asks for the attendance."""
    return await today_pressed(update, context, flow, Step.DATE, words=_date_error,
                               store=_store_date)


async def got_date(update: Update, context: BotContext) -> int:
    """Stores a typed visit date (formed_on..today) and asks for the attendance."""
    return await typed_day(update, context, flow, Step.DATE, words=_date_error,
                           store=_store_date, said="visit.date_ok",
                           unreadable=lambda context, _: context.t("visit.bad_date"))


async def got_attendance(update: Update, context: BotContext) -> int:
    """Stores how many households came (0..active members) and asks for the activities."""
    members = int(flow.draft(context).get("members", 0))
    attendance, why = read_attendance(context, message_text(update), members)
    if attendance is None:
        return await flow.retry(update, context, Step.ATTENDANCE, why)
    flow.draft(context)["attendance"] = attendance
    return await flow.next(update, context, Step.ACTIVITIES)


def _block(context: BotContext) -> tuple[views.Block, Step]:
    """The amounts asked now (the figures or the assets) and the question after them."""
    return BLOCKS[Step(flow.current(context) or Step.FIGURES)]


async def _ask_figure(update: Update, context: BotContext, field: str | None, *,
                      then: Step | None = None) -> int:
    """Asks the amount ``field``; None: the block is done, on to ``then`` (else the question
    after the block)."""
    step = Step(flow.current(context) or Step.FIGURES)
    flow.draft(context)["_figure"] = field
    if field is None:
        return await flow.next(update, context, then or BLOCKS[step][1])
    return await flow.ask(update, context, step, fresh=True)


async def _figures_answer(update: Update, context: BotContext, wanted: bool) -> int:
    """After "Catat angka usaha?" (or the assets'): the first amount, or (Lewati) none, and
    then the problems (no figures: no assets asked either)."""
    block, _ = _block(context)
    if not wanted:
        flow.draft(context).update(dict.fromkeys(block.fields))
        return await _ask_figure(update, context, None, then=Step.PROBLEMS)
    return await _ask_figure(update, context, block.fields[0])


async def _store_figure(update: Update, context: BotContext, value: int | None) -> int:
    """Stores one amount and asks the next one, or moves on after the last."""
    draft, (block, _) = flow.draft(context), _block(context)
    field = draft["_figure"]
    draft[field] = value
    if flow.editing(context) == field:  # one amount changed alone from the summary
        if not rules.profit_fits(draft.get("profit"), draft.get("turnover")):
            # A smaller turnover than the profit kept: the profit is asked now, alone.
            draft["_figure"] = "profit"
            return await flow.ask_again(update, context, "profit", Step.FIGURES,
                                        views.profit_error(context, draft, "profit",
                                                           draft.get("profit")))
        return await flow.sum_up(update, context)
    following = block.fields[block.fields.index(field) + 1:]
    return await _ask_figure(update, context, following[0] if following else None)


async def figures_button(update: Update, context: BotContext) -> int:
    """Ya asks the first amount (the turnover, or the livestock); Lewati skips them all and
    asks the question after them."""
    query = update.callback_query
    if flow.draft(context).get("_figure") is not None:
        await query.answer(context.t("common.old_button"))
        return flow.current(context) or Step.FIGURES
    wanted = query.data.endswith(":yes")
    await close_buttons(query, context.t("common.yes" if wanted else "common.skip"))
    return await _figures_answer(update, context, wanted)


async def figure_button(update: Update, context: BotContext) -> int:
    """Lewati (Kosongkan) leaves one amount empty; Tetap, while changing the figures, keeps
    it; then the next amount is asked."""
    query = update.callback_query
    step = Step(flow.current(context) or Step.FIGURES)
    field = flow.draft(context).get("_figure")
    if field != pressed(query):
        await query.answer(context.t("common.old_button"))
        return step
    if query.data.startswith(f"{PREFIX}:skip:"):
        await close_buttons(query, context.t("common.skip"))
        return await _store_figure(update, context, None)
    kept = flow.draft(context).get(field)
    error = views.profit_error(context, flow.draft(context), field, kept)
    if error:  # the turnover was just made smaller: the profit kept must still fit under it
        await close_buttons(query)
        return await flow.retry(update, context, step, error)
    await close_buttons(query, context.t("visit.keep",
                                         value=views.value_text(context, field, kept)))
    return await _store_figure(update, context, kept)


async def got_figure(update: Update, context: BotContext) -> int:
    """Stores a typed amount ("1,5 jt", "Rp 250.000", "12 ekor", "-") and asks the next one."""
    text, draft = message_text(update), flow.draft(context)
    step = Step(flow.current(context) or Step.FIGURES)
    field = draft.get("_figure")
    if field is None:
        if text.strip().lower() in {"ya", "y", "iya", "yes", "catat"}:
            return await _figures_answer(update, context, True)
        if is_skip(text):
            return await _figures_answer(update, context, False)
        return await flow.retry(update, context, step,
                                context.t(f"visit.bad_{_block(context)[0].name}"))
    chosen = amount_check.typed_answer(context, flow, field, text)  # to "Maksudnya …?"
    if chosen is not None:
        return await _take_figure(update, context, chosen)
    if is_skip(text):
        return await _store_figure(update, context, None)
    if field == "livestock_count":
        amount = read_livestock(text)
        if amount is None:
            return await flow.retry(update, context, step,
                                    context.t("visit.bad_livestock", max=MAX_LIVESTOCK))
    else:
        # A profit can be a loss; the other amounts cannot be negative.
        profit = field == "profit"
        amount = parse_amount(text, allow_loss=profit)
        if amount is None:
            if field in views.FIGURES and await amount_check.asked_decimal(
                    update, context, flow, field=field, text=text):
                return step
            return await flow.retry(update, context, step, context.t(
                "visit.bad_profit" if profit else "visit.bad_amount"))
        if field in views.FIGURES and await amount_check.asked(
                update, context, flow, field=field, text=text, amount=amount,
                floor=context.settings.amount_floor, earlier=lambda: visit_queries.last_figure(
                    session=context.session, group_id=draft["group_id"], field=field)):
            return step
    return await _take_figure(update, context, amount)


async def _take_figure(update: Update, context: BotContext, amount: int, *,
                       said: bool = True) -> int:
    """Stores a typed (or confirmed, not ``said`` again) amount and asks the next one; or
    says why it cannot be the profit and asks it again."""
    draft = flow.draft(context)
    error = views.profit_error(context, draft, draft["_figure"], amount)
    if error:
        return await flow.retry(update, context, Step(flow.current(context) or Step.FIGURES),
                                error)
    if said:
        await confirm(update, f"✓ {views.value_text(context, draft['_figure'], amount)}")
    return await _store_figure(update, context, amount)


async def figure_checked(update: Update, context: BotContext) -> int:
    """After "Maksudnya Rp 50.000?": stores the amount chosen and asks the next one."""
    return await amount_check.answered(
        update, context, flow, flow.draft(context).get("_figure"),
        store=lambda update, context, amount: _take_figure(update, context, amount, said=False))


_NOTES = {Step.PROBLEMS: ("problems", Step.FOLLOW_UP),
          Step.FOLLOW_UP: ("follow_up", Step.LOCATION)}  # a note's question: its field, the next


async def got_note(update: Update, context: BotContext, text: str) -> int:
    """Stores the note asked now, the problems or the follow-up (none for a skip word or
    Lewati), and asks the question after it."""
    step = flow.current(context)
    field, then = _NOTES[step]
    value = None if is_skip(text) else parse_note(text)
    if value is None and not is_skip(text):
        return await flow.retry(update, context, step,
                                context.t(f"visit.bad_{field}", max=MAX_TEXT))
    if value is not None and len(value) > MAX_TEXT:
        # Typed work is kept, not refused: the start is stored and the mentor is told.
        value = value[:MAX_TEXT]
        await say(update, context.t("visit.text_cut", max=MAX_TEXT))
    flow.draft(context)[field] = value
    return await flow.next(update, context, then)


async def skip_note(update: Update, context: BotContext) -> int:
    """Lewati on the problems or the follow-up: leaves it empty and asks the next question."""
    return await flow.skip(update, context, dict.fromkeys(("problems", "follow_up"), got_note))


async def _store_location(update: Update, context: BotContext,
                          point: tuple[float, float] | None) -> int:
    draft = flow.draft(context)
    draft["latitude"], draft["longitude"] = point if point else (None, None)
    key = "visit.location_ok" if point else "visit.location_skipped"
    await say(update, context.t(key), reply_markup=ReplyKeyboardRemove())
    return await flow.next(update, context, Step.PHOTOS)


async def got_location(update: Update, context: BotContext) -> int:
    """Stores the shared location and asks for photos."""
    location = update.effective_message.location
    return await _store_location(update, context, (location.latitude, location.longitude))


async def location_typed(update: Update, context: BotContext, text: str) -> int:
    """Lewati (or typed coordinates) instead of a shared location, or the keyboard's Simpan
    sekarang; else the question again."""
    if _save_now_offered(context) is not None and _says_save_now(context, text):
        return await _save_now(update, context)
    # The reply keyboard's buttons by number too ("2": Lewati); its first shares the location,
    # which typing cannot do: that one is asked for again.
    keys = [context.t("visit.location_button"), context.t("common.skip")]
    if _save_now_offered(context) is not None:
        keys.append(context.t("visit.save_now"))
    named = typed_button(text, keys, numbers=True)
    if named == [1]:
        text = context.t("common.skip")
    elif named == [2]:
        return await _save_now(update, context)
    return await read_or_skip(update, context, flow, Step.LOCATION, text, read=parse_coordinates,
                              bad=context.t("visit.bad_location"), store=_store_location)


async def got_photo(update: Update, context: BotContext) -> int:
    """Keeps the largest size of the photo and tells how many came; asks for more or Selesai."""
    message: Message = update.effective_message
    photos: list[str] = flow.draft(context).setdefault("photos", [])
    if len(photos) >= views.MAX_PHOTOS:
        text = context.t("visit.photo_limit", max=views.MAX_PHOTOS)
    else:
        photos.append(max(message.photo, key=lambda size: (size.width * size.height,
                                                          size.file_size or 0)).file_id)
        text = context.t("visit.photo_received", count=len(photos))
    await say(update, text, reply_markup=views.with_save_now(
        context, views.photos_keyboard(context, len(photos)), _save_now_offered(context)))
    return Step.PHOTOS


async def photo_as_file(update: Update, context: BotContext) -> int:
    """An image sent as a file: asks for it as a photo."""
    return await flow.retry(update, context, Step.PHOTOS, context.t("visit.photo_as_file"))


async def photos_done(update: Update, context: BotContext) -> int:
    """Selesai: keeps the photos received and asks for the next visit date."""
    count = len(flow.draft(context).get("photos", []))
    if update.callback_query is not None:
        await close_buttons(update.callback_query,
                            context.t("visit.photos_count", count=count))
    return await flow.next(update, context, Step.NEXT_DATE)


async def photos_clear(update: Update, context: BotContext) -> int:
    """Drops the photos received so far and asks for photos again."""
    await close_buttons(update.callback_query)
    flow.draft(context)["photos"] = []
    await say(update, context.t("visit.photos_cleared"))
    return await flow.ask(update, context, Step.PHOTOS)


async def photos_typed(update: Update, context: BotContext) -> int:
    """Typed "selesai" is Selesai; other text is explained and the question repeated."""
    text = message_text(update).strip().lower()
    if text in {"selesai", "done", "sudah"} or is_skip(text):
        return await photos_done(update, context)
    return await flow.retry(update, context, Step.PHOTOS, context.t("visit.bad_photo"))


def _next_error(context: BotContext, upcoming: date) -> str | None:
    """Why ``upcoming`` is out of the models' window for the next visit, in words; or None."""
    visited = date.fromisoformat(flow.draft(context)["visited_on"])
    return None if rules.next_visit_fits(visited, upcoming) else context.t(
        "visit.next_out_of_range", visited=format_date(visited, context.lang),
        latest=format_date(rules.latest_next_visit(visited), context.lang),
        example=day_example(context, _suggested(context), "visit"))


def _suggested(context: BotContext) -> date:
    return views.default_next(flow.draft(context))  # the visit date + the group's interval


next_date = ask_day_ahead(
    flow, Step.NEXT_DATE, field="next_visit_on", auto="next_auto", start="visited_on",
    suggest=_suggested, horizon_days=rules.MAX_NEXT_DAYS, words=_next_error,
    texts="visit", ask="visit.ask_next", button="visit.next_button", bad="visit.bad_next",
    data="next:default", values=lambda context, visited: {
        "visited": format_date(visited, context.lang),
        "latest": format_date(rules.latest_next_visit(visited), context.lang)})


# --- the summary -----------------------------------------------------------------------------

async def save(update: Update, context: BotContext) -> int:
    """Simpan under the summary: saves the visit and moves the group's next due date (once,
    even if redelivered)."""
    draft = flow.draft(context)
    if not flow.complete(context, REQUIRED) or not draft.get("activities"):
        return await flow.stale(update, context)
    return await _save(update, context, closing=update.callback_query)


def _says_save_now(context: BotContext, text: str) -> bool:
    """Whether ``text`` is the "💾 Simpan sekarang" of a reply keyboard (or typed as words)."""
    words = " ".join(text.lower().split())
    return words == context.t("visit.save_now").lower() or words in {"simpan sekarang", "simpan"}


async def save_now(update: Update, context: BotContext) -> int:
    """💾 Simpan sekarang ("kun:now:<draft id>"): saves the visit with the answers given so far
    and the next visit on the group's schedule, without the summary; a button of another draft
    (one cancelled, or saved) is an old one."""
    query = update.callback_query
    assert query is not None
    step = flow.current(context) or Step.ACTIVITIES
    if int(pressed(query)) != flow.draft(context).get("_draft_id"):
        await query.answer(context.t("common.old_button"))
        return step
    unsure = amount_check.waiting(context, flow)
    if unsure is not None:  # the amount typed is not stored until "Maksudnya …?" is answered
        await query.answer(context.t("amount.answer_first", amount=unsure), show_alert=True)
        return step
    if not flow.complete(context, REQUIRED_NOW) or not flow.draft(context).get("activities"):
        # Every activity unticked since the button was shown.
        await query.answer(context.t("visit.need_activity"), show_alert=True)
        return step
    await close_buttons(query, context.t("visit.save_now"))
    return await _save_now(update, context)


async def _save_now(update: Update, context: BotContext) -> int:
    """Leaves the optional answers not given empty, puts the next visit on the group's
    schedule (the visit date + its interval) unless one was chosen, and saves."""
    draft = flow.draft(context)
    if flow.current(context) == Step.LOCATION:  # its reply keyboard goes with the question
        await say(update, context.t("visit.location_skipped"), reply_markup=ReplyKeyboardRemove())
    if not draft.get("next_visit_on"):
        draft.update(next_visit_on=views.default_next(draft).isoformat(), next_auto=True)
    return await _save(update, context, quick=True)


async def _save(update: Update, context: BotContext, *, quick: bool = False,
                closing: CallbackQuery | None = None) -> int:
    """Saves the draft through the models' rules (the group the mentor's own, checked again)
    and says so, with the stage question; ``quick`` (Simpan sekarang, no summary seen): the
    saved message also says what was saved, that the next visit follows the group's schedule,
    and offers ⏱ Ubah jadwal."""
    draft = flow.draft(context)
    new_visit = rules.NewVisit(
        actor=context.mentor, group_id=draft["group_id"],
        visited_on=date.fromisoformat(draft["visited_on"]), attendance=int(draft["attendance"]),
        activities=tuple(draft["activities"]),
        next_visit_on=date.fromisoformat(draft["next_visit_on"]),
        **{field: draft.get(field) for field in views.FIGURES + views.ASSETS},
        figures_from=iso_date(draft.get("figures_from")),
        problems=draft.get("problems"), follow_up=draft.get("follow_up"),
        latitude=draft.get("latitude"), longitude=draft.get("longitude"),
        photo_file_ids=tuple(draft.get("photos", [])), update_id=update.update_id)
    result = await flow.save_through(update, context, rules.save_visit, closing=closing,
                                     visit=new_visit)
    if isinstance(result, rules.VisitRefusal):
        return await _refused(update, context, result)
    visit, group = result.record, result.group
    # The group's schedule: a visit logged late leaves it as it was.
    upcoming = format_date(group.next_visit_due or visit.next_visit_on, context.lang)
    if quick:
        text = context.t("visit.saved_now", group=group.name,
                         date=format_date(visit.visited_on, context.lang),
                         attendance=visit.attendance,
                         activities=views.activities_text(context, visit.activities),
                         next=upcoming, days=group.visit_interval_days)
    else:
        text = context.t("visit.saved", group=group.name,
                         date=format_date(visit.visited_on, context.lang), next=upcoming)
    rows: list[list[tuple[str, str]]] = []
    if not changes.is_read_only(group):
        # In the same message, answered only when it did change: no tap when the stage stays.
        question, rows = views.stage_question(context, group, visit.id)
        text += "\n\n" + question
    if quick:
        rows.append([(context.t("sched.button"), f"{schedule.PREFIX}:ask:{group.id}")])
    if Activity.SKILLS_TRAINING in visit.activities:
        # A visit with training may record that training now, for its group and date.
        rows.append([trainings.visit_button(context, visit.id)])
    await say(update, text, reply_markup=keyboard(rows) if rows else None)
    return END


async def _answer_stage(query: CallbackQuery, note: str) -> None:
    """Notes the answer under the stage question and takes its buttons away, leaving the
    others (Catat pelatihan)."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message) or not message.text:
        return
    rows = [[button for button in row
             if not str(button.callback_data or "").startswith(f"{PREFIX}:stage:")]
            for row in (message.reply_markup.inline_keyboard if message.reply_markup else ())]
    rows = [row for row in rows if row]
    try:
        await message.edit_text(f"{message.text}\n\n✓ {without_marks(note)}",
                                reply_markup=InlineKeyboardMarkup(rows) if rows else None)
    except BadRequest:  # already edited (a double tap): nothing to do
        pass


@guard()
async def stage_pressed(update: Update, context: BotContext) -> None:
    """A stage under a saved visit ("kun:stage:<visit id>:<stage>"; "same": Tidak berubah):
    records the group's new stage as of the visit's day, tied to the visit, in the group's
    history (models.changes); the visit's group must be the mentor's own and not dissolved."""
    query = update.callback_query
    assert query is not None
    _, _, visit_id, chosen = (query.data or "").split(":")
    visit = await visit_queries.get(session=context.session, visit_id=int(visit_id))
    group = await own_group(context, visit.group_id) if visit is not None else None
    if visit is None or group is None:
        dissolved = await read_only_text(context, visit.group_id) if visit is not None else None
        await query.answer(dissolved or context.t("visit.stage_not_found"), show_alert=True)
        return
    old = group.stage
    if chosen == views.SAME_STAGE or chosen == old:
        await _answer_stage(query, context.t("visit.stage_kept",
                                             stage=context.t(f"stage.{old}")))
        return
    await changes.change_stage(
        session=context.session, group=group, stage=chosen, actor=context.mentor,
        on=visit.visited_on, visit_id=visit.id)
    await _answer_stage(query, context.t("visit.stage_changed", group=group.name,
                                         stage=context.t(f"stage.{chosen}"),
                                         old=context.t(f"stage.{old}")))


async def _refused(update: Update, context: BotContext, refusal: rules.VisitRefusal) -> int:
    """Asks again what the group as stored now (or the figures) no longer let stand."""
    draft = flow.draft(context)
    if refusal.reason == Reason.GROUP_GONE:
        return await flow.stop(update, context, context.t(
            "visit.group_gone", group=draft.get("group_name", "")), remove_keyboard=True)
    if refusal.reason == Reason.NO_ACTIVITY:
        return await flow.stale(update, context)
    assert refusal.formed_on is not None
    draft.update(group_name=refusal.group, members=refusal.members,
                 formed_on=refusal.formed_on.isoformat(), village_code=refusal.village_code)
    if refusal.reason == Reason.ATTENDANCE_OVER_MEMBERS:
        return await flow.ask_again(update, context, "attendance", Step.ATTENDANCE, context.t(
            "visit.recheck_attendance", group=refusal.group, max=refusal.members))
    if refusal.reason in (Reason.DATE_IN_FUTURE, Reason.DATE_BEFORE_FORMED):
        return await flow.ask_again(update, context, "date", Step.DATE,
                                    context.t("visit.recheck_date", group=refusal.group))
    if refusal.reason == Reason.PROFIT_OVER_TURNOVER:  # a draft from before Tetap was checked
        draft["_figure"] = "profit"
        return await flow.ask_again(update, context, "profit", Step.FIGURES,
                                    views.profit_error(context, draft, "profit",
                                                       draft.get("profit")) or "")
    return await flow.ask_again(update, context, "next", Step.NEXT_DATE)  # NEXT_OUT_OF_WINDOW


def _before_edit(context: BotContext, field: str) -> None:
    if field in ("figures", "assets"):
        flow.draft(context)["_figure"] = None  # from "Catat angka usaha?" (or aset) again
    elif field in views.FIGURES + views.ASSETS:
        flow.draft(context)["_figure"] = field  # that amount alone


def _amount_parts(context: BotContext, field: str) -> list[tuple[str, str]]:
    """The figures' (or the assets') amounts with their values, to change one alone, once one
    at least is recorded; none yet: "Catat angka usaha?" asks them all, in turn."""
    block = views.BLOCKS.get(field)
    draft = flow.draft(context)
    if block is None or all(draft.get(part) is None for part in block.fields):
        return []
    return [(part, views.value_text(context, part, draft.get(part))) for part in block.fields]


def _stage_handler() -> BaseHandler:
    stages = "|".join([*Stage, views.SAME_STAGE])
    return CallbackQueryHandler(stage_pressed, pattern=rf"^{PREFIX}:stage:{ID}:({stages})$")


def handlers() -> list[BaseHandler]:
    """/kunjungan and the stage question after a visit, new for each Application."""
    figures = "|".join(views.FIGURES + views.ASSETS)
    now = {rf"{views.SAVE_NOW}:{ID}": save_now}  # at the activities and every question after
    return [flow.build({
        Step.DATE: {"date:today": got_date_today, TEXT: got_date},
        Step.ATTENDANCE: {TEXT: got_attendance},
        Step.ACTIVITIES: {**now, **activities.answers(typed="visit.activities_use_buttons")},
        Step.FIGURES: {"fig:(yes|no)": figures_button, f"(skip|keep):({figures})": figure_button,
                       amount_check.ANSWERS: figure_checked, **now, TEXT: got_figure},
        Step.ASSETS: {"ast:(yes|no)": figures_button, f"(skip|keep):({figures})": figure_button,
                      **now, TEXT: got_figure},
        Step.PROBLEMS: {"skip:problems": skip_note, **now, TEXT: typed(got_note)},
        Step.FOLLOW_UP: {"skip:follow_up": skip_note, **now, TEXT: typed(got_note)},
        Step.LOCATION: {filters.LOCATION: got_location, **now, TEXT: typed(location_typed)},
        Step.PHOTOS: {filters.PHOTO: got_photo, filters.Document.IMAGE: photo_as_file,
                      "photos:done": photos_done, "photos:clear": photos_clear, **now,
                      TEXT: photos_typed},
        Step.NEXT_DATE: next_date,
    }, summary=Summary(save=save, fields=EDIT_FIELDS, labels="visit.field",
                       before_edit=_before_edit, parts=_amount_parts),
        # The stage question of a visit saved before may be answered amid the next visit's.
        fallbacks=[_stage_handler()]), _stage_handler()]
