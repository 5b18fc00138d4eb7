"""/rekap (summary text and chart), /ekspor (Excel workbook), /templat and the import of a
filled template sent as a document. Coordinators see their area, admins the whole country."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import PurePosixPath

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.core import clock
from bot.core.enums import Role, RolloverStatus, Stage, WelfareCategory
from bot.core.formatting import format_date, format_rupiah
from bot.telegram.context import BotContext
from handlers import charts, exchange_words
from handlers.common import STAFF_ROLES, guard, say
from models import exchange
from models import reports as report_queries
from models.reports import NotAllowed, Summary

log = logging.getLogger(__name__)

# Telegram's limit is 4096 characters; leave room for the closing line.
TEXT_BUDGET = 3900
TOP_MENTORS = 30
# Bots may upload up to 50 MB.
MAX_UPLOAD = 50 * 1024 * 1024
LIGHTS = {"green": "🟢", "yellow": "🟡", "red": "🔴"}
CHART_DISTRICTS = 15


def percent(share: float) -> str:
    """Whole percent, rounded down (84.9% is not yet 85%, as the traffic lights count)."""
    return f"{int(share * 100 + 1e-9)}%"


def area_label(context: BotContext, area_code: str | None) -> str:
    if not area_code:
        return context.t("rep.area_all")
    place = context.places.get(area_code)
    return place.label if place else area_code


AreaCallback = Callable[[Update, BotContext, str | None], Awaitable[None]]


def for_area(callback: AreaCallback) -> Callable[[Update, BotContext], Awaitable[None]]:
    """A coordinator's or admin's command over their area (None: the whole country for an
    admin), checked in the database on every update; a coordinator without an area is told
    why not."""

    @guard(STAFF_ROLES)
    @functools.wraps(callback)
    async def wrapper(update: Update, context: BotContext) -> None:
        try:
            area = report_queries.area_for(context.mentor)
        except NotAllowed:
            await say(update, context.t("rep.no_area"))
            return
        await callback(update, context, area)

    return wrapper


# --- /rekap ------------------------------------------------------------------------------------

def summary_text(context: BotContext, data: Summary) -> str:
    """The summary in one message under Telegram's limit: the worst mentors first, the rest
    counted."""
    lang = context.lang
    settings = context.settings
    head = context.t("rep.title", area=area_label(context, data.area_code),
                     date=format_date(data.today, lang))
    if not data.groups:
        return f"{head}\n\n{context.t('rep.empty')}"
    stages = " · ".join(f"{context.t(f'stage.{stage}')} {data.by_stage.get(stage, 0)}"
                        for stage in Stage)
    categories = " · ".join(
        f"{context.t(f'welfare.{category}')} {data.households.get(category, 0)}"
        for category in WelfareCategory)
    statuses = " · ".join(
        f"{context.t(f'rep.rollstatus.{status}')} {data.rollovers.get(status, 0)}"
        for status in (RolloverStatus.DONE, RolloverStatus.PARTIAL,
                       RolloverStatus.NOT_STARTED, RolloverStatus.LATE))
    parts = [
        head,
        context.t("rep.groups", count=data.groups, stages=stages, complete=data.complete,
                  incomplete=data.incomplete, min=settings.group_min_size,
                  max=settings.group_max_size),
        context.t("rep.households", count=data.households_total, categories=categories),
        context.t("rep.visits", count=data.visits_this_month, on_time=data.on_time,
                  groups=data.groups, share=percent(data.on_time_share), overdue=data.overdue),
        context.t("rep.grants", count=data.grants, total=format_rupiah(data.grants_total, lang),
                  statuses=statuses),
    ]
    text = "\n\n".join(parts)
    if not data.mentors:
        return text
    text += "\n\n" + context.t("rep.mentors_header")
    shown = 0
    for line in data.mentors[:TOP_MENTORS]:
        rendered = context.t("rep.mentor_line", light=LIGHTS[line.light], name=line.name,
                             groups=line.groups, share=percent(line.share))
        if len(text) + len(rendered) + 1 > TEXT_BUDGET:
            break
        text += "\n" + rendered
        shown += 1
    if shown < len(data.mentors):
        text += "\n" + context.t("rep.mentors_more", count=len(data.mentors) - shown)
    return text


def _fit(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"


def render_chart(weeks: list[tuple[date, int]], districts: list[tuple[str, int]], *,
                 titles: dict[str, str]) -> bytes:
    """Two charts in one PNG: visits per week, and overdue groups per district (names given).

    Drawn as handlers.charts draws every chart, so it may run in a worker thread.
    """
    from matplotlib.ticker import MaxNLocator

    figure = charts.new_figure(8, 9)
    top, bottom = figure.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.2]})

    labels = [monday.strftime("%d/%m") for monday, _ in weeks]
    values = [count for _, count in weeks]
    bars = top.bar(range(len(values)), values, color="#2e7d32")
    top.set_xticks(range(len(labels)), labels, rotation=45, fontsize=8)
    top.set_title(titles["visits"])
    top.set_xlabel(titles["week"])
    top.bar_label(bars, labels=[str(v) if v else "" for v in values], fontsize=8)
    top.set_ylim(0, max(values + [1]) * 1.2)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.spines[["top", "right"]].set_visible(False)

    if districts:
        shown = [(_fit(name), count) for name, count in reversed(districts[:CHART_DISTRICTS])]
        bars = bottom.barh([name for name, _ in shown], [count for _, count in shown],
                           height=0.6, color="#c62828")
        bottom.bar_label(bars, padding=3, fontsize=8)
        bottom.set_xlim(0, max(count for _, count in shown) * 1.2)
        bottom.set_ylim(-0.6, max(len(shown), 4) - 0.4)
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
        bottom.tick_params(axis="y", labelsize=9)
    else:
        bottom.text(0.5, 0.5, titles["none"], ha="center", va="center", fontsize=12)
        bottom.set_xticks([])
        bottom.set_yticks([])
    bottom.set_title(titles["overdue"])
    bottom.spines[["top", "right"]].set_visible(False)

    # Fixed margins instead of tight_layout, which draws the whole figure an extra time (half
    # the chart's cost); district names are cut to fit the left margin.
    figure.subplots_adjust(left=0.27, right=0.95, top=0.95, bottom=0.05, hspace=0.3)
    return charts.png(figure)


@for_area
async def summary(update: Update, context: BotContext, area: str | None) -> None:
    """/rekap: the area's summary as text, then the chart."""
    session = context.session
    now = clock.now()
    today = clock.today_for(area)
    data = await report_queries.summary(
        session=session, area_code=area, now=now, today=today,
        min_size=context.settings.group_min_size, max_size=context.settings.group_max_size)
    await say(update, summary_text(context, data))
    if not data.groups:
        return
    weeks = await report_queries.visits_per_week(session=session, area_code=area, today=today)
    overdue = await report_queries.overdue_by_district(session=session, area_code=area, now=now)
    districts = []
    for code, count in overdue:
        place = context.places.get(code)
        districts.append((place.name if place else code, count))
    titles = {"visits": context.t("rep.chart_visits"), "week": context.t("rep.chart_week"),
              "overdue": context.t("rep.chart_overdue"),
              "none": context.t("rep.chart_no_overdue")}
    await charts.send_chart(
        update, functools.partial(render_chart, weeks, districts, titles=titles),
        caption=context.t("rep.chart_caption", area=area_label(context, area)))


# --- /ekspor -------------------------------------------------------------------------------

@for_area
async def export(update: Update, context: BotContext, area: str | None) -> None:
    """/ekspor: the area's data as an Excel workbook; NIKs and phones masked but for admins."""
    actor = context.mentor
    masked = actor.role != Role.ADMIN
    today = clock.today_for(area)
    await update.effective_chat.send_action(ChatAction.UPLOAD_DOCUMENT)
    content, counts = await exchange.export_workbook(
        session=context.session, area_code=area, places=context.places, masked=masked,
        now=clock.now(), min_size=context.settings.group_min_size,
        max_size=context.settings.group_max_size)
    if len(content) > MAX_UPLOAD:
        await say(update, context.t("rep.export_too_big", size=len(content) // (1024 * 1024),
                                    area=area or ""))
        return
    exchange.record_export(session=context.session, actor_telegram_id=actor.telegram_id,
                           area_code=area, masked=masked, counts=counts)
    await context.session.commit()
    caption = context.t("rep.export_caption", area=area_label(context, area),
                        date=format_date(today, context.lang), groups=counts["Kelompok"],
                        members=counts["Anggota"], visits=counts["Kunjungan"],
                        grants=counts["Bantuan"], rollovers=counts["Pengguliran"],
                        mentors=counts["Pendamping"])
    if masked:
        caption += "\n" + context.t("rep.export_masked")
    await update.effective_chat.send_document(
        document=content, filename=exchange.export_file_name(area, today), caption=caption)


# --- /templat and the import -----------------------------------------------------------------

def example_village(context: BotContext, area: str | None) -> str:
    """A real village of the area, so the template's example shows a code that works."""
    code = area
    for _ in range(4):
        place = context.places.get(code) if code else None
        if place is not None and place.level == 4:
            return place.code
        children = context.places.children(code)
        if not children:
            break
        code = children[0].code
    return "32.02.11.2002"


@for_area
async def template(update: Update, context: BotContext, area: str | None) -> None:
    """/templat: the empty import template."""
    content = exchange.template_workbook(example_village=example_village(context, area),
                                         min_size=context.settings.group_min_size,
                                         max_size=context.settings.group_max_size)
    await update.effective_chat.send_document(document=content,
                                              filename="templat-impor-kube.xlsx",
                                              caption=context.t("rep.template_caption"))


@for_area
async def import_document(update: Update, context: BotContext, _area: str | None) -> None:
    """A filled template (.xlsx) sent by a coordinator or admin: checked row by row, imported,
    and answered with the rows taken and the rows refused (and why)."""
    document = update.effective_message.document
    file_name = document.file_name or "impor.xlsx"
    if document.file_size and document.file_size > exchange.MAX_IMPORT_BYTES:
        await say(update, context.t("rep.file.too_big",
                                    max_mb=exchange.MAX_IMPORT_BYTES // (1024 * 1024)))
        return
    await update.effective_chat.send_action(ChatAction.TYPING)
    telegram_file = await context.bot.get_file(document.file_id)
    content = bytes(await telegram_file.download_as_bytearray())
    try:
        raw = await asyncio.to_thread(exchange.read_workbook, content)
    except exchange.ImportFileError as error:
        await say(update, exchange_words.file_error_text(error, context.lang))
        return
    report = await exchange.import_rows(
        session=context.session, actor=context.mentor, raw=raw, places=context.places,
        now=clock.now(), min_size=context.settings.group_min_size,
        max_size=context.settings.group_max_size,
        default_interval=context.settings.visit_interval_days,
        rules=context.settings.reminder_rules, file_name=file_name)
    text = exchange_words.report_text(report, context.lang, file_name)
    lines = exchange_words.refusal_lines(report, context.lang)
    if not lines:
        await say(update, text)
        return
    text += "\n\n" + context.t("rep.refused_header")
    shown = 0
    for line in lines:
        if len(text) + len(line) + 1 > TEXT_BUDGET - 200:
            break
        text += "\n" + line
        shown += 1
    if shown == len(lines):
        await say(update, text)
        return
    text += "\n" + context.t("rep.refused_more", count=len(lines) - shown)
    await say(update, text)
    listing = "\n".join(lines) + "\n"
    stem = PurePosixPath(file_name).stem or "impor"
    await update.effective_chat.send_document(
        document=listing.encode("utf-8"), filename=f"ditolak-{stem}.txt",
        caption=context.t("rep.refused_file_caption"))


def handlers() -> list[BaseHandler]:
    """/rekap, /ekspor, /templat and an imported workbook, new for each Application."""
    return [
        CommandHandler("rekap", summary),
        CommandHandler("ekspor", export),
        CommandHandler("templat", template),
        # Only new messages with an .xlsx file; during a conversation the conversation's own
        # fallbacks see the message first (it is added earlier), so nothing is imported by mistake.
        MessageHandler(filters.UpdateType.MESSAGE & filters.Document.FileExtension("xlsx"),
                       import_document),
    ]
