"""Saving a grant (bantuan) to a KUBE group with its roll-over obligation, if it has one: the
rules, the save; and recording that its LPJ (laporan pertanggungjawaban) was handed in.

The group may have changed since the questions were asked (its date formed corrected, handed
to another mentor), so what depends on it is checked again here, in the group's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import clock
from bot.core.enums import FundingSource, GrantForm, GrantKind
from bot.core.reminder_rules import Rules
from models import grants as grant_queries
from models import groups as group_queries
from models.changes import is_read_only
from models.saving import EndDraft, Refusal, Saved, check_day, write
from models.tables import Grant, Mentor

MAX_DUE_YEARS = 10  # a roll-over deadline further away is a typing slip
DEFAULT_LPJ_MONTHS = 3  # settings.lpj_months

# The kind says where the money came from: /hibah no longer asks it. Bantuan UEP and BLPS are
# the Ministry's (APBN); bantuan daerah is the regency's own budget, the office running the bot
# (a province's APBD is rarer and reads the same in the programme's reports); CSR/lainnya is
# "lainnya" (CSR and other donors are not told apart).
SOURCE_OF_KIND = {
    GrantKind.UEP: FundingSource.APBN,
    GrantKind.BLPS: FundingSource.APBN,
    GrantKind.REGIONAL: FundingSource.APBD_REGENCY,
    GrantKind.OTHER: FundingSource.OTHER,
}


def source_for(kind: str) -> str:
    """The funding source a grant of ``kind`` comes from (see :data:`SOURCE_OF_KIND`)."""
    return SOURCE_OF_KIND.get(kind, FundingSource.OTHER).value


class GrantReason(StrEnum):
    GROUP_GONE = "group_gone"  # not the actor's group (any more), or no such group
    RECEIVED_IN_FUTURE = "received_in_future"  # after today where the group is
    RECEIVED_BEFORE_FORMED = "received_before_formed"  # before the group was formed
    AMOUNT_MISSING = "amount_missing"  # a cash grant without its amount
    GOODS_MISSING = "goods_missing"  # a goods grant without saying what was given
    NO_OBLIGATION = "no_obligation"  # nothing to roll over: no Rupiah, units nor households
    ROLL_OVER_GRANT = "roll_over_grant"  # more Rupiah to roll over than the grant's amount
    DUE_OUT_OF_RANGE = "due_out_of_range"  # not after receipt, or over MAX_DUE_YEARS later


@dataclass(frozen=True)
class GrantRefusal(Refusal):
    """Besides GROUP_GONE, the group as it is now (name, date formed, village, today there; a
    handler refreshes its draft from them), the grant's amount (for ROLL_OVER_GRANT) and the
    latest deadline for this date received."""

    reason: GrantReason
    group: str | None = None
    formed_on: date | None = None
    village_code: str | None = None
    today: date | None = None
    amount: int | None = None
    latest_due: date | None = None
    max_years: int = MAX_DUE_YEARS


@dataclass(frozen=True)
class NewGrant:
    """A grant's answers, parsed, and who records it (the group's own mentor). The goods are
    kept for a goods grant only, the unit label only with a units target; without a roll-over
    obligation (``rollover_required`` False) no target and no deadline are kept. The funding
    source, when not given, comes from the kind (:func:`source_for`)."""

    actor: Mentor
    group_id: int
    kind: str
    form: str
    received_on: date
    rollover_required: bool = True
    rollover_due: date | None = None
    funding_source: str | None = None
    amount: int | None = None  # cash: the amount; goods: their value, if known
    goods_description: str | None = None
    rollover_amount: int | None = None
    rollover_units: int | None = None
    rollover_unit_label: str | None = None
    rollover_households: int | None = None
    update_id: int | None = None  # the Telegram update that saves it: saved once per update


# --- the rules one question also needs --------------------------------------------------------

def check_received(received: date, *, formed_on: date | None, today: date
                   ) -> GrantReason | None:
    """A grant was received by today (where the group is), not before the group was formed."""
    return check_day(received, earliest=formed_on, today=today,
                     future=GrantReason.RECEIVED_IN_FUTURE,
                     early=GrantReason.RECEIVED_BEFORE_FORMED)


def check_obligation(*, amount: int | None, roll_amount: int | None, roll_units: int | None,
                     roll_households: int | None) -> GrantReason | None:
    """Something to roll over (Rupiah, units or households), and never more Rupiah than the
    grant's amount, when it is known."""
    if not (roll_amount or roll_units or roll_households):
        return GrantReason.NO_OBLIGATION
    if amount and roll_amount and roll_amount > amount:
        return GrantReason.ROLL_OVER_GRANT
    return None


def lpj_due(received: date, months: int) -> date:
    """When the LPJ of a grant received on ``received`` is due: ``months`` calendar months
    later (settings.lpj_months)."""
    return received + relativedelta(months=months)


def latest_due(received: date) -> date:
    """The latest roll-over deadline for a grant received on ``received``."""
    return received + relativedelta(years=MAX_DUE_YEARS)


def default_due(received: date, months: int) -> date:
    """The suggested roll-over deadline: ``months`` calendar months after receipt (31 Jan + 1
    month is 28 or 29 February)."""
    return received + relativedelta(months=months)


def due_fits(received: date, due: date) -> bool:
    """The deadline comes after receipt, at most :data:`MAX_DUE_YEARS` later."""
    return received < due <= latest_due(received)


# --- the save ---------------------------------------------------------------------------------

async def save_grant(*, session: AsyncSession, grant: NewGrant, rules: Rules | None = None,
                     end_draft: EndDraft | None = None,
                     lpj_months: int = DEFAULT_LPJ_MONTHS) -> Saved[Grant] | GrantRefusal:
    """Checks a grant against its group as stored now and saves it with its audit row, its
    roll-over reminders (when it must be rolled over) and its LPJ reminders in one commit. The
    LPJ is due ``lpj_months`` after receipt.

    Rules, in this order: the group is the actor's own (and not dissolved); received between
    the date formed and today where the group is; a cash grant has its amount, a goods grant
    says what was given; when it must be rolled over, an obligation with no more Rupiah than
    the grant, and the deadline after receipt, at most :data:`MAX_DUE_YEARS` later.

    ``end_draft`` (see models.saving.EndDraft) is awaited only when every rule holds, right
    before the write, so the draft ends in the grant's commit; a refusal writes and stages
    nothing and leaves the session as it was. A redelivered update finds the grant it saved
    (``created`` False). ``rules``: the reminder rules (settings.reminder_rules).
    """
    group = await group_queries.get_writable(session=session, group_id=grant.group_id,
                                             mentor=grant.actor)
    if group is None:
        return GrantRefusal(GrantReason.GROUP_GONE)
    today = clock.today_for(group.village_code)

    def refusal(reason: GrantReason) -> GrantRefusal:
        return GrantRefusal(reason, group=group.name, formed_on=group.formed_on,
                            village_code=group.village_code, today=today, amount=grant.amount,
                            latest_due=latest_due(grant.received_on))

    wrong = check_received(grant.received_on, formed_on=group.formed_on, today=today)
    if wrong is not None:
        return refusal(wrong)
    goods = grant.form == GrantForm.GOODS
    if grant.form == GrantForm.CASH and not grant.amount:
        return refusal(GrantReason.AMOUNT_MISSING)
    if goods and not grant.goods_description:
        return refusal(GrantReason.GOODS_MISSING)
    required = grant.rollover_required
    if required:
        wrong = check_obligation(amount=grant.amount, roll_amount=grant.rollover_amount,
                                 roll_units=grant.rollover_units,
                                 roll_households=grant.rollover_households)
        if wrong is not None:
            return refusal(wrong)
        if grant.rollover_due is None or not due_fits(grant.received_on, grant.rollover_due):
            return refusal(GrantReason.DUE_OUT_OF_RANGE)
    fields = {
        "kind": grant.kind,
        "funding_source": grant.funding_source or source_for(grant.kind),
        "form": grant.form,
        "amount": grant.amount,
        "goods_description": grant.goods_description if goods else None,
        "received_on": grant.received_on,
        "rollover_required": required,
        "rollover_amount": grant.rollover_amount if required else None,
        "rollover_units": grant.rollover_units if required else None,
        "rollover_unit_label": grant.rollover_unit_label
        if required and grant.rollover_units else None,
        "rollover_households": grant.rollover_households if required else None,
        "rollover_due": grant.rollover_due if required else None,
        "lpj_due": lpj_due(grant.received_on, lpj_months),
    }
    record, created = await write(end_draft, lambda: grant_queries.create_grant(
        session=session, group=group, mentor=grant.actor, fields=fields,
        update_id=grant.update_id, today=today, rules=rules))
    return Saved(record, group, created)


# --- the LPJ ----------------------------------------------------------------------------------

class LpjReason(StrEnum):
    GRANT_GONE = "grant_gone"  # not a grant the actor may see (mentor of, area of), or none
    READ_ONLY = "read_only"  # the group is dissolved (bubar): its records stay as they are
    SUBMITTED_IN_FUTURE = "submitted_in_future"  # after today where the group is
    SUBMITTED_BEFORE_RECEIVED = "submitted_before_received"  # before the grant was received


@dataclass(frozen=True)
class LpjRefusal(Refusal):
    """Besides GRANT_GONE, the grant's group (name, village, today there) and its date
    received."""

    reason: LpjReason
    group: str | None = None
    village_code: str | None = None
    today: date | None = None
    received_on: date | None = None


@dataclass(frozen=True)
class NewLpj:
    """The day a grant's LPJ was handed in, and who records it: the group's mentor or a
    coordinator of its area."""

    actor: Mentor
    grant_id: int
    submitted_on: date


def check_lpj_day(day: date, *, received_on: date, today: date) -> LpjReason | None:
    """An LPJ was handed in by today (where the group is), not before the grant came."""
    return check_day(day, earliest=received_on, today=today,
                     future=LpjReason.SUBMITTED_IN_FUTURE,
                     early=LpjReason.SUBMITTED_BEFORE_RECEIVED)


async def save_lpj(*, session: AsyncSession, lpj: NewLpj, rules: Rules | None = None,
                   end_draft: EndDraft | None = None) -> Saved[Grant] | LpjRefusal:
    """Records the day a grant's LPJ was handed in, with its audit row, and cancels its LPJ
    reminders; one commit. An LPJ already recorded stays as it was (``created`` False: a
    second press, or a redelivered update).

    Rules, in this order: the actor may see the grant's group (its mentor, a coordinator of its
    area, an admin); the group is not dissolved; handed in between the date received and today
    where the group is.
    """
    found = await grant_queries.get_visible(session=session, grant_id=lpj.grant_id,
                                            actor=lpj.actor)
    if found is None:
        return LpjRefusal(LpjReason.GRANT_GONE)
    grant, group = found
    today = clock.today_for(group.village_code)

    def refusal(reason: LpjReason) -> LpjRefusal:
        return LpjRefusal(reason, group=group.name, village_code=group.village_code,
                          today=today, received_on=grant.received_on)

    if is_read_only(group):
        return refusal(LpjReason.READ_ONLY)
    if grant.lpj_submitted_on is not None:
        return Saved(grant, group, False)
    wrong = check_lpj_day(lpj.submitted_on, received_on=grant.received_on, today=today)
    if wrong is not None:
        return refusal(wrong)
    record, created = await write(end_draft, lambda: grant_queries.record_lpj(
        session=session, grant=grant, group=group, actor=lpj.actor,
        submitted_on=lpj.submitted_on, today=today, rules=rules))
    return Saved(record, group, created)
