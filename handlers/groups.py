"""/kelompok: the mentor's groups with last visit, next due date and days overdue; a card each.
A coordinator or admin gets the groups of their area, with each group's mentor, searchable by
name ("/kelompok mawar")."""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.core import clock
from bot.core.enums import GroupStatus, Role
from bot.core.formatting import format_date
from bot.core.parsing import group_problems
from bot.core.patterns import ID
from bot.core.places import village_short_name
from bot.telegram.context import BotContext
from handlers import grants_views as grant_views
from handlers import group_changes, group_chart, group_place, trainings
from handlers.common import PAGE, STAFF_ROLES, guard, keyboard, say
from handlers.member_texts import households_text, member_line_text, problems_text
from models import changes, profiles
from models import grants as grant_queries
from models import groups as group_queries
from models import visits as visit_queries
from models.groups import GroupRow
from models.tables import Group

PREFIX = "kel"
PAGE_SIZE = 8


def _due_text(context: BotContext, group: Group, today) -> tuple[str, str]:
    """The next due date and an overdue / due-today marker; none for a group that is not
    aktif (it gets no visit reminders)."""
    if group.next_visit_due is None or group.status != GroupStatus.ACTIVE:
        return "-", ""
    overdue = (today - group.next_visit_due).days
    marker = ""
    if overdue > 0:
        marker = context.t("grp.overdue", days=overdue)
    elif overdue == 0:
        marker = context.t("grp.due_today")
    return format_date(group.next_visit_due, context.lang), marker


def _village(context: BotContext, group: Group) -> str:
    """"Desa Sukamaju" or "Kel. Cibadak", as the village's code says."""
    place = context.places.get(group.village_code)
    return village_short_name(place.code, place.name) if place else group.village_code


def _named(context: BotContext, group: Group) -> str:
    """The group's name, with its status when it is not aktif ("KUBE Mawar (Bubar)")."""
    if group.status == GroupStatus.ACTIVE:
        return group.name
    return group.name + context.t("life.marker", status=context.t(f"gstatus.{group.status}"))


def _card_keyboard(context: BotContext, group_id: int, page: int = 0, extra_rows=(),
                   read_only: bool = False, own: bool = True):
    first = [(context.t("grp.btn.detail"), f"{PREFIX}:det:{group_id}")]
    if not read_only and own:  # a dissolved group gets no new visit; only its mentor visits
        first.append((context.t("grp.btn.visit"), f"kun:start:{group_id}"))
    return keyboard([
        first,
        [(context.t("grp.btn.members"), f"mem:list:{group_id}"),
         (context.t("grp.btn.history"), f"riw:group:{group_id}")],
        *extra_rows,
        [(context.t("grp.btn.list"), f"{PREFIX}:page:{page}")],
    ])


async def _say_page(update: Update, context: BotContext, header: str, rows: list,
                    page: int, pages: int, today=None) -> None:
    """One page of a group list: ``header``, the page's ``rows`` (each with its grants, and
    its mentor when the row names one), their buttons and the arrows. ``today``: the reader's
    day, else each group's own."""
    grant_totals = await grant_queries.totals_for_groups(
        session=context.session, group_ids=[row.group.id for row in rows])
    items = []
    for no, row in enumerate(rows, start=page * PAGE_SIZE + 1):
        due, marker = _due_text(context, row.group,
                                today or clock.today_for(row.group.village_code))
        mentor = getattr(row, "mentor_name", None)
        items.append(context.t(
            "grp.list_item", no=no, name=_named(context, row.group), members=row.members,
            last=format_date(row.last_visit, context.lang) if row.last_visit
            else context.t("grp.never"), due=due, overdue=marker)
            + (context.t("grp.staff_mentor", mentor=mentor) if mentor is not None else "")
            + grant_views.group_list_line(context, grant_totals.get(row.group.id)))
    text = header + "\n\n" + "\n\n".join(items)
    if pages > 1:
        text += "\n\n" + context.t("grp.page", page=page + 1, pages=pages)
    buttons = [[(f"{no}. {row.group.name}"[:60], f"{PREFIX}:card:{row.group.id}:{page}")]
               for no, row in enumerate(rows, start=page * PAGE_SIZE + 1)]
    nav = []
    if page > 0:
        nav.append((context.t("grp.prev_page"), f"{PREFIX}:page:{page - 1}"))
    if page < pages - 1:
        nav.append((context.t("grp.next_page"), f"{PREFIX}:page:{page + 1}"))
    if nav:
        buttons.append(nav)
    await say(update, text, reply_markup=keyboard(buttons))


async def _send_list(update: Update, context: BotContext, page: int) -> None:
    if context.mentor.role in STAFF_ROLES:
        await _send_staff_list(update, context, page)
        return
    rows = await group_queries.list_for_mentor(session=context.session, mentor=context.mentor)
    if not rows:
        await say(update, context.t("grp.list_empty"))
        return
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    await _say_page(update, context, context.t("grp.list_header", count=len(rows)),
                    rows[page * PAGE_SIZE:(page + 1) * PAGE_SIZE], page, pages,
                    today=clock.today_for(context.mentor.area_code))


# --- /kelompok for coordinators and admins ------------------------------------------------------

FILTER_KEY = "kel_filter"
FILTER_MAX = 40


def _area_label(context: BotContext) -> str:
    """Where the coordinator's list comes from ("Kab. Sukabumi, Jawa Barat"); an admin's:
    everywhere."""
    area = context.mentor.area_code if context.mentor.role == Role.COORDINATOR else None
    place = context.places.get(area) if area else None
    if place is not None:
        return place.label
    return area or context.t("grp.staff_everywhere")


async def _send_staff_list(update: Update, context: BotContext, page: int) -> None:
    """A page of the groups of the coordinator's area (all groups for an admin), filtered by
    the name typed after /kelompok (kept for the page buttons), each with its mentor."""
    name_like = (context.user_data or {}).get(FILTER_KEY) or None
    area = _area_label(context)
    page = max(page, 0)
    total, rows = await group_queries.list_for_staff(
        session=context.session, actor=context.mentor, name_like=name_like,
        offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if total and page > pages - 1:  # an old page button, the list has shrunk since
        page = pages - 1
        total, rows = await group_queries.list_for_staff(
            session=context.session, actor=context.mentor, name_like=name_like,
            offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    if not total:
        await say(update, context.t("grp.staff_no_match", query=name_like, area=area)
                  if name_like else context.t("grp.staff_empty", area=area))
        return
    header = context.t("grp.staff_header", area=area, count=total)
    if name_like:
        header += "\n" + context.t("grp.staff_searched", query=name_like)
    header += "\n" + context.t("grp.staff_hint")
    await _say_page(update, context, header, rows, page, pages)


def _typed_filter(context: BotContext) -> str | None:
    """The name typed after /kelompok ("/kelompok mawar"), spaces tidied, at most
    FILTER_MAX characters; None without one."""
    typed = " ".join(" ".join(context.args or []).split())[:FILTER_MAX].strip()
    return typed or None


@guard()
async def list_groups(update: Update, context: BotContext) -> None:
    """/kelompok: the first page of the mentor's groups, most overdue first; a coordinator's
    or admin's: the groups of their area, filtered by the name typed after the command."""
    if context.mentor.role in STAFF_ROLES:
        context.user_data[FILTER_KEY] = _typed_filter(context)
    await _send_list(update, context, 0)


@guard()
async def list_page(update: Update, context: BotContext) -> None:
    """Another page of the list (or back to the list from a card)."""
    await update.callback_query.answer()
    await _send_list(update, context, int(update.callback_query.data.split(":")[2]))


async def _row(context: BotContext, group_id: int) -> GroupRow | None:
    """The group as a row with counts, if the user may see it."""
    group = await group_queries.get_visible(session=context.session, group_id=group_id,
                                            actor=context.mentor)
    if group is None:
        return None
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    last = await visit_queries.last_visit_on(session=context.session, group_id=group.id)
    return GroupRow(group, len(members), last)


@guard()
async def card(update: Update, context: BotContext) -> None:
    """One group's card with its buttons: Detail, Catat kunjungan, Anggota, Riwayat."""
    query = update.callback_query
    parts = query.data.split(":")
    row = await _row(context, int(parts[2]))
    if row is None:
        await query.answer(context.t("grp.not_found"), show_alert=True)
        return
    await query.answer()
    group = row.group
    due, marker = _due_text(context, group, clock.today_for(group.village_code))
    text = context.t(
        "grp.card", name=_named(context, group), village=_village(context, group),
        members=row.members,
        business=context.t(f"business.{group.business_type}"),
        stage=context.t(f"stage.{group.stage}"),
        last=format_date(row.last_visit, context.lang) if row.last_visit
        else context.t("grp.never"), due=due, overdue=marker)
    page = int(parts[3]) if len(parts) > 3 else 0
    await say(update, text, reply_markup=_card_keyboard(
        context, group.id, page, read_only=changes.is_read_only(group),
        own=group.mentor_id == context.mentor.id))


@guard()
async def detail(update: Update, context: BotContext) -> None:
    """Everything about one group, members included (personal data masked)."""
    query = update.callback_query
    group_id = int(query.data.split(":")[2])
    row = await _row(context, group_id)
    if row is None:
        await query.answer(context.t("grp.not_found"), show_alert=True)
        return
    await query.answer()
    group = row.group
    members = await group_queries.active_members(session=context.session, group_id=group.id)
    problems = group_problems(members, minimum=context.settings.group_min_size,
                              maximum=context.settings.group_max_size)
    complete = (context.t("grp.complete") if not problems
                else context.t("grp.incomplete", problems=problems_text(context, problems)))
    place = context.places.get(group.village_code)
    due, marker = _due_text(context, group, clock.today_for(group.village_code))
    lines = "\n".join(member_line_text(context, m, no) for no, m in enumerate(members, 1))
    text = context.t(
        "grp.detail", name=_named(context, group),
        village=place.label if place else group.village_code,
        business=context.t(f"business.{group.business_type}"),
        ties=", ".join(context.t(f"tie.{tie}") for tie in group.binding_ties),
        formed=format_date(group.formed_on, context.lang),
        stage=context.t(f"stage.{group.stage}"), interval=group.visit_interval_days,
        last=format_date(row.last_visit, context.lang) if row.last_visit
        else context.t("grp.never"), due=due, overdue=marker, complete=complete,
        members=context.t("grp.members_list", count=len(members), lines=lines) + "\n"
        + households_text(context, members, await group_queries.count_graduated(
            session=context.session, group_ids=[group.id])))
    text += "\n\n" + _life_text(context, group)
    grants_text, grant_rows = await grant_views.group_block(context, group)
    if grants_text:
        text += "\n\n" + grants_text
    trainings_text = await trainings.group_block(context, group)
    if trainings_text:
        text += "\n\n" + trainings_text
    latest = await group_changes.latest_text(context, group)
    if latest:
        text += "\n\n" + latest
    read_only = changes.is_read_only(group)
    figures_row = [group_chart.button(context, group.id)]
    if group.mentor_id == context.mentor.id and not read_only:
        grant_rows = [[(context.t("grant.btn.add"), f"hib:start:{group.id}"),
                       (context.t("sched.button"), f"jdw:ask:{group.id}")], *grant_rows]
        figures_row.insert(0, trainings.start_button(context, group.id))
    await say(update, text, reply_markup=_card_keyboard(
        context, group.id, extra_rows=[*grant_rows, figures_row, *_life_rows(context, group)],
        read_only=read_only, own=group.mentor_id == context.mentor.id))


def _life_text(context: BotContext, group: Group) -> str:
    """The group's status (since when and why, once it changed), its bank account (number
    masked) and its grant's decree, when known."""
    status = context.t(f"gstatus.{group.status}")
    if group.status_on is not None and group.status_reason:
        lines = [context.t("life.status_since", status=status,
                           date=format_date(group.status_on, context.lang),
                           reason=context.t(f"sreason.{group.status_reason}"))]
    else:
        lines = [context.t("life.status_line", status=status)]
    if group.bank_account or group.bank_name:
        lines.append(context.t("life.bank_line", bank=group.bank_name or "-",
                               holder=group.bank_holder or "-",
                               number=profiles.mask_account(group.bank_account) or "-"))
    if group.decree_number or group.decree_year:
        lines.append(context.t("life.decree_line", number=group.decree_number or "-",
                               year=group.decree_year or "-"))
    place = group_place.place_line(context, group)
    if place:
        lines.append(place)
    return "\n".join(lines)


def _life_rows(context: BotContext, group: Group) -> list[list[tuple[str, str]]]:
    """Status, Tahap and Ubah data for the group's mentor and the coordinators and admins of
    its area (a dissolved group: its status only); the history of changes and the group's
    place for everyone who sees the group. The handlers check again on every press."""
    rows = []
    if group.mentor_id == context.mentor.id or context.mentor.role in STAFF_ROLES:
        row = [(context.t("life.btn.status"), f"sts:start:{group.id}")]
        if not changes.is_read_only(group):
            row += [(context.t("life.btn.stage"), f"tah:start:{group.id}"),
                    (context.t("life.btn.profile"), f"prf:start:{group.id}")]
        rows.append(row)
    rows.append([group_changes.button(context, group.id),
                 group_place.show_button(context, group.id)])
    return rows


def handlers() -> list[BaseHandler]:
    """/kelompok and the group cards, new for each Application."""
    return [
        CommandHandler("kelompok", list_groups),
        CallbackQueryHandler(list_page, pattern=rf"^{PREFIX}:page:{PAGE}$"),
        CallbackQueryHandler(card, pattern=rf"^{PREFIX}:card:{ID}(:{PAGE})?$"),
        CallbackQueryHandler(detail, pattern=rf"^{PREFIX}:det:{ID}$"),
    ]
