"""How a visit reads in chat: its amounts and activities (also in /riwayat), the buttons of
/kunjungan's questions, and its summary. /kunjungan's questions and answers are in visits.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.core import clock
from bot.core.enums import Activity
from bot.core.formatting import format_date, format_rupiah
from bot.core.parsing import mask_numbers
from bot.telegram.context import BotContext
from handlers.common import keyboard
from models import visits as visit_queries
from models.groups import GroupRow
from models.saving.visit import default_next_visit, profit_fits

PREFIX = "kun"
FIGURES = ("turnover", "profit", "cash", "solidarity_fee")
MAX_PHOTOS = 10

Question = tuple[str, Any]  # a question's text and its buttons (None: none)


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


def group_label(context: BotContext, row: GroupRow) -> str:
    """A group's button to visit it, marked overdue or due today."""
    today = clock.today_for(row.group.village_code)
    overdue = row.days_overdue(today)
    if overdue > 0:
        return context.t("visit.group_overdue", name=row.group.name, days=overdue)
    if row.group.next_visit_due is not None and row.group.next_visit_due == today:
        return context.t("visit.group_due_today", name=row.group.name)
    return row.group.name


def attendance_example(members: int) -> int:
    return max(members - 1, 0)


def attendance_question(context: BotContext, draft: dict[str, Any]) -> Question:
    members = int(draft.get("members", 0))
    return context.t("visit.ask_attendance", max=members,
                     example=attendance_example(members)), None


def figures_question(context: BotContext, draft: dict[str, Any], editing: bool) -> Question:
    """"Catat angka usaha?", or the amount asked now (draft["_figure"]): while it is being
    changed, with Tetap / Kosongkan; else no buttons here (the flow's Lewati goes under it)."""
    field = draft.get("_figure")
    if field is None:
        return context.t("visit.ask_figures"), keyboard([[
            (context.t("common.yes"), f"{PREFIX}:fig:yes"),
            (context.t("common.skip"), f"{PREFIX}:fig:no")]])
    current = draft.get(field)
    if editing and current is not None:
        # Changing one figure from the summary must not wipe the others: each shows what is
        # stored and keeps it with one press.
        shown = amount_text(context, current)
        return context.t(f"visit.ask_{field}") + "\n" + context.t(
            "visit.figure_now", value=shown), keyboard([[
                (context.t("visit.keep", value=shown), f"{PREFIX}:keep:{field}"),
                (context.t("visit.clear"), f"{PREFIX}:skip:{field}")]])
    return context.t(f"visit.ask_{field}"), None


def profit_error(context: BotContext, draft: dict[str, Any], field: str,
                 amount: int | None) -> str | None:
    """Why ``amount`` cannot stand as the profit (models' rule: it is what is left of the
    turnover after costs, larger is a slip of a zero), in words; or None."""
    turnover = draft.get("turnover")
    if field != "profit" or profit_fits(amount, turnover):
        return None
    return context.t("visit.profit_over_turnover", profit=amount_text(context, amount),
                     turnover=amount_text(context, turnover))


def location_question(context: BotContext, draft: dict[str, Any]) -> Question:
    return context.t("visit.ask_location"), ReplyKeyboardMarkup(
        [[KeyboardButton(context.t("visit.location_button"), request_location=True)],
         [KeyboardButton(context.t("common.skip"))]],
        resize_keyboard=True, one_time_keyboard=True,
    )


def photos_keyboard(context: BotContext, count: int) -> InlineKeyboardMarkup:
    rows = [[(context.t("common.done"), f"{PREFIX}:photos:done")]]
    if count:
        rows.append([(context.t("visit.photos_clear"), f"{PREFIX}:photos:clear")])
    return keyboard(rows)


def photos_question(context: BotContext, draft: dict[str, Any]) -> Question:
    count = len(draft.get("photos", []))
    key = "visit.ask_photos_more" if count else "visit.ask_photos"
    return context.t(key, count=count, max=MAX_PHOTOS), photos_keyboard(context, count)


def default_next(draft: dict[str, Any]) -> date:
    """The next visit suggested: the visit date + the group's interval."""
    return default_next_visit(date.fromisoformat(draft["visited_on"]), draft.get("interval"))


async def summary_text(context: BotContext, draft: dict[str, Any]) -> str:
    """Every answer of the draft, for Simpan / Ubah / Batal, and a word when the group has a
    visit on that day already."""
    text = _answers_text(context, draft)
    visited = date.fromisoformat(draft["visited_on"])
    if await visit_queries.visited_on_day(session=context.session, group_id=draft["group_id"],
                                          day=visited):
        # Two visits on one day are possible, but far more often one visit typed twice.
        text += "\n\n" + context.t("visit.same_day", group=draft["group_name"],
                                     date=format_date(visited, context.lang))
    return text


def _answers_text(context: BotContext, draft: dict[str, Any]) -> str:
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
