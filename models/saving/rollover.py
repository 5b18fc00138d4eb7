"""Saving a roll-over (pengguliran) of part of a grant: the rules, then the save.

What is left of the obligation is computed again here: another roll-over may have been saved
since the questions were asked, and passing what is left needs the mentor's confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import clock
from bot.core.reminder_rules import Rules
from models import grants as grant_queries
from models.grants import Progress
from models.saving import EndDraft, Refusal, Saved, check_day, write
from models.tables import Grant, Mentor, Rollover


class RolloverReason(StrEnum):
    GRANT_GONE = "grant_gone"  # not a grant of the actor's groups (any more), or none such
    ROLLED_IN_FUTURE = "rolled_in_future"  # after today where the group is
    ROLLED_BEFORE_RECEIVED = "rolled_before_received"  # before the grant was received
    NOTHING_ROLLED = "nothing_rolled"  # no Rupiah, and no units (or the grant counts none)
    OVER_WHAT_IS_LEFT = "over_what_is_left"  # passes what is left, not confirmed


@dataclass(frozen=True)
class Exceeded:
    """What is left of each target a roll-over passes: ``amount_left`` when its Rupiah pass
    it, ``units_left`` (in ``unit_label``) when its units do; None for a target not passed."""

    amount_left: int | None = None
    units_left: int | None = None
    unit_label: str | None = None


@dataclass(frozen=True)
class RolloverRefusal(Refusal):
    """Besides GRANT_GONE, the grant's group (name, village, today there), its date received,
    and for OVER_WHAT_IS_LEFT what is left of the targets passed."""

    reason: RolloverReason
    group: str | None = None
    village_code: str | None = None
    today: date | None = None
    received_on: date | None = None
    exceeded: Exceeded | None = None


@dataclass(frozen=True)
class NewRollover:
    """A roll-over's answers, parsed, and who records it (the mentor of the grant's group).
    ``exceed_confirmed``: the mentor said to save it even if it passes what is left."""

    actor: Mentor
    grant_id: int
    rolled_on: date
    recipient_kind: str
    recipient_name: str
    recipient_village_code: str | None = None
    amount: int | None = None
    units: int | None = None  # kept only for a grant with a units target
    note: str | None = None
    exceed_confirmed: bool = False
    update_id: int | None = None  # the Telegram update that saves it: saved once per update


@dataclass(frozen=True)
class SavedRollover(Saved[Rollover]):
    """The roll-over, its grant and group, and the grant's progress with it counted."""

    grant: Grant
    progress: Progress


# --- the rules one question also needs --------------------------------------------------------

def check_rolled_on(rolled: date, *, received_on: date, today: date) -> RolloverReason | None:
    """A roll-over happened by today (where the group is), not before the grant was received."""
    return check_day(rolled, earliest=received_on, today=today,
                     future=RolloverReason.ROLLED_IN_FUTURE,
                     early=RolloverReason.ROLLED_BEFORE_RECEIVED)


def exceeded(state: Progress, *, amount: int | None, units: int | None) -> Exceeded | None:
    """What is left of each target that ``amount`` and ``units`` pass; None if they pass none."""
    amount_left = state.amount_left if amount and state.amount_left is not None \
        and amount > state.amount_left else None
    units_left = state.units_left if units and state.units_left is not None \
        and units > state.units_left else None
    if amount_left is None and units_left is None:
        return None
    return Exceeded(amount_left, units_left, state.grant.rollover_unit_label)


# --- the save ---------------------------------------------------------------------------------

async def save_rollover(*, session: AsyncSession, rollover: NewRollover,
                        rules: Rules | None = None, end_draft: EndDraft | None = None
                        ) -> SavedRollover | RolloverRefusal:
    """Checks a roll-over against its grant as stored now and saves it with its audit row; when
    it completes the obligation, the grant's pending reminders are cancelled; one commit.

    Rules, in this order: the grant's group is the actor's own and the grant must be rolled
    over; rolled over between the date
    received and today where the group is; some Rupiah or units (units count only for a grant
    with a units target); passing what is left of a target needs ``exceed_confirmed``.

    ``end_draft`` (see models.saving.EndDraft) is awaited only when every rule holds, right
    before the write, so the draft ends in the roll-over's commit; a refusal writes and stages
    nothing and leaves the session as it was. A redelivered update finds the roll-over it
    saved (``created`` False). ``rules``: the reminder rules (settings.reminder_rules).
    """
    found = await grant_queries.get_writable(session=session, grant_id=rollover.grant_id,
                                             mentor=rollover.actor)
    if found is None or not found[0].rollover_required or found[0].rollover_due is None:
        return RolloverRefusal(RolloverReason.GRANT_GONE)  # none, or nothing to roll over
    grant, group = found
    today = clock.today_for(group.village_code)

    def refusal(reason: RolloverReason, over: Exceeded | None = None) -> RolloverRefusal:
        return RolloverRefusal(reason, group=group.name, village_code=group.village_code,
                               today=today, received_on=grant.received_on, exceeded=over)

    wrong = check_rolled_on(rollover.rolled_on, received_on=grant.received_on, today=today)
    if wrong is not None:
        return refusal(wrong)
    units = rollover.units if grant.rollover_units else None
    if not (rollover.amount or units):
        return refusal(RolloverReason.NOTHING_ROLLED)
    before = await grant_queries.progress(session=session, grant=grant, today=today)
    over = exceeded(before, amount=rollover.amount, units=units)
    if over is not None and not rollover.exceed_confirmed:
        return refusal(RolloverReason.OVER_WHAT_IS_LEFT, over)
    fields = {
        "rolled_on": rollover.rolled_on,
        "recipient_kind": rollover.recipient_kind,
        "recipient_name": rollover.recipient_name,
        "recipient_village_code": rollover.recipient_village_code,
        "amount": rollover.amount,
        "units": units,
        "note": rollover.note,
    }
    record, created = await write(end_draft, lambda: grant_queries.create_rollover(
        session=session, grant=grant, group=group, mentor=rollover.actor, fields=fields,
        update_id=rollover.update_id, today=today, rules=rules))
    # Shown to the mentor only: what was read before, with this roll-over counted, saves a
    # read after the commit. A redelivery finds its roll-over counted already.
    after = before.counting(record) if created else await grant_queries.progress(
        session=session, grant=grant, today=today)
    return SavedRollover(record, group, created, grant, after)
