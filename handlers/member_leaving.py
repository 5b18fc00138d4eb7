"""Catat keluar: a household leaves its group, and the mentor says why (pindah, meninggal,
mengundurkan diri, graduasi / sudah mampu, lainnya with a short note) and when. The row stays
for the history; graduations are counted (models.groups.count_graduated).

Started by "klr:start:<group>:<member>" (the household's page, or Anggota > Catat keluar);
the group and household are re-checked at the start and again at the save. Diagram:
member_leaving.mmd beside this file.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum

from telegram import Update
from telegram.ext import BaseHandler

from bot.core.enums import LeaveReason
from bot.core.formatting import format_date
from bot.core.parsing import group_problems, parse_note
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import END, button_choice, close_buttons, keyboard, say
from handlers.day_answers import day_error, day_example, today_pressed, typed_day
from handlers.flow import TEXT, Flow
from handlers.member_texts import problems_text
from handlers.typed_answers import typed
from models import changes
from models import groups as group_queries
from models.tables import Group, Member

PREFIX = "klr"
NOTE_MAX = 100


class Step(IntEnum):
    REASON = 1
    NOTE = 2
    DATE = 3


flow = Flow("member_leave", prefix=PREFIX, what="what.member_leave")


# --- the group and household, re-checked ------------------------------------------------------

async def _find(context: BotContext, group_id: int, member_id: int
                ) -> tuple[Group, Member] | str:
    """The user's own group (not dissolved) and a current household of it; else the text key
    saying why not."""
    group = await group_queries.get_own(session=context.session, group_id=group_id,
                                        mentor=context.mentor)
    if group is None:
        return "grp.not_found"
    if changes.is_read_only(group):
        return "mem.read_only"
    member = await group_queries.get_member(session=context.session, group=group,
                                            member_id=member_id)
    if member is None:
        return "mem.not_found"
    return group, member


# --- questions --------------------------------------------------------------------------------

@flow.question(Step.REASON)
async def _ask_reason(update: Update, context: BotContext) -> None:
    draft = flow.draft(context)
    buttons = [[(context.t(f"leave.{reason}"), f"{PREFIX}:why:{reason}")] for reason in LeaveReason]
    buttons.append([(context.t("common.cancel"), f"{PREFIX}:cancel")])
    await say(update, context.t("klr.ask_reason", name=draft.get("name", ""),
                                group=draft.get("group", "")), reply_markup=keyboard(buttons))


flow.says(Step.NOTE, "klr.ask_note")


def _example(context: BotContext) -> str:
    return day_example(context, flow.today(context), "klr")


@flow.question(Step.DATE)
async def _ask_date(update: Update, context: BotContext) -> None:
    markup = keyboard([[(context.t("klr.today_button"), f"{PREFIX}:date:today")]])
    await say(update, context.t("klr.ask_date", name=flow.draft(context).get("name", ""),
                                example=_example(context)), reply_markup=markup)


# --- answers ----------------------------------------------------------------------------------

async def start(update: Update, context: BotContext) -> int:
    """Catat keluar on a household: re-checks the group and household, then asks why."""
    query = update.callback_query
    if await flow.other_in_progress(update, context):
        return END
    group_id, member_id = (int(part) for part in query.data.split(":")[2:4])
    found = await _find(context, group_id, member_id)
    if isinstance(found, str):
        await query.answer(context.t(found), show_alert=True)
        return END
    group, member = found
    await query.answer()
    flow.start(context, group_id=group.id, member_id=member.id, village_code=group.village_code,
               name=member.name, group=group.name, joined_on=member.joined_on.isoformat())
    return await flow.ask(update, context, Step.REASON)


async def got_reason(update: Update, context: BotContext) -> int:
    """Stores why the household leaves; "lainnya" asks for a short note, the rest the date."""
    query = update.callback_query
    draft = flow.draft(context)
    if "member_id" not in draft:
        return await flow.stale(update, context)
    reason = await button_choice(query, context, LeaveReason)
    if reason is None:
        return Step.REASON
    draft["reason"] = reason
    if reason != LeaveReason.OTHER:
        draft.pop("note", None)
    await close_buttons(query, context.t(f"leave.{reason}"))
    return await flow.ask(update, context,
                          Step.NOTE if reason == LeaveReason.OTHER else Step.DATE)


async def got_note(update: Update, context: BotContext, text: str) -> int:
    """Stores the short note of "lainnya" (words, at most 100 characters) and asks the date."""
    note = parse_note(text)
    if note is None or len(note) > NOTE_MAX:
        return await flow.retry(update, context, Step.NOTE, context.t("klr.bad_note"))
    flow.draft(context)["note"] = note
    return await flow.ask(update, context, Step.DATE)


def _date_error(context: BotContext, day: date) -> str | None:
    """Not after today where the group is, not before the household joined."""
    today = flow.today(context)
    joined = date.fromisoformat(flow.draft(context)["joined_on"])
    if day <= today and day >= joined:
        return None
    return day_error(context, late=day > today, today=today, example=_example(context),
                     texts="klr", before="klr.before_joined",
                     joined=format_date(joined, context.lang))


async def _save(update: Update, context: BotContext, day: date) -> int:
    """Records the leaving (the group and household checked again), says so, and names any
    rule the group now breaks."""
    draft = flow.draft(context)
    found = await _find(context, draft.get("group_id", 0), draft.get("member_id", 0))
    if isinstance(found, str):
        return await flow.stop(update, context, context.t(
            "klr.gone" if found == "mem.not_found" else found))
    group, member = found
    reason, note = draft["reason"], draft.get("note")
    await flow.end_with_save(update, context)
    await group_queries.remove_member(session=context.session, member=member,
                                      actor=context.mentor, left_on=day, reason=reason,
                                      note=note if reason == LeaveReason.OTHER else None)
    flow.clear(context)
    shown = format_date(day, context.lang)
    if reason == LeaveReason.GRADUATED:
        await say(update, context.t("klr.done_graduated", name=member.name, group=group.name,
                                    date=shown))
    else:
        await say(update, context.t("klr.done", name=member.name, group=group.name,
                                    reason=context.t(f"leave.{reason}"), date=shown))
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    problems = group_problems(members, minimum=context.settings.group_min_size,
                              maximum=context.settings.group_max_size)
    if problems:
        await say(update, context.t("mem.warning", problems=problems_text(context, problems)))
    return END


async def got_date(update: Update, context: BotContext) -> int:
    """A typed leaving date (not in the future, not before joining): records the leaving."""
    return await typed_day(update, context, flow, Step.DATE, words=_date_error, store=_save,
                           unreadable=lambda context, _: context.t(
                               "klr.bad_date", example=_example(context)))


async def date_today(update: Update, context: BotContext) -> int:
    """Hari ini: records the leaving today."""
    return await today_pressed(update, context, flow, Step.DATE, words=_date_error, store=_save)


def handlers() -> list[BaseHandler]:
    """The Catat keluar conversation, new for each Application."""
    return [flow.build({
        Step.REASON: {r"why:\w+": got_reason},
        Step.NOTE: {TEXT: typed(got_note)},
        Step.DATE: {"date:today": date_today, TEXT: got_date},
    }, entry={rf"start:{ID}:{ID}": start})]
