"""Factories for test data: one place that knows how to make a valid mentor, group or visit."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import clock
from bot.core.enums import MentorStatus, Role
from models import grants as grant_queries
from models import groups as group_queries
from models import mentors as mentor_queries
from models import visits as visit_queries
from models.saving.grant import DEFAULT_LPJ_MONTHS, lpj_due
from models.tables import Grant, Group, Mentor, Visit

# Real Kemendagri codes used across the tests.
DISTRICT_CIBADAK = "32.02.11"  # Kec. Cibadak, Kab. Sukabumi, Jawa Barat
REGENCY_SUKABUMI = "32.02"
VILLAGE_IN_CIBADAK = "32.02.11.2002"  # Desa Sekarwangi
DISTRICT_ELSEWHERE = "73.71.01"  # a district of Kota Makassar (WITA)

_ids = count(5000)

MEMBER_LINES = (
    "Siti Aminah; miskin; ketua\n"
    "Budi Santoso; fakir miskin; sekretaris\n"
    "Rina Wati; hampir miskin; bendahara\n"
    "Joko Susilo; miskin; anggota\n"
    "Dewi Lestari; miskin; anggota\n"
    "Agus Salim; fakir miskin; anggota\n"
    "Nur Hayati; miskin; anggota"
)


async def make_mentor(
    session: AsyncSession,
    *,
    telegram_id: int | None = None,
    name: str = "Siti Rahma",
    area_code: str = DISTRICT_CIBADAK,
    role: Role = Role.MENTOR,
    status: MentorStatus = MentorStatus.ACTIVE,
    language: str = "id",
    phone: str = "+6281234567890",
    username: str | None = None,
) -> Mentor:
    return await mentor_queries.create(
        session=session, telegram_id=telegram_id or next(_ids), name=name,
        phone=phone, affiliation="psm", area_code=area_code, language=language,
        role=role, status=status, username=username,
    )


def member_dicts(n: int = 7) -> list[dict]:
    roles = ["ketua", "sekretaris", "bendahara"] + ["anggota"] * max(0, n - 3)
    return [
        {"name": f"Anggota {i + 1}", "welfare_category": "miskin", "role": roles[i]}
        for i in range(n)
    ]


async def make_group(
    session: AsyncSession,
    mentor: Mentor,
    *,
    name: str = "KUBE Mawar",
    village_code: str = VILLAGE_IN_CIBADAK,
    members: int = 7,
    formed_on: date | None = None,
    next_visit_due: date | None = None,
    interval: int = 30,
) -> Group:
    today = clock.today_for(village_code)
    group, _ = await group_queries.create_group(
        session=session, mentor=mentor, name=name, village_code=village_code,
        business_type="ternak", binding_ties=["kedekatan"],
        formed_on=formed_on or today - timedelta(days=200), stage="tumbuh",
        visit_interval_days=interval,
        next_visit_due=next_visit_due or today + timedelta(days=interval),
        # Reminders scheduled as if registered 200 days ago (the factories' habit).
        members=member_dicts(members), today=today - timedelta(days=200),
    )
    return group


async def make_visit(
    session: AsyncSession, group: Group, mentor: Mentor, *, visited_on: date | None = None,
    attendance: int = 6,
) -> Visit:
    visited_on = visited_on or clock.today_for(group.village_code)
    visit, _ = await visit_queries.create_visit(
        session=session, group=group, mentor=mentor,
        fields={"visited_on": visited_on, "attendance": attendance,
                "activities": ["pemantauan"],
                "next_visit_on": visited_on + timedelta(days=group.visit_interval_days)},
    )
    return visit


async def make_grant(
    session: AsyncSession, group: Group, mentor: Mentor, *, kind: str = "uep",
    funding_source: str = "apbn", form: str = "tunai", amount: int | None = 20_000_000,
    goods_description: str | None = None, received_on: date | None = None,
    rollover_amount: int | None = 10_000_000, rollover_units: int | None = None,
    rollover_unit_label: str | None = None, rollover_households: int | None = None,
    rollover_due: date | None = None, rollover_required: bool = True,
) -> Grant:
    """A grant with its roll-over and LPJ reminders; by default Rp 20 jt received 100 days ago,
    of which Rp 10 jt must be rolled over within a year, its LPJ due 3 months after receipt.
    Without ``rollover_required`` it has no obligation at all."""
    today = clock.today_for(group.village_code)
    received_on = received_on or today - timedelta(days=100)
    grant, _ = await grant_queries.create_grant(
        session=session, group=group, mentor=mentor, today=today,
        fields={"kind": kind, "funding_source": funding_source, "form": form, "amount": amount,
                "goods_description": goods_description, "received_on": received_on,
                "rollover_required": rollover_required,
                **({"rollover_amount": rollover_amount, "rollover_units": rollover_units,
                    "rollover_unit_label": rollover_unit_label,
                    "rollover_households": rollover_households,
                    "rollover_due": rollover_due or received_on + timedelta(days=365)}
                   if rollover_required else {}),
                "lpj_due": lpj_due(received_on, DEFAULT_LPJ_MONTHS)},
    )
    return grant


# --- reading what the bot stored (it writes through its own connection) ----------------------

async def rows(session: AsyncSession, model: type) -> list:
    """All rows of a table, oldest first, from a fresh snapshot."""
    from sqlalchemy import select

    await session.rollback()
    return list((await session.execute(select(model).order_by(model.id))).scalars())


async def stored_draft(session: AsyncSession, user_id: int, flow: str) -> dict | None:
    """The half-answered draft of a conversation, as persisted for ``user_id``."""
    from models.tables import UserData

    await session.rollback()
    row = await session.get(UserData, user_id)
    return None if row is None else row.data.get(f"draft:{flow}")


def shown(replies) -> str:
    """The texts of some bot messages, in order, for substring checks."""
    return "\n---\n".join(m.content or "" for m in replies)


# --- saving through models.saving: the draft a save ends, and what a refusal must not touch ---

SAVED_TABLES = ("kube_group", "member", "visit", "group_grant", "rollover", "audit_log",
                "reminder", "user_data", "conversation_state", "received_update")


async def table_counts(session: AsyncSession) -> dict[str, int]:
    """Rows per table a save writes (the draft's tables included), from a fresh snapshot."""
    from sqlalchemy import text

    await session.rollback()
    return {table: (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in SAVED_TABLES}


async def store_draft(session: AsyncSession, *, user_id: int, flow: str, chat_id: int | None = None
                      ) -> None:
    """A half-answered draft of ``flow`` as bot.telegram.persistence stores it (committed)."""
    from models.drafts import conversation_key
    from models.tables import ConversationState, UserData

    session.add(UserData(user_id=user_id, data={f"draft:{flow}": {"_state": 1}, "lang": "id"}))
    session.add(ConversationState(name=flow, key=conversation_key(chat_id or user_id, user_id),
                                  state=1))
    await session.commit()


def ender(session: AsyncSession, *, user_id: int, flow: str, chat_id: int | None = None):
    """What a handler passes as ``end_draft`` (Flow.end_with_save), counting its calls."""
    from models.drafts import conversation_key, end_in_transaction

    async def end_draft() -> None:
        end_draft.calls += 1
        await end_in_transaction(session=session, user_id=user_id, user_data={"lang": "id"},
                                 conversation=flow,
                                 key=conversation_key(chat_id or user_id, user_id))

    end_draft.calls = 0
    return end_draft


async def draft_left(session: AsyncSession, *, user_id: int, flow: str) -> bool:
    """Whether the draft of ``flow`` and its conversation state are still stored."""
    from sqlalchemy import select

    from models.tables import ConversationState

    data = await stored_draft(session, user_id, flow)
    state = (await session.execute(select(ConversationState.id).where(
        ConversationState.name == flow))).first()
    return data is not None and state is not None


async def expect_refusal(session: AsyncSession, save, *, actor, reason, user_id: int, flow: str):
    """Awaits ``save(end_draft)`` (a models.saving save) expecting a refusal for ``reason``:
    nothing written and nothing staged (a later commit in the same update writes nothing of
    it), the draft kept, and nothing the session had loaded expired (no rollback)."""
    from sqlalchemy import inspect

    from models.saving import Refusal

    before = await table_counts(session)
    await session.refresh(actor)
    end_draft = ender(session, user_id=user_id, flow=flow)
    refusal = await save(end_draft)
    assert isinstance(refusal, Refusal) and refusal.reason == reason, refusal
    assert end_draft.calls == 0
    assert not inspect(actor).expired_attributes
    await session.commit()
    assert await table_counts(session) == before
    assert await draft_left(session, user_id=user_id, flow=flow)
    return refusal


async def received(session: AsyncSession, update_id: int) -> None:
    """An update as bot.telegram.inbox writes it on arrival (committed), not yet handled."""
    from models import updates as update_queries

    await update_queries.receive(session=session, arrivals=[update_queries.Arrival(
        update_id, f"m:{update_id}:1:0", {"update_id": update_id})])


async def handled_update_ids(session: AsyncSession) -> list[int]:
    """The ids of the received updates marked handled, from a fresh snapshot."""
    from sqlalchemy import select

    from models.tables import ReceivedUpdate

    await session.rollback()
    result = await session.execute(select(ReceivedUpdate.update_id).where(
        ReceivedUpdate.handled_at.is_not(None)).order_by(ReceivedUpdate.update_id))
    return list(result.scalars())
