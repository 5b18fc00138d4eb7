"""Issue 14: reading an uploaded workbook has a bounded cost. Zip bombs (made on the fly by
tests.bombs), lying sizes and DOCTYPEs are refused with the plain answer, quickly and in
little memory (measured in a child process: its peak against reading a normal workbook)."""

from __future__ import annotations

import io
import os
import resource
import time
import zipfile

import openpyxl
import pytest
from defusedxml import EntitiesForbidden
from openpyxl import Workbook

from bot.core.settings import Settings
from handlers import exchange_words
from models import exchange
from models.exchange.reading import LAST_ROW
from tests import bombs

MB = 1024 * 1024


def peak() -> int:
    """The process's peak resident memory so far, in bytes (Linux counts in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measured(normal: bytes, contents: dict[str, bytes]) -> dict[str, tuple[str, float, int]]:
    """Reads each workbook in a forked child (its peak starts at the memory it shares): the
    refusal's code, seconds, and the peak's growth over reading ``normal`` first."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never back into pytest
        status = 1
        try:
            os.close(reader)
            assert len(exchange.read_workbook(normal).groups) == 540
            base = peak()
            lines = []
            for name, content in contents.items():
                started = time.perf_counter()
                try:
                    exchange.read_workbook(content, LIMITS.get(name))
                    code = "read"
                except exchange.ImportFileError as error:
                    code = error.code
                lines.append(f"{name} {code} {time.perf_counter() - started} {peak() - base}")
            os.write(writer, "\n".join(lines).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        out = pipe.read()
    assert os.waitpid(pid, 0)[1] == 0
    return {name: (code, float(seconds), int(extra))
            for name, code, seconds, extra in (line.split() for line in out.splitlines())}


BOMBS = {
    # 2 MB that inflate to 1 GB, sizes told: refused before anything is inflated.
    "rows_told": (lambda: bombs.row_bomb(), {"unsafe"}),
    # The same with the sheet's size understated: inflating stops at the stated size.
    "rows_understated": (lambda: bombs.row_bomb(declared=64 * 1024), {"unreadable"}),
    # Stated 20 MB (within the limits and a plausible ratio), inflating to 1 GB of elements
    # the parser would keep, or of rows all numbered 2 (so never past the last row read):
    # refused as they are read, once the elements kept reach the limit (LIMITS).
    "elements_understated": (lambda: bombs.element_bomb(declared=20 * MB), {"unsafe"}),
    "rows_understated_20mb": (lambda: bombs.row_bomb(declared=20 * MB), {"unsafe"}),
    "text_understated": (lambda: bombs.text_bomb(declared=20 * MB), {"unsafe"}),
    "laughs_in_strings": (bombs.laughs_strings, {"unsafe"}),
    "laughs_in_sheet": (bombs.laughs_sheet, {"unsafe"}),
    "doctype_in_sheet": (bombs.doctype_sheet, {"unsafe"}),
}


# The default 150,000 elements kept take about 2 s of parsing (8 MB: bench/imports.py), too long
# for a test on a busy machine; a fifteenth of them shows the same.
LIMITS = {name: exchange.ImportLimits(max_kept_elements=10_000)
          for name in ("elements_understated", "rows_understated_20mb")}


def test_bombs_are_refused_quickly_in_little_memory():
    contents = {name: make() for name, (make, _) in BOMBS.items()}
    assert all(len(content) < exchange.MAX_IMPORT_BYTES for content in contents.values())
    results = measured(bombs.write_zip(bombs.workbook_parts(540)), contents)
    assert results.keys() == BOMBS.keys()
    for name, (code, seconds, extra) in results.items():
        assert code in BOMBS[name][1], name
        assert seconds < 5, name
        assert extra < 100 * MB, (name, extra // MB)


@pytest.mark.parametrize("code", ["unsafe", "unreadable"])
def test_the_refusal_says_what_to_do(code):
    for lang in ("id", "en"):
        text = exchange_words.file_error_text(exchange.ImportFileError(code), lang)
        assert "/templat" in text and "Traceback" not in text and "{" not in text


def test_openpyxl_parses_through_defusedxml():
    # The version pinned picks defusedxml up by itself once it is installed: an entity is
    # refused by openpyxl alone, whatever safezip does before.
    assert openpyxl.DEFUSEDXML is True
    for make in (bombs.laughs_strings, bombs.laughs_sheet):
        with pytest.raises(ValueError) as error:
            openpyxl.load_workbook(io.BytesIO(make()), read_only=True)
        assert isinstance(error.value.__cause__, EntitiesForbidden)


def test_a_stated_ratio_beyond_the_limit_is_refused_before_reading():
    content = bombs.row_bomb(declared=20 * MB)  # 20 MB from 2 MB: 10 times
    with pytest.raises(exchange.ImportFileError) as error:
        exchange.read_workbook(content, exchange.ImportLimits(max_ratio=5))
    assert error.value.code == "unsafe"


def test_too_many_entries_or_parts_too_big_are_refused_before_reading():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(400):
            archive.writestr(f"x/{number}.xml", "<a/>")
    with pytest.raises(exchange.ImportFileError) as error:
        exchange.read_workbook(buffer.getvalue())
    assert error.value.code == "unsafe"
    normal = bombs.write_zip(bombs.workbook_parts())
    assert len(exchange.read_workbook(normal).groups) == 3
    for limits in (exchange.ImportLimits(max_entry_bytes=2000),
                   exchange.ImportLimits(max_total_bytes=10_000)):
        with pytest.raises(exchange.ImportFileError) as error:
            exchange.read_workbook(normal, limits)
        assert error.value.code == "unsafe"


def test_rows_are_read_to_the_last_row_only():
    book = Workbook()
    sheet = book.active
    sheet.title = "Kelompok"
    sheet.append(["Kode desa", "Nama kelompok"])
    sheet.append(["32.02.11.2001", "KUBE Awal"])
    sheet.cell(LAST_ROW, 1, "32.02.11.2001")
    sheet.cell(LAST_ROW, 2, "KUBE Akhir")
    buffer = io.BytesIO()
    book.save(buffer)
    raw = exchange.read_workbook(buffer.getvalue())
    assert [row.number for row in raw.groups] == [2, LAST_ROW]
    sheet.cell(LAST_ROW + 1, 2, "KUBE Jauh")
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(exchange.ImportFileError) as error:
        exchange.read_workbook(buffer.getvalue())
    assert error.value.code == "too_many_rows"


def test_the_settings_choose_the_limits():
    limits = exchange.import_limits(Settings(import_max_entries=50, import_max_unzipped_mb=20,
                                             import_max_part_mb=5, import_max_ratio=30))
    assert (limits.max_entries, limits.max_total_bytes, limits.max_entry_bytes,
            limits.max_ratio) == (50, 20 * MB, 5 * MB, 30)
    assert exchange.import_limits(Settings()) == exchange.ImportLimits()
