"""/tambah_kelompok: a mentor registers a KUBE with its households.

Diagram: group_registration.mmd beside this file.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot.core.enums import OFFICER_ROLES, BindingTie, BusinessType, MemberRole, Stage
from bot.core.formatting import format_date
from bot.core.parsing import (
    MemberLine,
    apply_list_corrections,
    group_problems,
    is_list_correction,
    is_whole_list_again,
    mask_numbers,
    parse_date,
    parse_group_name,
    parse_member_lines,
)
from bot.core.parsing.common import clean
from bot.telegram.context import BotContext
from handlers import group_place
from handlers.button_questions import ask_choice, ask_summary
from handlers.common import (
    END,
    VILLAGE_CODE,
    close_buttons,
    confirm,
    keyboard,
    pressed,
    pressed_village,
    say,
    typed_search,
    unreadable_date,
    village_example,
)
from handlers.flow import TEXT, Flow, Summary
from handlers.member_texts import members_text, officer_replace_text, problems_text
from handlers.tick_boxes import TickBoxes
from models.saving.group import (
    EARLIEST_FORMED_YEAR,
    GroupReason,
    GroupRefusal,
    Household,
    NewGroup,
    check_formed,
    save_group,
    unconsented,
)

PREFIX = "grp"


class Step(IntEnum):
    NAME = 1
    VILLAGE = 2
    BUSINESS = 3
    TIES = 4
    FORMED = 5
    STAGE = 6
    MEMBERS = 7
    CONFIRM = 8
    # Before Ubah swapped the summary's buttons in place, it asked "Bagian mana yang ingin
    # diubah?" in a state of its own: a draft stored there answers as the summary does.
    EDIT = 9
    CONSENT = 10
    RESTART = 11  # "Hapus semua N baris?" before the member list is emptied
    REPLACE = 12  # "Ganti daftar sebelumnya dengan yang baru?" (the whole list sent again)
    ROLE = 13  # "Ketua sekarang X. Ganti dengan Y?" (a line brings a second officer)


FIELDS = {"name": Step.NAME, "village": Step.VILLAGE, "business": Step.BUSINESS,
          "ties": Step.TIES, "formed": Step.FORMED, "stage": Step.STAGE,
          "members": Step.MEMBERS}

flow = Flow("group", prefix=PREFIX, what="what.group", summary=Step.CONFIRM, edit_key="_editing")


# --- the draft's member list -----------------------------------------------------------------

def _lines(context: BotContext) -> list[MemberLine]:
    return [MemberLine(**data) for data in flow.draft(context).get("members", [])]


def _store(context: BotContext, lines: list[MemberLine]) -> None:
    for no, line in enumerate(lines, start=1):
        line.line_no = no
    flow.draft(context)["members"] = [asdict(line) for line in lines]


def _problems(context: BotContext, lines: list[MemberLine]) -> list[str]:
    problems = []
    if any(not line.ok for line in lines):
        problems.append("bad_lines")
    problems += group_problems(lines, minimum=context.settings.group_min_size,
                               maximum=context.settings.group_max_size)
    return problems


def _role_conflicts(before: list[MemberLine], after: list[MemberLine]
                    ) -> list[list[Any]]:
    """[role, number of its holder before, number of the new holder] for each officer role the
    change gave a second holder: the holder already in the list and one brought by the change
    (a new or changed line). Each line holds one role, so the answers never touch each other."""
    held = {(clean(line.name or ""), line.role) for line in before if line.ok}
    conflicts = []
    for role in OFFICER_ROLES:
        holders = [line for line in after if line.ok and line.role == role.value]
        old = [line for line in holders if (clean(line.name or ""), line.role) in held]
        if len(holders) == 2 and len(old) == 1:
            new = next(line for line in holders if line is not old[0])
            conflicts.append([role.value, old[0].line_no, new.line_no])
    return conflicts


def _unagreed(context: BotContext, lines: list[MemberLine]) -> list[MemberLine]:
    """Lines with a NIK or phone number the mentor has not yet said the family agreed to."""
    agreed = flow.draft(context).get("agreed", [])
    return [line for line in lines
            if line.ok and unconsented([Household.from_line(line, agreed=agreed)])]


# --- questions -------------------------------------------------------------------------------

flow.says(Step.NAME, "grp.ask_name")


@flow.question(Step.VILLAGE)
async def _ask_village(update: Update, context: BotContext) -> None:
    await say(update, context.t("grp.ask_village", example=village_example(context)))


ask_choice(flow, Step.BUSINESS, "grp.ask_business", among=BusinessType, label="business",
           data="biz", per_row=2)


ties = TickBoxes(flow, Step.TIES, "grp.ask_ties", among=BindingTie, label="tie", data="tie",
                 field="ties", then=Step.FORMED, need="grp.need_tie", alert=True, in_order=False)


flow.says(Step.FORMED, "grp.ask_formed")


ask_choice(flow, Step.STAGE, "grp.ask_stage", among=Stage, label="stage", data="stage",
           per_row=3)


@flow.question(Step.MEMBERS)
async def _ask_members(update: Update, context: BotContext) -> None:
    lines = _lines(context)
    if not lines:
        await say(update, context.t("grp.ask_members", min=context.settings.group_min_size,
                                    max=context.settings.group_max_size))
        return
    text = members_text(context, lines)
    problems = _problems(context, lines)
    if problems:
        text += "\n\n" + context.t("grp.members_problems", problems="\n".join(
            "• " + problems_text(context, [p]) for p in problems))
    text += "\n\n" + context.t("grp.members_fix_help")
    markup = keyboard([[(context.t("grp.members_restart"), f"{PREFIX}:members:restart")]])
    await say(update, text, reply_markup=markup)


def _summary(context: BotContext, draft: dict[str, Any]) -> str:
    lang = context.lang
    village = context.places.get(draft["village"])
    next_due = flow.today(context) + timedelta(days=context.settings.visit_interval_days)
    return context.t(
        "grp.summary",
        name=draft["name"],
        village=village.label if village else draft["village"],
        business=context.t(f"business.{draft['business']}"),
        ties=ties.shown(context, draft["ties"]),
        formed=format_date(date.fromisoformat(draft["formed"]), lang),
        stage=context.t(f"stage.{draft['stage']}"),
        interval=context.settings.visit_interval_days,
        next_due=format_date(next_due, lang),
        members=members_text(context, _lines(context)),
    )


ask_summary(flow, Step.CONFIRM, _summary)
ask_summary(flow, Step.EDIT, _summary)


@flow.question(Step.CONSENT)
async def _ask_consent(update: Update, context: BotContext) -> None:
    pending = _unagreed(context, _lines(context))
    await say(update, context.t("consent.ask", count=len(pending)), reply_markup=keyboard(
        [[(context.t("consent.yes"), f"{PREFIX}:consent:yes"),
          (context.t("consent.no"), f"{PREFIX}:consent:no")]]))


@flow.question(Step.REPLACE)
async def _ask_replace(update: Update, context: BotContext) -> None:
    new = parse_member_lines(flow.draft(context).get("_new_list", ""))
    await say(update, context.t("grp.replace_ask", old=len(_lines(context)), new=len(new)),
              reply_markup=keyboard([[(context.t("grp.replace_yes"), f"{PREFIX}:replace:yes"),
                                      (context.t("grp.replace_no"), f"{PREFIX}:replace:no")]]))


@flow.question(Step.ROLE)
async def _ask_role(update: Update, context: BotContext) -> None:
    role, old_no, new_no = flow.draft(context)["_role_swaps"][0]
    lines = _lines(context)
    await say(update, officer_replace_text(context, role, lines[old_no - 1].name or "",
                                           lines[new_no - 1].name or ""),
                    reply_markup=keyboard([[(context.t("officer.replace_yes"), f"{PREFIX}:role:yes"),
                                      (context.t("officer.replace_no"), f"{PREFIX}:role:no")]]))


@flow.question(Step.RESTART)
async def _ask_restart(update: Update, context: BotContext) -> None:
    count = len(_lines(context))
    await say(update, context.t("grp.restart_ask", count=count), reply_markup=keyboard(
        [[(context.t("grp.restart_yes"), f"{PREFIX}:restart:yes:{count}"),
          (context.t("grp.restart_no"), f"{PREFIX}:restart:no")]]))


@flow.summary_route
async def _to_summary(update: Update, context: BotContext) -> int:
    """The summary, after one question for the whole list when it brings NIKs or phone
    numbers the families have not yet been said to agree to."""
    if _unagreed(context, _lines(context)):
        return await flow.ask(update, context, Step.CONSENT)
    return await flow.ask(update, context, Step.CONFIRM)


# --- callbacks -------------------------------------------------------------------------------

async def start(update: Update, context: BotContext) -> int:
    """Starts a new draft and asks for the group's name."""
    return await flow.begin(update, context, Step.NAME, intro="grp.start")


async def got_name(update: Update, context: BotContext) -> int:
    """Stores the name and asks for the village."""
    return await flow.take(update, context, Step.NAME, parse=parse_group_name, store="name",
                           error="grp.bad_name", then=Step.VILLAGE)


async def search_village(update: Update, context: BotContext) -> int:
    """Searches villages inside the mentor's area and offers the closest as buttons."""
    return await flow.offer_villages(update, context, Step.VILLAGE, typed_search(update),
                                     texts="grp")


async def got_village(update: Update, context: BotContext) -> int:
    """Stores the village (re-checked inside the mentor's area) and asks for the business."""
    query = update.callback_query
    place = await pressed_village(query, context)
    if place is None:
        return Step.VILLAGE
    flow.draft(context)["village"] = place.code
    await close_buttons(query, place.label)
    return await flow.next(update, context, Step.BUSINESS)


async def got_business(update: Update, context: BotContext) -> int:
    """Stores the business type and asks for the binding ties."""
    return await flow.choose(update, context, store="business", among=BusinessType,
                             label="business", then=Step.TIES)


async def got_formed(update: Update, context: BotContext) -> int:
    """Stores the date formed (not in the future) and asks for the stage."""
    today = flow.today(context)
    text = update.effective_message.text or ""
    formed = parse_date(text, today=today)
    if formed is None:
        return await flow.retry(update, context, Step.FORMED, unreadable_date(
            context, text, today, context.t("grp.bad_formed")))
    wrong = check_formed(formed, today=today)
    if wrong is GroupReason.FORMED_TOO_EARLY:  # read, but older than the programme itself
        return await flow.retry(update, context, Step.FORMED, context.t(
            "grp.old_formed", date=format_date(formed, context.lang), year=EARLIEST_FORMED_YEAR))
    if wrong is GroupReason.FORMED_IN_FUTURE:
        return await flow.retry(update, context, Step.FORMED, context.t(
            "grp.future_formed", today=format_date(today, context.lang)))
    flow.draft(context)["formed"] = formed.isoformat()
    await confirm(update, f"✓ {format_date(formed, context.lang)}")
    return await flow.next(update, context, Step.STAGE)


async def got_stage(update: Update, context: BotContext) -> int:
    """Stores the stage and asks for the member households."""
    return await flow.choose(update, context, store="stage", among=Stage, label="stage",
                             then=Step.MEMBERS)


async def got_members(update: Update, context: BotContext) -> int:
    """Stores or corrects the member list; asks again until it is complete, then sums up."""
    return await _take_members(update, context)


async def typed_at_buttons(update: Update, context: BotContext) -> int:
    """Text at the summary or the consent question: household lines still correct the list
    (a line sent again without its NIK: that family did not agree); anything else is not an
    answer to their buttons, so the same buttons come again and the list stays as it is."""
    text = (update.effective_message.text or "")[:4000]
    if is_list_correction(_lines(context), text):
        return await _take_members(update, context)
    return await flow.press_a_button(update, context)


async def _take_members(update: Update, context: BotContext) -> int:
    text = (update.effective_message.text or "")[:4000]
    lines = _lines(context)
    if not lines:
        lines = parse_member_lines(text)
        if not lines:
            return await flow.retry(update, context, Step.MEMBERS, context.t("grp.members_empty"))
        _store(context, lines)
        return await _after_change(update, context)
    if is_whole_list_again(lines, text, minimum=context.settings.group_min_size):
        # The list written again after its problems were shown: appended it would hold every
        # household twice (and two ketua), so ask once which was meant.
        flow.draft(context)["_new_list"] = text
        return await flow.ask(update, context, Step.REPLACE)
    return await _append(update, context, lines, text)


async def _append(update: Update, context: BotContext, lines: list[MemberLine],
                  text: str) -> int:
    """Applies ``text``'s changes ("2. …", "hapus 2", new lines) to ``lines``; a change giving
    an officer role a second holder asks first whether it replaces the first."""
    before = [MemberLine(**asdict(line)) for line in lines]
    skipped = apply_list_corrections(lines, text)
    if skipped:
        await say(update, context.t("grp.bad_line_no", no=", ".join(map(str, skipped)),
                                    count=len(before)))
    _store(context, lines)
    conflicts = _role_conflicts(before, lines)
    if conflicts:
        flow.draft(context)["_role_swaps"] = conflicts
        return await flow.ask(update, context, Step.ROLE)
    return await _after_change(update, context)


async def _after_change(update: Update, context: BotContext) -> int:
    """The list with what is still wrong, or (all well) the summary."""
    if _problems(context, _lines(context)):
        return await flow.ask(update, context, Step.MEMBERS)
    return await flow.sum_up(update, context)


async def replace_list(update: Update, context: BotContext) -> int:
    """Ya, ganti: the list sent again replaces the earlier one; Tidak, tambahkan: its lines are
    added to it (as changes are)."""
    query = update.callback_query
    draft = flow.draft(context)
    text = draft.pop("_new_list", None)
    if text is None:
        return await flow.stale(update, context)
    if pressed(query) == "yes":
        await close_buttons(query, context.t("grp.replace_yes"))
        _store(context, parse_member_lines(text))
        return await _after_change(update, context)
    await close_buttons(query, context.t("grp.replace_no"))
    return await _append(update, context, _lines(context), text)


async def replace_role(update: Update, context: BotContext) -> int:
    """Ya, ganti: the new line holds the officer role and the earlier holder becomes anggota;
    Tidak: the earlier holder keeps it and the new line is anggota. A further role given a
    second holder by the same change is asked next."""
    query = update.callback_query
    draft = flow.draft(context)
    swaps = draft.get("_role_swaps") or []
    lines = _lines(context)
    if not swaps or max(swaps[0][1:]) > len(lines):
        draft.pop("_role_swaps", None)
        return await flow.stale(update, context)
    _role, old_no, new_no = swaps.pop(0)
    yes = pressed(query) == "yes"
    await close_buttons(query, context.t("officer.replace_yes" if yes else "officer.replace_no"))
    lines[(old_no if yes else new_no) - 1].role = MemberRole.MEMBER.value
    _store(context, lines)
    if swaps:
        return await flow.ask(update, context, Step.ROLE, fresh=True)
    draft.pop("_role_swaps", None)
    return await _after_change(update, context)


async def got_consent(update: Update, context: BotContext) -> int:
    """Ya: the families agreed, their NIKs and phones are kept (consent recorded on saving).
    Tidak: those NIKs and phones leave the draft; names and categories stay."""
    query = update.callback_query
    draft = flow.draft(context)
    lines = _lines(context)
    agreed = set(draft.get("agreed", []))
    if pressed(query) == "yes":
        agreed.update(value for line in _unagreed(context, lines)
                      for value in (line.nik, line.phone) if value)
        draft["agreed"] = sorted(agreed)
        await close_buttons(query, context.t("consent.yes"))
    else:
        for line in _unagreed(context, lines):
            if line.nik not in agreed:
                line.nik = None
            if line.phone not in agreed:
                line.phone = None
            line.raw = mask_numbers(line.raw)  # what was typed goes too
        _store(context, lines)
        await close_buttons(query, context.t("consent.no"))
        await say(update, context.t("consent.dropped"))
    return await flow.ask(update, context, Step.CONFIRM)


async def ask_restart(update: Update, context: BotContext) -> int:
    """🗑 Tulis ulang semua: asks first, so one mistaken tap cannot lose a typed list."""
    await close_buttons(update.callback_query)
    if not _lines(context):
        return await flow.ask(update, context, Step.MEMBERS)
    return await flow.ask(update, context, Step.RESTART)


async def restart_members(update: Update, context: BotContext) -> int:
    """Ya, hapus: empties the member list and asks for it again, but only the list the
    question counted ("grp:restart:yes:<count>", re-checked); Tidak: the list as it was."""
    query = update.callback_query
    answer = query.data.split(":")[2]
    lines = _lines(context)
    if answer == "yes" and pressed(query) != str(len(lines)):
        await close_buttons(query)
        return await flow.retry(update, context, Step.RESTART, context.t("common.old_button"))
    if answer == "yes":
        await close_buttons(query, context.t("grp.restart_yes"))
        flow.draft(context)["members"] = []
    else:
        await close_buttons(query, context.t("grp.restart_no"))
    return await flow.ask(update, context, Step.MEMBERS)


async def save(update: Update, context: BotContext) -> int:
    """Saves the group and its households (once, even if the press is redelivered)."""
    query = update.callback_query
    draft = flow.draft(context)
    lines = _lines(context)
    required = {"name", "village", "business", "ties", "formed", "stage"}
    if not required <= draft.keys() or any(not line.ok for line in lines):
        return await flow.stale(update, context)
    settings = context.settings
    result = await flow.save_through(update, context, save_group, group=NewGroup(
        actor=context.mentor, name=draft["name"], village_code=draft["village"],
        business_type=draft["business"], binding_ties=tuple(draft["ties"]),
        formed_on=date.fromisoformat(draft["formed"]), stage=draft["stage"],
        households=tuple(Household.from_line(line, agreed=draft.get("agreed", []))
                         for line in lines),
        update_id=update.update_id),
        min_size=settings.group_min_size, max_size=settings.group_max_size,
        interval_days=settings.visit_interval_days)
    if isinstance(result, GroupRefusal):
        if result.reason == GroupReason.NO_CONSENT:  # never stored without the families' consent
            await close_buttons(query)
            return await flow.ask(update, context, Step.CONSENT)
        if result.reason == GroupReason.VILLAGE_OUTSIDE_AREA:
            await query.answer(context.t("grp.not_found"), show_alert=True)
            return Step.CONFIRM
        return await flow.stale(update, context)  # the questions let none of the others by
    await close_buttons(query)
    group = result.record
    # The group's place is offered, never asked as a step: registering stays as short as it was.
    await say(update, context.t("grp.saved", name=group.name, count=len(lines),
                                next_due=format_date(group.next_visit_due, context.lang)),
              reply_markup=keyboard([[group_place.save_button(context, group.id)]]))
    return END


def handlers() -> list[BaseHandler]:
    """/tambah_kelompok, new for each Application."""
    return [flow.build({
        Step.NAME: {TEXT: got_name},
        Step.VILLAGE: {TEXT: search_village, f"vil:{VILLAGE_CODE}": got_village},
        Step.BUSINESS: {r"biz:\w+": got_business},
        Step.TIES: ties.answers(),
        Step.FORMED: {TEXT: got_formed},
        Step.STAGE: {r"stage:\w+": got_stage},
        Step.MEMBERS: {TEXT: got_members, "members:restart": ask_restart},
        Step.RESTART: {r"restart:(?:yes:\d{1,2}|no)": restart_members},
        Step.REPLACE: {"replace:(yes|no)": replace_list},
        Step.ROLE: {"role:(yes|no)": replace_role},
        # Household lines typed at the summary still correct the list; other text is told to
        # press a button.
        Step.CONFIRM: {TEXT: typed_at_buttons},
        Step.EDIT: {TEXT: typed_at_buttons},
        # A line sent again without its NIK / phone: that family did not agree.
        Step.CONSENT: {"consent:(yes|no)": got_consent, TEXT: typed_at_buttons},
    }, entry={"/tambah_kelompok": start},
        summary=Summary(save=save, fields=FIELDS, labels="grp.field", formerly=(Step.EDIT,)))]
