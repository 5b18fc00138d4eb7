"""/pelatihan: a mentor records a training (pelatihan) that one of their groups, or some of its
households, received: the date, the topic, who gave it and who attended.

Diagram: trainings.mmd beside this file.

It starts from the group's detail ("lat:start:<group id>", the "🎓 Catat pelatihan" button),
from /pelatihan (the groups as buttons), or from a visit just saved whose activities include
training ("lat:visit:<visit id>": the visit's group, the visit's date, no date question).
The draft lives in user_data (JSON values only, dates as ISO strings); what the questions need
about the group (name, date formed, village, active households) is copied into it when the
group is chosen, and models.saving.training checks all of it against the database at save.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot.core.formatting import format_date, format_date_short
from bot.core.parsing import is_skip, mask_numbers, parse_note
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.button_questions import ask_summary
from handlers.common import (
    END,
    back_to_group,
    close_buttons,
    iso_date,
    keyboard,
    message_text,
    own_group,
    pressed,
    read_only_text,
    say,
)
from handlers.day_answers import ask_day, day_error, today_pressed, typed_day
from handlers.flow import TEXT, Flow, Summary
from handlers.group_pick import pick_group
from handlers.tick_boxes import TickBoxes
from handlers.typed_answers import typed
from models import groups as group_queries
from models import trainings as training_queries
from models import visits as visit_queries
from models.saving.training import (
    MAX_PROVIDER,
    MAX_TOPIC,
    NewTraining,
    TrainingReason,
    TrainingRefusal,
    check_held,
    save_training,
    text_fits,
)
from models.tables import Group, Visit

PREFIX = "lat"
REQUIRED = ("group_id", "held_on", "topic", "who")  # the provider may be unknown
ALL, SOME = "all", "some"
SHOWN_IN_DETAIL = 3  # the latest trainings listed in the group's detail


class Step(IntEnum):
    GROUP = 1
    DATE = 2
    TOPIC = 3
    PROVIDER = 4
    WHO = 5  # the whole group, or some households
    HOUSEHOLDS = 6  # the households who attended, ticked
    CONFIRM = 7  # summary; "Ubah" swaps its buttons for the fields, in place


flow = Flow("training", prefix=PREFIX, what="what.training", summary=Step.CONFIRM)


# --- questions --------------------------------------------------------------------------------

ask_day(flow, Step.DATE, "training.ask_date", button="training.today_button")
flow.says(Step.TOPIC, "training.ask_topic")
flow.says(Step.PROVIDER, "training.ask_provider", skip="provider")


@flow.question(Step.WHO)
async def _ask_who(update: Update, context: BotContext) -> None:
    count = len(flow.draft(context).get("households", []))
    await say(update, context.t("training.ask_who"), reply_markup=keyboard([
        [(context.t("training.who_all", count=count), f"{PREFIX}:who:{ALL}")],
        [(context.t("training.who_some"), f"{PREFIX}:who:{SOME}")]]))


def _households(draft: dict[str, Any]) -> list[tuple[str, str]]:
    """The group's active households as (id, name), as copied into the draft."""
    return [(str(member_id), name) for member_id, name in draft.get("households", [])]


households = TickBoxes(flow, Step.HOUSEHOLDS, "training.ask_households", data="kk",
                       field="attendees", then=Step.CONFIRM, need="training.need_household",
                       choices=_households, values=ID)


def attendees_text(context: BotContext, draft: dict[str, Any]) -> str:
    """"semua KK (7)", or "3 KK: Siti, Budi, Rina"."""
    if draft.get("who") == ALL:
        return context.t("training.all_households", count=len(draft.get("households", [])))
    ticked = draft.get("attendees", [])
    return context.t("training.some_households", count=len(ticked),
                     names=households.shown(context, ticked))


def summary_text(context: BotContext, draft: dict[str, Any]) -> str:
    text = context.t(
        "training.summary", group=draft["group_name"],
        date=format_date(date.fromisoformat(draft["held_on"]), context.lang),
        # Free text may quote a NIK or a phone number: shown masked, like everywhere in chat.
        topic=mask_numbers(draft["topic"]),
        provider=mask_numbers(draft.get("provider") or context.t("common.none")),
        attendees=attendees_text(context, draft))
    if draft.get("visit_id"):
        text += "\n" + context.t("training.from_visit")
    return text


ask_summary(flow, Step.CONFIRM, summary_text)

EDIT_FIELDS = {"date": Step.DATE, "topic": Step.TOPIC, "provider": Step.PROVIDER,
               "attendees": Step.WHO}


# --- starting: /pelatihan, "lat:start:<group id>" and "lat:visit:<visit id>" ---------------------

async def _begin(update: Update, context: BotContext, group: Group,
                 visit: Visit | None = None) -> int:
    """Copies what the questions need about the group into the draft and asks the date (from
    a visit: its date is the training's, and the topic is asked)."""
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    if not members:
        return await flow.stop(update, context,
                               context.t("training.no_households", group=group.name))
    draft = flow.draft(context)
    draft.update(group_id=group.id, group_name=group.name, village_code=group.village_code,
                 formed_on=group.formed_on.isoformat(),
                 households=[[member.id, member.name] for member in members])
    if visit is None:
        await say(update, context.t("training.start", group=group.name))
        return await flow.ask(update, context, Step.DATE)
    draft.update(visit_id=visit.id, held_on=visit.visited_on.isoformat())
    await say(update, context.t("training.start_from_visit", group=group.name,
                                date=format_date(visit.visited_on, context.lang)))
    return await flow.ask(update, context, Step.TOPIC)


pick_group(flow, Step.GROUP, command="pelatihan", texts="training", begin=_begin)


async def from_visit(update: Update, context: BotContext) -> int:
    """"🎓 Catat pelatihan" under a saved visit: the visit's group (the mentor's own, checked
    again) and date, then the topic. An unfinished training is continued instead."""
    query = update.callback_query
    assert query is not None
    if await flow.other_in_progress(update, context):
        return END
    await query.answer()
    state = flow.current(context)
    if state is not None and state != Step.GROUP and flow.draft(context).get("group_id"):
        await say(update, context.t("training.resume",
                                    group=flow.draft(context).get("group_name", "")))
        return await flow.ask(update, context, Step(state))
    visit = await visit_queries.get(session=context.session, visit_id=int(pressed(query)))
    group = await own_group(context, visit.group_id) if visit is not None else None
    if visit is None or group is None:
        dissolved = await read_only_text(context, visit.group_id) if visit is not None else None
        return await flow.stop(update, context,
                               dissolved or context.t("training.visit_not_found"))
    flow.start(context)
    return await _begin(update, context, group, visit)


# --- answers ----------------------------------------------------------------------------------

def _date_error(context: BotContext, day: date) -> str | None:
    """Why the group's dates do not allow ``day`` (models' rule), in words; or None."""
    draft = flow.draft(context)
    today, formed = flow.today(context), iso_date(draft.get("formed_on"))
    wrong = check_held(day, formed_on=formed, today=today)
    return None if wrong is None else day_error(
        context, late=wrong is TrainingReason.DATE_IN_FUTURE, today=today,
        example=f"{today:%d/%m/%Y}", texts="training", before="training.before_formed",
        group=draft.get("group_name", ""),
        formed=format_date(formed, context.lang) if formed else "-")


async def _store_date(update: Update, context: BotContext, day: date) -> int:
    flow.draft(context)["held_on"] = day.isoformat()
    return await flow.next(update, context, Step.TOPIC)


async def got_date(update: Update, context: BotContext) -> int:
    """Stores a typed date (formed_on..today) and asks the topic."""
    return await typed_day(update, context, flow, Step.DATE, words=_date_error,
                           store=_store_date,
                           unreadable=lambda context, _: context.t("training.bad_date"))


async def got_date_today(update: Update, context: BotContext) -> int:
    """Hari ini: stores today as the date and asks the topic."""
    return await today_pressed(update, context, flow, Step.DATE, words=_date_error,
                               store=_store_date)


def _one_line(text: str) -> str | None:
    note = parse_note(text)
    return " ".join(note.split()) if note else None


async def got_topic(update: Update, context: BotContext, text: str) -> int:
    """Stores the topic (some words, at most MAX_TOPIC characters) and asks who gave it."""
    topic = _one_line(text)
    if not text_fits(topic, limit=MAX_TOPIC):
        return await flow.retry(update, context, Step.TOPIC,
                                context.t("training.bad_topic", max=MAX_TOPIC))
    flow.draft(context)["topic"] = topic
    return await flow.next(update, context, Step.PROVIDER)


async def got_provider(update: Update, context: BotContext, text: str) -> int:
    """Stores who gave the training (at most MAX_PROVIDER characters; none for a skip word or
    Lewati) and asks who attended."""
    provider = None if is_skip(text) else _one_line(text)
    if not is_skip(text) and not text_fits(provider, limit=MAX_PROVIDER):
        return await flow.retry(update, context, Step.PROVIDER,
                                context.t("training.bad_provider", max=MAX_PROVIDER))
    flow.draft(context)["provider"] = provider
    return await flow.next(update, context, Step.WHO)


async def skip_provider(update: Update, context: BotContext) -> int:
    """Lewati on the provider: leaves it empty and asks who attended."""
    return await flow.skip(update, context, {"provider": got_provider})


async def _store_who(update: Update, context: BotContext, who: str) -> int:
    """The whole group: the summary; some households: the households to tick."""
    draft = flow.draft(context)
    draft["who"] = who
    if who == ALL:
        draft["attendees"] = []
        return await flow.next(update, context, Step.CONFIRM)
    known = {value for value, _ in _households(draft)}
    draft["attendees"] = [value for value in draft.get("attendees", []) if value in known]
    return await flow.ask(update, context, Step.HOUSEHOLDS)


async def who_pressed(update: Update, context: BotContext) -> int:
    """Semua KK stores the whole group and shows the summary; Pilih KK asks the households."""
    query = update.callback_query
    assert query is not None
    who = pressed(query)
    await close_buttons(query, context.t("training.who_all" if who == ALL else "training.who_some",
                                         count=len(flow.draft(context).get("households", []))))
    return await _store_who(update, context, who)


async def who_typed(update: Update, context: BotContext) -> int:
    """Typed "semua" is Semua KK; "pilih" is Pilih KK; other text gets an example."""
    text = message_text(update).strip().lower()
    if text in {"semua", "all", "semua kk"}:
        return await _store_who(update, context, ALL)
    if text in {"pilih", "pilih kk", "some", "choose"}:
        return await _store_who(update, context, SOME)
    return await flow.retry(update, context, Step.WHO, context.t("training.bad_who"))


# --- the summary ------------------------------------------------------------------------------

async def save(update: Update, context: BotContext) -> int:
    """Saves the training with its audit row (once, even if redelivered)."""
    draft = flow.draft(context)
    if not flow.complete(context, REQUIRED):
        return await flow.stale(update, context)
    await close_buttons(update.callback_query)
    attendees = None if draft["who"] == ALL else tuple(int(v) for v in draft.get("attendees", []))
    result = await flow.save_through(update, context, save_training, training=NewTraining(
        actor=context.mentor, group_id=draft["group_id"],
        held_on=date.fromisoformat(draft["held_on"]), topic=draft["topic"],
        provider=draft.get("provider"), attendee_ids=attendees, visit_id=draft.get("visit_id"),
        update_id=update.update_id))
    if isinstance(result, TrainingRefusal):
        return await _refused(update, context, result)
    training, group = result.record, result.group
    await say(update, context.t("training.saved", group=group.name,
                                topic=mask_numbers(training.topic),
                                date=format_date(training.held_on, context.lang),
                                count=len(training.attendee_ids)),
              reply_markup=back_to_group(context, group.id))
    return END


async def _refused(update: Update, context: BotContext, refusal: TrainingRefusal) -> int:
    """Asks again what the group as stored now no longer lets stand."""
    draft = flow.draft(context)
    if refusal.reason == TrainingReason.GROUP_GONE:
        return await flow.stop(update, context, context.t(
            "training.group_gone", group=draft.get("group_name", "")))
    if refusal.reason == TrainingReason.READ_ONLY:
        return await flow.stop(update, context, context.t(
            "training.read_only", group=refusal.group))
    assert refusal.formed_on is not None
    draft.update(group_name=refusal.group, village_code=refusal.village_code,
                 formed_on=refusal.formed_on.isoformat(),
                 households=[[member_id, name] for member_id, name in refusal.households])
    if refusal.reason in (TrainingReason.DATE_IN_FUTURE, TrainingReason.DATE_BEFORE_FORMED):
        return await flow.ask_again(update, context, "date", Step.DATE, _date_error(
            context, date.fromisoformat(draft["held_on"])))
    if refusal.reason == TrainingReason.NO_TEXT:
        return await flow.ask_again(update, context, "topic", Step.TOPIC)
    return await flow.ask_again(update, context, "attendees", Step.WHO,  # ATTENDEES_CHANGED
                                context.t("training.recheck_households", group=refusal.group))


# --- the group's detail -----------------------------------------------------------------------

def start_button(context: BotContext, group_id: int) -> tuple[str, str]:
    """The group detail's "🎓 Catat pelatihan" (its mentor only)."""
    return context.t("training.button"), f"{PREFIX}:start:{group_id}"


def visit_button(context: BotContext, visit_id: int) -> tuple[str, str]:
    """"🎓 Catat pelatihan" under a saved visit whose activities include training."""
    return context.t("training.button"), f"{PREFIX}:visit:{visit_id}"


async def group_block(context: BotContext, group: Group) -> str:
    """For the group's detail: its latest trainings ("" without any)."""
    latest = await training_queries.latest_for_group(session=context.session, group_id=group.id,
                                                     limit=SHOWN_IN_DETAIL)
    if not latest:
        return ""
    count = await training_queries.count_for_group(session=context.session, group_id=group.id)
    lines = [context.t("training.detail_line",
                       date=format_date_short(training.held_on, context.lang),
                       topic=mask_numbers(training.topic),
                       provider=context.t("training.detail_provider",
                                          provider=mask_numbers(training.provider))
                       if training.provider else "",
                       count=len(training.attendee_ids)) for training in latest]
    return context.t("training.detail", count=count, lines="\n".join(lines))


def handlers() -> list[BaseHandler]:
    """/pelatihan, new for each Application."""
    return [flow.build({
        Step.DATE: {"date:today": got_date_today, TEXT: got_date},
        Step.TOPIC: {TEXT: typed(got_topic)},
        Step.PROVIDER: {"skip:provider": skip_provider, TEXT: typed(got_provider)},
        Step.WHO: {f"who:({ALL}|{SOME})": who_pressed, TEXT: who_typed},
        Step.HOUSEHOLDS: households.answers(typed="training.households_use_buttons"),
    }, entry={rf"visit:{ID}": from_visit},
        summary=Summary(save=save, fields=EDIT_FIELDS, labels="training.field"))]
