"""/kelompok for coordinators and admins: the groups of their area with each group's mentor,
most overdue first, searchable by name, 8 a page; a card and its Detail lead to the group's
status, and the area is checked again on every press. Through the real Application over
HTTP."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core.enums import GroupStatus, Role
from models.tables import Group, Mentor
from tests.conftest import ADMIN_ID, TODAY
from tests.factories import REGENCY_SUKABUMI, make_group, make_mentor

COORDINATOR = 701401
SITI = 701402
BUDI = 701403
FAR = 701404

VILLAGE_KALAPAREA = "32.02.12.2001"  # another district of Kab. Sukabumi
VILLAGE_MAKASSAR = "73.71.01.1001"


async def set_status(session, group: Group, status: GroupStatus) -> None:
    stored = (await session.execute(select(Group).where(Group.id == group.id))).scalar_one()
    stored.status = status
    session.add(stored)
    await session.commit()


async def seed(session) -> dict[str, Group]:
    """A regency coordinator; Siti (Cibadak) and Budi (another district of the regency) with
    their groups; a mentor in Makassar with a group named like one of Siti's."""
    await make_mentor(session, telegram_id=COORDINATOR, role=Role.COORDINATOR,
                      area_code=REGENCY_SUKABUMI, name="Kord Sukabumi")
    siti = await make_mentor(session, telegram_id=SITI, name="Siti Rahma")
    budi = await make_mentor(session, telegram_id=BUDI, name="Budi Hartono",
                             area_code="32.02.12")
    far = await make_mentor(session, telegram_id=FAR, name="Andi Makassar",
                            area_code="73.71.01")
    groups = {
        "mawar": await make_group(session, siti, name="KUBE Mawar", members=5,
                                  next_visit_due=TODAY - timedelta(days=12)),
        "melati": await make_group(session, siti, name="KUBE Melati", members=5,
                                   next_visit_due=TODAY + timedelta(days=9)),
        "anggrek": await make_group(session, budi, name="KUBE Anggrek", members=6,
                                    village_code=VILLAGE_KALAPAREA,
                                    next_visit_due=TODAY - timedelta(days=3)),
        # Long past its due date, but tidak aktif: not overdue, after the aktif ones.
        "putih": await make_group(session, budi, name="KUBE Mawar Putih", members=5,
                                  village_code=VILLAGE_KALAPAREA,
                                  next_visit_due=TODAY - timedelta(days=40)),
        "far": await make_group(session, far, name="KUBE Mawar Makassar", members=5,
                                village_code=VILLAGE_MAKASSAR,
                                next_visit_due=TODAY - timedelta(days=30)),
    }
    await set_status(session, groups["putih"], GroupStatus.INACTIVE)
    return groups


def numbered(text: str, names: list[str]) -> list[int]:
    return [text.index(f". {name} –") for name in names]


async def test_a_regency_coordinator_sees_the_groups_of_the_regencys_mentors(bot, session):
    groups = await seed(session)
    chat = bot.chat(COORDINATOR)
    await chat.send("/kelompok")
    text = chat.last_text()
    assert text.startswith("Kelompok di Kab. Sukabumi, Jawa Barat (4):")
    assert "Ketik /kelompok <nama> untuk mencari" in text
    # Most overdue first; the inactive group last, marked, and never overdue.
    order = numbered(text, ["KUBE Mawar", "KUBE Anggrek", "KUBE Melati",
                            "KUBE Mawar Putih (Tidak aktif)"])
    assert order == sorted(order)
    assert "terlambat 12 hari" in text and "terlambat 3 hari" in text
    assert "terlambat 40 hari" not in text
    assert text.count("Pendamping: Siti Rahma") == 2 and text.count("Pendamping: Budi Hartono") == 2
    assert "Anggrek – 6 KK" in text
    assert "Makassar" not in text and "Halaman" not in text
    assert chat.buttons() == ["1. KUBE Mawar", "2. KUBE Anggrek", "3. KUBE Melati",
                              "4. KUBE Mawar Putih"]

    # A group of another mentor: its card (no visit for the coordinator to log), its Detail
    # with the status button, and the status question.
    await chat.press("2. KUBE Anggrek")
    assert chat.last_text().startswith("KUBE Anggrek")
    assert chat.buttons() == ["📋 Detail", "👥 Anggota", "🕘 Riwayat", "« Daftar kelompok"]
    await chat.press("📋 Detail")
    detail = chat.last_text()
    assert "Anggota (6 KK)" in detail
    assert {"🚦 Status", "🌱 Tahap", "✏️ Ubah data"} <= set(chat.buttons())
    await chat.press("🚦 Status")
    assert "Status KUBE Anggrek sekarang: Aktif" in chat.last_text()
    await chat.send("/batal")

    # Back to the list from a card.
    await chat.press_data(f"kel:card:{groups['melati'].id}:0")
    await chat.press("« Daftar kelompok")
    assert chat.last_text().startswith("Kelompok di Kab. Sukabumi, Jawa Barat (4):")

    # Another regency's group, by forged buttons, is refused on the server side.
    for data in (f"kel:det:{groups['far'].id}", f"kel:card:{groups['far'].id}:0",
                 f"sts:start:{groups['far'].id}", "kel:det:999999"):
        await chat.press_data(data)
        assert chat.callback_answers()[-1].text.startswith("Kelompok tidak ditemukan"), data
    assert "Mawar Makassar" not in " ".join(chat.texts())


async def test_the_name_filter(bot, session):
    await seed(session)
    chat = bot.chat(COORDINATOR)
    await chat.send("/kelompok MAWAR")
    text = chat.last_text()
    assert text.startswith("Kelompok di Kab. Sukabumi, Jawa Barat (2):")
    assert 'Nama memuat "MAWAR"' in text
    assert "KUBE Mawar –" in text and "KUBE Mawar Putih (Tidak aktif)" in text
    assert "Melati" not in text and "Anggrek" not in text and "Makassar" not in text
    assert chat.buttons() == ["1. KUBE Mawar", "2. KUBE Mawar Putih"]

    await chat.send("/kelompok  mawar   putih ")
    assert chat.buttons() == ["1. KUBE Mawar Putih"]

    for typed in ("zzz", "100%", "_", "%", "\\", "makassar"):
        await chat.send(f"/kelompok {typed}")
        assert chat.last_text().startswith("Tidak ada kelompok yang namanya memuat"), typed
        assert "/kelompok mawar" in chat.last_text()

    # Just /kelompok again: everything.
    await chat.send("/kelompok")
    assert chat.last_text().startswith("Kelompok di Kab. Sukabumi, Jawa Barat (4):")
    assert "Nama memuat" not in chat.last_text()


async def test_paging_keeps_the_filter(bot, session):
    await seed(session)
    mentor = (await session.execute(select(Mentor).where(Mentor.telegram_id == BUDI))
              ).scalar_one()
    for no in range(1, 10):
        await make_group(session, mentor, name=f"KUBE Padi {no}", members=5,
                         village_code=VILLAGE_KALAPAREA,
                         next_visit_due=TODAY + timedelta(days=no))
    chat = bot.chat(COORDINATOR)
    await chat.send("/kelompok")
    text = chat.last_text()
    assert text.startswith("Kelompok di Kab. Sukabumi, Jawa Barat (13):")
    assert "Halaman 1 dari 2" in text and len(chat.buttons()) == 9
    assert chat.buttons()[-1] == "Berikutnya »"
    await chat.press("Berikutnya »")
    text = chat.last_text()
    # Mawar, Anggrek, Padi 1–8 (due in 1–8 days), Melati and Padi 9 (both in 9 days), Putih.
    assert "Halaman 2 dari 2" in text and "9. KUBE Padi 7 –" in text
    assert "13. KUBE Mawar Putih (Tidak aktif)" in text
    assert chat.buttons()[-1] == "« Sebelumnya"

    # With a filter, the page buttons keep it; a card's list button goes back to its page.
    await chat.send("/kelompok padi")
    text = chat.last_text()
    assert text.startswith("Kelompok di Kab. Sukabumi, Jawa Barat (9):")
    assert "Halaman 1 dari 2" in text
    await chat.press("Berikutnya »")
    text = chat.last_text()
    assert 'Nama memuat "padi"' in text and "Halaman 2 dari 2" in text
    assert chat.buttons() == ["9. KUBE Padi 9", "« Sebelumnya"]
    await chat.press("9. KUBE Padi 9")
    await chat.press("« Daftar kelompok")
    assert "Halaman 2 dari 2" in chat.last_text() and "9. KUBE Padi 9 –" in chat.last_text()
    # A page number from a forged or old button past the end shows the last page.
    await chat.press_data("kel:page:99")
    assert "Halaman 2 dari 2" in chat.last_text()


async def test_an_admin_sees_every_group(bot, session):
    await seed(session)
    chat = bot.chat(ADMIN_ID)
    await chat.send("/kelompok")
    text = chat.last_text()
    assert text.startswith("Kelompok di seluruh wilayah (5):")
    assert "KUBE Mawar Makassar" in text and "Pendamping: Andi Makassar" in text
    # Most overdue first across areas: Makassar (30 days) before Mawar (12).
    assert text.index("KUBE Mawar Makassar") < text.index("KUBE Mawar –")
    await chat.press("1. KUBE Mawar Makassar")
    await chat.press("📋 Detail")
    assert "🚦 Status" in chat.buttons()


async def test_a_mentors_list_is_unchanged(bot, session):
    await seed(session)
    chat = bot.chat(SITI)
    await chat.send("/kelompok anggrek")  # a mentor's list takes no filter
    text = chat.last_text()
    assert text.startswith("Kelompok dampingan Anda (2):")
    assert "Pendamping:" not in text and "Ketik /kelompok" not in text
    assert chat.buttons() == ["1. KUBE Mawar", "2. KUBE Melati"]
    await chat.press("1. KUBE Mawar")
    assert chat.buttons()[:2] == ["📋 Detail", "📝 Catat kunjungan"]


async def test_a_coordinator_with_no_groups_in_the_area(bot, session):
    await make_mentor(session, telegram_id=COORDINATOR, role=Role.COORDINATOR,
                      area_code=REGENCY_SUKABUMI)
    chat = bot.chat(COORDINATOR)
    await chat.send("/kelompok")
    assert chat.last_text() == "Belum ada kelompok di Kab. Sukabumi, Jawa Barat."
