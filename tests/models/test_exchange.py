"""Excel exchange: the export workbook, the template, and importing a filled template."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.core.enums import Role
from bot.core.places import default_index
from handlers import exchange_words
from models import exchange
from models import groups as group_queries
from models.tables import (
    AuditLog,
    Grant,
    Group,
    GroupChange,
    Member,
    Mentor,
    Rollover,
    Visit,
)
from tests.conftest import NOW, TODAY
from tests.factories import make_group, make_mentor
from tests.models.test_reports import REGENCY, seed_area

NIK = "3202114507800001"
PHONE = "+6281298765432"


async def add_personal_data(session, group: Group, mentor: Mentor) -> Member:
    return await group_queries.add_member(
        session=session, group=group, actor=mentor, joined_on=TODAY,
        data={"name": "Sri Wahyuni", "welfare_category": "hampir_miskin", "role": "anggota",
              "nik": NIK, "phone": PHONE}, consented=True)


async def export(session, area: str | None, *, masked: bool):
    content, counts = await exchange.export_workbook(
        session=session, area_code=area, places=default_index(), masked=masked, now=NOW,
        min_size=5, max_size=10)
    return load_workbook(io.BytesIO(content)), counts


async def count(session, query) -> int:
    return int((await session.execute(query)).scalar_one())


def column(ws, header: str) -> list:
    headers = [cell.value for cell in ws[1]]
    at = headers.index(header)
    return [row[at] for row in ws.iter_rows(min_row=2, values_only=True)]


async def test_export_has_the_areas_rows_typed_and_masked(session):
    area = await seed_area(session)
    await add_personal_data(session, area.groups[1], area.mentors["ani"])
    book, counts = await export(session, REGENCY, masked=True)
    # Without a period: every dated row, and no Ringkasan (it is a period's).
    assert book.sheetnames == [name for name in exchange.EXPORT_SHEETS if name != "Ringkasan"]

    in_area = Group.village_code.like(REGENCY + ".%")
    expected = {
        "Kelompok": await count(session, select(func.count()).select_from(Group)
                                .where(in_area)),
        "Anggota": await count(session, select(func.count()).select_from(Member)
                               .join(Group, Group.id == Member.group_id).where(in_area)),
        "Kunjungan": await count(session, select(func.count()).select_from(Visit)
                                 .join(Group, Group.id == Visit.group_id).where(in_area)),
        "Bantuan": await count(session, select(func.count()).select_from(Grant)
                               .join(Group, Group.id == Grant.group_id).where(in_area)),
        "Pengguliran": await count(session, select(func.count()).select_from(Rollover)
                                   .join(Grant, Grant.id == Rollover.grant_id)
                                   .join(Group, Group.id == Grant.group_id).where(in_area)),
        "Pendamping": 3,  # Ani, Budi, Cici; not Dedi (Cianjur), not the staff
        "Pelatihan": 0,
        "Riwayat Kelompok": await count(session, select(func.count()).select_from(GroupChange)
                                        .join(Group, Group.id == GroupChange.group_id)
                                        .where(in_area)),
    }
    assert counts == expected
    assert expected["Kelompok"] == 13 and expected["Kunjungan"] == 3
    for name, rows in expected.items():
        ws = book[name]
        assert ws.max_row == rows + 1, name
        assert ws.freeze_panes == "A2"
        assert all(cell.font.b for cell in ws[1])

    groups = book["Kelompok"]
    assert "KUBE Cianjur" not in column(groups, "Nama kelompok")
    assert set(column(groups, "Kode kab/kota")) == {"32.02"}
    assert set(column(groups, "Kabupaten/Kota")) == {"Kabupaten Sukabumi"}
    assert set(column(groups, "Kecamatan")) == {"Cibadak", "Nagrak"}
    assert "Sekarwangi" in column(groups, "Desa/Kelurahan")
    formed = groups.cell(row=2, column=[c.value for c in groups[1]].index("Tanggal terbentuk") + 1)
    assert isinstance(formed.value, datetime) and formed.is_date
    assert set(column(groups, "Tahap")) == {"Tumbuh", "Berkembang", "Maju/Mandiri"}
    assert sorted(column(groups, "Terlambat (hari)")).count(4) == 3

    members = book["Anggota"]
    niks = [nik for nik in column(members, "NIK") if nik]
    assert niks == ["3202********0001"]
    assert [p for p in column(members, "No. HP") if p] == ["+62 812****5432"]
    assert sum(1 for left in column(members, "Tanggal keluar") if left) == 3

    grants = book["Bantuan"]
    values = [c.value for c in grants[1]]
    amount = grants.cell(row=2, column=values.index("Nilai") + 1)
    assert amount.value == 20_000_000 and "Rp" in amount.number_format
    assert sorted(column(grants, "Status gulir")) == ["belum", "sebagian", "selesai",
                                                      "terlambat"]
    mentors = book["Pendamping"]
    assert column(mentors, "Nama") == ["Ani Lestari", "Budi Santoso", "Cici Paramida"]
    assert column(mentors, "Kelompok") == [7, 4, 2]
    assert column(mentors, "Peran") == ["pendamping"] * 3  # in Indonesian, like the rest
    assert all("*" in phone for phone in column(mentors, "No. HP"))

    full, _ = await export(session, REGENCY, masked=False)
    assert [nik for nik in column(full["Anggota"], "NIK") if nik] == [NIK]
    assert PHONE in column(full["Anggota"], "No. HP")


async def test_export_of_the_whole_country_and_formula_like_names(session):
    mentor = await make_mentor(session)
    await make_group(session, mentor, name="=HYPERLINK(\"http://x\")")
    book, counts = await export(session, None, masked=True)
    assert counts["Kelompok"] == 1 and counts["Pendamping"] == 1
    cell = book["Kelompok"]["B2"]
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"


def test_template_has_the_sheets_headers_and_a_guide():
    book = load_workbook(io.BytesIO(exchange.template_workbook(example_village="32.02.12.2001")))
    assert book.sheetnames == ["Kelompok", "Anggota", "Bantuan", "Petunjuk"]
    assert [c.value for c in book["Kelompok"][1]][:3] == ["Kode desa*", "Nama kelompok*",
                                                          "Jenis usaha*"]
    assert book["Kelompok"].max_row == 1 and book["Anggota"].max_row == 1
    assert book["Kelompok"].freeze_panes == "A2"
    guide = [cell for row in book["Petunjuk"].iter_rows(values_only=True) for cell in row if cell]
    assert "32.02.12.2001" in guide and "Contoh baris lembar Kelompok:" in guide
    assert any("NIK" == value for value in guide)
    raw = exchange.read_workbook(exchange.template_workbook())
    assert raw.groups == [] and raw.members == [] and raw.grants == []
    assert [c.value for c in book["Bantuan"][1]] == [
        "Kode desa*", "Nama kelompok*", "Jenis bantuan*", "Sumber dana*", "Bentuk*", "Nilai",
        "Barang", "Tanggal diterima*", "Wajib digulirkan?", "Wajib gulir (Rp)",
        "Wajib gulir (unit)", "Satuan", "Wajib gulir (KK/kelompok)", "Jatuh tempo gulir",
        "Tanggal LPJ"]
    lists = [v.formula1 for v in book["Bantuan"].data_validations.dataValidation]
    assert '"Bantuan UEP Kemensos,Bantuan daerah (APBD),BLPS (program lama),CSR/lainnya"' \
        in lists and '"ya,tidak"' in lists


# --- import --------------------------------------------------------------------------------------

GROUP_HEADERS = ["Kode desa*", "Nama kelompok*", "Jenis usaha*", "Tahap*", "Tanggal terbentuk*",
                 "Ikatan pemersatu", "Interval kunjungan (hari)", "Pendamping*"]
MEMBER_HEADERS = ["Kode desa*", "Nama kelompok*", "Nama KK*", "Kategori*", "Peran", "NIK",
                  "No. HP", "Tanggal bergabung", "Tanggal keluar"]


def workbook(groups: list[list], members: list[list], grants: list[list] = ()) -> bytes:
    """A filled template, built from the real one."""
    book = load_workbook(io.BytesIO(exchange.template_workbook()))
    for row in groups:
        book["Kelompok"].append(row)
    for row in members:
        book["Anggota"].append(row)
    for row in grants:
        book["Bantuan"].append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def officers(village: str, group: str, names: list[str], roles: list[str]) -> list[list]:
    return [[village, group, name, "miskin", role] for name, role in zip(names, roles,
                                                                           strict=True)]


def filled_template(ani: Mentor) -> bytes:
    """Good groups, and rows with every kind of mistake (row numbers as in the sheet)."""
    roles6 = ["ketua", "sekretaris", "bendahara", "anggota", "anggota", "anggota"]
    groups = [
        ["32.02.11.2002", "KUBE Melati", "Ternak", "Tumbuh", "12/03/2026",
         "Kedekatan tempat tinggal, motivasi", 30, ani.telegram_id],            # 2 ok
        ["32.02.12.2001", "KUBE Anggrek", "Dagang/warung", "berkembang",
         datetime(2025, 6, 1), None, None, "budi santoso"],                     # 3 ok
        ["32.02.11.9999", "KUBE Hantu", "Ternak", "Tumbuh", "01/01/2026", None, None,
         "Ani Lestari"],                                                         # 4 unknown village
        ["32.03.01.1006", "KUBE Cianjur Baru", "Ternak", "Tumbuh", "01/01/2026", None, None,
         "Ani Lestari"],                                                         # 5 outside
        ["32.02.11.2003", "KUBE Dua Ketua", "Jasa", "Tumbuh", "01/01/2026", None, None,
         "Ani Lestari"],                                                         # 6 two ketua
        ["32.02.11.2004", "KUBE Tanpa Pendamping", "Ternak", "Tumbuh", "01/01/2026", None,
         None, "Joko Tidak Ada"],                                                # 7 mentor
        ["32.02.11.2005", "KUBE Dewasa", "Ternak", "dewasa", "01/01/2026", None, None,
         "Ani Lestari"],                                                         # 8 stage
    ]
    melati = officers("32.02.11.2002", "KUBE Melati",
                      ["Siti Aminah", "Budi Hartono", "Rina Wati", "Joko Susilo", "Dewi Sartika",
                       "Agus Salim"], roles6)
    melati[0] += [NIK, "0812-9876-5432", "01/04/2026", None, "ya"]
    anggrek = officers("32.02.12.2001", "kube anggrek",
                       ["Tuti", "Wawan", "Yani", "Zaenal", "Ujang"], roles6[:5])
    two_chairs = officers("32.02.11.2003", "KUBE Dua Ketua",
                          ["Asep", "Bambang", "Cucu", "Dadang", "Euis", "Fajar"],
                          ["ketua", "ketua", "sekretaris", "bendahara", "anggota", "anggota"])
    members = [
        *melati,                                                                 # 2-7
        ["32.02.11.2002", "KUBE Melati", "Nani Bad", "miskin", "anggota", "1234"],  # 8 bad NIK
        *anggrek,                                                                # 9-13
        *two_chairs,                                                             # 14-19
        ["32.02.11.9999", "KUBE Hantu", "Hana", "miskin"],                       # 20 village
        ["32.02.11.2002", "KUBE Tidak Ada", "Ika", "miskin"],                    # 21 group
        ["32.02.11.2005", "KUBE Dewasa", "Jaja", "kaya"],                        # 22 category
    ]
    return workbook(groups, members)


async def run_import(session, actor: Mentor, content: bytes) -> exchange.ImportReport:
    return await exchange.import_rows(
        session=session, actor=actor, raw=exchange.read_workbook(content),
        places=default_index(), now=NOW, min_size=5, max_size=10, default_interval=30)


def reasons(report: exchange.ImportReport) -> dict[tuple[str, int], list[str]]:
    return {(r.sheet, r.row): [reason.code for reason in r.reasons]
            for r in report.sorted_refusals()}


async def test_import_takes_good_rows_refuses_bad_ones_and_updates_on_second_run(session):
    area = await seed_area(session)
    ani, budi = area.mentors["ani"], area.mentors["budi"]
    groups_before = await count(session, select(func.count()).select_from(Group))
    content = filled_template(ani)

    report = await run_import(session, area.coordinator, content)
    assert report.groups == {"created": 2}
    assert report.members == {"created": 11}
    assert report.taken == {"Kelompok": [2, 3], "Anggota": [2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13],
                            "Bantuan": []}
    found = reasons(report)
    assert found[("Kelompok", 4)] == ["village_unknown"]
    assert found[("Kelompok", 5)] == ["village_outside"]
    assert found[("Kelompok", 6)] == ["problem_duplicate_ketua"]
    assert found[("Kelompok", 7)] == ["mentor_unknown"]
    assert found[("Kelompok", 8)] == ["stage"]
    assert found[("Anggota", 8)] == ["nik"]
    assert all(found[("Anggota", row)] == ["problem_duplicate_ketua"] for row in range(14, 20))
    assert found[("Anggota", 20)] == ["village_unknown"]
    assert found[("Anggota", 21)] == ["group_unknown"]
    assert found[("Anggota", 22)] == ["member_category"]
    assert len(found) == 5 + 1 + 6 + 3

    melati = (await session.execute(select(Group).where(Group.name == "KUBE Melati"))
              ).scalar_one()
    assert (melati.village_code, melati.business_type, melati.stage, melati.mentor_id) == (
        "32.02.11.2002", "ternak", "tumbuh", ani.id)
    assert melati.binding_ties == ["kedekatan", "motivasi"]
    assert melati.formed_on == date(2026, 3, 12) and melati.next_visit_due == date(2026, 12, 25)
    anggrek = (await session.execute(select(Group).where(Group.name == "KUBE Anggrek"))
               ).scalar_one()
    assert (anggrek.business_type, anggrek.stage, anggrek.mentor_id) == (
        "dagang", "berkembang", budi.id)
    chair = (await session.execute(select(Member).where(Member.name == "Siti Aminah",
                                                        Member.group_id == melati.id))
             ).scalar_one()
    assert (chair.role, chair.nik, chair.phone, chair.joined_on) == (
        "ketua", NIK, "+6281298765432", date(2026, 4, 1))
    assert await count(session, select(func.count()).select_from(Group)) == groups_before + 2

    again = await run_import(session, area.coordinator, content)
    assert again.groups == {"unchanged": 2} and again.members == {"unchanged": 11}
    assert reasons(again) == found
    assert await count(session, select(func.count()).select_from(Group)) == groups_before + 2
    assert await count(session, select(func.count()).select_from(Member)
                       .where(Member.group_id.in_([melati.id, anggrek.id]))) == 11

    audits = list((await session.execute(
        select(AuditLog).where(AuditLog.entity == "import").order_by(AuditLog.id))).scalars())
    assert [a.new["groups"] for a in audits] == [{"created": 2}, {"unchanged": 2}]
    assert audits[0].actor_telegram_id == area.coordinator.telegram_id


async def test_import_updates_fields_and_households(session):
    area = await seed_area(session)
    ani = area.mentors["ani"]
    await run_import(session, area.coordinator, filled_template(ani))
    changed = workbook(
        [["32.02.11.2002", "kube melati", "ternak", "Mandiri", None, None, 14, None]],
        [["32.02.11.2002", "KUBE Melati", "siti aminah", "fakir miskin"],
         ["32.02.11.2002", "KUBE Melati", "Agus Salim", None, None, None, None, None,
          "20/11/2026"],
         ["32.02.11.2002", "KUBE Melati", "Wati Baru", "miskin"]])
    report = await run_import(session, area.coordinator, changed)
    assert report.refused == []
    assert report.groups == {"updated": 1}
    assert report.members == {"updated": 2, "created": 1}
    melati = (await session.execute(select(Group).where(Group.name == "KUBE Melati"))
              ).scalar_one()
    await session.refresh(melati)
    assert (melati.stage, melati.visit_interval_days, melati.business_type) == (
        "mandiri", 14, "ternak")
    assert melati.next_visit_due == TODAY + timedelta(days=14)
    members = {m.name: m for m in (await session.execute(
        select(Member).where(Member.group_id == melati.id))).scalars()}
    for member in members.values():
        await session.refresh(member)
    assert members["Siti Aminah"].welfare_category == "fakir_miskin"
    assert members["Siti Aminah"].role == "ketua" and members["Siti Aminah"].nik == NIK
    assert members["Agus Salim"].left_on == date(2026, 11, 20)
    assert "Wati Baru" in members
    # The households that formed the group joined when it was formed (unless the row says
    # otherwise); one added to it later joins on the day of the import.
    assert {name: members[name].joined_on for name in ("Agus Salim", "Siti Aminah",
                                                       "Wati Baru")} == {
        "Agus Salim": date(2026, 3, 12), "Siti Aminah": date(2026, 4, 1), "Wati Baru": TODAY}


async def test_import_refuses_a_group_left_too_small(session):
    area = await seed_area(session)
    await run_import(session, area.coordinator, filled_template(area.mentors["ani"]))
    leaving = workbook([], [["32.02.12.2001", "KUBE Anggrek", "Ujang", None, None, None, None,
                             None, TODAY]])
    report = await run_import(session, area.coordinator, leaving)
    assert reasons(report) == {("Anggota", 2): ["problem_too_few"]}
    assert report.members == {}


async def test_import_by_an_admin_allows_any_area_and_by_a_mentor_never(session):
    area = await seed_area(session)
    dedi = area.mentors["dedi"]
    content = workbook(
        [["32.03.01.1006", "KUBE Cianjur Baru", "Ternak", "Tumbuh", "01/01/2026", None, None,
          dedi.telegram_id]],
        officers("32.03.01.1006", "KUBE Cianjur Baru", ["Asep", "Bambang", "Cucu", "Dadang",
                                                        "Euis"],
                 ["ketua", "sekretaris", "bendahara", "anggota", "anggota"]))
    refused = await run_import(session, area.coordinator, content)
    assert reasons(refused)[("Kelompok", 2)] == ["village_outside", "mentor_unknown"]
    report = await run_import(session, area.admin, content)
    assert report.refused == [] and report.groups == {"created": 1}
    from models.reports import NotAllowed

    with pytest.raises(NotAllowed):
        await run_import(session, area.mentors["ani"], content)


async def test_export_imports_back_unchanged(session):
    coordinator = await make_mentor(session, name="Koor", area_code=REGENCY,
                                    role=Role.COORDINATOR)
    mentor = await make_mentor(session, name="Ani Lestari", area_code="32.02.11")
    group = await make_group(session, mentor, name="KUBE Mawar")
    await make_group(session, mentor, name="KUBE Melati", village_code="32.02.11.2003")
    await add_personal_data(session, group, mentor)
    for masked in (True, False):
        content, _ = await exchange.export_workbook(
            session=session, area_code=REGENCY, places=default_index(), masked=masked,
            now=NOW, min_size=5, max_size=10)
        report = await run_import(session, coordinator, content)
        assert report.refused == []
        assert report.groups == {"unchanged": 2} and report.members == {"unchanged": 15}
    [member] = await group_queries.find_by_nik(session=session, nik=NIK)
    assert member.phone == PHONE


def test_unusable_files_are_refused_whole():
    with pytest.raises(exchange.ImportFileError) as error:
        exchange.read_workbook(b"PK\x03\x04 not really a zip")
    assert error.value.code == "unreadable"
    book = Workbook()
    book.active.title = "Data"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(exchange.ImportFileError) as error:
        exchange.read_workbook(buffer.getvalue())
    assert error.value.code == "no_sheets"
    book.active.title = "Kelompok"
    book.active.append(["Nama kelompok", "Tahap"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(exchange.ImportFileError) as error:
        exchange.read_workbook(buffer.getvalue())
    assert (error.value.code, error.value.params) == (
        "missing_column", {"sheet": "Kelompok", "column": "Kode desa"})


async def test_a_new_group_needs_its_households(session):
    area = await seed_area(session)
    content = workbook([["32.02.11.2002", "KUBE Sepi", "Ternak", "Tumbuh", "01/01/2026", None,
                         None, "Ani Lestari"]], [])
    report = await run_import(session, area.coordinator, content)
    assert reasons(report) == {("Kelompok", 2): ["no_members"]}
    assert exchange_words.refusal_lines(report, "id") == [
        ("• Kelompok baris 2: kelompok baru tanpa anggota: isi minimal 5 KK-nya di lembar "
         "Anggota")]


async def test_import_keeps_new_nik_and_phone_only_with_consent(session):
    area = await seed_area(session)
    await run_import(session, area.coordinator, filled_template(area.mentors["ani"]))
    content = workbook([], [
        ["32.02.11.2002", "KUBE Melati", "Budi Hartono", None, None, "3202114507800002",
         "0812-1111-2222", None, None, "ya"],                                   # 2 agreed
        ["32.02.11.2002", "KUBE Melati", "Rina Wati", None, None, "3202114507800003",
         "0812-3333-4444"],                                                     # 3 no answer
        ["32.02.11.2002", "KUBE Melati", "Joko Susilo", None, None, None, "0812-5555-6666",
         None, None, "tidak"],                                                  # 4 refused
        ["32.02.11.2002", "KUBE Melati", "Siti Aminah", None, None, NIK],      # 5 known NIK
    ])
    report = await run_import(session, area.coordinator, content)
    assert report.refused == [] and report.without_consent == [3, 4]
    assert report.members == {"updated": 1, "unchanged": 3}
    members = {m.name: m for m in await group_queries.find_by_nik(
        session=session, nik="3202114507800002")}
    budi = members["Budi Hartono"]
    assert (budi.phone, budi.consent_by) == ("+6281211112222", area.coordinator.id)
    assert budi.consent_at == NOW
    assert await group_queries.find_by_nik(session=session, nik="3202114507800003") == []
    rina = (await session.execute(select(Member).where(Member.name == "Rina Wati"))).scalar_one()
    assert (rina.phone, rina.consent_at) == (None, None)
    text = exchange_words.report_text(report, "id", "kube.xlsx")
    assert "Anggota baris 3–4: NIK/nomor HP baru tidak disimpan" in text
    assert "Setuju NIK/HP dicatat" in text

    book, _ = await export(session, REGENCY, masked=True)
    consent = dict(zip(column(book["Anggota"], "Nama KK"),
                       column(book["Anggota"], "Setuju NIK/HP dicatat"), strict=True))
    assert consent["Budi Hartono"] == "ya" and consent["Rina Wati"] is None
    assert consent["Siti Aminah"] == "ya"  # imported with "ya" by filled_template


async def test_rows_refused_with_the_number_of_another_row_are_reported(session):
    """A group named twice, a household named twice and the households of a refused group:
    their reasons carry the other row's number (this once raised a TypeError)."""
    area = await seed_area(session)
    twin = ["32.02.11.2002", "KUBE Kembar", "Ternak", "Tumbuh", "01/01/2026", None, None,
            "Joko Tidak Ada"]
    content = workbook([twin, [*twin[:7], None]], [
        ["32.02.11.2002", "KUBE Kembar", "Siti Aminah", "miskin", "ketua"],
        ["32.02.11.2002", "KUBE Kembar", "siti aminah", "miskin"]])
    report = await run_import(session, area.coordinator, content)
    assert reasons(report) == {
        ("Kelompok", 2): ["mentor_unknown"], ("Kelompok", 3): ["duplicate_group"],
        ("Anggota", 2): ["group_refused"], ("Anggota", 3): ["duplicate_member"]}
    assert exchange_words.refusal_lines(report, "id")[1:] == [
        "• Kelompok baris 3: kelompok yang sama sudah ada di baris 2",
        "• Anggota baris 2: kelompoknya ditolak (lembar Kelompok baris 2)",
        "• Anggota baris 3: KK yang sama sudah ada di baris 2",
    ]


# --- the period's workbook: new sheets, columns, print setup ----------------------------------

async def period_export(session, area: str | None, period) -> tuple:
    content, counts = await exchange.export_workbook(
        session=session, area_code=area, places=default_index(), masked=True, now=NOW,
        min_size=5, max_size=10, period=period, area_label="Kab. Sukabumi, Jawa Barat")
    return load_workbook(io.BytesIO(content)), counts


async def test_period_workbook_sheets_columns_and_rows(session):
    from bot.core.periods import Period
    from tests.models.test_reports import seed_outcomes

    area = await seed_area(session)
    await seed_outcomes(session, area)
    group = area.groups[0]
    group.bank_name, group.bank_holder, group.bank_account = "BRI", "KUBE Melati", "0123456789012"
    group.decree_year, group.decree_number = 2026, "460/Kep.12-Dinsos/2026"
    session.add(group)
    member = (await session.execute(select(Member).where(Member.group_id == group.id)
                                    .order_by(Member.id))).scalars().first()
    member.head_sex, member.register_status, member.register_decile = "p", "ya", 2
    session.add(member)
    await session.commit()

    book, counts = await period_export(session, REGENCY, Period.quarter(2026, 4))
    assert book.sheetnames == list(exchange.EXPORT_SHEETS)
    assert book.sheetnames[:1] == ["Ringkasan"]
    # Dated rows are the period's; groups, households, grants as of now.
    assert counts["Kunjungan"] == 3 and counts["Pelatihan"] == 3
    assert counts["Kelompok"] == 13 and counts["Bantuan"] == 4
    october = (await period_export(session, REGENCY, Period.month(2026, 10)))[1]
    assert october["Kunjungan"] == 1 and october["Pelatihan"] == 1 and october["Kelompok"] == 13

    groups = book["Kelompok"]
    at = column(groups, "Nama kelompok").index(group.name)
    assert column(groups, "No. rekening")[at] == "*********9012"
    assert column(groups, "Bank")[at] == "BRI" and column(groups, "Tahun SK")[at] == 2026
    assert sorted(column(groups, "Status")) == ["aktif"] * 11 + ["bubar", "tidak aktif"]
    members = book["Anggota"]
    assert "P" in column(members, "Jenis kelamin KK") and 2 in column(members, "Desil")
    assert sorted(r for r in column(members, "Alasan keluar") if r)[:1] == ["graduasi"]

    history = book["Riwayat Kelompok"]
    kinds = list(zip(column(history, "Jenis perubahan"), column(history, "Lama"),
                     column(history, "Baru"), strict=True))
    assert ("status", "aktif", "tidak aktif") in kinds and ("tahap", "Tumbuh", "Berkembang") in kinds
    assert all(day.date() >= date(2026, 10, 1) for day in column(history, "Tanggal"))
    assert "Ani Lestari" in column(history, "Oleh")

    trainings = book["Pelatihan"]
    assert sorted(column(trainings, "KK hadir")) == [2, 2, 3]
    assert "Anggota 1" in column(trainings, "Nama KK hadir")[0]

    grants = book["Bantuan"]
    assert sorted(column(grants, "Status LPJ")) == ["belum", "belum", "belum", "sudah"]
    assert set(column(grants, "Wajib digulirkan?")) == {"ya"}
    assert column(grants, "Tenggat LPJ")[0] is not None

    visits = book["Kunjungan"]
    for header in ("Angka usaha sejak", "Ternak (ekor)", "Nilai peralatan", "Nilai stok"):
        assert header in [c.value for c in visits[1]]

    for ws in book.worksheets[1:]:
        headers = [c.value for c in ws[1]]
        assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=len(headers)).column_letter}" \
            f"{ws.max_row}", ws.title
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"
        for index, header in enumerate(headers, start=1):
            width = ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width
            longest_word = max(len(word) for word in header.split())
            assert width >= longest_word + 2, (ws.title, header, width)


async def test_ringkasan_is_a_titled_one_page_table_per_kecamatan(session):
    from bot.core.periods import Period
    from tests.models.test_reports import seed_outcomes

    area = await seed_area(session)
    await seed_outcomes(session, area)
    book, counts = await period_export(session, REGENCY, Period.quarter(2026, 4))
    ws = book["Ringkasan"]
    assert counts["Ringkasan"] == 2
    assert ws["A1"].value == "Rekap KUBE Kab. Sukabumi, Jawa Barat, Triwulan IV 2026 (Okt–Des)"
    assert ws["A1"].font.b
    headers = [c.value for c in ws[4]]
    assert headers[:6] == ["Kode kecamatan", "Kecamatan", "Kelompok", "Aktif", "Tidak aktif",
                           "Bubar"]
    rows = [list(row) for row in ws.iter_rows(min_row=5, values_only=True)]
    by_name = {row[1]: dict(zip(headers, row, strict=True)) for row in rows}
    assert set(by_name) == {"Cibadak", "Nagrak", "Jumlah"}
    assert by_name["Cibadak"]["Omzet"] == 8_000_000 and by_name["Nagrak"]["Bubar"] == 1
    assert by_name["Jumlah"]["Kelompok"] == 13 and by_name["Jumlah"]["KK dilatih"] == 6
    assert by_name["Jumlah"]["Bantuan tanpa LPJ"] == 3
    assert ws.cell(row=7, column=1).font.b or ws.cell(row=7, column=2).font.b
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$4:$4" and ws.auto_filter.ref == "A4:U6"
    assert ws.column_dimensions["B"].width >= len("Kecamatan") + 2


async def test_old_template_without_the_new_columns_still_imports(session):
    """A template filled before the households' programme fields (no sex, DTKS, decile
    columns), built the old way: its headers only."""
    coordinator = await make_mentor(session, name="Koor", area_code=REGENCY,
                                    role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari", area_code="32.02.11")
    old = Workbook()
    groups = old.active
    groups.title = "Kelompok"
    groups.append(GROUP_HEADERS)
    groups.append(["32.02.11.2002", "KUBE Lama", "Ternak", "Tumbuh", "12/03/2026", None, 30,
                   ani.telegram_id])
    members = old.create_sheet("Anggota")
    members.append(MEMBER_HEADERS)
    for row in officers("32.02.11.2002", "KUBE Lama", ["Siti", "Budi", "Rina", "Joko", "Dewi"],
                        ["ketua", "sekretaris", "bendahara", "anggota", "anggota"]):
        members.append(row)
    # The Bantuan sheet as an export wrote it before 0007: "hibah", kind "Bantuan stimulan".
    grants = old.create_sheet("Bantuan")
    grants.append(["ID hibah", "ID kelompok", "Nama kelompok", "Kode desa", "Desa/Kelurahan",
                   "Jenis hibah", "Sumber dana", "Bentuk", "Nilai", "Barang",
                   "Tanggal diterima", "Wajib gulir (Rp)", "Wajib gulir (unit)", "Satuan",
                   "Wajib gulir (KK/kelompok)", "Jatuh tempo gulir", "Sudah digulirkan (Rp)",
                   "Status gulir"])
    grants.append([7, 3, "KUBE Lama", "32.02.11.2002", "Sekarwangi", "Bantuan stimulan",
                   "APBD kabupaten", "Tunai", 15_000_000, None, datetime(2026, 6, 1),
                   5_000_000, None, None, None, datetime(2027, 6, 1), 0, "belum"])
    buffer = io.BytesIO()
    old.save(buffer)
    report = await run_import(session, coordinator, buffer.getvalue())
    assert report.refused == [] and report.groups == {"created": 1}
    assert report.members == {"created": 5} and report.grants == {"created": 1}
    grant = (await session.execute(select(Grant))).scalar_one()
    assert (grant.kind, grant.rollover_required, grant.rollover_amount) == ("daerah", True,
                                                                           5_000_000)
    assert grant.lpj_due == date(2026, 9, 1) and grant.lpj_submitted_on is None
    stored = (await session.execute(select(Member).where(Member.name == "Siti"))).scalar_one()
    assert (stored.head_sex, stored.register_status, stored.register_decile) == (None, None,
                                                                                  None)


async def test_template_carries_the_households_programme_fields(session):
    coordinator = await make_mentor(session, name="Koor", area_code=REGENCY,
                                    role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari", area_code="32.02.11")
    book = load_workbook(io.BytesIO(exchange.template_workbook()))
    headers = [c.value for c in book["Anggota"][1]]
    assert headers[-3:] == ["Jenis kelamin KK", "Terdaftar DTKS/DTSEN", "Desil"]
    lists = [v.formula1 for v in book["Anggota"].data_validations.dataValidation]
    assert '"L,P"' in lists and '"ya,tidak,tidak tahu"' in lists
    groups = [["32.02.11.2002", "KUBE Baru", "Ternak", "Tumbuh", "12/03/2026", None, 30,
               ani.telegram_id]]
    names = ["Siti", "Budi", "Rina", "Joko", "Dewi"]
    rows = officers("32.02.11.2002", "KUBE Baru", names,
                    ["ketua", "sekretaris", "bendahara", "anggota", "anggota"])
    extra = [["P", "ya", 2], ["laki-laki", "tidak", None], ["p", "tidak tahu", "desil 3"],
             [None, None, None], ["L", "Y", 10]]
    filled = [row + [None] * 5 + more for row, more in zip(rows, extra, strict=True)]
    wrong = [["32.02.11.2002", "KUBE Baru", "Eko", "miskin", "anggota", None, None, None,
              None, None, "X", None, None],
             ["32.02.11.2002", "KUBE Baru", "Fani", "miskin", "anggota", None, None, None,
              None, None, None, "mungkin", None],
             ["32.02.11.2002", "KUBE Baru", "Gita", "miskin", "anggota", None, None, None,
              None, None, None, None, 11]]
    report = await run_import(session, coordinator, workbook(groups, filled + wrong))
    assert reasons(report) == {("Anggota", 7): ["sex"], ("Anggota", 8): ["register"],
                               ("Anggota", 9): ["decile"]}
    stored = {m.name: (m.head_sex, m.register_status, m.register_decile) for m in (
        await session.execute(select(Member))).scalars()}
    assert stored == {"Siti": ("p", "ya", 2), "Budi": ("l", "tidak", None),
                      "Rina": ("p", "tidak_tahu", 3), "Joko": (None, None, None),
                      "Dewi": ("l", "ya", 10)}


GRANT = ["32.02.11.2002", "KUBE Mawar", "Bantuan UEP Kemensos", "APBN", "Tunai", 20_000_000,
         None, "01/09/2026", "ya", 10_000_000, None, None, None, "01/09/2027", None]


def grant_row(**changes) -> list:
    """GRANT with some cells changed, by header key."""
    keys = ["village", "group", "kind", "fund", "form", "amount", "goods", "received",
            "required", "roll_rp", "roll_units", "unit", "roll_kk", "due", "lpj"]
    row = list(GRANT)
    for key, value in changes.items():
        row[keys.index(key)] = value
    return row


async def test_import_grants_with_the_chats_rules_kinds_and_lpj(session):
    from models.tables import Reminder

    coordinator = await make_mentor(session, name="Koor", area_code=REGENCY,
                                    role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari", area_code="32.02.11")
    mawar = await make_group(session, ani, name="KUBE Mawar")
    groups = [["32.02.11.2003", "KUBE Baru", "Ternak", "Tumbuh", "12/03/2026", None, 30,
               ani.telegram_id]]
    members = officers("32.02.11.2003", "KUBE Baru", ["Siti", "Budi", "Rina", "Joko", "Dewi"],
                       ["ketua", "sekretaris", "bendahara", "anggota", "anggota"])
    grants = [
        GRANT,                                                                    # 2 ok
        grant_row(village="32.02.11.2003", group="KUBE Baru", kind="stimulan",
                  fund="APBD kabupaten", amount=5_000_000, received="01/10/2026",
                  required="tidak", roll_rp=None, due=None, lpj="15/11/2026"),      # 3 ok
        grant_row(kind="BLPS", form="barang", amount=None, goods="2 ekor sapi",
                  received="01/08/2026", roll_rp=None, roll_units=2, unit="ekor",
                  due="01/08/2027"),                                              # 4 ok
        grant_row(kind="hibah aneh"),                                             # 5 kind
        grant_row(amount=None, received="02/09/2026"),                            # 6 amount
        grant_row(roll_rp=None, received="03/09/2026"),                           # 7 target
        grant_row(received="04/09/2026", lpj="01/08/2026"),                       # 8 LPJ
        grant_row(group="KUBE Tidak Ada"),                                        # 9 group
        GRANT,                                                                    # 10 twice
        grant_row(received="05/09/2026", due="01/01/2026"),                       # 11 due
        grant_row(received="06/09/2026", required="mungkin"),                     # 12 ya/tidak
    ]
    content = workbook(groups, members, grants)
    report = await run_import(session, coordinator, content)
    assert reasons(report) == {
        ("Bantuan", 5): ["grant_kind"], ("Bantuan", 6): ["grant_required"],
        ("Bantuan", 7): ["no_obligation"], ("Bantuan", 8): ["lpj_before_received"],
        ("Bantuan", 9): ["group_unknown"], ("Bantuan", 10): ["duplicate_grant"],
        ("Bantuan", 11): ["due_range"], ("Bantuan", 12): ["yes_no"]}
    assert report.grants == {"created": 3} and report.taken["Bantuan"] == [2, 3, 4]
    text = exchange_words.report_text(report, "id", "kube.xlsx")
    assert "Bantuan: 3 baru, 0 LPJ ditambahkan, 0 tetap." in text
    lines = exchange_words.refusal_lines(report, "id")
    assert '• Bantuan baris 5: jenis bantuan "hibah aneh" tidak dikenal' in lines[0]
    stored = {(g.group_id, g.received_on): g for g in (await session.execute(select(Grant))
                                                        ).scalars()}
    uep = stored[(mawar.id, date(2026, 9, 1))]
    assert (uep.kind, uep.amount, uep.rollover_amount, uep.rollover_due) == (
        "uep", 20_000_000, 10_000_000, date(2027, 9, 1))
    assert uep.lpj_due == date(2026, 12, 1) and uep.recorded_by == ani.id
    new_group = (await session.execute(select(Group).where(Group.name == "KUBE Baru"))
                 ).scalar_one()
    regional = stored[(new_group.id, date(2026, 10, 1))]
    assert (regional.kind, regional.rollover_required, regional.rollover_due) == (
        "daerah", False, None)
    assert regional.lpj_submitted_on == date(2026, 11, 15)
    goods = stored[(mawar.id, date(2026, 8, 1))]
    assert (goods.form, goods.goods_description, goods.rollover_units,
            goods.rollover_unit_label) == ("barang", "2 ekor sapi", 2, "ekor")
    pending = {(r.rule, r.subject_id) for r in (await session.execute(
        select(Reminder).where(Reminder.status == "pending"))).scalars()}
    assert ("lpj_soon", uep.id) in pending or ("lpj_overdue", uep.id) in pending
    assert not {rule for rule, subject in pending if subject == regional.id and "lpj" in rule}

    again = await run_import(session, coordinator, content)
    assert again.grants == {"unchanged": 3}
    assert len((await session.execute(select(Grant))).scalars().all()) == 3
    # The LPJ handed in since: only its date is added, and its reminders go.
    later = await run_import(session, coordinator, workbook([], [], [
        grant_row(lpj="20/11/2026")]))
    assert later.grants == {"updated": 1} and later.refused == []
    await session.refresh(uep)
    assert uep.lpj_submitted_on == date(2026, 11, 20)
    pending = {(r.rule, r.subject_id) for r in (await session.execute(
        select(Reminder).where(Reminder.status == "pending"))).scalars()}
    assert not {rule for rule, subject in pending if subject == uep.id and "lpj" in rule}


async def test_import_keeps_the_groups_history_and_leaves_dissolved_groups_alone(session):
    coordinator = await make_mentor(session, name="Koor", area_code=REGENCY,
                                    role=Role.COORDINATOR)
    ani = await make_mentor(session, name="Ani Lestari", area_code="32.02.11")
    mawar = await make_group(session, ani, name="KUBE Mawar")
    bubar = await make_group(session, ani, name="KUBE Bubar", village_code="32.02.11.2003")
    bubar.status = "bubar"
    session.add(bubar)
    await session.commit()
    first = (await session.execute(select(Member).where(Member.group_id == mawar.id)
                                   .order_by(Member.id))).scalars().first()
    groups = [["32.02.11.2002", "KUBE Mawar", "Jasa", "Berkembang", None, None, None, None],
              ["32.02.11.2003", "KUBE Bubar", "Jasa", None, None, None, None, None]]
    members = [["32.02.11.2002", "KUBE Mawar", first.name, "hampir miskin"],
               ["32.02.11.2003", "KUBE Bubar", "Orang Baru", "miskin"]]
    report = await run_import(session, coordinator, workbook(
        groups, members, [grant_row(village="32.02.11.2003", group="KUBE Bubar")]))
    assert reasons(report) == {("Kelompok", 3): ["group_dissolved"],
                               ("Anggota", 3): ["group_refused"],
                               ("Bantuan", 2): ["group_dissolved"]}
    history = {(c.kind, c.field, c.old, c.new, c.reason, c.by_mentor_id, c.member_id)
               for c in (await session.execute(select(GroupChange))).scalars()
               if c.reason != "awal"}  # where each group's history began
    assert history == {
        ("stage", "stage", "tumbuh", "berkembang", "impor", coordinator.id, None),
        ("profile", "business_type", "ternak", "jasa", "impor", coordinator.id, None),
        ("welfare", "welfare_category", "miskin", "hampir_miskin", "impor", coordinator.id,
         first.id)}
    await session.refresh(bubar)
    assert bubar.business_type == "ternak"
    assert (await count(session, select(func.count()).select_from(Grant))) == 0
