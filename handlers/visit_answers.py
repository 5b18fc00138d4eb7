"""What a visit's answers are read with, wherever they are typed: when it is logged
(/kunjungan) and when it is corrected (handlers.visit_correction)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core.formatting import format_date
from bot.core.parsing import MAX_COUNT_WORDS, parse_count, parse_leading_count
from bot.telegram.context import BotContext
from handlers import visits_views as views
from handlers.common import iso_date
from handlers.day_answers import day_error
from models.saving import visit as rules

MAX_TEXT = 1000  # a note (problems, follow-up): longer is cut, not refused
MAX_LIVESTOCK = 100_000


def read_livestock(text: str) -> int | None:
    """"12", "12 ekor", "dua belas ekor kambing": the head of livestock."""
    read = parse_leading_count(text, minimum=0, maximum=MAX_LIVESTOCK)
    return None if read is None or any(ch.isdigit() for ch in read[1]) else read[0]


def date_error(context: BotContext, draft: dict[str, Any], visited: date,
               today: date) -> str | None:
    """Why the group's dates (in ``draft``) do not allow ``visited`` (models' rule), in words;
    or None."""
    formed = iso_date(draft.get("formed_on"))
    wrong = rules.check_visit_date(visited, formed_on=formed, today=today)
    return None if wrong is None else day_error(
        context, late=wrong is rules.VisitReason.DATE_IN_FUTURE, today=today,
        example=f"{today:%d/%m/%Y}", texts="visit", before="visit.before_formed",
        group=draft.get("group_name", ""),
        formed=format_date(formed, context.lang) if formed else "-")


def read_attendance(context: BotContext, text: str, members: int) -> tuple[int | None, str]:
    """The households present (0..``members``, the active ones), or None with why and an
    example."""
    attendance = parse_count(text, minimum=0, maximum=MAX_COUNT_WORDS)
    if attendance is None or not rules.attendance_fits(attendance, members=members):
        return None, context.t("visit.bad_attendance", max=members,
                               example=views.attendance_example(members))
    return attendance, ""
