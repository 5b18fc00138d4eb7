"""indexes for the reminder sweep at national scale

The sweep reads by index only what is due or open, so its cost follows the due items and not
the size of the tables (bench/sweep.py prints the plans):
- reminder_delivery: (status, recipient) replaces the partial index on open deliveries, which
  SQLite would not use for a status given as a bound parameter;
- mentor: (role, status), for the active coordinators and admins;
- conversation_state: key, for "which recipients are in the middle of a conversation".

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status IN ('pending', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_pending', sqlite_where=sa.text(_OPEN),
                            postgresql_where=sa.text(_OPEN))
        batch_op.create_index('ix_delivery_status', ['status', 'recipient_telegram_id'],
                              unique=False)
    with op.batch_alter_table('mentor', schema=None) as batch_op:
        batch_op.create_index('ix_mentor_role_status', ['role', 'status'], unique=False)
    with op.batch_alter_table('conversation_state', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_state_key', ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversation_state', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_state_key')
    with op.batch_alter_table('mentor', schema=None) as batch_op:
        batch_op.drop_index('ix_mentor_role_status')
    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_status')
        batch_op.create_index('ix_delivery_pending', ['recipient_telegram_id'], unique=False,
                              sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))
