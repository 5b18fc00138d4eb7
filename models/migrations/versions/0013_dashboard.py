"""the coordinator's dashboard: a group's place and one-time dashboard links

A group may have a recorded place (asked once, optionally, at registration or in its
detail): the dashboard's map shows it and each visit's shared location is checked against
it. A one-time dashboard link (/dasbor, for a browser outside Telegram) is remembered once
used, so it works once even across a restart. Downgrade drops both.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 19:45:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("kube_group") as batch:
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("location_set_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))
    op.create_table(
        "dashboard_link",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["mentor_id"], ["mentor.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_dashboard_link_mentor_id"), "dashboard_link", ["mentor_id"],
                    unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_dashboard_link_mentor_id"), table_name="dashboard_link")
    op.drop_table("dashboard_link")
    with op.batch_alter_table("kube_group") as batch:
        batch.drop_column("location_set_at")
        batch.drop_column("longitude")
        batch.drop_column("latitude")
