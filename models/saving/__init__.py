"""Saving a group, a visit, a grant or a roll-over: the rules that must hold, then the save.

One module per record (group, visit, grant, rollover), each with one ``save_*`` function that
takes keyword-only ``session``, a frozen ``New*`` dataclass of the answers as parsed values
(and the actor), and returns :class:`Saved` or that record's :class:`Refusal`. The public
``check_*`` functions beside it are the rules one question also needs on its own (a date, an
amount), so the question and the save apply the same rule, written once.

Apart from the query modules (models.groups, models.visits, models.grants), which stay plain
reads and writes: the rules of four records would take those modules past 500 lines, and here
what must hold for a save is read in one place per record.

Refusals are data: a reason (a StrEnum per record) and the values a handler needs to word it
(names, limits, dates), never text. The draft's contract is in :data:`EndDraft`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar

from models.tables import Group

T = TypeVar("T")
R = TypeVar("R", bound=StrEnum)

EndDraft = Callable[[], Awaitable[None]]
"""Stages the end of the conversation's draft in the session, without committing (a handler
passes ``lambda: flow.end_with_save(update, context)``).

A ``save_*`` function awaits it (through :func:`write`) only once every rule holds, right
before it writes the record; the record's commit then ends the draft too, so a crash after that
commit cannot leave a draft to be saved a second time. On a refusal it is never awaited:
nothing is staged and the session is left as it was. No rollback either: a rollback would
expire every object the session holds (the mentor in the handler's context), which async code
cannot load again lazily. So the draft stays, for the question that fixes the answer. Do not
stage the draft's end yourself before calling a ``save_*``: a refusal would leave it staged for
the next commit.
"""


@dataclass(frozen=True)
class Saved(Generic[T]):
    """The record saved (or found: ``created`` False when this update had saved it already, a
    redelivery) and its group, as stored now."""

    record: T
    group: Group
    created: bool


@dataclass(frozen=True)
class Refusal:
    """Why a record was not saved; each record's refusal adds the values its wording needs.
    Nothing was written and nothing staged."""

    reason: StrEnum


def check_day(day: date, *, earliest: date | None, today: date, future: R, early: R) -> R | None:
    """The rule of every day something happened (a visit, a grant received, a roll-over): by
    today where the group is (else ``future``), not before ``earliest`` (else ``early``)."""
    if day > today:
        return future
    if earliest is not None and day < earliest:
        return early
    return None


async def write(end_draft: EndDraft | None,
                create: Callable[[], Awaitable[tuple[T, bool]]]) -> tuple[T, bool]:
    """Once every rule holds: stages the draft's end, then ``create`` writes and commits the
    record (a models query returning (record, created)), so both land in one commit."""
    if end_draft is not None:
        await end_draft()
    return await create()
