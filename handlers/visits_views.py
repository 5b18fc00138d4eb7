"""How a visit reads in chat: its amounts and activities (also in /riwayat), the buttons of
/kunjungan's questions, and its summary. /kunjungan's questions and answers are in visits.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.core import clock
from bot.core.enums import Activity, Stage
from bot.core.formatting import format_date, format_date_short, format_rupiah
from bot.core.parsing import mask_numbers
from bot.telegram.context import BotContext
from handlers.common import keyboard
from models import visits as visit_queries
from models.groups import GroupRow
from models.saving.visit import default_next_visit, profit_fits
from models.tables import Group, Visit

PREFIX = "kun"
FIGURES = ("turnover", "profit", "cash", "solidarity_fee")
ASSETS = ("livestock_count", "equipment_value", "stock_value")  # the group's assets, now
MAX_PHOTOS = 10
SAVE_NOW = "now"  # "💾 Simpan sekarang": data "<prefix>:now:<the draft's id>"


@dataclass(frozen=True)
class Block:
    """Optional amounts asked one after the other behind one "Catat ...?" (Ya / Lewati, data
    "<prefix>:<data>:yes|no"): the text keys "visit.ask_<name>" and "visit.ask_<field>"."""

    name: str
    data: str
    fields: tuple[str, ...]


BLOCKS = {"figures": Block("figures", "fig", FIGURES), "assets": Block("assets", "ast", ASSETS)}

Question = tuple[str, Any]  # a question's text and its buttons (None: none)
View = Callable[[BotContext, dict[str, Any]], Question]  # a question of the draft


def amount_text(context: BotContext, value: int | None) -> str:
    """An amount in Rupiah; a negative one (a profit only) as a loss; none as "-"."""
    if value is None:
        return context.t("common.none")
    if value < 0:  # a loss, which only the profit can be
        return context.t("visit.loss", amount=format_rupiah(-value, context.lang))
    return format_rupiah(value, context.lang)


def value_text(context: BotContext, field: str, value: int | None) -> str:
    """A figure or an asset as shown: livestock in head ("12 ekor"), the others in Rupiah."""
    if field == "livestock_count" and value is not None:
        return context.t("visit.head", count=value)
    return amount_text(context, value)


def assets_text(context: BotContext, values: dict[str, Any]) -> str:
    """The assets recorded, on one line ("12 ekor ternak, peralatan Rp 5.000.000"); "-" for
    none."""
    parts = [context.t(f"visit.asset.{field}", value=value_text(context, field, values[field]))
             for field in ASSETS if values.get(field) is not None]
    return ", ".join(parts) or context.t("common.none")


def history_lines(context: BotContext, visit: Visit) -> str:
    """For /riwayat: the visit's figures with the span they cover, and its assets ("" for
    none)."""
    figures = [context.t(f"visit.figure.{field}", value=amount_text(context, value))
               for field in FIGURES if (value := getattr(visit, field)) is not None]
    text = ""
    if figures:
        since = "" if visit.figures_from is None else context.t(
            "visit.history_since", date=format_date_short(visit.figures_from, context.lang))
        text += context.t("visit.history_figures", figures=" · ".join(figures), span=since)
    assets = {field: getattr(visit, field) for field in ASSETS}
    if any(value is not None for value in assets.values()):
        text += context.t("visit.history_assets", assets=assets_text(context, assets))
    return text


def span_text(context: BotContext, draft: dict[str, Any]) -> str:
    """The span the figures cover, as the questions name it: "sejak kunjungan terakhir,
    5 Nov 2026", or for a group's first visit "sejak kelompok dibentuk, 10 Jan 2026"."""
    start = draft.get("figures_from")
    if not start:
        return context.t("visit.span_unknown")
    key = "visit.span_last_visit" if draft.get("figures_since_visit") else "visit.span_formed"
    return context.t(key, date=format_date_short(date.fromisoformat(start), context.lang))


async def note_span(context: BotContext, draft: dict[str, Any]) -> None:
    """Puts in the draft where the figures of a visit on its date begin (models' rule: the
    group's last visit before it, else the day the group was formed)."""
    start, since_visit = await visit_queries.figures_start(
        session=context.session, group_id=draft["group_id"],
        formed_on=date.fromisoformat(draft["formed_on"]),
        day=date.fromisoformat(draft["visited_on"]))
    draft.update(figures_from=start.isoformat(), figures_since_visit=since_visit)


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


def figures_question(context: BotContext, draft: dict[str, Any], editing: bool,
                     block: Block) -> Question:
    """"Catat angka usaha sejak …?" (or the assets'), or the amount asked now
    (draft["_figure"]): while it is being changed, with Tetap / Kosongkan; else no buttons here
    (the flow's Lewati goes under it)."""
    field, span = draft.get("_figure"), span_text(context, draft)
    if field is None:
        return context.t(f"visit.ask_{block.name}", span=span), keyboard([[
            (context.t("common.yes"), f"{PREFIX}:{block.data}:yes"),
            (context.t("common.skip"), f"{PREFIX}:{block.data}:no")]])
    current = draft.get(field)
    if editing and current is not None:
        # Changing one figure from the summary must not wipe the others: each shows what is
        # stored and keeps it with one press.
        shown = value_text(context, field, current)
        return context.t(f"visit.ask_{field}", span=span) + "\n" + context.t(
            "visit.figure_now", value=shown), keyboard([[
                (context.t("visit.keep", value=shown), f"{PREFIX}:keep:{field}"),
                (context.t("visit.clear"), f"{PREFIX}:skip:{field}")]])
    return context.t(f"visit.ask_{field}", span=span), None


def profit_error(context: BotContext, draft: dict[str, Any], field: str,
                 amount: int | None) -> str | None:
    """Why ``amount`` cannot stand as the profit (models' rule: it is what is left of the
    turnover after costs, larger is a slip of a zero), in words; or None."""
    turnover = draft.get("turnover")
    if field != "profit" or profit_fits(amount, turnover):
        return None
    return profit_over_text(context, amount, turnover)


def profit_over_text(context: BotContext, profit: int, turnover: int) -> str:
    """"Keuntungan … lebih besar dari omzet …", with an example that fits this turnover (a
    fifth of it, in whole thousands): a fixed "300rb" could be the very figure refused."""
    example = max(turnover // 5 // 1000 * 1000, 0)
    return context.t("visit.profit_over_turnover", profit=amount_text(context, profit),
                     turnover=amount_text(context, turnover),
                     example=amount_text(context, example))


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


def save_now_rows(context: BotContext, draft_id: int | None) -> list[list[tuple[str, str]]]:
    """"💾 Simpan sekarang" as a row of buttons, for the draft ``draft_id`` (None: no row)."""
    if draft_id is None:
        return []
    return [[(context.t("visit.save_now"), f"{PREFIX}:{SAVE_NOW}:{draft_id}")]]


def with_save_now(context: BotContext, markup: InlineKeyboardMarkup | ReplyKeyboardMarkup,
                  draft_id: int | None) -> InlineKeyboardMarkup | ReplyKeyboardMarkup:
    """``markup`` with "💾 Simpan sekarang" as its last row (on a reply keyboard, a button
    that types it); ``draft_id`` None: as it is."""
    if draft_id is None:
        return markup
    label = context.t("visit.save_now")
    if isinstance(markup, ReplyKeyboardMarkup):
        return ReplyKeyboardMarkup([*markup.keyboard, [KeyboardButton(label)]],
                                   resize_keyboard=markup.resize_keyboard,
                                   one_time_keyboard=markup.one_time_keyboard)
    return InlineKeyboardMarkup([*markup.inline_keyboard, [InlineKeyboardButton(
        label, callback_data=f"{PREFIX}:{SAVE_NOW}:{draft_id}")]])


SAME_STAGE = "same"  # "Tidak berubah" under a saved visit


def stage_question(context: BotContext, group: Group, visit_id: int
                   ) -> tuple[str, list[list[tuple[str, str]]]]:
    """"Apakah tahap kelompok berubah?" under a saved visit, and its button rows: a button per
    stage, the current one marked, and Tidak berubah (data "<prefix>:stage:<visit
    id>:<stage>|same")."""
    buttons = [((context.t("visit.stage_current", stage=context.t(f"stage.{stage}"))
                 if stage == group.stage else context.t(f"stage.{stage}")),
                f"{PREFIX}:stage:{visit_id}:{stage}") for stage in Stage]
    return context.t("visit.ask_stage", group=group.name,
                     stage=context.t(f"stage.{group.stage}")), [
        buttons, [(context.t("visit.stage_same"), f"{PREFIX}:stage:{visit_id}:{SAME_STAGE}")]]


def default_next(draft: dict[str, Any]) -> date:
    """The next visit suggested: the visit date + the group's interval."""
    return default_next_visit(date.fromisoformat(draft["visited_on"]), draft.get("interval"))


async def summary_text(context: BotContext, draft: dict[str, Any]) -> str:
    """Every answer of the draft, for Simpan / Ubah / Batal, and a word when the group has a
    visit on that day already."""
    if "figures_from" not in draft:  # a draft from before the figures named their span
        await note_span(context, draft)
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
        span=span_text(context, draft),
        **{field: amount_text(context, draft.get(field)) for field in FIGURES},
        assets=assets_text(context, draft),
        # Free text may quote a NIK or a phone number: shown masked, like everywhere in chat.
        problems=mask_numbers(draft.get("problems") or none),
        follow_up=mask_numbers(draft.get("follow_up") or none),
        location=context.t("visit.location_shared") if draft.get("latitude") is not None
        else none,
        photos=context.t("visit.photos_count", count=photos) if photos else none,
        next=format_date(date.fromisoformat(draft["next_visit_on"]), lang),
    )
