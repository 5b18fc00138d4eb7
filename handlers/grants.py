"""/hibah: a mentor records a grant (bantuan, as the programme says in chat) to one of their
KUBE groups, whether it must be rolled over and, if so, the obligation; "hib:view:<id>"
(handlers.grants_views) shows a grant, also amid the questions; its LPJ is recorded from there
(handlers.grant_lpj, whose handlers come with these).

The kind says where the money came from (models.saving.grant.source_for): the funding source
is no longer asked.

Diagram: grants.mmd beside this file.

The draft lives in user_data (JSON values only, dates as ISO strings). What the questions need
about the group (name, date formed, village) is copied into the draft when the group is chosen;
models.saving.grant checks the group and every answer against the database again at save, and
its rules are the ones the questions apply.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot.core import clock
from bot.core.enums import GrantForm, GrantKind
from bot.core.formatting import format_date
from bot.core.parsing import is_skip, parse_amount, parse_count
from bot.telegram.context import BotContext
from handlers import amount_check, grant_lpj
from handlers.button_questions import ask_choice, ask_summary
from handlers.common import (
    END,
    close_buttons,
    confirm,
    iso_date,
    keyboard,
    message_text,
    pressed,
    say,
    say_first,
)
from handlers.day_answers import ask_day_ahead, day_error, today_pressed, typed_day
from handlers.flow import TEXT, Flow, Summary
from handlers.grant_texts import (
    MAX_UNITS,
    bad_date,
    date_example,
    kind_label,
    obligation_lines,
    parse_units,
    rupiah,
    units_text,
)
from handlers.grants_views import PREFIX, summary_text, view_handler
from handlers.group_pick import pick_group
from handlers.typed_answers import read_or_skip, typed
from models.changes import is_read_only
from models.saving.grant import (
    MAX_DUE_YEARS,
    GrantReason,
    GrantRefusal,
    NewGrant,
    check_obligation,
    check_received,
    default_due,
    due_fits,
    save_grant,
)
from models.tables import Group

MAX_GOODS = 200
MAX_HOUSEHOLDS = 100
REQUIRED = ("group_id", "kind", "form", "received_on", "roll_required")


class Step(IntEnum):
    GROUP = 1
    KIND = 2
    # 3 was the funding source, now taken from the kind: its number stays unused, so a draft
    # stored at another question still names it.
    FORM = 4
    GOODS = 5  # goods only: what was given ("10 ekor kambing")
    AMOUNT = 6  # cash: required; goods: its value, optional
    RECEIVED = 7
    ROLL_AMOUNT = 8  # the obligation: Rupiah, units, households (one at least)
    ROLL_UNITS = 9
    ROLL_HOUSEHOLDS = 10
    DUE = 11
    CONFIRM = 12  # summary; "Ubah" swaps its buttons for the fields, in place
    ROLL_REQUIRED = 13  # "Wajib digulirkan?" Ya: the obligation and its deadline; Tidak: summary


flow = Flow("grant", prefix=PREFIX, what="grant.what", summary=Step.CONFIRM)


# --- small helpers ----------------------------------------------------------------------------

def _draft(context: BotContext) -> dict[str, Any]:
    return flow.draft(context)


def _required(draft: dict[str, Any]) -> bool:
    """Whether the draft's grant must be rolled over ("Wajib digulirkan?"); a draft begun before
    the question was asked had an obligation whenever it had a deadline."""
    return bool(draft.get("roll_required", draft.get("due_on") is not None))


def _default_due(context: BotContext) -> date:
    received = date.fromisoformat(_draft(context)["received_on"])
    return default_due(received, context.settings.rollover_default_months)


# --- questions --------------------------------------------------------------------------------

ask_choice(flow, Step.KIND, "grant.ask_kind", among=GrantKind, label="grantkind", data="kind")
ask_choice(flow, Step.FORM, "grant.ask_form", among=GrantForm, label="grantform", data="form",
           per_row=2)
flow.says(Step.GOODS, "grant.ask_goods")


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


@flow.question(Step.ROLL_REQUIRED)
async def _ask_required(update: Update, context: BotContext) -> None:
    await say(update, context.t("grant.ask_required"), reply_markup=keyboard(
        [[(context.t("common.yes"), f"{PREFIX}:required:yes"),
          (context.t("common.no"), f"{PREFIX}:required:no")]]))


flow.says(Step.ROLL_AMOUNT, "grant.ask_roll_amount", skip="roll_amount")
flow.says(Step.ROLL_UNITS, "grant.ask_roll_units", skip="roll_units")


@flow.question(Step.ROLL_HOUSEHOLDS)
async def _ask_roll_households(update: Update, context: BotContext) -> None:
    await say(update, context.t("grant.ask_roll_households", max=MAX_HOUSEHOLDS),
              reply_markup=flow.skip_keyboard(context, "roll_households"))


# The former funding-source question's state: a draft stored there is asked the form.
LEGACY_SOURCE = 3
flow.question(LEGACY_SOURCE)(flow.questions[Step.FORM])


EDIT_FIELDS = {
    "kind": Step.KIND,
    "form": Step.FORM,
    "goods": Step.GOODS,
    "amount": Step.AMOUNT,
    "received": Step.RECEIVED,
    "required": Step.ROLL_REQUIRED,
    "obligation": Step.ROLL_AMOUNT,
    "due": Step.DUE,
}


ask_summary(flow, Step.CONFIRM, summary_text)


# --- starting: /hibah and the "hib:start:<group id>" button -----------------------------------

async def _begin(update: Update, context: BotContext, group: Group) -> int:
    """Copies what the questions need about the group into the draft and asks the kind (a
    dissolved group's records are read-only: it says so and ends)."""
    if is_read_only(group):
        return await flow.stop(update, context, context.t("grant.read_only", group=group.name))
    _draft(context).update(group_id=group.id, group_name=group.name,
                           village_code=group.village_code,
                           formed_on=group.formed_on.isoformat())
    await say_first(update, context.t("grant.start", group=group.name))
    return await flow.ask(update, context, Step.KIND)


pick_group(flow, Step.GROUP, command="hibah", texts="grant", begin=_begin)


# --- answers ----------------------------------------------------------------------------------

_BUTTON_EXAMPLES = {
    Step.GROUP: "grant.example_group",
    Step.KIND: "grant.example_kind",
    Step.FORM: "grant.example_form",
    Step.ROLL_REQUIRED: "grant.example_required",
}


async def typed_not_button(update: Update, context: BotContext) -> int:
    """Typed text where a button was expected: explains with an example and asks again."""
    return await flow.use_buttons(update, context, _BUTTON_EXAMPLES,
                                  default="grant.example_kind", text="grant.use_buttons")


async def got_kind(update: Update, context: BotContext) -> int:
    """Stores the kind of grant (which says its funding source) and asks whether it is cash or
    goods."""
    return await flow.choose(update, context, store="kind", among=GrantKind, label="grantkind",
                             then=Step.FORM)


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


async def got_amount(update: Update, context: BotContext, text: str) -> int:
    """Stores the grant's amount (cash) or value (goods, optional) and asks the date received;
    a plain number that looks too small is asked back first ("Maksudnya Rp 50.000.000?")."""
    goods = _draft(context).get("form") == GrantForm.GOODS
    chosen = amount_check.typed_answer(context, flow, "amount", text)
    if chosen is not None:
        return await _store_amount(update, context, chosen)
    if await amount_check.asked_decimal(update, context, flow, field="amount", text=text):
        return Step.AMOUNT

    async def checked(update: Update, context: BotContext, value: int | None) -> int:
        if value is not None and await amount_check.asked(
                update, context, flow, field="amount", text=text, amount=value,
                floor=context.settings.grant_amount_floor):
            return Step.AMOUNT
        return await _store_amount(update, context, value)

    return await read_or_skip(
        update, context, flow, Step.AMOUNT, text, read=lambda typed: parse_amount(typed) or None,
        bad=context.t("grant.bad_goods_value" if goods else "grant.bad_amount"),
        need=None if goods else context.t("grant.need_amount"), store=checked)


async def amount_checked(update: Update, context: BotContext) -> int:
    """After "Maksudnya Rp 50.000.000?": stores the amount chosen and asks the date received."""
    return await amount_check.answered(
        update, context, flow, "amount",
        store=lambda update, context, amount: _store_amount(update, context, amount, said=False))


async def _store_amount(update: Update, context: BotContext, value: int | None, *,
                        said: bool = True) -> int:
    _draft(context)["amount"] = value
    if said:  # a button pressed has noted it already
        await confirm(update, f"✓ {rupiah(context, value)}")
    return await flow.next(update, context, Step.RECEIVED)


async def _store_received(update: Update, context: BotContext, received: date) -> int:
    draft = _draft(context)
    draft["received_on"] = received.isoformat()
    due = iso_date(draft.get("due_on")) if _required(draft) else None
    if due is not None and draft.get("due_auto"):
        draft["due_on"] = _default_due(context).isoformat()
    elif due is not None and not received < due:
        # The deadline no longer fits: ask it again, then back to the summary.
        await say(update, context.t("grant.due_before_received_now"))
        return await flow.ask(update, context, Step.DUE)
    return await flow.next(update, context, Step.ROLL_REQUIRED)


def _received_error(context: BotContext, received: date) -> str | None:
    draft = _draft(context)
    today, formed = flow.today(context), iso_date(draft.get("formed_on"))
    wrong = check_received(received, formed_on=formed, today=today)
    return None if wrong is None else day_error(
        context, late=wrong == GrantReason.RECEIVED_IN_FUTURE, today=today,
        example=date_example(context, today), texts="grant", before="grant.before_formed",
        group=draft.get("group_name", ""), formed=format_date(formed, context.lang))


async def got_received(update: Update, context: BotContext) -> int:
    """Stores the date received (not in the future, not before the group was formed) and asks
    whether the grant must be rolled over."""
    return await typed_day(update, context, flow, Step.RECEIVED, words=_received_error,
                           store=_store_received, unreadable=bad_date)


async def received_today(update: Update, context: BotContext) -> int:
    """Hari ini: stores today as the date received and asks whether the grant must be rolled
    over."""
    return await today_pressed(update, context, flow, Step.RECEIVED, words=_received_error,
                               store=_store_received, note=False)


async def got_required(update: Update, context: BotContext) -> int:
    """Ya: asks the obligation (then its deadline), unless it is known already (changing the
    answer from the summary); Tidak: forgets any obligation and deadline and sums up."""
    query = update.callback_query
    required = pressed(query) == "yes"
    await close_buttons(query, context.t("common.yes" if required else "common.no"))
    draft = _draft(context)
    draft["roll_required"] = required
    if not required:
        draft.update(roll_amount=None, roll_units=None, roll_label=None, roll_households=None,
                     due_on=None, due_auto=None)
        return await flow.sum_up(update, context)
    if flow.editing(context) and draft.get("due_on"):
        return await flow.sum_up(update, context)
    flow.set_editing(context, None)  # the obligation's three questions, then the deadline
    return await flow.ask(update, context, Step.ROLL_AMOUNT)


async def got_roll_amount(update: Update, context: BotContext, text: str) -> int:
    """Stores the Rupiah to roll over (or none) and asks for the units to roll over."""
    draft = _draft(context)
    if is_skip(text):
        value = None
    else:
        value = parse_amount(text)
        if not value:
            return await flow.retry(update, context, Step.ROLL_AMOUNT,
                                    context.t("grant.bad_roll_amount"))
        if check_obligation(amount=draft.get("amount"), roll_amount=value, roll_units=None,
                            roll_households=None) == GrantReason.ROLL_OVER_GRANT:
            return await flow.retry(update, context, Step.ROLL_AMOUNT, context.t(
                "grant.roll_more_than_grant", amount=rupiah(context, draft["amount"])))
    draft["roll_amount"] = value
    if value is not None:
        await confirm(update, f"✓ {rupiah(context, value)}")
    return await flow.ask(update, context, Step.ROLL_UNITS)


async def got_roll_units(update: Update, context: BotContext, text: str) -> int:
    """Stores the units to roll over with their label (or none) and asks for the households."""
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
    await confirm(update, f"✓ {units_text(count, label)}")
    return await flow.ask(update, context, Step.ROLL_HOUSEHOLDS)


async def got_roll_households(update: Update, context: BotContext, text: str) -> int:
    """Stores the number of households to roll over to (or none) and asks for the deadline."""
    draft = _draft(context)
    if is_skip(text):
        value = None
    else:
        value = parse_count(text, minimum=1, maximum=MAX_HOUSEHOLDS)
        if value is None:
            return await flow.retry(update, context, Step.ROLL_HOUSEHOLDS,
                                    context.t("grant.bad_households", max=MAX_HOUSEHOLDS))
    draft["roll_households"] = value
    if check_obligation(amount=draft.get("amount"), roll_amount=draft.get("roll_amount"),
                        roll_units=draft.get("roll_units"),
                        roll_households=value) == GrantReason.NO_OBLIGATION:
        # Nothing at all to roll over: the three questions once more, from the first.
        return await flow.retry(update, context, Step.ROLL_AMOUNT,
                                context.t("grant.need_obligation"))
    if draft.get("due_on") is None:
        flow.set_editing(context, None)  # a new grant goes on to the deadline
        return await flow.ask(update, context, Step.DUE)
    return await flow.next(update, context, Step.DUE)





_SKIPPERS = {
    "amount": got_amount,
    "roll_amount": got_roll_amount,
    "roll_units": got_roll_units,
    "roll_households": got_roll_households,
}


async def skip(update: Update, context: BotContext) -> int:
    """Lewati on an optional question: stores nothing for it and asks the next question."""
    return await flow.skip(update, context, _SKIPPERS)


def _due_error(context: BotContext, due: date) -> str | None:
    received = date.fromisoformat(_draft(context)["received_on"])
    return None if due_fits(received, due) else context.t(
        "grant.due_out_of_range", received=format_date(received, context.lang),
        years=MAX_DUE_YEARS, example=date_example(context, _default_due(context)))


# "27 Des" is the next 27 December after the grant came, as for a next visit.
due_date = ask_day_ahead(
    flow, Step.DUE, field="due_on", auto="due_auto", start="received_on", suggest=_default_due,
    horizon_days=365, words=_due_error, texts="grant", ask="grant.ask_due",
    button="grant.due_button", bad="grant.bad_due", data="due:default",
    values=lambda context, received: {"months": context.settings.rollover_default_months,
                                      "received": format_date(received, context.lang)})


async def _refused(update: Update, context: BotContext, refusal: GrantRefusal) -> int:
    """Asks again what the group as stored now, or the other answers, no longer let stand."""
    draft = _draft(context)
    if refusal.reason == GrantReason.GROUP_GONE:
        return await flow.stop(update, context, context.t(
            "grant.group_gone", group=draft.get("group_name", "")), remove_keyboard=True)
    draft.update(group_name=refusal.group, village_code=refusal.village_code,
                 formed_on=refusal.formed_on.isoformat())
    if refusal.reason in (GrantReason.RECEIVED_IN_FUTURE, GrantReason.RECEIVED_BEFORE_FORMED):
        return await flow.ask_again(update, context, "received", Step.RECEIVED, _received_error(
            context, date.fromisoformat(draft["received_on"])))
    if refusal.reason == GrantReason.AMOUNT_MISSING:
        return await flow.ask_again(update, context, "amount", Step.AMOUNT)
    if refusal.reason == GrantReason.GOODS_MISSING:
        return await flow.ask_again(update, context, "goods", Step.GOODS)
    if refusal.reason in (GrantReason.NO_OBLIGATION, GrantReason.ROLL_OVER_GRANT):
        return await flow.ask_again(update, context, "obligation", Step.ROLL_AMOUNT,
                                    context.t("grant.recheck_obligation"))
    return await flow.ask_again(update, context, "due", Step.DUE)  # DUE_OUT_OF_RANGE


async def save(update: Update, context: BotContext) -> int:
    """Saves the grant and schedules its roll-over reminders (if it must be rolled over) and
    its LPJ reminders (once, even if redelivered)."""
    draft = _draft(context)
    required = draft.setdefault("roll_required", _required(draft))
    if not flow.complete(context, REQUIRED + (("due_on",) if required else ())):
        return await flow.stale(update, context)
    if draft["kind"] not in {kind.value for kind in GrantKind}:
        # A draft begun before the kinds changed: its kind is asked again.
        await close_buttons(update.callback_query)
        return await flow.ask_again(update, context, "kind", Step.KIND)
    result = await flow.save_through(update, context, save_grant,
                                     closing=update.callback_query, grant=NewGrant(
        actor=context.mentor, group_id=draft["group_id"], kind=draft["kind"],
        form=draft["form"], amount=draft.get("amount"), goods_description=draft.get("goods"),
        received_on=date.fromisoformat(draft["received_on"]),
        rollover_required=bool(required),
        rollover_amount=draft.get("roll_amount"), rollover_units=draft.get("roll_units"),
        rollover_unit_label=draft.get("roll_label"),
        rollover_households=draft.get("roll_households"),
        rollover_due=iso_date(draft.get("due_on")) if required else None,
        update_id=update.update_id), lpj_months=context.settings.lpj_months)
    if isinstance(result, GrantRefusal):
        return await _refused(update, context, result)
    grant, group = result.record, result.group
    lang = context.lang
    buttons = [(context.t("grant.btn.open"), f"{PREFIX}:view:{grant.id}")]
    lpj = ""
    if grant.lpj_due and grant.lpj_due < clock.today_for(group.village_code):
        # A grant recorded late: its LPJ may well be in already, so ask rather than warn later.
        lpj = context.t("grant.saved_lpj_past", date=format_date(grant.lpj_due, lang))
        buttons.append((context.t("lpj.btn.done"), f"{grant_lpj.PREFIX}:start:{grant.id}"))
    elif grant.lpj_due:
        lpj = context.t("grant.saved_lpj", date=format_date(grant.lpj_due, lang))
    markup = keyboard([buttons])
    if grant.rollover_required:
        lines = obligation_lines(context, amount=grant.rollover_amount,
                                 units=grant.rollover_units, label=grant.rollover_unit_label,
                                 households=grant.rollover_households)
        text = context.t("grant.saved", group=group.name, kind=kind_label(context, grant.kind),
                         obligation="\n".join(lines),
                         due=format_date(grant.rollover_due, lang), lpj=lpj)
    else:
        text = context.t("grant.saved_free", group=group.name,
                         kind=kind_label(context, grant.kind), lpj=lpj)
    await say(update, text, reply_markup=markup)
    return END


def _offered(context: BotContext) -> list[str]:
    """The answers Ubah offers: what goods were given only for a grant of goods, the obligation
    and its deadline only for a grant that must be rolled over."""
    draft = _draft(context)
    skipped = set()
    if draft.get("form") != GrantForm.GOODS:
        skipped.add("goods")
    if not _required(draft):
        skipped.update({"obligation", "due"})
    return [field for field in EDIT_FIELDS if field not in skipped]


def handlers() -> list[BaseHandler]:
    """/hibah, a grant's view and its LPJ, new for each Application."""
    kinds, forms = ("|".join(e.value for e in enum) for enum in (GrantKind, GrantForm))
    form_answers = {f"form:({forms})": got_form, TEXT: typed_not_button}
    return [flow.build({
        # A draft stored at the former funding-source question is asked the form instead.
        LEGACY_SOURCE: form_answers,
        Step.KIND: {f"kind:({kinds})": got_kind, TEXT: typed_not_button},
        Step.FORM: form_answers,
        Step.ROLL_REQUIRED: {"required:(yes|no)": got_required, TEXT: typed_not_button},
        Step.GOODS: {TEXT: got_goods},
        Step.AMOUNT: {"skip:amount": skip, amount_check.ANSWERS: amount_checked,
                      TEXT: typed(got_amount)},
        Step.RECEIVED: {"received:today": received_today, TEXT: got_received},
        Step.ROLL_AMOUNT: {"skip:roll_amount": skip, TEXT: typed(got_roll_amount)},
        Step.ROLL_UNITS: {"skip:roll_units": skip, TEXT: typed(got_roll_units)},
        Step.ROLL_HOUSEHOLDS: {"skip:roll_households": skip,
                               TEXT: typed(got_roll_households)},
        Step.DUE: due_date,
    }, summary=Summary(save=save, fields=EDIT_FIELDS, labels="grant.field", offered=_offered),
        # A grant's view may be opened in the middle of the questions: it leaves them as they are.
        fallbacks=[view_handler()]), view_handler(), *grant_lpj.handlers()]
