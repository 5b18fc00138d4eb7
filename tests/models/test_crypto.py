"""Personal data at rest: the cipher, the lookup hashes, the start-up key check, and the
append-only audit trail (enforced by the database itself)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.core.enums import AuditAction
from models import audit, crypto
from models import groups as group_queries
from models.tables import UserData
from tests.conftest import TEST_DATA_KEY, TODAY
from tests.factories import make_group, make_mentor

NIK = "3202114507800001"
PHONE = "+6281298765432"


async def add_household(session, group, mentor, **data):
    values = {"name": "Sri Wahyuni", "welfare_category": "miskin", "role": "anggota",
              "nik": NIK, "phone": PHONE} | data
    return await group_queries.add_member(session=session, group=group, actor=mentor,
                                          joined_on=TODAY, data=values, consented=True)


async def raw(session, sql: str) -> list[tuple]:
    await session.rollback()
    return [tuple(row) for row in await session.execute(text(sql))]


def test_cipher_round_trip_random_and_bound_to_its_column():
    ring = crypto.Keyring(TEST_DATA_KEY)
    first, second = ring.encrypt(NIK, "member.nik"), ring.encrypt(NIK, "member.nik")
    assert first != second and NIK not in first and first.startswith(crypto.PREFIX)
    assert ring.decrypt(first, "member.nik") == NIK
    # Copied into another column, a ciphertext does not open.
    with pytest.raises(crypto.WrongKey):
        ring.decrypt(first, "member.phone")
    with pytest.raises(crypto.WrongKey):
        crypto.Keyring(crypto.new_key()).decrypt(first, "member.nik")
    with pytest.raises(crypto.WrongKey):
        ring.decrypt(first[:-4] + "AAAA", "member.nik")


def test_lookup_hash_is_keyed_and_stable():
    ring, other = crypto.Keyring(TEST_DATA_KEY), crypto.Keyring(crypto.new_key())
    assert ring.lookup_hash(NIK, "nik") == ring.lookup_hash(NIK, "nik")
    assert ring.lookup_hash(NIK, "nik") != other.lookup_hash(NIK, "nik")
    assert ring.lookup_hash(NIK, "nik") != ring.lookup_hash(NIK, "phone")
    assert len(ring.lookup_hash(NIK, "nik")) == 64 and NIK not in ring.lookup_hash(NIK, "nik")


@pytest.mark.parametrize("key", ["", "kunci-rahasia", "c2hvcnQ=", "!!!" * 15])
def test_missing_or_malformed_keys_say_how_to_make_one(key):
    with pytest.raises(crypto.DataKeyError) as error:
        crypto.configure(key)
    assert "PENDAMPING_DATA_KEY" in str(error.value)
    assert "pendamping key new" in str(error.value)


def test_new_keys_are_32_random_bytes():
    keys = {crypto.new_key() for _ in range(5)}
    assert len(keys) == 5
    for key in keys:
        crypto.Keyring(key)  # valid


async def test_nik_phone_and_drafts_are_stored_encrypted_with_hashes(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    member = await add_household(session, group, mentor)
    mentor_tid, group_id, member_id = mentor.telegram_id, group.id, member.id
    session.add(UserData(user_id=mentor_tid,
                         data={"draft:group": {"members": [{"nik": NIK, "phone": PHONE}]}}))
    await session.commit()

    stored = await raw(session, f"SELECT nik, phone, nik_hash, phone_hash FROM member "
                                f"WHERE id = {member_id}")
    [(nik, phone, nik_hash, phone_hash)] = stored
    assert nik.startswith(crypto.PREFIX) and phone.startswith(crypto.PREFIX)
    assert nik_hash == crypto.keyring().lookup_hash(NIK, "nik")
    assert phone_hash == crypto.keyring().lookup_hash(PHONE, "phone")
    everything = str(await raw(session, "SELECT * FROM member")) + str(
        await raw(session, "SELECT * FROM mentor")) + str(await raw(session, "SELECT * FROM "
                                                                             "user_data"))
    for secret in (NIK, PHONE, "81298765432", "81234567890"):
        assert secret not in everything
    # Read back through the models, the values are plain.
    [found] = await group_queries.find_by_nik(session=session, nik=NIK)
    assert (found.id, found.nik, found.phone) == (member_id, NIK, PHONE)
    draft = await session.get(UserData, mentor_tid)
    assert draft.data["draft:group"]["members"][0]["nik"] == NIK
    assert await group_queries.nik_in_group(session=session, group_id=group_id, nik=NIK)
    assert not await group_queries.nik_in_group(session=session, group_id=group_id,
                                                nik="3202114507800002")


async def test_hashes_follow_changes_and_erasure(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    member = await add_household(session, group, mentor)
    member.nik = "3202114507800002"
    session.add(member)
    await session.commit()
    assert await group_queries.find_by_nik(session=session, nik=NIK) == []
    assert [m.id for m in await group_queries.find_by_nik(
        session=session, nik="3202114507800002")] == [member.id]
    await group_queries.erase_member(session=session, member=member, actor=mentor,
                                     reason="permintaan")
    [row] = await raw(session, f"SELECT name, nik, phone, nik_hash, phone_hash, "
                               f"welfare_category FROM member WHERE id = {member.id}")
    assert row == (f"(dihapus #{member.id})", None, None, None, None, "miskin")


async def test_personal_data_needs_consent(session):
    mentor = await make_mentor(session)
    group = await make_group(session, mentor)
    with pytest.raises(ValueError, match="consent"):
        await group_queries.add_member(
            session=session, group=group, actor=mentor, joined_on=TODAY,
            data={"name": "Sri", "welfare_category": "miskin", "role": "anggota", "nik": NIK})
    member = await add_household(session, group, mentor)
    assert member.consent_by == mentor.id and member.consent_at is not None
    plain = await group_queries.add_member(
        session=session, group=group, actor=mentor, joined_on=TODAY,
        data={"name": "Tanpa Data", "welfare_category": "miskin", "role": "anggota"})
    assert plain.consent_at is None and plain.consent_by is None


async def test_start_up_check_refuses_another_key(session):
    await crypto.verify_stored(session=session)  # nothing stored yet: any key passes
    crypto.configure(crypto.new_key())
    await crypto.verify_stored(session=session)
    crypto.configure(TEST_DATA_KEY)
    await make_mentor(session)  # a phone, encrypted
    await crypto.verify_stored(session=session)
    crypto.configure(crypto.new_key())
    with pytest.raises(crypto.WrongKey) as error:
        await crypto.verify_stored(session=session)
    assert "mentor.phone" in str(error.value)


async def test_audit_trail_cannot_be_changed_or_deleted(session):
    mentor_id = (await make_mentor(session)).id
    [entry] = await audit.list_for(session=session, entity="mentor", entity_id=mentor_id)
    for statement in (f"UPDATE audit_log SET action = 'x' WHERE id = {entry.id}",
                      f"DELETE FROM audit_log WHERE id = {entry.id}",
                      "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement))
        await session.rollback()
    # Through the ORM too (what a handler or query would do).
    [entry] = await audit.list_for(session=session, entity="mentor", entity_id=mentor_id)
    entry.action = AuditAction.DELETE
    session.add(entry)
    with pytest.raises(DBAPIError, match="append-only"):
        await session.commit()
    await session.rollback()
    await session.delete(entry)
    with pytest.raises(DBAPIError, match="append-only"):
        await session.commit()
    await session.rollback()
    [entry] = await audit.list_for(session=session, entity="mentor", entity_id=mentor_id)
    assert entry.action == AuditAction.CREATE
    # Adding rows still works.
    audit.record(session=session, actor_telegram_id=1, action=AuditAction.CREATE,
                 entity="test", entity_id=None)
    await session.commit()
