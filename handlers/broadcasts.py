"""/siaran: a coordinator or an admin sends one message to many mentors of their area.

Diagram: broadcasts.mmd beside this file. Recipients are computed on the server from the
actor's own area, for the preview and again on Kirim; the outbox worker (scheduler.outbox)
delivers, never the handler, so the bot keeps answering everyone while a broadcast goes out.
"""

from __future__ import annotations

from enum import IntEnum

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, filters

from bot.core.enums import AreaLevel, Audience, OutboxStatus, Role
from bot.core.parsing import mask_numbers
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import (
    END,
    STAFF_ROLES,
    answer_found,
    close_buttons,
    column,
    guard,
    keyboard,
    pressed,
    say,
    typed_search,
)
from handlers.flow import TEXT, Flow, Summary
from models import broadcasts as queries
from models.tables import BroadcastRecipient
from scheduler import outbox

PREFIX = "sia"
TEXT_MIN, TEXT_MAX = 2, 3500
MESSAGE_LIMIT, CAPTION_LIMIT = 4096, 1024  # Telegram's, after {nama} becomes a name
DISTRICT_BUTTONS = 30  # more districts than this: the coordinator types part of the name
FAILED_TEXT_LIMIT = 3800


class Step(IntEnum):
    TEXT = 1
    AUDIENCE = 2
    DISTRICT = 3
    CONFIRM = 4
    # Before Ubah swapped the preview's buttons in place, it asked "Apa yang ingin diubah?" in
    # a state of its own: a draft stored there answers as the preview does.
    EDIT = 5


FIELDS = {"text": Step.TEXT, "audience": Step.AUDIENCE}

flow = Flow("broadcast", prefix=PREFIX, what="bc.what", summary=Step.CONFIRM,
            roles=STAFF_ROLES)


# --- renderings ------------------------------------------------------------------------------

def _area_label(context: BotContext, code: str | None) -> str:
    place = context.places.get(code) if code else None
    return place.label if place else context.t("bc.whole_country")


def _actor_area(context: BotContext) -> str | None:
    """The area the actor broadcasts to (None: an admin, the whole country)."""
    mentor = context.mentor
    return None if mentor is None or mentor.role == Role.ADMIN else mentor.area_code


def _audience_label(context: BotContext, draft: dict) -> str:
    audience = draft["audience"]
    code = draft.get("district") if audience == Audience.DISTRICT else _actor_area(context)
    return context.t(f"bc.audience.{audience}", area=_area_label(context, code))


def _district_button(context: BotContext, code: str, count: int) -> tuple[str, str]:
    place = context.places.get(code)
    area = _actor_area(context)
    # Inside one regency the district's name says it all; wider, the regency tells them apart.
    short = area is not None and len(area.split(".")) == int(AreaLevel.REGENCY)
    name = (place.name if short else place.label) if place else code
    return f"{name} ({count})", f"{PREFIX}:dist:{code}"


def _reason(context: BotContext, row: BroadcastRecipient) -> str:
    if row.status == OutboxStatus.BLOCKED:
        return context.t("bc.reason.blocked")
    if row.reason == outbox.REASON_INTERRUPTED:
        return context.t("bc.reason.interrupted")
    if row.reason == outbox.REASON_TIMED_OUT:
        return context.t("bc.reason.timed_out")
    return context.t("bc.reason.other", error=row.reason or "-")


async def _send_as_recipients_see_it(update: Update, draft: dict, name: str) -> None:
    """The message exactly as a recipient gets it, with ``name`` for {nama}."""
    chat = update.effective_chat
    text = queries.render(draft["text"], name)
    if draft.get("photo"):
        await chat.send_photo(draft["photo"], caption=text or None)
    elif draft.get("document"):
        await chat.send_document(draft["document"], caption=text or None)
    else:
        await chat.send_message(text)


# --- questions -------------------------------------------------------------------------------

@flow.question(Step.TEXT)
async def _ask_text(update: Update, context: BotContext) -> None:
    await say(update, context.t("bc.ask_text", tag=queries.NAME_TAG))


async def _audiences(context: BotContext) -> list[Audience]:
    """The choices open to the actor: one district only when the area has several (and some
    of them have mentors)."""
    choices = [Audience.ALL_MENTORS]
    if queries.covers_districts(_actor_area(context)) and await queries.districts_with_mentors(
            session=context.session, actor=context.mentor):
        choices.append(Audience.DISTRICT)
    return [*choices, Audience.OVERDUE, Audience.COORDINATORS]


@flow.question(Step.AUDIENCE)
async def _ask_audience(update: Update, context: BotContext) -> None:
    buttons = [(context.t(f"bc.aud.{a}"), f"{PREFIX}:aud:{a}") for a in await _audiences(context)]
    await say(update, context.t("bc.ask_audience",
                                area=_area_label(context, _actor_area(context))),
              reply_markup=column(buttons))


@flow.question(Step.DISTRICT)
async def _ask_district(update: Update, context: BotContext) -> None:
    districts = await queries.districts_with_mentors(session=context.session,
                                                     actor=context.mentor)
    back = (context.t("common.back"), f"{PREFIX}:back")
    if len(districts) > DISTRICT_BUTTONS:
        await say(update, context.t("bc.district_search", count=len(districts)),
                  reply_markup=keyboard([[back]]))
        return
    buttons = [_district_button(context, code, n) for code, n in districts.items()]
    await say(update, context.t("bc.ask_district"), reply_markup=column([*buttons, back]))


async def _recipients(context: BotContext) -> queries.Recipients:
    draft = flow.draft(context)
    found = await queries.recipients(session=context.session, actor=context.mentor,
                                     audience=draft["audience"], district=draft.get("district"))
    return found or queries.Recipients()


def _preview_keyboard(context: BotContext, found: queries.Recipients) -> InlineKeyboardMarkup:
    """Kirim (when someone would receive it) / Ubah / Batal under the preview."""
    buttons = [(context.t("common.edit"), f"{PREFIX}:edit"),
               (context.t("common.cancel"), f"{PREFIX}:cancel")]
    if found.count:
        buttons.insert(0, (context.t("bc.send"), f"{PREFIX}:send"))
    return keyboard([buttons])


async def _preview_buttons(context: BotContext) -> InlineKeyboardMarkup:
    return _preview_keyboard(context, await _recipients(context))


@flow.question(Step.CONFIRM)
@flow.question(Step.EDIT)
async def _show_preview(update: Update, context: BotContext) -> None:
    draft = flow.draft(context)
    found = await _recipients(context)
    example = found.mentors[0].name if found.mentors else context.mentor.name
    await _send_as_recipients_see_it(update, draft, example)
    audience = _audience_label(context, draft)
    left_out = (context.t("bc.left_out_inactive", count=found.inactive) if found.inactive
                else context.t("bc.left_out_none"))
    if found.count:
        text = context.t("bc.preview", example=example, audience=audience, count=found.count,
                         left_out=left_out)
        if draft.get("masked"):
            # Hundreds of mentors would read it: a NIK or phone number goes out masked.
            text = context.t("bc.masked_numbers") + "\n\n" + text
        unknown = queries.unknown_tags(draft.get("text") or "")
        if unknown:
            # A mistyped {name} would reach hundreds of mentors as written; say so before Kirim.
            text = context.t("bc.unknown_tags", tags=", ".join(unknown),
                             tag=queries.NAME_TAG) + "\n\n" + text
    else:
        text = context.t("bc.no_recipients", audience=audience)
    await say(update, text, reply_markup=_preview_keyboard(context, found))


# --- answers ---------------------------------------------------------------------------------

async def _after_message(update: Update, context: BotContext) -> int:
    """On to the audience, or back to the preview when only the message was being changed."""
    draft = flow.draft(context)
    # "_editing": the mark of a draft stored before Ubah was the Flow's.
    if (flow.editing(context) or draft.pop("_editing", False)) and draft.get("audience"):
        return await flow.sum_up(update, context)
    return await flow.ask(update, context, Step.AUDIENCE)


def _own_phone(context: BotContext) -> tuple[str, ...]:
    """The sender's own phone (their profile's): theirs to give, so it stays readable ("hubungi
    saya di 0812…"); every other number in the message is masked."""
    return (context.mentor.phone,) if context.mentor and context.mentor.phone else ()


async def start(update: Update, context: BotContext) -> int:
    """Starts a new draft and asks for the message."""
    return await flow.begin(update, context, Step.TEXT, intro="bc.start")


async def got_text(update: Update, context: BotContext) -> int:
    """Stores the message (2-3500 characters) and asks who receives it."""
    text = (update.effective_message.text or "").strip()
    if not TEXT_MIN <= len(text) <= TEXT_MAX:
        return await flow.retry(update, context, Step.TEXT,
                                context.t("bc.bad_text", length=len(text)))
    if queries.longest_rendering(text) > MESSAGE_LIMIT:
        return await flow.retry(update, context, Step.TEXT,
                                context.t("bc.too_long_with_names", tag=queries.NAME_TAG))
    shown = mask_numbers(text, keep=_own_phone(context))
    flow.draft(context).update(text=shown, photo=None, document=None, masked=shown != text)
    return await _after_message(update, context)


async def got_media(update: Update, context: BotContext) -> int:
    """Stores a photo (its largest size) or a document with its caption, and asks who
    receives it."""
    message = update.effective_message
    caption = (message.caption or "").strip()
    if len(caption) > CAPTION_LIMIT:
        return await flow.retry(update, context, Step.TEXT, context.t(
            "bc.caption_too_long", max=CAPTION_LIMIT, length=len(caption)))
    if queries.longest_rendering(caption) > CAPTION_LIMIT:
        return await flow.retry(update, context, Step.TEXT,
                                context.t("bc.too_long_with_names", tag=queries.NAME_TAG))
    kind = "photo" if message.photo else "document"
    file_id = message.photo[-1].file_id if message.photo else message.document.file_id
    shown = mask_numbers(caption, keep=_own_phone(context))
    flow.draft(context).update(text=shown, photo=file_id if kind == "photo" else None,
                               document=file_id if kind == "document" else None,
                               masked=shown != caption)
    await say(update, context.t("bc.got_media", kind=context.t(f"bc.kind.{kind}")))
    return await _after_message(update, context)


async def got_audience(update: Update, context: BotContext) -> int:
    """Stores who receives it (one district: asks which) and shows the preview."""
    query = update.callback_query
    value = query.data.rsplit(":", 1)[1]
    if value not in await _audiences(context):
        await query.answer(context.t("common.old_button"), show_alert=True)
        return Step.AUDIENCE
    await close_buttons(query, context.t(f"bc.aud.{value}"))
    draft = flow.draft(context)
    if value == Audience.DISTRICT:
        return await flow.ask(update, context, Step.DISTRICT)
    draft.update(audience=value, district=None)
    return await flow.sum_up(update, context)


async def search_district(update: Update, context: BotContext) -> int:
    """Offers the districts (with active mentors, inside the actor's area) matching the text."""
    wanted = typed_search(update).lower()
    districts = await queries.districts_with_mentors(session=context.session,
                                                     actor=context.mentor)
    matches = []
    for code, count in districts.items():
        place = context.places.get(code)
        if len(wanted) >= 2 and place is not None and wanted in place.label.lower():
            matches.append(_district_button(context, code, count))
    if not matches:
        return await flow.retry(update, context, Step.DISTRICT, context.t(
            "bc.district_not_found", query=wanted or "…"))
    await say(update, context.t("bc.ask_district"),
              reply_markup=column(matches[:DISTRICT_BUTTONS]))
    return Step.DISTRICT


async def got_district(update: Update, context: BotContext) -> int:
    """Stores the district (re-checked: inside the actor's area, with mentors) and shows the
    preview."""
    query = update.callback_query
    code = query.data.split(":", 2)[2]
    districts = await queries.districts_with_mentors(session=context.session,
                                                     actor=context.mentor)
    if code not in districts:
        await query.answer(context.t("common.old_button"), show_alert=True)
        return Step.DISTRICT
    await close_buttons(query, _district_button(context, code, districts[code])[0])
    flow.draft(context).update(audience=Audience.DISTRICT.value, district=code)
    return await flow.sum_up(update, context)


async def back_to_audience(update: Update, context: BotContext) -> int:
    """« Kembali from the districts: the audience question again."""
    await close_buttons(update.callback_query)
    return await flow.ask(update, context, Step.AUDIENCE)


async def send(update: Update, context: BotContext) -> int:
    """Creates the broadcast and its outbox rows (once, even if the press is redelivered),
    shows the progress message and hands over to the outbox worker."""
    query = update.callback_query
    draft = flow.draft(context)
    if "text" not in draft or not draft.get("audience"):
        await query.answer(context.t("common.old_button"), show_alert=True)
        return flow.current(context) or END
    actor = context.mentor
    found = await queries.recipients(session=context.session, actor=actor,
                                     audience=draft["audience"], district=draft.get("district"))
    if found is None:
        await query.answer(context.t("common.old_button"), show_alert=True)
        return Step.CONFIRM
    if not found.count:
        await query.answer(context.t("bc.no_recipients",
                                     audience=_audience_label(context, draft))[:200],
                           show_alert=True)
        return Step.CONFIRM
    await close_buttons(query, context.t("bc.send"))
    await flow.end_with_save(update, context)
    broadcast, created = await queries.create(
        session=context.session, actor=actor, audience=draft["audience"],
        audience_code=draft.get("district"), text=draft["text"],
        photo_file_id=draft.get("photo"), document_file_id=draft.get("document"),
        to=found.mentors, update_id=update.update_id)
    flow.clear(context)
    if not created:
        await say(update, context.t("bc.already_sent"))
        return END
    progress = await say(update, context.t("bc.progress", done=0, total=found.count))
    if progress is not None:  # else the final report comes as a new message (scheduler.outbox)
        await queries.set_progress_message(session=context.session, broadcast_id=broadcast.id,
                                           chat_id=progress.chat_id,
                                           message_id=progress.message_id)
    outbox.wake(context.application)
    return END


@guard(STAFF_ROLES)
async def show_failed(update: Update, context: BotContext) -> None:
    """Lists who did not get a broadcast and why (the broadcast re-checked: the actor's own,
    their area's, or any for an admin)."""
    query = update.callback_query
    broadcast = await answer_found(query, context, await queries.get_visible(
        session=context.session, broadcast_id=int(pressed(query)), actor=context.mentor),
        "bc.not_found")
    if broadcast is None:
        return
    rows = await queries.undelivered(session=context.session, broadcast_id=broadcast.id)
    if not rows:
        await say(update, context.t("bc.failed_none"))
        return
    text = context.t("bc.failed_title", count=len(rows))
    for shown, row in enumerate(rows):
        line = context.t("bc.failed_line", name=row.name, reason=_reason(context, row))
        if len(text) + len(line) > FAILED_TEXT_LIMIT:
            text += "\n" + context.t("bc.failed_more", count=len(rows) - shown)
            break
        text += "\n" + line
    await say(update, text)


def _failed() -> CallbackQueryHandler:
    return CallbackQueryHandler(show_failed, pattern=rf"^{PREFIX}:fail:{ID}$")


def handlers() -> list[BaseHandler]:
    """/siaran and the list of who did not get a broadcast, new for each Application."""
    audiences = "|".join(a.value for a in Audience)
    return [flow.build({
        Step.TEXT: {TEXT: got_text, filters.PHOTO | filters.Document.ALL: got_media},
        Step.AUDIENCE: {f"aud:({audiences})": got_audience},
        Step.DISTRICT: {TEXT: search_district, r"dist:\d{2}\.\d{2}\.\d{2}": got_district,
                        "back": back_to_audience},
    }, entry={"/siaran": start},
        summary=Summary(save=send, save_as="send", fields=FIELDS, labels="bc.field",
                        buttons=_preview_buttons, formerly=(Step.EDIT,)),
        # Also inside the conversation: the flow's fallbacks would take any "sia:" button as stale.
        fallbacks=[_failed()]), _failed()]
