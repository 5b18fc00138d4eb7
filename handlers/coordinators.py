"""Coordinators and admins: appoint coordinators (/koordinator: a registered person found by
name, @username or phone, or a one-time coordinator invite link for an area), approve mentors of the area
(/persetujuan), look after them (/pendamping: deactivate, handing their groups on), move groups
between mentors (/alihkan), and read the trail (/audit). Every button's ids are re-checked
against the actor's area on the server. Diagram: coordinators.mmd beside this file.
"""

from __future__ import annotations

from enum import IntEnum

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.core.enums import AreaLevel, AuditAction, MentorStatus, Role
from bot.core.parsing import mask_numbers, mask_phone
from bot.core.patterns import ID
from bot.core.texts import t
from bot.telegram.context import BotContext
from handlers import approvals, audit_view
from handlers.common import (
    AREA_CODE,
    END,
    STAFF_ROLES,
    close_buttons,
    column,
    guard,
    keyboard,
    say,
    typed_search,
    village_hint,
)
from handlers.flow import TEXT, Flow
from models import groups as group_queries
from models import mentors as mentor_queries
from models.tables import Mentor

PREFIX = "koo"
MENTORS = "pds"
AREA_LEVELS = {int(AreaLevel.PROVINCE), int(AreaLevel.REGENCY), int(AreaLevel.DISTRICT)}


class Step(IntEnum):
    WHO = 1
    AREA = 2
    CONFIRM = 3


flow = Flow("coordinator", prefix=PREFIX, what="what.coordinator", roles=frozenset({Role.ADMIN}))


def _area_label(context: BotContext, code: str | None) -> str:
    place = context.places.get(code) if code else None
    return place.label if place else context.t("coord.whole_country")


async def _tell(context: BotContext, person: Mentor, key: str, **values: object) -> None:
    try:
        await context.bot.send_message(person.telegram_id, t(person.language, key, **values))
    except TelegramError:
        pass  # they may have blocked the bot; the action itself stands


# --- /koordinator: an admin appoints a coordinator for an area ---------------------------------

# A coordinator's invite: one person, within a week (the link is the admin's approval).
INVITE_DAYS = 7


@flow.question(Step.WHO)
async def _ask_who(update: Update, context: BotContext) -> None:
    await say(update, context.t("coord.ask_who"), reply_markup=keyboard(
        [[(context.t("coord.invite_button"), f"{PREFIX}:invite")]]))


@flow.question(Step.AREA)
async def _ask_area(update: Update, context: BotContext) -> None:
    draft = flow.draft(context)
    if draft.get("invite"):
        await say(update, context.t("coord.ask_invite_area"))
    else:
        await say(update, context.t("coord.ask_area", name=draft["name"]))


@flow.question(Step.CONFIRM)
async def _ask_confirm(update: Update, context: BotContext) -> None:
    draft = flow.draft(context)
    area = _area_label(context, draft["area"])
    text = (context.t("coord.confirm_invite", area=area, days=INVITE_DAYS)
            if draft.get("invite") else context.t("coord.confirm", name=draft["name"], area=area))
    await say(update, text,
              reply_markup=keyboard([[(context.t("common.save"), f"{PREFIX}:save"),
                                      (context.t("common.cancel"), f"{PREFIX}:cancel")]]))


async def _appointable(update: Update, context: BotContext, mentor_id: int) -> Mentor | None:
    """The person if the admin may make them a coordinator (not an admin: that would take
    their admin role away), else an alert and None."""
    person = await mentor_queries.get(session=context.session, mentor_id=mentor_id)
    if person is None:
        await update.callback_query.answer(context.t("common.old_button"), show_alert=True)
        return None
    if person.role == Role.ADMIN or not mentor_queries.may_manage(context.mentor, person):
        await update.callback_query.answer(context.t("coord.not_appointable", name=person.name),
                                           show_alert=True)
        return None
    return person


def _person_label(context: BotContext, person: Mentor) -> str:
    """A person's button: name, masked phone and area, enough to tell two Budis apart."""
    parts = [person.name]
    if person.phone:
        parts.append(mask_phone(person.phone))
    if person.area_code:  # the two nearest levels: a button is narrow on a phone
        parts.append(", ".join(_area_label(context, person.area_code).split(", ")[:2]))
    return " · ".join(parts)


async def appoint(update: Update, context: BotContext) -> int:
    """/koordinator: starts a draft and asks who is appointed."""
    return await flow.begin(update, context, Step.WHO)


async def find_person(update: Update, context: BotContext) -> int:
    """Finds registered users by name (a piece of it, or misspelt), @username, phone number
    or Telegram id and offers them as buttons (phones masked); none: what to try instead."""
    text = (update.effective_message.text or "").strip()[:60]
    found = await mentor_queries.find(session=context.session, text=text) if text else []
    if not found:
        return await flow.retry(update, context, Step.WHO,
                                context.t("coord.nobody", query=mask_numbers(text) or "…"))
    buttons = [(_person_label(context, m), f"{PREFIX}:who:{m.id}") for m in found]
    buttons.append((context.t("coord.invite_button"), f"{PREFIX}:invite"))
    await say(update, context.t("coord.pick_who", count=len(found)),
              reply_markup=column(buttons))
    return Step.WHO


async def got_person(update: Update, context: BotContext) -> int:
    """Stores the person (re-checked: exists, not an admin) and asks for the area."""
    query = update.callback_query
    person = await _appointable(update, context, int(query.data.split(":")[2]))
    if person is None:
        return Step.WHO
    await close_buttons(query, person.name)
    draft = flow.draft(context)
    draft.pop("invite", None)
    draft.update(person_id=person.id, name=person.name)
    return await flow.ask(update, context, Step.AREA)


async def got_invite(update: Update, context: BotContext) -> int:
    """Someone not using the bot yet: asks the area of the coordinator invite link."""
    await close_buttons(update.callback_query, context.t("coord.invite_button"))
    draft = flow.draft(context)
    draft.pop("person_id", None)
    draft.update(invite=True, name="")
    return await flow.ask(update, context, Step.AREA)


async def search_area(update: Update, context: BotContext) -> int:
    """Searches provinces, regencies and districts and offers the closest as buttons."""
    picked = await flow.typed_pick(update, context, Step.AREA)
    if picked is not None:
        return picked
    text = typed_search(update)
    matches, villages = context.places.search_work_area(
        text, levels=AREA_LEVELS) if len(text) >= 2 else ([], [])
    if not matches:
        return await flow.retry(update, context, Step.AREA,
                                context.t("onb.area_not_found", query=text or "…"))
    draft = flow.draft(context)
    pick = (context.t("coord.pick_invite_area") if draft.get("invite")
            else context.t("coord.pick_area", name=draft.get("name", "")))
    return await flow.offer(update, context, Step.AREA, village_hint(context, villages) + pick,
                            [(place.label, f"{PREFIX}:area:{place.code}") for place in matches])


async def got_area(update: Update, context: BotContext) -> int:
    """Stores the area (a real province, regency or district) and asks to confirm."""
    query = update.callback_query
    code = query.data.split(":", 2)[2]
    place = context.places.get(code)
    if place is None or place.level not in AREA_LEVELS:
        await query.answer(context.t("common.old_button"), show_alert=True)
        return Step.AREA
    await close_buttons(query, place.label)
    flow.draft(context)["area"] = code
    return await flow.ask(update, context, Step.CONFIRM)


async def _save_invite(update: Update, context: BotContext) -> int:
    """Creates the one-time coordinator invite for the area (audited) and shows its link."""
    draft = flow.draft(context)
    await close_buttons(update.callback_query)
    created = await mentor_queries.create_invite(
        session=context.session, created_by=context.mentor.telegram_id, area_code=draft["area"],
        days=INVITE_DAYS, max_uses=1, role=Role.COORDINATOR)
    flow.clear(context)
    link = f"https://t.me/{context.bot.username}?start={created.code}"
    await say(update, context.t("coord.invite_created", area=_area_label(context, draft["area"]),
                                days=INVITE_DAYS, link=link))
    return END


async def save(update: Update, context: BotContext) -> int:
    """Makes the person a coordinator of the area (audited) and tells them; or creates the
    coordinator invite link for the area."""
    query = update.callback_query
    draft = flow.draft(context)
    if "area" not in draft:
        await query.answer(context.t("common.old_button"), show_alert=True)
        return END
    if draft.get("invite"):
        return await _save_invite(update, context)
    person = await _appointable(update, context, draft.get("person_id", 0))
    if person is None:
        return END
    await close_buttons(query)
    person = await mentor_queries.promote(
        session=context.session, telegram_id=person.telegram_id, role=Role.COORDINATOR,
        area_code=draft["area"], actor_telegram_id=context.mentor.telegram_id)
    flow.clear(context)
    area = _area_label(context, person.area_code)
    await say(update, context.t("coord.saved", name=person.name, area=area))
    await _tell(context, person, "coord.you_are", name=person.name, area=area)
    return END


# --- /persetujuan: pending mentors of my area --------------------------------------------------

def _scope(actor: Mentor) -> str | None:
    """The area an actor acts on: a coordinator's own, the whole country for an admin."""
    return None if actor.role == Role.ADMIN else actor.area_code


@guard(STAFF_ROLES)
async def pending(update: Update, context: BotContext) -> None:
    """Lists mentors of my area waiting for approval, each with Setujui / Tolak."""
    waiting = await mentor_queries.in_area(session=context.session,
                                           area_code=_scope(context.mentor),
                                           statuses=(MentorStatus.PENDING,))
    if not waiting:
        await say(update, context.t("coord.no_pending"))
        return
    await say(update, context.t("coord.pending_count", count=len(waiting)))
    for mentor in waiting[:20]:
        await say(update, approvals.summary(context, mentor), reply_markup=keyboard([[
            (context.t("appr.approve"), f"appr:ok:{mentor.id}"),
            (context.t("appr.reject"), f"appr:no:{mentor.id}")]]))


# --- /pendamping and /alihkan: mentors of my area ----------------------------------------------

async def _managed(update: Update, context: BotContext, mentor_id: int) -> Mentor | None:
    """The mentor if the actor may manage them (their area), else an alert and None."""
    mentor = await mentor_queries.get(session=context.session, mentor_id=mentor_id)
    if mentor is None or mentor.role != Role.MENTOR or not mentor_queries.may_manage(
            context.mentor, mentor):
        await update.callback_query.answer(context.t("coord.not_yours"), show_alert=True)
        return None
    return mentor


async def _mentor_list(update: Update, context: BotContext, action: str, title: str) -> None:
    mentors = await mentor_queries.in_area(session=context.session,
                                           area_code=_scope(context.mentor))
    if not mentors:
        await say(update, context.t("coord.no_mentors"))
        return
    counts = await mentor_queries.group_counts(session=context.session,
                                               mentor_ids=[m.id for m in mentors])
    lines = [context.t("coord.mentor_line", name=m.name, groups=counts.get(m.id, 0),
                       area=_area_label(context, m.area_code)) for m in mentors[:40]]
    buttons = [(f"{m.name} ({counts.get(m.id, 0)})", f"{MENTORS}:{action}:{m.id}")
               for m in mentors[:40]]
    await say(update, context.t(title) + "\n\n" + "\n".join(lines),
              reply_markup=column(buttons, per_row=2))


@guard(STAFF_ROLES)
async def mentors(update: Update, context: BotContext) -> None:
    """/pendamping: active mentors of my area with their group counts; press to deactivate."""
    await _mentor_list(update, context, "off", "coord.mentors_title")


@guard(STAFF_ROLES)
async def reassign(update: Update, context: BotContext) -> None:
    """/alihkan: choose whose groups move to another mentor."""
    await _mentor_list(update, context, "from", "coord.reassign_title")


async def _offer_targets(update: Update, context: BotContext, source: Mentor, action: str,
                         key: str, count: int) -> None:
    targets = [m for m in await mentor_queries.in_area(session=context.session,
                                                       area_code=_scope(context.mentor))
               if m.id != source.id and mentor_queries.may_manage(context.mentor, m)]
    if not targets:
        await say(update, context.t("coord.no_target"))
        return
    buttons = [(m.name, f"{MENTORS}:{action}:{source.id}:{m.id}") for m in targets[:40]]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(context.t("common.cancel"), f"{MENTORS}:keep")])
    await say(update, context.t(key, name=source.name, count=count), reply_markup=keyboard(rows))


async def _pressed_source(update: Update, context: BotContext) -> tuple[Mentor, int] | None:
    """The mentor a "<prefix>:<action>:<id>" button names, re-checked (one the actor manages)
    and noted under the question, with how many groups they have; None when not."""
    source = await _managed(update, context, int(update.callback_query.data.split(":")[2]))
    if source is None:
        return None
    await close_buttons(update.callback_query, source.name)
    counts = await mentor_queries.group_counts(session=context.session, mentor_ids=[source.id])
    return source, counts.get(source.id, 0)


@guard(STAFF_ROLES)
async def ask_deactivate(update: Update, context: BotContext) -> None:
    """Deactivating a mentor with groups first asks who takes them over."""
    picked = await _pressed_source(update, context)
    if picked is None:
        return
    source, count = picked
    if count:
        await _offer_targets(update, context, source, "offto", "coord.deactivate_handover",
                             count)
        return
    await say(update, context.t("coord.deactivate_confirm", name=source.name),
              reply_markup=keyboard([[(context.t("common.yes"), f"{MENTORS}:offok:{source.id}"),
                                      (context.t("common.no"), f"{MENTORS}:keep")]]))


@guard(STAFF_ROLES)
async def pick_source(update: Update, context: BotContext) -> None:
    """/alihkan: the mentor whose groups move; asks who takes them over."""
    picked = await _pressed_source(update, context)
    if picked is None:
        return
    source, count = picked
    await _offer_targets(update, context, source, "mv", "coord.reassign_to", count)


async def _move(update: Update, context: BotContext, deactivate: bool) -> None:
    _, _, source_id, target_id = update.callback_query.data.split(":")
    source = await _managed(update, context, int(source_id))
    target = await _managed(update, context, int(target_id)) if source else None
    if source is None or target is None:
        return
    if target.id == source.id or target.status != MentorStatus.ACTIVE:
        await update.callback_query.answer(context.t("coord.not_yours"), show_alert=True)
        return
    await close_buttons(update.callback_query, target.name)
    actor = context.mentor.telegram_id
    moved = await mentor_queries.reassign_groups(session=context.session, source=source,
                                                 target=target, actor_telegram_id=actor)
    await say(update, context.t("coord.moved", count=moved, source=source.name,
                                target=target.name))
    if moved:
        await _tell(context, target, "coord.you_got", name=target.name, count=moved,
                    source=source.name)
    if deactivate:
        await mentor_queries.set_status(session=context.session, mentor=source,
                                        status=MentorStatus.INACTIVE, actor_telegram_id=actor)
        await say(update, context.t("coord.deactivated", name=source.name))


@guard(STAFF_ROLES)
async def move(update: Update, context: BotContext) -> None:
    """Hands every group of one mentor to another of the area."""
    await _move(update, context, deactivate=False)


@guard(STAFF_ROLES)
async def move_and_deactivate(update: Update, context: BotContext) -> None:
    """Hands the groups on, then deactivates the mentor, so no group is left without one."""
    await _move(update, context, deactivate=True)


@guard(STAFF_ROLES)
async def deactivate(update: Update, context: BotContext) -> None:
    """Deactivates a mentor who has no groups."""
    source = await _managed(update, context, int(update.callback_query.data.split(":")[2]))
    if source is None:
        return
    count = (await mentor_queries.group_counts(session=context.session,
                                               mentor_ids=[source.id])).get(source.id, 0)
    if count:  # groups were given to them meanwhile: hand them over first
        await update.callback_query.answer()
        await _offer_targets(update, context, source, "offto", "coord.deactivate_handover",
                             count)
        return
    await close_buttons(update.callback_query)
    await mentor_queries.set_status(session=context.session, mentor=source,
                                    status=MentorStatus.INACTIVE,
                                    actor_telegram_id=context.mentor.telegram_id)
    await say(update, context.t("coord.deactivated", name=source.name))


@guard(STAFF_ROLES)
async def keep(update: Update, context: BotContext) -> None:
    """Tidak: nothing changes."""
    await close_buttons(update.callback_query, context.t("common.no"))


# --- /audit (admins) ---------------------------------------------------------------------------

async def _audit_names(context: BotContext, rows: list) -> audit_view.Names:
    """The names of the mentors and groups the rows are about (names only, no personal data)."""
    mentor_ids, group_ids = set(), set()
    for row in rows:
        if row.entity in ("mentor", "group") and row.entity_id is not None:
            (mentor_ids if row.entity == "mentor" else group_ids).add(row.entity_id)
        for values in (row.old or {}, row.new or {}):
            if isinstance(values.get("mentor_id"), int):
                mentor_ids.add(values["mentor_id"])
            if isinstance(values.get("group_id"), int):
                group_ids.add(values["group_id"])
    mentors_by_id = await mentor_queries.by_ids(session=context.session, ids=list(mentor_ids))
    groups = await group_queries.get_many(session=context.session, group_ids=list(group_ids))
    return audit_view.Names(mentors={i: m.name for i, m in mentors_by_id.items()},
                            groups={i: g.name for i, g in groups.items()})


@guard({Role.ADMIN})
async def audit_trail(update: Update, context: BotContext) -> None:
    """The latest approvals, broadcasts, exports, imports, reassignments, role changes,
    grants and roll-overs (public money), and erasures."""
    rows = await mentor_queries.recent_audit(
        session=context.session, limit=25,
        entities=("mentor", "broadcast", "export", "import", "group", "invite", "grant",
                  "rollover"),
        actions=(AuditAction.ERASE,))
    ids = [r.actor_telegram_id for r in rows if r.actor_telegram_id]
    people = await mentor_queries.by_telegram_ids(session=context.session, telegram_ids=ids)
    names = await _audit_names(context, rows)

    def who(row) -> str:
        person = people.get(row.actor_telegram_id)
        if person is not None:
            return mask_numbers(person.name)
        return str(row.actor_telegram_id) if row.actor_telegram_id else context.t("audit.system")

    lines = audit_view.render(rows, lang=context.lang, places=context.places,
                              area_code=context.mentor.area_code, who=who, names=names)
    await say(update, context.t("coord.audit_title") + "\n" + "\n".join(lines or ["-"]))


def handlers() -> list[BaseHandler]:
    """/koordinator and the mentors' management, new for each Application."""
    return [
        flow.build({
            Step.WHO: {TEXT: find_person, f"who:{ID}": got_person, "invite": got_invite},
            Step.AREA: {TEXT: search_area, f"area:{AREA_CODE}": got_area},
            Step.CONFIRM: {"save": save},
        }, entry={"/koordinator": appoint}),
        CommandHandler("persetujuan", pending),
        CommandHandler("pendamping", mentors),
        CommandHandler("alihkan", reassign),
        CommandHandler("audit", audit_trail),
        CallbackQueryHandler(ask_deactivate, pattern=rf"^{MENTORS}:off:{ID}$"),
        CallbackQueryHandler(deactivate, pattern=rf"^{MENTORS}:offok:{ID}$"),
        CallbackQueryHandler(move_and_deactivate, pattern=rf"^{MENTORS}:offto:{ID}:{ID}$"),
        CallbackQueryHandler(pick_source, pattern=rf"^{MENTORS}:from:{ID}$"),
        CallbackQueryHandler(move, pattern=rf"^{MENTORS}:mv:{ID}:{ID}$"),
        CallbackQueryHandler(keep, pattern=rf"^{MENTORS}:keep$"),
    ]
