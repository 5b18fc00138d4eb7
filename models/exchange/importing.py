"""Importing the rows of a filled template: every row checked against the programme's rules
and the actor's area, then what passed written in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reminder_rules import Rules
from models.exchange.apply import apply_plans
from models.exchange.grants import plan_grants
from models.exchange.groups import check_group_row, plan_groups
from models.exchange.lookup import (
    allowed_mentors,
    existing_grants,
    existing_groups,
    existing_members,
)
from models.exchange.members import attach_groups, check_memberships, plan_members
from models.exchange.plans import ImportRun
from models.exchange.reading import RawFile
from models.exchange.report import ImportReport
from models.exchange.workbook import GRANT_SHEET, MEMBER_SHEET
from models.reports import area_for, local_dates
from models.tables import Mentor

if TYPE_CHECKING:
    from bot.core.places import PlaceIndex


async def import_rows(*, session: AsyncSession, actor: Mentor, raw: RawFile,
                      places: PlaceIndex, now: datetime, min_size: int, max_size: int,
                      default_interval: int, rules: Rules | None = None,
                      lpj_months: int = 3) -> ImportReport:
    """Checks every row and saves the rows that pass, in one transaction, with audit rows.

    A group is identified by (village code, name case-insensitive) and a household by (group,
    name case-insensitive), so importing the same file again updates instead of duplicating.
    Blank cells of an existing group or household change nothing. A group whose resulting
    membership breaks the rules (size, exactly one ketua / sekretaris / bendahara, names or
    NIKs twice) is refused with all its rows. A grant (Bantuan sheet) is added to its group
    unless the group has it already (same day received, kind, amount: then only a missing
    LPJ date is added). The actor must be a coordinator (villages inside their area, mentors
    of their area) or an admin.
    """
    area = area_for(actor)
    run = ImportRun(
        session=session, actor=actor, area=area, places=places, now=now,
        dates=local_dates(now),
        mentors=await allowed_mentors(session=session, area_code=area),
        min_size=min_size, max_size=max_size, default_interval=default_interval, rules=rules,
        lpj_months=lpj_months)
    # 1. Kelompok rows, each on its own.
    group_rows = [check_group_row(run, row) for row in raw.groups]
    # 2. The groups already registered in the villages of the file.
    villages = {group.village for group in group_rows if group.village}
    member_villages = {row.number: run.village_of(row, MEMBER_SHEET) for row in raw.members}
    villages |= {village for village in member_villages.values() if village}
    grant_villages = {row.number: run.village_of(row, GRANT_SHEET) for row in raw.grants}
    villages |= {village for village in grant_villages.values() if village}
    existing = await existing_groups(session=session, villages=villages)
    plans = plan_groups(run, group_rows, existing)
    # 3. Anggota rows, each on its own, attached to their group.
    member_groups = attach_groups(run, raw.members, member_villages, plans, existing)
    group_ids = [plan.existing.id for plan in member_groups.values()
                 if plan.existing is not None]
    members_of = await existing_members(session=session, group_ids=group_ids)
    plan_members(run, raw.members, member_villages, member_groups, members_of)
    # 4. Each group as a whole: its membership after the import must follow the rules.
    check_memberships(run, member_groups, members_of)
    # 5. Bantuan rows, each on its own, then against the group's grants.
    run.report.has_grants = raw.has_grant_sheet
    grant_groups = attach_groups(run, raw.grants, grant_villages, member_groups, existing,
                                 sheet=GRANT_SHEET)
    member_groups.update(grant_groups)
    grants_of = await existing_grants(session=session, group_ids=[
        plan.existing.id for plan in member_groups.values() if plan.existing is not None])
    grants = plan_grants(run, [row for row in raw.grants
                               if not run.report.is_refused(GRANT_SHEET, row.number)],
                         grant_villages, member_groups, grants_of)
    # 6. Write what passed.
    await apply_plans(run, member_groups, grants)
    return run.report
