"""Registering a KUBE group with its households: the rules it must meet, then the save."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import clock
from bot.core.enums import AreaLevel
from bot.core.parsing import MemberLine, group_problems
from bot.core.reminder_rules import Rules
from models import groups as group_queries
from models.areas import get_area, is_within
from models.saving import EndDraft, Refusal, Saved, write
from models.tables import Group, Mentor

EARLIEST_FORMED_YEAR = 1970  # the programme is younger: an older date is a typing slip


class GroupReason(StrEnum):
    MEMBERSHIP = "membership"  # size, officers or duplicates: see GroupRefusal.problems
    NO_CONSENT = "no_consent"  # a NIK or phone number the family has not agreed to
    VILLAGE_OUTSIDE_AREA = "village_outside_area"  # not a village inside the actor's area
    FORMED_TOO_EARLY = "formed_too_early"  # before EARLIEST_FORMED_YEAR
    FORMED_IN_FUTURE = "formed_in_future"  # after today where the actor works
    NO_TIE = "no_tie"  # no binding tie chosen


@dataclass(frozen=True)
class GroupRefusal(Refusal):
    """``problems``: the membership problem codes of bot.core.parsing.group_problems (their
    text keys are "grp.problem.<code>"), with the size limits applied; ``unconsented``: how many
    households carry a NIK or phone without consent; ``today`` where the actor works."""

    reason: GroupReason
    problems: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    unconsented: int = 0
    earliest_year: int = EARLIEST_FORMED_YEAR
    today: date | None = None


@dataclass(frozen=True)
class Household:
    """One member household as parsed from its line; ``consented``: the family agreed to its
    NIK and phone number being recorded (needed only when it has one)."""

    name: str
    welfare_category: str
    role: str
    nik: str | None = None
    phone: str | None = None
    consented: bool = False
    head_sex: str | None = None  # "l" / "p", when typed
    register_status: str | None = None  # DTKS/DTSEN: "ya" / "tidak" / "tidak_tahu"
    register_decile: int | None = None

    @property
    def personal(self) -> bool:
        return group_queries.has_personal_data(self)

    @classmethod
    def from_line(cls, line: MemberLine, *, agreed: Iterable[str]) -> Household:
        """A valid member line, consented when each NIK and phone number it has is among the
        values the mentor said the families ``agreed`` to."""
        agreed = set(agreed)
        assert line.ok and line.name and line.welfare_category and line.role, line
        return cls(name=line.name, welfare_category=line.welfare_category, role=line.role,
                   nik=line.nik, phone=line.phone,
                   consented=all(value in agreed for value in (line.nik, line.phone) if value),
                   head_sex=line.head_sex, register_status=line.register_status,
                   register_decile=line.register_decile)


@dataclass(frozen=True)
class NewGroup:
    """A new group's answers, parsed, and who registers it (who becomes its mentor)."""

    actor: Mentor
    name: str
    village_code: str
    business_type: str
    binding_ties: tuple[str, ...]
    formed_on: date
    stage: str
    households: tuple[Household, ...]
    update_id: int | None = None  # the Telegram update that saves it: saved once per update


# --- the rules one question also needs --------------------------------------------------------

def check_formed(formed: date, *, today: date) -> GroupReason | None:
    """A group was formed by today, and not before :data:`EARLIEST_FORMED_YEAR`."""
    if formed.year < EARLIEST_FORMED_YEAR:
        return GroupReason.FORMED_TOO_EARLY
    if formed > today:
        return GroupReason.FORMED_IN_FUTURE
    return None


def unconsented(households: tuple[Household, ...] | list[Household]) -> list[Household]:
    """Households with a NIK or phone number whose family has not agreed to it."""
    return [household for household in households
            if household.personal and not household.consented]


async def village_fits(*, session: AsyncSession, village_code: str, actor: Mentor) -> bool:
    """A real village, inside the actor's area when they have one."""
    area = actor.area_code
    if area and not is_within(village_code, area):
        return False
    found = await get_area(session=session, code=village_code)
    return found is not None and found.level == AreaLevel.VILLAGE


# --- the save ---------------------------------------------------------------------------------

async def save_group(*, session: AsyncSession, group: NewGroup, min_size: int, max_size: int,
                     interval_days: int, rules: Rules | None = None,
                     end_draft: EndDraft | None = None) -> Saved[Group] | GroupRefusal:
    """Checks a new group and saves it with its households, their consent, the audit rows and
    its reminders in one commit. Its first visit is due ``interval_days`` after today (where
    the actor works), which is also the households' date joined.

    Rules, in this order: the membership (``min_size``..``max_size`` households, exactly one
    ketua, sekretaris and bendahara, no name or NIK twice); every NIK and phone number agreed
    to; the village a real one inside the actor's area; formed by today and not before
    :data:`EARLIEST_FORMED_YEAR`; one binding tie at least.

    ``end_draft`` (see models.saving.EndDraft) is awaited only when every rule holds, right
    before the write, so the draft ends in the group's commit; a refusal writes and stages
    nothing and leaves the session as it was. A redelivered update finds the group it saved
    (``created`` False). ``rules``: the reminder rules (settings.reminder_rules).
    """
    actor = group.actor
    today = clock.today_for(actor.area_code)
    problems = group_problems(group.households, minimum=min_size, maximum=max_size)
    if problems:
        return GroupRefusal(GroupReason.MEMBERSHIP, problems=tuple(problems),
                            min_size=min_size, max_size=max_size, today=today)
    without = unconsented(group.households)
    if without:
        return GroupRefusal(GroupReason.NO_CONSENT, unconsented=len(without), today=today)
    if not await village_fits(session=session, village_code=group.village_code, actor=actor):
        return GroupRefusal(GroupReason.VILLAGE_OUTSIDE_AREA, today=today)
    wrong_date = check_formed(group.formed_on, today=today)
    if wrong_date is not None:
        return GroupRefusal(wrong_date, today=today)
    if not group.binding_ties:
        return GroupRefusal(GroupReason.NO_TIE, today=today)
    record, created = await write(end_draft, lambda: group_queries.create_group(
        session=session, mentor=actor, name=group.name, village_code=group.village_code,
        business_type=group.business_type, binding_ties=list(group.binding_ties),
        formed_on=group.formed_on, stage=group.stage, visit_interval_days=interval_days,
        next_visit_due=today + timedelta(days=interval_days),
        members=[{"name": h.name, "welfare_category": h.welfare_category, "role": h.role,
                  "nik": h.nik, "phone": h.phone, "head_sex": h.head_sex,
                  "register_status": h.register_status, "register_decile": h.register_decile}
                 for h in group.households],
        today=today, update_id=group.update_id, rules=rules,
        consented=any(h.personal for h in group.households)))
    return Saved(record, record, created)
