"""/hapus_anggota: erase a household's personal data at its request.

A mentor erases in their own groups, a coordinator in their area's (an admin anywhere): pick
the group, the household, the reason, confirm. Name, NIK and phone go (the name becomes
"(dihapus #id)"); the row stays with its category and role, so counts and reports do not
change, and the audit trail records who erased which member, when and why. Every button's
ids are re-checked against the database. Diagram: erasure.mmd beside this file.
"""

from __future__ import annotations

from enum import IntEnum

from telegram import Update
from telegram.ext import BaseHandler

from bot.core.enums import ErasureReason
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import END, button_choice, close_buttons, column, keyboard, say, typed_search
from handlers.flow import TEXT, Flow
from models import groups as group_queries
from models.tables import Group, Member

PREFIX = "hps"
# More groups than this: the user types part of the name instead of scrolling buttons.
PICK_LIMIT = 10
SEARCH_LIMIT = 8


class Step(IntEnum):
    GROUP = 1
    MEMBER = 2
    REASON = 3
    CONFIRM = 4


flow = Flow("erasure", prefix=PREFIX, what="what.erasure")


def _group_button(context: BotContext, group: Group) -> tuple[str, str]:
    place = context.places.get(group.village_code)
    label = f"{group.name} – {place.name}" if place else group.name
    return label, f"{PREFIX}:grp:{group.id}"


def _member_label(context: BotContext, member: Member) -> str:
    label = f"{member.name} ({context.t(f'role.{member.role}')})"
    return label + " ✖" if member.left_on else label


async def _group(context: BotContext, group_id: int) -> Group | None:
    """The group if the user may change it: their own, their area's (coordinator), any
    (admin)."""
    return await group_queries.get_visible(session=context.session, group_id=group_id,
                                           actor=context.mentor)


async def _chosen(context: BotContext) -> tuple[Group, Member] | None:
    """The draft's group and household, both re-checked now."""
    draft = flow.draft(context)
    group = await _group(context, int(draft.get("group_id") or 0))
    if group is None:
        return None
    member = await group_queries.get_erasable(session=context.session, group=group,
                                              member_id=int(draft.get("member_id") or 0))
    return None if member is None else (group, member)


# --- questions -------------------------------------------------------------------------------

@flow.question(Step.GROUP)
async def _ask_group(update: Update, context: BotContext) -> None:
    groups = await group_queries.visible_groups(session=context.session, actor=context.mentor,
                                                limit=PICK_LIMIT + 1)
    if len(groups) > PICK_LIMIT:
        await say(update, context.t("era.type_group"))
        return
    await say(update, context.t("era.pick_group"),
              reply_markup=column(_group_button(context, group) for group in groups))


@flow.question(Step.MEMBER)
async def _ask_member(update: Update, context: BotContext) -> None:
    group = await _group(context, int(flow.draft(context).get("group_id") or 0))
    members = [] if group is None else await group_queries.erasable_members(
        session=context.session, group=group)
    await say(update, context.t("era.pick_member", group=group.name if group else "-"),
              reply_markup=column((_member_label(context, m), f"{PREFIX}:mem:{group.id}:{m.id}")
                                  for m in members))


@flow.question(Step.REASON)
async def _ask_reason(update: Update, context: BotContext) -> None:
    name = flow.draft(context).get("member_name", "")
    await say(update, context.t("era.pick_reason", name=name), reply_markup=column(
        (context.t(f"era.reason.{reason}"), f"{PREFIX}:why:{reason}") for reason in ErasureReason))


@flow.question(Step.CONFIRM)
async def _ask_confirm(update: Update, context: BotContext) -> None:
    draft = flow.draft(context)
    await say(update, context.t("era.confirm", name=draft.get("member_name", ""),
                                group=draft.get("group_name", "")),
              reply_markup=keyboard([[(context.t("era.erase"), f"{PREFIX}:ok"),
                                      (context.t("common.cancel"), f"{PREFIX}:cancel")]]))


# --- answers ---------------------------------------------------------------------------------

async def start(update: Update, context: BotContext) -> int:
    """/hapus_anggota: asks for the group (buttons, or its name when there are many)."""
    if await flow.other_in_progress(update, context):
        return END
    if not await group_queries.visible_groups(session=context.session, actor=context.mentor,
                                              limit=1):
        return await flow.stop(update, context, context.t("era.no_groups"))
    flow.start(context)
    await say(update, context.t("era.start"))
    return await flow.ask(update, context, Step.GROUP)


async def search_group(update: Update, context: BotContext) -> int:
    """A typed group name: the closest groups the user may change, as buttons."""
    text = typed_search(update)
    groups = await group_queries.visible_groups(session=context.session, actor=context.mentor,
                                                name_like=text, limit=SEARCH_LIMIT)
    if not groups:
        return await flow.retry(update, context, Step.GROUP,
                                context.t("era.group_not_found", query=text or "…"))
    await say(update, context.t("era.pick_group"),
              reply_markup=column(_group_button(context, group) for group in groups))
    return Step.GROUP


async def got_group(update: Update, context: BotContext) -> int:
    """A group button (re-checked): asks whose data goes."""
    query = update.callback_query
    group = await _group(context, int(query.data.rsplit(":", 1)[1]))
    if group is None:
        await query.answer(context.t("era.not_found"), show_alert=True)
        return Step.GROUP
    if not await group_queries.erasable_members(session=context.session, group=group):
        await close_buttons(query)
        return await flow.retry(update, context, Step.GROUP,
                                context.t("era.no_members", group=group.name))
    await close_buttons(query, group.name)
    flow.draft(context).update(group_id=group.id, group_name=group.name)
    return await flow.ask(update, context, Step.MEMBER)


async def got_member(update: Update, context: BotContext) -> int:
    """A household button "<prefix>:mem:<group>:<member>": both ids re-checked."""
    query = update.callback_query
    group_id, member_id = (int(part) for part in query.data.split(":")[2:4])
    group = await _group(context, group_id)
    member = None if group is None else await group_queries.get_erasable(
        session=context.session, group=group, member_id=member_id)
    if member is None:
        await query.answer(context.t("era.not_found"), show_alert=True)
        return Step.MEMBER
    await close_buttons(query, member.name)
    flow.draft(context).update(group_id=group.id, group_name=group.name, member_id=member.id,
                               member_name=member.name)
    return await flow.ask(update, context, Step.REASON)


async def got_reason(update: Update, context: BotContext) -> int:
    """The reason (one of a few, never free text: the audit trail holds no personal data)."""
    query = update.callback_query
    reason = await button_choice(query, context, ErasureReason)
    if reason is None:
        return Step.REASON
    await close_buttons(query, context.t(f"era.reason.{reason}"))
    flow.draft(context)["reason"] = reason
    return await flow.ask(update, context, Step.CONFIRM)


async def erase(update: Update, context: BotContext) -> int:
    """Ya, hapus: erases (group and household re-checked), with its audit row."""
    query = update.callback_query
    chosen = await _chosen(context)
    reason = flow.draft(context).get("reason")
    if chosen is None or reason not in set(ErasureReason):
        await close_buttons(query)
        return await flow.stop(update, context, context.t("era.not_found"))
    group, member = chosen
    await close_buttons(query, context.t("era.erase"))
    await group_queries.erase_member(session=context.session, member=member,
                                     actor=context.mentor, reason=reason)
    count = await group_queries.count_active_members(session=context.session, group_id=group.id)
    return await flow.stop(update, context, context.t("era.done", name=member.name,
                                                      group=group.name, count=count))


def handlers() -> list[BaseHandler]:
    """/hapus_anggota, new for each Application."""
    return [flow.build({
        Step.GROUP: {TEXT: search_group, f"grp:{ID}": got_group},
        Step.MEMBER: {f"mem:{ID}:{ID}": got_member},
        Step.REASON: {r"why:\w+": got_reason},
        Step.CONFIRM: {"ok": erase},
    }, entry={"/hapus_anggota": start})]
