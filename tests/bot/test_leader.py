"""The leader's lease on PostgreSQL (bot.leader, models.leases), in-process: taken, renewed,
given back, taken over once it ran out (the epoch one higher), and a leader past its local
deadline sends nothing. Plus what a standby checks before it waits (bot.serve)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text
from telegram import Bot

from bot.cli import main
from bot.core.settings import Settings
from bot.leader import PostgresLeadership, local_clock, lock_key
from bot.localapi import LocalBotApi
from bot.problems import SetupProblem
from bot.startup import check_schema
from bot.telegram.transport import NotLeading, telegram_request
from models import crypto, leases
from models.db import create_engine, create_sessionmaker, with_search_path
from tests.conftest import TEST_DATA_KEY
from tests.factories import make_mentor


@pytest.fixture
def pg_url(postgres_schema) -> str:
    """The test session's PostgreSQL schema, emptied (skipped without
    PENDAMPING_TEST_DATABASE_URL, with that reason)."""
    postgres_schema.reset()
    return postgres_schema.url


def leadership(url: str, *, lease: float = 2.0, renew: float = 0.5, **kwargs) -> PostgresLeadership:
    return PostgresLeadership(url, poll_seconds=0.05, lease_seconds=lease, renew_seconds=renew,
                              **kwargs)


async def read_lease(url: str) -> leases.Lease | None:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await leases.current(session=session, name="telegram")
    finally:
        await engine.dispose()


async def test_a_lease_is_taken_renewed_and_given_back(pg_url):
    first, second = leadership(pg_url), leadership(pg_url)
    try:
        assert await first.try_acquire()
        assert (first.epoch, first.may_send()) == (1, True)
        assert not await second.try_acquire()  # held, and not run out
        assert second.lease_report()["leader_epoch"] == 1
        assert 1.0 < second.lease_report()["leader_lease_expires_in"] <= 2.0

        await asyncio.sleep(1.2)  # past the renew interval twice: renewed, by the database's clock
        lease = await read_lease(pg_url)
        assert (lease.holder, lease.epoch) == (first.holder, 1)
        assert lease.expires_in > 1.2
        assert first.may_send() and not first.lost.is_set()

        await first.release()  # a clean stop gives the lease back: no wait for it to run out
        assert not first.may_send()
        assert await second.try_acquire()
        assert second.epoch == 2
    finally:
        await first.release()
        await second.release()


async def test_a_hung_leader_stops_sending_before_it_is_taken_over_then_loses(pg_url):
    hung, standby = leadership(pg_url, lease=1.0, renew=0.3), leadership(pg_url, lease=1.0,
                                                                        renew=0.3)
    try:
        assert await hung.try_acquire()
        hung._renewing.cancel()  # it hangs: no more renewals ...
        await asyncio.wait_for(standby.acquire(), 5)  # ... and the standby takes over
        taken_at = local_clock()
        assert standby.epoch == hung.epoch + 1
        # The hung leader's own deadline had passed before the standby could lead.
        assert hung.valid_until <= taken_at
        assert not hung.may_send()

        hung._renewing = asyncio.create_task(hung._renew())  # it wakes up
        await asyncio.wait_for(hung.lost.wait(), 3)  # its renew finds the lease taken
        assert (hung.role, hung.may_send()) == ("standby", False)
        await hung.release()
        # Its release does not touch the new leader's lease.
        lease = await read_lease(pg_url)
        assert (lease.holder, lease.epoch) == (standby.holder, 2)
        assert lease.expires_in > 0.5
        assert standby.may_send()
    finally:
        await hung.release()
        await standby.release()


async def test_a_leader_past_its_deadline_sends_nothing(pg_url):
    settings = Settings(_env_file=None, database_url=pg_url)
    now = [1000.0]
    leader = leadership(pg_url, lease=10.0, renew=5.0, clock=lambda: now[0])
    server = LocalBotApi()
    await server.start()
    request = telegram_request(settings, pool_size=1, may_send=leader.may_send)
    bot = Bot("123456:TEST-TOKEN", base_url=server.base_url, request=request)
    try:
        assert await leader.try_acquire()
        async with bot:
            await bot.send_message(700001, "halo")
            assert server.calls["sendMessage"] == 1
            now[0] += 10 - 2 + 0.01  # the lease less its margin has passed without a renew
            assert not leader.may_send()
            with pytest.raises(NotLeading):
                await bot.send_message(700001, "halo lagi")
        assert server.calls["sendMessage"] == 1
        assert [m.content for m in server.sent(700001)] == ["halo"]
    finally:
        await leader.release()
        await server.stop()


async def test_a_leader_that_cannot_renew_loses_the_lease_in_time(pg_url, monkeypatch, caplog):
    leader = leadership(pg_url, lease=1.0, renew=0.2)

    async def unreachable(**_kwargs):
        raise ConnectionRefusedError("the database server does not answer")
    try:
        assert await leader.try_acquire()
        monkeypatch.setattr(leases, "renew", unreachable)
        with caplog.at_level(logging.WARNING, logger="bot.leader"):
            await asyncio.wait_for(leader.lost.wait(), 3)
        lost_at = local_clock()
        assert lost_at >= leader.valid_until or leader.valid_until == float("-inf")
        assert not leader.may_send()
        said = [r.getMessage() for r in caplog.records]
        assert any("could not renew the leader lease" in line for line in said), said
        assert any(line.startswith("lost the leadership: the lease could not be renewed in "
                                   "time: The database server does not answer") for line in said)
    finally:
        await leader.release()


async def test_no_lease_while_an_older_version_holds_its_advisory_lock(pg_url):
    # Versions before the lease led by a session-level advisory lock: while one of them
    # leads (during an upgrade), a new instance must not lead beside it.
    engine = create_engine(pg_url)
    leader = leadership(pg_url)
    try:
        async with engine.connect() as old_version:
            await old_version.execute(text("SELECT pg_advisory_lock(:key)"),
                                      {"key": lock_key(pg_url)})
            assert not await leader.try_acquire()
            await old_version.execute(text("SELECT pg_advisory_unlock(:key)"),
                                      {"key": lock_key(pg_url)})
        assert await leader.try_acquire()
    finally:
        await leader.release()
        await engine.dispose()


async def _set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = :revision"),
                                 {"revision": revision})
    await engine.dispose()


async def test_the_schema_must_be_this_versions(postgres_schema):
    settings = Settings(_env_file=None, database_url=postgres_schema.url)
    await check_schema(settings)  # migrated to this version's head
    engine = create_engine(postgres_schema.url)
    async with engine.connect() as connection:
        head = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    await engine.dispose()
    try:
        await _set_revision(postgres_schema.url, "0099")
        with pytest.raises(SetupProblem, match=r"migrated by a newer version of Pendamping KUBE "
                                               r"\(revision 0099; this version knows up to "):
            await check_schema(settings)
        await _set_revision(postgres_schema.url, "0005")
        with pytest.raises(SetupProblem, match=r"at revision 0005, older than this version .*"
                                               r"run `pendamping db upgrade` first"):
            await check_schema(settings)
    finally:
        await _set_revision(postgres_schema.url, head)

    empty = f"e_{postgres_schema.name}"
    base = create_engine(postgres_schema.base_url)
    async with base.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{empty}"'))
    try:
        with pytest.raises(SetupProblem, match="no tables yet: run `pendamping db upgrade`"):
            await check_schema(Settings(_env_file=None, database_url=with_search_path(
                postgres_schema.base_url, empty)))
    finally:
        async with base.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{empty}" CASCADE'))
        await base.dispose()


async def _lead_elsewhere(url: str) -> None:
    """Stored personal data (encrypted with the test key), and a lease another instance holds
    for a while."""
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        await make_mentor(session, telegram_id=700001)
        await session.commit()
        assert await leases.take(session=session, name="telegram", holder="elsewhere",
                                 seconds=20, old_lock=lock_key(url)) is not None
    await engine.dispose()


def test_a_standby_with_a_wrong_data_key_stops_before_it_waits(pg_url, monkeypatch, tmp_path,
                                                               capsys):
    asyncio.run(_lead_elsewhere(pg_url))
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", pg_url)
    monkeypatch.setenv("PENDAMPING_TELEGRAM_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("PENDAMPING_HEALTH_PORT", "0")
    monkeypatch.setenv("PENDAMPING_DATA_KEY", crypto.new_key())
    assert crypto.new_key() != TEST_DATA_KEY
    returned = main(["run"])
    said = capsys.readouterr()
    printed = said.err + said.out
    assert returned == 2, printed
    assert "PENDAMPING_DATA_KEY does not open the personal data already stored" in printed
    assert "Traceback" not in printed
    # Refused before it waited for the lease (which another instance holds for 20 s).
    assert "waiting as a hot standby" not in printed
