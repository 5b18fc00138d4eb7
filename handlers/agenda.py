"""/jadwal (my agenda) and the buttons of the reminder digest (Tunda 1 hari)."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.core import clock
from bot.core.enums import GroupStatus, ReminderRule
from bot.core.formatting import format_date
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import guard, say
from handlers.grant_texts import kind_label
from models import grants as grant_queries
from models import groups as group_queries
from models import reminders as reminder_queries
from models.changes import is_read_only

PREFIX = "rem"


@guard()
async def agenda(update: Update, context: BotContext) -> None:
    """Overdue visits, today's, this week's, roll-over deadlines and LPJ deadlines, in local
    time."""
    mentor = context.mentor
    today = clock.today_for(mentor.area_code)
    rows = await group_queries.list_for_mentor(session=context.session, mentor=mentor)
    grants = await grant_queries.list_for_mentor(session=context.session, mentor=mentor)
    if not rows:
        await say(update, context.t("agenda.empty"))
        return
    lang = context.lang
    overdue, due_today, week = [], [], []
    for row in rows:
        due = row.group.next_visit_due
        if due is None or row.group.status != GroupStatus.ACTIVE:  # no visits while paused
            continue
        if due < today:
            overdue.append(context.t("agenda.group_overdue", group=row.group.name,
                                     days=(today - due).days, date=format_date(due, lang)))
        elif due == today:
            due_today.append(context.t("agenda.group_today", group=row.group.name))
        elif due <= today + timedelta(days=7):
            week.append(context.t("agenda.group_week", group=row.group.name,
                                  date=format_date(due, lang)))
    states = await grant_queries.progress_for(session=context.session,
                                              grants=[g for g, _ in grants], today=today)
    rollovers, lpjs = [], []
    for grant, group in grants:
        if is_read_only(group):
            continue  # a dissolved group: nothing can be recorded for its grants any more
        if grant.lpj_due is not None and grant.lpj_submitted_on is None:
            days = (grant.lpj_due - today).days
            when = (context.t("agenda.days_left", days=days) if days > 0
                    else context.t("agenda.lpj_today") if days == 0
                    else context.t("agenda.days_late", days=-days))
            lpjs.append((grant.lpj_due, grant.id, context.t(
                "agenda.lpj_line", group=group.name, kind=kind_label(context, grant.kind),
                date=format_date(grant.lpj_due, lang), when=when)))
        state = states[grant.id]
        if not state.required or state.complete:
            continue
        days = (grant.rollover_due - today).days
        when = (context.t("agenda.days_left", days=days) if days >= 0
                else context.t("agenda.days_late", days=-days))
        rollovers.append(context.t("agenda.rollover_line", group=group.name,
                                   date=format_date(grant.rollover_due, lang), when=when,
                                   percent=state.percent))
    parts = [context.t("agenda.title", today=format_date(today, lang))]
    for title, lines in (("agenda.overdue", overdue), ("agenda.today", due_today),
                         ("agenda.week", week)):
        if lines:
            parts.append(context.t(title) + "\n" + "\n".join(lines))
    if len(parts) == 1:
        # No visit within the week: the next one is still what a mentor plans around, even
        # when roll-over deadlines fill the rest of the agenda.
        upcoming = min(((r.group.next_visit_due, r.group.name) for r in rows
                        if r.group.next_visit_due and r.group.status == GroupStatus.ACTIVE),
                       default=None)
        parts.append(context.t("agenda.next_visit", group=upcoming[1],
                               date=format_date(upcoming[0], lang)) if upcoming
                     else context.t("agenda.no_visit"))
    if rollovers:
        parts.append(context.t("agenda.rollover") + "\n" + "\n".join(rollovers))
    if lpjs:
        parts.append(context.t("agenda.lpj") + "\n"
                     + "\n".join(line for *_, line in sorted(lpjs)))
    await say(update, "\n\n".join(parts))


@guard()
async def snooze(update: Update, context: BotContext) -> None:
    """Moves one reminder to tomorrow morning, if it is about the user's own group."""
    query = update.callback_query
    reminder = await reminder_queries.get(session=context.session,
                                          reminder_id=int(query.data.split(":")[2]))
    group = None
    if reminder is not None:
        if reminder.rule in (ReminderRule.ROLLOVER_SOON, ReminderRule.ROLLOVER_OVERDUE,
                             ReminderRule.LPJ_SOON, ReminderRule.LPJ_OVERDUE):
            found = await grant_queries.get_own(session=context.session,
                                                grant_id=reminder.subject_id,
                                                mentor=context.mentor)
            group = found[1] if found else None
        else:
            group = await group_queries.get_own(session=context.session,
                                                group_id=reminder.subject_id,
                                                mentor=context.mentor)
    if reminder is None or group is None:
        await query.answer(context.t("rem.not_found"), show_alert=True)
        return
    await reminder_queries.snooze(session=context.session, reminder=reminder,
                                  area_code=group.village_code,
                                  today=clock.today_for(group.village_code),
                                  rules=context.settings.reminder_rules)
    await query.answer(context.t("rem.snoozed"))


def handlers() -> list[BaseHandler]:
    """/jadwal and its snooze buttons, new for each Application."""
    return [
        CommandHandler("jadwal", agenda),
        CallbackQueryHandler(snooze, pattern=rf"^{PREFIX}:snooze:{ID}$"),
    ]
