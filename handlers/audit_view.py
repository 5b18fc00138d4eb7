"""The audit trail in plain words for /audit: "5 Des 2026 00.26 WIB – Admin: Pendamping Baru
diubah (Status: menunggu → aktif)", in the reader's language and time zone.

The rows hold field names and raw values (enum values, area codes, ISO dates, counts); here
they become labels and words. Anything not known still reads as words, never as a Python
value. Names and free text never enter the trail (models.audit): a row holds "***" where
one was, and reads "catatan diubah"; every text shown is masked again all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.formatting import format_date_short, format_datetime_short, format_rupiah
from bot.core.parsing import mask_numbers
from bot.core.places import PlaceIndex, timezone_abbr, zone_for
from bot.core.texts import ID, t
from models.audit import REDACTED

JAKARTA = ZoneInfo("Asia/Jakarta")
# Fields never shown: personal or bulky (the broadcast's text, file ids, hashes).
HIDDEN = {"id", "nik", "phone", "nik_hash", "phone_hash", "name_hash", "text", "photo_file_id",
          "document_file_id", "photo_file_ids", "consent_by", "consent_at", "created_at",
          "source_update_id", "approved_at", "telegram_id", "language", "code", "uses",
          "created_by"}
# What a new record's row shows (the rest of its snapshot is the record itself).
CREATED = {
    "mentor": ("role", "status", "area_code"),
    "invite": ("role", "area_code", "max_uses", "expires_at"),
    "broadcast": ("audience", "audience_code", "recipients"),
    "export": ("period", "masked", "rows"),
    "import": ("groups", "members", "grants", "refused"),
    "group": ("village_code", "stage"),
    "member": ("group_id", "role", "category"),
    "visit": ("group_id", "visited_on"),
    # Public money: what was received and what must be, or was, rolled over.
    "grant": ("group_id", "kind", "amount", "rollover_amount", "received_on"),
    "rollover": ("grant_id", "amount", "units", "rolled_on"),
}
# Changed fields in this order (the row's own order is not kept by every database), then the
# rest by name.
ORDER = ("role", "status", "area_code", "mentor_id", "group_id", "reason", "next_visit_due",
         "visit_interval_days", "sent", "blocked", "failed")
AREA_FIELDS = {"area_code", "area", "audience_code", "village_code"}
# Rupiah: a grant's, and a visit's figures and assets (corrected from /riwayat).
MONEY = {"amount", "rollover_amount", "turnover", "profit", "cash", "solidarity_fee",
         "equipment_value", "stock_value"}
OPTIONAL_ON_CREATE = MONEY | {"units"}
# Where a field's values have words: the vocabularies tried in turn.
VOCABULARIES = {
    "status": ("status", "audit.status"),
    "role": ("role", "audit.role"),
    "reason": ("era.reason", "audit.reason"),
    "audience": ("audit.audience",),
    "stage": ("stage",),
    "activities": ("activity",),
    "category": ("welfare",),
    "business_type": ("business",),
    "affiliation": ("affiliation",),
    "kind": ("audit.grant_kind",),
}


@dataclass
class Names:
    """Names of the mentors and groups the rows point to (by id), looked up by the caller."""

    mentors: Mapping[int, str] = field(default_factory=dict)
    groups: Mapping[int, str] = field(default_factory=dict)


def viewer_zone(area_code: str | None) -> tuple[ZoneInfo, str]:
    """The reader's time zone and its abbreviation: their area's province, else Jakarta."""
    if area_code:
        try:
            return zone_for(area_code), timezone_abbr(area_code)
        except ValueError:
            pass
    return JAKARTA, "WIB"


def when(at: datetime, lang: str, area_code: str | None) -> str:
    """"5 Des 2026 00.26 WIB": the row's time where the reader is."""
    zone, abbr = viewer_zone(area_code)
    moment = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone)
    return f"{format_datetime_short(moment, lang)} {abbr}"


def _words(name: str) -> str:
    """An unknown field or value name as words: "next_due" → "next due"."""
    return str(name).replace("_", " ").strip()


def _vocabulary(lang: str, prefixes: tuple[str, ...], value: Any) -> str | None:
    for prefix in prefixes:
        key = f"{prefix}.{_words(value).replace(' ', '_')}"
        if key in ID:
            return t(lang, key)
    return None


def field_label(lang: str, name: str) -> str:
    key = f"audit.field.{name}"
    if key in ID:
        return t(lang, key)
    words = _words(name)
    return words[:1].upper() + words[1:]


class Renderer:
    """Turns audit rows into lines for one reader."""

    def __init__(self, *, lang: str, places: PlaceIndex, area_code: str | None,
                 names: Names | None = None) -> None:
        self.lang = lang
        self.places = places
        self.area_code = area_code
        self.names = names or Names()

    def t(self, key: str, /, **values: object) -> str:
        return t(self.lang, key, **values)

    # --- values --------------------------------------------------------------------------

    def _area(self, code: Any) -> str:
        place = self.places.get(code) if isinstance(code, str) else None
        return place.label if place else mask_numbers(str(code))

    def _date(self, value: str) -> str | None:
        try:
            if "T" in value or " " in value:
                moment = datetime.fromisoformat(value)
                return when(moment, self.lang, self.area_code)
            return format_date_short(date.fromisoformat(value), self.lang)
        except ValueError:
            return None

    def _counts(self, counts: Mapping[Any, Any]) -> str:
        parts = []
        for key, count in counts.items():
            label = _vocabulary(self.lang, ("audit.count",), key) or _words(key)
            parts.append(f"{label} {self.value('', count)}")
        return ", ".join(parts) or self.t("common.none")

    def value(self, name: str, value: Any) -> str:
        """One value as words: "-" for nothing, labels for enum values, area names, dates."""
        if value is None or value == "":
            return self.t("common.none")
        if isinstance(value, bool):
            return self.t("audit.yes" if value else "audit.no")
        if name in AREA_FIELDS:
            return self._area(value)
        if name == "mentor_id" and isinstance(value, int):
            return mask_numbers(self.names.mentors.get(value) or f"#{value}")
        if name == "group_id" and isinstance(value, int):
            return mask_numbers(self.names.groups.get(value) or f"#{value}")
        if name in MONEY and isinstance(value, int):
            return format_rupiah(value, self.lang)
        if name == "grant_id" and isinstance(value, int):
            return f"#{value}"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, Mapping):
            return self._counts(value)
        if isinstance(value, (list, tuple, set)):
            return ", ".join(self._item(name, v) for v in value) or self.t("common.none")
        text = str(value)
        if name in VOCABULARIES:
            word = _vocabulary(self.lang, VOCABULARIES[name], text)
            if word:
                return word
        shown = self._date(text) if text[:1].isdigit() else None
        if shown:
            return shown
        if name in VOCABULARIES or "_" in text:
            return mask_numbers(_words(text))
        return mask_numbers(text[:60])

    def _item(self, name: str, value: Any) -> str:
        if name == "erased":  # which fields went: "nama, NIK, nomor HP"
            label = field_label(self.lang, str(value))
            return label if label[1:2].isupper() else label[:1].lower() + label[1:]
        return self.value(name, value)

    # --- rows ----------------------------------------------------------------------------

    def _subject(self, row: Any) -> str:
        kind_key = f"audit.entity.{row.entity}"
        kind = self.t(kind_key) if kind_key in ID else _words(row.entity)
        new = row.new or {}
        name = None
        if row.entity in ("group", "mentor") and row.entity_id is not None:
            known = self.names.groups if row.entity == "group" else self.names.mentors
            name = known.get(row.entity_id)
        if name is None and row.entity in ("group", "mentor") and isinstance(
                new.get("name"), str) and new["name"] != REDACTED:  # a row older than 0010
            name = new["name"]
        if name:
            return f"{kind} {mask_numbers(name[:60])}"
        if row.entity_id is not None:
            return f"{kind} #{row.entity_id}"
        return kind

    def _what(self, row: Any) -> str:
        new = row.new or {}
        special = f"audit.what.{row.entity}.{row.action}"
        if special in ID:
            return self.t(special, area=self.value("area", new.get("area"))
                          if new.get("area") else self.t("coord.whole_country"))
        general = f"audit.what.{row.action}"
        subject = self._subject(row)
        if general in ID:
            return self.t(general, subject=subject)
        return self.t("audit.what.other", subject=subject, action=_words(row.action))

    def _fields(self, row: Any) -> list[str]:
        new, old = row.new or {}, row.old or {}
        if row.action == "create":
            names = CREATED.get(row.entity, ())
        else:
            names = tuple(sorted(new, key=lambda n: (ORDER.index(n) if n in ORDER
                                                     else len(ORDER), n)))
        parts = []
        for name in names:
            if name in HIDDEN or name not in new or (name == "area" and row.entity == "export"):
                continue
            value = new[name]
            if REDACTED in (value, old.get(name)):
                # A name or note was there: which one, and that it changed, is enough.
                if row.action != "create":
                    parts.append(self.t("audit.hidden_gone" if value is None
                                        else "audit.hidden_changed",
                                        field=field_label(self.lang, name)))
                continue
            if value is None and name in OPTIONAL_ON_CREATE and row.action == "create":
                continue  # a goods-only grant has no Rupiah value to show, and so on
            shown = self.value(name, value)
            if name in old and old[name] != value and old[name] != "***":
                shown = f"{self.value(name, old[name])} → {shown}"
            parts.append(f"{field_label(self.lang, name)}: {shown}")
        return parts

    def line(self, row: Any, who: str) -> str:
        what = self._what(row)
        what = what[:1].upper() + what[1:]
        stamp = when(row.at, self.lang, self.area_code)
        change = "; ".join(self._fields(row))
        if change:
            return self.t("audit.line_change", when=stamp, who=who, what=what, change=change)
        return self.t("audit.line", when=stamp, who=who, what=what)


def render(rows: list, *, lang: str, places: PlaceIndex, area_code: str | None,
           who: Callable[[Any], str], names: Names | None = None) -> list[str]:
    renderer = Renderer(lang=lang, places=places, area_code=area_code, names=names)
    return [renderer.line(row, who(row)) for row in rows]
