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


async def seed_mentors(session) -> None:
    """One mentor waiting for approval and one active, in Cibadak (Kab. Sukabumi): the staff
    commands then have someone to show."""
    await make_mentor(session, name="Budi Santoso", status=MentorStatus.PENDING)
    await make_mentor(session, name="Ani Lestari")


PERIOD_BUTTONS = ["Bulan ini (November 2026)", "Bulan lalu (Oktober 2026)",
                  "Triwulan ini (Okt–Des 2026)",
                  "Triwulan lalu (Jul–Sep 2026)", "Tahun ini (2026)",
                  "✏️ Ketik periode lain"]


def answers(area: str, file_area: str) -> dict[str, tuple[str, list[str], str | None]]:
    """Per command, what the bot's last message says when the command works: the start of
    its text, its buttons, the file it sends (None: no file)."""
    return {
        "/persetujuan": ("Nama: Budi Santoso", ["✅ Setujui", "❌ Tolak"], None),
        "/pendamping": ("Pendamping aktif di wilayah Anda", ["Ani Lestari (0)"], None),
        "/alihkan": ("Kelompok siapa yang dialihkan?", ["Ani Lestari (0)"], None),
        "/undang": ("Tautan undangan (berlaku 7 hari, 1 kali pakai)", [], None),
        "/siaran": ("Tulis pesannya", [], None),
        # The period is asked first (handlers.reports); tests/handlers/test_reports.py
        # follows it to the summary and the workbook.
        "/rekap": ("Untuk periode apa?", PERIOD_BUTTONS, None),
        "/ekspor": ("Untuk periode apa?", PERIOD_BUTTONS, None),
        "/templat": ("📄 Templat impor KUBE", [], "templat-impor-kube.xlsx"),
        "/koordinator": ("Siapa yang diangkat menjadi koordinator?", ["🔗 Undang koordinator baru"], None),
        "/audit": ("🧾 Jejak audit terbaru:", [], None),
    }


async def assert_answered(chat, commands: list[str], expected: dict) -> None:
    for command in commands:
        await chat.send(command)
        text, buttons, document = expected[command]
        last = chat.last()
        assert last is not None and (last.content or "").startswith(text), (
            command, chat.last_text())
        assert last.button_texts == buttons, (command, last.button_texts)
        assert last.document_name == document, (command, last.kind, last.document_name)
        await chat.send("/batal")


async def test_coordinator_gets_staff_commands_but_not_admin_ones(bot, session):
    await seed_mentors(session)
    chat = bot.chat(await make_user(session, "coordinator"))
    await assert_answered(chat, STAFF_COMMANDS, answers("Kab. Sukabumi, Jawa Barat", "32.02"))
    for command in ADMIN_COMMANDS:
        await chat.send(command)
        assert "bukan untuk peran Anda" in chat.last_text(), command


async def test_admin_gets_every_command(bot, session):
    await seed_mentors(session)
    chat = bot.chat(await make_user(session, "admin"))
    await assert_answered(chat, STAFF_COMMANDS + ADMIN_COMMANDS,
                          answers("Seluruh Indonesia", "indonesia"))
