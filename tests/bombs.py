"""Hostile workbooks for the import's bounds (issue 14), made on the fly (no binary fixtures):
a sheet that inflates to a gigabyte from about a megabyte, sizes that lie, a DOCTYPE with
entity expansion. The zip is written by hand so a part's declared size can be anything and a
gigabyte is never compressed (nor held) here: the same deflate block is repeated."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache

from openpyxl import Workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
GIGABYTE = 1 << 30
_BLOCK = 4 << 20  # one deflate block, repeated


@dataclass
class Part:
    """One entry as it is stored: raw deflate data and what the directory says of it."""

    name: str
    data: bytes
    crc: int
    size: int  # declared uncompressed size


def deflated(name: str, content: bytes) -> Part:
    """An honest part."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Part(name, packer.compress(content) + packer.flush(), zlib.crc32(content), len(content))


def inflating(name: str, head: bytes, unit: bytes, size: int, declared: int | None = None) -> Part:
    """A part of ``head`` then ``unit`` repeated to about ``size`` bytes, compressed without
    ever being built: after a full flush deflate forgets what came before, so one compressed
    block stands for every repetition. Its CRC is not computed (a reader stops long before)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block, repeated = _block(unit)
    count = max(1, (size - len(head)) // block)
    data = first + repeated * count + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    total = len(head) + count * block
    return Part(name, data, 0, total if declared is None else declared)


@cache
def _block(unit: bytes) -> tuple[int, bytes]:
    """About _BLOCK bytes of ``unit`` over and over: its length and its deflate data (ending
    with a full flush, so it can follow anything and be followed by itself)."""
    block = unit * (_BLOCK // len(unit))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return len(block), packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)


def write_zip(parts: list[Part]) -> bytes:
    """The parts as a zip (no zip64: every size here is below 4 GB)."""
    out = io.BytesIO()
    directory = []
    for part in parts:
        offset = out.tell()
        name = part.name.encode()
        out.write(struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, part.crc,
                              len(part.data), part.size, len(name), 0) + name + part.data)
        directory.append(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, part.crc,
                                     len(part.data), part.size, len(name), 0, 0, 0, 0, 0,
                                     offset) + name)
    start = out.tell()
    out.write(b"".join(directory))
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(parts), len(parts),
                          out.tell() - start, start, 0))
    return out.getvalue()


def workbook_parts(rows: int = 3) -> list[Part]:
    """A real Kelompok workbook (openpyxl's), part by part."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Kelompok"
    sheet.append(["Kode desa", "Nama kelompok", "Jenis usaha"])
    for number in range(rows):
        sheet.append(["32.02.11.2001", f"KUBE {number}", "Ternak"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return [deflated(info.filename, archive.read(info)) for info in archive.infolist()]


def with_part(part: Part, rows: int = 3) -> bytes:
    """The workbook with one of its parts replaced (or added)."""
    parts = [p for p in workbook_parts(rows) if p.name != part.name]
    return write_zip([*parts, part])


def _sheet_head() -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>Kode desa</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>Nama kelompok</t></is></c></row>').encode()


def row_bomb(size: int = GIGABYTE, declared: int | None = None) -> bytes:
    """A workbook whose sheet is rows of nothing, all numbered 2, to ``size`` bytes."""
    return with_part(inflating(SHEET, _sheet_head(), b'<row r="2"/>', size, declared))


def element_bomb(size: int = GIGABYTE, declared: int | None = None) -> bytes:
    """A workbook whose sheet is empty elements openpyxl does not know (so keeps), to ``size``
    bytes: the most objects a parser builds per byte."""
    return with_part(inflating(SHEET, _sheet_head(), b"<x/>", size, declared))


def text_bomb(size: int = GIGABYTE, declared: int | None = None) -> bytes:
    """A workbook whose sheet has one cell of ``size`` bytes of text."""
    head = _sheet_head() + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    return with_part(inflating(SHEET, head, b"ha" * 512, size, declared))


LAUGHS = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
                    for n in range(1, 10))
          + "]>\n")


def laughs_strings() -> bytes:
    """A workbook whose shared strings expand a billion laughs."""
    xml = LAUGHS + (f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>&lol9;</t></si>'
                    "</sst>")
    sheet = _sheet_head() + (b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
                             b"</sheetData></worksheet>")
    parts = []
    for part in workbook_parts():
        if part.name == "[Content_Types].xml":
            # Without its content type the shared strings are never looked at.
            types = zlib.decompress(part.data, -15).replace(b"</Types>", (
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
            ))
            part = deflated(part.name, types)
        elif part.name == SHEET:
            part = deflated(SHEET, sheet)
        parts.append(part)
    return write_zip([*parts, deflated(STRINGS, xml.encode())])


def laughs_sheet() -> bytes:
    """A workbook whose sheet expands a billion laughs in a cell."""
    head = _sheet_head().replace(b"<worksheet", (LAUGHS + "<worksheet").encode()
                                 ).replace(b'<?xml version="1.0" encoding="UTF-8"?>', b"", 1)
    return with_part(deflated(SHEET, head + b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;'
                                            b"</t></is></c></row></sheetData></worksheet>"))


def doctype_sheet() -> bytes:
    """A workbook whose sheet starts with a DOCTYPE (no entities: refused all the same)."""
    head = _sheet_head().replace(b"?><worksheet", b'?><!DOCTYPE worksheet SYSTEM "x.dtd"><worksheet')
    return with_part(deflated(SHEET, head + b"</sheetData></worksheet>"))
