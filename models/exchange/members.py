"""The Anggota sheet: each row attached to its group (of the Kelompok sheet, or registered),
checked on its own (:func:`plan_member`), then each group's membership as a whole
(:func:`check_memberships`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core.parsing import group_problems, parse_member_fields, parse_phone, validate_nik
from models.changes import is_read_only
from models.exchange.plans import GroupPlan, ImportRun, MemberPlan
from models.exchange.reading import RawRow
from models.exchange.report import RefusalCode
from models.exchange.values import (
    blank,
    consent,
    decile,
    group_key,
    head_sex,
    norm,
    register_status,
    text,
)
from models.exchange.workbook import GROUP_SHEET, MEMBER_SHEET
from models.tables import Group, Member


def attach_groups(run: ImportRun, rows: list[RawRow], villages: dict[int, str | None],
                  plans: dict[tuple[str, str], GroupPlan],
                  existing: dict[tuple[str, str], list[Group]], *, sheet: str = MEMBER_SHEET
                  ) -> dict[tuple[str, str], GroupPlan]:
    """The plans of the Kelompok sheet and of the registered groups only the Anggota (or
    Bantuan) sheet names; a row naming no group, or an ambiguous one, is refused."""
    member_groups = dict(plans)
    for row in rows:
        village = villages.get(row.number)
        group_name = text(row.values.get("group"))
        if not village:
            continue
        key = group_key(village, group_name)
        if key in member_groups:
            continue
        found = existing.get(key, [])
        if len(found) == 1 and is_read_only(found[0]):
            run.refuse(sheet, row, RefusalCode.GROUP_DISSOLVED, name=found[0].name)
        elif len(found) == 1:
            member_groups[key] = GroupPlan(None, key, village, found[0].name, {}, None,
                                           found[0])
        elif len(found) > 1:
            run.refuse(sheet, row, RefusalCode.GROUP_AMBIGUOUS, count=len(found))
        else:
            run.refuse(sheet, row, RefusalCode.GROUP_UNKNOWN, name=group_name, code=village)
    return member_groups


def _registered(current: list[Member], name: str, leaving: bool) -> Member | None:
    """The household of the group this row names: an active one, or (when the row says it
    left) the last one that left."""
    match_key = norm(name)
    active = [m for m in current if m.left_on is None and norm(m.name) == match_key]
    former = [m for m in current if m.left_on is not None and norm(m.name) == match_key]
    return active[0] if active else (former[-1] if former and leaving else None)


def _kept_or_given(values: dict[str, Any], key: str, stored: str) -> str:
    # Blank category / role of a known household: keep what is stored.
    return text(values.get(key)) if not blank(values.get(key)) else stored


# The personal data of a row: column key, its reader, and why a value it cannot read
# refuses the row.
_PERSONAL = (("nik", validate_nik, RefusalCode.NIK), ("phone", parse_phone, RefusalCode.PHONE))


def _personal(run: ImportRun, row: RawRow, fields: dict[str, Any]) -> bool:
    """The row's NIK and phone into ``fields``; False when one is refused. A masked value
    (an export imported back) keeps the stored one."""
    for key, parse, code in _PERSONAL:
        cell = row.values.get(key)
        # text() writes a whole number cell without ".0": a NIK typed as a number reads.
        if blank(cell) or "*" in text(cell):
            continue
        found = parse(text(cell))
        if found is None:
            run.refuse(MEMBER_SHEET, row, code)
            return False
        fields[key] = found
    return True


# The household's programme fields: column key, reader, and why a value it cannot read refuses
# the row (columns an older template does not have are simply blank).
_PROGRAMME = (("head_sex", head_sex, RefusalCode.SEX),
              ("register_status", register_status, RefusalCode.REGISTER),
              ("register_decile", decile, RefusalCode.DECILE))


def _programme(run: ImportRun, row: RawRow, fields: dict[str, Any]) -> bool:
    """The head's sex, DTKS/DTSEN and decile into ``fields``; False when one is refused."""
    for key, read, code in _PROGRAMME:
        cell = row.values.get(key)
        found = None if cell is None else read(cell)  # before blank(): "tidak" is a value
        if found is None and blank(cell):
            continue
        if found is None:
            run.refuse(MEMBER_SHEET, row, code, value=text(cell))
            return False
        fields[key] = found
    return True


def _consented(run: ImportRun, row: RawRow, fields: dict[str, Any],
               member: Member | None) -> bool:
    """New personal data is kept only with the household's consent (the consent column); a
    value already stored (an export imported back) needs none. True when the row's new data
    comes with consent."""
    new_personal = [key for key in ("nik", "phone") if key in fields
                    and (member is None or getattr(member, key) != fields[key])]
    if not new_personal:
        return False
    if consent(row.values.get("consent")):
        return True
    for key in new_personal:
        del fields[key]
    run.report.without_consent.append(row.number)
    return False


def _dates(run: ImportRun, row: RawRow, fields: dict[str, Any], village: str,
           member: Member | None, leaving_on: date | None, name: str) -> bool:
    """Joining and leaving dates into ``fields``; False when the row is refused."""
    if not blank(row.values.get("joined_on")):
        joined = run.read_date(MEMBER_SHEET, row, "joined_on", "Tanggal bergabung", village)
        if joined is None:
            return False
        fields["joined_on"] = joined
    if leaving_on is not None:
        if member is None:
            run.refuse(MEMBER_SHEET, row, RefusalCode.LEFT_UNKNOWN, name=name)
            return False
        fields["left_on"] = leaving_on
    return True


def plan_member(run: ImportRun, row: RawRow, village: str, plan: GroupPlan,
                current: list[Member]) -> MemberPlan | None:
    """The row's household, as a plan to add to its group, or None when it is refused."""
    values = row.values
    name_text = text(values.get("name"))
    leaving_on = None
    if not blank(values.get("left_on")):
        leaving_on = run.read_date(MEMBER_SHEET, row, "left_on", "Tanggal keluar", village,
                                   past=False)
        if leaving_on is None:
            return None
    member = _registered(current, name_text, leaving_on is not None)
    category = _kept_or_given(values, "category", member.welfare_category if member else "")
    role = _kept_or_given(values, "role", member.role if member else "")
    # A registered household is found by its name, which is then not checked again (it
    # may come from before the rules, or from a test factory).
    line = parse_member_fields(name_text if member is None else "Nama", category, role)
    if not line.ok:
        run.refuse(MEMBER_SHEET, row, RefusalCode(f"member_{line.error}"))
        return None
    if member is not None:
        line.name = member.name
    fields = {"name": line.name, "welfare_category": line.welfare_category, "role": line.role}
    if not _personal(run, row, fields) or not _programme(run, row, fields):
        return None
    agreed = _consented(run, row, fields, member)
    if not _dates(run, row, fields, village, member, leaving_on, line.name):
        return None
    earlier = next((m for m in plan.members if norm(m.name) == norm(line.name)), None)
    if earlier is not None:
        run.refuse(MEMBER_SHEET, row, RefusalCode.DUPLICATE_MEMBER, row=earlier.row.number)
        return None
    return MemberPlan(row, plan.key, line.name, fields, member,
                      leaving=leaving_on is not None, consent=agreed,
                      category_before=member.welfare_category if member else None)


def plan_members(run: ImportRun, rows: list[RawRow], villages: dict[int, str | None],
                 member_groups: dict[tuple[str, str], GroupPlan],
                 members_of: dict[int, list[Member]]) -> None:
    """Every Anggota row not refused yet, planned into its group."""
    for row in rows:
        village = villages.get(row.number)
        if not village or run.report.is_refused(MEMBER_SHEET, row.number):
            continue
        plan = member_groups[group_key(village, text(row.values.get("group")))]
        current = members_of.get(plan.existing.id, []) if plan.existing else []
        planned = plan_member(run, row, village, plan, current)
        if planned is not None:
            plan.members.append(planned)


def _membership_problems(run: ImportRun, plan: GroupPlan, member_rows: list[int],
                         members_of: dict[int, list[Member]]) -> None:
    """The group's active households after the import must follow the rules (size, one
    ketua / sekretaris / bendahara, names and NIKs once): if not, all its rows are
    refused."""
    listed = {m.existing.id for m in plan.members if m.existing is not None}
    staying = [m for m in members_of.get(plan.existing.id, [])
               if m.left_on is None and m.id not in listed] if plan.existing else []
    after = [*staying, *(m for m in plan.members if not m.leaving)]
    problems = group_problems(after, minimum=run.min_size, maximum=run.max_size)
    if not problems:
        return
    values = {"group": plan.name, "count": len(after), "min": run.min_size,
              "max": run.max_size}
    for problem in problems:
        code = RefusalCode(f"problem_{problem}")
        if plan.row is not None:
            run.report.refuse(GROUP_SHEET, plan.row.number, code, **values)
        for number in member_rows:
            run.report.refuse(MEMBER_SHEET, number, code, **values)
    plan.refused = True


def check_memberships(run: ImportRun, member_groups: dict[tuple[str, str], GroupPlan],
                      members_of: dict[int, list[Member]]) -> None:
    """Each group as a whole: a refused group refuses its households, a new group needs
    some, and the membership after the import must follow the rules."""
    for plan in member_groups.values():
        member_rows = [m.row.number for m in plan.members]
        if plan.refused:
            for number in member_rows:
                run.report.refuse(MEMBER_SHEET, number, RefusalCode.GROUP_REFUSED,
                                  row=plan.row.number)
            continue
        if plan.existing is not None and not plan.members:
            continue  # only the group's own fields change
        if plan.existing is None and not plan.members:
            run.refuse(GROUP_SHEET, plan.row, RefusalCode.NO_MEMBERS, min=run.min_size)
            plan.refused = True
            continue
        _membership_problems(run, plan, member_rows, members_of)
