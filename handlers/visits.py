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

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, filters

from bot.core.enums import Activity
from bot.core.formatting import format_date
from bot.core.parsing import (
    MAX_COUNT_WORDS,
    is_skip,
    parse_amount,
    parse_coordinates,
    parse_count,
    parse_note,
)
from bot.telegram.context import BotContext
from handlers import visits_views as views
from handlers.button_questions import ask_summary
from handlers.common import (
    END,
    close_buttons,
    iso_date,
    message_text,
    pressed,
    say,
)
from handlers.day_answers import (
    ask_day,
    ask_day_ahead,
    day_error,
    day_example,
    today_pressed,
    typed_day,
)
from handlers.flow import TEXT, Flow, Summary
from handlers.group_pick import pick_group
from handlers.tick_boxes import TickBoxes
from handlers.typed_answers import read_or_skip, typed
from models import groups as group_queries
from models.saving import visit as rules
from models.tables import Group

MAX_TEXT = 1000
Reason = rules.VisitReason
REQUIRED = ("group_id", "visited_on", "attendance", "activities", "next_visit_on")


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


PREFIX = views.PREFIX  # the buttons are built in visits_views
flow = Flow("visit", prefix=PREFIX, what="what.visit", summary=Step.CONFIRM, edit_key="_editing")


# --- questions -------------------------------------------------------------------------------

ask_day(flow, Step.DATE, "visit.ask_date", button="visit.today_button")


flow.shows(Step.ATTENDANCE, views.attendance_question)
activities = TickBoxes(flow, Step.ACTIVITIES, "visit.ask_activities", among=Activity,
                       label="activity", data="act", field="activities", then=Step.FIGURES,
                       need="visit.need_activity")


@flow.question(Step.FIGURES)
async def _ask_figures(update: Update, context: BotContext) -> None:
    draft = flow.draft(context)
    text, markup = views.figures_question(context, draft, flow.editing(context))
    await say(update, text, reply_markup=markup or flow.skip_keyboard(context, draft["_figure"]))


flow.says(Step.PROBLEMS, "visit.ask_problems", skip="problems")
flow.says(Step.FOLLOW_UP, "visit.ask_follow_up", skip="follow_up")


flow.shows(Step.LOCATION, views.location_question)
flow.shows(Step.PHOTOS, views.photos_question)


ask_summary(flow, Step.CONFIRM, views.summary_text)


EDIT_FIELDS = {
    "date": Step.DATE,
    "attendance": Step.ATTENDANCE,
    "activities": Step.ACTIVITIES,
    "figures": Step.FIGURES,
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
        interval=group.visit_interval_days)
    await say(update, context.t("visit.start", group=group.name))
    return await flow.ask(update, context, Step.DATE)


pick_group(flow, Step.GROUP, command="kunjungan", texts="visit", begin=_begin,
           label=views.group_label)


async def _store_date(update: Update, context: BotContext, visited: date) -> int:
    """Stores the visit date and asks for the attendance (or goes back to the summary)."""
    draft = flow.draft(context)
    draft["visited_on"] = visited.isoformat()
    if draft.get("next_visit_on") and draft.get("next_auto"):
        draft["next_visit_on"] = views.default_next(draft).isoformat()  # the suggestion moves along
    upcoming = iso_date(draft.get("next_visit_on"))
    if flow.editing(context) and not (upcoming and rules.next_visit_fits(visited, upcoming)):
        # A new visit date the old next date no longer fits: ask it too, then the summary.
        return await flow.ask(update, context, Step.NEXT_DATE)
    return await flow.next(update, context, Step.ATTENDANCE)


def _date_error(context: BotContext, visited: date) -> str | None:
    """Why the group's dates do not allow ``visited`` (models' rule), in words; or None."""
    draft = flow.draft(context)
    today, formed = flow.today(context), iso_date(draft.get("formed_on"))
    wrong = rules.check_visit_date(visited, formed_on=formed, today=today)
    return None if wrong is None else day_error(
        context, late=wrong is Reason.DATE_IN_FUTURE, today=today, example=f"{today:%d/%m/%Y}",
        texts="visit", before="visit.before_formed", group=draft.get("group_name", ""),
        formed=format_date(formed, context.lang) if formed else "-")


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
    attendance = parse_count(message_text(update), minimum=0, maximum=MAX_COUNT_WORDS)
    if attendance is None or not rules.attendance_fits(attendance, members=members):
        return await flow.retry(update, context, Step.ATTENDANCE, context.t(
            "visit.bad_attendance", max=members, example=views.attendance_example(members)))
    flow.draft(context)["attendance"] = attendance
    return await flow.next(update, context, Step.ACTIVITIES)


async def _ask_figure(update: Update, context: BotContext, field: str | None) -> int:
    """Asks the amount ``field``; None: the figures are done, on to the problems."""
    flow.draft(context)["_figure"] = field
    if field is None:
        return await flow.next(update, context, Step.PROBLEMS)
    return await flow.ask(update, context, Step.FIGURES, fresh=True)


async def _figures_answer(update: Update, context: BotContext, wanted: bool) -> int:
    """After "Catat angka usaha?": the first amount, or (Lewati) no figures at all."""
    if not wanted:
        flow.draft(context).update(dict.fromkeys(views.FIGURES))
    return await _ask_figure(update, context, views.FIGURES[0] if wanted else None)


async def _store_figure(update: Update, context: BotContext, value: int | None) -> int:
    """Stores one amount and asks the next one, or moves on after the last."""
    draft = flow.draft(context)
    field = draft["_figure"]
    draft[field] = value
    following = views.FIGURES[views.FIGURES.index(field) + 1:]
    return await _ask_figure(update, context, following[0] if following else None)


async def figures_button(update: Update, context: BotContext) -> int:
    """Ya asks for the turnover; Lewati skips all four figures and asks for the problems."""
    query = update.callback_query
    if flow.draft(context).get("_figure") is not None:
        await query.answer(context.t("common.old_button"))
        return Step.FIGURES
    wanted = query.data.endswith(":yes")
    await close_buttons(query, context.t("common.yes" if wanted else "common.skip"))
    return await _figures_answer(update, context, wanted)


async def figure_button(update: Update, context: BotContext) -> int:
    """Lewati (Kosongkan) leaves one amount empty; Tetap, while changing the figures, keeps
    it; then the next amount is asked."""
    query = update.callback_query
    field = flow.draft(context).get("_figure")
    if field != pressed(query):
        await query.answer(context.t("common.old_button"))
        return Step.FIGURES
    if query.data.startswith(f"{PREFIX}:skip:"):
        await close_buttons(query, context.t("common.skip"))
        return await _store_figure(update, context, None)
    kept = flow.draft(context).get(field)
    error = views.profit_error(context, flow.draft(context), field, kept)
    if error:  # the turnover was just made smaller: the profit kept must still fit under it
        await close_buttons(query)
        return await flow.retry(update, context, Step.FIGURES, error)
    await close_buttons(query, context.t("visit.keep", value=views.amount_text(context, kept)))
    return await _store_figure(update, context, kept)


async def got_figure(update: Update, context: BotContext) -> int:
    """Stores a typed amount ("1,5 jt", "Rp 250.000", "-") and asks the next one."""
    text, draft = message_text(update), flow.draft(context)
    field = draft.get("_figure")
    if field is None:
        if text.strip().lower() in {"ya", "y", "iya", "yes", "catat"}:
            return await _figures_answer(update, context, True)
        if is_skip(text):
            return await _figures_answer(update, context, False)
        return await flow.retry(update, context, Step.FIGURES, context.t("visit.bad_figures"))
    if is_skip(text):
        return await _store_figure(update, context, None)
    # A profit can be a loss; turnover, cash and the solidarity fee cannot be negative.
    profit = field == "profit"
    amount = parse_amount(text, allow_loss=profit)
    if amount is None:
        return await flow.retry(update, context, Step.FIGURES,
                                context.t("visit.bad_profit" if profit else "visit.bad_amount"))
    error = views.profit_error(context, draft, field, amount)
    if error:
        return await flow.retry(update, context, Step.FIGURES, error)
    await say(update, f"✓ {views.amount_text(context, amount)}")
    return await _store_figure(update, context, amount)


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
    """Lewati (or typed coordinates) instead of a shared location; else the question again."""
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
    await say(update, text, reply_markup=views.photos_keyboard(context, len(photos)))
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
    """Saves the visit and moves the group's next due date (once, even if redelivered)."""
    draft = flow.draft(context)
    if not flow.complete(context, REQUIRED) or not draft.get("activities"):
        return await flow.stale(update, context)
    await close_buttons(update.callback_query)
    result = await flow.save_through(update, context, rules.save_visit, visit=rules.NewVisit(
        actor=context.mentor, group_id=draft["group_id"],
        visited_on=date.fromisoformat(draft["visited_on"]), attendance=int(draft["attendance"]),
        activities=tuple(draft["activities"]),
        next_visit_on=date.fromisoformat(draft["next_visit_on"]),
        **{field: draft.get(field) for field in views.FIGURES},
        problems=draft.get("problems"), follow_up=draft.get("follow_up"),
        latitude=draft.get("latitude"), longitude=draft.get("longitude"),
        photo_file_ids=tuple(draft.get("photos", [])), update_id=update.update_id))
    if isinstance(result, rules.VisitRefusal):
        return await _refused(update, context, result)
    visit, group = result.record, result.group
    await say(update, context.t("visit.saved", group=group.name,
                                date=format_date(visit.visited_on, context.lang),
                                # The group's schedule: a visit logged late leaves it as it was.
                                next=format_date(group.next_visit_due or visit.next_visit_on,
                                                 context.lang)))
    return END


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
        return await flow.ask_again(update, context, "figures", Step.FIGURES,
                                    views.profit_error(context, draft, "profit",
                                                       draft.get("profit")) or "")
    return await flow.ask_again(update, context, "next", Step.NEXT_DATE)  # NEXT_OUT_OF_WINDOW


def _before_edit(context: BotContext, field: str) -> None:
    if field == "figures":
        flow.draft(context)["_figure"] = None  # from "Catat angka usaha?" again


def handlers() -> list[BaseHandler]:
    """/kunjungan, new for each Application."""
    figures = "|".join(views.FIGURES)
    return [flow.build({
        Step.DATE: {"date:today": got_date_today, TEXT: got_date},
        Step.ATTENDANCE: {TEXT: got_attendance},
        Step.ACTIVITIES: activities.answers(typed="visit.activities_use_buttons"),
        Step.FIGURES: {"fig:(yes|no)": figures_button, f"(skip|keep):({figures})": figure_button,
                       TEXT: got_figure},
        Step.PROBLEMS: {"skip:problems": skip_note, TEXT: typed(got_note)},
        Step.FOLLOW_UP: {"skip:follow_up": skip_note, TEXT: typed(got_note)},
        Step.LOCATION: {filters.LOCATION: got_location, TEXT: typed(location_typed)},
        Step.PHOTOS: {filters.PHOTO: got_photo, filters.Document.IMAGE: photo_as_file,
                      "photos:done": photos_done, "photos:clear": photos_clear,
                      TEXT: photos_typed},
        Step.NEXT_DATE: next_date,
    }, summary=Summary(save=save, fields=EDIT_FIELDS, labels="visit.field",
                       before_edit=_before_edit))]
