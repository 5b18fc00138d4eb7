"""Anggota: list a group's households, add one, open one's page (head of household's sex,
DTKS/DTSEN, welfare category and its history), change roles, see the history.

Adding asks for a typed line, so it is a (small) conversation; leaving asks why and when
(handlers.member_leaving); the rest are buttons whose ids are re-checked against the database
on every press. Diagram: members.mmd beside this file.
"""

from __future__ import annotations

from dataclasses import asdict
from enum import IntEnum

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.core import clock
from bot.core.enums import MemberRole, RegisterStatus, Sex, WelfareCategory
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
    redraw,
    say,
)
from handlers.flow import TEXT, Flow
from handlers.member_texts import (
    member_line_text,
    member_page_text,
    officer_replace_text,
    problems_text,
    register_text,
    sex_text,
    welfare_text,
)
from models import changes
from models import groups as group_queries
from models.tables import Group, Member

PREFIX = "mem"
LEAVE_PREFIX = "klr"  # handlers.member_leaving: "klr:start:<group>:<member>" asks why and when


class Step(IntEnum):
    LINE = 1
    CONSENT = 2


flow = Flow("member", prefix=PREFIX, what="what.member")


async def _own_group(update: Update, context: BotContext, group_id: int) -> Group | None:
    """The group if the user is its mentor and it is not dissolved; otherwise tells them
    (kindly, for a dissolved group: its records stay, read-only) and returns None."""
    group = await own_group(context, group_id)
    if group is not None:
        return group
    text = await read_only_text(context, group_id) or context.t("grp.not_found")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await say(update, text)
    return None


def _may_edit(context: BotContext, group: Group) -> bool:
    """Whether the user changes this group's households: its mentor, while it lasts."""
    return group.mentor_id == context.mentor.id and not changes.is_read_only(group)


async def _warn_if_incomplete(update: Update, context: BotContext, group: Group) -> None:
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    problems = group_problems(members, minimum=context.settings.group_min_size,
                              maximum=context.settings.group_max_size)
    if problems:
        await say(update, context.t("mem.warning", problems=problems_text(context, problems)))


@guard()
async def show(update: Update, context: BotContext) -> None:
    """The current households, each a button to its page, with Tambah / Catat keluar / Ubah
    peran (its mentor only) and Riwayat."""
    group = await pressed_group(update.callback_query, context)
    if group is None:
        return
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    lines = "\n".join(member_line_text(context, m, no) for no, m in enumerate(members, 1))
    text = context.t("mem.list", group=group.name, count=len(members), lines=lines)
    if members:
        text += "\n\n" + context.t("mem.list_hint")
    pages = [(f"{no}. {m.name}"[:40], f"{PREFIX}:page:{group.id}:{m.id}")
             for no, m in enumerate(members, 1)]
    rows = [pages[i:i + 2] for i in range(0, len(pages), 2)]
    if _may_edit(context, group):
        rows.append([(context.t("mem.btn.add"), f"{PREFIX}:add:{group.id}"),
                     (context.t("mem.btn.remove"), f"{PREFIX}:rm:{group.id}"),
                     (context.t("mem.btn.role"), f"{PREFIX}:role:{group.id}")])
    rows.append([(context.t("mem.btn.history"), f"{PREFIX}:hist:{group.id}")])
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
    group = await _own_group(update, context, flow.draft(context).get("group_id", 0))
    if group is None:  # said why
        flow.clear(context)
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
        return await flow.stop(update, context)  # _own_group said why
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
              "role": MemberRole.MEMBER, "nik": line.nik, "phone": line.phone,
              "head_sex": line.head_sex, "register_status": line.register_status,
              "register_decile": line.register_decile},
        joined_on=clock.today_for(group.village_code), consented=consented,
    )
    flow.clear(context)
    await say(update, context.t("mem.added_without_data" if dropped else "mem.added",
                                name=line.name, group=group.name))
    if line.role != MemberRole.MEMBER:
        # Officer roles change as Ubah peran changes them: asked first when someone holds the
        # role, so an old ketua never steps down by a line typed in passing.
        if await _ask_to_replace(update, context, group, added, line.role):
            return END
        await group_queries.change_role(session=context.session, group=group, member=added,
                                        role=line.role, actor=context.mentor)
        await say(update, context.t("mem.role_changed", name=line.name,
                                    role=context.t(f"role.{line.role}")))
    await _warn_if_incomplete(update, context, group)
    return END


async def _ask_to_replace(update: Update, context: BotContext, group: Group, member: Member,
                          role: str) -> bool:
    """When someone else holds the officer ``role``: asks "Ketua sekarang X. Ganti dengan Y?"
    ("mem:roleok|roleno:<g>:<m>:<role>") and returns True; False when nobody does."""
    if role == MemberRole.MEMBER:
        return False
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    holder = next((m for m in members if m.role == role and m.id != member.id), None)
    if holder is None:
        return False
    ids = f"{group.id}:{member.id}:{role}"
    await say(update, officer_replace_text(context, role, holder.name, member.name),
              reply_markup=keyboard([[(context.t("officer.replace_yes"), f"{PREFIX}:roleok:{ids}"),
                                      (context.t("officer.replace_no"), f"{PREFIX}:roleno:{ids}")]]))
    return True


async def _pick_member(update: Update, context: BotContext, action: str, text_key: str, *,
                       prefix: str = PREFIX) -> None:
    """Lists the group's households (the group re-checked) as buttons
    "<prefix>:<action>:<g>:<m>"."""
    group = await _own_group(update, context, int(update.callback_query.data.split(":")[2]))
    if group is None:
        return
    await update.callback_query.answer()
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    await say(update, context.t(text_key), reply_markup=column(
        [(f"{m.name} ({context.t(f'role.{m.role}')})", f"{prefix}:{action}:{group.id}:{m.id}")
         for m in members]))


async def _own_member(update: Update, context: BotContext, *,
                      note_name: bool = False) -> tuple[Group, Member] | None:
    """The group and household of a "mem:<action>:<group>:<member>[:…]" button, both re-checked
    (the user's own group, not dissolved, a current household of it); else the press is
    answered and None. With ``note_name`` the buttons close with the household's name noted
    under them."""
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
    """Lists the households to choose who leaves (Catat keluar asks why and when)."""
    await _pick_member(update, context, "start", "mem.pick_remove", prefix=LEAVE_PREFIX)


@guard()
async def pick_role_member(update: Update, context: BotContext) -> None:
    """Lists the households to choose whose role changes."""
    await _pick_member(update, context, "rolepick", "mem.pick_member_role")


@guard()
async def pick_role(update: Update, context: BotContext) -> None:
    """Offers the four roles for the chosen household (from the list's Ubah peran, its buttons
    closed with the name noted; or from the household's page, kept)."""
    found = await _own_member(update, context,
                              note_name=update.callback_query.data.split(":")[1] == "rolepick")
    if found is None:
        return
    group, member = found
    buttons = [(context.t(f"role.{role}"), f"{PREFIX}:roleset:{group.id}:{member.id}:{role}")
               for role in MemberRole]
    await say(update, context.t("mem.pick_role", name=member.name),
              reply_markup=column(buttons, per_row=2))


@guard()
async def set_role(update: Update, context: BotContext) -> None:
    """Gives the household its new role; an officer role someone holds is asked about first
    ("roleset"), and moves from its previous holder once confirmed ("roleok"); "roleno" keeps
    it where it was."""
    found = await _own_member(update, context)
    if found is None:
        return
    group, member = found
    action = update.callback_query.data.split(":")[1]
    role = update.callback_query.data.rsplit(":", 1)[1]
    if role not in set(MemberRole):
        await update.callback_query.answer(context.t("mem.not_found"), show_alert=True)
        return
    if action != "roleset":
        confirmed = action == "roleok"
        await close_buttons(update.callback_query, context.t(
            "officer.replace_yes" if confirmed else "officer.replace_no"))
        if not confirmed:
            members = await group_queries.active_members(session=context.session,
                                                         group_id=group.id)
            holder = next((m for m in members if m.role == role and m.id != member.id), None)
            if holder is not None:
                await say(update, context.t("officer.kept", role=context.t(f"role.{role}"),
                                            previous=holder.name))
            return
    else:
        await close_buttons(update.callback_query, context.t(f"role.{role}"))
        if await _ask_to_replace(update, context, group, member, role):
            return
    previous = await group_queries.change_role(session=context.session, group=group,
                                               member=member, role=role, actor=context.mentor)
    if previous is not None:
        await say(update, context.t("mem.role_swapped", name=member.name,
                                    role=context.t(f"role.{role}"), previous=previous.name))
    else:
        await say(update, context.t("mem.role_changed", name=member.name,
                                    role=context.t(f"role.{role}")))
    await _warn_if_incomplete(update, context, group)


# --- a household's page: head of household, DTKS/DTSEN, category ---------------------------------

def _page_keyboard(context: BotContext, group: Group, member: Member) -> InlineKeyboardMarkup:
    """The page's buttons: for the group's mentor one tap sets the head of household's sex or
    the DTKS/DTSEN status, then Ubah kategori / Ubah peran / Catat keluar; for everyone the way
    back to the list."""
    ids = f"{group.id}:{member.id}"
    rows = []
    if _may_edit(context, group):
        rows += [
            [(context.t("mem.btn.female"), f"{PREFIX}:sex:{ids}:{Sex.FEMALE}"),
             (context.t("mem.btn.male"), f"{PREFIX}:sex:{ids}:{Sex.MALE}")],
            [(context.t(f"mem.btn.reg.{status}"), f"{PREFIX}:reg:{ids}:{status}")
             for status in RegisterStatus],
            [(context.t("mem.btn.category"), f"{PREFIX}:cat:{ids}"),
             (context.t("mem.btn.role"), f"{PREFIX}:rolep:{ids}")],
            [(context.t("mem.btn.remove"), f"{LEAVE_PREFIX}:start:{ids}")],
        ]
    rows.append([(context.t("mem.btn.back_list"), f"{PREFIX}:list:{group.id}")])
    return keyboard(rows)


async def _page_text(context: BotContext, member: Member) -> str:
    history = await group_queries.welfare_history(session=context.session, member_id=member.id)
    return member_page_text(context, member, history)



async def _visible_member(update: Update, context: BotContext) -> tuple[Group, Member] | None:
    """The group (one the user may see) and current household of a "mem:page:<g>:<m>" button;
    else the press is answered with an alert and None."""
    group_id, member_id = update.callback_query.data.split(":")[2:4]
    group = await group_queries.get_visible(session=context.session, group_id=int(group_id),
                                            actor=context.mentor)
    if group is None:
        await update.callback_query.answer(context.t("grp.not_found"), show_alert=True)
        return None
    member = await group_queries.get_member(session=context.session, group=group,
                                            member_id=int(member_id))
    if member is None:
        await update.callback_query.answer(context.t("mem.not_found"), show_alert=True)
        return None
    return group, member


@guard()
async def page(update: Update, context: BotContext) -> None:
    """A household's page (its mentor, the area's coordinators, admins), with its buttons;
    "pgr" shows it again in place of the message pressed."""
    found = await _visible_member(update, context)
    if found is None:
        return
    group, member = found
    await update.callback_query.answer()
    text, markup = await _page_text(context, member), _page_keyboard(context, group, member)
    if update.callback_query.data.split(":")[1] == "pgr":
        await redraw(update, text, markup)
    else:
        await say(update, text, reply_markup=markup)


async def _show_changed(update: Update, context: BotContext, group: Group, member: Member,
                        note: str) -> None:
    """The page again, in place, with ``note`` ("✓ DTKS/DTSEN: terdaftar") as the press's
    answer."""
    await update.callback_query.answer(note)
    await redraw(update, await _page_text(context, member),
                  _page_keyboard(context, group, member))


async def _own_member_choice(update: Update, context: BotContext, among: type
                             ) -> tuple[Group, Member, str] | None:
    """:func:`_own_member`, and the value the button carries last, one of ``among``; an old
    button's value is answered as such and None."""
    found = await _own_member(update, context)
    if found is None:
        return None
    value = pressed(update.callback_query)
    if value not in set(among):
        await update.callback_query.answer(context.t("common.old_button"))
        return None
    return *found, value


@guard()
async def set_sex(update: Update, context: BotContext) -> None:
    """Stores the head of household's sex (audited) and shows the page again."""
    found = await _own_member_choice(update, context, Sex)
    if found is None:
        return
    group, member, sex = found
    await group_queries.set_household(session=context.session, member=member,
                                      actor=context.mentor, values={"head_sex": sex})
    await _show_changed(update, context, group, member,
                        context.t("mem.sex_set", sex=sex_text(context, member)))


@guard()
async def set_register(update: Update, context: BotContext) -> None:
    """Tidak / tidak tahu: stores the DTKS/DTSEN status (no decile) and shows the page again;
    Ya: asks the decile, its buttons in place of the page's."""
    found = await _own_member_choice(update, context, RegisterStatus)
    if found is None:
        return
    group, member, status = found
    if status == RegisterStatus.YES:
        await update.callback_query.answer()
        ids = f"{group.id}:{member.id}"
        deciles = [(str(no), f"{PREFIX}:dec:{ids}:{no}") for no in range(1, 11)]
        await redraw(update, await _page_text(context, member) + "\n\n"
                      + context.t("mem.ask_decile"), keyboard([
                          deciles[:5], deciles[5:],
                          [(context.t("mem.btn.decile_unknown"), f"{PREFIX}:dec:{ids}:0")],
                          [(context.t("common.back"), f"{PREFIX}:pgr:{ids}")]]))
        return
    await group_queries.set_household(
        session=context.session, member=member, actor=context.mentor,
        values={"register_status": status, "register_decile": None})
    await _show_changed(update, context, group, member,
                        context.t("mem.register_set", register=register_text(context, member)))


@guard()
async def set_decile(update: Update, context: BotContext) -> None:
    """Stores "registered in DTKS/DTSEN" with the decile pressed (0: not known), audited, and
    shows the page again."""
    found = await _own_member(update, context)
    if found is None:
        return
    group, member = found
    decile = int(pressed(update.callback_query))
    if decile > 10:
        await update.callback_query.answer(context.t("common.old_button"))
        return
    await group_queries.set_household(
        session=context.session, member=member, actor=context.mentor,
        values={"register_status": RegisterStatus.YES.value, "register_decile": decile or None})
    await _show_changed(update, context, group, member,
                        context.t("mem.register_set", register=register_text(context, member)))


@guard()
async def ask_category(update: Update, context: BotContext) -> None:
    """Offers the other welfare categories in place of the page's buttons."""
    found = await _own_member(update, context)
    if found is None:
        return
    group, member = found
    await update.callback_query.answer()
    ids = f"{group.id}:{member.id}"
    buttons = [(context.t(f"welfare.{category}"), f"{PREFIX}:cset:{ids}:{category}")
               for category in WelfareCategory if category != member.welfare_category]
    await redraw(update, context.t("mem.ask_category", name=member.name,
                                    category=welfare_text(context, member.welfare_category)),
                  keyboard([*([button] for button in buttons),
                            [(context.t("common.back"), f"{PREFIX}:pgr:{ids}")]]))


@guard()
async def set_category(update: Update, context: BotContext) -> None:
    """Gives the household its new welfare category today, kept in its history (and the
    group's), audited; shows the page again with the history."""
    found = await _own_member_choice(update, context, WelfareCategory)
    if found is None:
        return
    group, member, category = found
    old = member.welfare_category
    change = await group_queries.change_welfare(
        session=context.session, group=group, member=member, category=category,
        actor=context.mentor, on=clock.today_for(group.village_code))
    note = context.t("mem.category_same", category=welfare_text(context, category)) \
        if change is None else context.t("mem.category_changed", old=welfare_text(context, old),
                                         new=welfare_text(context, category))
    await _show_changed(update, context, group, member, note)


def _left(context: BotContext, member: Member) -> str:
    """", keluar 5 Des 2026 (graduasi / sudah mampu)", or nothing for a current household."""
    if member.left_on is None:
        return ""
    day = format_date(member.left_on, context.lang)
    if not member.leave_reason:
        return context.t("mem.left", date=day)
    reason = context.t(f"leave.{member.leave_reason}")
    return context.t("mem.left_because", date=day, reason=reason)


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
        joined=format_date(m.joined_on, lang), left=_left(context, m))
        for m in members)
    await say(update, context.t("mem.history", group=group.name, lines=lines))


def handlers() -> list[BaseHandler]:
    """Anggota's buttons and the adding of a household, new for each Application."""
    return [
        flow.build({Step.LINE: {TEXT: got_line}, Step.CONSENT: {"consent:(yes|no)": got_consent}},
                   entry={rf"add:{ID}": start_add}),
        CallbackQueryHandler(show, pattern=rf"^{PREFIX}:list:{ID}$"),
        CallbackQueryHandler(pick_remove, pattern=rf"^{PREFIX}:rm:{ID}$"),
        CallbackQueryHandler(page, pattern=rf"^{PREFIX}:(page|pgr):{ID}:{ID}$"),
        CallbackQueryHandler(set_sex, pattern=rf"^{PREFIX}:sex:{ID}:{ID}:\w+$"),
        CallbackQueryHandler(set_register, pattern=rf"^{PREFIX}:reg:{ID}:{ID}:\w+$"),
        CallbackQueryHandler(set_decile, pattern=rf"^{PREFIX}:dec:{ID}:{ID}:\d{{1,2}}$"),
        CallbackQueryHandler(ask_category, pattern=rf"^{PREFIX}:cat:{ID}:{ID}$"),
        CallbackQueryHandler(set_category, pattern=rf"^{PREFIX}:cset:{ID}:{ID}:\w+$"),
        CallbackQueryHandler(pick_role_member, pattern=rf"^{PREFIX}:role:{ID}$"),
        CallbackQueryHandler(pick_role, pattern=rf"^{PREFIX}:(rolepick|rolep):{ID}:{ID}$"),
        CallbackQueryHandler(set_role, pattern=rf"^{PREFIX}:(roleset|roleok|roleno):{ID}:{ID}:\w+$"),
        CallbackQueryHandler(history, pattern=rf"^{PREFIX}:hist:{ID}$"),
    ]
