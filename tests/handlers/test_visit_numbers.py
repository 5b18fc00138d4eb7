"""A visit note that quotes phone numbers and a NIK in the forms of issue 14, typed through the
bot: the mentor's summary, the visit row and a coordinator's (masked) export show
them masked, and the amount and date around them as typed."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from bot.core.enums import Role
from models.tables import AuditLog
from tests.factories import REGENCY_SUKABUMI, make_mentor, shown
from tests.handlers.visit_walks import MENTOR, OTHER, mentor_with_group, to_problems, visits

PROBLEMS = "Bu Siti minta ditelepon di (0812) 5555-6666, modal Rp 15.000.000 sejak 12/03/2026"
FOLLOW_UP = "Hubungi +62 (813) 2222 9999 atau 0812/7777/8888, NIK 3202 - 1145 - 0780 - 0004"
PROBLEMS_MASKED = "Bu Siti minta ditelepon di 0812******66, modal Rp 15.000.000 sejak 12/03/2026"
FOLLOW_UP_MASKED = "Hubungi 6281*******99 atau 0812******88, NIK 3202********0004"


async def test_a_note_with_numbers_is_stored_and_exported_masked(bot, session):
    await mentor_with_group(session)
    chat = bot.chat(MENTOR)
    await to_problems(chat)
    await chat.send(PROBLEMS)
    await chat.send(FOLLOW_UP)
    await chat.send("Lewati")  # location
    await chat.press("Selesai")  # photos
    await chat.press("Pakai ")
    summary = chat.last_text()
    assert f"Masalah: {PROBLEMS_MASKED}" in summary
    assert f"Tindak lanjut: {FOLLOW_UP_MASKED}" in summary
    assert "Tersimpan" in shown(await chat.press("✅ Simpan"))

    [visit] = await visits(session)
    assert (visit.problems, visit.follow_up) == (PROBLEMS_MASKED, FOLLOW_UP_MASKED)
    created = (await session.execute(select(AuditLog).where(
        AuditLog.entity == "visit", AuditLog.action == "create"))).scalar_one()
    # The audit copy keeps no free text at all (models.audit): the notes are only "there".
    assert (created.new["problems"], created.new["follow_up"]) == ("***", "***")

    await make_mentor(session, telegram_id=OTHER, area_code=REGENCY_SUKABUMI,
                      role=Role.COORDINATOR)
    document = (await bot.chat(OTHER, first_name="Koor").send("/ekspor bulan ini"))[-1]
    sheet = load_workbook(io.BytesIO(document.document_bytes))["Kunjungan"]
    headers = [cell.value for cell in sheet[1]]
    [row] = sheet.iter_rows(min_row=2, values_only=True)
    assert row[headers.index("Masalah")] == PROBLEMS_MASKED
    assert row[headers.index("Tindak lanjut")] == FOLLOW_UP_MASKED
