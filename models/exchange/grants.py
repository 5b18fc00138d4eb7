"""The Bantuan sheet: each row a grant (bantuan) to a group of the Kelompok sheet or a
registered one, checked on its own with the chat's rules (models.saving.grant), then matched
to the group's grants: a grant already recorded (same day received, kind and amount) is left
as it is, so a file imported again, or an export imported back, adds nothing twice.

Older files say "stimulan" for the kind: it reads as the kind migration 0007 gives such
grants (by funding source). A file without the sheet imports as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from bot.core.enums import FundingSource, GrantForm, GrantKind, grant_kind_for_legacy
from models.changes import is_read_only
from models.exchange.plans import GroupPlan, ImportRun
from models.exchange.reading import RawRow
from models.exchange.report import RefusalCode
from models.exchange.values import blank, group_key, norm, text, whole_number, word
from models.exchange.workbook import GRANT_SHEET
from models.saving.grant import GrantReason, check_obligation, check_received, due_fits
from models.tables import Grant

KINDS = tuple(v.value for v in GrantKind)
FUNDS = tuple(v.value for v in FundingSource)
FORMS = tuple(v.value for v in GrantForm)
_LEGACY_KIND_WORDS = {"stimulan", "bantuan stimulan", "stimulus", "stimulus grant"}
_YES = {"ya", "y", "yes", "wajib", "1", "true"}
_NO = {"tidak", "t", "no", "n", "tidak wajib", "0", "false"}
# The chat's refusals, as the import words them.
_REASONS = {GrantReason.RECEIVED_IN_FUTURE: RefusalCode.DATE_FUTURE,
            GrantReason.RECEIVED_BEFORE_FORMED: RefusalCode.GRANT_BEFORE_FORMED,
            GrantReason.NO_OBLIGATION: RefusalCode.NO_OBLIGATION,
            GrantReason.ROLL_OVER_GRANT: RefusalCode.ROLL_OVER_GRANT}


@dataclass
class GrantPlan:
    """A Bantuan row checked on its own, for the group ``key`` (of the file or registered)."""

    row: RawRow
    key: tuple[str, str]
    fields: dict[str, Any]
    existing: Grant | None = None  # recorded already: only its LPJ date may be added

    @property
    def identity(self) -> tuple[date, str, int | None]:
        return self.fields["received_on"], self.fields["kind"], self.fields.get("amount")


def grant_identity(grant: Grant) -> tuple[date, str, int | None]:
    return grant.received_on, grant.kind, grant.amount


def _money(run: ImportRun, row: RawRow, key: str, column: str) -> int | None | bool:
    """A whole Rupiah (or count) cell: None when blank, False (refused) when not a number."""
    cell = row.values.get(key)
    if blank(cell):
        return None
    number = whole_number(cell)
    if number is None:
        digits = text(cell).replace("Rp", "").replace(".", "").replace(",", "").strip()
        number = int(digits) if digits.isdigit() else None
    if number is None or number < 0:
        run.refuse(GRANT_SHEET, row, RefusalCode.NUMBER, column=column, value=text(cell))
        return False
    return number


def _kind(run: ImportRun, row: RawRow, funding: str | None) -> str | None:
    cell = row.values.get("kind")
    if blank(cell):
        return None
    if norm(text(cell)) in _LEGACY_KIND_WORDS:
        return grant_kind_for_legacy(funding).value
    found = word(cell, "grantkind", KINDS)
    if found is None:
        run.refuse(GRANT_SHEET, row, RefusalCode.GRANT_KIND, value=text(cell))
    return found


def _required(run: ImportRun, row: RawRow) -> bool | None:
    """"Wajib digulirkan?": ya (also when blank, as before the question) or tidak."""
    cell = row.values.get("rollover_required")
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return True
    if isinstance(cell, bool):
        return cell
    said = norm(text(cell))
    if said in _YES or said in _NO:
        return said in _YES
    run.refuse(GRANT_SHEET, row, RefusalCode.YES_NO, column="Wajib digulirkan?",
               value=text(cell))
    return None


def _date(run: ImportRun, row: RawRow, key: str, column: str, village: str, *,
          past: bool = True) -> date | None:
    if blank(row.values.get(key)):
        return None
    return run.read_date(GRANT_SHEET, row, key, column, village, past=past)


def check_grant_row(run: ImportRun, row: RawRow, village: str, key: tuple[str, str],
                    formed_on: date | None) -> GrantPlan | None:
    """The row's grant with the chat's rules: kind, funding and form known; received by today
    and not before the group was formed; cash with its amount, goods with what was given; an
    obligation when one is required, with its deadline after receipt; the LPJ not before
    receipt. None when refused."""
    values = row.values
    funding = word(values.get("funding_source"), "fund", FUNDS) \
        if not blank(values.get("funding_source")) else None
    if funding is None and not blank(values.get("funding_source")):
        run.refuse(GRANT_SHEET, row, RefusalCode.FUNDING, value=text(values["funding_source"]))
    kind = _kind(run, row, funding)
    form = word(values.get("form"), "grantform", FORMS) if not blank(values.get("form")) \
        else None
    if form is None and not blank(values.get("form")):
        run.refuse(GRANT_SHEET, row, RefusalCode.GRANT_FORM, value=text(values["form"]))
    for name, column in (("kind", "Jenis bantuan"), ("funding_source", "Sumber dana"),
                         ("form", "Bentuk"), ("received_on", "Tanggal diterima")):
        if blank(values.get(name)):
            run.refuse(GRANT_SHEET, row, RefusalCode.GRANT_REQUIRED, column=column)
    received = _date(run, row, "received_on", "Tanggal diterima", village)
    amounts = {name: _money(run, row, name, column) for name, column in (
        ("amount", "Nilai"), ("rollover_amount", "Wajib gulir (Rp)"),
        ("rollover_units", "Wajib gulir (unit)"),
        ("rollover_households", "Wajib gulir (KK/kelompok)"))}
    required = _required(run, row)
    due = _date(run, row, "rollover_due", "Jatuh tempo gulir", village, past=False)
    lpj_on = _date(run, row, "lpj_submitted_on", "Tanggal LPJ", village)
    if run.report.is_refused(GRANT_SHEET, row.number) or received is None:
        return None
    amount = amounts["amount"] or None
    goods = text(values.get("goods")) if not blank(values.get("goods")) else None
    reason = check_received(received, formed_on=formed_on, today=run.today_at(village))
    if reason is not None:
        run.refuse(GRANT_SHEET, row, _REASONS[reason], column="Tanggal diterima")
    if form == GrantForm.CASH and not amount:
        run.refuse(GRANT_SHEET, row, RefusalCode.GRANT_REQUIRED, column="Nilai")
    if form == GrantForm.GOODS and not goods:
        run.refuse(GRANT_SHEET, row, RefusalCode.GRANT_REQUIRED, column="Barang")
    fields: dict[str, Any] = {
        "kind": kind, "funding_source": funding, "form": form, "amount": amount,
        "goods_description": goods if form == GrantForm.GOODS else None,
        "received_on": received, "rollover_required": bool(required),
        "lpj_submitted_on": lpj_on,
    }
    if required:
        targets = {name: amounts[name] or None for name in (
            "rollover_amount", "rollover_units", "rollover_households")}
        reason = check_obligation(amount=amount, roll_amount=targets["rollover_amount"],
                                  roll_units=targets["rollover_units"],
                                  roll_households=targets["rollover_households"])
        if reason is not None:
            run.refuse(GRANT_SHEET, row, _REASONS[reason])
        if due is None:
            run.refuse(GRANT_SHEET, row, RefusalCode.GRANT_REQUIRED, column="Jatuh tempo gulir")
        elif not due_fits(received, due):
            run.refuse(GRANT_SHEET, row, RefusalCode.DUE_RANGE)
        unit = text(values.get("rollover_unit_label")) or None
        fields.update(targets, rollover_due=due,
                      rollover_unit_label=unit if targets["rollover_units"] else None)
    if lpj_on is not None and lpj_on < received:
        run.refuse(GRANT_SHEET, row, RefusalCode.LPJ_BEFORE_RECEIVED)
    fields["lpj_due"] = received + relativedelta(months=run.lpj_months)
    if run.report.is_refused(GRANT_SHEET, row.number):
        return None
    return GrantPlan(row, key, fields)


def plan_grants(run: ImportRun, rows: list[RawRow], villages: dict[int, str | None],
                groups: dict[tuple[str, str], GroupPlan],
                grants_of: dict[int, list[Grant]]) -> list[GrantPlan]:
    """Every Bantuan row attached to its group and checked, and matched to the grant the group
    already has (same day received, kind, amount); a row repeating an earlier one is
    refused."""
    planned: list[GrantPlan] = []
    seen: dict[tuple[tuple[str, str], tuple[date, str, int | None]], int] = {}
    for row in rows:
        village = villages.get(row.number)
        if not village:
            continue
        key = group_key(village, text(row.values.get("group")))
        group_plan = groups.get(key)
        if group_plan is None:
            run.refuse(GRANT_SHEET, row, RefusalCode.GROUP_UNKNOWN,
                       name=text(row.values.get("group")), code=village)
            continue
        if group_plan.existing is not None and is_read_only(group_plan.existing):
            run.refuse(GRANT_SHEET, row, RefusalCode.GROUP_DISSOLVED,
                       name=group_plan.existing.name)
            continue
        if group_plan.refused and group_plan.existing is None:  # the group is not created
            run.refuse(GRANT_SHEET, row, RefusalCode.GROUP_REFUSED,
                       row=group_plan.row.number if group_plan.row else "-")
            continue
        formed_on = (group_plan.fields.get("formed_on")
                     or (group_plan.existing.formed_on if group_plan.existing else None))
        plan = check_grant_row(run, row, village, key, formed_on)
        if plan is None:
            continue
        earlier = seen.get((key, plan.identity))
        if earlier is not None:
            run.refuse(GRANT_SHEET, row, RefusalCode.DUPLICATE_GRANT, row=earlier)
            continue
        seen[(key, plan.identity)] = row.number
        stored = grants_of.get(group_plan.existing.id, []) if group_plan.existing else []
        plan.existing = next((grant for grant in stored
                              if grant_identity(grant) == plan.identity), None)
        planned.append(plan)
    return planned
