"""visit.corrected_at: when its mentor last corrected the visit

A visit can be corrected by its mentor within a few days of saving it (/riwayat, Perbaiki;
handlers.visit_correction). The visit shows "diperbaiki <tanggal>" after; what changed is in
the audit trail. Empty for every visit saved before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:30:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("corrected_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("visit") as batch:
        batch.drop_column("corrected_at")
