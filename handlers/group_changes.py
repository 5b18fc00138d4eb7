"""A group's history of changes (status, stage, details, households' welfare category): the
latest few in the group's detail, and every one of them page by page behind "Riwayat
perubahan" ("chg:list:<group_id>:<page>"), each with when, who and why. Every press reads the
database again with the user's rights (models.groups.get_visible).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.core.enums import ChangeKind
from bot.core.formatting import format_date_short
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import PAGE, guard, keyboard, redraw, say
from models import changes
from models import groups as group_queries
from models import mentors as mentor_queries
from models.tables import Group, GroupChange

PREFIX = "chg"
PAGE_SIZE = 10
LATEST = 3  # in the group's detail
_MAX_MESSAGE = 4000


def _value(context: BotContext, change: GroupChange, value: str | None) -> str:
    """A stored old or new value in words."""
    if value is None:
        return context.t("common.none")
    if change.kind == ChangeKind.STATUS:
        return context.t(f"gstatus.{value}")
    if change.kind == ChangeKind.STAGE:
        return context.t(f"stage.{value}")
    if change.kind == ChangeKind.WELFARE:
        return context.t(f"welfare.{value}")
    if change.field == "business_type":
        return context.t(f"business.{value}")
    if change.field == "binding_ties":
        return ", ".join(context.t(f"tie.{tie}") for tie in value.split(","))
    if change.field == "village_code":
        place = context.places.get(value)
        return place.name if place else value
    return value


def what(context: BotContext, change: GroupChange, members: dict[int, str]) -> str:
    """What changed, in words ("Tahap: Tumbuh → Berkembang"); ``members``: households'
    names by id, for a welfare change."""
    old, new = _value(context, change, change.old), _value(context, change, change.new)
    if change.kind == ChangeKind.WELFARE:
        return context.t("chg.member", member=members.get(change.member_id or 0, "?"),
                         old=old, new=new)
    if change.kind == ChangeKind.STATUS:
        field = context.t("chg.kind.status")
    elif change.kind == ChangeKind.STAGE:
        field = context.t("chg.kind.stage")
    else:
        field = context.t(f"chg.field.{change.field}")
    if change.reason == changes.START:
        return context.t("chg.start", field=field, new=new)
    return context.t("chg.change", field=field, old=old, new=new)


def _why(context: BotContext, change: GroupChange) -> str:
    parts = []
    if change.reason and change.kind == ChangeKind.STATUS and change.reason != changes.START:
        parts.append(context.t(f"sreason.{change.reason}"))
    if change.note:
        parts.append(change.note)
    return context.t("chg.why", why="; ".join(parts)) if parts else ""


async def lines(context: BotContext, rows: Sequence[GroupChange]) -> list[str]:
    """One entry per change: the day it took effect, what changed, who and why."""
    mentors = await mentor_queries.get_many(
        session=context.session,
        mentor_ids=sorted({row.by_mentor_id for row in rows if row.by_mentor_id}))
    members = await group_queries.member_names(
        session=context.session, member_ids=[row.member_id for row in rows if row.member_id])
    out = []
    for row in rows:
        who = mentors[row.by_mentor_id].name if row.by_mentor_id in mentors \
            else context.t("chg.by_system")
        out.append(context.t("chg.line", date=format_date_short(row.changed_on, context.lang),
                             what=what(context, row, members), who=who,
                             why=_why(context, row)))
    return out


async def latest_text(context: BotContext, group: Group) -> str:
    """The latest changes, for the group's detail ("" when there are none)."""
    rows = await changes.for_group(session=context.session, group_id=group.id, limit=LATEST)
    if not rows:
        return ""
    return context.t("chg.latest", lines="\n".join(await lines(context, rows)))


def button(context: BotContext, group_id: int) -> tuple[str, str]:
    """"Riwayat perubahan", the first page."""
    return context.t("life.btn.changes"), f"{PREFIX}:list:{group_id}:1"


@guard()
async def show(update: Update, context: BotContext) -> None:
    """A page of the group's changes, newest first: "list" sends it, an arrow ("page") shows
    the other page in the same message."""
    query = update.callback_query
    _, how, group_id, page = query.data.split(":")
    group = await group_queries.get_visible(session=context.session, group_id=int(group_id),
                                            actor=context.mentor)
    if group is None:
        await query.answer(context.t("grp.not_found"), show_alert=True)
        return
    rows = await changes.for_group(session=context.session, group_id=group.id)
    if not rows:
        await query.answer()
        await say(update, context.t("chg.none", group=group.name))
        return
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page_no = min(max(int(page), 1), pages)
    chunk = rows[(page_no - 1) * PAGE_SIZE:page_no * PAGE_SIZE]
    text = context.t("chg.title", group=group.name, count=len(rows)) + "\n\n" + "\n\n".join(
        await lines(context, chunk))
    if pages > 1:
        text += "\n\n" + context.t("chg.page", page=page_no, pages=pages)
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE - 1] + "…"
    nav = []
    if page_no > 1:
        nav.append((context.t("grp.prev_page"), f"{PREFIX}:page:{group.id}:{page_no - 1}"))
    if page_no < pages:
        nav.append((context.t("grp.next_page"), f"{PREFIX}:page:{group.id}:{page_no + 1}"))
    markup = keyboard([nav]) if nav else None
    await query.answer()
    if how == "page":  # an arrow: the same message shows the other page
        await redraw(update, text, markup)
    else:
        await say(update, text, reply_markup=markup)


def handlers() -> list[BaseHandler]:
    """The history of changes, new for each Application."""
    return [CallbackQueryHandler(show, pattern=rf"^{PREFIX}:(list|page):{ID}:{PAGE}$")]
