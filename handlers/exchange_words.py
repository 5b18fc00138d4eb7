"""The words of an Excel import, in the user's language: the report of an import (rows taken,
rows refused and why) and the refusal of a whole file. Shared by the chat's upload reply
(handlers.reports) and the ``pendamping import`` command (bot.cli); models.exchange answers
in data only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.core.texts import t
from models.exchange import (
    CONSENT_HEADER,
    MEMBER_SHEET,
    ImportFileError,
    ImportReport,
    Reason,
)


def row_ranges(numbers: Iterable[int]) -> str:
    """2, 3, 4, 7 → "2–4, 7"."""
    ordered = sorted(set(numbers))
    runs: list[list[int]] = []
    for number in ordered:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ", ".join(_span(first, last) for first, last in runs)


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def file_error_text(error: ImportFileError, lang: str | None) -> str:
    """Why the whole file was refused."""
    return t(lang, f"rep.file.{error.code}", **error.params)


def reason_text(reason: Reason, lang: str | None) -> str:
    values: dict[str, Any] = dict(reason.values)
    if reason.column is not None:
        values["column"] = reason.column
    return t(lang, f"rep.reason.{reason.code}", **values)


def refusal_lines(report: ImportReport, lang: str | None) -> list[str]:
    """One line per refused row, "Kelompok baris 4: kode desa … tidak dikenal; …"; rows next
    to each other refused for the same reasons share a line ("Anggota baris 14–19: …")."""
    runs: list[tuple[str, int, int, str]] = []  # sheet, first row, last row, reasons
    for refusal in report.sorted_refusals():
        reasons = "; ".join(reason_text(reason, lang) for reason in refusal.reasons)
        if runs and runs[-1][0] == refusal.sheet and runs[-1][2] == refusal.row - 1 \
                and runs[-1][3] == reasons:
            runs[-1] = (refusal.sheet, runs[-1][1], refusal.row, reasons)
        else:
            runs.append((refusal.sheet, refusal.row, refusal.row, reasons))
    return [t(lang, "rep.refused_line", sheet=sheet, reasons=reasons, row=_span(first, last))
            for sheet, first, last, reasons in runs]


def report_text(report: ImportReport, lang: str | None, file_name: str) -> str:
    """The counts and the rows taken (without the refusals, which come as a list)."""
    taken = [t(lang, "rep.taken_rows", sheet=sheet, rows=row_ranges(numbers))
             for sheet, numbers in report.taken.items() if numbers]
    done = t(lang, "rep.import_done", file=file_name,
             groups_created=report.groups["created"], groups_updated=report.groups["updated"],
             groups_unchanged=report.groups["unchanged"],
             members_created=report.members["created"],
             members_updated=report.members["updated"],
             members_unchanged=report.members["unchanged"],
             taken="\n".join(taken) or t(lang, "rep.taken_none"),
             refused=len(report.refused),
             grants=t(lang, "rep.import_grants", created=report.grants["created"],
                      updated=report.grants["updated"],
                      unchanged=report.grants["unchanged"]) if report.has_grants else "")
    taken_members = set(report.taken[MEMBER_SHEET])
    unconsented = [number for number in report.without_consent if number in taken_members]
    if unconsented:
        done += "\n\n" + t(lang, "rep.without_consent", sheet=MEMBER_SHEET,
                           rows=row_ranges(unconsented), column=CONSENT_HEADER)
    return done
