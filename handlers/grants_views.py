"""A grant's views: its own card ("hib:view:<id>": its LPJ, obligation, progress, deadline
and roll-overs, or that it need not be rolled over), its lines on /kelompok and on the group
card (handlers.groups), and what /hibah shows beside its questions: the summary before Simpan.

/hibah (handlers.grants) offers the card in the middle of its questions too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.core import clock
from bot.core.formatting import format_date, format_date_short
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import guard, keyboard, pressed, say
from handlers.grant_texts import (
    days_text,
    form_text,
    grant_value,
    kind_label,
    lpj_text,
    obligation_lines,
    rollover_what,
    rupiah,
    status_label,
    target_parts,
)
from models import grants as grant_queries
from models.changes import is_read_only
from models.tables import Grant, Group, Rollover

PREFIX = "hib"  # every grant's button, from /hibah and from its views

MAX_VIEW_ROLLOVERS = 30


def summary_text(context: BotContext, draft: dict[str, Any]) -> str:
    """/hibah's summary of the answers in its draft, before Simpan."""
    if draft.get("roll_required") is False:
        obligation = context.t("grant.summary_no_obligation")
    else:
        lines = obligation_lines(context, amount=draft.get("roll_amount"),
                                 units=draft.get("roll_units"), label=draft.get("roll_label"),
                                 households=draft.get("roll_households"))
        obligation = context.t(
            "grant.summary_obligation", obligation="\n".join(lines),
            due=format_date(date.fromisoformat(draft["due_on"]), context.lang))
    return context.t(
        "grant.summary", group=draft["group_name"], kind=kind_label(context, draft["kind"]),
        form=form_text(context, draft["form"], draft.get("goods")),
        amount=rupiah(context, draft.get("amount")),
        received=format_date(date.fromisoformat(draft["received_on"]), context.lang),
        obligation=obligation)


def _rollover_line(context: BotContext, no: int, rollover: Rollover, grant: Grant) -> str:
    village = context.places.get(rollover.recipient_village_code) \
        if rollover.recipient_village_code else None
    return context.t(
        "grant.rollover_line", no=no,
        date=format_date_short(rollover.rolled_on, context.lang),
        name=rollover.recipient_name,
        kind=context.t(f"recipient.{rollover.recipient_kind}"),
        village=f", {village.name}" if village else "",
        what=rollover_what(context, rollover.amount, rollover.units,
                           grant.rollover_unit_label))


async def grant_view(context: BotContext, grant: Grant, group: Group):
    """The text and buttons of one grant: its LPJ, then its obligation, progress, deadline and
    roll-overs (or that it need not be rolled over)."""
    lang = context.lang
    today = clock.today_for(group.village_code)
    state = await grant_queries.progress(session=context.session, grant=grant, today=today)
    done = await grant_queries.rollovers(session=context.session, grant_id=grant.id)
    targets = "\n".join(f"• {part}" for part in target_parts(context, state))
    if done:
        shown = done[-MAX_VIEW_ROLLOVERS:]
        first = len(done) - len(shown) + 1
        lines = [_rollover_line(context, no, r, grant) for no, r in enumerate(shown, first)]
        if len(done) > len(shown):
            lines.insert(0, context.t("grant.rollovers_more", count=len(done) - len(shown)))
        rolled = context.t("grant.rollovers", count=len(done), lines="\n".join(lines))
    else:
        rolled = context.t("grant.no_rollovers")
    if state.required:
        days = days_text(context, state)
        obligation = context.t(
            "grant.view_obligation", due=format_date(grant.rollover_due, lang),
            days=f" ({days})" if days else "", targets=targets,
            status=status_label(context, state.status))
    else:
        obligation = context.t("grant.view_no_obligation")
    text = context.t(
        "grant.view", kind=kind_label(context, grant.kind), group=group.name,
        form=form_text(context, grant.form, grant.goods_description),
        amount=rupiah(context, grant.amount), received=format_date(grant.received_on, lang),
        lpj=lpj_text(context, grant, today), obligation=obligation,
        rollovers=f"\n\n{rolled}" if state.required or done else "")
    rows = []
    mentor = context.mentor
    writable = not is_read_only(group)
    if mentor is not None and group.mentor_id == mentor.id and state.required \
            and not state.complete and writable:
        rows.append([(context.t("grant.btn.rollover"), f"gul:start:{grant.id}")])
    # Whoever may see the grant may record its LPJ: its mentor, a coordinator of its area.
    if grant.lpj_submitted_on is None and writable:
        rows.append([(context.t("lpj.btn.done"), f"lpj:start:{grant.id}")])
    rows.append([(context.t("grant.btn.group"), f"kel:det:{group.id}")])
    return text, keyboard(rows)


@guard()
async def view(update: Update, context: BotContext) -> None:
    """Shows one grant, if the user may see its group: obligation, progress and roll-overs."""
    query = update.callback_query
    found = await grant_queries.get_visible(session=context.session,
                                            grant_id=int(pressed(query)),
                                            actor=context.mentor)
    if found is None:
        await query.answer(context.t("grant.not_found"), show_alert=True)
        return
    await query.answer()
    text, markup = await grant_view(context, *found)
    await say(update, text, reply_markup=markup)


def view_handler() -> CallbackQueryHandler:
    """The "hib:view:<id>" button, new for each Application."""
    return CallbackQueryHandler(view, pattern=rf"^{PREFIX}:view:{ID}$")


async def group_block(context: BotContext, group: Group):
    """For the group card: one line per grant, and a button row to view each of them."""
    grants = await grant_queries.list_for_group(session=context.session, group_id=group.id)
    if not grants:
        return "", []
    today = clock.today_for(group.village_code)
    states = await grant_queries.progress_for(session=context.session, grants=grants,
                                              today=today)
    lines = []
    for no, grant in enumerate(grants, start=1):
        state = states[grant.id]
        lpj = context.t("lpj.short_done" if grant.lpj_submitted_on
                        else "lpj.short_late" if grant.lpj_due and grant.lpj_due < today
                        else "lpj.short_pending")
        if state.required:
            lines.append(context.t(
                "grant.group_line", no=no, kind=kind_label(context, grant.kind),
                amount=grant_value(context, grant), status=status_label(context, state.status),
                percent=state.percent, lpj=lpj))
        else:
            lines.append(context.t(
                "grant.group_line_free", no=no, kind=kind_label(context, grant.kind),
                amount=grant_value(context, grant), lpj=lpj))
    buttons = [(context.t("grant.btn.view", no=no), f"{PREFIX}:view:{grant.id}")
               for no, grant in enumerate(grants, start=1)]
    rows = [buttons[i:i + 3] for i in range(0, min(len(buttons), 9), 3)]
    return context.t("grant.group_block", count=len(grants), lines="\n".join(lines)), rows


def group_list_line(context: BotContext, totals: tuple[int, int] | None) -> str:
    """For /kelompok: "Bantuan: 2 (Rp 35.000.000)", or nothing without grants."""
    if not totals or not totals[0]:
        return ""
    count, total = totals
    if total:
        return context.t("grant.list_line", count=count, total=rupiah(context, total))
    return context.t("grant.list_line_count", count=count)
