"""A full run through the bot leaks no NIK, no phone number and not the bot token: neither in a
log line (everything at DEBUG, written through the project's own logging set-up) nor in any
message, edit, alert or button the bot sent."""

from __future__ import annotations

import io
import logging
import re

from pydantic import SecretStr

from bot.app import build_application
from bot.core.parsing import parse_phone, validate_nik
from bot.logs import setup_logging
from models import groups as group_queries
from models.tables import Group
from tests.conftest import ADMIN_ID
from tests.factories import rows
from tests.handlers.test_groups import register_until_members
from tests.handlers.visit_walks import save_with_notes
from tests.harness import BotHarness

TOKEN = "7312456789:AAFq3kZ_vX-TeStToKeNLooksReal0123456"
MENTOR = 700601
MENTOR_PHONE = "+6281377778888"
NIKS = [f"32021145078000{n}" for n in range(11, 16)]
# Phone numbers as people type them; each is found by its national digits in any format.
PHONES = ["0812-9876-5432", "+62 813 1234 5678", "6285711112222", "0821-3333-4444"]
MEMBERS = (
    f"Siti Aminah; miskin; ketua; {NIKS[0]}; {PHONES[0]}\n"
    f"Budi Santoso; fakir miskin; sekretaris; 3202 1145 0780 0012; {PHONES[1]}\n"
    f"Rina Wati; hampir miskin; bendahara; {NIKS[2]}\n"
    f"Joko Susilo; miskin; anggota; {PHONES[2]}\n"
    "Dewi Lestari; miskin; anggota\n"
    "Agus Salim; fakir miskin; anggota\n"
    f"Nur Hayati; kaya; anggota; {NIKS[3]}"
)
SEPARATORS = re.compile(r"[\s.\-()+]")


def secrets() -> list[str]:
    """What must never show: the NIKs, the phones' national digits, the token."""
    phones = [parse_phone(phone) for phone in [*PHONES, MENTOR_PHONE]]
    assert all(phones) and all(validate_nik(nik) for nik in NIKS)
    return [*NIKS, *(phone.removeprefix("+62") for phone in phones), TOKEN, TOKEN.split(":")[1]]


def leaks(text: str) -> list[str]:
    """The secrets found in ``text``, as written or with their separators taken out."""
    squeezed = SEPARATORS.sub("", text)
    return [secret for secret in secrets() if secret in text or secret in squeezed]


async def walk(bot: BotHarness, session, monkeypatch) -> None:
    """Sign-up with a shared contact, a group of 7 with NIKs and phones (a refused line, a
    correction, consent), a household added, a visit whose notes quote numbers, an export, an
    error in a handler, an erasure."""
    admin = bot.chat(ADMIN_ID, first_name="Admin")
    await admin.send("/start")
    mentor = bot.chat(MENTOR, first_name="Siti")
    await mentor.send("/start")
    await mentor.send("Siti Rahmawati")
    await mentor.share_contact(MENTOR_PHONE)
    await mentor.press("PSM")
    await mentor.send("cibadak")
    await mentor.press("Kec. Cibadak, Kab. Sukabumi")
    await admin.press("✅ Setujui")

    await register_until_members(mentor)
    await mentor.send(MEMBERS)
    assert "❌" in mentor.last_text()
    await mentor.send(f"7. Nur Hayati; miskin; anggota; {NIKS[3]}")
    await mentor.press("✅ Ya, setuju")
    await mentor.press("✅ Simpan")
    assert "tersimpan dengan 7 KK" in mentor.last_text()
    [group] = await rows(session, Group)

    await mentor.press_data(f"mem:list:{group.id}")
    await mentor.press("➕ Tambah")
    await mentor.send(f"Wawan Setiawan; miskin; anggota; {NIKS[4]}; {PHONES[3]}")
    await mentor.press("✅ Ya, setuju")
    await mentor.press_data(f"mem:list:{group.id}")

    await save_with_notes(mentor, f"Bu Siti minta ditelepon di {PHONES[0]}",
                          f"Cek NIK {NIKS[0]} ke kantor desa", group="KUBE Mawar Sejahtera")
    assert "Tersimpan" in mentor.last_text()

    await admin.send("/ekspor bulan ini")  # full numbers, but only inside the admin's file

    async def broken(**_kwargs):
        raise RuntimeError(f"driver said: duplicate nik ({NIKS[0]}), phone {PHONES[1]}, "
                           f"url http://x/bot{TOKEN}/getMe")

    monkeypatch.setattr(group_queries, "active_members", broken)
    await mentor.press_data(f"mem:list:{group.id}")
    assert "ada gangguan" in mentor.last_text()
    monkeypatch.undo()

    await mentor.send("/hapus_anggota")
    await mentor.press("KUBE Mawar Sejahtera")
    await mentor.press("Joko Susilo")
    await mentor.press("Permintaan keluarga")
    await mentor.press("🗑 Ya, hapus")
    assert "sudah dihapus" in mentor.last_text()


async def test_a_full_run_leaks_nothing_to_logs_or_chat(settings, session, monkeypatch):
    settings = settings.model_copy(update={"telegram_token": SecretStr(TOKEN)})
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    noisy = ("httpx", "httpcore", "aiohttp", "telegram", "apscheduler", "aiosqlite", "sqlalchemy.engine")
    saved_levels = {name: logging.getLogger(name).level for name in noisy}
    out = io.StringIO()
    setup_logging("DEBUG", secrets=[TOKEN], stream=out)
    for name in noisy:  # everything, including what setup_logging quietens
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements and parameters
    bot = await BotHarness.start(lambda url: build_application(settings, base_url=url))
    try:
        await walk(bot, session, monkeypatch)
    finally:
        await bot.stop()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)

    log = out.getvalue()
    # The run was logged in depth: requests, updates, SQL, the handler's error with traceback.
    assert "getUpdates" in log and "INSERT INTO member" in log
    assert "error while handling an update" in log and "RuntimeError" in log
    assert "Traceback" in log
    # ... and what had to be hidden went through the filter.
    assert "****************" in log and "+62***" in log
    assert leaks(log) == [], [line for line in log.splitlines() if leaks(line)][:5]

    sent = [str(call.params) for call in bot.server.requests]
    assert any("3202********0011" in text for text in sent)  # shown, masked
    assert leaks("\n".join(sent)) == [], [text for text in sent if leaks(text)][:3]
    answers = [answer.text or "" for answer in bot.server.callback_answers()]
    assert leaks("\n".join(answers)) == []
