"""Excel exchange: an area's data as a workbook (export), an empty template, and groups with
their households read back from a filled template (import).

Import is in two steps: :func:`read_workbook` (pure, no database; callers may run it in a
thread) turns the file into rows, and :func:`import_rows` checks every row against the
programme's rules and the actor's area, then writes what passed in one transaction. An
exported workbook can be imported again: the import reads columns by their headers and
ignores the ones it does not know.

The modules: ``workbook`` (sheet names, formats, limits), ``columns`` and ``export``,
``template``, ``reading`` and ``values`` (the file and its cells), ``report`` (what an import
answers: typed refusals, no words), ``groups``, ``members`` and ``grants`` (the checks of the
Kelompok, Anggota and Bantuan sheets), ``plans``, ``lookup`` and ``apply`` (the import's state, its queries and
its writes), ``importing`` (the steps in order). What an import answers is worded above the
models (handlers.exchange_words). The workbook's own cells are part of the file format: sheet
and column names, and the labels of fixed values ("Ternak", "miskin") in Indonesian for every
reader, taken from bot.core.texts so that the import reads back exactly what the bot writes.

Nothing here logs cell values: they contain names, NIKs and phone numbers.
"""

from models.exchange.export import export_file_name, export_workbook, record_export
from models.exchange.importing import import_rows
from models.exchange.reading import RawFile, RawRow, read_workbook
from models.exchange.report import (
    FileProblem,
    ImportFileError,
    ImportReport,
    Reason,
    RefusalCode,
)
from models.exchange.safezip import ImportLimits, import_limits
from models.exchange.template import template_workbook
from models.exchange.workbook import (
    CONSENT_HEADER,
    EXPORT_SHEETS,
    GROUP_SHEET,
    MAX_IMPORT_BYTES,
    MEMBER_SHEET,
)

__all__ = [
    "CONSENT_HEADER", "EXPORT_SHEETS", "GROUP_SHEET", "MAX_IMPORT_BYTES", "MEMBER_SHEET",
    "FileProblem", "ImportFileError", "ImportLimits", "ImportReport", "RawFile", "RawRow",
    "Reason", "RefusalCode",
    "export_file_name", "export_workbook", "import_limits", "import_rows", "read_workbook",
    "record_export",
    "template_workbook",
]
