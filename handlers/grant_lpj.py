"""A grant's LPJ (laporan pertanggungjawaban): "📝 LPJ sudah diserahkan" on the grant's view
(and on an LPJ reminder) asks the day it was handed in and records it, which ends its LPJ
reminders. The group's mentor or a coordinator of its area may record it.

Diagram: grant_lpj.mmd beside this file. The draft holds the grant's id and what the question
needs (group, village, date received); models.saving.grant.save_lpj checks the grant, who
records it and the day against the database again.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum

from telegram import Update
from telegram.ext import BaseHandler

from bot.core.formatting import format_date
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import END, keyboard, pressed, say
from handlers.day_answers import ask_day, day_error, today_pressed, typed_day
from handlers.flow import TEXT, Flow
from handlers.grant_texts import bad_date, date_example, kind_label
from models import grants as grant_queries
from models.changes import is_read_only
from models.saving.grant import (
    LpjReason,
    LpjRefusal,
    NewLpj,
    check_lpj_day,
    save_lpj,
)

PREFIX = "lpj"


class Step(IntEnum):
    DATE = 1


flow = Flow("lpj", prefix=PREFIX, what="lpj.what")

ask_day(flow, Step.DATE, "lpj.ask_date", button="grant.today_button",
        example=lambda context, today: date_example(context, today))


async def start(update: Update, context: BotContext) -> int:
    """"lpj:start:<grant id>": the grant re-checked (one the user may see, of a group not
    dissolved, its LPJ not in yet); asks the day the LPJ was handed in."""
    query = update.callback_query
    if await flow.other_in_progress(update, context):
        return END
    found = await grant_queries.get_visible(session=context.session,
                                            grant_id=int(pressed(query)), actor=context.mentor)
    if found is None:
        await query.answer(context.t("grant.not_found"), show_alert=True)
        return END
    grant, group = found
    if is_read_only(group):
        await query.answer(context.t("lpj.read_only", group=group.name), show_alert=True)
        return END
    if grant.lpj_submitted_on is not None:
        await query.answer(context.t("lpj.already_alert", date=format_date(
            grant.lpj_submitted_on, context.lang)), show_alert=True)
        return END
    await query.answer()
    label = context.t("lpj.label", kind=kind_label(context, grant.kind), group=group.name)
    flow.start(context, grant_id=grant.id, label=label, village_code=group.village_code,
               received_on=grant.received_on.isoformat())
    await say(update, context.t("lpj.start", grant=label))
    return await flow.ask(update, context, Step.DATE)


def _date_error(context: BotContext, day: date) -> str | None:
    today = flow.today(context)
    received = date.fromisoformat(flow.draft(context)["received_on"])
    wrong = check_lpj_day(day, received_on=received, today=today)
    return None if wrong is None else day_error(
        context, late=wrong == LpjReason.SUBMITTED_IN_FUTURE, today=today,
        example=date_example(context, today), texts="lpj", before="lpj.before_received",
        received=format_date(received, context.lang))


async def _store(update: Update, context: BotContext, day: date) -> int:
    """Records the day (the grant, who records it and the day checked again) and ends."""
    draft = flow.draft(context)
    if "grant_id" not in draft:
        return await flow.stale(update, context)
    result = await flow.save_through(update, context, save_lpj, lpj=NewLpj(
        actor=context.mentor, grant_id=draft["grant_id"], submitted_on=day))
    if isinstance(result, LpjRefusal):
        return await _refused(update, context, result, day)
    grant, group = result.record, result.group
    markup = keyboard([[(context.t("grant.btn.open"), f"hib:view:{grant.id}")]])
    key = "lpj.saved" if result.created else "lpj.already"
    await say(update, context.t(key, grant=context.t(
        "lpj.label", kind=kind_label(context, grant.kind), group=group.name),
        date=format_date(grant.lpj_submitted_on, context.lang)), reply_markup=markup)
    return END


async def _refused(update: Update, context: BotContext, refusal: LpjRefusal, day: date) -> int:
    """The grant gone (or no longer the user's to see), the group dissolved: ends; a day the
    rules refuse: the same question again."""
    label = flow.draft(context).get("label", "")
    if refusal.reason == LpjReason.GRANT_GONE:
        return await flow.stop(update, context, context.t("lpj.gone", grant=label))
    if refusal.reason == LpjReason.READ_ONLY:
        return await flow.stop(update, context, context.t("lpj.read_only",
                                                          group=refusal.group or ""))
    return await flow.retry(update, context, Step.DATE, _date_error(context, day) or "")


async def got_date(update: Update, context: BotContext) -> int:
    """Stores the typed day (not in the future, not before the grant came) and ends."""
    return await typed_day(update, context, flow, Step.DATE, words=_date_error, store=_store,
                           unreadable=bad_date)


async def date_today(update: Update, context: BotContext) -> int:
    """Hari ini: stores today as the day the LPJ was handed in and ends."""
    return await today_pressed(update, context, flow, Step.DATE, words=_date_error,
                               store=_store)


def handlers() -> list[BaseHandler]:
    """The LPJ's question, new for each Application (added with /hibah's handlers)."""
    return [flow.build({Step.DATE: {"date:today": date_today, TEXT: got_date}},
                       entry={rf"start:{ID}": start})]
