"""How a visit reads in chat: its amounts and activities (also in /riwayat), the buttons of
/kunjungan's questions, and its summary. /kunjungan's questions and answers are in visits.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.core import clock
from bot.core.enums import Activity
from bot.core.formatting import format_date, format_date_short, format_rupiah
from bot.core.parsing import mask_numbers
from bot.telegram.context import BotContext
from handlers.common import keyboard
from models import groups as group_queries

PREFIX = "kun"
FIGURES = ("turnover", "profit", "cash", "solidarity_fee")
MAX_GROUP_BUTTONS = 50


def amount_text(context: BotContext, value: int | None) -> str:
    """An amount in Rupiah; a negative one (a profit only) as a loss; none as "-"."""
    if value is None:
        return context.t("common.none")
    if value < 0:  # a loss, which only the profit can be
        return context.t("visit.loss", amount=format_rupiah(-value, context.lang))
    return format_rupiah(value, context.lang)


def activities_text(context: BotContext, chosen: list[str]) -> str:
    """The activities ticked, in their fixed order ("" for none)."""
    return ", ".join(context.t(f"activity.{a}") for a in Activity if a in chosen)


async def group_buttons(context: BotContext) -> list[tuple[str, str]]:
    """The mentor's groups to visit, each marked overdue or due today."""
    rows = await group_queries.list_for_mentor(session=context.session, mentor=context.mentor)
    buttons = []
    for row in rows[:MAX_GROUP_BUTTONS]:
        today = clock.today_for(row.group.village_code)
        overdue = row.days_overdue(today)
        if overdue > 0:
            label = context.t("visit.group_overdue", name=row.group.name, days=overdue)
        elif row.group.next_visit_due is not None and row.group.next_visit_due == today:
            label = context.t("visit.group_due_today", name=row.group.name)
        else:
            label = row.group.name
        buttons.append((label, f"{PREFIX}:group:{row.group.id}"))
    return buttons


def activities_keyboard(context: BotContext, chosen: list[str]) -> InlineKeyboardMarkup:
    rows = [[(("✅ " if a in chosen else "▫️ ") + context.t(f"activity.{a}"),
              f"{PREFIX}:act:{a}")] for a in Activity]
    rows.append([(context.t("common.done"), f"{PREFIX}:act:done")])
    return keyboard(rows)


def photos_keyboard(context: BotContext, count: int) -> InlineKeyboardMarkup:
    rows = [[(context.t("common.done"), f"{PREFIX}:photos:done")]]
    if count:
        rows.append([(context.t("visit.photos_clear"), f"{PREFIX}:photos:clear")])
    return keyboard(rows)


def next_example(context: BotContext, suggested: date) -> str:
    """The suggested next visit date, written both ways a mentor may type it."""
    return context.t("visit.date_example", numeric=f"{suggested:%d/%m/%Y}",
                     short=format_date_short(suggested, context.lang))


def summary_text(context: BotContext, draft: dict[str, Any]) -> str:
    """Every answer of the draft, for Simpan / Ubah / Batal."""
    lang = context.lang
    none = context.t("common.none")
    photos = len(draft.get("photos", []))
    return context.t(
        "visit.summary",
        group=draft["group_name"],
        date=format_date(date.fromisoformat(draft["visited_on"]), lang),
        attendance=draft["attendance"],
        members=draft.get("members", 0),
        activities=activities_text(context, draft.get("activities", [])),
        **{field: amount_text(context, draft.get(field)) for field in FIGURES},
        # Free text may quote a NIK or a phone number: shown masked, like everywhere in chat.
        problems=mask_numbers(draft.get("problems") or none),
        follow_up=mask_numbers(draft.get("follow_up") or none),
        location=context.t("visit.location_shared") if draft.get("latitude") is not None
        else none,
        photos=context.t("visit.photos_count", count=photos) if photos else none,
        next=format_date(date.fromisoformat(draft["next_visit_on"]), lang),
    )
