"""models.saving.group: a group registered with its households when the programme's rules hold,
or refused with nothing written and the draft left for the question that fixes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.core.enums import ReminderStatus, Role
from bot.core.parsing import parse_member_line
from models.saving import Saved
from models.saving.group import (
    EARLIEST_FORMED_YEAR,
    GroupReason,
    GroupRefusal,
    Household,
    NewGroup,
    check_formed,
    save_group,
    unconsented,
)
from models.tables import AuditLog, Group, Member, Reminder
from tests.factories import (
    VILLAGE_IN_CIBADAK,
    draft_left,
    ender,
    expect_refusal,
    handled_update_ids,
    make_mentor,
    received,
    rows,
    store_draft,
)

TODAY = date(2026, 11, 25)
USER = 700778
NIK = "3202111234560001"
LIMITS = {"min_size": 5, "max_size": 10, "interval_days": 30}


def households(n: int = 7) -> tuple[Household, ...]:
    roles = ["ketua", "sekretaris", "bendahara"] + ["anggota"] * (n - 3)
    return tuple(Household(name=f"Warga {no}", welfare_category="miskin", role=role)
                 for no, role in enumerate(roles, start=1))


# --- the rules a question also applies ----------------------------------------------------------

def test_formed_from_1970_to_today():
    assert check_formed(TODAY, today=TODAY) is None
    assert check_formed(date(EARLIEST_FORMED_YEAR, 1, 1), today=TODAY) is None
    assert check_formed(date(1969, 12, 31), today=TODAY) == GroupReason.FORMED_TOO_EARLY
    assert check_formed(TODAY + timedelta(days=1), today=TODAY) == GroupReason.FORMED_IN_FUTURE


def test_personal_data_needs_consent():
    plain, agreed = Household("A", "miskin", "anggota"), Household(
        "B", "miskin", "anggota", nik=NIK, consented=True)
    phone = Household("C", "miskin", "anggota", phone="+6281234567890")
    assert unconsented([plain, agreed, phone]) == [phone]


def test_a_household_from_its_line_is_consented_when_all_its_numbers_were_agreed():
    nik = "3202114507800001"  # a NIK as parsing reads it (a real date of birth inside)
    line = parse_member_line(f"Siti Aminah; miskin; ketua; {nik}; 0812-9876-5432", line_no=1)
    assert line.ok and line.nik == nik and line.phone
    household = Household.from_line(line, agreed=[nik, line.phone])
    assert (household.name, household.welfare_category, household.role, household.nik) == (
        "Siti Aminah", "miskin", "ketua", nik)
    assert household.consented
    assert not Household.from_line(line, agreed=[nik]).consented
    plain = parse_member_line("Budi Santoso; fakir miskin; sekretaris", line_no=2)
    assert not Household.from_line(plain, agreed=[]).personal


# --- the save -----------------------------------------------------------------------------------

@pytest.fixture
async def answers(session):
    mentor = await make_mentor(session, telegram_id=USER)
    await store_draft(session, user_id=USER, flow="group")
    await received(session, 5151)
    return NewGroup(actor=mentor, name="KUBE Melati", village_code=VILLAGE_IN_CIBADAK,
                    business_type="ternak", binding_ties=("kedekatan", "usaha"),
                    formed_on=date(2025, 3, 1), stage="tumbuh", households=households(),
                    update_id=5151)


async def test_a_group_is_saved_with_households_consent_reminders_audit_and_draft_end(
        session, answers):
    mentor_id = answers.actor.id
    first = replace(answers.households[0], nik=NIK, phone="+6281234567890", consented=True)
    answers = replace(answers, households=(first, *answers.households[1:]))
    end_draft = ender(session, user_id=USER, flow="group")
    saved = await save_group(session=session, group=answers, end_draft=end_draft, **LIMITS)
    assert isinstance(saved, Saved) and saved.created and end_draft.calls == 1
    assert saved.record is saved.group and saved.group.name == "KUBE Melati"

    [group] = await rows(session, Group)
    group_id = group.id
    assert (group.mentor_id, group.village_code, group.binding_ties, group.formed_on) == (
        mentor_id, VILLAGE_IN_CIBADAK, ["kedekatan", "usaha"], date(2025, 3, 1))
    assert (group.visit_interval_days, group.next_visit_due, group.source_update_id) == (
        30, TODAY + timedelta(days=30), 5151)
    members = await rows(session, Member)
    assert [m.name for m in members] == [f"Warga {no}" for no in range(1, 8)]
    # The households that formed the group joined when it was formed.
    assert {m.joined_on for m in members} == {date(2025, 3, 1)}
    assert {m.group_id for m in members} == {group_id}
    assert (members[0].nik, members[0].consent_by) == (NIK, mentor_id)
    assert members[0].consent_at is not None
    assert all(m.consent_at is None and m.nik is None for m in members[1:])
    audit = [(row.action, row.entity) for row in await rows(session, AuditLog)]
    assert audit.count(("create", "group")) == 1 and audit.count(("create", "member")) == 7
    pending = [r for r in await rows(session, Reminder) if r.status == ReminderStatus.PENDING]
    assert pending and {r.subject_id for r in pending} == {group_id}
    assert await handled_update_ids(session) == [5151]  # the update, marked in the same commit
    assert not await draft_left(session, user_id=USER, flow="group")


async def test_the_same_update_saves_one_group(session, answers):
    first = await save_group(session=session, group=answers, **LIMITS)
    again = await save_group(session=session, group=answers, **LIMITS)
    assert isinstance(again, Saved) and not again.created
    assert again.record.id == first.record.id and len(await rows(session, Group)) == 1


async def test_an_admin_without_an_area_registers_anywhere(session):
    admin = await make_mentor(session, role=Role.ADMIN, area_code=None)
    saved = await save_group(session=session, group=NewGroup(
        actor=admin, name="KUBE Jauh", village_code="73.71.01.1001", business_type="ternak",
        binding_ties=("kedekatan",), formed_on=date(2025, 3, 1), stage="tumbuh",
        households=households(5)), **LIMITS)
    assert isinstance(saved, Saved) and saved.group.village_code == "73.71.01.1001"


async def _refused(session, answers, reason, **limits):
    refusal = await expect_refusal(
        session, lambda end_draft: save_group(session=session, group=answers,
                                              end_draft=end_draft, **(LIMITS | limits)),
        actor=answers.actor, reason=reason, user_id=USER, flow="group")
    assert isinstance(refusal, GroupRefusal)
    return refusal


@pytest.mark.parametrize(("members", "limits", "problems"), [
    (households(4), {}, ("too_few",)),
    (households(7), {"max_size": 6}, ("too_many",)),
    (households(7)[1:] + (Household("Warga 8", "miskin", "sekretaris"),), {},
     ("missing_ketua", "duplicate_sekretaris")),
    (households(7) + (Household("warga 1", "miskin", "anggota"),), {}, ("duplicate_name",)),
    (tuple(replace(h, nik=NIK, consented=True) if h.role == "anggota" else h
           for h in households(7)), {}, ("duplicate_nik",)),
])
async def test_refused_for_the_membership(session, answers, members, limits, problems):
    refusal = await _refused(session, replace(answers, households=members),
                             GroupReason.MEMBERSHIP, **limits)
    assert refusal.problems == problems
    assert (refusal.min_size, refusal.max_size) == (5, limits.get("max_size", 10))


async def test_refused_for_a_nik_or_phone_without_consent(session, answers):
    members = list(answers.households)
    members[3] = replace(members[3], nik=NIK)
    members[4] = replace(members[4], phone="+6281234567890")
    members[5] = replace(members[5], phone="+6281234567891", consented=True)
    refusal = await _refused(session, replace(answers, households=tuple(members)),
                             GroupReason.NO_CONSENT)
    assert refusal.unconsented == 2


@pytest.mark.parametrize("village", [
    "73.71.01.1001",  # a village of Makassar, outside the mentor's district
    "32.02.11",  # the district itself, not a village
    "32.02.11.9999",  # no such village
])
async def test_refused_for_a_village_outside_the_mentors_area(session, answers, village):
    await _refused(session, replace(answers, village_code=village),
                   GroupReason.VILLAGE_OUTSIDE_AREA)


@pytest.mark.parametrize(("formed", "reason"), [
    (date(1969, 12, 31), GroupReason.FORMED_TOO_EARLY),
    (TODAY + timedelta(days=1), GroupReason.FORMED_IN_FUTURE),
])
async def test_refused_for_the_date_formed(session, answers, formed, reason):
    refusal = await _refused(session, replace(answers, formed_on=formed), reason)
    assert (refusal.today, refusal.earliest_year) == (TODAY, EARLIEST_FORMED_YEAR)


async def test_refused_without_a_binding_tie(session, answers):
    await _refused(session, replace(answers, binding_ties=()), GroupReason.NO_TIE)
