"""Perbaiki under a visit opened from /riwayat ("vfix:start:<id>"): its mentor corrects one
answer (the date, the attendance, the activities, one amount, a note, the next visit date),
sees the change and saves it.

Diagram: visit_correction.mmd beside this file. Who may, and until when, is
models.saving.visit_correction's rule, checked at the start and again at the save; the new
answer is read as /kunjungan reads it and meets the same rules. A new visit date asks the next
visit date too (it must come after it). The save writes an audit row with the old and new
values, moves the group's next due date and reminders when a date changed, and shows the visit
again, "diperbaiki <tanggal>".
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot.core.enums import Activity
from bot.core.formatting import format_date, format_date_short
from bot.core.parsing import (
    is_skip,
    mask_numbers,
    parse_amount,
    parse_note,
)
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers import amount_check
from handlers import visits_views as views
from handlers.common import END, button_choice, close_buttons, keyboard, say
from handlers.common import message_text as typed_text
from handlers.day_answers import ask_day_ahead, today_pressed, typed_day
from handlers.flow import TEXT, Flow
from handlers.tick_boxes import TickBoxes
from handlers.visit_answers import (
    MAX_LIVESTOCK,
    MAX_TEXT,
    date_error,
    read_attendance,
    read_livestock,
)
from handlers.visit_card import CORRECT_PREFIX, send_visit
from models import groups as group_queries
from models import visits as visit_queries
from models.saving import visit as rules
from models.saving.visit_correction import (
    CorrectionReason,
    CorrectionRefusal,
    correct_visit,
    may_correct,
)
from models.tables import Visit

PREFIX = CORRECT_PREFIX
AMOUNTS = views.FIGURES + views.ASSETS
NOTES = ("problems", "follow_up")
# The answers that can be corrected, in the order of the visit's questions.
FIELDS = ("date", "attendance", "activities", *AMOUNTS, *NOTES, "next")
DATES = ("visited_on", "next_visit_on")
STORED = ("visited_on", "attendance", "activities", *AMOUNTS, *NOTES, "next_visit_on")


class Step(IntEnum):
    FIELD = 1
    DATE = 2
    ATTENDANCE = 3
    ACTIVITIES = 4
    AMOUNT = 5  # the amount draft["_figure"]
    NOTE = 6  # the note draft["_note"]
    NEXT_DATE = 7
    CONFIRM = 8


FIRST = {"date": Step.DATE, "attendance": Step.ATTENDANCE, "activities": Step.ACTIVITIES,
         "next": Step.NEXT_DATE, **dict.fromkeys(AMOUNTS, Step.AMOUNT),
         **dict.fromkeys(NOTES, Step.NOTE)}

flow = Flow("visit_correction", prefix=PREFIX, what="what.visit_correction",
            summary=Step.CONFIRM)


def _draft(context: BotContext) -> dict[str, Any]:
    return flow.draft(context)


def _stored(visit: Visit) -> dict[str, Any]:
    """The visit's answers as the draft keeps them (JSON: dates as ISO strings)."""
    values = {field: getattr(visit, field) for field in STORED}
    return {field: value.isoformat() if isinstance(value, date) else value
            for field, value in values.items()}


def _changed(draft: dict[str, Any]) -> list[str]:
    old = draft.get("old", {})
    return [field for field in STORED if draft.get(field) != old.get(field)]


def _shown(context: BotContext, field: str, value: Any) -> str:
    """One answer as the change reads it."""
    if value is None or value == []:
        return context.t("common.none")
    if field in DATES:
        return format_date_short(date.fromisoformat(value), context.lang)
    if field == "attendance":
        return context.t("vfix.households", count=value)
    if field == "activities":
        return views.activities_text(context, value)
    if field in AMOUNTS:
        return views.value_text(context, field, value)
    return mask_numbers(value)


# --- questions --------------------------------------------------------------------------------

@flow.question(Step.FIELD)
async def _ask_field(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    buttons = [(context.t(f"vfix.field.{field}"), f"{PREFIX}:field:{field}") for field in FIELDS]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(context.t("common.cancel"), f"{PREFIX}:cancel")])
    await say(update, context.t("vfix.ask_field", group=draft["group_name"], date=format_date(
        date.fromisoformat(draft["old"]["visited_on"]), context.lang)),
        reply_markup=keyboard(rows))


@flow.question(Step.DATE)
async def _ask_date(update: Update, context: BotContext) -> None:
    now = context.t("visit.figure_now", value=_shown(context, "visited_on",
                                                     _draft(context)["old"]["visited_on"]))
    await say(update, context.t("visit.ask_date") + "\n" + now, reply_markup=keyboard([[
        (context.t("visit.today_button"), f"{PREFIX}:date:today")]]))


@flow.question(Step.ATTENDANCE)
async def _ask_attendance(update: Update, context: BotContext) -> None:
    text, _ = views.attendance_question(context, _draft(context))
    now = context.t("visit.figure_now", value=_shown(context, "attendance",
                                                     _draft(context)["old"]["attendance"]))
    await say(update, text + "\n" + now)


activities = TickBoxes(flow, Step.ACTIVITIES, "visit.ask_activities", among=Activity,
                       label="activity", data="act", field="activities", then=Step.CONFIRM,
                       need="visit.need_activity")


def _now_and_clear(context: BotContext, field: str) -> tuple[str, Any]:
    """"Sekarang: …" under a question, and Kosongkan for an answer that may be empty."""
    value = _draft(context).get(field)
    markup = keyboard([[(context.t("visit.clear"), f"{PREFIX}:clear")]])
    return "\n" + context.t("visit.figure_now", value=_shown(context, field, value)), markup


@flow.question(Step.AMOUNT)
async def _ask_amount(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    field = draft["_figure"]
    now, markup = _now_and_clear(context, field)
    await say(update, context.t(f"visit.ask_{field}", span=views.span_text(context, draft))
              + now, reply_markup=markup)


@flow.question(Step.NOTE)
async def _ask_note(update: Update, context: BotContext) -> None:
    field = _draft(context)["_note"]
    now, markup = _now_and_clear(context, field)
    await say(update, context.t(f"vfix.ask_{field}") + now, reply_markup=markup)


@flow.question(Step.CONFIRM)
async def _ask_confirm(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    lines = "\n".join(context.t("vfix.change", field=context.t(f"vfix.name.{field}"),
                                old=_shown(context, field, draft["old"].get(field)),
                                new=_shown(context, field, draft.get(field)))
                      for field in _changed(draft))
    await say(update, context.t("vfix.confirm", group=draft["group_name"], changes=lines),
              reply_markup=keyboard([[(context.t("common.save"), f"{PREFIX}:save"),
                                      (context.t("common.cancel"), f"{PREFIX}:cancel")]]))


@flow.summary_route
async def _to_confirm(update: Update, context: BotContext) -> int:
    """The change to save; an answer given as it was changes nothing and ends."""
    if not _changed(_draft(context)):
        return await flow.stop(update, context, context.t("vfix.unchanged"))
    return await flow.ask(update, context, Step.CONFIRM)


# --- the start and the answer chosen ----------------------------------------------------------

def refusal_text(context: BotContext, reason: CorrectionReason, group: str | None) -> str:
    """Why the visit cannot be corrected by this user (now), kindly."""
    return context.t(f"vfix.refused.{reason}", group=group or "",
                     days=context.settings.visit_correction_days)


async def start(update: Update, context: BotContext) -> int:
    """"vfix:start:<id>" under an opened visit: the visit re-checked (its mentor, the group
    not dissolved, within the days allowed); asks which answer to correct."""
    query = update.callback_query
    assert query is not None
    if await flow.other_in_progress(update, context):
        return END
    found = await visit_queries.get_visible(session=context.session,
                                            visit_id=int(query.data.rsplit(":", 1)[1]),
                                            actor=context.mentor)
    why = CorrectionReason.NOT_FOUND if found is None else may_correct(
        found[0], found[1], context.mentor, days=context.settings.visit_correction_days)
    if why is not None:
        text = refusal_text(context, why, found[1].name if found else None)
        await query.answer(text, show_alert=True)
        await say(update, text)
        return END
    assert found is not None
    visit, group = found
    await query.answer()
    members = await group_queries.count_active_members(session=context.session,
                                                       group_id=group.id)
    stored = _stored(visit)
    draft = flow.start(context, visit_id=visit.id, group_id=group.id, group_name=group.name,
                       village_code=group.village_code, formed_on=group.formed_on.isoformat(),
                       members=members, interval=group.visit_interval_days, old=stored,
                       **stored)
    if visit.figures_from is not None:
        draft.update(figures_from=visit.figures_from.isoformat(),
                     figures_since_visit=visit.figures_from != group.formed_on)
    else:
        await views.note_span(context, draft)
    return await flow.ask(update, context, Step.FIELD)


async def got_field(update: Update, context: BotContext) -> int:
    """Notes the answer chosen and asks it again."""
    query = update.callback_query
    assert query is not None
    field = await button_choice(query, context, FIELDS)
    if field is None:
        return Step.FIELD
    await close_buttons(query, context.t(f"vfix.field.{field}"))
    draft = _draft(context)
    # Its answer leads to the change shown (Flow.next, for the activities' Selesai).
    flow.set_editing(context, field)
    if field in AMOUNTS:
        draft["_figure"] = field
    elif field in NOTES:
        draft["_note"] = field
    return await flow.ask(update, context, FIRST[field])


# --- answers ----------------------------------------------------------------------------------

def _date_error(context: BotContext, visited: date) -> str | None:
    """Why the group's dates do not allow ``visited``, in words; or None."""
    return date_error(context, _draft(context), visited, flow.today(context))


async def _store_date(update: Update, context: BotContext, visited: date) -> int:
    """Stores the new visit date and asks the next visit date, which must come after it."""
    _draft(context)["visited_on"] = visited.isoformat()
    return await flow.ask(update, context, Step.NEXT_DATE)


async def got_date_today(update: Update, context: BotContext) -> int:
    """Hari ini as the new visit date; asks the next visit date."""
    return await today_pressed(update, context, flow, Step.DATE, words=_date_error,
                               store=_store_date)


async def got_date(update: Update, context: BotContext) -> int:
    """A typed new visit date (formed_on..today); asks the next visit date."""
    return await typed_day(update, context, flow, Step.DATE, words=_date_error,
                           store=_store_date, said="visit.date_ok",
                           unreadable=lambda context, _: context.t("visit.bad_date"))


async def got_attendance(update: Update, context: BotContext) -> int:
    """Stores the households present (0..active members) and shows the change."""
    members = int(_draft(context).get("members", 0))
    attendance, why = read_attendance(context, typed_text(update), members)
    if attendance is None:
        return await flow.retry(update, context, Step.ATTENDANCE, why)
    _draft(context)["attendance"] = attendance
    return await flow.sum_up(update, context)


def _amount_error(context: BotContext, field: str, amount: int | None) -> str | None:
    """Why the profit and the turnover would not fit together (the visit's rule); or None."""
    draft = _draft(context)
    turnover = amount if field == "turnover" else draft.get("turnover")
    profit = amount if field == "profit" else draft.get("profit")
    if field not in ("turnover", "profit") or rules.profit_fits(profit, turnover):
        return None
    return views.profit_over_text(context, profit, turnover)


async def _store_amount(update: Update, context: BotContext, amount: int | None) -> int:
    draft = _draft(context)
    error = _amount_error(context, draft["_figure"], amount)
    if error:
        return await flow.retry(update, context, Step.AMOUNT, error)
    draft[draft["_figure"]] = amount
    return await flow.sum_up(update, context)


async def got_amount(update: Update, context: BotContext) -> int:
    """A typed amount ("1,5 jt", "rugi 50rb", "12 ekor"; "-" for none) and the change; a
    plain number that looks too small is asked back first ("Maksudnya Rp 50.000?"), as when
    the visit was logged."""
    text, field = typed_text(update), _draft(context)["_figure"]
    chosen = amount_check.typed_answer(context, flow, field, text)  # to "Maksudnya …?"
    if chosen is not None:
        return await _store_amount(update, context, chosen)
    if is_skip(text):
        return await _store_amount(update, context, None)
    if field == "livestock_count":
        amount = read_livestock(text)
        if amount is None:
            return await flow.retry(update, context, Step.AMOUNT,
                                    context.t("visit.bad_livestock", max=MAX_LIVESTOCK))
    else:
        profit = field == "profit"
        amount = parse_amount(text, allow_loss=profit)
        if amount is None:
            if field in views.FIGURES and await amount_check.asked_decimal(
                    update, context, flow, field=field, text=text):
                return Step.AMOUNT
            return await flow.retry(update, context, Step.AMOUNT, context.t(
                "visit.bad_profit" if profit else "visit.bad_amount"))
        if field in views.FIGURES and await amount_check.asked(
                update, context, flow, field=field, text=text, amount=amount,
                floor=context.settings.amount_floor, earlier=lambda: visit_queries.last_figure(
                    session=context.session, group_id=_draft(context)["group_id"],
                    field=field)):
            return Step.AMOUNT
    return await _store_amount(update, context, amount)


async def amount_checked(update: Update, context: BotContext) -> int:
    """After "Maksudnya Rp 50.000?": the amount chosen and the change."""
    return await amount_check.answered(update, context, flow, _draft(context).get("_figure"),
                                       store=_store_amount)


async def got_note(update: Update, context: BotContext) -> int:
    """A typed note ("-" for none; a long one kept to its start) and the change."""
    text, field = typed_text(update), _draft(context)["_note"]
    value = None if is_skip(text) else parse_note(text)
    if value is None and not is_skip(text):
        return await flow.retry(update, context, Step.NOTE,
                                context.t(f"visit.bad_{field}", max=MAX_TEXT))
    if value is not None and len(value) > MAX_TEXT:
        value = value[:MAX_TEXT]
        await say(update, context.t("visit.text_cut", max=MAX_TEXT))
    _draft(context)[field] = value
    return await flow.sum_up(update, context)


async def cleared(update: Update, context: BotContext) -> int:
    """Kosongkan: the amount or the note asked becomes empty; the change is shown."""
    query = update.callback_query
    assert query is not None
    await close_buttons(query, context.t("visit.clear"))
    if flow.current(context) == Step.AMOUNT:
        return await _store_amount(update, context, None)
    draft = _draft(context)
    draft[draft["_note"]] = None
    return await flow.sum_up(update, context)


def _next_error(context: BotContext, upcoming: date) -> str | None:
    visited = date.fromisoformat(_draft(context)["visited_on"])
    return None if rules.next_visit_fits(visited, upcoming) else context.t(
        "visit.next_out_of_range", visited=format_date(visited, context.lang),
        latest=format_date(rules.latest_next_visit(visited), context.lang),
        example=f"{_suggested(context):%d/%m/%Y}")


def _suggested(context: BotContext) -> date:
    return views.default_next(_draft(context))  # the visit date + the group's interval


next_date = ask_day_ahead(
    flow, Step.NEXT_DATE, field="next_visit_on", auto="next_auto", start="visited_on",
    suggest=_suggested, horizon_days=rules.MAX_NEXT_DAYS, words=_next_error,
    texts="visit", ask="visit.ask_next", button="visit.next_button", bad="visit.bad_next",
    data="next:default", values=lambda context, visited: {
        "visited": format_date(visited, context.lang),
        "latest": format_date(rules.latest_next_visit(visited), context.lang)})


# --- the save ---------------------------------------------------------------------------------

async def save(update: Update, context: BotContext) -> int:
    """Simpan: saves the change (re-checked: who, until when, the visit's rules), then shows
    the visit again, corrected."""
    query = update.callback_query
    assert query is not None
    draft = _draft(context)
    fields = _changed(draft)
    if not draft.get("visit_id") or not fields:
        return await flow.stale(update, context)
    await close_buttons(query)
    values = {field: date.fromisoformat(draft[field]) if field in DATES else draft[field]
              for field in fields}
    result = await flow.save_through(
        update, context, correct_visit, actor=context.mentor, visit_id=draft["visit_id"],
        values=values, days=context.settings.visit_correction_days)
    if isinstance(result, CorrectionRefusal):
        return await _refused(update, context, result)
    await say(update, context.t("vfix.saved"))
    await send_visit(update, context, result.record, result.group, media=False)
    return END


async def _refused(update: Update, context: BotContext, refusal: CorrectionRefusal) -> int:
    """Words a refusal: who may not (ends), or the answer to give again."""
    reason = refusal.reason
    if isinstance(reason, CorrectionReason):
        return await flow.stop(update, context, refusal_text(context, reason, refusal.group))
    draft, Reason = _draft(context), rules.VisitReason
    if refusal.members is not None:
        draft["members"] = refusal.members
    if reason == Reason.ATTENDANCE_OVER_MEMBERS:
        return await flow.retry(update, context, Step.ATTENDANCE, context.t(
            "visit.recheck_attendance", group=refusal.group, max=refusal.members))
    if reason in (Reason.DATE_IN_FUTURE, Reason.DATE_BEFORE_FORMED):
        return await flow.retry(update, context, Step.DATE,
                                context.t("visit.recheck_date", group=refusal.group))
    if reason == Reason.NEXT_OUT_OF_WINDOW:
        return await flow.ask(update, context, Step.NEXT_DATE)
    if reason == Reason.PROFIT_OVER_TURNOVER:
        draft["_figure"] = "profit"
        return await flow.retry(update, context, Step.AMOUNT,
                                _amount_error(context, "profit", draft.get("profit")) or "")
    return await flow.ask(update, context, Step.ACTIVITIES)  # NO_ACTIVITY


def handlers() -> list[BaseHandler]:
    """The correction conversation, new for each Application."""
    return [flow.build({
        Step.FIELD: {f"field:({'|'.join(FIELDS)})": got_field},
        Step.DATE: {"date:today": got_date_today, TEXT: got_date},
        Step.ATTENDANCE: {TEXT: got_attendance},
        Step.ACTIVITIES: activities.answers(typed="visit.activities_use_buttons"),
        Step.AMOUNT: {"clear": cleared, amount_check.ANSWERS: amount_checked, TEXT: got_amount},
        Step.NOTE: {"clear": cleared, TEXT: got_note},
        Step.NEXT_DATE: next_date,
        Step.CONFIRM: {"save": save},
    }, entry={rf"start:{ID}": start})]
