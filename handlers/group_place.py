"""A group's place, where it usually meets: the dashboard's map pin and the point its visits'
shared locations are compared with (bot.core.geo). Asked once and optionally, never as a step
of the registration: "📍 Simpan lokasi kelompok" under the group just saved ("gplace:start:<id>"),
"📍 Lokasi kelompok" in its detail ("gplace:show:<id>": the pin, with Ganti lokasi). Its mentor,
or a coordinator or admin of its area, shares the location from the phone or types the point
as a map shows it ("-6.91, 107.61", inside Indonesia); Lewati leaves it as it was.

Diagram: group_place.mmd beside this file. The group is re-checked at the start and at the save
(models.groups.set_place: its role and area rule again, a dissolved group read-only, an audit
row).
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, filters

from bot.core import clock
from bot.core.formatting import format_date
from bot.core.geo import Point, in_indonesia
from bot.core.parsing import is_skip, parse_coordinates
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import (
    END,
    back_to_group,
    keyboard,
    message_text,
    pressed,
    pressed_manageable,
    read_only_text,
    say,
)
from handlers.flow import TEXT, Flow
from models import changes
from models import groups as group_queries
from models.tables import Group

PREFIX = "gplace"
EXAMPLE = "-6.91, 107.61"


class Step(IntEnum):
    PLACE = 1


flow = Flow("group_place", prefix=PREFIX, what="what.group_place")


def save_button(context: BotContext, group_id: int) -> tuple[str, str]:
    """"📍 Simpan lokasi kelompok", under a group just registered."""
    return context.t("gplace.btn.save"), f"{PREFIX}:start:{group_id}"


def show_button(context: BotContext, group_id: int) -> tuple[str, str]:
    """"📍 Lokasi kelompok", in a group's detail."""
    return context.t("gplace.btn.show"), f"{PREFIX}:show:{group_id}"


def point_text(point: Point) -> str:
    """"-6.91, 107.61": five decimals at most (a metre), trailing zeros left off."""
    return ", ".join(f"{value:.5f}".rstrip("0").rstrip(".") for value in point)


def _set_on(group: Group) -> date:
    """The day the place was saved, where the group is."""
    moment = group.location_set_at or clock.now()
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=clock.now().tzinfo)
    return moment.astimezone(clock.local_now(group.village_code).tzinfo).date()


def place_line(context: BotContext, group: Group) -> str | None:
    """"Lokasi kelompok: tersimpan (7 Des 2026)" for the detail, once a place is saved."""
    if group.latitude is None or group.longitude is None:
        return None
    return context.t("gplace.detail_line", date=format_date(_set_on(group), context.lang))


# --- the question -----------------------------------------------------------------------------

@flow.question(Step.PLACE)
async def _ask_place(update: Update, context: BotContext) -> None:
    skip, cancel = context.t("common.skip"), context.t("common.cancel")
    # A location can only be shared from a reply keyboard; its Lewati and Batal send their
    # labels as text, so they are noted as this flow's buttons for a typed press.
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton(context.t("gplace.share"), request_location=True)],
         [KeyboardButton(skip), KeyboardButton(cancel)]],
        resize_keyboard=True, one_time_keyboard=True)
    await say(update, context.t("gplace.ask", group=flow.draft(context).get("group_name", ""),
                                example=EXAMPLE),
              reply_markup=markup, typed=[(skip, f"{PREFIX}:skip"), (cancel, f"{PREFIX}:cancel")])


def _staying(context: BotContext) -> int:
    """The question open now (a press beside it leaves it open), else END."""
    state = flow.current(context)
    return Step(state) if state is not None else END


async def _begin(update: Update, context: BotContext, group: Group) -> int:
    flow.start(context, group_id=group.id, group_name=group.name,
               village_code=group.village_code)
    return await flow.ask(update, context, Step.PLACE)


# --- the start and the pin --------------------------------------------------------------------

async def start(update: Update, context: BotContext) -> int:
    """"gplace:start:<id>" (under a saved group, or Ganti lokasi): the group re-checked (its
    mentor, or a coordinator or admin of its area; not dissolved); asks for its place."""
    if await flow.other_in_progress(update, context):
        return END
    group = await pressed_manageable(update, context)
    if group is None:
        return _staying(context)
    await update.callback_query.answer()
    return await _begin(update, context, group)


async def show(update: Update, context: BotContext) -> int:
    """"gplace:show:<id>" from the detail, for whoever sees the group: its place as a map pin,
    with Ganti lokasi for who may change it; none saved yet: asks it at once (who may change
    it) or says so. A question open stays open."""
    query = update.callback_query
    group = await group_queries.get_visible(session=context.session,
                                            group_id=int(pressed(query)), actor=context.mentor)
    if group is None:
        await query.answer(context.t("grp.not_found"), show_alert=True)
        return _staying(context)
    may_change = not changes.is_read_only(group) and await group_queries.get_manageable(
        session=context.session, group_id=group.id, actor=context.mentor) is not None
    if group.latitude is None or group.longitude is None:
        if may_change:
            if await flow.other_in_progress(update, context):
                return END
            await query.answer()
            return await _begin(update, context, group)
        await query.answer()
        await say(update, context.t("gplace.none", group=group.name),
                  reply_markup=back_to_group(context, group.id))
        return _staying(context)
    await query.answer()
    await update.effective_chat.send_location(latitude=group.latitude,
                                              longitude=group.longitude)
    rows = [[(context.t("gplace.btn.change"), f"{PREFIX}:start:{group.id}")]] if may_change \
        else []
    rows.append([(context.t("grp.btn.back_to_group"), f"kel:det:{group.id}")])
    await say(update, context.t("gplace.shown", group=group.name,
                                point=point_text((group.latitude, group.longitude)),
                                date=format_date(_set_on(group), context.lang)),
              reply_markup=keyboard(rows))
    return _staying(context)


# --- the answers ------------------------------------------------------------------------------

async def _save(update: Update, context: BotContext, point: Point) -> int:
    """Saves ``point`` as the group's place (re-checked by models.groups.set_place) and says
    so; a point outside Indonesia: why, an example and the same question."""
    if not in_indonesia(point):
        return await flow.retry(update, context, Step.PLACE, context.t(
            "gplace.outside", point=point_text(point), example=EXAMPLE))
    group_id = flow.draft(context).get("group_id", 0)
    group = await group_queries.set_place(
        session=context.session, group_id=group_id, actor=context.mentor, point=point,
        end_draft=lambda: flow.end_with_save(update, context))
    if group is None:
        why = await read_only_text(context, group_id) or context.t("grp.not_found")
        return await flow.stop(update, context, why, remove_keyboard=True)
    flow.clear(context)
    await say(update, context.t("gplace.saved", group=group.name),
              reply_markup=ReplyKeyboardRemove())
    return END


async def _leave(update: Update, context: BotContext) -> int:
    """Ends with the place as it was."""
    group = flow.draft(context).get("group_name", "")
    return await flow.stop(update, context, context.t("gplace.skipped", group=group),
                           remove_keyboard=True)


async def got_location(update: Update, context: BotContext) -> int:
    """Saves the location shared from the phone as the group's place."""
    location = update.effective_message.location
    return await _save(update, context, (location.latitude, location.longitude))


async def got_text(update: Update, context: BotContext) -> int:
    """Saves typed coordinates ("-6.91, 107.61"); a skip word ("lewati", "-") leaves the place
    as it was; "batal" (or the keyboard's Batal) cancels through the flow's own Batal; anything
    else: an example and the same question."""
    text = message_text(update)
    if is_skip(text):
        return await _leave(update, context)
    point = parse_coordinates(text)
    if point is None:
        return await flow.retry(update, context, Step.PLACE,
                                context.t("gplace.bad", example=EXAMPLE))
    return await _save(update, context, point)


async def skip(update: Update, context: BotContext) -> int:
    """Lewati named by typing its start ("lew"): the place stays as it was."""
    await update.callback_query.answer()
    return await _leave(update, context)


def handlers() -> list[BaseHandler]:
    """The place question and the pin, new for each Application."""
    return [flow.build({
        Step.PLACE: {filters.LOCATION: got_location, "skip": skip, TEXT: got_text},
    }, entry={rf"start:{ID}": start, rf"show:{ID}": show})]
