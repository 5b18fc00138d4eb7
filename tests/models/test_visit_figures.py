"""models.visits.last_figure: a group's latest recorded figure, which a new one that looks too
small is compared with (handlers.amount_check)."""

from __future__ import annotations

from datetime import date, timedelta

from models import visits as visit_queries
from tests.factories import make_group, make_mentor


async def test_the_latest_recorded_value_of_each_figure(session):
    mentor = await make_mentor(session, telegram_id=700881)
    group = await make_group(session, mentor, name="KUBE Melati")
    for day, figures in [
        (date(2026, 9, 1), {"turnover": 4_000_000, "cash": 100_000}),
        (date(2026, 10, 1), {"turnover": 5_000_000}),  # no cash: the earlier one counts
        (date(2026, 8, 1), {"turnover": 1_000}),  # logged late: older, not the latest
    ]:
        await visit_queries.create_visit(session=session, group=group, mentor=mentor, fields={
            "visited_on": day, "attendance": 5, "activities": ["pemantauan"],
            "next_visit_on": day + timedelta(days=30), **figures})
    last = {field: await visit_queries.last_figure(session=session, group_id=group.id,
                                                   field=field)
            for field in ("turnover", "profit", "cash", "solidarity_fee")}
    assert last == {"turnover": 5_000_000, "profit": None, "cash": 100_000,
                    "solidarity_fee": None}
