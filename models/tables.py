"""SQLModel tables. Timestamps are aware UTC; calendar dates are the user's local dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlmodel import Field, SQLModel

from bot.core import clock
from bot.core.parsing import mask_numbers
from models.crypto import EncryptedJSON, EncryptedString, lookup_hash


def utcnow() -> datetime:
    """Now, from the bot's one clock (tests move it)."""
    return clock.now().astimezone(UTC)


# A name or other free text about people: the audit trail keeps only that the value was there
# or changed, never the value (models.audit), because the trail cannot be changed and so an
# erasure (/hapus_anggota) could not reach it. Encrypted columns and FREE_TEXT notes (below)
# count as personal without saying so.
PERSONAL = {"personal": True}


def personal(**field: Any) -> Any:
    """A Field holding a name or free text (see PERSONAL)."""
    return Field(sa_column_kwargs={"info": PERSONAL}, **field)


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
    # The sweep reads the active coordinators (and admins) of the whole country at once.
    __table_args__ = (Index("ix_mentor_role_status", "role", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    name: str = personal(max_length=100)
    phone: str | None = Field(default=None, sa_column=Column(EncryptedString("mentor.phone")))
    # The phone's keyed hash (kept in step by the events below) and the Telegram @username
    # (lower case, refreshed when it changes): an admin finds a person by either.
    phone_hash: str | None = personal(default=None, max_length=64, index=True)
    username: str | None = personal(default=None, max_length=32, index=True)
    affiliation: str | None = Field(default=None, max_length=20)
    area_code: str | None = Field(default=None, foreign_key="area.code", index=True)
    role: str = Field(default="mentor", max_length=20)
    status: str = Field(default="pending", max_length=20, index=True)
    language: str = Field(default="id", max_length=5)
    created_at: datetime = Field(default_factory=utcnow)
    approved_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    approved_at: datetime | None = None


@event.listens_for(Mentor, "before_insert")
def _hash_new_mentor(_mapper: Any, _connection: Any, mentor: Mentor) -> None:
    mentor.phone_hash = lookup_hash(mentor.phone, "phone")


@event.listens_for(Mentor, "before_update")
def _hash_changed_mentor(_mapper: Any, _connection: Any, mentor: Mentor) -> None:
    # Only a changed value is read: an unloaded one would need a (sync) lazy load.
    if inspect(mentor).attrs.phone.history.has_changes():
        mentor.phone_hash = lookup_hash(mentor.phone, "phone")


class Invite(SQLModel, table=True):
    """A deep link (/start <code>) that approves a new mentor on the spot, or (role
    coordinator) makes a new coordinator of its area without the mentor's questions."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    # A credential: kept out of the audit trail like a name.
    code: str = personal(unique=True, max_length=40)
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
    # Often a household's or a place's name ("KUBE Bu Siti"): personal for the audit trail.
    name: str = personal(max_length=100)
    village_code: str = Field(foreign_key="area.code", index=True)
    business_type: str = Field(max_length=20)
    binding_ties: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    formed_on: date
    stage: str = Field(default="tumbuh", max_length=20)
    visit_interval_days: int = 30
    mentor_id: int = Field(foreign_key="mentor.id", index=True)
    next_visit_due: date | None = Field(default=None, index=True)
    # aktif / tidak_aktif / bubar (bot.core.enums.GroupStatus), since when and why; every
    # change is also a GroupChange row, so the history stays.
    status: str = Field(default="aktif", max_length=12, index=True)
    status_on: date | None = None
    status_reason: str | None = Field(default=None, max_length=30)
    # The group's bank account: the number is personal enough to be stored like phones.
    bank_name: str | None = Field(default=None, max_length=60)
    bank_holder: str | None = personal(default=None, max_length=100)
    bank_account: str | None = Field(default=None, sa_column=Column(
        EncryptedString("kube_group.bank_account")))
    # The decree (SK) that granted the group its assistance, and its year.
    decree_year: int | None = None
    decree_number: str | None = Field(default=None, max_length=100)
    # Where the group meets (asked once, optionally): the dashboard's map pin and the point
    # each visit's shared location is checked against. Empty: the middle of its visits'.
    latitude: float | None = None
    longitude: float | None = None
    location_set_at: datetime | None = None
    # The place its visits are checked against and the map shows, kept up to date by
    # models.group_places: the recorded one, else the middle of its visits' locations
    # (bot.core.geo.place_of); empty with neither. Stored so that an area's far visits are
    # counted by the database instead of reading every located visit into Python.
    place_latitude: float | None = None
    place_longitude: float | None = None
    place_source: str | None = Field(default=None, max_length=10)  # "recorded" | "visits"
    place_cos_lat: float | None = None  # cos(place_latitude): a degree of longitude's width
    created_at: datetime = Field(default_factory=utcnow)
    # The update that created the row: a redelivered update must not create it again.
    source_update_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))


class GroupChange(SQLModel, table=True):
    """One change in a group's life: its status, its stage, its profile, or a household's
    welfare category. Kept for good and shown as the group's history; values are plain
    strings (a bank account number only masked)."""

    __tablename__ = "group_change"
    __table_args__ = (Index("ix_group_change_group", "group_id", "changed_on"),
                      Index("ix_group_change_kind_day", "kind", "changed_on"))

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="kube_group.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    visit_id: int | None = Field(default=None, foreign_key="visit.id")
    kind: str = Field(max_length=12)
    field: str = Field(max_length=30)
    old: str | None = Field(default=None, max_length=200)
    new: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=30)
    note: str | None = Field(default=None, max_length=500)
    changed_on: date
    # None: written by the migration or an import, not by a person in chat.
    by_mentor_id: int | None = Field(default=None, foreign_key="mentor.id")
    at: datetime = Field(default_factory=utcnow)
    source_update_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))


class Training(SQLModel, table=True):
    """A training (pelatihan) the group or some of its households received."""

    __tablename__ = "training"
    __table_args__ = (Index("ix_training_group_day", "group_id", "held_on"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="kube_group.id")
    held_on: date = Field(index=True)
    topic: str = Field(max_length=200)
    provider: str | None = Field(default=None, max_length=100)
    # The member ids of the households that attended (all active ones when the whole group).
    attendee_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    visit_id: int | None = Field(default=None, foreign_key="visit.id")
    recorded_by: int = Field(foreign_key="mentor.id")
    created_at: datetime = Field(default_factory=utcnow)
    source_update_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))


class Member(SQLModel, table=True):
    """A household (KK) in a group. Leaving sets left_on; rows are never deleted, so history stays.

    NIK and phone are stored encrypted (models.crypto), each with a keyed hash to find equal
    values; they are kept only with the household's consent (consent_at, consent_by). Erasure
    (/hapus_anggota) empties them and the name, and keeps the row, so counts stay right.
    """

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="kube_group.id", index=True)
    name: str = personal(max_length=100)
    welfare_category: str = Field(max_length=20)
    role: str = Field(default="anggota", max_length=20)
    nik: str | None = Field(default=None, sa_column=Column(EncryptedString("member.nik")))
    phone: str | None = Field(default=None, sa_column=Column(EncryptedString("member.phone")))
    # Kept in step with nik / phone when the ORM writes the row (events below).
    nik_hash: str | None = personal(default=None, max_length=64, index=True)
    phone_hash: str | None = personal(default=None, max_length=64, index=True)
    joined_on: date
    left_on: date | None = None
    consent_at: datetime | None = None
    consent_by: int | None = Field(default=None, foreign_key="mentor.id")
    erased_at: datetime | None = None
    # Women-headed households are a programme concern (bot.core.enums.Sex).
    head_sex: str | None = Field(default=None, max_length=1)
    # In the national welfare register (DTKS/DTSEN): ya / tidak / tidak_tahu, and its decile.
    register_status: str | None = Field(default=None, max_length=12)
    register_decile: int | None = None
    # Why the household left (bot.core.enums.LeaveReason); graduasi is the programme's success.
    leave_reason: str | None = Field(default=None, max_length=20)
    leave_note: str | None = Field(default=None, max_length=200)


_HASHED = (("nik", "nik_hash"), ("phone", "phone_hash"))


@event.listens_for(Member, "before_insert")
def _hash_new_member(_mapper: Any, _connection: Any, member: Member) -> None:
    for field, hashed in _HASHED:
        setattr(member, hashed, lookup_hash(getattr(member, field), field))


@event.listens_for(Member, "before_update")
def _hash_changed_member(_mapper: Any, _connection: Any, member: Member) -> None:
    state = inspect(member)
    for field, hashed in _HASHED:
        # Only a changed value is read: an unloaded one would need a (sync) lazy load.
        if state.attrs[field].history.has_changes():
            setattr(member, hashed, lookup_hash(getattr(member, field), field))


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
    # The figures cover figures_from .. visited_on (named in the question, not "this month").
    figures_from: date | None = None
    # The business's assets, when asked: livestock (head) and equipment and stock (Rupiah).
    livestock_count: int | None = None
    equipment_value: int | None = Field(default=None, sa_column=Column(BigInteger))
    stock_value: int | None = Field(default=None, sa_column=Column(BigInteger))
    problems: str | None = None
    follow_up: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    photo_file_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    next_visit_on: date
    created_at: datetime = Field(default_factory=utcnow)
    # When its mentor last corrected it (/riwayat, Perbaiki); what changed is in the audit trail.
    corrected_at: datetime | None = None
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


class ReceivedUpdate(SQLModel, table=True):
    """Every Telegram update, written before Telegram hears it arrived (bot.telegram.inbox), so
    a crash loses none: what is not handled yet is handled at the next start, in order.

    A redelivery is the same update id with the same fingerprint (the message or button press
    it carries); Telegram may start its ids again after a quiet week, so the id alone is not
    enough. The payload holds what a user typed, so it is encrypted, and blanked once handled.
    """

    __tablename__ = "received_update"
    __table_args__ = (
        UniqueConstraint("update_id", "fingerprint", name="uq_received_update"),
        # What waits to be handled, in arrival order, without reading what was handled.
        Index("ix_received_update_waiting", "id", sqlite_where=text("handled_at IS NULL"),
              postgresql_where=text("handled_at IS NULL")),
    )

    id: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True))
    update_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    fingerprint: str = Field(max_length=80)
    payload: dict[str, Any] | None = Field(
        default=None, sa_column=Column(EncryptedJSON("received_update.payload"), nullable=True))
    received_at: datetime = Field(default_factory=utcnow, index=True)
    handled_at: datetime | None = None


class ConversationState(SQLModel, table=True):
    """PTB conversation state per (conversation, key), so a restart loses nothing."""

    __tablename__ = "conversation_state"
    # By key alone too: the sweep asks which of its recipients are in any conversation.
    __table_args__ = (UniqueConstraint("name", "key"), Index("ix_conversation_state_key", "key"))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    key: str = Field(max_length=100)
    state: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class UserData(SQLModel, table=True):
    """PTB user_data (conversation drafts) per Telegram user, as JSON."""

    __tablename__ = "user_data"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    # Drafts hold what users typed, NIKs and phone numbers included: encrypted like them.
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        EncryptedJSON("user_data.data"), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class Grant(SQLModel, table=True):
    """A grant (hibah) to a group, with its roll-over obligation. Never repaid."""

    __tablename__ = "group_grant"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="kube_group.id", index=True)
    kind: str = Field(max_length=20)
    funding_source: str = Field(max_length=20)
    form: str = Field(default="tunai", max_length=10)
    amount: int | None = Field(default=None, sa_column=Column(BigInteger))
    goods_description: str | None = Field(default=None, max_length=200)
    received_on: date
    # The obligation is optional; when there is one, any of an amount, a number of units, a
    # number of households, with its deadline.
    rollover_required: bool = True
    rollover_amount: int | None = Field(default=None, sa_column=Column(BigInteger))
    rollover_units: int | None = None
    rollover_unit_label: str | None = personal(default=None, max_length=60)
    rollover_households: int | None = None
    rollover_due: date | None = Field(default=None, index=True)
    # The LPJ (laporan pertanggungjawaban): due some months after receipt (a setting), and the
    # day it was handed in.
    lpj_due: date | None = Field(default=None, index=True)
    lpj_submitted_on: date | None = None
    recorded_by: int = Field(foreign_key="mentor.id")
    created_at: datetime = Field(default_factory=utcnow)
    source_update_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))


class Rollover(SQLModel, table=True):
    """One roll-over (pengguliran) of part of a grant to a household or another group."""

    __tablename__ = "rollover"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="group_grant.id", index=True)
    rolled_on: date
    recipient_kind: str = Field(max_length=10)
    recipient_name: str = personal(max_length=100)
    recipient_village_code: str | None = Field(default=None, foreign_key="area.code")
    amount: int | None = Field(default=None, sa_column=Column(BigInteger))
    units: int | None = None
    note: str | None = Field(default=None, max_length=500)
    recorded_by: int = Field(foreign_key="mentor.id")
    created_at: datetime = Field(default_factory=utcnow)
    source_update_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))


class Reminder(SQLModel, table=True):
    """The next reminder of one rule for one subject (a group or a grant).

    The database is the source of truth; the scheduler only wakes the sweep. At most one row
    per rule and subject is pending; a step of a cycle (one due date) is never stored twice.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        # Cancelled rows do not count: a rescheduled occurrence may come back.
        Index("uq_reminder_occurrence", "rule", "subject_id", "cycle", "step", "fire_on",
              unique=True, sqlite_where=text("status != 'cancelled'"),
              postgresql_where=text("status != 'cancelled'")),
        Index("uq_reminder_pending", "rule", "subject_id", unique=True,
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        # The sweep reads only pending rows that are due: a small partial index.
        Index("ix_reminder_due", "due_at", sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=30)
    subject_id: int
    cycle: date  # the due date the reminder is about (next visit, roll-over deadline)
    step: int  # which offset of the rule
    fire_on: date  # the local calendar day it is for
    due_at: datetime  # 07:00 local on fire_on, in UTC
    status: str = Field(default="pending", max_length=12)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class ReminderDelivery(SQLModel, table=True):
    """One reminder for one recipient: claimed before sending, so a restart never repeats it."""

    __tablename__ = "reminder_delivery"
    __table_args__ = (
        UniqueConstraint("reminder_id", "recipient_telegram_id", name="uq_delivery"),
        # The sweep reads the open ones (pending, or sending after a crash) by status: the
        # cost follows how many are open, not the history. Not partial: SQLite would not use
        # a partial index for a status given as a bound parameter.
        Index("ix_delivery_status", "status", "recipient_telegram_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="reminder.id", index=True)
    recipient_telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default="pending", max_length=12)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    reason: str | None = Field(default=None, max_length=200)


class Broadcast(SQLModel, table=True):
    """A coordinator's message to many mentors (siaran); delivered from the outbox below."""

    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    created_by: int = Field(foreign_key="mentor.id", index=True)
    area_code: str | None = Field(default=None, foreign_key="area.code")
    audience: str = Field(max_length=20)
    audience_code: str | None = Field(default=None, max_length=13)
    text: str = personal(max_length=4096)
    photo_file_id: str | None = Field(default=None, max_length=200)
    document_file_id: str | None = Field(default=None, max_length=200)
    status: str = Field(default="draft", max_length=12, index=True)
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    progress_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    source_update_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))


class BroadcastRecipient(SQLModel, table=True):
    """One outbox row per recipient: a restart resumes it and never sends anyone twice."""

    __tablename__ = "broadcast_recipient"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "telegram_id", name="uq_broadcast_recipient"),
        Index("ix_broadcast_recipient_status", "broadcast_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id")
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    name: str = personal(max_length=100)
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0
    reason: str | None = Field(default=None, max_length=200)
    not_before: datetime | None = None  # after a 429: wait this long for this message only
    sent_at: datetime | None = None



class DashboardLink(SQLModel, table=True):
    """A one-time link to the dashboard for a browser outside Telegram (/dasbor): signed,
    short-lived, and spent by its first use, which this row remembers across restarts."""

    __tablename__ = "dashboard_link"

    # The signed token's random id; the token itself is never stored.
    id: str = Field(primary_key=True, max_length=64)
    mentor_id: int = Field(foreign_key="mentor.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class LeaderLease(SQLModel, table=True):
    """Who may talk to Telegram (PostgreSQL; bot.leader): the leader renews its lease, and a
    standby takes it over once it has run out. Times are the database's own (now())."""

    __tablename__ = "leader_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=40)  # a random id of the leading process
    # One more at every takeover: a leader whose epoch is no longer the row's has lost it.
    epoch: int = Field(sa_column=Column(BigInteger, nullable=False))
    acquired_at: datetime
    expires_at: datetime

# Free text may quote a NIK or a phone number ("Bu Siti, HP 0812…, sakit"): those belong in the
# member's encrypted fields, so notes are stored masked, whoever writes them (chat, import).
FREE_TEXT: dict[type, tuple[str, ...]] = {Visit: ("problems", "follow_up"),
                                          Grant: ("goods_description",), Rollover: ("note",),
                                          GroupChange: ("note",), Member: ("leave_note",),
                                          Training: ("topic", "provider")}


# Where a household's name may stand outside its own row, besides the notes: an erasure
# (/hapus_anggota) puts its stand-in there too (models.groups). A group's history
# (GroupChange old / new) keeps the same for these fields. The group's own name is left alone:
# it is the group's, and renaming it would lose the group to its members.
NAMES: dict[type, tuple[str, ...]] = {Group: ("bank_holder",), Rollover: ("recipient_name",)}


def _mask_free_text(_mapper: Any, _connection: Any, row: Any) -> None:
    state = inspect(row)
    for field in FREE_TEXT[type(row)]:
        value = getattr(row, field) if field not in state.unloaded else None
        if isinstance(value, str):
            masked = mask_numbers(value)
            if masked != value:
                setattr(row, field, masked)


for _model in FREE_TEXT:
    event.listen(_model, "before_insert", _mask_free_text)
    event.listen(_model, "before_update", _mask_free_text)
