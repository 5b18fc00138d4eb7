"""A group's details changed after registration ("prf:start:<id>" from its detail), by its
mentor or a coordinator or admin of its area: which detail, then its new value (the name, the
business type, the binding ties as tick boxes, the village inside the work area, the bank
account as bank, holder and number, the grant's decree as year and number), saved at once.

Diagram: group_profile.mmd beside this file. The group is re-checked at the start and at the
save (a dissolved group is read-only); models.profiles.change_profile writes the fields, an
audit row and a profile history row per field that differs. The account number is never said
back in full: "✓ ****7890".
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot.core.enums import BindingTie, BusinessType
from bot.core.parsing import parse_group_name
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers import group_changes
from handlers.common import (
    END,
    VILLAGE_CODE,
    back_to_group,
    button_choice,
    close_buttons,
    column,
    confirm,
    message_text,
    pressed_manageable,
    pressed_village,
    say,
    typed_search,
    village_example,
)
from handlers.flow import TEXT, Flow
from handlers.tick_boxes import TickBoxes
from models import changes, profiles
from models import groups as group_queries
from models import mentors as mentor_queries
from models.tables import Group

PREFIX = "prf"
FIELDS = ("name", "business", "ties", "village", "bank", "decree")
FIRST_DECREE_YEAR = 2000
MAX_DECREE = 100


class Step(IntEnum):
    FIELD = 1
    NAME = 2
    BUSINESS = 3
    TIES = 4
    VILLAGE = 5
    BANK_NAME = 6
    BANK_HOLDER = 7
    BANK_NUMBER = 8
    DECREE_YEAR = 9
    DECREE_NUMBER = 10


# Which question a detail starts with.
FIRST = {"name": Step.NAME, "business": Step.BUSINESS, "ties": Step.TIES,
         "village": Step.VILLAGE, "bank": Step.BANK_NAME, "decree": Step.DECREE_YEAR}

flow = Flow("group_profile", prefix=PREFIX, what="what.group_profile")


def _draft(context: BotContext) -> dict[str, Any]:
    return flow.draft(context)


def _village_name(context: BotContext, code: str) -> str:
    place = context.places.get(code)
    return place.label if place else code


# --- questions --------------------------------------------------------------------------------

@flow.question(Step.FIELD)
async def _ask_field(update: Update, context: BotContext) -> None:
    buttons = [(context.t(f"prof.field.{field}"), f"{PREFIX}:field:{field}") for field in FIELDS]
    await say(update, context.t("prof.ask_field", group=_draft(context)["group_name"]),
              reply_markup=column(buttons, per_row=2))


@flow.question(Step.NAME)
async def _ask_name(update: Update, context: BotContext) -> None:
    await say(update, context.t("prof.ask_name", old=_draft(context)["group_name"]))


@flow.question(Step.BUSINESS)
async def _ask_business(update: Update, context: BotContext) -> None:
    buttons = [(context.t(f"business.{value}"), f"{PREFIX}:biz:{value}")
               for value in BusinessType]
    await say(update, context.t("prof.ask_business", old=context.t(
        f"business.{_draft(context)['old_business']}")), reply_markup=column(buttons, per_row=2))


ties = TickBoxes(flow, Step.TIES, "grp.ask_ties", among=BindingTie, label="tie", data="tie",
                 field="ties", then=Step.TIES, need="grp.need_tie", alert=True,
                 in_order=False)


@flow.question(Step.VILLAGE)
async def _ask_village(update: Update, context: BotContext) -> None:
    await say(update, context.t("prof.ask_village",
                                old=_village_name(context, _draft(context)["village_code"]),
                                example=village_example(context)))


flow.says(Step.BANK_NAME, "prof.ask_bank_name")
flow.says(Step.BANK_HOLDER, "prof.ask_bank_holder")
flow.says(Step.BANK_NUMBER, "prof.ask_bank_number")


@flow.question(Step.DECREE_YEAR)
async def _ask_decree_year(update: Update, context: BotContext) -> None:
    await say(update, context.t("prof.ask_decree_year", year=flow.today(context).year))


flow.says(Step.DECREE_NUMBER, "prof.ask_decree_number")


# --- the start and the detail -----------------------------------------------------------------

async def _group(context: BotContext, group_id: int) -> Group | None:
    return await group_queries.get_manageable(session=context.session, group_id=group_id,
                                              actor=context.mentor)


async def start(update: Update, context: BotContext) -> int:
    """"prf:start:<id>" from the group's detail: the group re-checked (its mentor, or a
    coordinator or admin of its area; not dissolved); asks which detail to change."""
    query = update.callback_query
    if await flow.other_in_progress(update, context):
        return END
    group = await pressed_manageable(update, context)
    if group is None:
        return END
    await query.answer()
    flow.start(context, group_id=group.id, group_name=group.name,
               village_code=group.village_code, old_business=group.business_type,
               ties=list(group.binding_ties))
    return await flow.ask(update, context, Step.FIELD)


async def got_field(update: Update, context: BotContext) -> int:
    """Notes the detail chosen and asks its (first) question."""
    query = update.callback_query
    field = await button_choice(query, context, FIELDS)
    if field is None:
        return Step.FIELD
    await close_buttons(query, context.t(f"prof.field.{field}"))
    return await flow.ask(update, context, FIRST[field])


# --- the save ---------------------------------------------------------------------------------

async def _save(update: Update, context: BotContext, values: dict[str, Any]) -> int:
    """Saves ``values`` on the group re-checked (models.profiles.change_profile) and says what
    changed (the account number masked), or that nothing did; ends."""
    draft = _draft(context)
    group = await _group(context, draft.get("group_id", 0))
    if group is None:
        return await flow.stop(update, context, context.t("grp.not_found"))
    if changes.is_read_only(group):
        return await flow.stop(update, context, context.t("life.read_only", group=group.name))
    await flow.end_with_save(update, context)
    rows = await profiles.change_profile(
        session=context.session, group=group, actor=context.mentor, values=values,
        on=flow.today(context), today=flow.today(context),
        rules=context.settings.reminder_rules)
    flow.clear(context)
    if not rows:
        await context.session.commit()  # the draft's end, written with nothing else
        await say(update, context.t("prof.unchanged", group=group.name))
        return END
    lines = "\n".join("• " + group_changes.what(context, row, {}) for row in rows)
    await say(update, context.t("prof.saved", group=group.name, changes=lines),
              reply_markup=back_to_group(context, group.id))
    return END


# --- answers ----------------------------------------------------------------------------------

async def got_name(update: Update, context: BotContext) -> int:
    """Saves the new name (3–100 letters, no emoji)."""
    name = parse_group_name(message_text(update))
    if name is None:
        return await flow.retry(update, context, Step.NAME, context.t("grp.bad_name"))
    return await _save(update, context, {"name": name})


async def got_business(update: Update, context: BotContext) -> int:
    """Saves the new business type."""
    query = update.callback_query
    value = await button_choice(query, context, [value.value for value in BusinessType])
    if value is None:
        return Step.BUSINESS
    await close_buttons(query, context.t(f"business.{value}"))
    return await _save(update, context, {"business_type": value})


async def ties_done(update: Update, context: BotContext) -> int:
    """Selesai under the ties: saves them, once one at least is ticked."""
    query = update.callback_query
    chosen = _draft(context).get("ties", [])
    if not chosen:
        await query.answer(context.t("grp.need_tie"), show_alert=True)
        return Step.TIES
    await close_buttons(query, ties.shown(context, chosen))
    return await _save(update, context, {"binding_ties": list(chosen)})


async def ties_typed(update: Update, context: BotContext) -> int:
    """Typed text at the ties: "selesai" saves them; anything else is told to press."""
    if message_text(update).strip().lower() in {"selesai", "done"}:
        chosen = _draft(context).get("ties", [])
        if not chosen:
            return await flow.retry(update, context, Step.TIES, context.t("grp.need_tie"))
        return await _save(update, context, {"binding_ties": list(chosen)})
    return await flow.press_a_button(update, context)


async def search_village(update: Update, context: BotContext) -> int:
    """Offers the villages inside the user's area closest to what was typed."""
    return await flow.offer_villages(update, context, Step.VILLAGE, typed_search(update),
                                     texts="grp")


async def got_village(update: Update, context: BotContext) -> int:
    """Saves the village pressed, re-checked inside the user's area and the area of the
    group's mentor."""
    query = update.callback_query
    place = await pressed_village(query, context)
    if place is None:
        return Step.VILLAGE
    group = await _group(context, _draft(context).get("group_id", 0))
    mentor = await mentor_queries.get(session=context.session, mentor_id=group.mentor_id) \
        if group is not None else None
    if mentor is not None and not profiles.village_fits(place.code, mentor):
        await close_buttons(query)
        return await flow.retry(update, context, Step.VILLAGE, context.t(
            "prof.outside_area", example=village_example(context)))
    await close_buttons(query, place.label)
    return await _save(update, context, {"village_code": place.code})


async def got_bank_name(update: Update, context: BotContext) -> int:
    """Stores the bank's name and asks the holder."""
    name = " ".join(message_text(update).split())
    if not 2 <= len(name) <= 50 or not any(ch.isalpha() for ch in name):
        return await flow.retry(update, context, Step.BANK_NAME, context.t("prof.bad_bank_name"))
    _draft(context)["bank_name"] = name
    return await flow.ask(update, context, Step.BANK_HOLDER)


async def got_bank_holder(update: Update, context: BotContext) -> int:
    """Stores the account holder and asks the number."""
    holder = parse_group_name(message_text(update))
    if holder is None:
        return await flow.retry(update, context, Step.BANK_HOLDER,
                                context.t("prof.bad_bank_holder"))
    _draft(context)["bank_holder"] = holder
    return await flow.ask(update, context, Step.BANK_NUMBER)


async def got_bank_number(update: Update, context: BotContext) -> int:
    """Saves the bank account (the number encrypted; said back masked)."""
    number = profiles.read_account(message_text(update))
    if number is None:
        return await flow.retry(update, context, Step.BANK_NUMBER,
                                context.t("prof.bad_bank_number"))
    draft = _draft(context)
    if not flow.complete(context, ("bank_name", "bank_holder")):
        return await flow.ask(update, context, Step.BANK_NAME)
    await confirm(update, f"✓ {profiles.mask_account(number)}")
    return await _save(update, context, {"bank_name": draft["bank_name"],
                                         "bank_holder": draft["bank_holder"],
                                         "bank_account": number})


async def got_decree_year(update: Update, context: BotContext) -> int:
    """Stores the decree's year and asks its number."""
    text, last = message_text(update).strip(), flow.today(context).year
    year = int(text) if text.isdigit() and len(text) == 4 else None
    if year is None or not FIRST_DECREE_YEAR <= year <= last:
        return await flow.retry(update, context, Step.DECREE_YEAR, context.t(
            "prof.bad_decree_year", first=FIRST_DECREE_YEAR, last=last))
    _draft(context)["decree_year"] = year
    return await flow.ask(update, context, Step.DECREE_NUMBER)


async def got_decree_number(update: Update, context: BotContext) -> int:
    """Saves the decree's year and number."""
    number = " ".join(message_text(update).split())
    if not 3 <= len(number) <= MAX_DECREE or not any(ch.isalnum() for ch in number):
        return await flow.retry(update, context, Step.DECREE_NUMBER,
                                context.t("prof.bad_decree_number"))
    draft = _draft(context)
    if draft.get("decree_year") is None:
        return await flow.ask(update, context, Step.DECREE_YEAR)
    return await _save(update, context, {"decree_year": draft["decree_year"],
                                         "decree_number": number})


def handlers() -> list[BaseHandler]:
    """The profile conversation, new for each Application."""
    return [flow.build({
        Step.FIELD: {f"field:({'|'.join(FIELDS)})": got_field},
        Step.NAME: {TEXT: got_name},
        Step.BUSINESS: {rf"biz:({'|'.join(value.value for value in BusinessType)})":
                        got_business},
        # Selesai saves (before the tick boxes' own Selesai, which would ask a next question).
        Step.TIES: {"tie:done": ties_done, **ties.answers(), TEXT: ties_typed},
        Step.VILLAGE: {TEXT: search_village, f"vil:{VILLAGE_CODE}": got_village},
        Step.BANK_NAME: {TEXT: got_bank_name},
        Step.BANK_HOLDER: {TEXT: got_bank_holder},
        Step.BANK_NUMBER: {TEXT: got_bank_number},
        Step.DECREE_YEAR: {TEXT: got_decree_year},
        Step.DECREE_NUMBER: {TEXT: got_decree_number},
    }, entry={rf"start:{ID}": start})]
