"""received updates: every update written before Telegram hears it arrived

The table handled_update (the ids of handled updates) becomes received_update: each update is
written when it arrives, with a fingerprint that tells a redelivery from an id Telegram started
again, its payload encrypted until it is handled. What was handled before is kept as handled
rows (no payload), so a redelivery of an old update is still recognised.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'received_update',
        sa.Column('id', _ID, primary_key=True, autoincrement=True),
        sa.Column('update_id', sa.BigInteger(), nullable=False),
        sa.Column('fingerprint', sa.String(length=80), nullable=False),
        sa.Column('payload', sa.Text(), nullable=True),
        sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('handled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.UniqueConstraint('update_id', 'fingerprint', name='uq_received_update'),
    )
    op.create_index('ix_received_update_received_at', 'received_update', ['received_at'])
    op.create_index('ix_received_update_waiting', 'received_update', ['id'],
                    sqlite_where=sa.text('handled_at IS NULL'),
                    postgresql_where=sa.text('handled_at IS NULL'))
    # The old marks carry no fingerprint: "old:" stands in, so they stay handled.
    op.execute(sa.text(
        "INSERT INTO received_update (update_id, fingerprint, payload, received_at, handled_at) "
        "SELECT update_id, 'old:' || CAST(update_id AS VARCHAR(24)), NULL, handled_at, handled_at "
        "FROM handled_update ORDER BY update_id"))
    op.drop_index('ix_handled_update_handled_at', table_name='handled_update')
    op.drop_table('handled_update')


def downgrade() -> None:
    op.create_table(
        'handled_update',
        sa.Column('update_id', sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column('handled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index('ix_handled_update_handled_at', 'handled_update', ['handled_at'])
    op.execute(sa.text(
        "INSERT INTO handled_update (update_id, handled_at) SELECT update_id, max(handled_at) "
        "FROM received_update WHERE handled_at IS NOT NULL GROUP BY update_id"))
    op.drop_index('ix_received_update_waiting', table_name='received_update')
    op.drop_index('ix_received_update_received_at', table_name='received_update')
    op.drop_table('received_update')
