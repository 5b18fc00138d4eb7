"""Prints what reading an uploaded workbook costs (issue 14): seconds and peak memory growth
for a normal 540-group workbook (read with the guards, and with plain openpyxl for comparison)
and for each hostile workbook of tests/bombs.py. Each case runs in a forked child, so its
peak is its own.

Run: .venv/bin/python bench/imports.py
"""

from __future__ import annotations

import io
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl import load_workbook

from models import exchange
from tests import bombs
from tests.models.test_exchange import workbook

MB = 1024 * 1024


def peak() -> int:
    """The process's peak resident memory so far, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def plain(content: bytes) -> str:
    """The sheets read as before issue 14: openpyxl on the bytes, every row."""
    book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    rows = sum(1 for sheet in book.worksheets for _ in sheet.iter_rows(values_only=True))
    book.close()
    return f"{rows} rows"


def guarded(content: bytes) -> str:
    """The sheets read by the import."""
    try:
        return f"{len(exchange.read_workbook(content).groups)} groups"
    except exchange.ImportFileError as error:
        return f"refused: {error.code}"


def in_child(label: str, read, content: bytes) -> None:
    """Runs one read in a forked child and prints its figures."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(reader)
            base = peak()
            started = time.perf_counter()
            answer = read(content)
            seconds = time.perf_counter() - started
            os.write(writer, f"{answer}|{seconds:.3f}|{(peak() - base) / MB:.1f}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        answer, seconds, grown = pipe.read().split("|")
    os.waitpid(pid, 0)
    print(f"{label:34s} {len(content) / MB:6.2f} MB  {float(seconds) * 1000:8.0f} ms  "
          f"+{grown:>6s} MB  {answer}")


def filled() -> bytes:
    """The template filled with 540 groups of 9 households each (4,860 Anggota rows)."""
    roles = ["ketua", "sekretaris", "bendahara"] + ["anggota"] * 6
    groups, members = [], []
    for number in range(540):
        village, name = f"32.02.11.{2001 + number % 9}", f"KUBE Contoh {number}"
        groups.append([village, name, "Ternak", "Tumbuh", "01/01/2026", None, 30, "Ani Lestari"])
        members += [[village, name, f"Warga {number} {seat}", "miskin", role]
                    for seat, role in enumerate(roles)]
    return workbook(groups, members)


def main() -> None:
    normal = filled()
    guarded(normal)  # everything imported before the children fork
    print(f"{'case':34s} {'file':>9s}  {'time':>11s}  {'peak':>9s}")
    in_child("540 groups + 4,860 rows, openpyxl", plain, normal)
    in_child("540 groups + 4,860 rows, guarded", guarded, normal)
    for label, content in [
        ("rows to 1 GB, sizes told", bombs.row_bomb()),
        ("rows to 1 GB, stated 256 KB", bombs.row_bomb(declared=256 * 1024)),
        ("rows to 1 GB, stated 20 MB", bombs.row_bomb(declared=20 * MB)),
        ("elements to 1 GB, stated 20 MB", bombs.element_bomb(declared=20 * MB)),
        ("text to 1 GB, stated 20 MB", bombs.text_bomb(declared=20 * MB)),
        ("billion laughs in shared strings", bombs.laughs_strings()),
        ("billion laughs in a sheet", bombs.laughs_sheet()),
        ("DOCTYPE in a sheet", bombs.doctype_sheet()),
    ]:
        in_child(label, guarded, content)


if __name__ == "__main__":
    main()
