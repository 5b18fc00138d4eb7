"""One-time links to the dashboard (/dasbor) for a browser outside Telegram.

A link's token is ``<id>.<expiry>.<signature>``: the id names its ``dashboard_link`` row, the
expiry is a Unix time, and the signature (models.crypto, a key derived from the data key) makes
both unforgeable. Signed with the data key rather than the bot token: the token is known to
Telegram and to whoever holds the bot at BotFather, and is changed there; the data key never
leaves this server. The token itself is never stored: the row only remembers that its link
was used, so it works once, across restarts and between two instances.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.crypto import keyring
from models.tables import DashboardLink

PURPOSE = "dashboard link"
# Rows of links that ran out are deleted once this old (a used one stays until then too, so
# a used link is refused as used, not only as expired, for a while).
KEEP = timedelta(days=1)


def _signed(link_id: str, expiry: int) -> str:
    return keyring().sign(f"{link_id}.{expiry}", PURPOSE)


async def issue(*, session: AsyncSession, mentor_id: int, now: datetime,
                minutes: int) -> str:
    """A new one-time link's token for the mentor, valid ``minutes`` from ``now``; commits
    (and forgets the rows of links long run out)."""
    expires_at = now + timedelta(minutes=minutes)
    link_id = secrets.token_urlsafe(18)
    await session.execute(delete(DashboardLink).where(DashboardLink.expires_at < now - KEEP))
    session.add(DashboardLink(id=link_id, mentor_id=mentor_id, created_at=now,
                              expires_at=expires_at))
    await session.commit()
    expiry = int(expires_at.timestamp())
    return f"{link_id}.{expiry}.{_signed(link_id, expiry)}"


def _parse(token: str, now: datetime) -> str | None:
    """The link id of a well-formed, correctly signed token not yet expired, else None."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(token) > 200:
        return None
    link_id, expiry, signature = parts[0], int(parts[1]), parts[2]
    if not keyring().verify(f"{link_id}.{expiry}", PURPOSE, signature):
        return None
    if datetime.fromtimestamp(expiry, UTC) <= now:
        return None
    return link_id


async def redeem(*, session: AsyncSession, token: str, now: datetime) -> int | None:
    """The mentor id of a link used now for the first time, marking it used (committed); None
    for a forged, expired or already used token.

    The row is claimed with one UPDATE … WHERE used_at IS NULL: of two requests at the same
    moment exactly one changes the row, so the link lets in one browser only.
    """
    link_id = _parse(token, now)
    if link_id is None:
        return None
    claimed = await session.execute(
        update(DashboardLink)
        .where(DashboardLink.id == link_id, DashboardLink.used_at.is_(None),
               DashboardLink.expires_at > now)
        .values(used_at=now))
    await session.commit()
    if claimed.rowcount != 1:
        return None
    return (await session.execute(select(DashboardLink.mentor_id)
                                  .where(DashboardLink.id == link_id))).scalar_one()
