"""/riwayat: the latest visits the user may see, ten at a time; and one group's visits.

Buttons: "riw:page:<n>" (page n of /riwayat, 1 = latest), "riw:group:<group_id>[:<n>]"
(from /kelompok's Riwayat button) and "riw:visit:<visit_id>" (a page's numbered buttons: one
visit in full, handlers.visit_card). Every press reads the database again with the user's
rights, so an old or forged button never shows what the user may not see.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.core.formatting import format_date_short
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import guard, keyboard, redraw, say
from handlers.visit_card import send_visit
from handlers.visits_views import activities_text, history_lines
from models import groups as group_queries
from models import visits as visit_queries
from models.tables import Visit

PREFIX = "riw"
PAGE_SIZE = 10
MAX_PAGE = 9999
_MAX_MESSAGE = 4000  # Telegram allows 4096 characters


def _activities(context: BotContext, visit: Visit) -> str:
    return activities_text(context, visit.activities or []) or context.t("common.none")


def _nav(context: BotContext, page: int, more: bool, data: str,
         visits: Sequence[Visit] = ()):
    """A numbered button per visit listed (five a row: small enough for a small phone), then
    the paging."""
    numbers = [(str(no), f"{PREFIX}:visit:{visit.id}") for no, visit in enumerate(visits, 1)]
    rows = [numbers[i:i + 5] for i in range(0, len(numbers), 5)]
    row = []
    if page > 1:
        row.append((context.t("visit.history_newer"), f"{data}:{page - 1}"))
    if more:
        row.append((context.t("visit.history_older"), f"{data}:{page + 1}"))
    rows.append(row)
    rows = [row for row in rows if row]
    return keyboard(rows) if rows else None


def _join(header: str, items: list[str], page: int, context: BotContext) -> str:
    text = header + "\n\n" + "\n\n".join(f"{no}. {item}" for no, item in enumerate(items, 1))
    if page > 1:
        text += "\n\n" + context.t("visit.history_page", page=page)
    text += "\n\n" + context.t("visit.history_open")
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE - 1] + "…"


async def _show(update: Update, text: str, markup) -> None:
    """A button press edits its message in place (paging); a command sends a new one."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    await redraw(update, text, markup)


async def _recent(update: Update, context: BotContext, page: int) -> None:
    rows = await visit_queries.recent_visible(
        session=context.session, actor=context.mentor, limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    if not rows:
        key = "visit.history_empty" if page == 1 else "visit.history_no_older"
        await _show(update, context.t(key), _nav(context, page, False, f"{PREFIX}:page"))
        return
    items = [context.t("visit.history_item", date=format_date_short(visit.visited_on, context.lang),
                       group=name, attendance=visit.attendance,
                       activities=_activities(context, visit),
                       extra=history_lines(context, visit))
             for visit, name in rows]
    await _show(update, _join(context.t("visit.history_title"), items, page, context),
                _nav(context, page, more, f"{PREFIX}:page", [visit for visit, _ in rows]))


@guard()
async def show_recent(update: Update, context: BotContext) -> None:
    """/riwayat: the latest ten visits to the groups the user may see."""
    await _recent(update, context, 1)


@guard()
async def show_page(update: Update, context: BotContext) -> None:
    """Lebih lama / Lebih baru: another page of /riwayat, in the same message."""
    page = min(max(int(update.callback_query.data.rsplit(":", 1)[1]), 1), MAX_PAGE)
    await _recent(update, context, page)


@guard()
async def show_group(update: Update, context: BotContext) -> None:
    """A group's visits, latest first, if the user may see the group."""
    query = update.callback_query
    parts = query.data.split(":")
    group_id = int(parts[2])
    page = min(max(int(parts[3]), 1), MAX_PAGE) if len(parts) > 3 else 1
    group = await group_queries.get_visible(session=context.session, group_id=group_id,
                                            actor=context.mentor)
    if group is None:
        await query.answer(context.t("visit.history_not_found"), show_alert=True)
        await say(update, context.t("visit.history_not_found"))
        return
    visits = await visit_queries.list_for_group(session=context.session, group_id=group.id,
                                                limit=PAGE_SIZE + 1,
                                                offset=(page - 1) * PAGE_SIZE)
    more, visits = len(visits) > PAGE_SIZE, visits[:PAGE_SIZE]
    data = f"{PREFIX}:group:{group.id}"
    if not visits:
        key = "visit.history_group_empty" if page == 1 else "visit.history_no_older"
        if page == 1:
            # From a group card: answer below it rather than replacing the card.
            await query.answer()
            await say(update, context.t(key, group=group.name))
        else:
            await _show(update, context.t(key, group=group.name), _nav(context, page, False, data))
        return
    items = [context.t("visit.history_group_item",
                       date=format_date_short(visit.visited_on, context.lang),
                       attendance=visit.attendance, activities=_activities(context, visit),
                       extra=history_lines(context, visit)) for visit in visits]
    text = _join(context.t("visit.history_group_title", group=group.name), items, page, context)
    markup = _nav(context, page, more, data, visits)
    if page == 1:
        await query.answer()
        await say(update, text, reply_markup=markup)
    else:
        await _show(update, text, markup)


@guard()
async def show_visit(update: Update, context: BotContext) -> None:
    """A numbered button: the visit in full (figures, notes, location, photos), if the user may
    see its group; Perbaiki for its mentor while it may be corrected."""
    query = update.callback_query
    found = await visit_queries.get_visible(session=context.session,
                                            visit_id=int(query.data.rsplit(":", 1)[1]),
                                            actor=context.mentor)
    if found is None:
        await query.answer(context.t("visit.card_not_found"), show_alert=True)
        await say(update, context.t("visit.card_not_found"))
        return
    await query.answer()
    await send_visit(update, context, *found)


def handlers() -> list[BaseHandler]:
    """/riwayat, new for each Application."""
    return [
        CommandHandler("riwayat", show_recent),
        CallbackQueryHandler(show_page, pattern=rf"^{PREFIX}:page:\d{{1,4}}$"),
        CallbackQueryHandler(show_group, pattern=rf"^{PREFIX}:group:\d{{1,12}}(:\d{{1,4}})?$"),
        CallbackQueryHandler(show_visit, pattern=rf"^{PREFIX}:visit:{ID}$"),
    ]
