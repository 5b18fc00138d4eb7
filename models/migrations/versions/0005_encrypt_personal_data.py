"""encrypt personal data, consent and erasure, append-only audit trail

NIKs and phone numbers (member, mentor) and conversation drafts (user_data) are encrypted
with the data key (models.crypto); members get keyed lookup hashes, consent (when, by whom)
and an erasure time. Member audit rows lose the personal values they held (name, NIK, phone:
the member's id links them). The audit trail becomes append-only: the database itself
refuses UPDATE and DELETE on audit_log (SQLite triggers, a PostgreSQL trigger function).

Existing rows are encrypted here, so the key is needed when there is personal data: the one
configured in this process, else PENDAMPING_DATA_KEY (environment or .env). Downgrade decrypts.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = "audit_log is append-only: the audit trail cannot be changed or deleted"
# The personal fields member audit rows no longer keep in clear.
_MEMBER_PERSONAL = ("name", "nik", "phone")
_MENTOR_PERSONAL = ("phone",)
_REDACTED = "***"
_BATCH = 500


def _keyring(needed: bool):
    """The key to use, or None when none is set and nothing needs it."""
    from models import crypto

    if crypto.is_configured():
        return crypto.keyring()
    from bot.core.settings import Settings

    key = Settings().data_key.get_secret_value()
    if key:
        return crypto.Keyring(key)
    if needed:
        raise crypto.MissingKey(" and the database holds personal data to encrypt (or "
                                "decrypt)")
    return None


def _has_rows(bind, query: str) -> bool:
    return bind.execute(sa.text(query)).first() is not None


def _personal_rows(bind) -> bool:
    return (_has_rows(bind, "SELECT 1 FROM member WHERE nik IS NOT NULL OR phone IS NOT NULL")
            or _has_rows(bind, "SELECT 1 FROM mentor WHERE phone IS NOT NULL")
            or _has_rows(bind, "SELECT 1 FROM user_data"))


def _rewrite(bind, select: str, update, convert) -> None:
    """Runs ``update`` for every row of ``select``, with the parameters ``convert(row)``."""
    rows = bind.execute(sa.text(select)).mappings().all()
    statement = sa.text(update) if isinstance(update, str) else update
    for start in range(0, len(rows), _BATCH):
        batch = [convert(dict(row)) for row in rows[start:start + _BATCH]]
        if batch:
            bind.execute(statement, batch)


def _scrub_audit(bind) -> None:
    """Personal values leave the member and mentor audit rows (before the trail is locked)."""
    import json

    def scrub(value, fields):
        if value is None:
            return None
        data = json.loads(value) if isinstance(value, str) else dict(value)
        for field in fields:
            if data.get(field) not in (None, ""):
                data[field] = _REDACTED
        return data

    update = sa.text("UPDATE audit_log SET old = :old, new = :new WHERE id = :id").bindparams(
        sa.bindparam("old", type_=sa.JSON), sa.bindparam("new", type_=sa.JSON))
    for entity, fields in (("member", _MEMBER_PERSONAL), ("mentor", _MENTOR_PERSONAL)):
        _rewrite(
            bind, f"SELECT id, old, new FROM audit_log WHERE entity = '{entity}'", update,
            lambda row, fields=fields: {"id": row["id"], "old": scrub(row["old"], fields),
                                        "new": scrub(row["new"], fields)},
        )


def _lock_audit(dialect: str) -> None:
    if dialect == "sqlite":
        # A later batch rebuild of audit_log would drop these: such a migration must add them
        # again.
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                       f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END")
    else:
        op.execute("CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql "
                   f"AS $$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$")
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")


def _unlock_audit(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")


def _set_mentor_phone_type(dialect: str, length: int) -> None:
    if dialect == "sqlite":
        # A batch rebuild would drop `mentor` under the tables that refer to it (foreign keys
        # are on); SQLite's own ALTERs keep it. (SQLite does not enforce the length anyway.)
        op.execute("ALTER TABLE mentor RENAME COLUMN phone TO phone_old")
        op.execute(f"ALTER TABLE mentor ADD COLUMN phone VARCHAR({length})")
        op.execute("UPDATE mentor SET phone = phone_old")
        op.execute("ALTER TABLE mentor DROP COLUMN phone_old")
    else:
        op.alter_column("mentor", "phone", type_=sqlmodel.sql.sqltypes.AutoString(length=length),
                        existing_nullable=True)


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    ring = _keyring(needed=_personal_rows(bind))

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.alter_column('nik', existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
                              type_=sa.String(length=120), existing_nullable=True)
        batch_op.alter_column('phone', existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
                              type_=sa.String(length=120), existing_nullable=True)
        batch_op.add_column(sa.Column('nik_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('phone_hash',
                                      sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('consent_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('consent_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_member_nik_hash'), ['nik_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_phone_hash'), ['phone_hash'], unique=False)
        batch_op.create_foreign_key('fk_member_consent_by_mentor', 'mentor', ['consent_by'],
                                    ['id'])
    _set_mentor_phone_type(dialect, 120)
    with op.batch_alter_table('user_data', schema=None) as batch_op:
        batch_op.alter_column('data', existing_type=sa.JSON(), type_=sa.Text(),
                              existing_nullable=False, postgresql_using='data::text')

    if ring is not None:
        # Consent was not asked before: members keep consent_at empty (unknown), as it was.
        _rewrite(
            bind, "SELECT id, nik, phone FROM member WHERE nik IS NOT NULL OR phone IS NOT NULL",
            "UPDATE member SET nik = :nik, phone = :phone, nik_hash = :nik_hash, "
            "phone_hash = :phone_hash WHERE id = :id",
            lambda row: {
                "id": row["id"],
                "nik": ring.encrypt(row["nik"], "member.nik") if row["nik"] else None,
                "phone": ring.encrypt(row["phone"], "member.phone") if row["phone"] else None,
                "nik_hash": ring.lookup_hash(row["nik"], "nik") if row["nik"] else None,
                "phone_hash": ring.lookup_hash(row["phone"], "phone") if row["phone"] else None,
            })
        _rewrite(bind, "SELECT id, phone FROM mentor WHERE phone IS NOT NULL",
                 "UPDATE mentor SET phone = :phone WHERE id = :id",
                 lambda row: {"id": row["id"],
                              "phone": ring.encrypt(row["phone"], "mentor.phone")})
        _rewrite(bind, "SELECT user_id, data FROM user_data",
                 "UPDATE user_data SET data = :data WHERE user_id = :user_id",
                 lambda row: {"user_id": row["user_id"],
                              "data": ring.encrypt(row["data"], "user_data.data")})
    _scrub_audit(bind)
    _lock_audit(dialect)


def downgrade() -> None:
    """Downgrade schema (personal data decrypted again; the audit scrub stays)."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    ring = _keyring(needed=_personal_rows(bind))
    _unlock_audit(dialect)
    if ring is not None:
        _rewrite(
            bind, "SELECT id, nik, phone FROM member WHERE nik IS NOT NULL OR phone IS NOT NULL",
            "UPDATE member SET nik = :nik, phone = :phone WHERE id = :id",
            lambda row: {
                "id": row["id"],
                "nik": ring.decrypt(row["nik"], "member.nik") if row["nik"] else None,
                "phone": ring.decrypt(row["phone"], "member.phone") if row["phone"] else None,
            })
        _rewrite(bind, "SELECT id, phone FROM mentor WHERE phone IS NOT NULL",
                 "UPDATE mentor SET phone = :phone WHERE id = :id",
                 lambda row: {"id": row["id"],
                              "phone": ring.decrypt(row["phone"], "mentor.phone")})
        _rewrite(bind, "SELECT user_id, data FROM user_data",
                 "UPDATE user_data SET data = :data WHERE user_id = :user_id",
                 lambda row: {"user_id": row["user_id"],
                              "data": ring.decrypt(row["data"], "user_data.data")})

    with op.batch_alter_table('user_data', schema=None) as batch_op:
        batch_op.alter_column('data', existing_type=sa.Text(), type_=sa.JSON(),
                              existing_nullable=False, postgresql_using='data::json')
    _set_mentor_phone_type(dialect, 20)
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_constraint('fk_member_consent_by_mentor', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_member_phone_hash'))
        batch_op.drop_index(batch_op.f('ix_member_nik_hash'))
        batch_op.drop_column('erased_at')
        batch_op.drop_column('consent_by')
        batch_op.drop_column('consent_at')
        batch_op.drop_column('phone_hash')
        batch_op.drop_column('nik_hash')
        batch_op.alter_column('phone', existing_type=sa.String(length=120),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=20),
                              existing_nullable=True)
        batch_op.alter_column('nik', existing_type=sa.String(length=120),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=16),
                              existing_nullable=True)
