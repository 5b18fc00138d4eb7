"""Which values the audit trail keeps: every text column of an audited table is either kept
(a code, an enum, a list of them) or only said to be there ("***"), and someone decided which."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, String, Text, func, select

from models import audit
from models.tables import AuditLog, Member, Visit

# The text columns whose values the trail keeps, reviewed: enum values, area codes, file ids,
# the decree's number, the bank's name and where a group's place came from. A new text column fails this test until it is
# declared personal (models.tables.personal) or added here.
KEPT = {
    "mentor": {"language", "role", "status", "area_code", "affiliation"},
    "invite": {"role", "area_code"},
    "group": {"business_type", "status", "status_reason", "binding_ties", "decree_number",
              "stage", "bank_name", "village_code", "place_source"},
    "member": {"register_status", "role", "welfare_category", "head_sex", "leave_reason"},
    "visit": {"activities", "photo_file_ids"},
    "grant": {"kind", "form", "funding_source"},
    "rollover": {"recipient_village_code", "recipient_kind"},
    "training": {"attendee_ids"},
    "broadcast": {"status", "audience_code", "audience", "photo_file_id", "area_code",
                  "document_file_id"},
}


def _text_columns(model) -> set[str]:
    return {column.name for column in model.__table__.columns
            if isinstance(getattr(column.type, "impl", column.type), (String, Text, JSON))}


def test_every_text_column_of_an_audited_table_is_kept_or_personal_by_decision():
    assert set(audit.ENTITIES) == set(KEPT)
    for entity, model in audit.ENTITIES.items():
        kept = _text_columns(model) - audit.personal_fields(model)
        assert kept == KEPT[entity], entity


def test_record_keeps_which_names_and_notes_changed_not_what_they_said():
    member = Member(id=5, group_id=1, name="Siti Aminah", welfare_category="miskin",
                    role="ketua", nik="3202114507800001", phone="+6281277776666",
                    joined_on=date(2026, 1, 10), leave_note=None)
    old = audit.snapshot(member)
    member.leave_note, member.role = "ikut Siti Aminah", "anggota"
    before, after = audit.changes(old, audit.snapshot(member))
    entry = audit.record(session=_Session(), actor_telegram_id=1, action="update",
                         entity="member", entity_id=5, old=before, new=after)
    assert (entry.old, entry.new) == ({"role": "ketua", "leave_note": None},
                                      {"role": "anggota", "leave_note": "***"})
    created = audit.record(session=_Session(), actor_telegram_id=1, action="create",
                           entity="member", entity_id=5, new=audit.snapshot(member))
    assert "siti" not in str(created.new).lower() and "7777" not in str(created.new)
    assert created.new["name"] == created.new["nik"] == created.new["phone"] == "***"
    assert created.new["joined_on"] == "2026-01-10" and created.new["head_sex"] is None
    visit = audit.record(session=_Session(), actor_telegram_id=1, action="create",
                         entity="visit", entity_id=1, new=audit.snapshot(Visit(
                             id=1, group_id=1, mentor_id=1, visited_on=date(2026, 11, 24),
                             attendance=6, activities=["pemantauan"], problems="Siti sakit",
                             next_visit_on=date(2026, 12, 24))))
    assert visit.new["problems"] == "***" and visit.new["activities"] == ["pemantauan"]
    # What is not a table's (an export, an import) is written as given.
    export = audit.record(session=_Session(), actor_telegram_id=1, action="create",
                          entity="export", entity_id=None, new={"area": "32.02"})
    assert export.new == {"area": "32.02"}


class _Session:
    """Stands in for the session: record() only keeps the row in it, for the commit."""

    def __init__(self) -> None:
        self.info: dict = {}

    def in_transaction(self) -> bool:
        return True


async def test_rows_are_written_by_the_commit_as_given_and_dropped_by_a_rollback(session):
    # The commit writes the waiting rows in one statement: read back, they are what record()
    # returned, an absent side (None) included; a rollback drops what waited.
    audit.record(session=session, actor_telegram_id=1, action="delete", entity="export",
                 entity_id=None, old={"area": "32.02"})
    await session.rollback()
    kept = [audit.record(session=session, actor_telegram_id=actor, action="update",
                         entity="visit", entity_id=7, old=old, new=new)
            for actor, old, new in ((1, None, {"attendance": 6, "problems": "Siti sakit"}),
                                    (None, {"figures_from": None, "activities": ["usaha"]},
                                     {"figures_from": "2026-11-01", "activities": []}))]
    await session.commit()
    stored = (await session.execute(select(AuditLog).order_by(AuditLog.id))).scalars().all()
    assert [(row.at, row.actor_telegram_id, row.action, row.entity, row.entity_id, row.old,
             row.new) for row in stored] == [
        (entry.at, entry.actor_telegram_id, "update", "visit", 7, entry.old, entry.new)
        for entry in kept]
    assert stored[0].new == {"attendance": 6, "problems": "***"}
    # JSON's null, as the ORM wrote an absent side before: no SQL NULL.
    assert (await session.execute(select(func.count()).where(
        AuditLog.old.is_(None)))).scalar_one() == 0
