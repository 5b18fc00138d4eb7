"""Every role against every coordinator command: who gets in, and whom the rest is refused to."""

from __future__ import annotations

import pytest

from bot.core.enums import MentorStatus, Role
from tests.conftest import ADMIN_ID
from tests.factories import make_mentor

STAFF_COMMANDS = ["/persetujuan", "/pendamping", "/alihkan", "/undang", "/siaran", "/rekap",
                  "/ekspor", "/templat"]
ADMIN_COMMANDS = ["/koordinator", "/audit"]

REFUSALS = {
    "stranger": "belum terdaftar",
    "pending": "menunggu persetujuan",
    "inactive": "tidak aktif",
    "mentor": "bukan untuk peran Anda",
}


async def make_user(session, kind: str) -> int:
    telegram_id = {"stranger": 990001, "pending": 990002, "inactive": 990003,
                   "mentor": 990004, "coordinator": 990005, "admin": ADMIN_ID}[kind]
    if kind == "pending":
        await make_mentor(session, telegram_id=telegram_id, status=MentorStatus.PENDING)
    elif kind == "inactive":
        await make_mentor(session, telegram_id=telegram_id, status=MentorStatus.INACTIVE)
    elif kind == "mentor":
        await make_mentor(session, telegram_id=telegram_id)
    elif kind == "coordinator":
        await make_mentor(session, telegram_id=telegram_id, role=Role.COORDINATOR,
                          area_code="32.02")
    return telegram_id


@pytest.mark.parametrize("kind", ["stranger", "pending", "inactive", "mentor"])
async def test_non_staff_are_refused_every_coordinator_command(bot, session, kind):
    chat = bot.chat(await make_user(session, kind))
    for command in STAFF_COMMANDS + ADMIN_COMMANDS:
        await chat.send(command)
        assert REFUSALS[kind] in chat.last_text(), (kind, command, chat.last_text())


async def test_coordinator_gets_staff_commands_but_not_admin_ones(bot, session):
    chat = bot.chat(await make_user(session, "coordinator"))
    for command in STAFF_COMMANDS:
        await chat.send(command)
        assert "bukan untuk peran Anda" not in (chat.last_text() or ""), command
        await chat.send("/batal")
    for command in ADMIN_COMMANDS:
        await chat.send(command)
        assert "bukan untuk peran Anda" in chat.last_text(), command


async def test_admin_gets_every_command(bot, session):
    chat = bot.chat(await make_user(session, "admin"))
    for command in STAFF_COMMANDS + ADMIN_COMMANDS:
        await chat.send(command)
        assert "bukan untuk peran Anda" not in (chat.last_text() or ""), command
        await chat.send("/batal")
