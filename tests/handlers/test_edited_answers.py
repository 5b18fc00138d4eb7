"""An edited old message is never an answer, in any conversation: the question asked now is
answered by a new message only (handlers.flow.TEXT)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import Role
from tests.conftest import ADMIN_ID
from tests.factories import REGENCY_SUKABUMI, make_grant, make_group, make_mentor, stored_draft
from tests.harness import BotHarness, ChatUser

USER = 700901


async def _mentor_with_group(session: AsyncSession) -> int:
    mentor = await make_mentor(session, telegram_id=USER)
    group = await make_group(session, mentor, name="KUBE Mawar")
    await make_grant(session, group, mentor)
    return group.id


async def _group(bot: BotHarness, session: AsyncSession) -> ChatUser:
    await make_mentor(session, telegram_id=USER)
    chat = bot.chat(USER)
    await chat.send("/tambah_kelompok")  # the name
    return chat


async def _visit(bot: BotHarness, session: AsyncSession) -> ChatUser:
    await _mentor_with_group(session)
    chat = bot.chat(USER)
    await chat.send("/kunjungan")
    await chat.press("KUBE Mawar")  # the date
    return chat


async def _grant(bot: BotHarness, session: AsyncSession) -> ChatUser:
    await _mentor_with_group(session)
    chat = bot.chat(USER)
    await chat.send("/hibah")  # the group, by button or by its name
    return chat


async def _rollover(bot: BotHarness, session: AsyncSession) -> ChatUser:
    await _mentor_with_group(session)
    chat = bot.chat(USER)
    await chat.send("/gulir")  # the grant, by button or by its name
    return chat


async def _member(bot: BotHarness, session: AsyncSession) -> ChatUser:
    group_id = await _mentor_with_group(session)
    chat = bot.chat(USER)
    await chat.press_data(f"mem:add:{group_id}")  # the household's line
    return chat


async def _erasure(bot: BotHarness, session: AsyncSession) -> ChatUser:
    await _mentor_with_group(session)
    chat = bot.chat(USER)
    await chat.send("/hapus_anggota")  # the group, by its name
    return chat


async def _onboarding(bot: BotHarness, session: AsyncSession) -> ChatUser:
    chat = bot.chat(USER)
    await chat.send("/start")  # the name
    return chat


async def _broadcast(bot: BotHarness, session: AsyncSession) -> ChatUser:
    await make_mentor(session, telegram_id=USER, area_code=REGENCY_SUKABUMI,
                      role=Role.COORDINATOR)
    chat = bot.chat(USER)
    await chat.send("/siaran")  # the message
    return chat


async def _coordinator(bot: BotHarness, session: AsyncSession) -> ChatUser:
    await make_mentor(session, telegram_id=920001, name="Budi Hartono")
    chat = bot.chat(ADMIN_ID)
    await chat.send("/koordinator")  # who
    return chat


# flow name → (to a question answered by typing, an answer it would take if it were new)
CASES: dict[str, tuple[Callable[[BotHarness, AsyncSession], Awaitable[ChatUser]], str]] = {
    "group": (_group, "KUBE Melati"),
    "visit": (_visit, "kemarin"),
    "grant": (_grant, "Mawar"),
    "rollover": (_rollover, "Mawar"),
    "member": (_member, "Budi Santoso, miskin"),
    "erasure": (_erasure, "Mawar"),
    "onboarding": (_onboarding, "Siti Aminah"),
    "broadcast": (_broadcast, "Halo semua, rapat Senin"),
    "coordinator": (_coordinator, "hartono"),
}


@pytest.mark.parametrize("flow", CASES)
async def test_an_edited_old_message_is_not_an_answer(bot, session, flow: str):
    to_question, answer = CASES[flow]
    chat = await to_question(bot, session)
    before = await stored_draft(session, chat.user_id, flow)
    assert before is not None and before.get("_state") is not None
    sent = len(chat.messages())
    user = bot.server.get_user(chat.user_id)
    update_id = bot.server.send_raw_update({"edited_message": {
        "message_id": 1, "date": 1, "edit_date": 2, "chat": user.chat_payload(),
        "from": user.user_payload(), "text": answer}})
    await bot.settle(update_id)
    assert len(chat.messages()) == sent  # no answer taken, no "cannot read that", no question
    assert await stored_draft(session, chat.user_id, flow) == before
    # The same words as a new message are an answer (so the edit was refused for being one).
    await chat.send(answer)
    assert len(chat.messages()) > sent
