"""The Kelompok sheet: each row checked on its own (:func:`check_group_row`), then against
the groups already registered and the other rows (:func:`plan_groups`)."""

from __future__ import annotations

import re
from typing import Any

from bot.core.parsing import parse_count, parse_group_name
from models.changes import is_read_only
from models.exchange.plans import GroupPlan, GroupRow, ImportRun
from models.exchange.reading import RawRow
from models.exchange.report import RefusalCode
from models.exchange.values import (
    BUSINESS,
    STAGES,
    TIES,
    blank,
    group_key,
    text,
    whole_number,
    word,
)
from models.exchange.workbook import GROUP_SHEET
from models.tables import Group, Mentor

# The columns a new group cannot do without: (column key, header).
_REQUIRED_FOR_NEW = (("business_type", "Jenis usaha"), ("stage", "Tahap"),
                     ("formed_on", "Tanggal terbentuk"))


def _choice(run: ImportRun, row: RawRow, fields: dict[str, Any], key: str, vocabulary: str,
            values: tuple[str, ...], code: RefusalCode) -> None:
    cell = row.values.get(key)
    if blank(cell):
        return
    fields[key] = word(cell, vocabulary, values)
    if fields[key] is None:
        run.refuse(GROUP_SHEET, row, code, value=text(cell))


def _ties(run: ImportRun, row: RawRow, fields: dict[str, Any]) -> None:
    cell = row.values.get("binding_ties")
    if blank(cell):
        return
    ties: list[str] = []
    for part in re.split(r"[,;\n]+", text(cell)):
        if not part.strip():
            continue
        tie = word(part, "tie", TIES)
        if tie is None:
            run.refuse(GROUP_SHEET, row, RefusalCode.TIE, value=part.strip())
        elif tie not in ties:
            ties.append(tie)
    fields["binding_ties"] = ties


def _interval(run: ImportRun, row: RawRow, fields: dict[str, Any]) -> None:
    cell = row.values.get("interval")
    if blank(cell):
        return
    days = whole_number(cell)
    if days is None:
        days = parse_count(text(cell), minimum=1, maximum=365)
    if days is None or not 1 <= days <= 365:
        run.refuse(GROUP_SHEET, row, RefusalCode.INTERVAL, value=text(cell))
    else:
        fields["visit_interval_days"] = days


def _mentor(run: ImportRun, row: RawRow) -> Mentor | None:
    """The mentor named by Telegram id, else by name; a name not found refuses the row."""
    cell = row.values.get("mentor_telegram_id")
    if blank(cell):
        cell = row.values.get("mentor")
    if blank(cell):
        return None
    mentor, problem = run.mentors.find(cell)
    if problem:
        run.refuse(GROUP_SHEET, row, problem, value=text(cell))
    return mentor


def check_group_row(run: ImportRun, row: RawRow) -> GroupRow:
    """The row's own values: village, name, vocabularies, dates, interval, mentor."""
    village = run.village_of(row, GROUP_SHEET)
    name = text(row.values.get("name"))
    if not 3 <= len(name) <= 100 or not any(ch.isalpha() for ch in name):
        run.refuse(GROUP_SHEET, row, RefusalCode.GROUP_NAME)
    fields: dict[str, Any] = {}
    _choice(run, row, fields, "business_type", "business", BUSINESS, RefusalCode.BUSINESS)
    _choice(run, row, fields, "stage", "stage", STAGES, RefusalCode.STAGE)
    _ties(run, row, fields)
    if not blank(row.values.get("formed_on")):
        formed = run.read_date(GROUP_SHEET, row, "formed_on", "Tanggal terbentuk", village)
        if formed is not None:
            fields["formed_on"] = formed
    _interval(run, row, fields)
    mentor = _mentor(run, row)
    return GroupRow(row, village or "", name, fields, mentor)


def _check_new_group(run: ImportRun, group: GroupRow) -> None:
    """A new group's name follows the bot's rule (no emoji; a registered one is kept), and
    it has every required value."""
    row = group.row
    if parse_group_name(group.name) is None:
        run.refuse(GROUP_SHEET, row, RefusalCode.GROUP_NAME)
    for needed, column in _REQUIRED_FOR_NEW:
        if needed not in group.fields and not row.values.get(needed):
            run.refuse(GROUP_SHEET, row, RefusalCode.REQUIRED, column=column)
    if group.mentor is None and blank(row.values.get("mentor")) and blank(
            row.values.get("mentor_telegram_id")):
        run.refuse(GROUP_SHEET, row, RefusalCode.REQUIRED, column="Pendamping")


def plan_groups(run: ImportRun, rows: list[GroupRow],
                existing: dict[tuple[str, str], list[Group]]
                ) -> dict[tuple[str, str], GroupPlan]:
    """A plan per group of the sheet, matched to the registered group of its village and
    name; a group named twice, or registered twice, is refused."""
    plans: dict[tuple[str, str], GroupPlan] = {}
    for group in rows:
        row = group.row
        if not group.village or not group.name:
            continue
        key = group_key(group.village, group.name)
        if key in plans:
            run.refuse(GROUP_SHEET, row, RefusalCode.DUPLICATE_GROUP, row=plans[key].row.number)
            continue
        found = existing.get(key, [])
        if len(found) > 1:
            run.refuse(GROUP_SHEET, row, RefusalCode.GROUP_AMBIGUOUS, count=len(found))
        registered = found[0] if len(found) == 1 else None
        if registered is None:
            _check_new_group(run, group)
        elif is_read_only(registered):
            run.refuse(GROUP_SHEET, row, RefusalCode.GROUP_DISSOLVED, name=registered.name)
        plan = GroupPlan(row, key, group.village, group.name, group.fields, group.mentor,
                         registered)
        plan.refused = run.report.is_refused(GROUP_SHEET, row.number)
        plans[key] = plan
    return plans
