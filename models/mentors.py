"""Queries on mentors (users of every role) and invite links."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuditAction, MentorStatus, Role
from bot.core.parsing import parse_phone
from models import audit
from models.crypto import lookup_hash
from models.tables import AuditLog, Group, Invite, Mentor, utcnow

# Read for every update (handlers.common.load_user): built once, not per call.
_BY_TELEGRAM_ID = select(Mentor).where(Mentor.telegram_id == bindparam("telegram_id"))
# Asked at every sign-up (whom to tell), so built once.
_ADMINS = select(Mentor.telegram_id).where(Mentor.role == Role.ADMIN,
                                           Mentor.status == MentorStatus.ACTIVE)
_COORDINATORS = (select(Mentor).where(Mentor.role == Role.COORDINATOR,
                                      Mentor.status == MentorStatus.ACTIVE)
                 .order_by(Mentor.id))  # PostgreSQL has no implicit (rowid) order


async def get_by_telegram_id(*, session: AsyncSession, telegram_id: int) -> Mentor | None:
    result = await session.execute(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})
    return result.scalar_one_or_none()


async def get(*, session: AsyncSession, mentor_id: int) -> Mentor | None:
    return await session.get(Mentor, mentor_id)


async def create(
    *,
    session: AsyncSession,
    telegram_id: int,
    name: str,
    phone: str | None,
    affiliation: str | None,
    area_code: str | None,
    language: str,
    role: Role = Role.MENTOR,
    status: MentorStatus = MentorStatus.PENDING,
    approved_by: int | None = None,
    username: str | None = None,
) -> Mentor:
    """Adds a mentor (pending unless told otherwise) and its audit row, and commits."""
    mentor = Mentor(
        telegram_id=telegram_id,
        name=name,
        phone=phone,
        username=username.lower() if username else None,
        affiliation=affiliation,
        area_code=area_code,
        language=language,
        role=role,
        status=status,
        approved_by=approved_by,
        approved_at=utcnow() if status == MentorStatus.ACTIVE else None,
    )
    session.add(mentor)
    await session.flush()
    audit.record(session=session, actor_telegram_id=telegram_id, action=AuditAction.CREATE,
                 entity="mentor", entity_id=mentor.id, new=audit.snapshot(mentor))
    await session.commit()
    return mentor


async def set_status(
    *, session: AsyncSession, mentor: Mentor, status: MentorStatus, actor_telegram_id: int
) -> Mentor:
    """Approves, rejects or deactivates a mentor, with an audit row; commits."""
    changes: dict[str, object] = {"status": status}
    if status == MentorStatus.ACTIVE:
        changes |= {"approved_by": actor_telegram_id, "approved_at": utcnow()}
    return await _change(session=session, mentor=mentor, changes=changes,
                         audited={"status", "approved_by"}, actor_telegram_id=actor_telegram_id)


async def _change(*, session: AsyncSession, mentor: Mentor, changes: dict[str, object],
                  audited: set[str], actor_telegram_id: int | None) -> Mentor:
    """Sets ``changes`` on the mentor with an audit row of the ``audited`` fields; commits."""
    old = audit.snapshot(mentor, audited)
    for field, value in changes.items():
        setattr(mentor, field, value)
    session.add(mentor)
    audit.record(session=session, actor_telegram_id=actor_telegram_id, action=AuditAction.UPDATE,
                 entity="mentor", entity_id=mentor.id, old=old,
                 new=audit.snapshot(mentor, audited))
    await session.commit()
    return mentor


async def decide_pending(
    *, session: AsyncSession, mentor_id: int, approve: bool, actor_telegram_id: int
) -> tuple[Mentor | None, bool]:
    """Approves or rejects a pending mentor exactly once.

    Returns (mentor, changed). The conditional UPDATE makes two admins pressing at the same
    moment safe: only one of them changes the row.
    """
    new_status = MentorStatus.ACTIVE if approve else MentorStatus.REJECTED
    values: dict = {"status": new_status}
    if approve:
        values |= {"approved_by": actor_telegram_id, "approved_at": utcnow()}
    result = await session.execute(
        update(Mentor)
        .where(Mentor.id == mentor_id, Mentor.status == MentorStatus.PENDING)
        .values(**values)
    )
    changed = result.rowcount == 1
    if changed:
        audit.record(session=session, actor_telegram_id=actor_telegram_id,
                     action=AuditAction.UPDATE, entity="mentor", entity_id=mentor_id,
                     old={"status": MentorStatus.PENDING}, new={"status": str(new_status)})
    await session.commit()
    mentor = await session.get(Mentor, mentor_id, populate_existing=True)
    return mentor, changed


async def note_username(*, session: AsyncSession, mentor: Mentor, username: str | None
                        ) -> None:
    """Keeps the user's Telegram @username (lower case) as it is now, so an admin can find
    them by it; commits only when it changed."""
    username = username.lower() if username else None
    if mentor.username == username:
        return
    await session.execute(update(Mentor).where(Mentor.id == mentor.id)
                          .values(username=username))
    await session.commit()
    mentor.username = username


async def set_language(*, session: AsyncSession, mentor: Mentor, language: str) -> None:
    mentor.language = language
    session.add(mentor)
    await session.commit()


async def admins(*, session: AsyncSession, extra_ids: list[int] | None = None) -> list[int]:
    """Telegram ids of active admins, plus those named in the settings."""
    result = await session.execute(_ADMINS)
    ids = list(dict.fromkeys([*(extra_ids or []), *result.scalars()]))
    return ids


async def ensure_admin(
    *, session: AsyncSession, telegram_id: int, name: str, language: str
) -> Mentor:
    """An admin named in the settings becomes an active admin on first contact."""
    mentor = await get_by_telegram_id(session=session, telegram_id=telegram_id)
    if mentor is None:
        return await create(session=session, telegram_id=telegram_id, name=name, phone=None,
                            affiliation=None, area_code=None, language=language,
                            role=Role.ADMIN, status=MentorStatus.ACTIVE,
                            approved_by=telegram_id)
    if mentor.role != Role.ADMIN or mentor.status != MentorStatus.ACTIVE:
        await _change(session=session, mentor=mentor,
                      changes={"role": Role.ADMIN, "status": MentorStatus.ACTIVE},
                      audited={"role", "status"}, actor_telegram_id=telegram_id)
    return mentor


# --- invites -------------------------------------------------------------------------------

async def create_invite(
    *,
    session: AsyncSession,
    created_by: int,
    area_code: str | None = None,
    days: int = 7,
    max_uses: int = 1,
    role: Role = Role.MENTOR,
    now: datetime | None = None,
) -> Invite:
    """A new invite link's row (a mentor's, or a coordinator's for ``area_code``), audited;
    commits."""
    now = now or utcnow()
    invite = Invite(
        code=secrets.token_urlsafe(12),
        created_by=created_by,
        area_code=area_code,
        role=role,
        expires_at=now + timedelta(days=days),
        max_uses=max_uses,
    )
    session.add(invite)
    await session.flush()
    audit.record(session=session, actor_telegram_id=created_by, action=AuditAction.CREATE,
                 entity="invite", entity_id=invite.id,
                 new=audit.snapshot(invite, {"area_code", "expires_at", "max_uses", "role"}))
    await session.commit()
    return invite


async def find_invite(*, session: AsyncSession, code: str) -> Invite | None:
    """The invite with this code, usable or not (to say why it no longer works)."""
    result = await session.execute(select(Invite).where(Invite.code == code))
    return result.scalar_one_or_none()


def invite_usable(invite: Invite, now: datetime | None = None) -> bool:
    """Whether the invite has uses left and has not expired."""
    now = now or utcnow()
    return invite.uses < invite.max_uses and (invite.expires_at is None
                                              or invite.expires_at > now)


async def usable_invite(
    *, session: AsyncSession, code: str, now: datetime | None = None
) -> Invite | None:
    """The invite with this code if it has not expired and has uses left."""
    invite = await find_invite(session=session, code=code)
    return invite if invite is not None and invite_usable(invite, now) else None


async def use_invite(*, session: AsyncSession, code: str, role: Role = Role.MENTOR,
                     now: datetime | None = None) -> bool:
    """Counts one use of an invite for ``role``, atomically; False when it is used up or
    expired meanwhile (or is another role's: a mentor's link makes no coordinator)."""
    now = now or utcnow()
    result = await session.execute(
        update(Invite)
        .where(Invite.code == code, Invite.role == role, Invite.uses < Invite.max_uses,
               (Invite.expires_at.is_(None)) | (Invite.expires_at > now))
        .values(uses=Invite.uses + 1)
    )
    return result.rowcount == 1


async def get_many(*, session: AsyncSession, mentor_ids: list[int]) -> dict[int, Mentor]:
    if not mentor_ids:
        return {}
    result = await session.execute(select(Mentor).where(Mentor.id.in_(mentor_ids)))
    return {m.id: m for m in result.scalars()}


async def by_telegram_ids(*, session: AsyncSession, telegram_ids: list[int]
                          ) -> dict[int, Mentor]:
    if not telegram_ids:
        return {}
    result = await session.execute(select(Mentor).where(Mentor.telegram_id.in_(telegram_ids)))
    return {m.telegram_id: m for m in result.scalars()}


async def by_ids(*, session: AsyncSession, ids: list[int]) -> dict[int, Mentor]:
    if not ids:
        return {}
    result = await session.execute(select(Mentor).where(Mentor.id.in_(ids)))
    return {m.id: m for m in result.scalars()}


async def coordinators(*, session: AsyncSession) -> list[Mentor]:
    """Active coordinators; callers pick those whose area covers a place."""
    result = await session.execute(_COORDINATORS)
    return list(result.scalars())


async def deactivate_blocked(*, session: AsyncSession, telegram_id: int) -> None:
    """A user who blocked the bot is marked inactive, so nothing is retried for them."""
    mentor = await get_by_telegram_id(session=session, telegram_id=telegram_id)
    if mentor is None or mentor.status == MentorStatus.INACTIVE:
        return
    old = audit.snapshot(mentor, {"status"})
    mentor.status = MentorStatus.INACTIVE
    session.add(mentor)
    audit.record(session=session, actor_telegram_id=None, action=AuditAction.UPDATE,
                 entity="mentor", entity_id=mentor.id, old=old,
                 new={"status": str(MentorStatus.INACTIVE), "reason": "blocked the bot"})
    await session.commit()


async def promote(*, session: AsyncSession, telegram_id: int, role: Role, area_code: str | None,
                  name: str | None = None, actor_telegram_id: int | None = None) -> Mentor:
    """Gives a user a role (and area), creating an active record if they have none yet."""
    mentor = await get_by_telegram_id(session=session, telegram_id=telegram_id)
    if mentor is None:
        return await create(session=session, telegram_id=telegram_id,
                            name=name or str(telegram_id), phone=None, affiliation=None,
                            area_code=area_code, language="id", role=role,
                            status=MentorStatus.ACTIVE, approved_by=actor_telegram_id)
    changes: dict[str, object] = {"role": role, "area_code": area_code,
                                  "status": MentorStatus.ACTIVE}
    if name:
        changes["name"] = name
    return await _change(session=session, mentor=mentor, changes=changes,
                         audited={"role", "area_code", "status"},
                         actor_telegram_id=actor_telegram_id)


def area_clause(area_code: str | None):
    """Users whose own area lies inside ``area_code`` (all users when None: admins)."""
    if not area_code:
        return True
    return (Mentor.area_code == area_code) | Mentor.area_code.like(area_code + ".%")


async def in_area(*, session: AsyncSession, area_code: str | None,
                  roles: tuple[Role, ...] = (Role.MENTOR,),
                  statuses: tuple[MentorStatus, ...] | None = (MentorStatus.ACTIVE,),
                  ) -> list[Mentor]:
    """Users of these roles (and statuses) working inside an area, by name."""
    query = select(Mentor).where(area_clause(area_code), Mentor.role.in_(roles))
    if statuses is not None:
        query = query.where(Mentor.status.in_(statuses))
    result = await session.execute(query.order_by(Mentor.name, Mentor.id))
    return list(result.scalars())


def may_manage(actor: Mentor, mentor: Mentor) -> bool:
    """An admin manages everyone; a coordinator the mentors of their own area."""
    if actor.role == Role.ADMIN:
        return True
    if actor.role != Role.COORDINATOR or not actor.area_code or not mentor.area_code:
        return False
    return mentor.area_code == actor.area_code or mentor.area_code.startswith(
        actor.area_code + ".")


# A misspelt name ("hartno") still finds "Budi Hartono"; below this, names are too far apart.
NAME_SCORE = 80
# How many names the fuzzy match reads at most: every user of a national programme is a few
# thousand; an admin's search is rare and the names are short.
NAME_POOL = 20_000


async def find(*, session: AsyncSession, text: str, limit: int = 8) -> list[Mentor]:
    """Registered users for the admin's pickers: by @username, by phone number (its keyed
    hash: the stored number is encrypted), by Telegram id, or by name, a piece of it
    ("hartono") or misspelt ("hartno", rapidfuzz); best first."""
    text = text.strip()
    if text.startswith("@"):
        handle = text[1:].lower().replace("%", "").replace("_", r"\_")
        if not handle:
            return []
        result = await session.execute(
            select(Mentor).where(Mentor.username.like(handle + "%", escape="\\"))
            .order_by(func.length(Mentor.username), Mentor.id).limit(limit))
        return list(result.scalars())
    phone = parse_phone(text) if sum(c.isdigit() for c in text) >= 9 else None
    if phone is not None or text.isdigit():
        clauses = [Mentor.phone_hash == lookup_hash(phone, "phone")] if phone else []
        if text.isdigit():
            clauses.append(Mentor.telegram_id == int(text))
        result = await session.execute(
            select(Mentor).where(or_(*clauses)).order_by(Mentor.name, Mentor.id).limit(limit))
        return list(result.scalars())
    pattern = "%" + text.lower().replace("%", "").replace("_", "") + "%"
    result = await session.execute(
        select(Mentor).where(func.lower(Mentor.name).like(pattern))
        .order_by(Mentor.name, Mentor.id).limit(limit))
    found = list(result.scalars())
    if found or len(text) < 3:
        return found
    names = (await session.execute(
        select(Mentor.id, Mentor.name).order_by(Mentor.id).limit(NAME_POOL))).all()
    # Each word of a name on its own, and the whole name: "hartno" is near "hartono", far
    # from "budi hartono" as a whole.
    owners, choices = [], []
    for mentor_id, name in names:
        for choice in (name, *name.split()):
            owners.append(mentor_id)
            choices.append(choice.lower())
    ranked = process.extract(text.lower(), choices, scorer=fuzz.ratio, score_cutoff=NAME_SCORE,
                             limit=limit * 4)
    best = list(dict.fromkeys(owners[index] for _, _, index in ranked))[:limit]
    by_id = await by_ids(session=session, ids=best)
    return [by_id[mentor_id] for mentor_id in best if mentor_id in by_id]


async def group_counts(*, session: AsyncSession, mentor_ids: list[int]) -> dict[int, int]:
    if not mentor_ids:
        return {}
    result = await session.execute(
        select(Group.mentor_id, func.count()).where(Group.mentor_id.in_(mentor_ids))
        .group_by(Group.mentor_id))
    return {mentor_id: int(n) for mentor_id, n in result}


async def reassign_groups(*, session: AsyncSession, source: Mentor, target: Mentor,
                          actor_telegram_id: int) -> int:
    """Hands every group of ``source`` to ``target`` (one audit row per group); commits."""
    groups = list((await session.execute(
        select(Group).where(Group.mentor_id == source.id).order_by(Group.id))).scalars())
    for group in groups:
        group.mentor_id = target.id
        session.add(group)
        audit.record(session=session, actor_telegram_id=actor_telegram_id,
                     action=AuditAction.UPDATE, entity="group", entity_id=group.id,
                     old={"mentor_id": source.id}, new={"mentor_id": target.id,
                                                        "reason": "reassigned"})
    await session.commit()
    return len(groups)


async def recent_audit(*, session: AsyncSession, limit: int = 20,
                       entities: tuple[str, ...] | None = None,
                       actions: tuple[str, ...] = ()) -> list:
    """The latest audit rows, newest first (for /audit): of ``entities``, and of ``actions``
    whatever their entity."""
    query = select(AuditLog)
    if entities:
        query = query.where(or_(AuditLog.entity.in_(entities), AuditLog.action.in_(actions)))
    result = await session.execute(query.order_by(AuditLog.id.desc()).limit(limit))
    return list(result.scalars())
