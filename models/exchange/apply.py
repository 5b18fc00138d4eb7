"""Writing what passed the checks: new and changed groups and households, each with its
audit row, reminders rescheduled where a group's visits move, and the import's own audit
row. The caller's one transaction is committed at the end."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.core.enums import AuditAction, ChangeKind
from models import audit, changes, reminders
from models.exchange.grants import GrantPlan
from models.exchange.plans import GroupPlan, ImportRun, MemberPlan
from models.exchange.workbook import GRANT_SHEET, GROUP_SHEET, MEMBER_SHEET
from models.tables import Grant, Group, Member, Visit

# The group's fields whose changes its history keeps (models.changes), and the reason code
# of a change made by an import.
_HISTORY = {"stage": ChangeKind.STAGE, "name": ChangeKind.PROFILE,
            "business_type": ChangeKind.PROFILE, "binding_ties": ChangeKind.PROFILE}
IMPORT_REASON = "impor"


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    return ",".join(value) if isinstance(value, list) else str(value)


async def _last_visits(run: ImportRun, plans: list[GroupPlan]) -> dict[int, date]:
    """The last visit of each registered group whose visit interval changes: its next visit
    is due that many days after it."""
    changed = [plan.existing.id for plan in plans
               if plan.existing is not None and not plan.refused
               and "visit_interval_days" in plan.fields
               and plan.fields["visit_interval_days"] != plan.existing.visit_interval_days]
    if not changed:
        return {}
    rows = await run.session.execute(
        select(Visit.group_id, func.max(Visit.visited_on))
        .where(Visit.group_id.in_(changed)).group_by(Visit.group_id))
    return {gid: last for gid, last in rows}


async def _create(run: ImportRun, record: Group | Member | Grant, entity: str) -> None:
    run.session.add(record)
    await run.session.flush()
    audit.record(session=run.session, actor_telegram_id=run.actor.telegram_id,
                 action=AuditAction.CREATE, entity=entity, entity_id=record.id,
                 new=audit.snapshot(record))


def _update(run: ImportRun, record: Group | Member | Grant, entity: str,
            updates: dict[str, Any]) -> bool:
    """The values that differ set on the record, with an audit row; False when none did."""
    changes = {k: v for k, v in updates.items() if getattr(record, k) != v}
    if not changes:
        return False
    old = audit.snapshot(record, set(changes))
    for attribute, value in changes.items():
        setattr(record, attribute, value)
    run.session.add(record)
    audit.record(session=run.session, actor_telegram_id=run.actor.telegram_id,
                 action=AuditAction.UPDATE, entity=entity, entity_id=record.id, old=old,
                 new=audit.snapshot(record, set(changes)))
    return True


async def _new_group(run: ImportRun, plan: GroupPlan, today: date) -> Group:
    interval = plan.fields.get("visit_interval_days", run.default_interval)
    group = Group(name=plan.name, village_code=plan.village_code,
                  business_type=plan.fields["business_type"],
                  binding_ties=plan.fields.get("binding_ties", []),
                  formed_on=plan.fields["formed_on"], stage=plan.fields["stage"],
                  visit_interval_days=interval, mentor_id=plan.mentor.id,
                  next_visit_due=today + timedelta(days=interval))
    await _create(run, group, "group")
    changes.record_start(session=run.session, group=group, by=run.actor)
    await reminders.reschedule_group(session=run.session, group=group, today=today,
                                     rules=run.rules)
    run.report.groups["created"] += 1
    return group


async def _change_group(run: ImportRun, plan: GroupPlan, group: Group, today: date,
                        last_visits: dict[int, date]) -> None:
    updates = dict(plan.fields)
    if plan.mentor is not None:
        updates["mentor_id"] = plan.mentor.id
    interval_changed = updates.get("visit_interval_days", group.visit_interval_days) \
        != group.visit_interval_days
    if interval_changed:
        base = last_visits.get(group.id) or today
        updates["next_visit_due"] = base + timedelta(days=updates["visit_interval_days"])
    before = {field: getattr(group, field) for field in _HISTORY}
    if not _update(run, group, "group", updates):
        run.report.groups["unchanged"] += 1
        return
    for field, kind in _HISTORY.items():
        old, new = before[field], getattr(group, field)
        if old != new:
            changes.record(session=run.session, group_id=group.id, kind=kind, field=field,
                           old=_plain(old), new=_plain(new), by=run.actor, on=today,
                           reason=IMPORT_REASON)
    if interval_changed:
        await reminders.reschedule_group(session=run.session, group=group, today=today,
                                         rules=run.rules)
    run.report.groups["updated"] += 1


async def _save_member(run: ImportRun, plan: MemberPlan, group: Group, today: date,
                       joined: date) -> None:
    """A household new or changed; a new one without a joining date joined on ``joined``."""
    if plan.consent:
        plan.fields.update(consent_at=run.now, consent_by=run.actor.id)
    if plan.existing is None:
        data = dict(plan.fields)
        data.setdefault("joined_on", joined)
        await _create(run, Member(group_id=group.id, **data), "member")
        run.report.members["created"] += 1
    elif _update(run, plan.existing, "member", plan.fields):
        run.report.members["updated"] += 1
        category = plan.fields.get("welfare_category")
        if category is not None and plan.category_before not in (None, category):
            changes.record(session=run.session, group_id=group.id, kind=ChangeKind.WELFARE,
                           field="welfare_category", old=plan.category_before, new=category,
                           by=run.actor, on=today, member_id=plan.existing.id,
                           reason=IMPORT_REASON)
    else:
        run.report.members["unchanged"] += 1
    run.report.taken[MEMBER_SHEET].append(plan.row.number)


async def _save_grant(run: ImportRun, plan: GrantPlan, group: Group) -> None:
    """A new grant with its audit row and its roll-over and LPJ reminders; a grant recorded
    already gets only its LPJ date, when the row adds one."""
    today = run.today_at(group.village_code)
    grant = plan.existing
    if grant is None:
        grant = Grant(group_id=group.id, recorded_by=group.mentor_id, **plan.fields)
        await _create(run, grant, "grant")
        run.report.grants["created"] += 1
    else:
        submitted = plan.fields["lpj_submitted_on"]
        if submitted is None or grant.lpj_submitted_on is not None \
                or not _update(run, grant, "grant", {"lpj_submitted_on": submitted}):
            run.report.grants["unchanged"] += 1
            run.report.taken[GRANT_SHEET].append(plan.row.number)
            return
        run.report.grants["updated"] += 1
    await reminders.reschedule_grant(session=run.session, grant=grant, group=group,
                                     today=today, done=False, rules=run.rules)
    await reminders.reschedule_lpj(session=run.session, grant=grant, group=group,
                                   today=today, rules=run.rules)
    run.report.taken[GRANT_SHEET].append(plan.row.number)


async def apply_plans(run: ImportRun, member_groups: dict[tuple[str, str], GroupPlan],
                      grants: list[GrantPlan] = ()) -> None:
    """Writes every group and household not refused, then the grants, then the import's
    audit row, and commits."""
    plans = list(member_groups.values())
    last_visits = await _last_visits(run, plans)
    written: dict[tuple[str, str], Group] = {}
    for plan in plans:
        if plan.refused:
            continue
        today = run.today_at(plan.village_code)
        group = plan.existing
        # The households that form a new group joined it when it was formed; those added to
        # a group already recorded join today.
        joined = today
        if plan.row is not None:
            if group is None:
                group = await _new_group(run, plan, today)
                joined = group.formed_on
            else:
                await _change_group(run, plan, group, today, last_visits)
            run.report.taken[GROUP_SHEET].append(plan.row.number)
        for member_plan in plan.members:
            await _save_member(run, member_plan, group, today, joined)
        if group is not None:
            written[plan.key] = group
    for grant_plan in grants:
        group = written.get(grant_plan.key) or member_groups[grant_plan.key].existing
        if group is not None:
            await _save_grant(run, grant_plan, group)
    report = run.report
    for rows in report.taken.values():
        rows.sort()
    audit.record(session=run.session, actor_telegram_id=run.actor.telegram_id,
                 action=AuditAction.CREATE, entity="import", entity_id=None,
                 # Not the file's name: free text, it may name someone (models.audit).
                 new={"groups": dict(report.groups),
                      "members": dict(report.members), "grants": dict(report.grants),
                      "taken": {sheet: len(rows) for sheet, rows in report.taken.items()},
                      "refused": len(report.refused)})
    await run.session.commit()
