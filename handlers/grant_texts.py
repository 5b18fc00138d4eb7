"""How a grant (bantuan), its roll-over obligation and its LPJ read in messages, and how its
units are typed.

Shared by /hibah (handlers.grants), /gulir (handlers.rollovers) and the grant lines of the group
card (handlers.grants_views): a grant's kind, amounts, units ("10 ekor kambing"), obligation and
progress read the same everywhere. Words only: the rules are in models.saving.
"""

from __future__ import annotations

from datetime import date

from bot.core.enums import GrantForm, RolloverStatus
from bot.core.formatting import format_date, format_rupiah
from bot.core.parsing import parse_leading_count
from bot.telegram.context import BotContext
from handlers.day_answers import day_example
from models.grants import Progress
from models.tables import Grant

MAX_UNIT_LABEL = 60
MAX_UNITS = 100_000


def kind_label(context: BotContext, kind: str, *, short: bool = False) -> str:
    return context.t(f"grantkind.short.{kind}" if short else f"grantkind.{kind}")


def rupiah(context: BotContext, value: int | None) -> str:
    return format_rupiah(value, context.lang) if value is not None else context.t("common.none")


def units_text(count: int, label: str | None) -> str:
    return f"{count} {label}" if label else str(count)


def parse_units(text: str) -> tuple[int, str | None] | None:
    """"10 ekor anak kambing" → (10, "ekor anak kambing"); "sepuluh ekor" → (10, "ekor");
    "10" → (10, None). None when there is no count of 1 to 100.000 first (digits, or number
    words as every count question reads them)."""
    if not isinstance(text, str) or len(text) > 100:
        return None
    found = parse_leading_count(text, minimum=1, maximum=MAX_UNITS)
    if found is None:
        return None
    count, label = found
    label = label.strip(" .,;:-")
    if label and (len(label) > MAX_UNIT_LABEL or not any(ch.isalpha() for ch in label)):
        return None
    return count, label or None


def date_example(context: BotContext, day: date) -> str:
    return day_example(context, day, "grant")


def bad_date(context: BotContext, today: date) -> str:
    """A typed day (received, rolled over) that could not be read, with today as the example."""
    return context.t("grant.bad_date", example=date_example(context, today))


def obligation_lines(context: BotContext, *, amount: int | None, units: int | None,
                     label: str | None, households: int | None) -> list[str]:
    """The obligation as lines ("• Uang: Rp 10.000.000"), only the parts that are set."""
    lines = []
    if amount:
        lines.append(context.t("grant.ob_amount", amount=rupiah(context, amount)))
    if units:
        lines.append(context.t("grant.ob_units", units=units_text(units, label)))
    if households:
        lines.append(context.t("grant.ob_households", count=households))
    return lines


def _percent(done: int, target: int) -> int:
    return int(min(1.0, done / target) * 100)


def target_parts(context: BotContext, state: Progress) -> list[str]:
    """Done against target for every set target, each with its own share ("Dana: Rp 4.000.000
    dari Rp 10.000.000 (40%)", "Penerima: 1 dari 5 KK/kelompok (20%)"): one share for all
    would hide how far the money is while the households lag behind."""
    grant = state.grant
    parts = []
    if grant.rollover_amount:
        parts.append(context.t("grant.of_amount", done=rupiah(context, state.amount_done),
                               target=rupiah(context, grant.rollover_amount),
                               percent=_percent(state.amount_done, grant.rollover_amount)))
    if grant.rollover_units:
        parts.append(context.t("grant.of_units", done=state.units_done,
                               target=units_text(grant.rollover_units,
                                                 grant.rollover_unit_label),
                               percent=_percent(state.units_done, grant.rollover_units)))
    if grant.rollover_households:
        done = state.households_done + state.groups_done
        parts.append(context.t("grant.of_households", done=done,
                               target=grant.rollover_households,
                               percent=_percent(done, grant.rollover_households)))
    return parts


def status_label(context: BotContext, status: RolloverStatus | str) -> str:
    return context.t(f"rollstatus.{RolloverStatus(status).value}")


def progress_line(context: BotContext, state: Progress) -> str:
    """"Sebagian · Dana: Rp 4.000.000 dari Rp 10.000.000 (40%) · Penerima: 1 dari 5
    KK/kelompok (20%)"; "Selesai 🎉 · …" when done; "Tidak wajib digulirkan" for a grant
    without an obligation."""
    if not state.required:
        return status_label(context, state.status)
    return context.t("grant.progress_line", status=status_label(context, state.status),
                     targets=" · ".join(target_parts(context, state)))


def days_text(context: BotContext, state: Progress) -> str:
    """Days left to the deadline, or days late; empty once the obligation is complete (or for a
    grant without one)."""
    if state.complete or not state.required:
        return ""
    days = (state.grant.rollover_due - state.today).days
    if days > 0:
        return context.t("grant.days_left", days=days)
    if days == 0:
        return context.t("grant.due_today")
    return context.t("grant.days_late", days=-days)


def rollover_what(context: BotContext, amount: int | None, units: int | None,
                  label: str | None) -> str:
    """What one roll-over passed on: "Rp 2.000.000", "3 ekor kambing" or both."""
    parts = []
    if amount is not None:
        parts.append(rupiah(context, amount))
    if units is not None:
        parts.append(units_text(units, label))
    return " + ".join(parts) or context.t("common.none")


def grant_value(context: BotContext, grant: Grant) -> str:
    """The grant in a few words: its amount, or the goods when their value is unknown."""
    if grant.amount is not None:
        return rupiah(context, grant.amount)
    return grant.goods_description or context.t("common.none")


def form_text(context: BotContext, form: str, goods: str | None) -> str:
    """"Barang – 10 ekor kambing" for goods, "Tunai" for cash."""
    text = context.t(f"grantform.{form}")
    return f"{text} – {goods}" if form == GrantForm.GOODS and goods else text


def lpj_text(context: BotContext, grant: Grant, today: date) -> str:
    """"LPJ: sudah diserahkan 1 Maret 2027", or "LPJ: belum, batas 25 Februari 2027 (⚠️
    terlambat 3 hari)" with the days left or late; a grant without an LPJ deadline (from before
    LPJ were kept) reads "LPJ: belum"."""
    lang = context.lang
    if grant.lpj_submitted_on is not None:
        return context.t("lpj.done", date=format_date(grant.lpj_submitted_on, lang))
    if grant.lpj_due is None:
        return context.t("lpj.pending_no_due")
    days = (grant.lpj_due - today).days
    when = (context.t("grant.days_left", days=days) if days > 0
            else context.t("lpj.due_today") if days == 0
            else context.t("lpj.late", days=-days))
    return context.t("lpj.pending", date=format_date(grant.lpj_due, lang), when=when)
