"""SQLite statements in one trip to aiosqlite's thread (models.sqlite_trips), with the same
results and errors as SQLAlchemy's own adapter."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError

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


async def test_writes_return_rows_counts_and_ids(engine, trips: list[str]) -> None:
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
    assert trips.count("commit") == 1
    async with create_sessionmaker(engine)() as session:
        assert (await session.execute(select(_THING.c.name).order_by(_THING.c.id))).scalars() \
            .all() == ["y", None, None]


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
