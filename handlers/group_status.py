"""A group's status (aktif, tidak aktif, bubar) changed from its detail ("sts:start:<id>"), by
its mentor or a coordinator or admin of its area: the new status, the reason (and a note for
"lainnya"), since when, and a summary to confirm (a dissolution is said to be final for the
records). Reactivating (back to aktif) is recorded the same way.

Diagram: group_status.mmd beside this file. The group is re-checked at the start and at the
save (models.groups.get_manageable); models.changes.change_status writes the group, its
history row, the audit row and the visit reminders (none while not aktif) in one commit.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot.core.enums import GroupStatus, StatusReason
from bot.core.formatting import format_date
from bot.core.parsing import is_skip
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.button_questions import ask_choice, ask_summary
from handlers.common import (
    END,
    back_to_group,
    button_choice,
    close_buttons,
    column,
    iso_date,
    pressed_manageable,
    say,
)
from handlers.day_answers import ask_day, day_error, day_example, today_pressed, typed_day
from handlers.flow import TEXT, Flow, Summary
from handlers.typed_answers import typed
from models import changes
from models import groups as group_queries
from models.tables import Group

PREFIX = "sts"
MAX_NOTE = 200
# The reasons a group stops (tidak aktif) or ends (bubar); going back to aktif has its own.
REASONS = (StatusReason.BUSINESS_STOPPED, StatusReason.MEMBERS_INACTIVE, StatusReason.DISASTER,
           StatusReason.OTHER)


class Step(IntEnum):
    STATUS = 1
    REASON = 2
    NOTE = 3  # "lainnya" only: a few words, or Lewati
    DATE = 4
    CONFIRM = 5


flow = Flow("group_status", prefix=PREFIX, what="what.group_status", summary=Step.CONFIRM)


def _draft(context: BotContext) -> dict[str, Any]:
    return flow.draft(context)


def choices(current: str) -> list[str]:
    """The statuses a group may move to: any other one, except that a dissolved group can
    only be made aktif again (its records are otherwise read-only)."""
    if current == GroupStatus.DISSOLVED:
        return [GroupStatus.ACTIVE.value]
    return [status.value for status in GroupStatus if status != current]


def _example(context: BotContext, day: date) -> str:
    return day_example(context, day, "gst")


# --- questions --------------------------------------------------------------------------------

@flow.question(Step.STATUS)
async def _ask_status(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    buttons = [(context.t(f"gst.to.{value}"), f"{PREFIX}:to:{value}")
               for value in choices(draft["old"])]
    await say(update, context.t("gst.ask_status", group=draft["group_name"],
                                status=context.t(f"gstatus.{draft['old']}")),
              reply_markup=column(buttons))


ask_choice(flow, Step.REASON, "gst.ask_reason", among=REASONS, label="sreason", data="why",
           per_row=2)
flow.says(Step.NOTE, "gst.ask_note", skip="note")
ask_day(flow, Step.DATE, "gst.ask_date", button="gst.today_button", example=_example)


def _summary(context: BotContext, draft: dict[str, Any]) -> str:
    note = draft.get("note")
    return context.t(
        "gst.summary", group=draft["group_name"], old=context.t(f"gstatus.{draft['old']}"),
        new=context.t(f"gstatus.{draft['status']}"),
        date=format_date(date.fromisoformat(draft["on"]), context.lang),
        reason=context.t(f"sreason.{draft['reason']}"),
        note=context.t("gst.summary_note", note=note) if note else "",
        warning=context.t(f"gst.warn.{draft['status']}"))


ask_summary(flow, Step.CONFIRM, _summary)


def _offered(context: BotContext) -> list[str]:
    """Ubah offers the reason (not when going back to aktif), the note (for "lainnya") and
    the date."""
    draft = _draft(context)
    fields = [] if draft.get("status") == GroupStatus.ACTIVE else ["reason"]
    if draft.get("reason") == StatusReason.OTHER:
        fields.append("note")
    return [*fields, "date"]


# --- answers ----------------------------------------------------------------------------------

async def start(update: Update, context: BotContext) -> int:
    """"sts:start:<id>" from the group's detail: the group re-checked (its mentor, or a
    coordinator or admin of its area), copied into a new draft; asks the new status."""
    query = update.callback_query
    if await flow.other_in_progress(update, context):
        return END
    group = await pressed_manageable(update, context, writable=False)  # bubar → aktif
    if group is None:
        return END
    await query.answer()
    flow.start(context, group_id=group.id, group_name=group.name, old=group.status,
               village_code=group.village_code, formed_on=group.formed_on.isoformat(),
               status_on=group.status_on.isoformat() if group.status_on else None)
    return await flow.ask(update, context, Step.STATUS)


async def got_status(update: Update, context: BotContext) -> int:
    """Stores the new status; aktif again needs no reason (asks the date), the others ask
    why."""
    query = update.callback_query
    draft = _draft(context)
    value = await button_choice(query, context, choices(draft["old"]))
    if value is None:
        return Step.STATUS
    draft["status"] = value
    await close_buttons(query, context.t(f"gstatus.{value}"))
    if value == GroupStatus.ACTIVE:
        draft.update(reason=StatusReason.REACTIVATED.value, note=None)
        return await flow.ask(update, context, Step.DATE)
    if draft.get("reason") == StatusReason.REACTIVATED:
        draft["reason"] = None
    return await flow.ask(update, context, Step.REASON)


async def got_reason(update: Update, context: BotContext) -> int:
    """Stores the reason; "lainnya" asks a note, the others the date (or the summary)."""
    query = update.callback_query
    value = await button_choice(query, context, REASONS)
    if value is None:
        return Step.REASON
    draft = _draft(context)
    draft["reason"] = value
    await close_buttons(query, context.t(f"sreason.{value}"))
    if value == StatusReason.OTHER:
        return await flow.ask(update, context, Step.NOTE)
    draft["note"] = None
    return await _after_reason(update, context)


async def _after_reason(update: Update, context: BotContext) -> int:
    if flow.editing(context) or _draft(context).get("on"):
        return await flow.sum_up(update, context)
    return await flow.ask(update, context, Step.DATE)


async def got_note(update: Update, context: BotContext, text: str) -> int:
    """Stores the note of "lainnya" (or none: Lewati, "-") and asks the date (or sums up)."""
    if is_skip(text):
        _draft(context)["note"] = None
        return await _after_reason(update, context)
    note = " ".join(text.split())
    if not 1 <= len(note) <= MAX_NOTE:
        return await flow.retry(update, context, Step.NOTE,
                                context.t("gst.bad_note", max=MAX_NOTE))
    _draft(context)["note"] = note
    return await _after_reason(update, context)


async def skip(update: Update, context: BotContext) -> int:
    """Lewati on the note: stores none and asks the date (or sums up)."""
    return await flow.skip(update, context, {"note": got_note})


def _date_words(context: BotContext, problem: changes.StatusDate | None, *, group: str,
                formed: date, since: date | None, status: str) -> str | None:
    """The words for a date models.changes.check_status_date refuses (None: none)."""
    today = flow.today(context)
    example = _example(context, today)
    if problem is None:
        return None
    if problem is changes.StatusDate.FUTURE:
        return day_error(context, late=True, today=today, example=example, texts="gst",
                         before="gst.before_formed")
    if problem is changes.StatusDate.BEFORE_FORMED:
        return day_error(context, late=False, today=today, example=example, texts="gst",
                         before="gst.before_formed", group=group,
                         formed=format_date(formed, context.lang))
    assert since is not None
    return day_error(context, late=False, today=today, example=example, texts="gst",
                     before="gst.before_last", group=group,
                     status=context.t(f"gstatus.{status}"),
                     since=format_date(since, context.lang))


def _date_error(context: BotContext, day: date) -> str | None:
    """Not after today, not before the group was formed, nor before its current status
    began (models.changes.check_status_date)."""
    draft = _draft(context)
    formed, since = date.fromisoformat(draft["formed_on"]), iso_date(draft.get("status_on"))
    problem = changes.check_status_date(day, formed_on=formed, status_on=since,
                                        today=flow.today(context))
    return _date_words(context, problem, group=draft["group_name"], formed=formed,
                       since=since, status=draft["old"])


async def _store_date(update: Update, context: BotContext, day: date) -> int:
    _draft(context)["on"] = day.isoformat()
    return await flow.sum_up(update, context)


async def got_date(update: Update, context: BotContext) -> int:
    """Stores the typed date (not after today, not before the group was formed nor before its
    current status began) and sums up."""
    return await typed_day(update, context, flow, Step.DATE, words=_date_error,
                           store=_store_date, unreadable=lambda context, today: context.t(
                               "gst.bad_date", example=_example(context, today)))


async def date_today(update: Update, context: BotContext) -> int:
    """Hari ini: stores today and sums up."""
    return await today_pressed(update, context, flow, Step.DATE, words=_date_error,
                               store=_store_date)


async def _group(context: BotContext) -> Group | None:
    return await group_queries.get_manageable(session=context.session,
                                              group_id=_draft(context)["group_id"],
                                              actor=context.mentor)


async def save(update: Update, context: BotContext) -> int:
    """Simpan: the group re-checked; the status, its history row, the audit row and the
    visit reminders saved in one commit (models.changes.change_status)."""
    draft = _draft(context)
    if not flow.complete(context, ("group_id", "status", "reason", "on")):
        return await flow.stale(update, context)
    await close_buttons(update.callback_query)
    group = await _group(context)
    if group is None:
        return await flow.stop(update, context, context.t("grp.not_found"))
    status = draft["status"]
    if status not in choices(group.status):  # changed by someone else meanwhile
        return await flow.stop(update, context, context.t(
            "gst.unchanged", group=group.name, status=context.t(f"gstatus.{group.status}")))
    on = date.fromisoformat(draft["on"])
    # The group as stored now: another status change may have been saved meanwhile.
    problem = changes.check_status_date(on, formed_on=group.formed_on,
                                        status_on=group.status_on, today=flow.today(context))
    if problem is not None:
        wrong = _date_words(context, problem, group=group.name, formed=group.formed_on,
                            since=group.status_on, status=group.status)
        draft.update(formed_on=group.formed_on.isoformat(),
                     status_on=group.status_on.isoformat() if group.status_on else None)
        draft.pop("on", None)
        return await flow.retry(update, context, Step.DATE, wrong or "")
    await flow.end_with_save(update, context)
    await changes.change_status(
        session=context.session, group=group, status=status, reason=draft["reason"],
        actor=context.mentor, on=on, note=draft.get("note"), today=flow.today(context),
        rules=context.settings.reminder_rules)
    flow.clear(context)
    await say(update, context.t("gst.saved", group=group.name,
                                status=context.t(f"gstatus.{status}"),
                                date=format_date(on, context.lang)),
              reply_markup=back_to_group(context, group.id))
    return END


def handlers() -> list[BaseHandler]:
    """The status conversation, new for each Application."""
    statuses = "|".join(status.value for status in GroupStatus)
    reasons = "|".join(reason.value for reason in REASONS)
    return [flow.build({
        Step.STATUS: {f"to:({statuses})": got_status},
        Step.REASON: {f"why:({reasons})": got_reason},
        Step.NOTE: {"skip:note": skip, TEXT: typed(got_note)},
        Step.DATE: {"date:today": date_today, TEXT: got_date},
    }, entry={rf"start:{ID}": start},
        summary=Summary(save=save, fields={"reason": Step.REASON, "note": Step.NOTE,
                                           "date": Step.DATE},
                        labels="gst.field", offered=_offered))]
