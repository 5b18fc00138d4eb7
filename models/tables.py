"""SQLModel tables. Timestamps are aware UTC; calendar dates are the user's local dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Area(SQLModel, table=True):
    """A Kemendagri area: province, regency/city, district or village (code is hierarchical)."""

    __tablename__ = "area"

    code: str = Field(primary_key=True, max_length=13)
    parent_code: str | None = Field(default=None, index=True, max_length=13)
    level: int = Field(index=True)
    name: str = Field(max_length=120)


class Mentor(SQLModel, table=True):
    """A user of the bot: a mentor, a coordinator or an admin."""

    __tablename__ = "mentor"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    affiliation: str | None = Field(default=None, max_length=20)
    area_code: str | None = Field(default=None, foreign_key="area.code", index=True)
    role: str = Field(default="mentor", max_length=20)
    status: str = Field(default="pending", max_length=20, index=True)
    language: str = Field(default="id", max_length=5)
    created_at: datetime = Field(default_factory=utcnow)
    approved_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    approved_at: datetime | None = None


class Invite(SQLModel, table=True):
    """A deep link (/start <code>) that approves a new mentor on the spot."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=40)
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    area_code: str | None = Field(default=None, foreign_key="area.code")
    role: str = Field(default="mentor", max_length=20)
    expires_at: datetime | None = None
    max_uses: int = 1
    uses: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Group(SQLModel, table=True):
    """A KUBE: 5-10 households running a business together."""

    __tablename__ = "kube_group"
    __table_args__ = (Index("ix_group_mentor_due", "mentor_id", "next_visit_due"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    village_code: str = Field(foreign_key="area.code", index=True)
    business_type: str = Field(max_length=20)
    binding_ties: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    formed_on: date
    stage: str = Field(default="tumbuh", max_length=20)
    visit_interval_days: int = 30
    mentor_id: int = Field(foreign_key="mentor.id", index=True)
    next_visit_due: date | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    # The update that created the row: a redelivered update must not create it again.
    source_update_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))


class Member(SQLModel, table=True):
    """A household (KK) in a group. Leaving sets left_on; rows are never deleted, so history stays."""

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="kube_group.id", index=True)
    name: str = Field(max_length=100)
    welfare_category: str = Field(max_length=20)
    role: str = Field(default="anggota", max_length=20)
    nik: str | None = Field(default=None, max_length=16)
    phone: str | None = Field(default=None, max_length=20)
    joined_on: date
    left_on: date | None = None


class Visit(SQLModel, table=True):
    """One mentoring visit (kunjungan) to a group."""

    __tablename__ = "visit"
    __table_args__ = (Index("ix_visit_group_date", "group_id", "visited_on"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="kube_group.id")
    mentor_id: int = Field(foreign_key="mentor.id", index=True)
    visited_on: date
    attendance: int
    activities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    turnover: int | None = Field(default=None, sa_column=Column(BigInteger))
    profit: int | None = Field(default=None, sa_column=Column(BigInteger))
    cash: int | None = Field(default=None, sa_column=Column(BigInteger))
    solidarity_fee: int | None = Field(default=None, sa_column=Column(BigInteger))
    problems: str | None = None
    follow_up: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    photo_file_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    next_visit_on: date
    created_at: datetime = Field(default_factory=utcnow)
    source_update_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))


class AuditLog(SQLModel, table=True):
    """Who changed what and when, with old and new values. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    action: str = Field(max_length=20)
    entity: str = Field(max_length=40)
    entity_id: int | None = None
    old: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    new: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class HandledUpdate(SQLModel, table=True):
    """Telegram update ids already handled, so a redelivered update is dropped."""

    __tablename__ = "handled_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    handled_at: datetime = Field(default_factory=utcnow, index=True)


class ConversationState(SQLModel, table=True):
    """PTB conversation state per (conversation, key), so a restart loses nothing."""

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("name", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    key: str = Field(max_length=100)
    state: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class UserData(SQLModel, table=True):
    """PTB user_data (conversation drafts) per Telegram user, as JSON."""

    __tablename__ = "user_data"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
