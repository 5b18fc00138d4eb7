"""The leader's lease (PostgreSQL only; bot.leader): taken when it is free or has run out,
renewed by its holder, given back at a clean stop. Every time here is the database's (now()),
so the machines' clocks do not matter; ``expires_in`` is in seconds from the database's now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import BigInteger, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import LeaderLease


@dataclass(frozen=True)
class Lease:
    holder: str
    epoch: int
    expires_in: float  # negative: it has run out


def _expires_in():
    return func.extract("epoch", LeaderLease.expires_at - func.now())


async def take(*, session: AsyncSession, name: str, holder: str, seconds: float,
               old_lock: int) -> Lease | None:
    """Takes the lease when nobody holds it, it has run out, or it is ``holder``'s own (a take
    whose answer was lost), with the epoch one higher; commits. None when another holds it.

    ``old_lock``: the advisory lock key by which versions before the lease led. While one of
    them holds it, nobody takes the lease: the two kinds must not lead side by side while an
    installation is being upgraded.
    """
    free = (await session.execute(select(func.pg_try_advisory_xact_lock(
        bindparam("old_lock", old_lock, type_=BigInteger))))).scalar()
    if not free:
        await session.rollback()
        return None
    until = func.now() + timedelta(seconds=seconds)
    statement = insert(LeaderLease).values(name=name, holder=holder, epoch=1,
                                           acquired_at=func.now(), expires_at=until)
    statement = statement.on_conflict_do_update(
        index_elements=[LeaderLease.name],
        set_={"holder": holder, "epoch": LeaderLease.epoch + 1, "acquired_at": func.now(),
              "expires_at": until},
        where=or_(LeaderLease.expires_at <= func.now(), LeaderLease.holder == holder),
    ).returning(LeaderLease.epoch, _expires_in())
    row = (await session.execute(statement)).first()
    await session.commit()
    return None if row is None else Lease(holder, int(row[0]), float(row[1]))


async def renew(*, session: AsyncSession, name: str, holder: str, epoch: int,
                seconds: float) -> float | None:
    """Extends ``holder``'s lease of ``epoch`` to ``seconds`` from now and commits; returns the
    seconds it now has, or None when it is no longer theirs (taken over)."""
    statement = (update(LeaderLease)
                 .where(LeaderLease.name == name, LeaderLease.holder == holder,
                        LeaderLease.epoch == epoch)
                 .values(expires_at=func.now() + timedelta(seconds=seconds))
                 .returning(_expires_in()))
    left = (await session.execute(statement)).scalar()
    await session.commit()
    return None if left is None else float(left)


async def give_back(*, session: AsyncSession, name: str, holder: str, epoch: int) -> None:
    """Ends ``holder``'s lease now (if it is still theirs), so a standby need not wait it out."""
    await session.execute(update(LeaderLease)
                          .where(LeaderLease.name == name, LeaderLease.holder == holder,
                                 LeaderLease.epoch == epoch)
                          .values(expires_at=func.now()))
    await session.commit()


async def current(*, session: AsyncSession, name: str) -> Lease | None:
    """The lease as it stands (None: never taken)."""
    row = (await session.execute(
        select(LeaderLease.holder, LeaderLease.epoch, _expires_in())
        .where(LeaderLease.name == name))).first()
    await session.rollback()  # ends the read's transaction: the next read sees a fresh now()
    return None if row is None else Lease(row[0], int(row[1]), float(row[2]))
