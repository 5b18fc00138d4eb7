"""What the /kunjungan tests share: the mentor and group they start from, the draft and visits
they read back, and walks through the questions up to each one."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import Visit
from tests.factories import make_group, make_mentor, rows, stored_draft
from tests.harness import ChatUser

MENTOR = 700201
OTHER = 700202
TODAY = date(2026, 11, 25)  # a Wednesday; 10:00 WIB
FORMED = date(2026, 1, 10)
DUE = date(2026, 11, 13)  # 12 days overdue on TODAY




async def mentor_with_group(session: AsyncSession, *, members: int = 7) -> int:
    """The mentor MENTOR with one group, KUBE Mawar; returns the group's id."""
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, name="KUBE Mawar", members=members,
                             formed_on=FORMED, next_visit_due=DUE)
    return group.id


async def visits(session: AsyncSession) -> list[Visit]:
    return await rows(session, Visit)


async def draft(session: AsyncSession) -> dict | None:
    return await stored_draft(session, MENTOR, "visit")



# --- walking the questions -----------------------------------------------------------------

async def to_date(chat: ChatUser) -> None:
    await chat.send("/kunjungan")
    await chat.press("KUBE Mawar")


async def to_attendance(chat: ChatUser) -> None:
    await to_date(chat)
    await chat.send("kemarin")


async def to_activities(chat: ChatUser) -> None:
    await to_attendance(chat)
    await chat.send("6")


async def to_figures(chat: ChatUser) -> None:
    await to_activities(chat)
    await chat.press("▫️ Pemantauan usaha")
    await chat.press("Selesai")


async def to_amounts(chat: ChatUser) -> None:
    await to_figures(chat)
    await chat.press("Ya")


async def to_assets(chat: ChatUser) -> None:
    await to_amounts(chat)
    for amount in ("1,5 jt", "300rb", "2 jt", "50rb"):
        await chat.send(amount)


async def to_problems(chat: ChatUser) -> None:
    await to_figures(chat)
    await chat.press("Lewati")


async def to_follow_up(chat: ChatUser) -> None:
    await to_problems(chat)
    await chat.send("Harga pakan naik")


async def to_location(chat: ChatUser) -> None:
    await to_follow_up(chat)
    await chat.send("Cari pemasok pakan")


async def to_photos(chat: ChatUser) -> None:
    await to_location(chat)
    await chat.send("Lewati")


async def to_next_date(chat: ChatUser) -> None:
    await to_photos(chat)
    await chat.press("Selesai")


async def to_summary(chat: ChatUser) -> None:
    await to_next_date(chat)
    await chat.press("Pakai ")


async def save_with_notes(chat: ChatUser, problems: str, follow_up: str, *,
                          group: str = "KUBE Mawar") -> list:
    """A whole visit to ``group`` saved with these two notes and nothing else special;
    returns the replies to Simpan."""
    await chat.send("/kunjungan")
    await chat.press(group)
    await chat.send("kemarin")
    await chat.send("6")
    await chat.press("▫️ Pemantauan usaha")
    await chat.press("Selesai")
    await chat.press("Lewati")
    await chat.send(problems)
    await chat.send(follow_up)
    await chat.send("Lewati")
    await chat.press("Selesai")
    await chat.press("Pakai ")
    return await chat.press("✅ Simpan")


def assert_retried(replies, error: str, question: str) -> None:
    """The bot sent ``error`` (with an example) and then asked ``question`` again."""
    texts = [m.content or "" for m in replies]
    assert len(texts) >= 2, texts
    assert error in texts[-2] and "Contoh" in texts[-2], texts
    assert question in texts[-1], texts
