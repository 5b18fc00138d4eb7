"""SQLite statements in one trip to aiosqlite's thread (models.sqlite_trips), with the same
results and errors as SQLAlchemy's own adapter; writers taking turns in the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from models import sqlite_trips
from models.db import create_engine, create_sessionmaker

_META = MetaData()
_THING = Table("thing", _META, Column("id", Integer, primary_key=True),
               Column("name", String, unique=True))


@pytest.fixture
async def engine(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(_META.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls made on aiosqlite's thread, by name."""
    made: list[str] = []
    real = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        made.append(getattr(fn, "__name__", "?"))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return made


async def test_a_read_only_session_is_one_trip(engine, trips: list[str]) -> None:
    async with create_sessionmaker(engine)() as session:
        await session.execute(text("select 1"))  # connects and sets the pragmas
    trips.clear()
    async with create_sessionmaker(engine)() as session:
        assert (await session.execute(select(_THING.c.id))).all() == []
    # SQLAlchemy's adapter: cursor, execute, fetchall, close, rollback.
    assert trips == ["statement"]


async def _write_things(engine) -> None:
    async with create_sessionmaker(engine)() as session:
        inserted = await session.execute(insert(_THING).values(name="a"))
        assert inserted.inserted_primary_key == (1,)
        returned = await session.execute(
            insert(_THING).returning(_THING.c.id, _THING.c.name), [{"name": "b"}, {"name": "c"}])
        assert sorted(returned.all()) == [(2, "b"), (3, "c")]
        changed = await session.execute(update(_THING).where(_THING.c.id > 1).values(name=None))
        assert changed.rowcount == 2
        many = await session.execute(update(_THING).where(_THING.c.id == 1),
                                     [{"name": "x"}, {"name": "y"}])
        assert many.rowcount == 2
        await session.commit()
    async with create_sessionmaker(engine)() as session:
        assert (await session.execute(select(_THING.c.name).order_by(_THING.c.id))).scalars() \
            .all() == ["y", None, None]


async def test_writes_return_rows_counts_and_ids(engine, trips: list[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Where the statements run, not how fast: a slow machine's first compile of a statement
    # must not send the next one to the thread.
    monkeypatch.setattr(sqlite_trips, "HERE_SECONDS", 10.0)
    with sqlite_trips.on_the_loop():  # as while an update is handled
        await _write_things(engine)
    # The writing transaction ran on the loop's thread, its commit too; the read did not.
    assert trips == ["statement"]


async def test_writes_elsewhere_stay_on_aiosqlites_thread(engine, trips: list[str]) -> None:
    await _write_things(engine)  # a job, a tool: a statement may be long
    # Each statement (the last one of many rows) and the commit, then the read.
    assert trips == ["statement"] * 3 + ["statements", "commit", "statement"]


async def test_errors_and_rollback_are_as_before(engine, trips: list[str]) -> None:
    async with create_sessionmaker(engine)() as session:
        await session.execute(insert(_THING).values(name="a"))
        await session.commit()
        await session.execute(insert(_THING).values(name="b"))
        with pytest.raises(IntegrityError):
            await session.execute(insert(_THING).values(name="a"))
        await session.rollback()
        assert "rollback" in trips
        assert (await session.execute(select(_THING.c.name))).scalars().all() == ["a"]


async def _names(engine) -> list[str]:
    async with create_sessionmaker(engine)() as session:
        return list((await session.execute(select(_THING.c.name).order_by(_THING.c.id)))
                    .scalars())


async def test_writers_take_turns_in_order_without_a_lock_error(tmp_path: Path) -> None:
    # A busy timeout far shorter than SQLite's own retry sleeps would allow for ten writers.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}", busy_seconds=2)
    async with engine.begin() as connection:
        await connection.run_sync(_META.create_all)

    async def writer(number: int) -> None:
        async with create_sessionmaker(engine)() as session:
            await session.execute(insert(_THING).values(name=f"{number}a"))
            await asyncio.sleep(0.01)  # the transaction stays open while others want in
            await session.execute(insert(_THING).values(name=f"{number}b"))
            await session.commit()

    try:
        await asyncio.gather(*(writer(number) for number in range(10)))
        names = await _names(engine)
    finally:
        await engine.dispose()
    # Each transaction's two rows together: one writer at a time.
    assert sorted(names) == sorted(f"{number}{part}" for number in range(10) for part in "ab")
    assert all(names[index][0] == names[index + 1][0] for index in range(0, 20, 2))


async def test_a_writer_waiting_longer_than_the_busy_timeout_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}", busy_seconds=0.2)
    async with engine.begin() as connection:
        await connection.run_sync(_META.create_all)
    try:
        async with create_sessionmaker(engine)() as holder, \
                create_sessionmaker(engine)() as waiter:
            await holder.execute(insert(_THING).values(name="first"))
            with pytest.raises(OperationalError, match="database is locked"):
                await waiter.execute(insert(_THING).values(name="second"))
            await waiter.rollback()
            await holder.commit()
            # The refused one may write once the lock is free.
            await waiter.execute(insert(_THING).values(name="second"))
            await waiter.commit()
        assert await _names(engine) == ["first", "second"]
    finally:
        await engine.dispose()


async def test_another_process_writing_is_waited_for_off_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}", busy_seconds=5)
    async with engine.begin() as connection:
        await connection.run_sync(_META.create_all)
    # A CLI command, say (used from a thread below too).
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO thing (name) VALUES ('other')")
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with create_sessionmaker(engine)() as session:
            await session.execute(insert(_THING).values(name="bot"))
            await session.commit()

    ticker = asyncio.create_task(ticking())
    try:
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writing.done()  # waiting for the other process's lock …
        assert ticks >= 10  # … and the loop went on meanwhile
        await asyncio.to_thread(other.execute, "COMMIT")
        await asyncio.wait_for(writing, 5)
        assert await _names(engine) == ["other", "bot"]
    finally:
        ticker.cancel()
        other.close()
        await engine.dispose()


async def test_a_long_transaction_lets_the_loop_run_and_commits_checkpoint(
        engine, trips: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_trips, "HERE_SECONDS", 0.0)  # every statement "too long after"
    with sqlite_trips.on_the_loop():
        async with create_sessionmaker(engine)() as session:
            for number in range(3):
                await session.execute(insert(_THING).values(name=str(number)))
            await session.commit()
    # Each statement and the commit went to aiosqlite's thread, the loop running in between.
    assert trips == ["statement", "statement", "statement", "commit"]
    monkeypatch.setattr(sqlite_trips, "HERE_SECONDS", 10.0)
    monkeypatch.setattr(sqlite_trips, "CHECKPOINT_EVERY", 2)
    trips.clear()
    for number in range(4):
        with sqlite_trips.on_the_loop():
            async with create_sessionmaker(engine)() as session:
                await session.execute(insert(_THING).values(name=f"c{number}"))
                await session.commit()
    # Every second commit on aiosqlite's thread, with a checkpoint of the WAL (the bot's
    # connections do not checkpoint at a commit: models.db).
    assert trips.count("commit") == 2 and trips.count("<lambda>") == 2
    assert len(await _names(engine)) == 7


async def test_another_writer_commits_while_a_checkpoint_runs(
        engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sqlite_trips, "CHECKPOINT_EVERY", 1)  # every commit checkpoints
    # The checkpoint made slow (as a file sync on a busy disk): the next writer must not wait
    # for it, since a passive checkpoint holds no write lock.
    checkpointing, other_done = asyncio.Event(), asyncio.Event()
    real = sqlite_trips.OneTripConnection._checkpoint

    def slow_checkpoint(self) -> None:
        checkpointing.set()
        sqlite_trips.await_(asyncio.wait_for(other_done.wait(), 5))
        real(self)

    monkeypatch.setattr(sqlite_trips.OneTripConnection, "_checkpoint", slow_checkpoint)

    async def write(name: str) -> None:
        with sqlite_trips.on_the_loop():
            async with create_sessionmaker(engine)() as session:
                await session.execute(insert(_THING).values(name=name))
                await session.commit()

    async def second() -> None:
        await checkpointing.wait()
        monkeypatch.setattr(sqlite_trips, "CHECKPOINT_EVERY", 1000)
        print("before second", engine.sync_engine.dialect.dbapi.gate.owner, engine.sync_engine.dialect.dbapi.gate._lock.locked(), flush=True); await asyncio.wait_for(write("second"), 3)  # its turn, while the first checkpoints
        other_done.set()

    await asyncio.gather(write("first"), second())
    assert sorted(await _names(engine)) == ["first", "second"]
    # Its turn came at once, not from the gate's check for a turn whose transaction ended.
    assert "turn was let go" not in caplog.text


async def test_a_turn_whose_transaction_ended_unseen_is_let_go(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}", busy_seconds=5)
    async with engine.begin() as connection:
        await connection.run_sync(_META.create_all)
    try:
        async with create_sessionmaker(engine)() as lost, create_sessionmaker(engine)() as next_:
            await lost.execute(insert(_THING).values(name="lost"))
            # Its transaction ends behind the gate's back (as when a connection is dropped).
            raw = (await (await lost.connection()).get_raw_connection()).driver_connection
            await raw.rollback()
            began = asyncio.get_running_loop().time()
            await next_.execute(insert(_THING).values(name="next"))
            await next_.commit()
            assert asyncio.get_running_loop().time() - began < 2.5  # not the 5 s timeout
        assert await _names(engine) == ["next"]
    finally:
        await engine.dispose()
