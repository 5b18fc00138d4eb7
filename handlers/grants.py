"""/hibah: a mentor records a grant (hibah) to one of their KUBE groups and its roll-over
obligation; "hib:view:<id>" shows a grant with its progress and roll-overs.

Diagram: grants.mmd beside this file.

The draft lives in user_data (JSON values only, dates as ISO strings). What the questions need
about the group (name, date formed, village) is copied into the draft when the group is chosen,
and the group is checked against the database again at save. The renderings of a grant's
obligation and progress at the top are shared with /gulir and the group card.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Any

from dateutil.relativedelta import relativedelta
from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.core import clock
from bot.core.enums import FundingSource, GrantForm, GrantKind, RolloverStatus
from bot.core.formatting import format_date, format_date_short, format_rupiah
from bot.core.parsing import is_skip, parse_amount, parse_count, parse_date, parse_leading_count
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import (
    END,
    NEW_TEXT,
    Flow,
    Pick,
    close_buttons,
    column,
    guard,
    ignore_edit,
    iso_date,
    keyboard,
    message_text,
    own_group,
    pressed,
    say,
    unreadable_date,
)
from handlers.visits import parse_next_date
from models import grants as grant_queries
from models import groups as group_queries
from models.grants import Progress
from models.tables import Grant, Group, Rollover

PREFIX = "hib"

MAX_GROUP_BUTTONS = 50
MAX_GOODS = 200
MAX_UNIT_LABEL = 60
MAX_UNITS = 100_000
MAX_HOUSEHOLDS = 100
MAX_DUE_YEARS = 10
MAX_VIEW_ROLLOVERS = 30
REQUIRED = ("group_id", "kind", "source", "form", "received_on", "due_on")


class Step(IntEnum):
    GROUP = 1
    KIND = 2
    SOURCE = 3
    FORM = 4
    GOODS = 5  # goods only: what was given ("10 ekor kambing")
    AMOUNT = 6  # cash: required; goods: its value, optional
    RECEIVED = 7
    ROLL_AMOUNT = 8  # the obligation: Rupiah, units, households (one at least)
    ROLL_UNITS = 9
    ROLL_HOUSEHOLDS = 10
    DUE = 11
    CONFIRM = 12  # summary; "Ubah" swaps its buttons for the fields, in place


flow = Flow("grant", prefix=PREFIX, what="grant.what", summary=Step.CONFIRM)


# --- renderings shared with /gulir and /kelompok ----------------------------------------------

def kind_label(context: BotContext, kind: str, *, short: bool = False) -> str:
    return context.t(f"grantkind.short.{kind}" if short else f"grantkind.{kind}")


def rupiah(context: BotContext, value: int | None) -> str:
    return format_rupiah(value, context.lang) if value is not None else context.t("common.none")


def units_text(count: int, label: str | None) -> str:
    return f"{count} {label}" if label else str(count)


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


def target_parts(context: BotContext, state: Progress) -> list[str]:
    """Done against target for every set target: "Rp 4.000.000 dari Rp 10.000.000"."""
    grant = state.grant
    parts = []
    if grant.rollover_amount:
        parts.append(context.t("grant.of_amount", done=rupiah(context, state.amount_done),
                               target=rupiah(context, grant.rollover_amount)))
    if grant.rollover_units:
        parts.append(context.t("grant.of_units", done=state.units_done,
                               target=units_text(grant.rollover_units,
                                                 grant.rollover_unit_label)))
    if grant.rollover_households:
        parts.append(context.t("grant.of_households",
                               done=state.households_done + state.groups_done,
                               target=grant.rollover_households))
    return parts


def status_label(context: BotContext, status: RolloverStatus | str) -> str:
    return context.t(f"rollstatus.{RolloverStatus(status).value}")


def progress_line(context: BotContext, state: Progress) -> str:
    """"Sebagian: Rp 4.000.000 dari Rp 10.000.000 (40%)"; "Selesai 🎉: … (100%)" when done."""
    return context.t("grant.progress_line", status=status_label(context, state.status),
                     targets="; ".join(target_parts(context, state)), percent=state.percent)


def days_text(context: BotContext, state: Progress) -> str:
    """Days left to the deadline, or days late; empty once the obligation is complete."""
    if state.complete:
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


def grant_value(context: BotContext, grant: Grant) -> str:
    """The grant in a few words: its amount, or the goods when their value is unknown."""
    if grant.amount is not None:
        return rupiah(context, grant.amount)
    return grant.goods_description or context.t("common.none")


async def grant_view(context: BotContext, grant: Grant, group: Group):
    """The text and buttons of one grant: obligation, progress, deadline and roll-overs."""
    lang = context.lang
    state = await grant_queries.progress(session=context.session, grant=grant,
                                         today=clock.today_for(group.village_code))
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
    form = context.t(f"grantform.{grant.form}")
    if grant.form == GrantForm.GOODS and grant.goods_description:
        form = f"{form} – {grant.goods_description}"
    days = days_text(context, state)
    text = context.t(
        "grant.view", kind=kind_label(context, grant.kind), group=group.name,
        source=context.t(f"fund.{grant.funding_source}"), form=form,
        amount=rupiah(context, grant.amount), received=format_date(grant.received_on, lang),
        due=format_date(grant.rollover_due, lang), days=f" ({days})" if days else "",
        targets=targets, status=status_label(context, state.status), percent=state.percent,
        rollovers=rolled)
    rows = []
    mentor = context.mentor
    if mentor is not None and group.mentor_id == mentor.id and not state.complete:
        rows.append([(context.t("grant.btn.rollover"), f"gul:start:{grant.id}")])
    rows.append([(context.t("grant.btn.group"), f"kel:det:{group.id}")])
    return text, keyboard(rows)


async def group_block(context: BotContext, group: Group):
    """For the group card: one line per grant, and a button row to view each of them."""
    grants = await grant_queries.list_for_group(session=context.session, group_id=group.id)
    if not grants:
        return "", []
    states = await grant_queries.progress_for(session=context.session, grants=grants,
                                              today=clock.today_for(group.village_code))
    lines = []
    for no, grant in enumerate(grants, start=1):
        state = states[grant.id]
        lines.append(context.t(
            "grant.group_line", no=no, kind=kind_label(context, grant.kind),
            amount=grant_value(context, grant), status=status_label(context, state.status),
            percent=state.percent))
    buttons = [(context.t("grant.btn.view", no=no), f"{PREFIX}:view:{grant.id}")
               for no, grant in enumerate(grants, start=1)]
    rows = [buttons[i:i + 3] for i in range(0, min(len(buttons), 9), 3)]
    return context.t("grant.group_block", count=len(grants), lines="\n".join(lines)), rows


def group_list_line(context: BotContext, totals: tuple[int, int] | None) -> str:
    """For /kelompok: "Hibah: 2 (Rp 35.000.000)", or nothing without grants."""
    if not totals or not totals[0]:
        return ""
    count, total = totals
    if total:
        return context.t("grant.list_line", count=count, total=rupiah(context, total))
    return context.t("grant.list_line_count", count=count)


# --- parsing ----------------------------------------------------------------------------------

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


def default_due(received: date, months: int) -> date:
    """The default roll-over deadline: ``months`` calendar months after receipt (31 Jan + 1
    month is 28 or 29 February)."""
    return received + relativedelta(months=months)


# --- small helpers ----------------------------------------------------------------------------

def _draft(context: BotContext) -> dict[str, Any]:
    return flow.draft(context)


def date_example(context: BotContext, day: date) -> str:
    return context.t("grant.date_example", numeric=f"{day:%d/%m/%Y}",
                     short=format_date_short(day, context.lang))


def _default_due(context: BotContext) -> date:
    received = date.fromisoformat(_draft(context)["received_on"])
    return default_due(received, context.settings.rollover_default_months)


def _has_obligation(draft: dict[str, Any]) -> bool:
    return any(draft.get(key) for key in ("roll_amount", "roll_units", "roll_households"))


# --- questions --------------------------------------------------------------------------------

async def _group_buttons(context: BotContext) -> list[tuple[str, str]]:
    rows = await group_queries.list_for_mentor(session=context.session, mentor=context.mentor)
    return [(row.group.name, f"{PREFIX}:group:{row.group.id}")
            for row in rows[:MAX_GROUP_BUTTONS]]


@flow.question(Step.GROUP)
async def _ask_group(update: Update, context: BotContext) -> None:
    buttons = await _group_buttons(context)
    if not buttons:
        await say(update, context.t("grant.no_groups"))
        return
    await say(update, context.t("grant.ask_group"), reply_markup=column(buttons))


@flow.question(Step.KIND)
async def _ask_kind(update: Update, context: BotContext) -> None:
    buttons = [(kind_label(context, k), f"{PREFIX}:kind:{k}") for k in GrantKind]
    await say(update, context.t("grant.ask_kind"), reply_markup=column(buttons))


@flow.question(Step.SOURCE)
async def _ask_source(update: Update, context: BotContext) -> None:
    buttons = [(context.t(f"fund.{s}"), f"{PREFIX}:src:{s}") for s in FundingSource]
    await say(update, context.t("grant.ask_source"), reply_markup=column(buttons, per_row=2))


@flow.question(Step.FORM)
async def _ask_form(update: Update, context: BotContext) -> None:
    buttons = [(context.t(f"grantform.{f}"), f"{PREFIX}:form:{f}") for f in GrantForm]
    await say(update, context.t("grant.ask_form"), reply_markup=column(buttons, per_row=2))


@flow.question(Step.GOODS)
async def _ask_goods(update: Update, context: BotContext) -> None:
    await say(update, context.t("grant.ask_goods"))


@flow.question(Step.AMOUNT)
async def _ask_amount(update: Update, context: BotContext) -> None:
    if _draft(context).get("form") == GrantForm.GOODS:
        await say(update, context.t("grant.ask_goods_value"),
                  reply_markup=flow.skip_keyboard(context, "amount"))
        return
    await say(update, context.t("grant.ask_amount"))


@flow.question(Step.RECEIVED)
async def _ask_received(update: Update, context: BotContext) -> None:
    markup = keyboard([[(context.t("grant.today_button"), f"{PREFIX}:received:today")]])
    await say(update, context.t("grant.ask_received",
                                example=date_example(context, flow.today(context))),
              reply_markup=markup)


@flow.question(Step.ROLL_AMOUNT)
async def _ask_roll_amount(update: Update, context: BotContext) -> None:
    await say(update, context.t("grant.ask_roll_amount"),
              reply_markup=flow.skip_keyboard(context, "roll_amount"))


@flow.question(Step.ROLL_UNITS)
async def _ask_roll_units(update: Update, context: BotContext) -> None:
    await say(update, context.t("grant.ask_roll_units"),
              reply_markup=flow.skip_keyboard(context, "roll_units"))


@flow.question(Step.ROLL_HOUSEHOLDS)
async def _ask_roll_households(update: Update, context: BotContext) -> None:
    await say(update, context.t("grant.ask_roll_households", max=MAX_HOUSEHOLDS),
              reply_markup=flow.skip_keyboard(context, "roll_households"))


@flow.question(Step.DUE)
async def _ask_due(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    received = date.fromisoformat(draft["received_on"])
    suggested = _default_due(context)
    markup = keyboard([[(context.t("grant.due_button",
                                   date=format_date(suggested, context.lang)),
                         f"{PREFIX}:due:default")]])
    await say(update, context.t(
        "grant.ask_due", months=context.settings.rollover_default_months,
        received=format_date(received, context.lang),
        example=date_example(context, suggested)), reply_markup=markup)


def _summary_text(context: BotContext) -> str:
    draft = _draft(context)
    lang = context.lang
    lines = obligation_lines(context, amount=draft.get("roll_amount"),
                             units=draft.get("roll_units"), label=draft.get("roll_label"),
                             households=draft.get("roll_households"))
    form = context.t(f"grantform.{draft['form']}")
    if draft["form"] == GrantForm.GOODS and draft.get("goods"):
        form = f"{form} – {draft['goods']}"
    return context.t(
        "grant.summary", group=draft["group_name"], kind=kind_label(context, draft["kind"]),
        source=context.t(f"fund.{draft['source']}"), form=form,
        amount=rupiah(context, draft.get("amount")),
        received=format_date(date.fromisoformat(draft["received_on"]), lang),
        obligation="\n".join(lines),
        due=format_date(date.fromisoformat(draft["due_on"]), lang))


EDIT_FIELDS = {
    "kind": Step.KIND,
    "source": Step.SOURCE,
    "form": Step.FORM,
    "goods": Step.GOODS,
    "amount": Step.AMOUNT,
    "received": Step.RECEIVED,
    "obligation": Step.ROLL_AMOUNT,
    "due": Step.DUE,
}


@flow.question(Step.CONFIRM)
async def _show_summary(update: Update, context: BotContext) -> None:
    await say(update, _summary_text(context), reply_markup=flow.summary_keyboard(context))


# --- starting: /hibah and the "hib:start:<group id>" button -----------------------------------

async def _begin(update: Update, context: BotContext, group: Group) -> int:
    """Copies what the questions need about the group into the draft and asks the kind."""
    _draft(context).update(group_id=group.id, group_name=group.name,
                           village_code=group.village_code,
                           formed_on=group.formed_on.isoformat())
    await say(update, context.t("grant.start", group=group.name))
    return await flow.ask(update, context, Step.KIND)


flow.pick = Pick(step=Step.GROUP, chosen="group_id", choices=_group_buttons, find=own_group,
                 label=lambda group: group.name, begin=_begin,
                 resume=lambda context, draft: context.t("grant.resume",
                                                         group=draft.get("group_name", "")),
                 none="grant.no_groups", not_found="grant.group_not_found")


@guard()
async def start(update: Update, context: BotContext) -> int:
    """/hibah: continues an unfinished grant, or asks which group received it."""
    return await flow.open(update, context)


@guard()
async def start_for_group(update: Update, context: BotContext) -> int:
    """The "Hibah" button of a group card: checks the group is the mentor's own, asks the kind."""
    return await flow.open(update, context)


# --- answers ----------------------------------------------------------------------------------

@guard()
async def got_group(update: Update, context: BotContext) -> int:
    """Stores the group (re-checked: it must be the mentor's own) and asks for the kind."""
    return await flow.picked(update, context)


_BUTTON_EXAMPLES = {
    Step.GROUP: "grant.example_group",
    Step.KIND: "grant.example_kind",
    Step.SOURCE: "grant.example_source",
    Step.FORM: "grant.example_form",
}


@guard()
async def group_typed(update: Update, context: BotContext) -> int:
    """Typed text at the group question: the one own group whose name holds it is taken."""
    return await flow.picked_by_name(update, context)


@guard()
async def typed_not_button(update: Update, context: BotContext) -> int:
    """Typed text where a button was expected: explains with an example and asks again."""
    return await flow.use_buttons(update, context, _BUTTON_EXAMPLES,
                                  default="grant.example_kind", text="grant.use_buttons")


@guard()
async def got_kind(update: Update, context: BotContext) -> int:
    """Stores the kind of grant and asks for the funding source."""
    return await flow.choose(update, context, store="kind", among=GrantKind, label="grantkind",
                             then=Step.SOURCE)


@guard()
async def got_source(update: Update, context: BotContext) -> int:
    """Stores the funding source and asks whether it is cash or goods."""
    return await flow.choose(update, context, store="source", among=FundingSource, label="fund",
                             then=Step.FORM)


@guard()
async def got_form(update: Update, context: BotContext) -> int:
    """Stores cash or goods and asks for the goods (goods) or the amount (cash)."""
    query = update.callback_query
    value = pressed(query)
    draft = _draft(context)
    draft["form"] = value
    await close_buttons(query, context.t(f"grantform.{value}"))
    if value == GrantForm.GOODS:
        return await flow.ask(update, context, Step.GOODS)
    draft["goods"] = None
    if flow.editing(context) and draft.get("amount"):
        return await flow.next(update, context, Step.RECEIVED)
    return await flow.ask(update, context, Step.AMOUNT)


@guard()
async def got_goods(update: Update, context: BotContext) -> int:
    """Stores what goods were given and asks for their value."""
    text = " ".join(message_text(update).split())
    if not 3 <= len(text) <= MAX_GOODS or sum(ch.isalpha() for ch in text) < 3:
        return await flow.retry(update, context, Step.GOODS,
                                context.t("grant.bad_goods", max=MAX_GOODS))
    draft = _draft(context)
    draft["goods"] = text
    if flow.editing(context) == "goods":
        return await flow.next(update, context, Step.AMOUNT)
    return await flow.ask(update, context, Step.AMOUNT)


async def _store_amount(update: Update, context: BotContext, text: str) -> int:
    draft = _draft(context)
    goods = draft.get("form") == GrantForm.GOODS
    key = "grant.bad_goods_value" if goods else "grant.bad_amount"
    if is_skip(text):
        if not goods:
            return await flow.retry(update, context, Step.AMOUNT, context.t("grant.need_amount"))
        value = None
    else:
        value = parse_amount(text)
        if not value:
            return await flow.retry(update, context, Step.AMOUNT, context.t(key))
    draft["amount"] = value
    await say(update, f"✓ {rupiah(context, value)}")
    return await flow.next(update, context, Step.RECEIVED)


@guard()
async def got_amount(update: Update, context: BotContext) -> int:
    """Stores the grant's amount (cash) or value (goods, optional) and asks the date received."""
    return await _store_amount(update, context, message_text(update))


async def _store_received(update: Update, context: BotContext, received: date) -> int:
    draft = _draft(context)
    draft["received_on"] = received.isoformat()
    await say(update, f"✓ {format_date(received, context.lang)}")
    due = iso_date(draft.get("due_on"))
    if due is not None and draft.get("due_auto"):
        draft["due_on"] = _default_due(context).isoformat()
    elif due is not None and not received < due:
        # The deadline no longer fits: ask it again, then back to the summary.
        await say(update, context.t("grant.due_before_received_now"))
        return await flow.ask(update, context, Step.DUE)
    return await flow.next(update, context, Step.ROLL_AMOUNT)


def _received_error(context: BotContext, received: date | None, text: str = "") -> str | None:
    draft = _draft(context)
    today = flow.today(context)
    example = date_example(context, today)
    if received is None:
        return unreadable_date(context, text, today,
                               context.t("grant.bad_date", example=example))
    if received > today:
        return context.t("grant.future_date", today=format_date(today, context.lang),
                         example=example)
    formed = iso_date(draft.get("formed_on"))
    if formed is not None and received < formed:
        return context.t("grant.before_formed", group=draft.get("group_name", ""),
                         formed=format_date(formed, context.lang), example=example)
    return None


@guard()
async def got_received(update: Update, context: BotContext) -> int:
    """Stores the date received (not in the future, not before the group was formed) and asks
    for the amount to roll over."""
    text = message_text(update)
    received = parse_date(text, today=flow.today(context))
    error = _received_error(context, received, text)
    if error:
        return await flow.retry(update, context, Step.RECEIVED, error)
    return await _store_received(update, context, received)


@guard()
async def received_today(update: Update, context: BotContext) -> int:
    """Hari ini: stores today as the date received and asks for the amount to roll over."""
    query = update.callback_query
    today = flow.today(context)
    error = _received_error(context, today)
    if error:
        await close_buttons(query)
        return await flow.retry(update, context, Step.RECEIVED, error)
    await close_buttons(query)
    return await _store_received(update, context, today)


async def _store_roll_amount(update: Update, context: BotContext, text: str) -> int:
    draft = _draft(context)
    if is_skip(text):
        value = None
    else:
        value = parse_amount(text)
        if not value:
            return await flow.retry(update, context, Step.ROLL_AMOUNT,
                                    context.t("grant.bad_roll_amount"))
        if draft.get("amount") and value > draft["amount"]:
            return await flow.retry(update, context, Step.ROLL_AMOUNT, context.t(
                "grant.roll_more_than_grant", amount=rupiah(context, draft["amount"])))
    draft["roll_amount"] = value
    if value is not None:
        await say(update, f"✓ {rupiah(context, value)}")
    return await flow.ask(update, context, Step.ROLL_UNITS)


async def _store_roll_units(update: Update, context: BotContext, text: str) -> int:
    draft = _draft(context)
    if is_skip(text):
        draft["roll_units"], draft["roll_label"] = None, None
        return await flow.ask(update, context, Step.ROLL_HOUSEHOLDS)
    parsed = parse_units(text)
    if parsed is None:
        return await flow.retry(update, context, Step.ROLL_UNITS,
                                context.t("grant.bad_units", max=MAX_UNITS))
    count, label = parsed
    if label is None and draft.get("goods"):
        goods = parse_units(draft["goods"])
        label = goods[1] if goods else None
    if label is None:
        return await flow.retry(update, context, Step.ROLL_UNITS,
                                context.t("grant.units_need_label", count=count))
    draft["roll_units"], draft["roll_label"] = count, label
    await say(update, f"✓ {units_text(count, label)}")
    return await flow.ask(update, context, Step.ROLL_HOUSEHOLDS)


async def _store_roll_households(update: Update, context: BotContext, text: str) -> int:
    draft = _draft(context)
    if is_skip(text):
        value = None
    else:
        value = parse_count(text, minimum=1, maximum=MAX_HOUSEHOLDS)
        if value is None:
            return await flow.retry(update, context, Step.ROLL_HOUSEHOLDS,
                                    context.t("grant.bad_households", max=MAX_HOUSEHOLDS))
    draft["roll_households"] = value
    if not _has_obligation(draft):
        # Nothing at all to roll over: the three questions once more, from the first.
        return await flow.retry(update, context, Step.ROLL_AMOUNT,
                                context.t("grant.need_obligation"))
    if draft.get("due_on") is None:
        flow.set_editing(context, None)  # a new grant goes on to the deadline
        return await flow.ask(update, context, Step.DUE)
    return await flow.next(update, context, Step.DUE)


@guard()
async def got_roll_amount(update: Update, context: BotContext) -> int:
    """Stores the Rupiah to roll over (or none) and asks for the units to roll over."""
    return await _store_roll_amount(update, context, message_text(update))


@guard()
async def got_roll_units(update: Update, context: BotContext) -> int:
    """Stores the units to roll over with their label (or none) and asks for the households."""
    return await _store_roll_units(update, context, message_text(update))


@guard()
async def got_roll_households(update: Update, context: BotContext) -> int:
    """Stores the number of households to roll over to (or none) and asks for the deadline."""
    return await _store_roll_households(update, context, message_text(update))


_SKIPPERS = {
    "amount": _store_amount,
    "roll_amount": _store_roll_amount,
    "roll_units": _store_roll_units,
    "roll_households": _store_roll_households,
}


@guard()
async def skip(update: Update, context: BotContext) -> int:
    """Lewati on an optional question: stores nothing for it and asks the next question."""
    return await flow.skip(update, context, _SKIPPERS)


async def _store_due(update: Update, context: BotContext, due: date, auto: bool) -> int:
    draft = _draft(context)
    draft["due_on"], draft["due_auto"] = due.isoformat(), auto
    return await flow.sum_up(update, context)


@guard()
async def due_default(update: Update, context: BotContext) -> int:
    """Takes the suggested deadline (received + the default months) and sums up."""
    suggested = _default_due(context)
    await close_buttons(update.callback_query, format_date(suggested, context.lang))
    return await _store_due(update, context, suggested, True)


@guard()
async def got_due(update: Update, context: BotContext) -> int:
    """Stores a typed deadline (after the date received) and sums up."""
    received = date.fromisoformat(_draft(context)["received_on"])
    example = date_example(context, _default_due(context))
    text, today = message_text(update), flow.today(context)
    due = parse_next_date(text, visited=received, today=today)
    if due is None:
        return await flow.retry(update, context, Step.DUE, unreadable_date(
            context, text, today, context.t("grant.bad_due", example=example)))
    latest = received + relativedelta(years=MAX_DUE_YEARS)
    if not received < due <= latest:
        return await flow.retry(update, context, Step.DUE, context.t(
            "grant.due_out_of_range", received=format_date(received, context.lang),
            years=MAX_DUE_YEARS, example=example))
    await say(update, f"✓ {format_date(due, context.lang)}")
    return await _store_due(update, context, due, False)


# --- the summary ------------------------------------------------------------------------------

@guard()
async def edit(update: Update, context: BotContext) -> int:
    """Ubah: the summary's buttons become the fields that can be changed."""
    goods = _draft(context).get("form") == GrantForm.GOODS
    fields = [field for field in EDIT_FIELDS if goods or field != "goods"]
    return await flow.swap_buttons(update, context,
                                   flow.edit_keyboard(context, "grant.field", fields))


@guard()
async def back(update: Update, context: BotContext) -> int:
    """« Kembali: the summary's own buttons again."""
    return await flow.swap_buttons(update, context, flow.summary_keyboard(context))


@guard()
async def edit_field(update: Update, context: BotContext) -> int:
    """Asks the chosen question again; its answer leads back to the summary."""
    query = update.callback_query
    if pressed(query) == "goods" and _draft(context).get("form") != GrantForm.GOODS:
        await query.answer(context.t("common.old_button"))
        return Step.CONFIRM
    return await flow.edit_field(update, context, EDIT_FIELDS, "grant.field")


async def _recheck(update: Update, context: BotContext, group: Group) -> int | None:
    """Checks again what depends on the group and the other answers; asks what no longer fits."""
    draft = _draft(context)
    draft.update(group_name=group.name, village_code=group.village_code,
                 formed_on=group.formed_on.isoformat())
    received = date.fromisoformat(draft["received_on"])
    due = date.fromisoformat(draft["due_on"])
    error = _received_error(context, received)
    if error:
        flow.set_editing(context, "received")
        return await flow.retry(update, context, Step.RECEIVED, error)
    if draft.get("form") == GrantForm.CASH and not draft.get("amount"):
        flow.set_editing(context, "amount")
        return await flow.ask(update, context, Step.AMOUNT)
    if draft.get("form") == GrantForm.GOODS and not draft.get("goods"):
        flow.set_editing(context, "goods")
        return await flow.ask(update, context, Step.GOODS)
    if not _has_obligation(draft) or (
            draft.get("amount") and (draft.get("roll_amount") or 0) > draft["amount"]):
        flow.set_editing(context, "obligation")
        return await flow.retry(update, context, Step.ROLL_AMOUNT,
                                context.t("grant.recheck_obligation"))
    if not received < due <= received + relativedelta(years=MAX_DUE_YEARS):
        flow.set_editing(context, "due")
        return await flow.ask(update, context, Step.DUE)
    return None


@guard()
async def save(update: Update, context: BotContext) -> int:
    """Saves the grant and schedules its roll-over reminders (once, even if redelivered)."""
    draft = _draft(context)
    if not flow.complete(context, REQUIRED):
        return await flow.stale(update, context)
    group = await own_group(context, draft["group_id"])
    await close_buttons(update.callback_query)
    if group is None:
        return await flow.stop(update, context, context.t(
            "grant.group_gone", group=draft.get("group_name", "")), remove_keyboard=True)
    asked = await _recheck(update, context, group)
    if asked is not None:
        return asked
    goods = draft["form"] == GrantForm.GOODS
    fields = {
        "kind": draft["kind"],
        "funding_source": draft["source"],
        "form": draft["form"],
        "amount": draft.get("amount"),
        "goods_description": draft.get("goods") if goods else None,
        "received_on": date.fromisoformat(draft["received_on"]),
        "rollover_amount": draft.get("roll_amount"),
        "rollover_units": draft.get("roll_units"),
        "rollover_unit_label": draft.get("roll_label") if draft.get("roll_units") else None,
        "rollover_households": draft.get("roll_households"),
        "rollover_due": date.fromisoformat(draft["due_on"]),
    }
    await flow.end_with_save(update, context)
    grant, _ = await grant_queries.create_grant(
        session=context.session, group=group, mentor=context.mentor, fields=fields,
        update_id=update.update_id, today=clock.today_for(group.village_code),
        rules=context.settings.reminder_rules)
    flow.clear(context)
    lines = obligation_lines(context, amount=grant.rollover_amount, units=grant.rollover_units,
                             label=grant.rollover_unit_label,
                             households=grant.rollover_households)
    markup = keyboard([[(context.t("grant.btn.open"), f"{PREFIX}:view:{grant.id}")]])
    await say(update, context.t("grant.saved", group=group.name,
                                kind=kind_label(context, grant.kind),
                                obligation="\n".join(lines),
                                due=format_date(grant.rollover_due, context.lang)),
              reply_markup=markup)
    return END


# --- the grant's view -------------------------------------------------------------------------

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


_KINDS = "|".join(k.value for k in GrantKind)
_SOURCES = "|".join(s.value for s in FundingSource)
_FORMS = "|".join(f.value for f in GrantForm)
_FIELDS = "|".join(EDIT_FIELDS)
_VIEW = rf"^{PREFIX}:view:{ID}$"

conversation = ConversationHandler(
    entry_points=[
        CommandHandler("hibah", start),
        CallbackQueryHandler(start_for_group, pattern=rf"^{PREFIX}:start:{ID}$"),
    ],
    states={
        Step.GROUP: [
            CallbackQueryHandler(got_group, pattern=rf"^{PREFIX}:group:{ID}$"),
            MessageHandler(NEW_TEXT, group_typed),
        ],
        Step.KIND: [
            CallbackQueryHandler(got_kind, pattern=rf"^{PREFIX}:kind:({_KINDS})$"),
            MessageHandler(NEW_TEXT, typed_not_button),
        ],
        Step.SOURCE: [
            CallbackQueryHandler(got_source, pattern=rf"^{PREFIX}:src:({_SOURCES})$"),
            MessageHandler(NEW_TEXT, typed_not_button),
        ],
        Step.FORM: [
            CallbackQueryHandler(got_form, pattern=rf"^{PREFIX}:form:({_FORMS})$"),
            MessageHandler(NEW_TEXT, typed_not_button),
        ],
        Step.GOODS: [MessageHandler(NEW_TEXT, got_goods)],
        Step.AMOUNT: [
            CallbackQueryHandler(skip, pattern=rf"^{PREFIX}:skip:amount$"),
            MessageHandler(NEW_TEXT, got_amount),
        ],
        Step.RECEIVED: [
            CallbackQueryHandler(received_today, pattern=rf"^{PREFIX}:received:today$"),
            MessageHandler(NEW_TEXT, got_received),
        ],
        Step.ROLL_AMOUNT: [
            CallbackQueryHandler(skip, pattern=rf"^{PREFIX}:skip:roll_amount$"),
            MessageHandler(NEW_TEXT, got_roll_amount),
        ],
        Step.ROLL_UNITS: [
            CallbackQueryHandler(skip, pattern=rf"^{PREFIX}:skip:roll_units$"),
            MessageHandler(NEW_TEXT, got_roll_units),
        ],
        Step.ROLL_HOUSEHOLDS: [
            CallbackQueryHandler(skip, pattern=rf"^{PREFIX}:skip:roll_households$"),
            MessageHandler(NEW_TEXT, got_roll_households),
        ],
        Step.DUE: [
            CallbackQueryHandler(due_default, pattern=rf"^{PREFIX}:due:default$"),
            MessageHandler(NEW_TEXT, got_due),
        ],
        Step.CONFIRM: [
            CallbackQueryHandler(save, pattern=rf"^{PREFIX}:save$"),
            CallbackQueryHandler(edit, pattern=rf"^{PREFIX}:edit$"),
            CallbackQueryHandler(edit_field, pattern=rf"^{PREFIX}:edit:({_FIELDS})$"),
            CallbackQueryHandler(back, pattern=rf"^{PREFIX}:back$"),
        ],
    },
    # A grant's view may be opened in the middle of the questions: it leaves them as they are.
    fallbacks=[MessageHandler(filters.UpdateType.EDITED, ignore_edit),
               CallbackQueryHandler(view, pattern=_VIEW),
               *flow.fallbacks()],
    name="grant",
    persistent=True,
    allow_reentry=True,
)

HANDLERS = [conversation, CallbackQueryHandler(view, pattern=_VIEW)]
