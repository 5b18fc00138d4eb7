"""Opening an uploaded workbook with bounded cost: the zip's entries checked before anything is
parsed (how many, their declared sizes, their compression ratio), and every part openpyxl then
reads passed through a stream that stops at the part's declared size and the file's budget and
follows the XML on the way, refusing a DOCTYPE and what would make the parser's memory grow
(issue 14: a 1.9 MB zip bomb took the bot to 1.5 GB). Pure, no database."""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from xml.parsers import expat

from models.exchange.report import FileProblem, ImportFileError

if TYPE_CHECKING:
    from bot.core.settings import Settings

_MB = 1024 * 1024
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# openpyxl clears these elements once read (a sheet's rows, the shared strings), so what they
# hold is freed; every other element it keeps until the part is read.
_FREED = frozenset({f"{_MAIN} row", f"{_MAIN} si"})
_XML_SUFFIXES = (".xml", ".rels", ".vml")
# Parts read whole by zipfile.read() are followed in slices of this size.
_SLICE = 64 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """What reading one uploaded workbook may cost. The first four are settings
    (PENDAMPING_IMPORT_*); the rest bound the XML parser's memory and are not meant to be
    tuned."""

    max_entries: int = 300
    max_total_bytes: int = 50 * _MB  # all parts, uncompressed
    max_entry_bytes: int = 25 * _MB  # one part, uncompressed
    max_ratio: int = 200  # uncompressed / compressed, for parts above _RATIO_FLOOR
    # Elements (and attributes) the parser keeps at once: about 250 bytes each at worst.
    max_kept_elements: int = 150_000
    # Elements inside one row (or one shared string), freed after it: Excel's 16,384 columns
    # with a value each fit.
    max_row_elements: int = 60_000
    # Bytes without a "<": the longest text or tag (a cell holds at most 32,767 characters).
    max_token_bytes: int = 1 * _MB
    max_depth: int = 64


_RATIO_FLOOR = 1 * _MB


def import_limits(settings: Settings) -> ImportLimits:
    """The limits the settings choose."""
    return ImportLimits(max_entries=settings.import_max_entries,
                        max_total_bytes=settings.import_max_unzipped_mb * _MB,
                        max_entry_bytes=settings.import_max_part_mb * _MB,
                        max_ratio=settings.import_max_ratio)


def _unsafe() -> ImportFileError:
    return ImportFileError(FileProblem.UNSAFE)


def _broken() -> ImportFileError:
    return ImportFileError(FileProblem.UNREADABLE)


def _check_directory(content: bytes, limits: ImportLimits) -> None:
    """Refuses a zip whose central directory lists too many entries, before zipfile builds an
    object for each of them."""
    tail = content[-(65535 + 22):]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _broken()
    entries, directory_size = struct.unpack("<xxxxxxxxxxHI", tail[at:at + 16])
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:
        # Zip64: the real figures are in the zip64 end record the locator points at.
        locator = tail[at - 20:at]
        if len(locator) != 20 or not locator.startswith(b"PK\x06\x07"):
            raise _broken()
        (offset,) = struct.unpack("<Q", locator[8:16])
        record = content[offset:offset + 56]
        if len(record) != 56 or not record.startswith(b"PK\x06\x06"):
            raise _broken()
        entries, directory_size = struct.unpack("<QQ", record[32:48])
    # An entry of an xlsx takes well under 1 KB of the directory (its name and a few fields).
    if entries > limits.max_entries or directory_size > limits.max_entries * 1024:
        raise _unsafe()


def _check_entries(archive: zipfile.ZipFile, limits: ImportLimits) -> None:
    """Refuses entries whose declared sizes or compression are beyond the limits."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise _unsafe()
    total = 0
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _broken()
        if info.file_size > limits.max_entry_bytes:
            raise _unsafe()
        if info.file_size > _RATIO_FLOOR \
                and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise _unsafe()
        total += info.file_size
        if total > limits.max_total_bytes:
            raise _unsafe()


@dataclass
class _Budget:
    """What the parts read so far have cost, shared by every stream of one workbook."""

    limits: ImportLimits
    read_bytes: int = 0
    kept_elements: int = 0


class _XmlGuard:
    """Follows the XML of one part as it is read and raises as soon as it holds a DOCTYPE (the
    way in for entity expansion), nests too deep, or has more elements than the parser may keep."""

    def __init__(self, budget: _Budget) -> None:
        self._budget = budget
        self._limits = budget.limits
        self._depth = 0
        self._freed_at = 0  # the depth of the row or shared string being read, 0 outside
        self._inside = 0
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CommentHandler = self._other
        parser.ProcessingInstructionHandler = self._other
        parser.StartCdataSectionHandler = self._cdata
        parser.ordered_attributes = True
        self._parser = parser
        self._done = False

    def feed(self, data: bytes) -> None:
        """Checks the next bytes of the part (none: its end)."""
        if self._done:
            return
        self._done = not data
        try:
            self._parser.Parse(data, self._done)
        except expat.ExpatError as exc:
            raise _broken() from exc

    def _doctype(self, *_: Any) -> None:
        raise _unsafe()

    def _keep(self, count: int) -> None:
        self._budget.kept_elements += count
        if self._budget.kept_elements > self._limits.max_kept_elements:
            raise _unsafe()

    def _start(self, name: str, attributes: list[str]) -> None:
        self._depth += 1
        if self._depth > self._limits.max_depth:
            raise _unsafe()
        attribute_count = len(attributes) // 2
        if self._freed_at:
            self._inside += 1 + attribute_count
            if self._inside > self._limits.max_row_elements:
                raise _unsafe()
        elif name in _FREED:
            # Its attributes go with its content; the emptied element itself stays.
            self._keep(1)
            self._freed_at, self._inside = self._depth, attribute_count
        else:
            self._keep(1 + attribute_count)

    def _end(self, _name: str) -> None:
        if self._freed_at == self._depth:
            self._freed_at = 0
        self._depth -= 1

    def _other(self, *_: Any) -> None:
        # Comments and the like split an element's text into pieces the tree joins again.
        if self._freed_at:
            self._inside += 1
            if self._inside > self._limits.max_row_elements:
                raise _unsafe()
        else:
            self._keep(1)

    def _cdata(self) -> None:
        self._other()


class _GuardedStream(io.RawIOBase):
    """One part of the archive, read through the limits: never past its declared size (which
    may lie), the per-part cap or the file's budget, and its XML followed by an _XmlGuard."""

    def __init__(self, raw: IO[bytes], cap: int, budget: _Budget, xml: bool) -> None:
        super().__init__()
        self._raw = raw
        self._cap = cap
        self._seen = 0
        self._budget = budget
        self._guard = _XmlGuard(budget) if xml else None
        self._gap = 0  # bytes since the last "<"

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """The next bytes of the part (all of them if size is negative), checked."""
        if size is None or size < 0:
            pieces = []
            while piece := self.read(_SLICE):
                pieces.append(piece)
            return b"".join(pieces)
        if size == 0:
            return b""  # not the end of the part, whatever an empty answer would say
        # One byte past the cap is enough to know it was passed; nothing more is inflated.
        data = self._raw.read(min(size, self._cap - self._seen + 1))
        self._seen += len(data)
        self._budget.read_bytes += len(data)
        if self._seen > self._cap or self._budget.read_bytes > self._budget.limits.max_total_bytes:
            raise _unsafe()
        if self._guard is not None:
            self._check_gap(data)
            self._guard.feed(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def _check_gap(self, data: bytes) -> None:
        """Refuses a text or tag longer than max_token_bytes (the parser would hold it whole)."""
        first = data.find(b"<")
        if first < 0:
            self._gap += len(data)
        else:
            if self._gap + first > self._budget.limits.max_token_bytes:
                raise _unsafe()
            self._gap = len(data) - data.rfind(b"<") - 1
        # Inside one slice a gap is at most the slice, far below the limit.
        if self._gap > self._budget.limits.max_token_bytes:
            raise _unsafe()

    def close(self) -> None:
        self._raw.close()
        super().close()


class GuardedZip(zipfile.ZipFile):
    """A read-only zip whose open() hands out guarded streams (openpyxl reads every part through
    its archive's open(), zipfile.read() included)."""

    def __init__(self, content: bytes, limits: ImportLimits) -> None:
        super().__init__(io.BytesIO(content), "r")
        self._budget = _Budget(limits)

    def open(self, name: Any, mode: str = "r", pwd: bytes | None = None, *,
             force_zip64: bool = False) -> IO[bytes]:
        """The part, read through the limits."""
        if mode != "r":
            raise ValueError("read only")
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        raw = super().open(info, "r", pwd)
        limits = self._budget.limits
        return _GuardedStream(raw, min(info.file_size, limits.max_entry_bytes), self._budget,
                              info.filename.lower().endswith(_XML_SUFFIXES))


def open_workbook_zip(content: bytes, limits: ImportLimits) -> GuardedZip:
    """The workbook's zip with its entries checked; raises ImportFileError (unsafe or
    unreadable) before anything inside is inflated."""
    _check_directory(content, limits)
    try:
        archive = GuardedZip(content, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _broken() from exc
    try:
        _check_entries(archive, limits)
    except ImportFileError:
        archive.close()
        raise
    return archive
