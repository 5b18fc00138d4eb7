"""The national-scale data bench/sweep.py measures on: groups over every province's real districts,
households, visits, grants and roll-overs, mentors and coordinators, pending reminders and
a history of sent ones, bulk-inserted (COPY on PostgreSQL). See bench/sweep.py."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

# 07:30 WIB, 08:30 WITA, 09:30 WIT: past every zone's 07:00 digest, inside daytime.
NOW = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
TODAY = date(2026, 11, 25)


async def _bulk(connection, table, rows: list[dict], postgresql: bool) -> None:
    """Inserts many rows: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if not postgresql:
        from sqlalchemy import insert

        await connection.execute(insert(table), rows)
        return
    from sqlalchemy import JSON

    columns = list(rows[0])
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    records = [tuple(json.dumps(row[c]) if c in json_columns else row[c] for c in columns)
               for row in rows]
    raw = (await connection.get_raw_connection()).driver_connection
    schema = (await connection.exec_driver_sql("SELECT current_schema()")).scalar_one()
    await raw.copy_records_to_table(table.name, records=records, columns=columns,
                                    schema_name=schema)


async def build(url: str, groups: int, seed: int = 7) -> dict:
    from sqlalchemy import select, text

    from bot.core.enums import ReminderRule
    from bot.core.reminder_rules import Rules
    from models.areas import load_areas
    from models.db import create_engine, create_sessionmaker
    from models.reminders import GRANT_RULES, LPJ_RULES, VISIT_RULES, local_morning
    from models.tables import (
        Area,
        ConversationState,
        Grant,
        Group,
        GroupChange,
        Member,
        Mentor,
        Reminder,
        ReminderDelivery,
        Rollover,
        Visit,
    )

    postgresql = url.startswith("postgresql")
    rng = random.Random(seed)
    rules = Rules()
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        await load_areas(session=session)
        rows = (await session.execute(select(Area.code, Area.level).where(Area.level >= 2))
                ).all()
    villages_of: dict[str, list[str]] = {}
    regencies, provinces = [], sorted({code[:2] for code, _ in rows})
    for code, level in rows:
        if level == 4:
            villages_of.setdefault(code[:8], []).append(code)
        elif level == 2:
            regencies.append(code)
    districts = sorted(villages_of)
    at = NOW - timedelta(days=400)
    counts = dict.fromkeys(("mentor", "kube_group", "member", "visit", "group_change",
                            "group_grant",
                            "rollover", "reminder", "reminder_delivery"), 0)

    def bump(name: str, rows: list) -> list:
        counts[name] += len(rows)
        return rows

    async with engine.begin() as connection:
        n_mentors = max(1, groups // 10)
        mentor_district = [rng.choice(districts) for _ in range(n_mentors)]
        people = [{"id": i + 1, "telegram_id": 10_000_000 + i, "name": f"Pendamping {i}",
                   "role": "mentor", "status": "active", "area_code": mentor_district[i],
                   "language": "id", "created_at": at} for i in range(n_mentors)]
        staff = [(code, "coordinator") for code in regencies + provinces] + [(None, "admin")] * 2
        people += [{"id": n_mentors + k + 1, "telegram_id": 5_000_000 + k,
                    "name": f"Staf {k}", "role": role, "status": "active", "area_code": code,
                    "language": "id", "created_at": at} for k, (code, role) in enumerate(staff)]
        await _bulk(connection, Mentor.__table__, bump("mentor", people), postgresql)
        await _bulk(connection, ConversationState.__table__, [
            {"id": i + 1, "name": "kunjungan", "key": f"[{10_000_000 + i}, {10_000_000 + i}]",
             "state": 3 if i % 50 == 0 else None,
             "updated_at": NOW - timedelta(minutes=rng.choice([5, 600]))}
            for i in range(n_mentors)], postgresql)
        roles = ["ketua", "sekretaris", "bendahara"] + ["anggota"] * 4
        reminder_id = delivery_id = grant_id = 0
        reminder_rows: list[dict] = []  # of the chunk being built
        chunk = 5_000
        for start in range(0, groups, chunk):
            batch = range(start, min(groups, start + chunk))
            group_rows, member_rows, visit_rows, grant_rows, rollover_rows = [], [], [], [], []
            change_rows: list[dict] = []
            delivery_rows: list[dict] = []
            reminder_rows.clear()

            def remind(rule: str, subject: int, cycle: date, village: str, status: str,
                       not_before: date) -> tuple[int, date] | None:
                nonlocal reminder_id
                found = rules.next_step(rule, cycle, not_before)
                if found is None:
                    return None
                step, fire_on = found
                reminder_id += 1
                reminder_rows.append({
                    "id": reminder_id, "rule": rule, "subject_id": subject, "cycle": cycle,
                    "step": step, "fire_on": fire_on, "status": status, "created_at": at,
                    "due_at": local_morning(fire_on, village, rules.hour),
                    "sent_at": local_morning(fire_on, village, rules.hour)
                    if status == "sent" else None})
                return reminder_id, fire_on

            for n in batch:
                group_id, mentor = n + 1, n // 10
                village = rng.choice(villages_of[mentor_district[mentor]])
                last = TODAY - timedelta(days=rng.randint(0, 70))
                due = last + timedelta(days=30)
                group_rows.append({
                    "id": group_id, "name": f"KUBE {n}", "village_code": village,
                    "business_type": "ternak", "binding_ties": ["kedekatan"],
                    "formed_on": date(2025, 1, 1), "stage": rng.choice(
                        ["tumbuh", "berkembang", "mandiri"]), "visit_interval_days": 30,
                    "mentor_id": mentor + 1, "next_visit_due": due, "created_at": at})
                # The history migration 0007 starts (status aktif, the stage), and for one
                # group in five a stage change in the last year: what /rekap's period reads.
                stage = group_rows[-1]["stage"]
                change_rows += [{
                    "group_id": group_id, "kind": kind, "field": kind, "old": None, "new": new,
                    "changed_on": date(2025, 1, 1), "at": at}
                    for kind, new in (("status", "aktif"), ("stage", "tumbuh"))]
                if stage != "tumbuh" or n % 5 == 0:
                    change_rows.append({
                        "group_id": group_id, "kind": "stage", "field": "stage",
                        "old": "tumbuh", "new": stage,
                        "changed_on": TODAY - timedelta(days=rng.randint(1, 365)), "at": at})
                member_rows += [{
                    "group_id": group_id, "name": f"KK {n}-{k}", "role": roles[k],
                    "welfare_category": rng.choice(["fakir_miskin", "miskin", "hampir_miskin"]),
                    "joined_on": date(2025, 1, 1)} for k in range(7)]
                visit_rows += [{
                    "group_id": group_id, "mentor_id": mentor + 1, "attendance": 6,
                    "visited_on": last - timedelta(days=30 * k), "activities": ["pemantauan"],
                    "turnover": 3_000_000, "profit": 600_000, "solidarity_fee": 50_000,
                    "photo_file_ids": [], "next_visit_on": last - timedelta(days=30 * (k - 1)),
                    "created_at": at} for k in range(10)]
                # What is pending: the next occurrence of each visit rule after today.
                for rule in VISIT_RULES:
                    remind(rule, group_id, due, village, "pending", TODAY + timedelta(days=1))
                # A history: the previous cycle's due-day and first overdue reminders, sent.
                for rule in (ReminderRule.VISIT_DUE, ReminderRule.VISIT_OVERDUE):
                    made = remind(rule, group_id, due - timedelta(days=30), village, "sent",
                                  due - timedelta(days=30))
                    if made:
                        delivery_id += 1
                        delivery_rows.append({
                            "id": delivery_id, "reminder_id": made[0],
                            "recipient_telegram_id": 10_000_000 + mentor, "status": "sent",
                            "created_at": at, "sent_at": at})
                if n % 2 == 0:
                    grant_id += 1
                    received = TODAY - timedelta(days=rng.randint(30, 330))
                    rollover_due = received + timedelta(days=365)
                    # The LPJ is due three months after receipt; most are in once past due.
                    lpj_due = received + timedelta(days=91)
                    lpj_in = lpj_due + timedelta(days=rng.randint(-20, 20)) \
                        if lpj_due < TODAY and rng.random() < 0.8 else None
                    grant_rows.append({
                        "id": grant_id, "group_id": group_id, "kind": "uep",
                        "funding_source": "apbn", "form": "tunai", "amount": 20_000_000,
                        "received_on": received, "rollover_required": True,
                        "rollover_amount": 10_000_000, "rollover_due": rollover_due,
                        "lpj_due": lpj_due, "lpj_submitted_on": lpj_in,
                        "recorded_by": mentor + 1, "created_at": at})
                    rollover_rows += [{
                        "grant_id": grant_id, "rolled_on": received + timedelta(days=20 * (k + 1)),
                        "recipient_kind": "kk", "recipient_name": "Penerima",
                        "amount": 2_000_000, "recorded_by": mentor + 1, "created_at": at}
                        for k in range(rng.randint(0, 3))]
                    for rule in GRANT_RULES:
                        remind(rule, grant_id, rollover_due, village, "pending",
                               TODAY + timedelta(days=1))
                    if lpj_in is None:
                        for rule in LPJ_RULES:
                            remind(rule, grant_id, lpj_due, village, "pending",
                                   TODAY + timedelta(days=1))
            for table, rows in ((Group.__table__, bump("kube_group", group_rows)),
                                (Member.__table__, bump("member", member_rows)),
                                (Visit.__table__, bump("visit", visit_rows)),
                                (GroupChange.__table__, bump("group_change", change_rows)),
                                (Grant.__table__, bump("group_grant", grant_rows)),
                                (Rollover.__table__, bump("rollover", rollover_rows)),
                                (Reminder.__table__, bump("reminder", reminder_rows)),
                                (ReminderDelivery.__table__,
                                 bump("reminder_delivery", delivery_rows))):
                await _bulk(connection, table, rows, postgresql)
        if postgresql:
            # Explicit ids: the sequences must continue after them.
            for table in ("mentor", "kube_group", "member", "visit", "group_grant", "rollover",
                          "reminder", "reminder_delivery", "conversation_state"):
                await connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"))
    if postgresql:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    await engine.dispose()
    return counts

