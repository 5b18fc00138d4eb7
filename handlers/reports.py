"""/rekap (summary text and chart), /ekspor (Excel workbook), /templat and the import of a
filled template sent as a document. Coordinators see their area, admins the whole country.

/rekap and /ekspor first ask the period (presets as buttons, or typed: "Jan–Mar 2027",
"2026"; "/rekap 2027-Q1" skips the question). Diagram: reports.mmd beside this file."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from enum import IntEnum
from pathlib import PurePosixPath

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.core import clock
from bot.core.enums import GroupStatus, Role, RolloverStatus, Stage, WelfareCategory
from bot.core.formatting import format_date, format_date_short, format_rupiah
from bot.core.periods import Period, Preset, parse_period, preset
from bot.telegram.context import BotContext
from handlers import charts, exchange_words
from handlers.common import (
    END,
    STAFF_ROLES,
    close_buttons,
    column,
    confirm,
    guard,
    message_text,
    say,
)
from handlers.flow import TEXT, Flow
from models import exchange
from models import reports as report_queries
from models.reports import NotAllowed, PeriodFigures, Summary

log = logging.getLogger(__name__)

# Telegram's limit is 4096 characters; leave room for the closing line.
TEXT_BUDGET = 3900
TOP_MENTORS = 30
# Bots may upload up to 50 MB.
MAX_UPLOAD = 50 * 1024 * 1024
LIGHTS = {"green": "🟢", "yellow": "🟡", "red": "🔴"}
CHART_DISTRICTS = 15
# Kecamatan lines of the period's business figures in /rekap (the rest: the Ringkasan sheet).
FIGURE_DISTRICTS = 10
PREFIX = "rkp"


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


# --- the period question ----------------------------------------------------------------------

class Step(IntEnum):
    PERIOD = 1


flow = Flow("report_period", prefix=PREFIX, what="what.report", roles=STAFF_ROLES)


def _today(context: BotContext) -> date:
    return clock.today_for(context.mentor.area_code if context.mentor else None)


def period_example(today: date, lang: str) -> str:
    """The last finished quarter, as a user would type it ("Jan–Mar 2027")."""
    return preset(Preset.LAST_QUARTER, today).typed(lang)


def _examples(context: BotContext) -> dict[str, str]:
    """Periods to give as examples, all already begun (a refused example would confuse):
    the last quarter typed two ways, the last month and this year."""
    today = _today(context)
    quarter = preset(Preset.LAST_QUARTER, today)
    return {"example": quarter.typed(context.lang),
            "month": preset(Preset.LAST_MONTH, today).label(context.lang),
            "quarter": context.t("rep.period.quarter_example",
                                 number=(quarter.start.month - 1) // 3 + 1,
                                 year=quarter.start.year),
            "year": str(today.year)}


@flow.question(Step.PERIOD)
async def _ask_period(update: Update, context: BotContext) -> None:
    today = _today(context)
    buttons = [(context.t(f"rep.period.{which}", label=preset(which, today).short(context.lang)),
                f"{PREFIX}:p:{which}") for which in Preset]
    buttons.append((context.t("rep.period.type"), f"{PREFIX}:type"))
    await say(update, context.t("rep.ask_period", **_examples(context)),
              reply_markup=column(buttons))


async def _start(update: Update, context: BotContext, action: str) -> int:
    """/rekap or /ekspor: a coordinator without an area is told why not; "/rekap 2027-Q1"
    answers at once; otherwise the period is asked."""
    try:
        area = report_queries.area_for(context.mentor)
    except NotAllowed:
        await say(update, context.t("rep.no_area"))
        return END
    if await flow.other_in_progress(update, context):
        return END
    typed = " ".join(context.args or [])
    if typed:
        period = parse_period(typed, clock.today_for(area))
        if period is not None:
            flow.clear(context)
            await ACTIONS[action](update, context, area, period)
            return END
    flow.start(context, action=action)
    if typed:
        return await flow.retry(update, context, Step.PERIOD, _bad_period(context, typed))
    return await flow.ask(update, context, Step.PERIOD)


async def start_summary(update: Update, context: BotContext) -> int:
    """/rekap: asks the period (or takes the one typed after it)."""
    return await _start(update, context, "rekap")


async def start_export(update: Update, context: BotContext) -> int:
    """/ekspor: asks the period (or takes the one typed after it)."""
    return await _start(update, context, "ekspor")


def _bad_period(context: BotContext, typed: str) -> str:
    """Why a typed period was refused: not readable, or not begun yet; with examples."""
    later = parse_period(typed, _today(context), future=True) is not None
    return context.t("rep.period.not_yet" if later else "rep.period.bad", text=typed[:40],
                     **_examples(context))


async def _answer(update: Update, context: BotContext, period: Period) -> int:
    """The period is known: the draft ends and the summary or the workbook is sent (the area
    checked again)."""
    action = flow.draft(context).get("action")
    flow.clear(context)
    try:
        area = report_queries.area_for(context.mentor)
    except NotAllowed:
        await say(update, context.t("rep.no_area"))
        return END
    if action in ACTIONS:
        await ACTIONS[action](update, context, area, period)
    return END


async def got_preset(update: Update, context: BotContext) -> int:
    """A preset button: that period, relative to today; sends the report."""
    query = update.callback_query
    which = Preset(query.data.rsplit(":", 1)[1])
    period = preset(which, _today(context))
    await close_buttons(query, period.label(context.lang))
    return await _answer(update, context, period)


async def type_period(update: Update, context: BotContext) -> int:
    """"Ketik periode lain": says how to type one and waits for it (same question)."""
    query = update.callback_query
    await query.answer()
    await say(update, context.t("rep.period.type_hint", **_examples(context)))
    return Step.PERIOD


async def typed_period(update: Update, context: BotContext) -> int:
    """A typed period ("Jan–Mar 2027", "2026"): sends the report; unreadable or not begun yet:
    an example and the same question."""
    typed = message_text(update).strip()
    period = parse_period(typed, _today(context))
    if period is None:
        return await flow.retry(update, context, Step.PERIOD, _bad_period(context, typed))
    await confirm(update, f"✓ {period.label(context.lang)}")
    return await _answer(update, context, period)


# --- /rekap ------------------------------------------------------------------------------------

def summary_text(context: BotContext, data: Summary, figures: PeriodFigures | None = None
                 ) -> str:
    """The summary in one message under Telegram's limit: the worst mentors first, the rest
    counted."""
    lang = context.lang
    settings = context.settings
    period = figures.period.label(lang) if figures else ""
    head = context.t("rep.title", area=area_label(context, data.area_code),
                     date=format_date(data.today, lang), period=period)
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
                       RolloverStatus.NOT_STARTED, RolloverStatus.LATE,
                       RolloverStatus.NOT_REQUIRED))
    parts = [
        head,
        context.t("rep.groups", count=data.groups, stages=stages, complete=data.complete,
                  incomplete=data.incomplete, min=settings.group_min_size,
                  max=settings.group_max_size),
        context.t("rep.households", count=data.households_total, categories=categories),
        context.t("rep.visits", count=data.visits_this_month,
                  check=visit_check_text(context, figures) if figures is not None else "",
                  on_time=data.on_time, groups=data.active, share=percent(data.on_time_share),
                  overdue=data.overdue),
        context.t("rep.grants", count=data.grants, total=format_rupiah(data.grants_total, lang),
                  statuses=statuses),
    ]
    if figures is not None:
        parts.append(period_text(context, figures, data.today))
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


def km_text(km: float, lang: str) -> str:
    """"2", "1,5" (Indonesian) or "1.5" (English): a distance setting as people write it."""
    text = f"{km:g}"
    return text.replace(".", ",") if lang == "id" else text


def visit_check_text(context: BotContext, figures: PeriodFigures) -> str:
    """" · tanpa lokasi 3 · jauh dari tempat kelompok (> 2 km) 1": the period's visits logged
    without a location and far from their group's place (models.reports.visit_lines). Facts
    for the coordinator only; a mentor is never told so in chat."""
    return context.t("rep.visit_check", none=figures.total.no_location_visits,
                     far=figures.total.far_visits,
                     km=km_text(context.settings.visit_far_km, context.lang))


def district_name(context: BotContext, code: str) -> str:
    place = context.places.get(code)
    return place.name if place else code


def period_text(context: BotContext, figures: PeriodFigures, today: date) -> str:
    """The period's outcomes: status and stage at its end, stage changes, graduations,
    trainings, LPJ, and the business figures per kecamatan (the largest turnover first)."""
    lang = context.lang
    total = figures.total
    end = format_date_short(figures.period.until(today), lang)
    stages = " · ".join(f"{context.t(f'stage.{stage}')} {total.stages.get(stage, 0)}"
                        for stage in Stage)
    lines = [
        context.t("rep.period_header", period=figures.period.label(lang)),
        context.t("rep.status_line", date=end, groups=total.groups,
                  **{status.name.lower(): total.status.get(status, 0)
                     for status in GroupStatus}),
        context.t("rep.stage_line", date=end, stages=stages, changes=total.stage_changes,
                  up=total.stage_up, down=total.stage_down),
        context.t("rep.outcomes", graduated=total.graduated, trainings=total.trainings,
                  trained=total.trained),
        context.t("rep.lpj_line", count=total.without_lpj, late=total.lpj_late),
    ]
    with_figures = [line for line in figures.districts
                    if line.turnover or line.profit or line.solidarity]
    if not with_figures:
        lines.append(context.t("rep.figures_none"))
        return "\n".join(lines)
    with_figures.sort(key=lambda line: (-line.turnover, line.code))
    lines.append(context.t("rep.figures_header"))
    for line in with_figures[:FIGURE_DISTRICTS]:
        lines.append(context.t("rep.figures_line", district=district_name(context, line.code),
                               turnover=format_rupiah(line.turnover, lang),
                               profit=format_rupiah(line.profit, lang),
                               iks=format_rupiah(line.solidarity, lang)))
    if len(with_figures) > FIGURE_DISTRICTS:
        lines.append(context.t("rep.figures_more", count=len(with_figures) - FIGURE_DISTRICTS))
    lines.append(context.t("rep.figures_total", turnover=format_rupiah(total.turnover, lang),
                           profit=format_rupiah(total.profit, lang),
                           iks=format_rupiah(total.solidarity, lang)))
    return "\n".join(lines)


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


async def send_summary(update: Update, context: BotContext, area: str | None,
                       period: Period) -> None:
    """The area's summary for the period as text, then the chart (visits of the 12 weeks up
    to the period's end, overdue groups now)."""
    session = context.session
    now = clock.now()
    today = clock.today_for(area)
    data = await report_queries.summary(
        session=session, area_code=area, now=now, today=today,
        min_size=context.settings.group_min_size, max_size=context.settings.group_max_size,
        period=period)
    figures = await report_queries.period_figures(session=session, area_code=area,
                                                  period=period, today=today,
                                                  far_km=context.settings.visit_far_km)
    await say(update, summary_text(context, data, figures))
    if not data.groups:
        return
    until = period.until(today)
    weeks = await report_queries.visits_per_week(session=session, area_code=area, today=until)
    overdue = await report_queries.overdue_by_district(session=session, area_code=area, now=now)
    districts = [(district_name(context, code), count) for code, count in overdue]
    titles = {"visits": context.t("rep.chart_visits", date=format_date_short(until,
                                                                             context.lang)),
              "week": context.t("rep.chart_week"),
              "overdue": context.t("rep.chart_overdue"),
              "none": context.t("rep.chart_no_overdue")}
    await charts.send_chart(
        update, functools.partial(render_chart, weeks, districts, titles=titles),
        caption=context.t("rep.chart_caption", area=area_label(context, area),
                          period=period.label(context.lang)))


# --- /ekspor -------------------------------------------------------------------------------

async def send_export(update: Update, context: BotContext, area: str | None,
                      period: Period) -> None:
    """The area's data as an Excel workbook (dated rows of the period); NIKs and phones masked
    but for admins."""
    actor = context.mentor
    masked = actor.role != Role.ADMIN
    today = clock.today_for(area)
    await update.effective_chat.send_action(ChatAction.UPLOAD_DOCUMENT)
    content, counts = await exchange.export_workbook(
        session=context.session, area_code=area, places=context.places, masked=masked,
        now=clock.now(), min_size=context.settings.group_min_size,
        max_size=context.settings.group_max_size, period=period,
        area_label=area_label(context, area), far_km=context.settings.visit_far_km)
    if len(content) > MAX_UPLOAD:
        await say(update, context.t("rep.export_too_big", size=len(content) // (1024 * 1024),
                                    area=area or "", period=period.code))
        return
    exchange.record_export(session=context.session, actor_telegram_id=actor.telegram_id,
                           area_code=area, masked=masked, counts=counts, period=period.code)
    await context.session.commit()
    caption = context.t("rep.export_caption", area=area_label(context, area),
                        period=period.label(context.lang),
                        date=format_date(today, context.lang), groups=counts["Kelompok"],
                        members=counts["Anggota"], visits=counts["Kunjungan"],
                        grants=counts["Bantuan"], rollovers=counts["Pengguliran"],
                        trainings=counts["Pelatihan"], changes=counts["Riwayat Kelompok"],
                        mentors=counts["Pendamping"])
    if masked:
        caption += "\n" + context.t("rep.export_masked")
    await update.effective_chat.send_document(
        document=content, filename=exchange.export_file_name(area, today, period),
        caption=caption)


ACTIONS: dict[str, Callable[[Update, BotContext, str | None, Period], Awaitable[None]]] = {
    "rekap": send_summary, "ekspor": send_export}


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
        raw = await asyncio.to_thread(exchange.read_workbook, content,
                                      exchange.import_limits(context.settings))
    except exchange.ImportFileError as error:
        await say(update, exchange_words.file_error_text(error, context.lang))
        return
    report = await exchange.import_rows(
        session=context.session, actor=context.mentor, raw=raw, places=context.places,
        now=clock.now(), min_size=context.settings.group_min_size,
        max_size=context.settings.group_max_size,
        default_interval=context.settings.visit_interval_days,
        rules=context.settings.reminder_rules,
        lpj_months=context.settings.lpj_months)
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
    """/rekap and /ekspor (the period question), /templat and an imported workbook, new for
    each Application."""
    return [
        flow.build({
            Step.PERIOD: {rf"p:({'|'.join(Preset)})": got_preset, "type": type_period,
                          TEXT: typed_period},
        }, entry={"/rekap": start_summary, "/ekspor": start_export}),
        CommandHandler("templat", template),
        # Only new messages with an .xlsx file; during a conversation the conversation's own
        # fallbacks see the message first (it is added earlier), so nothing is imported by mistake.
        MessageHandler(filters.UpdateType.MESSAGE & filters.Document.FileExtension("xlsx"),
                       import_document),
    ]
