"""/gulir: a mentor records a roll-over (pengguliran) of part of a grant (bantuan) to a household
or to another group. Only grants that must be rolled over are offered.

Diagram: rollovers.mmd beside this file. What it shows beside its questions (the grants to
pick, the summary) is in rollovers_views.py.

The draft lives in user_data (JSON values only, dates as ISO strings). What the questions need
about the grant (group, date received, whether it has a units target and its label) is copied
into the draft when the grant is chosen; models.saving.rollover checks the grant against the
database again, and computes what is left of the obligation again, at save, with the rules the
questions apply.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot.core import clock
from bot.core.enums import RecipientKind
from bot.core.formatting import format_date
from bot.core.parsing import is_skip, parse_amount, parse_group_name, parse_person_name
from bot.telegram.context import BotContext
from handlers.button_questions import ask_choice, ask_pick, ask_summary
from handlers.common import (
    END,
    VILLAGE_CODE,
    close_buttons,
    confirm,
    keyboard,
    message_text,
    pressed_village,
    read_only_text,
    say,
    say_first,
    village_example,
)
from handlers.day_answers import day_error, today_pressed, typed_day
from handlers.flow import TEXT, Flow, Pick, Summary
from handlers.grant_texts import (
    bad_date,
    date_example,
    kind_label,
    parse_units,
    progress_line,
    rollover_what,
    rupiah,
    units_text,
)
from handlers.rollovers_views import (
    PREFIX,
    grant_button_label,
    grant_buttons,
    left_text,
    summary_text,
)
from handlers.typed_answers import read_or_skip, typed
from models import grants as grant_queries
from models.changes import is_read_only
from models.saving.rollover import (
    NewRollover,
    RolloverReason,
    RolloverRefusal,
    check_rolled_on,
    exceeded,
    save_rollover,
)
from models.tables import Grant, Group

MAX_NAME = 100
MAX_NOTE = 500
REQUIRED = ("grant_id", "rolled_on", "kind", "name")


class Step(IntEnum):
    GRANT = 1
    DATE = 2
    KIND = 3
    NAME = 4
    VILLAGE = 5  # typed, searched inside the mentor's area; skippable
    AMOUNT = 6  # required unless the grant has a units target
    UNITS = 7  # only for a grant with a units target
    NOTE = 8
    EXCEED = 9  # more than is left of the obligation: "Tetap simpan?"
    CONFIRM = 10  # summary; "Ubah" swaps its buttons for the fields, in place


flow = Flow("rollover", prefix=PREFIX, what="roll.what", summary=Step.CONFIRM)


# --- small helpers ----------------------------------------------------------------------------

def _draft(context: BotContext) -> dict[str, Any]:
    return flow.draft(context)


@flow.summary_route
async def _to_summary(update: Update, context: BotContext) -> int:
    """The summary, after the confirmation when the amounts exceed what is left."""
    draft = _draft(context)
    found = await grant_queries.get_own(session=context.session, grant_id=draft["grant_id"],
                                        mentor=context.mentor)
    if found is not None:
        grant, group = found
        state = await grant_queries.progress(session=context.session, grant=grant,
                                             today=clock.today_for(group.village_code))
        draft["left"] = left_text(context, exceeded(state, amount=draft.get("amount"),
                                                     units=draft.get("units")))
        if draft["left"] and not draft.get("exceed_ok"):
            return await flow.ask(update, context, Step.EXCEED)
    return await flow.ask(update, context, Step.CONFIRM)


# --- questions --------------------------------------------------------------------------------

ask_pick(flow, Step.GRANT, "roll.ask_grant")


@flow.question(Step.DATE)
async def _ask_date(update: Update, context: BotContext) -> None:
    markup = keyboard([[(context.t("grant.today_button"), f"{PREFIX}:date:today")]])
    example = date_example(context, flow.today(context))
    await say(update, context.t("roll.ask_date", example=example), reply_markup=markup)


ask_choice(flow, Step.KIND, "roll.ask_kind", among=RecipientKind, label="recipient",
           data="kind", per_row=2)


@flow.question(Step.NAME)
async def _ask_name(update: Update, context: BotContext) -> None:
    kind = _draft(context).get("kind")
    key = "roll.ask_name_group" if kind == RecipientKind.GROUP else "roll.ask_name_household"
    await say(update, context.t(key))


@flow.question(Step.VILLAGE)
async def _ask_village(update: Update, context: BotContext) -> None:
    await say(update, context.t("roll.ask_village", example=village_example(context)),
              reply_markup=flow.skip_keyboard(context, "village"))


@flow.question(Step.AMOUNT)
async def _ask_amount(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    if draft.get("has_units"):
        await say(update, context.t("roll.ask_amount_optional",
                                    label=draft.get("unit_label") or ""),
                  reply_markup=flow.skip_keyboard(context, "amount"))
        return
    await say(update, context.t("roll.ask_amount"))


@flow.question(Step.UNITS)
async def _ask_units(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    label = draft.get("unit_label") or ""
    markup = flow.skip_keyboard(context, "units") if draft.get("amount") else None
    await say(update, context.t("roll.ask_units", label=label), reply_markup=markup)


@flow.question(Step.NOTE)
async def _ask_note(update: Update, context: BotContext) -> None:
    await say(update, context.t("roll.ask_note"), reply_markup=flow.skip_keyboard(context, "note"))


@flow.question(Step.EXCEED)
async def _ask_exceed(update: Update, context: BotContext) -> None:
    markup = keyboard([[(context.t("common.yes"), f"{PREFIX}:exceed:yes"),
                        (context.t("roll.change_amount"), f"{PREFIX}:exceed:edit")]])
    await say(update, context.t("roll.ask_exceed", left=_draft(context).get("left") or "-"),
              reply_markup=markup)


EDIT_FIELDS = {
    "date": Step.DATE,
    "kind": Step.KIND,
    "name": Step.NAME,
    "village": Step.VILLAGE,
    "amount": Step.AMOUNT,
    "note": Step.NOTE,
}


ask_summary(flow, Step.CONFIRM, summary_text)


# --- starting: /gulir and the "gul:start:<grant id>" button -----------------------------------

async def _begin(update: Update, context: BotContext, found: tuple[Grant, Group]) -> int:
    """Copies what the questions need about the grant into the draft and asks the date. A
    grant that need not be rolled over (an old button, data typed by hand) is said to be so,
    and a dissolved group's records are read-only: both end there."""
    grant, group = found
    if not grant.rollover_required or grant.rollover_due is None:
        return await flow.stop(update, context, context.t(
            "roll.not_required", kind=kind_label(context, grant.kind), group=group.name))
    if is_read_only(group):
        return await flow.stop(update, context, context.t("grant.read_only", group=group.name))
    state = await grant_queries.progress(session=context.session, grant=grant,
                                         today=clock.today_for(group.village_code))
    label = grant_button_label(context, grant, group, state)
    _draft(context).update(
        grant_id=grant.id, grant_label=label, group_name=group.name,
        village_code=group.village_code, received_on=grant.received_on.isoformat(),
        has_units=bool(grant.rollover_units), unit_label=grant.rollover_unit_label,
    )
    await say_first(update, context.t("roll.start", grant=label, progress=progress_line(context, state),
                                due=format_date(grant.rollover_due, context.lang)))
    return await flow.ask(update, context, Step.DATE)


async def _own_grant(context: BotContext, grant_id: int) -> tuple[Grant, Group] | None:
    """The grant of one of the mentor's groups, if the group is not dissolved (read-only)."""
    return await grant_queries.get_writable(session=context.session, grant_id=grant_id,
                                            mentor=context.mentor)


async def _read_only(context: BotContext, grant_id: int) -> str | None:
    """The kind words for a grant of a dissolved group the user sees, else None."""
    found = await grant_queries.get_visible(session=context.session, grant_id=grant_id,
                                            actor=context.mentor)
    return None if found is None else await read_only_text(context, found[1].id)


flow.pick = Pick(command="gulir", button="grant",
                 step=Step.GRANT, chosen="grant_id", choices=grant_buttons, find=_own_grant,
                 label=lambda found: found[1].name, begin=_begin,
                 resume=lambda context, draft: context.t("roll.resume",
                                                         grant=draft.get("grant_label", "")),
                 none="roll.no_grants", not_found="roll.grant_not_found", explain=_read_only)


# --- answers ----------------------------------------------------------------------------------

_BUTTON_EXAMPLES = {Step.GRANT: "roll.example_grant", Step.KIND: "roll.example_kind",
                    Step.EXCEED: "roll.example_exceed"}


async def typed_not_button(update: Update, context: BotContext) -> int:
    """Typed text where a button was expected: explains with an example and asks again."""
    return await flow.use_buttons(update, context, _BUTTON_EXAMPLES,
                                  default="roll.example_kind", text="grant.use_buttons")


def _date_error(context: BotContext, rolled: date) -> str | None:
    today, received = flow.today(context), date.fromisoformat(_draft(context)["received_on"])
    wrong = check_rolled_on(rolled, received_on=received, today=today)
    return None if wrong is None else day_error(
        context, late=wrong == RolloverReason.ROLLED_IN_FUTURE, today=today,
        example=date_example(context, today), texts="roll", before="roll.before_received",
        received=format_date(received, context.lang))


async def _store_date(update: Update, context: BotContext, rolled: date) -> int:
    _draft(context)["rolled_on"] = rolled.isoformat()
    return await flow.next(update, context, Step.KIND)


async def got_date(update: Update, context: BotContext) -> int:
    """Stores the date (not in the future, not before the grant was received) and asks who
    received the roll-over."""
    return await typed_day(update, context, flow, Step.DATE, words=_date_error,
                           store=_store_date, unreadable=bad_date)


async def date_today(update: Update, context: BotContext) -> int:
    """Hari ini: stores today as the date and asks who received the roll-over."""
    return await today_pressed(update, context, flow, Step.DATE, words=_date_error,
                               store=_store_date)


async def got_kind(update: Update, context: BotContext) -> int:
    """Stores the kind of recipient (a household or another group) and asks for the name."""
    return await flow.choose(update, context, store="kind", among=RecipientKind,
                             label="recipient", then=Step.NAME)


async def got_name(update: Update, context: BotContext) -> int:
    """Stores the recipient's name and asks for their village."""
    # A household is named as its members are (as on the KTP), a group as groups are.
    if _draft(context).get("kind") == RecipientKind.GROUP:
        name = parse_group_name(message_text(update))
        error = context.t("roll.bad_group_name")
    else:
        name = parse_person_name(message_text(update))
        error = context.t("roll.bad_name", max=MAX_NAME)
    if name is None or len(name) > MAX_NAME:
        return await flow.retry(update, context, Step.NAME, error)
    _draft(context)["name"] = name
    return await flow.next(update, context, Step.VILLAGE)


async def search_village(update: Update, context: BotContext) -> int:
    """Searches villages inside the mentor's area and offers the closest as buttons."""
    text = " ".join(message_text(update).split())[:60]
    if is_skip(text):
        return await _store_village(update, context, None)
    return await flow.offer_villages(update, context, Step.VILLAGE, text, texts="roll",
                                     more=[(context.t("common.skip"), f"{PREFIX}:skip:village")])


async def _store_village(update: Update, context: BotContext, place) -> int:
    draft = _draft(context)
    draft["village"] = place.code if place else None
    draft["village_label"] = place.label if place else None
    return await flow.next(update, context, Step.AMOUNT)


async def got_village(update: Update, context: BotContext) -> int:
    """Stores the village (re-checked inside the mentor's area) and asks for the amount."""
    query = update.callback_query
    place = await pressed_village(query, context)
    if place is None:
        return Step.VILLAGE
    await close_buttons(query, place.label)
    return await _store_village(update, context, place)


# No roll-over of money is smaller than this; a smaller "amount" is a count typed too early.
MIN_PLAUSIBLE_AMOUNT = 1_000


async def got_amount(update: Update, context: BotContext, text: str) -> int:
    """Stores the Rupiah rolled over and asks for the units (or the note)."""
    has_units = bool(_draft(context).get("has_units"))
    return await read_or_skip(
        update, context, flow, Step.AMOUNT, text, read=lambda typed: parse_amount(typed) or None,
        bad=context.t("roll.bad_amount"),
        need=None if has_units else context.t("roll.need_amount"), store=_store_amount)


async def _store_amount(update: Update, context: BotContext, value: int | None) -> int:
    draft = _draft(context)
    has_units = bool(draft.get("has_units"))
    if value is not None and value < MIN_PLAUSIBLE_AMOUNT:
        # "2" typed here usually means two goats, not Rp 2.
        return await flow.retry(update, context, Step.AMOUNT, context.t(
            "roll.tiny_amount", amount=rupiah(context, value),
            label=draft.get("unit_label") or context.t("roll.goods")) if has_units
            else context.t("roll.bad_amount"))
    if value is not None:
        await confirm(update, f"✓ {rupiah(context, value)}")
    draft["amount"] = value
    draft["exceed_ok"] = False
    if has_units:
        return await flow.ask(update, context, Step.UNITS)
    draft["units"] = None
    return await flow.next(update, context, Step.NOTE)


async def got_units(update: Update, context: BotContext, text: str) -> int:
    """Stores the units rolled over and asks for a note."""
    draft = _draft(context)
    label = draft.get("unit_label")
    if is_skip(text):
        if not draft.get("amount"):
            return await flow.retry(update, context, Step.UNITS,
                                    context.t("roll.need_amount_or_units", label=label or ""))
        value = None
    else:
        parsed = parse_units(text)
        if parsed is None:
            return await flow.retry(update, context, Step.UNITS,
                                    context.t("roll.bad_units", label=label or ""))
        value = parsed[0]
        await confirm(update, f"✓ {units_text(value, label)}")
    draft["units"] = value
    draft["exceed_ok"] = False
    return await flow.next(update, context, Step.NOTE)


async def got_note(update: Update, context: BotContext, text: str) -> int:
    """Stores the note (or none) and sums up, after a confirmation if it exceeds what is left."""
    if is_skip(text):
        value = None
    else:
        lines = [" ".join(line.split()) for line in text.strip().splitlines()]
        value = "\n".join(line for line in lines if line)
        if not value or len(value) > MAX_NOTE or not any(ch.isalnum() for ch in value):
            return await flow.retry(update, context, Step.NOTE,
                                    context.t("roll.bad_note", max=MAX_NOTE))
    _draft(context)["note"] = value
    return await flow.sum_up(update, context)





_SKIPPERS = {
    "village": lambda update, context, _: _store_village(update, context, None),
    "amount": got_amount,
    "units": got_units,
    "note": got_note,
}


async def skip(update: Update, context: BotContext) -> int:
    """Lewati on an optional question: stores nothing for it and asks the next question."""
    return await flow.skip(update, context, _SKIPPERS)


async def exceed_yes(update: Update, context: BotContext) -> int:
    """Ya on "Melebihi sisa kewajiban": keeps the amounts and sums up."""
    await close_buttons(update.callback_query, context.t("common.yes"))
    _draft(context)["exceed_ok"] = True
    return await flow.ask(update, context, Step.CONFIRM)


async def exceed_edit(update: Update, context: BotContext) -> int:
    """Ubah jumlah: asks the amount (and units) again, then sums up."""
    await close_buttons(update.callback_query, context.t("roll.change_amount"))
    return await flow.ask_again(update, context, "amount", Step.AMOUNT)


async def _refused(update: Update, context: BotContext, refusal: RolloverRefusal) -> int:
    """Asks again what the grant as stored now no longer lets stand."""
    draft = _draft(context)
    if refusal.reason == RolloverReason.GRANT_GONE:
        return await flow.stop(update, context, context.t(
            "roll.grant_gone", grant=draft.get("grant_label", "")), remove_keyboard=True)
    if refusal.reason == RolloverReason.NOTHING_ROLLED:
        return await flow.stale(update, context)
    draft["village_code"] = refusal.village_code
    if refusal.reason == RolloverReason.OVER_WHAT_IS_LEFT:
        # Another roll-over was saved meanwhile: what is left changed.
        draft["left"] = left_text(context, refusal.exceeded)
        return await flow.ask(update, context, Step.EXCEED)
    return await flow.ask_again(update, context, "date", Step.DATE,
                                _date_error(context, date.fromisoformat(draft["rolled_on"])))


async def save(update: Update, context: BotContext) -> int:
    """Saves the roll-over and shows the grant's new progress (once, even if redelivered)."""
    draft = _draft(context)
    # Nothing rolled over is an old summary's button, answered before the buttons close.
    if not flow.complete(context, REQUIRED) or not (draft.get("amount") or draft.get("units")):
        return await flow.stale(update, context)
    result = await flow.save_through(update, context, save_rollover,
                                     closing=update.callback_query, rollover=NewRollover(
        actor=context.mentor, grant_id=draft["grant_id"],
        rolled_on=date.fromisoformat(draft["rolled_on"]), recipient_kind=draft["kind"],
        recipient_name=draft["name"], recipient_village_code=draft.get("village"),
        amount=draft.get("amount"), units=draft.get("units"), note=draft.get("note"),
        exceed_confirmed=bool(draft.get("exceed_ok")), update_id=update.update_id))
    if isinstance(result, RolloverRefusal):
        return await _refused(update, context, result)
    rollover, grant = result.record, result.grant
    markup = keyboard([[(context.t("grant.btn.open"), f"hib:view:{grant.id}")]])
    await say(update, context.t(
        "roll.saved", name=rollover.recipient_name,
        what=rollover_what(context, rollover.amount, rollover.units, grant.rollover_unit_label),
        group=result.group.name, progress=progress_line(context, result.progress)),
        reply_markup=markup)
    return END


def handlers() -> list[BaseHandler]:
    """/gulir, new for each Application."""
    kinds = "|".join(k.value for k in RecipientKind)
    return [flow.build({
        Step.DATE: {"date:today": date_today, TEXT: got_date},
        Step.KIND: {f"kind:({kinds})": got_kind, TEXT: typed_not_button},
        Step.NAME: {TEXT: got_name},
        Step.VILLAGE: {f"vil:{VILLAGE_CODE}": got_village, "skip:village": skip,
                       TEXT: search_village},
        Step.AMOUNT: {"skip:amount": skip, TEXT: typed(got_amount)},
        Step.UNITS: {"skip:units": skip, TEXT: typed(got_units)},
        Step.NOTE: {"skip:note": skip, TEXT: typed(got_note)},
        Step.EXCEED: {"exceed:yes": exceed_yes, "exceed:edit": exceed_edit,
                      TEXT: typed_not_button},
    }, summary=Summary(save=save, fields=EDIT_FIELDS, labels="roll.field"))]
