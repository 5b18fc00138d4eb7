"""The Alembic migrations and the SQLModel tables describe the same schema, both ways."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import models.tables  # noqa: F401
from models.db import downgrade_sync, upgrade_sync


def test_migrations_match_models_and_downgrade_cleanly(tmp_path):
    path = tmp_path / "m.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_sync(url)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    downgrade_sync(url, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    upgrade_sync(url)
    assert "visit" in inspect(engine).get_table_names()
    engine.dispose()


def test_migrations_on_postgresql_match_models_and_downgrade_cleanly():
    """The same round trip on PostgreSQL, in a schema of its own."""
    import asyncio
    import os
    import secrets

    from sqlalchemy import text

    from models.db import create_engine as create_async_engine
    from models.db import with_search_path
    from tests.conftest import PG_URL_VARIABLE, _reachable, postgresql_url

    base_url = postgresql_url()
    if base_url is None:
        pytest.skip(f"{PG_URL_VARIABLE} not set: PostgreSQL tests skipped")
    problem = asyncio.run(_reachable(base_url))
    if problem is not None:
        pytest.skip(f"{PG_URL_VARIABLE} set but the server is unreachable ({problem}): "
                    "PostgreSQL tests skipped")
    schema = f"m_{os.getpid()}_{secrets.token_hex(4)}"
    url = with_search_path(base_url, schema)

    async def execute(statement: str) -> None:
        engine = create_async_engine(base_url)
        async with engine.begin() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    async def inspect_schema(check):
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            result = await connection.run_sync(check)
        await engine.dispose()
        return result

    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    def tables(connection):
        return sorted(inspect(connection).get_table_names())

    asyncio.run(execute(f'CREATE SCHEMA "{schema}"'))
    try:
        upgrade_sync(url)
        assert asyncio.run(inspect_schema(diff)) == []
        downgrade_sync(url, "base")
        assert asyncio.run(inspect_schema(tables)) == ["alembic_version"]
        upgrade_sync(url)
        assert "visit" in asyncio.run(inspect_schema(tables))
    finally:
        asyncio.run(execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


# --- 0005: existing personal data is encrypted, and decrypted again on the way down -----------

NIK = "3202114507800001"
PHONE = "+6281298765432"
MENTOR_PHONE = "+6281234567890"
DRAFT = {"draft:group": {"members": [{"name": "Sri Wahyuni", "nik": NIK, "phone": PHONE}]}}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path):
    """The URL of an empty database (a SQLite file, or a PostgreSQL schema of its own)."""
    import asyncio
    import os
    import secrets

    from sqlalchemy import text

    from models.db import create_engine as create_async_engine
    from models.db import with_search_path
    from tests.conftest import PG_URL_VARIABLE, _reachable, postgresql_url

    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        return
    base_url = postgresql_url()
    if base_url is None:
        pytest.skip(f"{PG_URL_VARIABLE} not set: PostgreSQL tests skipped")
    if (problem := asyncio.run(_reachable(base_url))) is not None:
        pytest.skip(f"PostgreSQL unreachable ({problem}): PostgreSQL tests skipped")
    schema = f"m_{os.getpid()}_{secrets.token_hex(4)}"

    async def execute(statement: str) -> None:
        engine = create_async_engine(base_url)
        async with engine.begin() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(execute(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(base_url, schema)
    finally:
        asyncio.run(execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _run(url: str, work):
    """Runs ``work(connection)`` (sync) in a transaction on ``url``; returns its result."""
    import asyncio

    from models.db import create_engine as create_async_engine

    async def main():
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def table(table_name, **columns):
    """A table as an old revision had it: only the columns a seed writes."""
    import sqlalchemy as sa

    return sa.table(table_name, *(sa.column(key, kind) for key, kind in columns.items()))


def _seed_village(connection) -> None:
    """The one village the seeds' groups live in."""
    import sqlalchemy as sa

    connection.execute(table("area", code=sa.String, parent_code=sa.String, level=sa.Integer,
                             name=sa.String).insert(),
                       [{"code": "32.02.11.2002", "parent_code": "32.02.11", "level": 4,
                         "name": "Sekarwangi"}])


def _seed_plain(connection) -> None:
    """Rows as revision 0003 stored them: NIKs, phones and drafts in clear."""
    from datetime import UTC, date, datetime

    import sqlalchemy as sa

    at = datetime(2026, 11, 1, tzinfo=UTC)
    _seed_village(connection)
    connection.execute(table("mentor", id=sa.Integer, telegram_id=sa.BigInteger, name=sa.String,
                             phone=sa.String, role=sa.String, status=sa.String,
                             language=sa.String, created_at=sa.DateTime(timezone=True)).insert(),
                       [{"id": 1, "telegram_id": 700001, "name": "Siti Rahma",
                         "phone": MENTOR_PHONE, "role": "mentor", "status": "active",
                         "language": "id", "created_at": at}])
    connection.execute(table("kube_group", id=sa.Integer, name=sa.String, village_code=sa.String,
                             business_type=sa.String, binding_ties=sa.JSON, formed_on=sa.Date,
                             stage=sa.String, visit_interval_days=sa.Integer,
                             mentor_id=sa.Integer, created_at=sa.DateTime(timezone=True)
                             ).insert(),
                       [{"id": 1, "name": "KUBE Mawar", "village_code": "32.02.11.2002",
                         "business_type": "ternak", "binding_ties": [], "stage": "tumbuh",
                         "formed_on": date(2026, 3, 1), "visit_interval_days": 30,
                         "mentor_id": 1, "created_at": at}])
    connection.execute(table("member", id=sa.Integer, group_id=sa.Integer, name=sa.String,
                             welfare_category=sa.String, role=sa.String, nik=sa.String,
                             phone=sa.String, joined_on=sa.Date).insert(),
                       [{"id": 1, "group_id": 1, "name": "Sri Wahyuni", "welfare_category":
                         "miskin", "role": "ketua", "nik": NIK, "phone": PHONE,
                         "joined_on": date(2026, 3, 1)},
                        {"id": 2, "group_id": 1, "name": "Budi", "welfare_category": "miskin",
                         "role": "anggota", "nik": None, "phone": None,
                         "joined_on": date(2026, 3, 1)}])
    connection.execute(table("user_data", user_id=sa.BigInteger, data=sa.JSON,
                             updated_at=sa.DateTime(timezone=True)).insert(),
                       [{"user_id": 700001, "data": DRAFT, "updated_at": at}])
    connection.execute(table("audit_log", id=sa.Integer, at=sa.DateTime(timezone=True),
                             actor_telegram_id=sa.BigInteger, action=sa.String,
                             entity=sa.String, entity_id=sa.Integer, new=sa.JSON).insert(),
                       [{"id": 1, "at": at, "actor_telegram_id": 700001, "action": "create",
                         "entity": "member", "entity_id": 1,
                         "new": {"name": "Sri Wahyuni", "nik": "***0001", "phone": "***5432",
                                 "role": "ketua"}},
                        {"id": 2, "at": at, "actor_telegram_id": 700001, "action": "create",
                         "entity": "mentor", "entity_id": 1,
                         "new": {"name": "Siti Rahma", "phone": "***7890"}}])


def _read(connection) -> dict:
    import json

    from sqlalchemy import text

    def rows(sql):
        return [tuple(row) for row in connection.execute(text(sql))]

    def as_dict(value):
        return json.loads(value) if isinstance(value, str) else value

    return {
        "member": rows("SELECT id, nik, phone FROM member ORDER BY id"),
        "hashes": rows("SELECT id, nik_hash, phone_hash FROM member ORDER BY id")
        if "nik_hash" in {c["name"] for c in inspect(connection).get_columns("member")}
        else None,
        "mentor": rows("SELECT phone FROM mentor")[0][0],
        "draft": rows("SELECT data FROM user_data")[0][0],
        "audit": {entity: as_dict(new) for entity, new in rows(
            "SELECT entity, new FROM audit_log ORDER BY id")},
        "version": rows("SELECT version_num FROM alembic_version")[0][0],
    }


def test_0005_encrypts_existing_rows_0012_hashes_the_mentors_phone_downgrade_decrypts(
        empty_db):
    import json

    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from models import crypto

    upgrade_sync(empty_db, "0003")
    _run(empty_db, _seed_plain)
    upgrade_sync(empty_db, "0005")
    ring = crypto.keyring()
    after = _run(empty_db, _read)
    [(_, nik, phone), (_, no_nik, no_phone)] = after["member"]
    assert ring.decrypt(nik, "member.nik") == NIK and ring.decrypt(phone, "member.phone") == PHONE
    assert (no_nik, no_phone) == (None, None)
    assert after["hashes"] == [(1, ring.lookup_hash(NIK, "nik"),
                                ring.lookup_hash(PHONE, "phone")), (2, None, None)]
    assert ring.decrypt(after["mentor"], "mentor.phone") == MENTOR_PHONE
    assert json.loads(ring.decrypt(after["draft"], "user_data.data")) == DRAFT
    assert NIK not in str(after) and "81298765432" not in str(after) \
        and "81234567890" not in str(after)
    # The trail keeps what happened, not whose data it was.
    assert after["audit"]["member"] == {"name": "***", "nik": "***", "phone": "***",
                                        "role": "ketua"}
    assert after["audit"]["mentor"] == {"name": "Siti Rahma", "phone": "***"}

    def change_audit(connection):
        connection.execute(text("UPDATE audit_log SET action = 'x' WHERE id = 1"))

    with pytest.raises(DBAPIError, match="append-only"):
        _run(empty_db, change_audit)

    # 0012: the mentor's stored phone gets its lookup hash (an admin finds them by it).
    upgrade_sync(empty_db, "0012")
    hashed = _run(empty_db, lambda connection: connection.execute(
        text("SELECT phone_hash FROM mentor")).scalar_one())
    assert hashed == ring.lookup_hash(MENTOR_PHONE, "phone")

    downgrade_sync(empty_db, "0003")
    before = _run(empty_db, _read)
    assert before["member"] == [(1, NIK, PHONE), (2, None, None)]
    assert before["mentor"] == MENTOR_PHONE
    draft = before["draft"]
    assert (json.loads(draft) if isinstance(draft, str) else draft) == DRAFT
    _run(empty_db, change_audit)  # no longer locked at 0003


def test_0005_without_a_key_refuses_to_run_over_plain_data(empty_db, monkeypatch, tmp_path):
    from models import crypto

    upgrade_sync(empty_db, "0003")
    _run(empty_db, _seed_plain)
    monkeypatch.setattr(crypto, "_keyring", None)
    monkeypatch.delenv(crypto.KEY_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env around
    with pytest.raises(crypto.MissingKey) as error:
        upgrade_sync(empty_db, "0005")
    assert "pendamping key new" in str(error.value) and "personal data" in str(error.value)
    assert _run(empty_db, _read)["version"] == "0003"


def _seed_grants(connection) -> None:
    """Grants as revision 0006 stored them: every one "stimulan" or BLPS, with a deadline."""
    from datetime import UTC, date, datetime

    import sqlalchemy as sa

    grant = sa.table("group_grant", *(sa.column(name) for name in (
        "id", "group_id", "kind", "funding_source", "form", "amount", "received_on",
        "rollover_due", "recorded_by", "created_at")))
    at = datetime(2026, 11, 1, tzinfo=UTC)
    connection.execute(grant.insert(), [
        {"id": id_, "group_id": 1, "kind": kind, "funding_source": source, "form": "tunai",
         "amount": 10_000_000, "received_on": date(2026, 11, 30), "rollover_due":
         date(2027, 11, 30), "recorded_by": 1, "created_at": at}
        for id_, kind, source in ((1, "stimulan", "apbn"), (2, "stimulan", "apbd_kabupaten"),
                                  (3, "stimulan", "csr"), (4, "blps", "apbn"))])
    # A roll-over points at its grant: SQLite's batch mode rebuilds group_grant under it.
    rollover = sa.table("rollover", *(sa.column(name) for name in (
        "id", "grant_id", "rolled_on", "recipient_kind", "recipient_name", "amount",
        "recorded_by", "created_at")))
    connection.execute(rollover.insert(), [
        {"id": 1, "grant_id": 1, "rolled_on": date(2026, 12, 1), "recipient_kind": "kk",
         "recipient_name": "Bu Sri", "amount": 1_000_000, "recorded_by": 1, "created_at": at}])


def _read_life(connection) -> dict:
    from sqlalchemy import text

    def rows(sql):
        return [tuple(row) for row in connection.execute(text(sql))]

    return {
        "group": rows("SELECT status, status_on FROM kube_group"),
        "history": rows("SELECT kind, field, old, new, changed_on, by_mentor_id "
                        "FROM group_change ORDER BY id"),
        "grants": rows("SELECT kind, rollover_required, lpj_due, lpj_submitted_on "
                       "FROM group_grant ORDER BY id"),
    }


def test_0007_starts_every_group_aktif_at_its_stage_and_maps_the_old_grant_kinds(empty_db):
    from datetime import date

    def day(value):  # SQLite hands dates back as text through a plain SELECT
        return value if isinstance(value, date) else date.fromisoformat(value)

    upgrade_sync(empty_db, "0003")
    _run(empty_db, _seed_plain)
    upgrade_sync(empty_db, "0006")
    _run(empty_db, _seed_grants)
    upgrade_sync(empty_db, "0007")
    after = _run(empty_db, _read_life)
    [(status, status_on)] = after["group"]
    assert (status, day(status_on)) == ("aktif", date(2026, 3, 1))
    assert [(kind, field, old, new, day(on), by) for kind, field, old, new, on, by
            in after["history"]] == [("status", "status", None, "aktif", date(2026, 3, 1), None),
                                     ("stage", "stage", None, "tumbuh", date(2026, 3, 1), None)]
    # Central money is UEP, regional money bantuan daerah, the rest CSR/lainnya; BLPS stays.
    # Every grant keeps its obligation and gets an LPJ deadline three months after receipt.
    assert [(kind, bool(required), day(due), submitted) for kind, required, due, submitted
            in after["grants"]] == [
        ("uep", True, date(2027, 2, 28), None), ("daerah", True, date(2027, 2, 28), None),
        ("lainnya", True, date(2027, 2, 28), None), ("blps", True, date(2027, 2, 28), None)]
    downgrade_sync(empty_db, "0006")
    kinds = _run(empty_db, lambda connection: [row[0] for row in connection.execute(
        __import__("sqlalchemy").text("SELECT kind FROM group_grant ORDER BY id"))])
    assert kinds == ["stimulan", "stimulan", "lainnya", "blps"]
    upgrade_sync(empty_db, "0007")  # and up again, the roll-over still in place
    assert _run(empty_db, _read_life)["grants"][0][0] == "uep"


# --- 0010: audit rows lose the names and free text they held --------------------------------

def _seed_audit(connection) -> None:
    """Audit rows as the bot wrote them before 0010: names, notes, a file name in clear."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    at = datetime(2026, 11, 1, tzinfo=UTC)
    log = sa.table("audit_log", *(sa.column(name, kind) for name, kind in (
        ("id", sa.Integer), ("at", sa.DateTime(timezone=True)), ("actor_telegram_id",
                                                                 sa.BigInteger),
        ("action", sa.String), ("entity", sa.String), ("entity_id", sa.Integer),
        ("old", sa.JSON(none_as_null=True)), ("new", sa.JSON(none_as_null=True)))))
    rows = [
        ("create", "visit", None, {"group_id": 1, "attendance": 6, "problems":
                                   "Siti Aminah (ketua) sakit keras", "follow_up": None}),
        ("update", "member", {"left_on": None, "leave_note": None, "role": "ketua"},
         {"left_on": "2026-11-20", "leave_note": "ikut Siti Aminah", "role": "anggota"}),
        ("create", "group", None, {"name": "KUBE Siti", "village_code": "32.02.11.2002"}),
        ("update", "group", {"bank_holder": "Siti Aminah"}, {"bank_holder": "Budi"}),
        ("create", "mentor", None, {"name": "Siti Rahma", "phone": "***", "role": "mentor"}),
        ("create", "import", None, {"file": "data siti aminah.xlsx", "refused": 1}),
        ("create", "export", None, {"area": "32.02", "masked": True}),
    ]
    connection.execute(log.insert(), [
        {"id": n, "at": at, "actor_telegram_id": 700001, "action": action, "entity": entity,
         "entity_id": 1, "old": old, "new": new}
        for n, (action, entity, old, new) in enumerate(rows, start=1)])


def test_0010_strips_names_and_notes_from_the_trail_which_stays_locked(empty_db):
    import json

    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    def trail(connection):
        def as_dict(value):
            return json.loads(value) if isinstance(value, str) else value

        return [(entity, as_dict(old), as_dict(new)) for entity, old, new in connection.execute(
            text("SELECT entity, old, new FROM audit_log ORDER BY id"))]

    upgrade_sync(empty_db, "0007")
    _run(empty_db, _seed_audit)
    upgrade_sync(empty_db, "0010")
    after = _run(empty_db, trail)
    assert after == [
        ("visit", None, {"group_id": 1, "attendance": 6, "problems": "***",
                         "follow_up": None}),
        ("member", {"left_on": None, "leave_note": None, "role": "ketua"},
         {"left_on": "2026-11-20", "leave_note": "***", "role": "anggota"}),
        ("group", None, {"name": "***", "village_code": "32.02.11.2002"}),
        ("group", {"bank_holder": "***"}, {"bank_holder": "***"}),
        ("mentor", None, {"name": "***", "phone": "***", "role": "mentor"}),
        ("import", None, {"file": "***", "refused": 1}),
        ("export", None, {"area": "32.02", "masked": True}),
    ]
    assert "siti" not in json.dumps(after).lower()

    def change_audit(connection):
        connection.execute(text("UPDATE audit_log SET action = 'x' WHERE id = 1"))

    with pytest.raises(DBAPIError, match="append-only"):
        _run(empty_db, change_audit)
    downgrade_sync(empty_db, "0007")  # the values stay gone; the lock stays
    with pytest.raises(DBAPIError, match="append-only"):
        _run(empty_db, change_audit)


# --- 0014: every group gets its stored place (recorded, else its visits' middle) --------------

def _seed_places(connection) -> None:
    """At 0013: KUBE 1 with a recorded place, 2 placed by two of its three visits (an even
    count: the middle interpolates), 3 with no location at all."""
    from datetime import UTC, date, datetime

    import sqlalchemy as sa

    at = datetime(2026, 11, 1, tzinfo=UTC)
    _seed_village(connection)
    connection.execute(table("mentor", id=sa.Integer, telegram_id=sa.BigInteger, name=sa.String,
                             role=sa.String, status=sa.String, language=sa.String,
                             created_at=sa.DateTime(timezone=True)).insert(),
                       [{"id": 1, "telegram_id": 700001, "name": "x", "role": "mentor",
                         "status": "active", "language": "id", "created_at": at}])
    connection.execute(
        table("kube_group", id=sa.Integer, name=sa.String, village_code=sa.String,
              business_type=sa.String, binding_ties=sa.JSON, formed_on=sa.Date,
              stage=sa.String, status=sa.String, visit_interval_days=sa.Integer,
              mentor_id=sa.Integer, latitude=sa.Float, longitude=sa.Float,
              created_at=sa.DateTime(timezone=True)).insert(),
        [{"id": n, "name": f"KUBE {n}", "village_code": "32.02.11.2002", "business_type": "ternak",
          "binding_ties": [], "formed_on": date(2026, 3, 1), "stage": "tumbuh", "status": "aktif",
          "visit_interval_days": 30, "mentor_id": 1, "latitude": lat, "longitude": lon,
          "created_at": at} for n, lat, lon in ((1, -6.9, 106.8), (2, None, None),
                                                (3, None, None))])
    connection.execute(
        table("visit", group_id=sa.Integer, mentor_id=sa.Integer, visited_on=sa.Date,
              attendance=sa.Integer, activities=sa.JSON, photo_file_ids=sa.JSON,
              next_visit_on=sa.Date, latitude=sa.Float, longitude=sa.Float,
              created_at=sa.DateTime(timezone=True)).insert(),
        [{"group_id": group_id, "mentor_id": 1, "visited_on": date(2026, 11, 1),
          "attendance": 5, "activities": ["usaha"], "photo_file_ids": [],
          "next_visit_on": date(2026, 12, 1), "latitude": lat, "longitude": lon,
          "created_at": at}
         for group_id, lat, lon in ((1, -7.5, 107.5), (2, -6.80, 106.70), (2, -6.81, 106.72),
                                    (2, None, None), (3, None, None))])


def test_0014_stores_each_groups_place_recorded_else_its_visits_middle(empty_db):
    from math import cos, radians

    from sqlalchemy import text

    upgrade_sync(empty_db, "0013")
    _run(empty_db, _seed_places)
    upgrade_sync(empty_db, "0014")
    placed = _run(empty_db, lambda connection: [tuple(row) for row in connection.execute(text(
        "SELECT id, place_latitude, place_longitude, place_source, place_cos_lat "
        "FROM kube_group ORDER BY id"))])
    assert placed == [(1, -6.9, 106.8, "recorded", pytest.approx(cos(radians(-6.9)))),
                      (2, pytest.approx(-6.805), pytest.approx(106.71), "visits",
                       pytest.approx(cos(radians(-6.805)))),
                      (3, None, None, None, None)]
    downgrade_sync(empty_db, "0013")
