"""/audit reads in plain words, in the reader's language and local time (WIB/WITA/WIT), with
no field names, Python values, NIK or phone numbers."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.core.enums import AuditAction, MentorStatus, Role
from models import audit
from models import broadcasts as broadcast_queries
from models import groups as group_queries
from models import mentors as mentor_queries
from models.tables import Member
from tests.conftest import ADMIN_ID
from tests.factories import REGENCY_SUKABUMI, make_group, make_mentor

MAKASSAR_ADMIN = 930001  # an admin whose area is Kota Makassar (73.71, WITA)


async def busy_day(bot, session):
    """An approval, a promotion, a group with a reassignment, an invite, a broadcast, an
    export, an import and an erasure: each kind of row /audit shows."""
    admin = bot.chat(ADMIN_ID, first_name="Admin")
    await admin.send("/bantuan")  # the admin's own record
    pending = await make_mentor(session, telegram_id=970001, name="Baru Datang",
                                status=MentorStatus.PENDING)
    await admin.press_data(f"appr:ok:{pending.id}")
    await session.refresh(pending)
    await mentor_queries.promote(session=session, telegram_id=970001, role=Role.COORDINATOR,
                                 area_code=REGENCY_SUKABUMI, actor_telegram_id=ADMIN_ID)
    first = await make_mentor(session, telegram_id=960001, name="Ani Pertama")
    second = await make_mentor(session, telegram_id=960002, name="Budi Kedua")
    group = await make_group(session, first, name="KUBE Melati")
    await mentor_queries.reassign_groups(session=session, source=first, target=second,
                                         actor_telegram_id=ADMIN_ID)
    await mentor_queries.create_invite(session=session, created_by=ADMIN_ID,
                                       area_code=REGENCY_SUKABUMI)
    me = await mentor_queries.get_by_telegram_id(session=session, telegram_id=ADMIN_ID)
    broadcast, _ = await broadcast_queries.create(
        session=session, actor=me, audience="semua", audience_code=None,
        text="Rapat besok, hubungi 081234567890", photo_file_id=None, document_file_id=None,
        to=[first, second])
    await broadcast_queries.finish_broadcast(
        session=session, broadcast_id=broadcast.id,
        counts=broadcast_queries.Tally(total=2, sent=1, blocked=1))
    await admin.send("/ekspor bulan ini")
    # An import's row, as models.exchange.import_rows records it.
    audit.record(session=session, actor_telegram_id=ADMIN_ID, action=AuditAction.CREATE,
                 entity="import", entity_id=None,
                 new={"groups": {"created": 1, "updated": 2,
                                                       "unchanged": 0},
                      "members": {"created": 7, "updated": 0, "unchanged": 3},
                      "taken": {"Kelompok": 3, "Anggota": 10}, "refused": 1})
    await session.commit()
    member = (await session.execute(select(Member).where(Member.group_id == group.id)
                                    .order_by(Member.id))).scalars().first()
    await group_queries.erase_member(session=session, member=member, actor=me,
                                     reason="permintaan")
    return group, member


def entries(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("• ")]


def assert_plain(text: str) -> None:
    assert "{" not in text and "}" not in text and "None" not in text, text
    assert "_" not in text, text  # no field names like area_code, mentor_id
    assert not re.search(r"\d{8,}", text), text  # no NIK, phone or other long number
    assert "Anggota 1" not in text  # no household's name


async def test_audit_reads_in_plain_indonesian(bot, session):
    _, member = await busy_day(bot, session)
    admin = bot.chat(ADMIN_ID)
    await admin.send("/audit")
    text = admin.last_text()
    lines = entries(text)
    assert_plain(text)
    # Tests live on 25 November 2026, 03:00 UTC: 10.00 in Jakarta (the admin has no area).
    assert all(line.startswith("• 25 Nov 2026 10.00 WIB – ") for line in lines), lines
    assert ("Admin: Pendamping Baru Datang diubah (Status: menunggu → aktif)") in text
    assert ("Admin: Pendamping Baru Datang diubah (Peran: pendamping → koordinator; "
            "Status: aktif; Wilayah: Kec. Cibadak, Kab. Sukabumi, Jawa Barat → "
            "Kab. Sukabumi, Jawa Barat)") in text
    assert ("Ani Pertama: Kelompok KUBE Melati dibuat (Desa/kelurahan: Desa Sekarwangi, Kec. Cibadak, "
            "Kab. Sukabumi; Tahap: Tumbuh)") in text
    assert ("Admin: Kelompok KUBE Melati diubah (Pendamping: Ani Pertama → Budi Kedua; "
            "Alasan: dialihkan ke pendamping lain)") in text
    assert ("Admin: Tautan undangan #1 dibuat (Peran: pendamping; Wilayah: Kab. Sukabumi, Jawa Barat; "
            "Batas pemakaian: 1; Berlaku sampai: 2 Des 2026 10.00 WIB)") in text
    assert ("Admin: Siaran #1 dibuat (Penerima: semua pendamping aktif; Wilayah penerima: -; "
            "Jumlah penerima: 2)") in text
    assert ("sistem: Siaran #1 diubah (Status: sedang dikirim → selesai; Terkirim: 1; "
            "Memblokir bot: 1; Gagal: 0)") in text
    assert ("Admin: Data seluruh Indonesia diekspor ke Excel (Periode: 2026-11; NIK dan HP "
            "disamarkan: tidak; Baris: Ringkasan 1, Kelompok 1, Anggota 7, Kunjungan 0, Pelatihan 0, "
            "Riwayat kelompok 0, Bantuan 0, Pengguliran 0, Pendamping ") in text
    assert ("Admin: Berkas Excel diimpor (Kelompok: baru 1, diubah 2, tetap 0; "
            "Anggota: baru 7, diubah 0, tetap 3; Baris ditolak: 1)") in text
    assert (f"Admin: Data pribadi anggota #{member.id} dihapus (Kelompok: KUBE Melati; "
            "Alasan: Permintaan keluarga; Dihapus: nama, NIK, nomor HP)") in text
    assert "081234567890" not in text and "Rapat besok" not in text


async def test_audit_times_are_in_the_readers_zone(bot, session):
    await make_mentor(session, telegram_id=MAKASSAR_ADMIN, name="Admin Makassar",
                      role=Role.ADMIN, area_code="73.71")
    await make_mentor(session, telegram_id=940001, name="Koor Papua",
                      role=Role.COORDINATOR, area_code="91.71")
    wita = bot.chat(MAKASSAR_ADMIN)
    await wita.send("/audit")
    lines = entries(wita.last_text())
    # 03:00 UTC is 11.00 in Makassar (WITA, UTC+8).
    assert lines and all(line.startswith("• 25 Nov 2026 11.00 WITA – ") for line in lines), lines
    assert "Pendamping Koor Papua dibuat (Peran: koordinator; Status: aktif; Wilayah: Kota " \
           "Jayapura, Papua)" in wita.last_text()
    wib = bot.chat(ADMIN_ID)
    await wib.send("/audit")
    assert entries(wib.last_text())[0].startswith("• 25 Nov 2026 10.00 WIB – ")


async def test_audit_in_english(bot, session):
    _, member = await busy_day(bot, session)
    admin = bot.chat(ADMIN_ID)
    await admin.send("/bahasa")
    await admin.press("English")
    await admin.send("/audit")
    text = admin.last_text()
    assert_plain(text)
    assert text.startswith("🧾 Latest audit trail:")
    assert "• 25 Nov 2026 10:00 WIB – Admin: " in text
    assert "Admin: Mentor Baru Datang changed (Status: pending → active)" in text
    assert "Admin: Group KUBE Melati changed (Mentor: Ani Pertama → Budi Kedua; " \
           "Reason: handed to another mentor)" in text
    assert "system: Broadcast #1 changed (Status: sending → done; Sent: 1; " \
           "Blocked the bot: 1; Failed: 0)" in text
    assert "Admin: Data of all of Indonesia exported to Excel" in text
    assert "Rows: Summary 1, Groups 1, Members 7, Visits 0, Trainings 0, Group history 0" in text
    assert f"Admin: Personal data of member #{member.id} erased (Group: KUBE Melati; " in text
    for word in ("dibuat", "diubah", "Kelompok", "Pendamping", "Peran"):
        assert word not in text, word


async def test_grants_and_roll_overs_are_on_the_trail(bot, session):
    from datetime import date

    from models import grants as grant_queries
    from tests.factories import make_grant

    mentor = await make_mentor(session, telegram_id=960101, name="Ani Pertama")
    group = await make_group(session, mentor, name="KUBE Melati")
    grant = await make_grant(session, group, mentor)
    await grant_queries.create_rollover(
        session=session, grant=grant, group=group, mentor=mentor, today=date(2026, 11, 25),
        fields={"rolled_on": date(2026, 11, 20), "recipient_kind": "kk",
                "recipient_name": "Sari Wulandari", "village_code": None,
                "amount": 2_000_000, "units": None, "note": "HP 081298765432"})
    admin = bot.chat(ADMIN_ID, first_name="Admin")
    await admin.send("/audit")
    text = admin.last_text()
    assert_plain(text)
    assert ("Ani Pertama: Bantuan #1 dibuat (Kelompok: KUBE Melati; "
            "Jenis: bantuan UEP Kemensos; "
            "Nilai: Rp 20.000.000; Wajib digulirkan: Rp 10.000.000; Diterima: 17 Agu 2026)") \
        in text
    assert ("Ani Pertama: Guliran #1 dibuat (Bantuan: #1; Nilai: Rp 2.000.000; "
            "Tanggal gulir: 20 Nov 2026)") in text
