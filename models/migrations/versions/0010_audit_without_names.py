"""audit rows without names or free text

The audit trail now keeps only which name or note was there or changed ("***"), never its
value (models.audit): it cannot be changed, so a household's erasure could not reach a name
or a visit note quoting one there. Rows written before lose those values here: names of
households, mentors and groups, bank account holders and numbers, lookup hashes, visit, leave
and roll-over notes, goods and unit descriptions, training topics, broadcast texts, and the
file name of an import. The trail refuses UPDATE (0005): its lock is lifted for this one
update and put back in the same transaction. Downgrade keeps the rows as they are (the values
are gone).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:00:00.000000

"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = "audit_log is append-only: the audit trail cannot be changed or deleted"
_REDACTED = "***"
_BATCH = 1000
# The rule of models.audit as it stands at this revision (the tables' personal columns), kept
# here so that a later change of the tables does not change what this migration did.
_PERSONAL = {
    "mentor": ("name", "phone"),
    "group": ("name", "bank_holder", "bank_account"),
    "member": ("name", "nik", "phone", "nik_hash", "phone_hash", "leave_note"),
    "visit": ("problems", "follow_up"),
    "grant": ("goods_description", "rollover_unit_label"),
    "rollover": ("recipient_name", "note"),
    "training": ("topic", "provider"),
    "broadcast": ("text",),
    "import": ("file",),
}


def _scrubbed(value, fields: tuple[str, ...]):
    """The row's JSON with the personal values as "***"; None when nothing changes."""
    if value is None:
        return None
    data = json.loads(value) if isinstance(value, str) else dict(value)
    if not isinstance(data, dict):
        return None
    changed = False
    for field in fields:
        if data.get(field) not in (None, "", [], {}, _REDACTED):
            data[field] = _REDACTED
            changed = True
    return data if changed else None


def _kept(value):
    return json.loads(value) if isinstance(value, str) else value


def _unlock(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")


def _lock(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END")
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    select = sa.text(
        "SELECT id, entity, old, new FROM audit_log WHERE id > :after AND entity IN "
        f"({', '.join(repr(entity) for entity in _PERSONAL)}) ORDER BY id LIMIT {_BATCH}")
    update = sa.text("UPDATE audit_log SET old = :old, new = :new WHERE id = :id").bindparams(
        sa.bindparam("old", type_=sa.JSON(none_as_null=True)),
        sa.bindparam("new", type_=sa.JSON(none_as_null=True)))
    _unlock(dialect)
    after = 0
    while True:
        rows = bind.execute(select, {"after": after}).mappings().all()
        if not rows:
            break
        after = rows[-1]["id"]
        batch = []
        for row in rows:
            fields = _PERSONAL[row["entity"]]
            old, new = _scrubbed(row["old"], fields), _scrubbed(row["new"], fields)
            if old is None and new is None:
                continue
            batch.append({"id": row["id"], "old": old if old is not None else _kept(row["old"]),
                          "new": new if new is not None else _kept(row["new"])})
        if batch:
            bind.execute(update, batch)
    _lock(dialect)


def downgrade() -> None:
    """Downgrade schema (nothing: the values are gone)."""
