"""Anggota: list a group's households, add one, let one leave, change roles, see the history.

Adding asks for a typed line, so it is a (small) conversation; the rest are buttons whose ids
are re-checked against the database on every press. Diagram: members.mmd beside this file.
"""

from __future__ import annotations

from dataclasses import asdict
from enum import IntEnum

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.core import clock
from bot.core.enums import MemberRole
from bot.core.formatting import format_date
from bot.core.parsing import MemberLine, group_problems, parse_member_line
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import (
    END,
    close_buttons,
    column,
    guard,
    keyboard,
    own_group,
    pressed,
    pressed_group,
    read_only_text,
    say,
)
from handlers.flow import TEXT, Flow
from handlers.member_texts import member_line_text, problems_text
from models import changes
from models import groups as group_queries
from models.tables import Group, Member

PREFIX = "mem"


class Step(IntEnum):
    LINE = 1
    CONSENT = 2


flow = Flow("member", prefix=PREFIX, what="what.member")


async def _own_group(update: Update, context: BotContext, group_id: int) -> Group | None:
    """The group if the user is its mentor and it is not dissolved; otherwise tells them
    (kindly, for a dissolved group: its records stay, read-only) and returns None."""
    group = await own_group(context, group_id)
    if group is None and update.callback_query is not None:
        text = await read_only_text(context, group_id) or context.t("grp.not_found")
        await update.callback_query.answer(text, show_alert=True)
    return group


async def _warn_if_incomplete(update: Update, context: BotContext, group: Group) -> None:
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    problems = group_problems(members, minimum=context.settings.group_min_size,
                              maximum=context.settings.group_max_size)
    if problems:
        await say(update, context.t("mem.warning", problems=problems_text(context, problems)))


@guard()
async def show(update: Update, context: BotContext) -> None:
    """The current households with Tambah / Keluarkan / Ubah peran / Riwayat (mentor only)."""
    group = await pressed_group(update.callback_query, context)
    if group is None:
        return
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    lines = "\n".join(member_line_text(context, m, no) for no, m in enumerate(members, 1))
    text = context.t("mem.list", group=group.name, count=len(members), lines=lines)
    rows = [[(context.t("mem.btn.history"), f"{PREFIX}:hist:{group.id}")]]
    if group.mentor_id == context.mentor.id and not changes.is_read_only(group):
        rows.insert(0, [(context.t("mem.btn.add"), f"{PREFIX}:add:{group.id}"),
                        (context.t("mem.btn.remove"), f"{PREFIX}:rm:{group.id}"),
                        (context.t("mem.btn.role"), f"{PREFIX}:role:{group.id}")])
    await say(update, text, reply_markup=keyboard(rows))


flow.says(Step.LINE, "mem.ask_line")


@flow.question(Step.CONSENT)
async def _ask_consent(update: Update, context: BotContext) -> None:
    name = flow.draft(context).get("line", {}).get("name", "")
    await say(update, context.t("consent.ask_one", name=name), reply_markup=keyboard(
        [[(context.t("consent.yes"), f"{PREFIX}:consent:yes"),
          (context.t("consent.no"), f"{PREFIX}:consent:no")]]))


async def start_add(update: Update, context: BotContext) -> int:
    """Checks there is room in the group and asks for the new household's line."""
    if await flow.other_in_progress(update, context):
        return END
    group = await _own_group(update, context, int(update.callback_query.data.split(":")[2]))
    if group is None:
        return END
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    if len(members) >= context.settings.group_max_size:
        await update.callback_query.answer(context.t(
            "mem.too_many", count=len(members), max=context.settings.group_max_size),
            show_alert=True)
        return END
    await update.callback_query.answer()
    flow.start(context, group_id=group.id)
    return await flow.ask(update, context, Step.LINE)


async def got_line(update: Update, context: BotContext) -> int:
    """Stores the new household (after re-checking the group) and shows any rule it breaks."""
    line = parse_member_line((update.effective_message.text or "")[:300])
    if not line.ok:
        return await flow.retry(update, context, Step.LINE,
                                context.t(f"grp.line_error.{line.error}") + "\n"
                                + context.t("mem.ask_line"))
    group_id = flow.draft(context).get("group_id", 0)
    group = await _own_group(update, context, group_id)
    if group is None:
        flow.clear(context)
        await say(update, await read_only_text(context, group_id) or context.t("grp.not_found"))
        return END
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    if len(members) >= context.settings.group_max_size:
        flow.clear(context)
        await say(update, context.t("mem.too_many", count=len(members),
                                    max=context.settings.group_max_size))
        return END
    if line.nik and (holder := await group_queries.nik_in_group(
            session=context.session, group_id=group.id, nik=line.nik)):
        return await flow.retry(update, context, Step.LINE,
                                context.t("mem.nik_taken", name=holder))
    if group_queries.has_personal_data(line):
        flow.draft(context)["line"] = asdict(line)  # drafts are encrypted at rest
        return await flow.ask(update, context, Step.CONSENT)
    return await _add(update, context, group, line, consented=False, dropped=False)


async def got_consent(update: Update, context: BotContext) -> int:
    """Ya: the household is added with its NIK / phone and the consent; Tidak: without them.
    The group, its room and the NIK are checked again (time passed since the line)."""
    query = update.callback_query
    draft = flow.draft(context)
    if "line" not in draft:
        return await flow.stale(update, context)
    line = MemberLine(**draft["line"])
    agreed = pressed(query) == "yes"
    await close_buttons(query, context.t("consent.yes" if agreed else "consent.no"))
    group = await _own_group(update, context, draft.get("group_id", 0))
    if group is None:
        return await flow.stop(update, context, await read_only_text(
            context, draft.get("group_id", 0)) or context.t("grp.not_found"))
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    if len(members) >= context.settings.group_max_size:
        return await flow.stop(update, context, context.t(
            "mem.too_many", count=len(members), max=context.settings.group_max_size))
    if not agreed:
        line.nik = line.phone = None
    elif line.nik and (holder := await group_queries.nik_in_group(
            session=context.session, group_id=group.id, nik=line.nik)):
        return await flow.retry(update, context, Step.LINE,
                                context.t("mem.nik_taken", name=holder))
    return await _add(update, context, group, line, consented=agreed, dropped=not agreed)


async def _add(update: Update, context: BotContext, group: Group, line: MemberLine, *,
               consented: bool, dropped: bool) -> int:
    """Stores the household (``dropped``: its NIK / phone left out, the family did not agree),
    says so and shows any rule the group now breaks."""
    added = await group_queries.add_member(
        session=context.session, group=group, actor=context.mentor,
        data={"name": line.name, "welfare_category": line.welfare_category,
              "role": MemberRole.MEMBER, "nik": line.nik, "phone": line.phone},
        joined_on=clock.today_for(group.village_code), consented=consented,
    )
    flow.clear(context)
    await say(update, context.t("mem.added_without_data" if dropped else "mem.added",
                                name=line.name, group=group.name))
    if line.role != MemberRole.MEMBER:
        # Officer roles change through Ubah peran, which also moves the old holder: the
        # mentor is told who that was, never left to find out from the list.
        previous = await group_queries.change_role(session=context.session, group=group,
                                                   member=added, role=line.role,
                                                   actor=context.mentor)
        role = context.t(f"role.{line.role}")
        await say(update, context.t("mem.role_swapped", name=line.name, role=role,
                                    previous=previous.name) if previous is not None
                  else context.t("mem.role_changed", name=line.name, role=role))
    await _warn_if_incomplete(update, context, group)
    return END


async def _pick_member(update: Update, context: BotContext, action: str, text_key: str) -> None:
    """Lists the group's households (the group re-checked) as buttons "mem:<action>:<g>:<m>"."""
    group = await _own_group(update, context, int(update.callback_query.data.split(":")[2]))
    if group is None:
        return
    await update.callback_query.answer()
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    await say(update, context.t(text_key), reply_markup=column(
        [(f"{m.name} ({context.t(f'role.{m.role}')})", f"{PREFIX}:{action}:{group.id}:{m.id}")
         for m in members]))


async def _own_member(update: Update, context: BotContext, *,
                      note_name: bool = False) -> tuple[Group, Member] | None:
    """The group and household of a "mem:<action>:<group>:<member>[:…]" button, both re-checked
    (the user's own group, a current household of it); else the press is answered and None.
    With ``note_name`` the buttons close with the household's name noted under them."""
    group_id, member_id = update.callback_query.data.split(":")[2:4]
    group = await _own_group(update, context, int(group_id))
    if group is None:
        return None
    member = await group_queries.get_member(session=context.session, group=group,
                                            member_id=int(member_id))
    if member is None:
        await update.callback_query.answer(context.t("mem.not_found"), show_alert=True)
        return None
    if note_name:
        await close_buttons(update.callback_query, member.name)
    return group, member


@guard()
async def pick_remove(update: Update, context: BotContext) -> None:
    """Lists the households to choose who leaves."""
    await _pick_member(update, context, "rmpick", "mem.pick_remove")


@guard()
async def confirm_remove(update: Update, context: BotContext) -> None:
    """Asks to confirm that this household leaves."""
    found = await _own_member(update, context, note_name=True)
    if found is None:
        return
    group, member = found
    await say(update, context.t("mem.confirm_remove", name=member.name, group=group.name),
              reply_markup=keyboard([[(context.t("common.yes"),
                                       f"{PREFIX}:rmok:{group.id}:{member.id}"),
                                      (context.t("common.no"), f"{PREFIX}:list:{group.id}")]]))


@guard()
async def remove(update: Update, context: BotContext) -> None:
    """Marks the household as left today; the history keeps it."""
    found = await _own_member(update, context)
    if found is None:
        return
    group, member = found
    await close_buttons(update.callback_query)
    today = clock.today_for(group.village_code)
    await group_queries.remove_member(session=context.session, member=member,
                                      actor=context.mentor, left_on=today)
    await say(update, context.t("mem.removed", name=member.name,
                                date=format_date(today, context.lang)))
    await _warn_if_incomplete(update, context, group)


@guard()
async def pick_role_member(update: Update, context: BotContext) -> None:
    """Lists the households to choose whose role changes."""
    await _pick_member(update, context, "rolepick", "mem.pick_member_role")


@guard()
async def pick_role(update: Update, context: BotContext) -> None:
    """Offers the four roles for the chosen household."""
    found = await _own_member(update, context, note_name=True)
    if found is None:
        return
    group, member = found
    buttons = [(context.t(f"role.{role}"), f"{PREFIX}:roleset:{group.id}:{member.id}:{role}")
               for role in MemberRole]
    await say(update, context.t("mem.pick_role", name=member.name),
              reply_markup=column(buttons, per_row=2))


@guard()
async def set_role(update: Update, context: BotContext) -> None:
    """Gives the household its new role; an officer role moves from its previous holder."""
    found = await _own_member(update, context)
    if found is None:
        return
    group, member = found
    role = update.callback_query.data.rsplit(":", 1)[1]
    if role not in set(MemberRole):
        await update.callback_query.answer(context.t("mem.not_found"), show_alert=True)
        return
    await close_buttons(update.callback_query, context.t(f"role.{role}"))
    previous = await group_queries.change_role(session=context.session, group=group,
                                               member=member, role=role, actor=context.mentor)
    if previous is not None:
        await say(update, context.t("mem.role_swapped", name=member.name,
                                    role=context.t(f"role.{role}"), previous=previous.name))
    else:
        await say(update, context.t("mem.role_changed", name=member.name,
                                    role=context.t(f"role.{role}")))
    await _warn_if_incomplete(update, context, group)


@guard()
async def history(update: Update, context: BotContext) -> None:
    """Every household that was ever in the group, with joined and left dates."""
    group = await pressed_group(update.callback_query, context)
    if group is None:
        return
    members = await group_queries.all_members(session=context.session, group_id=group.id)
    lang = context.lang
    lines = "\n".join(context.t(
        "mem.history_line", name=m.name, role=context.t(f"role.{m.role}"),
        joined=format_date(m.joined_on, lang),
        left=context.t("mem.left", date=format_date(m.left_on, lang)) if m.left_on else "")
        for m in members)
    await say(update, context.t("mem.history", group=group.name, lines=lines))


def handlers() -> list[BaseHandler]:
    """Anggota's buttons and the adding of a household, new for each Application."""
    return [
        flow.build({Step.LINE: {TEXT: got_line}, Step.CONSENT: {"consent:(yes|no)": got_consent}},
                   entry={rf"add:{ID}": start_add}),
        CallbackQueryHandler(show, pattern=rf"^{PREFIX}:list:{ID}$"),
        CallbackQueryHandler(pick_remove, pattern=rf"^{PREFIX}:rm:{ID}$"),
        CallbackQueryHandler(confirm_remove, pattern=rf"^{PREFIX}:rmpick:{ID}:{ID}$"),
        CallbackQueryHandler(remove, pattern=rf"^{PREFIX}:rmok:{ID}:{ID}$"),
        CallbackQueryHandler(pick_role_member, pattern=rf"^{PREFIX}:role:{ID}$"),
        CallbackQueryHandler(pick_role, pattern=rf"^{PREFIX}:rolepick:{ID}:{ID}$"),
        CallbackQueryHandler(set_role, pattern=rf"^{PREFIX}:roleset:{ID}:{ID}:\w+$"),
        CallbackQueryHandler(history, pattern=rf"^{PREFIX}:hist:{ID}$"),
    ]
