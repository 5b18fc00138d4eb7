"""A save pressed once makes one record, whatever Telegram does with the press: delivered
again after a crash, again after a restart, and tapped twice. One test over every conversation
that saves something from its summary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import ReminderStatus
from models.tables import AuditLog, Grant, Group, Reminder, Rollover, Visit
from tests.factories import MEMBER_LINES, make_mentor, rows
from tests.handlers import test_grants, test_groups, test_rollovers, test_visits
from tests.harness import ChatUser


async def _count(session: AsyncSession, statement) -> int:
    return (await session.execute(statement)).scalar_one()


# --- each conversation: from its start to its summary, and what one save leaves behind --------

async def _rollover_to_summary(chat: ChatUser) -> None:
    await test_rollovers.to_amount(chat)
    await chat.send("2 jt")
    await chat.press("Lewati")


async def _group_mentor(session: AsyncSession) -> None:
    await make_mentor(session, telegram_id=test_groups.MENTOR)


async def _group_to_summary(chat: ChatUser) -> None:
    await test_groups.register_until_members(chat)
    await chat.send(MEMBER_LINES)


async def _one_visit(session: AsyncSession) -> None:
    group = (await rows(session, Group))[0]
    assert group.next_visit_due == date(2026, 12, 24)
    assert await _count(session, select(func.count()).select_from(AuditLog).where(
        AuditLog.entity == "visit")) == 1


async def _one_grant(session: AsyncSession) -> None:
    assert await _count(session, select(func.count()).select_from(Reminder).where(
        Reminder.status == ReminderStatus.PENDING,
        Reminder.rule.in_(["rollover_soon", "rollover_overdue"]))) == 2


async def _nothing_more(session: AsyncSession) -> None:
    pass


@dataclass(frozen=True)
class Case:
    setup: Callable[[AsyncSession], Awaitable[object]]  # the user and what they record about
    user: int
    to_summary: Callable[[ChatUser], Awaitable[None]]
    prefix: str  # of the conversation's buttons
    table: type  # where the record is saved
    saved: str  # in the one message that says it was saved
    also: Callable[[AsyncSession], Awaitable[None]]  # what else one save leaves behind


CASES = {
    "visit": Case(test_visits.mentor_with_group, test_visits.MENTOR, test_visits.to_summary,
                  "kun", Visit, "Tersimpan", _one_visit),
    "grant": Case(test_grants.mentor_with_group, test_grants.MENTOR, test_grants.to_summary,
                  "hib", Grant, "Tersimpan", _one_grant),
    "rollover": Case(test_rollovers.setup, test_rollovers.MENTOR, _rollover_to_summary,
                     "gul", Rollover, "Tersimpan", _nothing_more),
    "group": Case(_group_mentor, test_groups.MENTOR, _group_to_summary,
                  "grp", Group, "tersimpan dengan 7 KK", _nothing_more),
}


@pytest.mark.parametrize("flow", CASES)
async def test_redelivered_save_creates_one_record(bot, session, flow: str):
    case = CASES[flow]
    await case.setup(session)
    chat = bot.chat(case.user)
    await case.to_summary(chat)
    summary = chat.last()
    update_id = bot.server.press_button(chat.user_id, summary.message_id,
                                        summary.callback_data("✅ Simpan"))
    await bot.settle(update_id)
    assert case.saved in chat.last_text()
    saved_texts = len(chat.texts())

    bot.server.redeliver(update_id)  # Telegram sends the same press again after a crash
    await bot.settle(update_id)
    await bot.restart()
    bot.server.redeliver(update_id)
    await bot.settle(update_id)
    await chat.press_data(f"{case.prefix}:save", message_id=summary.message_id)  # a double tap

    assert len(await rows(session, case.table)) == 1
    assert len([text for text in chat.texts() if case.saved in text]) == 1
    assert len(chat.texts()) == saved_texts
    await case.also(session)
