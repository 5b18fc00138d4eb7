"""Queries on KUBE groups and their member households. Access rules live here, not in menus."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuditAction, ChangeKind, GroupStatus, LeaveReason, MemberRole, Role
from bot.core.geo import Point, in_indonesia
from bot.core.parsing import mask_numbers
from bot.core.reminder_rules import Rules
from models import audit, changes, reminders
from models import updates as update_queries
from models.crypto import lookup_hash
from models.group_places import refresh_place
from models.tables import (
    FREE_TEXT,
    NAMES,
    Grant,
    Group,
    GroupChange,
    Member,
    Mentor,
    Rollover,
    Visit,
    utcnow,
)

PERSONAL_FIELDS = ("nik", "phone")
# About the household, not personal: the head of household's sex and DTKS/DTSEN registration.
HOUSEHOLD_FIELDS = ("head_sex", "register_status", "register_decile")
LEAVE_FIELDS = {"left_on", "role", "leave_reason", "leave_note"}


def has_personal_data(data: Any) -> bool:
    """Whether a household (a dict, a parsed line or a row) carries a NIK or a phone number."""
    if isinstance(data, dict):
        return any(data.get(field) for field in PERSONAL_FIELDS)
    return any(getattr(data, field, None) for field in PERSONAL_FIELDS)


def with_consent(data: dict[str, Any], consent_by: Mentor | None) -> dict[str, Any]:
    """The household's fields with its consent recorded (when, and which mentor confirmed it).

    A NIK or phone number without consent is a bug in the caller, never stored.
    """
    if not has_personal_data(data):
        return data
    if consent_by is None:
        raise ValueError("NIK and phone numbers are stored only with the household's consent")
    return {**data, "consent_at": utcnow(), "consent_by": consent_by.id}


def visible_groups_clause(actor: Mentor) -> Any:
    """The SQL condition for the groups ``actor`` may see: own groups, or the area's, or all."""
    if actor.role == Role.ADMIN:
        return True
    if actor.role == Role.COORDINATOR and actor.area_code:
        return or_(Group.village_code.like(actor.area_code + ".%"),
                   Group.mentor_id == actor.id)
    return Group.mentor_id == actor.id


async def get_visible(*, session: AsyncSession, group_id: int, actor: Mentor) -> Group | None:
    """The group if ``actor`` may see it, else None (callers treat both the same way)."""
    result = await session.execute(
        select(Group).where(Group.id == group_id, visible_groups_clause(actor))
    )
    return result.scalar_one_or_none()


async def get_own(*, session: AsyncSession, group_id: int, mentor: Mentor) -> Group | None:
    """The group if ``mentor`` is its mentor (only the mentor logs visits and edits members)."""
    result = await session.execute(_OWN, {"group_id": group_id, "mentor_id": mentor.id})
    return result.scalar_one_or_none()


def writable_clause() -> Any:
    """The SQL condition for a group whose records may still change: not dissolved (bubar).
    A dissolved group's records stay, read-only (models.changes.is_read_only)."""
    return Group.status != GroupStatus.DISSOLVED


async def get_writable(*, session: AsyncSession, group_id: int, mentor: Mentor) -> Group | None:
    """The group if ``mentor`` is its mentor and its records may still change: the path every
    writer takes (a visit, a grant, a roll-over, members, the schedule), so a dissolved group
    is read-only wherever it is written to. :func:`dissolved_own` tells the two apart."""
    result = await session.execute(_WRITABLE, {"group_id": group_id, "mentor_id": mentor.id})
    return result.scalar_one_or_none()


async def dissolved_own(*, session: AsyncSession, group_id: int, actor: Mentor) -> Group | None:
    """The group if ``actor`` may see it and it is dissolved: why :func:`get_writable` (or
    :func:`get_manageable` for a change) found nothing, to be said kindly."""
    group = await get_visible(session=session, group_id=group_id, actor=actor)
    return group if group is not None and group.status == GroupStatus.DISSOLVED else None


async def get_manageable(*, session: AsyncSession, group_id: int, actor: Mentor
                         ) -> Group | None:
    """The group if ``actor`` may change its status, stage and details: its mentor, or a
    coordinator or admin whose area holds it (a mentor of another area, or an id made up,
    finds nothing)."""
    group = await get_visible(session=session, group_id=group_id, actor=actor)
    if group is None:
        return None
    if group.mentor_id == actor.id or actor.role in (Role.COORDINATOR, Role.ADMIN):
        return group
    return None


@dataclass(frozen=True)
class GroupRow:
    group: Group
    members: int
    last_visit: date | None

    def days_overdue(self, today: date) -> int:
        if self.group.next_visit_due is None:
            return 0
        return max(0, (today - self.group.next_visit_due).days)


def members_and_last_visit(scope: Any = None) -> tuple[Any, Any]:
    """Per group, its active households (``n``) and its last visit (``last``), as subqueries
    for a list of groups to join; ``scope`` (a condition on Group) keeps the groups it holds,
    so a list of one area does not count the whole country's households and visits."""
    members = select(Member.group_id, func.count().label("n")).where(Member.left_on.is_(None))
    last = select(Visit.group_id, func.max(Visit.visited_on).label("last"))
    if scope is not None:
        members = members.join(Group, Group.id == Member.group_id).where(scope)
        last = last.join(Group, Group.id == Visit.group_id).where(scope)
    return (members.group_by(Member.group_id).subquery(),
            last.group_by(Visit.group_id).subquery())


# The statements read on most steps of a mentor's conversations are built once: building one
# (select(), ==, its cache key) costs more than running it on SQLite.
_OWN = select(Group).where(Group.id == bindparam("group_id"),
                           Group.mentor_id == bindparam("mentor_id"))
_WRITABLE = _OWN.where(writable_clause())
_ACTIVE_MEMBERS = (select(func.count()).select_from(Member)
                   .where(Member.group_id == bindparam("group_id"), Member.left_on.is_(None)))


def _for_mentor() -> Any:
    members, last = members_and_last_visit()
    return (select(Group, func.coalesce(members.c.n, 0), last.c.last)
            .outerjoin(members, members.c.group_id == Group.id)
            .outerjoin(last, last.c.group_id == Group.id)
            .where(Group.mentor_id == bindparam("mentor_id"))
            .order_by(Group.next_visit_due.is_(None), Group.next_visit_due, Group.name,
                      Group.id))


_FOR_MENTOR = _for_mentor()


async def list_for_mentor(*, session: AsyncSession, mentor: Mentor) -> list[GroupRow]:
    """The mentor's groups, most overdue first, with member counts and last visit dates."""
    result = await session.execute(_FOR_MENTOR, {"mentor_id": mentor.id})
    return [GroupRow(group, int(count), last_visit) for group, count, last_visit in result]


@dataclass(frozen=True)
class StaffGroupRow(GroupRow):
    """A row of a coordinator's or admin's /kelompok: the group's mentor named too."""
    mentor_name: str = ""


def _contains_pattern(name_like: str) -> str:
    """A LIKE pattern (escape character "\\") for "contains ``name_like``", lower case: a
    typed % or _ matches itself, not anything."""
    escaped = (name_like.lower().replace("\\", "\\\\").replace("%", "\\%")
               .replace("_", "\\_"))
    return "%" + escaped + "%"


async def list_for_staff(*, session: AsyncSession, actor: Mentor, name_like: str | None = None,
                         offset: int = 0, limit: int = 8) -> tuple[int, list[StaffGroupRow]]:
    """One page of the groups a coordinator or admin may see (:func:`visible_groups_clause`:
    the coordinator's area, everything for an admin), aktif groups most overdue first, then
    the others by name; ``name_like`` keeps those whose name contains it (any case). Returns
    how many groups match in all, and the page's rows with their member counts, last visit
    and mentor's name (one query for the rows, one for the count)."""
    where = [visible_groups_clause(actor)]
    if name_like and name_like.strip():
        where.append(func.lower(Group.name).like(_contains_pattern(name_like.strip()),
                                                 escape="\\"))
    total = (await session.execute(
        select(func.count()).select_from(Group).where(*where))).scalar_one()
    members, last = members_and_last_visit()
    inactive = Group.status != GroupStatus.ACTIVE
    result = await session.execute(
        select(Group, func.coalesce(members.c.n, 0), last.c.last, Mentor.name)
        .join(Mentor, Mentor.id == Group.mentor_id)
        .outerjoin(members, members.c.group_id == Group.id)
        .outerjoin(last, last.c.group_id == Group.id)
        .where(*where)
        .order_by(inactive, Group.next_visit_due.is_(None), Group.next_visit_due,
                  Group.name, Group.id)
        .offset(max(offset, 0)).limit(limit)
    )
    return total, [StaffGroupRow(group, int(count), last_visit, mentor_name)
                   for group, count, last_visit, mentor_name in result]


async def active_members(*, session: AsyncSession, group_id: int) -> list[Member]:
    result = await session.execute(
        select(Member).where(Member.group_id == group_id, Member.left_on.is_(None))
        .order_by(Member.id)
    )
    return list(result.scalars())


async def count_active_members(*, session: AsyncSession, group_id: int) -> int:
    """How many households are in the group now, without loading (and decrypting) them."""
    return (await session.execute(_ACTIVE_MEMBERS, {"group_id": group_id})).scalar_one()


async def all_members(*, session: AsyncSession, group_id: int) -> list[Member]:
    """Every household that was ever in the group, current ones first."""
    result = await session.execute(
        select(Member).where(Member.group_id == group_id)
        .order_by(Member.left_on.is_not(None), Member.joined_on, Member.id)
    )
    return list(result.scalars())


async def create_group(
    *,
    session: AsyncSession,
    mentor: Mentor,
    name: str,
    village_code: str,
    business_type: str,
    binding_ties: list[str],
    formed_on: date,
    stage: str,
    visit_interval_days: int,
    next_visit_due: date,
    members: list[dict[str, Any]],
    today: date,
    update_id: int | None = None,
    rules: Rules | None = None,
    consented: bool = False,
) -> tuple[Group, bool]:
    """Saves a group with its households and audit rows in one transaction.

    The households form the group: they joined it the day it was formed (``formed_on``), not
    the day it was registered (``today``, from which its visit reminders are scheduled).
    ``consented``: the mentor confirmed that the households agreed to their NIK and phone
    being recorded (required when any household has one). Returns (group, created). A
    redelivered update finds the group it already created.
    """
    members = [with_consent(data, mentor if consented else None) for data in members]
    group, created = await update_queries.create_once(session=session, row=Group(
        name=name, village_code=village_code, business_type=business_type,
        binding_ties=list(binding_ties), formed_on=formed_on, stage=stage,
        visit_interval_days=visit_interval_days, mentor_id=mentor.id,
        next_visit_due=next_visit_due, source_update_id=update_id,
    ), update_id=update_id, actor_telegram_id=mentor.telegram_id, entity="group")
    if not created:
        return group, False
    changes.record_start(session=session, group=group, by=mentor)
    actor = mentor.telegram_id
    # Flushed together: on PostgreSQL one INSERT for all households. (SQLite's RETURNING
    # gives rows in no promised order, so SQLAlchemy still inserts them one by one there.)
    rows = [Member(group_id=group.id, joined_on=formed_on, **data) for data in members]
    session.add_all(rows)
    await session.flush()
    for member in rows:
        audit.record(session=session, actor_telegram_id=actor, action=AuditAction.CREATE,
                     entity="member", entity_id=member.id, new=audit.snapshot(member))
    await reminders.schedule_new_group(session=session, group=group, today=today, rules=rules)
    if update_id is not None:
        await update_queries.mark_in_transaction(session=session, update_id=update_id)
    await session.commit()
    return group, True


async def add_member(
    *, session: AsyncSession, group: Group, actor: Mentor, data: dict[str, Any], joined_on: date,
    consented: bool = False,
) -> Member:
    """Adds a household; ``consented`` as for :func:`create_group`."""
    data = with_consent(data, actor if consented else None)
    member = Member(group_id=group.id, joined_on=joined_on, **data)
    session.add(member)
    await session.flush()
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.CREATE, entity="member", entity_id=member.id,
                 new=audit.snapshot(member))
    await session.commit()
    return member


async def get_member(*, session: AsyncSession, group: Group, member_id: int) -> Member | None:
    """A current member of this very group (an id from another group is refused)."""
    result = await session.execute(
        select(Member).where(and_(Member.id == member_id, Member.group_id == group.id,
                                  Member.left_on.is_(None)))
    )
    return result.scalar_one_or_none()


async def nik_in_group(*, session: AsyncSession, group_id: int, nik: str) -> str | None:
    """The name of the current household of the group with this NIK (found by its keyed
    hash), or None."""
    result = await session.execute(
        select(Member.name).where(Member.group_id == group_id, Member.left_on.is_(None),
                                  Member.nik_hash == lookup_hash(nik, "nik")).limit(1))
    return result.scalar_one_or_none()


async def find_by_nik(*, session: AsyncSession, nik: str) -> list[Member]:
    """Every household row with this NIK, in any group (found by its keyed hash)."""
    result = await session.execute(
        select(Member).where(Member.nik_hash == lookup_hash(nik, "nik")).order_by(Member.id))
    return list(result.scalars())


async def visible_groups(*, session: AsyncSession, actor: Mentor, name_like: str | None = None,
                         limit: int = 50) -> list[Group]:
    """The groups ``actor`` may see (see :func:`visible_groups_clause`), by name; ``name_like``
    keeps those whose name contains it (any case)."""
    query = select(Group).where(visible_groups_clause(actor))
    if name_like:
        pattern = "%" + name_like.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(func.lower(Group.name).like(pattern.lower()))
    result = await session.execute(query.order_by(Group.name, Group.id).limit(limit))
    return list(result.scalars())


async def erasable_members(*, session: AsyncSession, group: Group) -> list[Member]:
    """Households of the group whose personal data is still there, current ones first."""
    result = await session.execute(
        select(Member).where(Member.group_id == group.id, Member.erased_at.is_(None))
        .order_by(Member.left_on.is_not(None), Member.id))
    return list(result.scalars())


async def get_erasable(*, session: AsyncSession, group: Group, member_id: int) -> Member | None:
    """A household of this very group, not yet erased (an id from elsewhere is refused)."""
    result = await session.execute(
        select(Member).where(Member.id == member_id, Member.group_id == group.id,
                             Member.erased_at.is_(None)))
    return result.scalar_one_or_none()


def erased_name(member_id: int) -> str:
    """What stands for an erased household's name: unique in its group, so rules still hold."""
    return f"(dihapus #{member_id})"


async def erase_member(*, session: AsyncSession, member: Member, actor: Mentor,
                       reason: str) -> Member:
    """Erases the household's name, NIK and phone (ciphertexts and hashes) on request.

    The row stays with its category, role and dates, so the group's counts do not change; the
    audit row says who erased which member, when and why, and holds no personal data. The
    group's notes (visits, grants, roll-overs, history, leave notes, trainings) lose the
    household's full name and any NIK or phone number they quote; so do the group's other
    places for a name (tables.NAMES: the account holder, roll-over recipients, and their
    history).
    """
    notes = await _scrub_notes(session=session, group_id=member.group_id, name=member.name,
                               stands_for=erased_name(member.id))
    member.name = erased_name(member.id)
    member.nik = None
    member.phone = None
    member.erased_at = utcnow()
    session.add(member)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.ERASE, entity="member", entity_id=member.id,
                 new={"group_id": member.group_id, "reason": reason,
                      "erased": ["name", *PERSONAL_FIELDS]} | ({"notes": notes} if notes else {}))
    await session.commit()
    return member


async def _scrub_notes(*, session: AsyncSession, group_id: int, name: str,
                       stands_for: str) -> int:
    """Rewrites the group's notes (every FREE_TEXT field of its rows: visits, grants,
    roll-overs, history notes, households' leave notes, trainings) and its NAMES fields (with
    their history) without ``name`` (whole words, any case) and with numbers masked (rows
    stored before notes were masked); returns how many changed."""
    whole_name = re.compile(rf"(?<!\w){re.escape(name.strip())}(?!\w)", re.IGNORECASE) \
        if name.strip() else None
    rows: list[Any] = []
    for model in {*FREE_TEXT, *NAMES}:
        if model is Rollover:
            query = select(Rollover).join(Grant, Grant.id == Rollover.grant_id).where(
                Grant.group_id == group_id)
        elif model is Group:
            query = select(Group).where(Group.id == group_id)
        else:
            query = select(model).where(model.group_id == group_id)
        rows.extend((await session.execute(query)).scalars())
    named_history = {field for fields in NAMES.values() for field in fields}
    changed = 0
    for row in rows:
        fields = [*FREE_TEXT.get(type(row), ()), *NAMES.get(type(row), ())]
        if isinstance(row, GroupChange) and row.field in named_history:
            fields += ["old", "new"]
        for field in fields:
            value = getattr(row, field)
            if not value:
                continue
            clean = mask_numbers(whole_name.sub(stands_for, value) if whole_name else value)
            if clean != value:
                setattr(row, field, clean)
                session.add(row)
                changed += 1
    return changed


async def remove_member(
    *, session: AsyncSession, member: Member, actor: Mentor, left_on: date,
    reason: str | None = None, note: str | None = None,
) -> Member:
    """Marks the household as having left on ``left_on``, why (a LeaveReason) and, for
    "lainnya", a short ``note`` (stored with NIKs and phone numbers masked); the row stays for
    the history. The audit row shows the note only as "***" (it is free text)."""
    old = audit.snapshot(member, LEAVE_FIELDS)
    member.left_on = left_on
    member.leave_reason = reason
    member.leave_note = mask_numbers(note) if note else None
    session.add(member)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="member", entity_id=member.id, old=old,
                 new=audit.snapshot(member, LEAVE_FIELDS))
    await session.commit()
    return member


async def set_household(*, session: AsyncSession, member: Member, actor: Mentor,
                        values: dict[str, Any]) -> bool:
    """Sets some of :data:`HOUSEHOLD_FIELDS` (the head of household's sex, the DTKS/DTSEN
    status and decile), audited; False (nothing written) when nothing changes."""
    fields = set(values)
    assert fields <= set(HOUSEHOLD_FIELDS), fields
    old = audit.snapshot(member, fields)
    for field, value in values.items():
        setattr(member, field, value)
    new = audit.snapshot(member, fields)
    if new == old:
        return False
    session.add(member)
    before, after = audit.changes(old, new)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="member", entity_id=member.id,
                 old=before, new=after)
    await session.commit()
    return True


async def change_welfare(*, session: AsyncSession, group: Group, member: Member, category: str,
                         actor: Mentor, on: date) -> GroupChange | None:
    """Gives the household a new welfare category on ``on``, kept in the group's history (a
    "welfare" change naming the household) and audited; None when it already had it."""
    old = member.welfare_category
    if old == category:
        return None
    member.welfare_category = category
    session.add(member)
    change = changes.record(session=session, group_id=group.id, kind=ChangeKind.WELFARE,
                            field="welfare_category", old=old, new=category, by=actor, on=on,
                            member_id=member.id)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="member", entity_id=member.id,
                 old={"welfare_category": old}, new={"welfare_category": category})
    await session.commit()
    return change


async def welfare_history(*, session: AsyncSession, member_id: int) -> list[GroupChange]:
    """The household's welfare category changes, oldest first."""
    result = await session.execute(
        select(GroupChange).where(GroupChange.member_id == member_id,
                                  GroupChange.kind == ChangeKind.WELFARE,
                                  GroupChange.field == "welfare_category")
        .order_by(GroupChange.changed_on, GroupChange.id))
    return list(result.scalars())


async def count_graduated(*, session: AsyncSession, group_ids: list[int] | None = None,
                          area: str | None = None, since: date | None = None,
                          until: date | None = None) -> int:
    """How many households left their group as graduated (graduasi / sudah mampu): of the
    groups ``group_ids``, or of the groups in ``area`` (a Kemendagri code: the groups whose
    village is in it), or of all groups; counting those who left between ``since`` and
    ``until`` (both included) when given. The reports count a period's graduations with it."""
    query = select(func.count()).select_from(Member).where(
        Member.leave_reason == LeaveReason.GRADUATED, Member.left_on.is_not(None))
    if group_ids is not None:
        if not group_ids:
            return 0
        query = query.where(Member.group_id.in_(group_ids))
    if area:
        query = query.join(Group, Group.id == Member.group_id).where(
            or_(Group.village_code == area, Group.village_code.like(area + ".%")))
    if since is not None:
        query = query.where(Member.left_on >= since)
    if until is not None:
        query = query.where(Member.left_on <= until)
    return (await session.execute(query)).scalar_one()


async def change_role(
    *, session: AsyncSession, group: Group, member: Member, role: str, actor: Mentor
) -> Member | None:
    """Gives ``member`` a role. An officer role held by someone else passes to ``member``, and
    the previous holder becomes an ordinary member; returns that previous holder, if any."""
    previous = None
    if role != MemberRole.MEMBER:
        result = await session.execute(
            select(Member).where(Member.group_id == group.id, Member.left_on.is_(None),
                                 Member.role == role, Member.id != member.id)
        )
        previous = result.scalars().first()
        if previous is not None:
            old = audit.snapshot(previous, {"role"})
            previous.role = MemberRole.MEMBER
            session.add(previous)
            audit.record(session=session, actor_telegram_id=actor.telegram_id,
                         action=AuditAction.UPDATE, entity="member", entity_id=previous.id,
                         old=old, new={"role": str(MemberRole.MEMBER)})
    old = audit.snapshot(member, {"role"})
    member.role = role
    session.add(member)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="member", entity_id=member.id, old=old,
                 new={"role": role})
    await session.commit()
    return previous


async def get_many(*, session: AsyncSession, group_ids: list[int]) -> dict[int, Group]:
    if not group_ids:
        return {}
    result = await session.execute(select(Group).where(Group.id.in_(group_ids)))
    return {g.id: g for g in result.scalars()}


async def change_interval(*, session: AsyncSession, group: Group, days: int, actor: Mentor,
                          today: date, rules: Rules | None = None) -> Group:
    """Sets the visit interval; the next due date becomes last visit (or today) + interval,
    and the group's reminders are rescheduled in the same transaction."""
    last = (await session.execute(
        select(func.max(Visit.visited_on)).where(Visit.group_id == group.id))).scalar_one()
    old = audit.snapshot(group, {"visit_interval_days", "next_visit_due"})
    group.visit_interval_days = days
    group.next_visit_due = (last or today) + timedelta(days=days)
    session.add(group)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="group", entity_id=group.id, old=old,
                 new=audit.snapshot(group, {"visit_interval_days", "next_visit_due"}))
    await reminders.reschedule_group(session=session, group=group, today=today, rules=rules)
    await session.commit()
    return group


PLACE_FIELDS = {"latitude", "longitude", "location_set_at"}


async def set_place(*, session: AsyncSession, group_id: int, actor: Mentor, point: Point,
                    end_draft: Callable[[], Awaitable[None]] | None = None) -> Group | None:
    """Records where the group meets (its map pin and the point its visits are checked
    against), if ``actor`` may manage it (:func:`get_manageable`: its mentor, or a coordinator
    or admin of its area) and it is not dissolved, with an audit row; commits, ending the
    draft (``end_draft``) in the same transaction. None, with nothing written: not theirs, not
    there, dissolved, or a point outside Indonesia."""
    group = await get_manageable(session=session, group_id=group_id, actor=actor)
    if group is None or changes.is_read_only(group) or not in_indonesia(point):
        return None
    old = audit.snapshot(group, PLACE_FIELDS)
    group.latitude, group.longitude = point
    group.location_set_at = utcnow()
    await refresh_place(session=session, group=group)
    audit.record(session=session, actor_telegram_id=actor.telegram_id,
                 action=AuditAction.UPDATE, entity="group", entity_id=group.id, old=old,
                 new=audit.snapshot(group, PLACE_FIELDS))
    if end_draft is not None:
        await end_draft()
    await session.commit()
    return group


async def member_names(*, session: AsyncSession, member_ids: list[int]) -> dict[int, str]:
    """The households' names by id (an erased one's stand-in), for a history of changes."""
    if not member_ids:
        return {}
    result = await session.execute(
        select(Member.id, Member.name).where(Member.id.in_(set(member_ids))))
    return {member_id: name for member_id, name in result}
