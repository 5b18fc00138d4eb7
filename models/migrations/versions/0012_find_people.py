"""users found by @username and phone

An admin appointing a coordinator finds the person by name, Telegram @username or phone
number. The phone is stored encrypted with a random nonce, so it gets a keyed lookup hash
(as members' phones have since 0005); the @username is kept in lower case, refreshed when
it changes. Existing phones are hashed here, so the data key is needed when mentors have
phones stored: the one configured in this process, else PENDAMPING_DATA_KEY. Usernames fill
in as people next write to the bot. Downgrade drops both columns.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:30:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500


def _keyring():
    """The key to read the stored phones with (the process's, else the settings')."""
    from models import crypto

    if crypto.is_configured():
        return crypto.keyring()
    from bot.core.settings import Settings

    key = Settings().data_key.get_secret_value()
    if not key:
        raise crypto.MissingKey(" and mentors' phone numbers need their lookup hashes")
    return crypto.Keyring(key)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('mentor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_mentor_phone_hash'), ['phone_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentor_username'), ['username'], unique=False)
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, phone FROM mentor WHERE phone IS NOT NULL ORDER BY id")).mappings().all()
    if not rows:
        return
    ring = _keyring()
    update = sa.text("UPDATE mentor SET phone_hash = :phone_hash WHERE id = :id")
    for start in range(0, len(rows), _BATCH):
        bind.execute(update, [
            {"id": row["id"], "phone_hash": ring.lookup_hash(
                ring.decrypt(row["phone"], "mentor.phone"), "phone")}
            for row in rows[start:start + _BATCH]])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('mentor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentor_username'))
        batch_op.drop_index(batch_op.f('ix_mentor_phone_hash'))
        batch_op.drop_column('username')
        batch_op.drop_column('phone_hash')
