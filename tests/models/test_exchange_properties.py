"""Property-based tests (hypothesis) of the Excel import: whatever a coordinator's file holds,
the import never fails half-way; every row is taken or refused with a reason that renders.

Cells come as openpyxl gives them: text (any, with the nasty strings of the bot's own
property tests), whole and broken numbers, NaN and infinities, booleans, dates and times.
"""

from __future__ import annotations

import io
import itertools
from datetime import date, datetime, time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.core.enums import Role
from bot.core.parsing import (
    group_problems,
    parse_member_fields,
    parse_person_name,
    parse_phone,
)
from bot.core.places import default_index
from handlers import exchange_words
from models import exchange
from models.exchange import reading
from models.exchange import values as cell_values
from models.tables import Group, Member, Mentor
from tests.bot.strategies import NASTY, any_text, niks, person_names
from tests.conftest import NOW
from tests.factories import make_mentor

PROPS = settings(max_examples=200, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
# One example is a whole import against the database: fewer.
DB = settings(PROPS, max_examples=25,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

cells = st.one_of(
    st.none(), any_text, st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.dates(), st.times(),
)


@PROPS
@given(cells)
def test_cell_readers_never_raise(value) -> None:
    assert isinstance(cell_values.text(value), str)
    found = cell_values.to_date(value, date(2026, 11, 25))
    assert found is None or isinstance(found, date)
    assert cell_values.word(value, "stage", ("tumbuh", "berkembang", "mandiri")) in {
        None, "tumbuh", "berkembang", "mandiri"}
    assert reading.header_key(value, reading.MEMBER_HEADERS) in {
        None, *reading.MEMBER_HEADERS}


@settings(PROPS, max_examples=60)
@given(st.one_of(st.binary(max_size=2000),
                 st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=8))))
def test_any_file_is_read_or_refused_as_a_whole(content) -> None:
    if isinstance(content, tuple):  # the real template with a few bytes changed
        at, junk = content
        template = bytearray(_template())
        at %= len(template)
        template[at:at + len(junk)] = junk
        content = bytes(template)
    try:
        raw = exchange.read_workbook(content)
    except exchange.ImportFileError as exc:
        assert exc.code in {"unreadable", "no_sheets", "missing_column", "too_many_rows",
                            "too_big"}
    else:
        assert isinstance(raw, exchange.RawFile)


_TEMPLATE: list[bytes] = []


def _template() -> bytes:
    if not _TEMPLATE:
        _TEMPLATE.append(exchange.template_workbook())
    return _TEMPLATE[0]


# --- whole imports ------------------------------------------------------------------------------

VILLAGES = ["32.02.11.2002", "32.02.11.2003", "32.02.12.2001",  # inside Kab. Sukabumi
            "32.03.01.1006",  # Kab. Cianjur: outside
            "32.02.11.9999", "", "32.02"]  # unknown, blank, not a village
GROUP_NAMES = ["KUBE Melati", "KUBE Mawar 🌹", "kube melati", "KUBE Anggrek", "K", ""]
text_or_nasty = st.one_of(st.sampled_from(NASTY), any_text)


def _some(values: list, *others: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(values), *others)


group_rows = st.fixed_dictionaries({
    "village_code": _some(VILLAGES, cells),
    "name": _some(GROUP_NAMES, text_or_nasty),
    "business_type": _some(["Ternak", "dagang/warung", "jasa", "kaya raya"], cells),
    "stage": _some(["Tumbuh", "berkembang", "dewasa"], cells),
    "formed_on": _some(["12/03/2026", "31/02/2026", "2026-01-10", "besok", "1/1/2030"], cells),
    "binding_ties": _some(["Kedekatan tempat tinggal, motivasi", "kedekatan;;x"], cells),
    "interval": _some([30, 14.0, "30", "tiga puluh", 0, 400, True], cells),
    "mentor": _some(["Ani Lestari", "Joko Tidak Ada", "810001"], cells),
    "mentor_telegram_id": _some([None, 810002, "810002", 1.5], cells),
})
member_rows = st.fixed_dictionaries({
    "village_code": _some(VILLAGES, cells),
    "group": _some(GROUP_NAMES, text_or_nasty),
    "name": _some(["Siti Aminah", "Siti; ketua", "Budi 🌸", "A"], person_names, cells),
    "category": _some(["miskin", "Fakir Miskin", "hm", "kaya", "miskin; 3201014112900001"],
                      cells),
    "role": _some(["ketua", "sekretaris", "bendahara", "anggota", "", "presiden"], cells),
    "nik": _some(["3201********0001", "1234"], niks(), cells),
    "phone": _some(["0812-9876-5432", "+62 812****5432", "+1 202 555 0143"], cells),
    "joined_on": _some(["01/04/2026", "30/02/2026", "besok"], cells),
    "left_on": _some([None, "01/11/2026"], cells),
})


def _raw(groups: list[dict], members: list[dict]) -> exchange.RawFile:
    return exchange.RawFile(
        groups=[exchange.RawRow(number, values) for number, values in enumerate(groups, 2)],
        members=[exchange.RawRow(number, values) for number, values in enumerate(members, 2)],
        has_group_sheet=True, has_member_sheet=True)


async def _coordinator(session):
    found = await session.execute(select(Mentor).where(Mentor.telegram_id == 810001))
    coordinator = found.scalar_one_or_none()
    if coordinator is None:
        coordinator = await make_mentor(session, telegram_id=810001, name="Koor Sukabumi",
                                        area_code="32.02", role=Role.COORDINATOR)
        await make_mentor(session, telegram_id=810002, name="Ani Lestari",
                          area_code="32.02.11")
    return coordinator


@DB
@given(st.lists(group_rows, max_size=4), st.lists(member_rows, max_size=8))
async def test_any_rows_are_each_taken_or_refused_with_reasons_that_render(session, groups,
                                                                           members) -> None:
    coordinator = await _coordinator(session)
    raw = _raw(groups, members)
    report = await exchange.import_rows(
        session=session, actor=coordinator, raw=raw, places=default_index(), now=NOW,
        min_size=5, max_size=10, default_interval=30)
    for sheet, rows in ((exchange.GROUP_SHEET, raw.groups), (exchange.MEMBER_SHEET,
                                                             raw.members)):
        taken = set(report.taken[sheet])
        refused = {r.row for r in report.refused if r.sheet == sheet}
        assert not taken & refused
        assert taken | refused <= {row.number for row in rows}
        # A member row is taken or refused; a group row too, unless it only names a group.
        if sheet == exchange.MEMBER_SHEET:
            assert taken | refused == {row.number for row in rows}
    assert all(r.reasons for r in report.refused)
    for lang in ("id", "en"):
        assert exchange_words.report_text(report, lang, "isi.xlsx")
        assert all(line for line in exchange_words.refusal_lines(report, lang))
    stored = (await session.execute(select(Member.name))).scalars().all()
    assert all(";" not in name and parse_person_name(name) == name
               for name in stored if name != "Nama")


_RUNS = itertools.count(1)


@st.composite
def valid_groups(draw: st.DrawFn) -> tuple[dict, list[dict]]:
    """A new group (a name never used before) with 6-8 households that follow the rules,
    their cells typed in the ways coordinators type them."""
    village = draw(st.sampled_from(VILLAGES[:3]))
    # Imports commit, and hypothesis runs an example again while shrinking: a name of its own
    # for every run keeps the group new.
    name = f"KUBE Uji {next(_RUNS)}"
    group = {"village_code": village, "name": name,
             "business_type": draw(st.sampled_from(["Ternak", "dagang/warung", "Jasa"])),
             "stage": draw(st.sampled_from(["Tumbuh", "berkembang", "Mandiri"])),
             "formed_on": draw(st.sampled_from(["12/03/2026", datetime(2025, 6, 1),
                                                "1 Januari 2026"])),
             "interval": draw(st.sampled_from([None, 30, 14.0, "tiga puluh"])),
             "mentor": "Ani Lestari"}
    names = draw(st.lists(person_names, min_size=6, max_size=8,
                          unique_by=lambda n: cell_values.norm(n)))
    roles = ["ketua", "sekretaris", "bendahara"] + [""] * (len(names) - 3)
    roles = draw(st.permutations(roles))
    numbers = draw(st.lists(niks(), min_size=len(names), max_size=len(names), unique=True))
    members = [{"village_code": village, "group": draw(st.sampled_from([name, name.upper()])),
                "name": household, "role": role,
                "category": draw(st.sampled_from(["miskin", "Fakir Miskin", "hm", "rentan"])),
                "nik": draw(st.sampled_from([None, number, int(number)])),
                "phone": draw(st.sampled_from([None, "0812-9876-5432", "+6285712345678"]))}
               for household, role, number in zip(names, roles, numbers, strict=True)]
    return group, members


# A cell spoilt as people do: any text, or a whole typed line in the name cell.
spoilt_names = st.one_of(text_or_nasty, st.builds(
    lambda name, other: f"{name}; {other}", person_names,
    st.sampled_from(["ketua", "bendahara", "miskin", "3201014112900001", "0812-9876-5432"])))


@DB
@given(valid_groups(), st.none() | st.tuples(st.integers(0, 7), spoilt_names))
async def test_a_valid_group_imports_back_to_the_same_households(session, valid, spoilt) -> None:
    """Round trip: the households stored are those of the rows, as a typed member line with
    the same parts would give them; a spoilt name cell refuses its row only."""
    coordinator = await _coordinator(session)
    group, members = valid
    if spoilt is not None:  # a household's, not an officer's: the group can do without it
        at, text = spoilt
        plain = [row for row in members if not row["role"]]
        plain[at % len(plain)]["name"] = text
    for row in members:  # every household agreed to its NIK and phone being kept
        row["consent"] = "ya"
    report = await exchange.import_rows(
        session=session, actor=coordinator, raw=_raw([group], members),
        places=default_index(), now=NOW, min_size=5, max_size=10, default_interval=30)
    lines = [parse_member_fields(m["name"], m["category"], m["role"]) for m in members]
    readable = [(line, row) for line, row in zip(lines, members, strict=True) if line.ok]
    stored = (await session.execute(
        select(Member).join(Group).where(Group.name == group["name"]).order_by(Member.id)
    )).scalars().all()
    refused = {r.row for r in report.refused if r.sheet == exchange.MEMBER_SHEET}
    assert refused >= {no for no, line in enumerate(lines, 2) if not line.ok}
    if not group_problems([line for line, _ in readable], minimum=5, maximum=10):
        assert report.members == {"created": len(readable)}
        assert [(m.name, m.welfare_category, m.role, m.nik, m.phone) for m in stored] == [
            (line.name, line.welfare_category, line.role,
             str(row["nik"]) if row["nik"] else None,
             parse_phone(row["phone"]) if row["phone"] else None)
            for line, row in readable]
    else:  # the group breaks the rules without the unreadable row: nothing of it is stored
        assert stored == [] and report.taken[exchange.MEMBER_SHEET] == []


# --- the bugs these properties found, as plain examples -------------------------------------------


def _book(groups: list[list], members: list[list]) -> bytes:
    book = load_workbook(io.BytesIO(exchange.template_workbook()))
    for row in groups:
        book["Kelompok"].append(row)
    for row in members:
        book["Anggota"].append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_a_separator_inside_a_name_cell_does_not_make_a_role(session):
    """Found by the property above: "Siti; ketua" in the name cell was read as a household
    Siti who is the ketua (the cells were joined into one typed line)."""
    coordinator = await _coordinator(session)
    officers = [["32.02.11.2002", "KUBE Melati", name, "miskin", role] for name, role in (
        ("Budi Hartono", "sekretaris"), ("Rina Wati", "bendahara"), ("Joko Susilo", ""),
        ("Dewi Sartika", ""))]
    content = _book(
        [["32.02.11.2002", "KUBE Melati", "Ternak", "Tumbuh", "12/03/2026", None, 30,
          "Ani Lestari"]],
        [["32.02.11.2002", "KUBE Melati", "Siti; ketua", "miskin", ""], *officers])
    report = await exchange.import_rows(
        session=session, actor=coordinator, raw=exchange.read_workbook(content),
        places=default_index(), now=NOW, min_size=5, max_size=10, default_interval=30)
    reasons = {(r.sheet, r.row): [reason.code for reason in r.reasons] for r in report.refused}
    assert reasons[("Anggota", 2)] == ["member_name"]
    assert any("Anggota baris 2: nama KK harus seperti di KTP" in line
               for line in exchange_words.refusal_lines(report, "id"))
    assert (await session.execute(select(Member))).scalars().all() == []


@pytest.mark.parametrize("cell", [True, False])
async def test_a_true_false_cell_is_no_visit_interval(session, cell):
    """Found by the property above: a TRUE cell (Python's bool is an int) was an interval of
    1 day."""
    coordinator = await _coordinator(session)
    raw = _raw([{"village_code": "32.02.11.2002", "name": "KUBE Melati",
                 "business_type": "Ternak", "stage": "Tumbuh", "formed_on": "12/03/2026",
                 "interval": cell, "mentor": "Ani Lestari"}], [])
    report = await exchange.import_rows(
        session=session, actor=coordinator, raw=raw, places=default_index(), now=NOW,
        min_size=5, max_size=10, default_interval=30)
    assert report.refused[0].reasons[0][0] == "interval"


def test_workbook_values_as_openpyxl_gives_them():
    """The strategy's cell types are those openpyxl hands back."""
    book = Workbook()
    book.active.append([1, 1.5, True, "x", datetime(2026, 1, 1), time(10, 0)])
    buffer = io.BytesIO()
    book.save(buffer)
    row = next(load_workbook(io.BytesIO(buffer.getvalue())).active.iter_rows(values_only=True))
    assert [type(value) for value in row] == [int, float, bool, str, datetime, time]
