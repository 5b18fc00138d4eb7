"""What /gulir (handlers.rollovers) shows beside its questions: the grants to pick from, the
grant's label, what is left of the obligation when a roll-over passes it, and the summary.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core import clock
from bot.core.formatting import format_date, format_date_short
from bot.core.parsing import mask_numbers
from bot.telegram.context import BotContext
from handlers.grant_texts import kind_label, rollover_what, rupiah, units_text
from models import changes
from models import grants as grant_queries
from models.grants import Progress
from models.saving.rollover import Exceeded
from models.tables import Grant, Group

PREFIX = "gul"  # the buttons of /gulir

MAX_GRANT_BUTTONS = 50


def grant_button_label(context: BotContext, grant: Grant, group: Group, state: Progress) -> str:
    """"KUBE Mawar – UEP – 40%"."""
    return context.t("roll.grant_button", group=group.name,
                     kind=kind_label(context, grant.kind, short=True), percent=state.percent)


async def grant_buttons(context: BotContext) -> list[tuple[str, str]]:
    """The mentor's groups' grants that must be rolled over and are not complete yet, nearest
    deadline first (none of a dissolved group: its records are read-only)."""
    rows = await grant_queries.list_for_mentor(session=context.session, mentor=context.mentor)
    states = await grant_queries.progress_for(
        session=context.session, grants=[grant for grant, _ in rows],
        today=clock.today_for(context.mentor.area_code))
    labelled = [(grant_button_label(context, grant, group, states[grant.id]), grant)
                for grant, group in rows
                if states[grant.id].required and not states[grant.id].complete
                and not changes.is_read_only(group)]
    counts: dict[str, int] = {}
    for label, _ in labelled:
        counts[label] = counts.get(label, 0) + 1
    buttons = []
    for label, grant in labelled[:MAX_GRANT_BUTTONS]:
        if counts[label] > 1:  # two grants read the same: tell them apart by the date received
            label = f"{label} ({format_date_short(grant.received_on, context.lang)})"
        buttons.append((label, f"{PREFIX}:grant:{grant.id}"))
    return buttons


def left_text(context: BotContext, over: Exceeded | None) -> str | None:
    """What is left of each target a roll-over passes ("Rp 2.000.000"); None if none."""
    if over is None:
        return None
    parts = []
    if over.amount_left is not None:
        parts.append(rupiah(context, over.amount_left))
    if over.units_left is not None:
        parts.append(units_text(over.units_left, over.unit_label))
    return "; ".join(parts)


def summary_text(context: BotContext, draft: dict[str, Any]) -> str:
    """/gulir's summary of the answers in its draft, before Simpan."""
    text = context.t(
        "roll.summary", grant=draft["grant_label"],
        date=format_date(date.fromisoformat(draft["rolled_on"]), context.lang),
        name=draft["name"], kind=context.t(f"recipient.{draft['kind']}"),
        village=draft.get("village_label") or context.t("common.none"),
        what=rollover_what(context, draft.get("amount"), draft.get("units"),
                           draft.get("unit_label")),
        note=mask_numbers(draft.get("note") or context.t("common.none")))
    if draft.get("exceed_ok"):
        text += "\n" + context.t("roll.exceed_note")
    return text
