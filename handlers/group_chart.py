"""A group's business figures over time: the "📈 Grafik usaha" button of its detail
("gra:show:<group_id>") sends a small chart of the turnover, profit and IKS recorded at each
visit (handlers.charts draws it as /rekap's chart is drawn). Anyone who may see the group may
see its chart; the group is checked again on every press."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.core.formatting import format_date_short, format_rupiah
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers import charts
from handlers.common import guard, pressed, say
from models import groups as group_queries
from models import visits as visit_queries

PREFIX = "gra"
MIN_VISITS = 2  # a line needs two points


@dataclass(frozen=True)
class Point:
    """One visit's figures: its date as shown, and the amounts (None: not recorded)."""

    label: str
    turnover: int | None
    profit: int | None
    solidarity_fee: int | None


def render(points: list[Point], *, titles: dict[str, str]) -> bytes:
    """Two charts in one PNG: turnover and profit per visit (lines), and IKS per visit (bars),
    amounts in Rupiah on the axes."""
    from matplotlib.ticker import FuncFormatter

    figure = charts.new_figure(7, 6)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.6, 1]})
    rupiah = FuncFormatter(lambda value, _: format_rupiah(int(value)))
    places = list(range(len(points)))

    def series(name: str) -> tuple[list[int], list[int]]:
        shown = [(x, getattr(p, name)) for x, p in zip(places, points, strict=True)
                 if getattr(p, name) is not None]
        return [x for x, _ in shown], [value for _, value in shown]

    for name, color in (("turnover", "#1565c0"), ("profit", "#2e7d32")):
        xs, values = series(name)
        top.plot(xs, values, marker="o", color=color, label=titles[name])
    top.axhline(0, color="#9e9e9e", linewidth=0.8)
    top.yaxis.set_major_formatter(rupiah)
    top.set_title(titles["title"])
    top.legend(loc="upper left", fontsize=8, frameon=False)
    top.spines[["top", "right"]].set_visible(False)

    xs, values = series("solidarity_fee")
    bars = bottom.bar(xs, values, color="#ef6c00", width=0.5)
    bottom.bar_label(bars, labels=[format_rupiah(v) for v in values], fontsize=7)
    bottom.set_ylim(0, max(values + [1]) * 1.3)
    bottom.yaxis.set_major_formatter(rupiah)
    bottom.set_title(titles["solidarity_fee"], fontsize=10)
    bottom.set_xticks(places, [p.label for p in points], rotation=45, ha="right", fontsize=8)
    bottom.set_xlim(-0.5, len(points) - 0.5)
    bottom.spines[["top", "right"]].set_visible(False)

    # Fixed margins, as /rekap's chart: tight_layout would draw the figure twice.
    figure.subplots_adjust(left=0.2, right=0.97, top=0.93, bottom=0.16, hspace=0.35)
    return charts.png(figure)


@guard()
async def show(update: Update, context: BotContext) -> None:
    """📈 Grafik usaha: the chart of the group's figures per visit, or, with fewer than two
    visits that recorded figures, a word on how to get one."""
    query = update.callback_query
    assert query is not None
    group = await group_queries.get_visible(session=context.session,
                                            group_id=int(pressed(query)), actor=context.mentor)
    if group is None:
        await query.answer(context.t("grp.not_found"), show_alert=True)
        return
    await query.answer()
    visits = await visit_queries.with_figures(session=context.session, group_id=group.id)
    if len(visits) < MIN_VISITS:
        await say(update, context.t("chart.not_enough", group=group.name, count=len(visits),
                                    min=MIN_VISITS))
        return
    points = [Point(format_date_short(visit.visited_on, context.lang), visit.turnover,
                    visit.profit, visit.solidarity_fee) for visit in visits]
    titles = {"title": context.t("chart.title", group=group.name),
              "turnover": context.t("chart.turnover"), "profit": context.t("chart.profit"),
              "solidarity_fee": context.t("chart.solidarity_fee")}
    await charts.send_chart(update, functools.partial(render, points, titles=titles),
                            caption=context.t(
                                "chart.caption", group=group.name, count=len(visits),
                                first=format_date_short(visits[0].visited_on, context.lang),
                                last=format_date_short(visits[-1].visited_on, context.lang)))


def button(context: BotContext, group_id: int) -> tuple[str, str]:
    """The detail's "📈 Grafik usaha" button."""
    return context.t("chart.button"), f"{PREFIX}:show:{group_id}"


def handlers() -> list[BaseHandler]:
    """The group chart's button, new for each Application."""
    return [CallbackQueryHandler(show, pattern=rf"^{PREFIX}:show:{ID}$")]
