"""Hostile and odd input through the local Bot API server.

Strangers, waiting and other-area users press every button the rightful owners were shown (and
forged and nonsense variants of them); odd messages are sent where the bot asks questions. The
bot must answer each sensibly, change nothing it should not, and never fail.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import MentorStatus, Role
from tests.conftest import ADMIN_ID
from tests.factories import (
    DISTRICT_ELSEWHERE,
    REGENCY_SUKABUMI,
    make_grant,
    make_group,
    make_mentor,
    make_visit,
)

SITI, BUDI = 700001, 800001
HOSTILE = {
    "stranger": 990001,
    "pending": 990002,
    "mentor elsewhere": 990004,
    "coordinator elsewhere": 990005,
}
# Bookkeeping that any update may touch; everything else must stay as it was.
BOOKKEEPING = {"received_update", "conversation_state", "user_data"}
FAILURE = "gangguan"


async def snapshot(session: AsyncSession) -> dict[str, str]:
    """A digest of every row of every table but the bookkeeping ones."""
    def names(sync_session):
        return inspect(sync_session.connection()).get_table_names()

    tables = await session.run_sync(names)
    digest = {}
    for table in sorted(set(tables) - BOOKKEEPING - {"area", "alembic_version"}):
        rows = (await session.execute(text(f'SELECT * FROM "{table}" ORDER BY 1'))).all()
        digest[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    await session.commit()
    return digest


async def owners_and_buttons(bot, session) -> list[str]:
    """Siti (mentor) and Budi (coordinator) with real records; the callback data of every
    button they were shown while looking around."""
    siti = await make_mentor(session, telegram_id=SITI, name="Siti Rahma")
    await make_mentor(session, telegram_id=BUDI, name="Budi Hartono", role=Role.COORDINATOR,
                      area_code=REGENCY_SUKABUMI)
    await make_mentor(session, telegram_id=700009, name="Dedi Menunggu",
                      status=MentorStatus.PENDING)
    group = await make_group(session, siti, name="KUBE Mawar")
    await make_visit(session, group, siti)
    await make_grant(session, group, siti)
    await make_mentor(session, telegram_id=HOSTILE["pending"], status=MentorStatus.PENDING)
    await make_mentor(session, telegram_id=HOSTILE["mentor elsewhere"], name="Rudi Makassar",
                      area_code=DISTRICT_ELSEWHERE)
    await make_mentor(session, telegram_id=HOSTILE["coordinator elsewhere"], name="Koor Makassar",
                      role=Role.COORDINATOR, area_code="73.71")

    mentor = bot.chat(SITI)
    await mentor.send("/kelompok")
    await mentor.press("1. KUBE Mawar")
    for command in ("/riwayat", "/hibah", "/gulir", "/jadwal", "/kunjungan", "/batal"):
        await mentor.send(command)
    coordinator = bot.chat(BUDI)
    for command in ("/persetujuan", "/pendamping", "/alihkan", "/batal", "/siaran", "/batal"):
        await coordinator.send(command)
    data: set[str] = set()
    for chat_id in (SITI, BUDI):
        for message in bot.server.sent(chat_id):
            for button in message.inline_buttons:
                if "callback_data" in button:
                    data.add(str(button["callback_data"]))
    return sorted(data)


def forged_variants(data: list[str]) -> list[str]:
    """The real data, the same with ids that do not exist or belong to nobody, and nonsense."""
    variants = set(data)
    for item in data:
        prefix = item.split(":", 1)[0]
        variants.update({f"{prefix}:", f"{prefix}:999999", f"{prefix}:x:y:z", f"{prefix}:-1",
                         item + "9", item.replace(":1", ":2")})
    variants.update({"", "x", "💥", "'; DROP TABLE kube_group; --", "a" * 64, ":::"})
    return sorted(variants)


async def test_every_button_pressed_by_the_wrong_people_changes_nothing(bot, session):
    data = await owners_and_buttons(bot, session)
    prefixes = {item.split(":", 1)[0] for item in data}
    # The walk really reached the features' buttons (a change that hides them fails here).
    assert {"kel", "kun", "hib", "mem", "pds", "appr"} <= prefixes, prefixes
    before = await snapshot(session)
    sent_to_owners = len(bot.server.sent(SITI)) + len(bot.server.sent(BUDI))
    presses = 0
    for kind, user_id in HOSTILE.items():
        chat = bot.chat(user_id, first_name=kind)
        await chat.send("/start" if kind == "stranger" else "/bantuan")
        for item in forged_variants(data):
            replies = await chat.press_data(item)
            presses += 1
            answers = [a for a in bot.server.callback_answers(user_id)]
            shown = " ".join((m.text or "") for m in replies) + " ".join(
                (a.text or "") for a in answers[-1:])
            assert FAILURE not in shown, (kind, item, shown)
        await chat.send("/batal")
    assert presses >= 4 * 50
    print(f"\nhostile presses: {presses} by {len(HOSTILE)} kinds of wrong user "
          f"({', '.join(HOSTILE)}) over {len(data)} buttons the owners saw")
    # Nobody else was told anything, and no record changed.
    assert len(bot.server.sent(SITI)) + len(bot.server.sent(BUDI)) == sent_to_owners
    assert await snapshot(session) == before
    # The owners' own buttons still work afterwards.
    replies = await bot.chat(SITI).send("/kelompok")
    assert "KUBE Mawar" in " ".join(m.text or "" for m in replies) + " ".join(
        bot.chat(SITI).buttons())


ODD_INPUTS = [
    "a" * 4096,                               # the longest message Telegram allows
    "🙏🙏🙏",
    "   ",
    "'; DROP TABLE kube_group; --",
    "<b>tebal</b> <script>alert(1)</script>",
    "\u202eKUBE\u200b\u200d",                 # right-to-left override, zero-width characters
    "NULL",
    "0" * 300,
]


async def _odd_things_at(chat, question_marker: str) -> None:
    """Sends every odd input, a sticker, a file and a photo at the current question; each gets
    a sensible answer and the question stays open (or moves on with a valid answer)."""
    for odd in ODD_INPUTS:
        replies = await chat.send(odd)
        said = " ".join(m.text or m.caption or "" for m in replies)
        assert replies, repr(odd[:20])
        assert FAILURE not in said and "Traceback" not in said, (odd[:20], said)
    for action in (chat.send_sticker, chat.send_document, chat.send_photo):
        replies = await action()
        said = " ".join(m.text or m.caption or "" for m in replies)
        assert replies and FAILURE not in said, (action.__name__, said)


async def test_odd_messages_where_the_bot_asks_questions(bot, session):
    siti = await make_mentor(session, telegram_id=SITI, name="Siti Rahma")
    await make_group(session, siti, name="KUBE Mawar")
    before = await snapshot(session)

    newcomer = bot.chat(700555, first_name="Baru")
    await newcomer.send("/start")
    await _odd_things_at(newcomer, "nama")

    mentor = bot.chat(SITI)
    await mentor.send("/tambah_kelompok")
    await _odd_things_at(mentor, "nama kelompok")
    await mentor.send("/batal")

    await mentor.send("/kunjungan")
    # One group: the walk starts at the date (or asks for the group); odd answers either way.
    await _odd_things_at(mentor, "tanggal")
    await mentor.send("/batal")
    assert "dibatalkan" in mentor.last_text().lower() or "batal" in mentor.last_text().lower()

    # Outside any conversation, odd messages get the help hint, not silence or an error.
    await _odd_things_at(mentor, "")
    # Nothing was stored from any of it (the newcomer is still signing up).
    assert await snapshot(session) == before
    replies = await bot.chat(ADMIN_ID).send("/start")
    assert replies
