"""One saved visit in full, as /riwayat opens it ("riw:visit:<id>") and as a correction shows
it after: every answer, its location as a Telegram location and its photos resent by their
stored file ids (an album when there are several), and, for the mentor who may still correct
it, the Perbaiki button ("vfix:start:<id>", handlers.visit_correction)."""

from __future__ import annotations

from datetime import date, datetime

from telegram import InputMediaPhoto, Update
from telegram.error import BadRequest

from bot.core import clock
from bot.core.formatting import format_date, format_date_short
from bot.core.parsing import mask_numbers
from bot.telegram.context import BotContext
from handlers.common import keyboard, say
from handlers.visits_views import (
    ASSETS,
    FIGURES,
    MAX_PHOTOS,
    activities_text,
    amount_text,
    assets_text,
)
from models import mentors as mentor_queries
from models.saving.visit_correction import correctable_until, may_correct
from models.tables import Group, Visit

CORRECT_PREFIX = "vfix"  # handlers.visit_correction's buttons


def _local_day(moment: datetime, group: Group) -> date:
    """The calendar day of a stored moment where the group is."""
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=clock.now().tzinfo)
    return moment.astimezone(clock.local_now(group.village_code).tzinfo).date()


async def visit_text(context: BotContext, visit: Visit, group: Group, *,
                     correctable: bool) -> str:
    """Every answer of the visit, the notes masked as everywhere in chat; "diperbaiki
    <tanggal>" once corrected; until when its mentor may correct it (``correctable``)."""
    lang, none = context.lang, context.t("common.none")
    mentor = await mentor_queries.get(session=context.session, mentor_id=visit.mentor_id)
    figures = [context.t(f"visit.figure.{field}", value=amount_text(context, value))
               for field in FIGURES if (value := getattr(visit, field)) is not None]
    extra = ""
    if figures:
        since = "" if visit.figures_from is None else context.t(
            "visit.history_since", date=format_date_short(visit.figures_from, lang))
        extra += context.t("visit.card_figures", span=since, figures=" · ".join(figures))
    assets = {field: getattr(visit, field) for field in ASSETS}
    if any(value is not None for value in assets.values()):
        extra += context.t("visit.card_assets", assets=assets_text(context, assets))
    photos = len(visit.photo_file_ids or [])
    text = context.t(
        "visit.card", group=group.name, date=format_date(visit.visited_on, lang),
        mentor=mentor.name if mentor is not None else none, attendance=visit.attendance,
        activities=activities_text(context, visit.activities or []) or none, extra=extra,
        problems=mask_numbers(visit.problems or none),
        follow_up=mask_numbers(visit.follow_up or none),
        location=context.t("visit.card_location") if visit.latitude is not None else none,
        photos=context.t("visit.photos_count", count=photos) if photos else none,
        next=format_date(visit.next_visit_on, lang))
    if visit.corrected_at is not None:
        text += "\n" + context.t("visit.card_corrected", date=format_date_short(
            _local_day(visit.corrected_at, group), lang))
    if correctable:
        until = correctable_until(visit, context.settings.visit_correction_days)
        text += "\n\n" + context.t("visit.card_until", date=format_date_short(
            _local_day(until, group), lang))
    return text


async def send_visit(update: Update, context: BotContext, visit: Visit, group: Group, *,
                     media: bool = True) -> None:
    """Sends the visit: its text (with Perbaiki for its mentor while allowed), then (``media``)
    its location and its photos."""
    correctable = may_correct(visit, group, context.mentor,
                              days=context.settings.visit_correction_days) is None
    markup = keyboard([[(context.t("visit.correct_button"),
                         f"{CORRECT_PREFIX}:start:{visit.id}")]]) if correctable else None
    await say(update, await visit_text(context, visit, group, correctable=correctable),
              reply_markup=markup)
    if not media:
        return
    chat = update.effective_chat
    assert chat is not None
    if visit.latitude is not None and visit.longitude is not None:
        await chat.send_location(latitude=visit.latitude, longitude=visit.longitude)
    photos = list(visit.photo_file_ids or [])
    if not photos:
        return
    caption = context.t("visit.card_photos", group=group.name,
                        date=format_date_short(visit.visited_on, context.lang))
    try:
        if len(photos) == 1:
            await chat.send_photo(photos[0], caption=caption)
        else:
            # An album holds 2 to 10 photos, and a visit keeps at most 10 (MAX_PHOTOS).
            await chat.send_media_group([
                InputMediaPhoto(file_id, caption=caption if no == 0 else None)
                for no, file_id in enumerate(photos[:MAX_PHOTOS])])
    except BadRequest:
        # A file id Telegram no longer knows (another bot token, a file too old): the rest of
        # the visit has been shown.
        await say(update, context.t("visit.card_photos_gone"))
