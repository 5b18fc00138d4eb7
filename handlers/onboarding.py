"""/start: a new mentor signs up (name, phone, affiliation, working area) and waits for approval;
a coordinator invite (/start CODE, made by an admin in /koordinator) asks only the name, the
phone and to confirm the invite's area, then makes an active coordinator of that area.

Diagram: onboarding.mmd beside this file.
"""

from __future__ import annotations

import logging
from enum import IntEnum

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, filters

from bot.core.enums import Affiliation, AreaLevel, MentorStatus, Role
from bot.core.parsing import mask_phone, parse_person_name, parse_phone
from bot.core.texts import t
from bot.telegram.context import BotContext
from handlers import approvals
from handlers.button_questions import ask_choice
from handlers.common import (
    AREA_CODE,
    END,
    close_buttons,
    keyboard,
    say,
    typed_search,
    village_hint,
    with_session,
)
from handlers.flow import TEXT, Flow
from handlers.help import menu_text
from models import mentors as mentor_queries
from models.tables import Invite

log = logging.getLogger(__name__)

PREFIX = "onb"
AREA_LEVELS = {int(AreaLevel.REGENCY), int(AreaLevel.DISTRICT)}


class Step(IntEnum):
    NAME = 1
    PHONE = 2
    AFFILIATION = 3
    AREA = 4
    COORD_AREA = 5  # a coordinator invite: is the invite's area theirs?


flow = Flow("onboarding", prefix=PREFIX, what="what.onboarding", roles=None)


@flow.question(Step.NAME)
async def _ask_name(update: Update, context: BotContext) -> None:
    await say(update, context.t("onb.ask_name"), reply_markup=ReplyKeyboardRemove())


@flow.question(Step.PHONE)
async def _ask_phone(update: Update, context: BotContext) -> None:
    button = KeyboardButton(context.t("onb.phone_button"), request_contact=True)
    markup = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    await say(update, context.t("onb.ask_phone"), reply_markup=markup)


# One per row: the unsur are spelt out ("TKSK (Tenaga Kesejahteraan Sosial Kecamatan)").
ask_choice(flow, Step.AFFILIATION, "onb.ask_affiliation", among=Affiliation,
           label="affiliation", data="aff")


@flow.question(Step.AREA)
async def _ask_area(update: Update, context: BotContext) -> None:
    within = flow.draft(context).get("invite_area")
    if within:
        place = context.places.get(within)
        text = context.t("onb.ask_area_within", area=place.label if place else within)
    else:
        text = context.t("onb.ask_area")
    await say(update, text)


def _area_label(context: BotContext, code: str | None) -> str:
    place = context.places.get(code) if code else None
    return place.label if place else context.t("coord.whole_country")


@flow.question(Step.COORD_AREA)
async def _ask_coord_area(update: Update, context: BotContext) -> None:
    area = _area_label(context, flow.draft(context).get("invite_area"))
    await say(update, context.t("onb.ask_coord_area", area=area), reply_markup=keyboard([[
        (context.t("onb.coord_yes"), f"{PREFIX}:coord:yes"),
        (context.t("onb.coord_no"), f"{PREFIX}:coord:no")]]))


async def _coordinator_invite(update: Update, context: BotContext, invite: Invite) -> int:
    """A coordinator invite: refused kindly when expired or used, else the short sign-up."""
    if not mentor_queries.invite_usable(invite):
        await say(update, context.t("onb.coord_invite_invalid"))
        return END
    flow.start(context, coord_invite=invite.code, invite_area=invite.area_code)
    await say(update, context.t("onb.coord_welcome",
                                area=_area_label(context, invite.area_code)))
    return await flow.ask(update, context, Step.NAME)


@with_session
async def start(update: Update, context: BotContext) -> int:
    """Greets the user; a newcomer is asked for their name (an invite code is kept for the end)."""
    user = update.effective_user
    assert user is not None
    settings = context.settings
    mentor = context.mentor
    if user.id in settings.admin_ids:
        mentor = await mentor_queries.ensure_admin(
            session=context.session, telegram_id=user.id, name=user.full_name,
            language=context.lang,
        )
        context.mentor = mentor
        await say(update, context.t("onb.admin_welcome", name=mentor.name,
                                    menu=menu_text(context)), reply_markup=ReplyKeyboardRemove())
        return END
    invite = await mentor_queries.find_invite(
        session=context.session, code=context.args[0][:64]) if context.args else None
    coordinator_invite = invite is not None and invite.role == Role.COORDINATOR
    if mentor is not None and coordinator_invite and mentor.role == Role.MENTOR:
        # Already a mentor here: the admin appoints them by name instead (the link stays).
        await say(update, context.t("onb.coord_invite_registered", name=mentor.name))
        return END
    if mentor is not None:
        key = {
            MentorStatus.ACTIVE: "onb.already_active",
            MentorStatus.PENDING: "onb.already_pending",
        }.get(MentorStatus(mentor.status), "onb.inactive")
        await say(update, context.t(key, name=mentor.name, menu=menu_text(context)))
        return END

    if coordinator_invite:
        return await _coordinator_invite(update, context, invite)
    draft = flow.start(context)
    if context.args:
        if invite is None or not mentor_queries.invite_usable(invite):
            await say(update, context.t("onb.invite_invalid"))
        else:
            draft["invite"] = invite.code
            draft["invite_area"] = invite.area_code
    await say(update, context.t("onb.welcome"))
    return await flow.ask(update, context, Step.NAME)


async def got_name(update: Update, context: BotContext) -> int:
    """Stores the name and asks for the phone number."""
    # The same rule as for the households' names: as on the KTP, no digits or emoji.
    return await flow.take(update, context, Step.NAME, parse=parse_person_name, store="name",
                           error="onb.bad_name", then=Step.PHONE)


async def got_phone(update: Update, context: BotContext) -> int:
    """Stores the phone (shared contact or typed) and asks for the affiliation (a coordinator
    invite: to confirm the area)."""
    message = update.effective_message
    user = update.effective_user
    if message.contact is not None:
        if message.contact.user_id is not None and message.contact.user_id != user.id:
            return await flow.retry(update, context, Step.PHONE, context.t("onb.not_own_contact"))
        phone = parse_phone(message.contact.phone_number)
    else:
        phone = parse_phone(message.text or "")
    if phone is None:
        return await flow.retry(update, context, Step.PHONE, context.t("onb.bad_phone"))
    flow.draft(context)["phone"] = phone
    await say(update, context.t("onb.phone_ok", phone=mask_phone(phone)),
              reply_markup=ReplyKeyboardRemove())
    if flow.draft(context).get("coord_invite"):
        return await flow.ask(update, context, Step.COORD_AREA)
    return await flow.ask(update, context, Step.AFFILIATION)


async def got_affiliation(update: Update, context: BotContext) -> int:
    """Stores the affiliation and asks for the working area."""
    return await flow.choose(update, context, store="affiliation", among=Affiliation,
                             label="affiliation", then=Step.AREA)


async def search_area(update: Update, context: BotContext) -> int:
    """Searches the typed place name and offers the closest official areas as buttons."""
    picked = await flow.typed_pick(update, context, Step.AREA)
    if picked is not None:
        return picked
    text = typed_search(update)
    draft = flow.draft(context)
    # On the event loop: a search holds the GIL, so a thread would not free the loop, and a
    # misspelt name costs well under a millisecond (bench/places.py).
    matches, villages = context.places.search_work_area(
        text, levels=AREA_LEVELS, within=draft.get("invite_area")) if len(text) >= 2 else ([], [])
    if not matches:
        return await flow.retry(update, context, Step.AREA,
                                context.t("onb.area_not_found", query=text or "…"))
    buttons = [(place.label, f"{PREFIX}:area:{place.code}") for place in matches]
    return await flow.offer(update, context, Step.AREA,
                            village_hint(context, villages) + context.t("onb.pick_area"), buttons)


@with_session
async def got_area(update: Update, context: BotContext) -> int:
    """Stores the area, creates the mentor (pending, or active by invite) and tells the admins."""
    query = update.callback_query
    code = query.data.split(":", 2)[-1]
    draft = flow.draft(context)
    place = context.places.get(code)
    # The button is only a hint: the code must be a real area of the right level (and inside
    # the invite's area), or the press is refused.
    within = draft.get("invite_area")
    if place is None or place.level not in AREA_LEVELS or (
        within and not (code == within or code.startswith(within + "."))
    ):
        await query.answer(context.t("common.old_button"), show_alert=True)
        return Step.AREA
    if not {"name", "phone", "affiliation"} <= draft.keys():
        # A draft lost to an old version: start the questions again rather than guess.
        await query.answer()
        return await flow.ask(update, context, Step.NAME)
    await close_buttons(query, place.label)
    user = update.effective_user
    session = context.session
    existing = await mentor_queries.get_by_telegram_id(session=session, telegram_id=user.id)
    if existing is not None:
        # A double tap, or the press handled again after a crash (bot.telegram.inbox) that
        # may have come before she heard the outcome: she hears it (again).
        flow.clear(context)
        key = "onb.active" if existing.status == MentorStatus.ACTIVE else "onb.pending"
        await say(update, context.t(key, name=existing.name))
        return END
    by_invite = bool(draft.get("invite")) and await mentor_queries.use_invite(
        session=session, code=draft["invite"]
    )
    mentor = await mentor_queries.create(
        session=session,
        telegram_id=user.id,
        name=draft["name"],
        phone=draft["phone"],
        affiliation=draft["affiliation"],
        area_code=code,
        language=context.lang,
        role=Role.MENTOR,
        status=MentorStatus.ACTIVE if by_invite else MentorStatus.PENDING,
        approved_by=None,
        username=user.username,
    )
    context.mentor = mentor
    flow.clear(context)
    if by_invite:
        await say(update, context.t("onb.active", name=mentor.name))
    else:
        await say(update, context.t("onb.pending", name=mentor.name))
        await approvals.notify_approvers(context, mentor)
    return END


async def _tell_inviter(context: BotContext, invite: Invite, name: str, area: str) -> None:
    inviter = await mentor_queries.get_by_telegram_id(session=context.session,
                                                      telegram_id=invite.created_by)
    lang = inviter.language if inviter else context.settings.language
    try:
        await context.bot.send_message(invite.created_by,
                                       t(lang, "coord.joined", name=name, area=area))
    except TelegramError as exc:
        log.warning("could not tell the inviter about a new coordinator: %s", exc)


@with_session
async def got_coord_area(update: Update, context: BotContext) -> int:
    """Ya: uses the invite once and makes an active coordinator of its area (the admin's link
    is the approval; the admin is told); Bukan: nothing is saved, the link stays usable."""
    query = update.callback_query
    draft = flow.draft(context)
    if not {"name", "phone", "coord_invite"} <= draft.keys():
        await query.answer()
        return await flow.ask(update, context, Step.NAME)
    session = context.session
    if query.data.endswith(":no"):
        await close_buttons(query, context.t("onb.coord_no"))
        flow.clear(context)
        await say(update, context.t("onb.coord_wrong_area"))
        return END
    await close_buttons(query, context.t("onb.coord_yes"))
    user = update.effective_user
    existing = await mentor_queries.get_by_telegram_id(session=session, telegram_id=user.id)
    if existing is not None:  # a double tap, or the press handled again after a crash
        flow.clear(context)
        if existing.role == Role.COORDINATOR:
            await say(update, context.t("onb.coord_active", name=existing.name,
                                        area=_area_label(context, existing.area_code),
                                        menu=menu_text(context)))
        else:  # signed up some other way meanwhile: the link is not theirs to use
            await say(update, context.t("onb.coord_invite_registered", name=existing.name))
        return END
    code = draft["coord_invite"]
    # The area and the approver come from the stored invite, never from the draft.
    invite = await mentor_queries.find_invite(session=session, code=code)
    if invite is None or invite.role != Role.COORDINATOR or not await mentor_queries.use_invite(
            session=session, code=code, role=Role.COORDINATOR):
        flow.clear(context)
        await say(update, context.t("onb.coord_invite_invalid"))
        return END
    mentor = await mentor_queries.create(
        session=session, telegram_id=user.id, name=draft["name"], phone=draft["phone"],
        affiliation=None, area_code=invite.area_code, language=context.lang,
        role=Role.COORDINATOR, status=MentorStatus.ACTIVE, approved_by=invite.created_by,
        username=user.username)
    context.mentor = mentor
    flow.clear(context)
    area = _area_label(context, mentor.area_code)
    await say(update, context.t("onb.coord_active", name=mentor.name, area=area,
                                menu=menu_text(context)))
    await _tell_inviter(context, invite, mentor.name, area)
    return END


def handlers() -> list[BaseHandler]:
    """/start, new for each Application."""
    return [flow.build({
        Step.NAME: {TEXT: got_name},
        Step.PHONE: {filters.CONTACT: got_phone, TEXT: got_phone},
        Step.AFFILIATION: {r"aff:\w+": got_affiliation},
        Step.AREA: {TEXT: search_area, f"area:{AREA_CODE}": got_area},
        Step.COORD_AREA: {"coord:(yes|no)": got_coord_area},
    }, entry={"/start": start})]
