"""Ubah jadwal: the mentor changes how often a group is visited (buttons, ids re-checked)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.core import clock
from bot.core.formatting import format_date
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import close_buttons, column, guard, own_group, pressed, read_only_text, say
from models import groups as group_queries

PREFIX = "jdw"
CHOICES = (7, 14, 30, 60, 90)


@guard()
async def ask(update: Update, context: BotContext) -> None:
    """Offers the usual intervals for one of the mentor's own groups."""
    query = update.callback_query
    group = await own_group(context, int(pressed(query)))
    if group is None:
        text = await read_only_text(context, int(pressed(query))) or context.t("grp.not_found")
        await query.answer(text, show_alert=True)
        return
    await query.answer()
    buttons = [(("✓ " if days == group.visit_interval_days else "")
                + context.t("sched.every", days=days), f"{PREFIX}:set:{group.id}:{days}")
               for days in CHOICES]
    await say(update, context.t("sched.ask", group=group.name,
                                days=group.visit_interval_days),
              reply_markup=column(buttons, per_row=2))


@guard()
async def set_interval(update: Update, context: BotContext) -> None:
    """Stores the interval, moves the next due date and reschedules the reminders."""
    query = update.callback_query
    _, _, group_id, days = query.data.split(":")
    group = await own_group(context, int(group_id))
    if group is None or int(days) not in CHOICES:
        await query.answer(context.t("grp.not_found"), show_alert=True)
        return
    await close_buttons(query, context.t("sched.every", days=int(days)))
    group = await group_queries.change_interval(
        session=context.session, group=group, days=int(days), actor=context.mentor,
        today=clock.today_for(group.village_code), rules=context.settings.reminder_rules)
    await say(update, context.t("sched.saved", group=group.name, days=int(days),
                                next=format_date(group.next_visit_due, context.lang)))


def handlers() -> list[BaseHandler]:
    """The visit interval buttons, new for each Application."""
    return [
        CallbackQueryHandler(ask, pattern=rf"^{PREFIX}:ask:{ID}$"),
        CallbackQueryHandler(set_interval, pattern=rf"^{PREFIX}:set:{ID}:{ID}$"),
    ]
