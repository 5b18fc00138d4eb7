"""a group's place stored on its row, for the visit check in SQL

Every group gets the place its visits are checked against: the recorded one, else the middle
(the median of each coordinate, bot.core.geo.middle) of its visits' locations, with the
cosine of its latitude, so that far visits are counted by the database. Existing groups are
placed here, a batch of groups at a time. Downgrade drops the columns.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 20:40:00.000000

"""
from collections.abc import Sequence
from math import cos, radians
from statistics import median

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000

_GROUP = sa.table("kube_group", sa.column("id", sa.Integer), sa.column("latitude", sa.Float),
                  sa.column("longitude", sa.Float), sa.column("place_latitude", sa.Float),
                  sa.column("place_longitude", sa.Float), sa.column("place_source", sa.String),
                  sa.column("place_cos_lat", sa.Float))
_VISIT = sa.table("visit", sa.column("group_id", sa.Integer), sa.column("latitude", sa.Float),
                  sa.column("longitude", sa.Float))


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("kube_group") as batch:
        batch.add_column(sa.Column("place_latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("place_longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("place_source", sqlmodel.sql.sqltypes.AutoString(length=10),
                                   nullable=True))
        batch.add_column(sa.Column("place_cos_lat", sa.Float(), nullable=True))
    connection = op.get_bind()
    after = 0
    while True:
        groups = connection.execute(
            sa.select(_GROUP.c.id, _GROUP.c.latitude, _GROUP.c.longitude)
            .where(_GROUP.c.id > after).order_by(_GROUP.c.id).limit(BATCH)).all()
        if not groups:
            break
        after = groups[-1][0]
        unplaced = [group_id for group_id, lat, lon in groups if lat is None or lon is None]
        located: dict[int, list[tuple[float, float]]] = {}
        if unplaced:
            for group_id, lat, lon in connection.execute(
                    sa.select(_VISIT.c.group_id, _VISIT.c.latitude, _VISIT.c.longitude)
                    .where(_VISIT.c.group_id.in_(unplaced), _VISIT.c.latitude.is_not(None),
                           _VISIT.c.longitude.is_not(None))):
                located.setdefault(group_id, []).append((lat, lon))
        values = []
        for group_id, lat, lon in groups:
            if lat is not None and lon is not None:
                place, source = (lat, lon), "recorded"
            elif points := located.get(group_id):
                place = (median(p[0] for p in points), median(p[1] for p in points))
                source = "visits"
            else:
                continue
            values.append({"key": group_id, "lat": place[0], "lon": place[1],
                           "source": source, "cos": cos(radians(place[0]))})
        if values:
            connection.execute(
                _GROUP.update().where(_GROUP.c.id == sa.bindparam("key")).values(
                    place_latitude=sa.bindparam("lat"), place_longitude=sa.bindparam("lon"),
                    place_source=sa.bindparam("source"), place_cos_lat=sa.bindparam("cos")),
                values)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("kube_group") as batch:
        batch.drop_column("place_cos_lat")
        batch.drop_column("place_source")
        batch.drop_column("place_longitude")
        batch.drop_column("place_latitude")
