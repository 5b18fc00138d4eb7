"""Admins approve or reject new mentors (Setujui / Tolak) and create invite links (/undang)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.core.enums import Role
from bot.core.parsing import mask_phone, parse_count
from bot.core.patterns import ID
from bot.core.texts import t
from bot.telegram.context import BotContext
from handlers.common import STAFF_ROLES, guard, keyboard, say
from models import mentors as mentor_queries
from models.tables import Mentor

log = logging.getLogger(__name__)

PREFIX = "appr"


def summary(context: BotContext, mentor: Mentor) -> str:
    place = context.places.get(mentor.area_code) if mentor.area_code else None
    return context.t(
        "onb.summary",
        name=mentor.name,
        phone=mask_phone(mentor.phone) if mentor.phone else "-",
        affiliation=context.t(f"affiliation.{mentor.affiliation}") if mentor.affiliation else "-",
        area=place.label if place else "-",
    )


async def approver_ids(context: BotContext, mentor: Mentor) -> list[int]:
    """The admins, and the coordinators whose area covers the new mentor's."""
    ids = await mentor_queries.admins(session=context.session,
                                      extra_ids=context.settings.admin_ids)
    coordinators = await mentor_queries.coordinators(session=context.session)
    ids += [c.telegram_id for c in coordinators if mentor_queries.may_manage(c, mentor)]
    return list(dict.fromkeys(ids))


async def notify_approvers(context: BotContext, mentor: Mentor) -> int:
    """Sends the approvers a request with Setujui / Tolak; returns how many got it."""
    ids = await approver_ids(context, mentor)
    sent = 0
    for telegram_id in ids:
        approver = await mentor_queries.get_by_telegram_id(session=context.session,
                                                           telegram_id=telegram_id)
        lang = approver.language if approver else context.settings.language
        text = t(lang, "appr.request", summary=summary(context, mentor))
        markup = keyboard([[(t(lang, "appr.approve"), f"{PREFIX}:ok:{mentor.id}"),
                            (t(lang, "appr.reject"), f"{PREFIX}:no:{mentor.id}")]])
        try:
            await context.bot.send_message(telegram_id, text, reply_markup=markup)
            sent += 1
        except Forbidden:
            log.warning("approver %s has blocked the bot", telegram_id)
        except TelegramError as exc:
            log.warning("could not notify approver %s: %s", telegram_id, exc)
    return sent


@guard(STAFF_ROLES)
async def decide(update: Update, context: BotContext) -> None:
    """Approves or rejects a pending mentor and tells them; a second press says it is done."""
    query = update.callback_query
    _, verdict, raw_id = query.data.split(":")
    actor = context.mentor
    target = await mentor_queries.get(session=context.session, mentor_id=int(raw_id))
    # A coordinator decides only for mentors of their own area, whatever the button says.
    if target is not None and not mentor_queries.may_manage(actor, target):
        await query.answer(context.t("guard.not_allowed"), show_alert=True)
        return
    mentor, changed = await mentor_queries.decide_pending(
        session=context.session, mentor_id=int(raw_id), approve=verdict == "ok",
        actor_telegram_id=actor.telegram_id,
    )
    if mentor is None:
        await query.answer(context.t("appr.not_found"), show_alert=True)
        return
    if not changed:
        await query.answer(context.t("appr.already",
                                     status=context.t(f"status.{mentor.status}")),
                           show_alert=True)
        await query.edit_message_reply_markup(reply_markup=None)
        return
    await query.answer()
    key = "appr.approved_by" if verdict == "ok" else "appr.rejected_by"
    await query.edit_message_text(f"{query.message.text}\n\n{context.t(key, actor=actor.name)}")
    tell = "appr.you_approved" if verdict == "ok" else "appr.you_rejected"
    try:
        await context.bot.send_message(mentor.telegram_id, t(mentor.language, tell,
                                                             name=mentor.name))
    except TelegramError as exc:
        log.warning("could not tell mentor %s about the decision: %s", mentor.id, exc)


MAX_INVITE_USES, MAX_INVITE_DAYS = 500, 90


def invite_arguments(args: list[str]) -> tuple[int, int] | None:
    """(uses, days) from /undang's arguments ("5 14", "lima 14"; 1 use for 7 days by default);
    None when they are not counts in range."""
    uses = parse_count(args[0], minimum=1, maximum=MAX_INVITE_USES) if args else 1
    days = parse_count(args[1], minimum=1, maximum=MAX_INVITE_DAYS) if len(args) > 1 else 7
    return (uses, days) if uses is not None and days is not None else None


@guard(STAFF_ROLES)
async def invite(update: Update, context: BotContext) -> None:
    """/undang [uses] [days]: a deep link that approves a new mentor on the spot; a
    coordinator's link is for their own area, and the mentor's area must lie inside it."""
    found = invite_arguments(context.args or [])
    if found is None:
        await say(update, context.t("appr.invite_usage"))
        return
    uses, days = found
    actor = context.mentor
    area = actor.area_code if actor.role == Role.COORDINATOR else None
    created = await mentor_queries.create_invite(
        session=context.session, created_by=actor.telegram_id, area_code=area, days=days,
        max_uses=uses)
    link = f"https://t.me/{context.bot.username}?start={created.code}"
    await say(update, context.t("appr.invite_created", days=days, uses=uses, link=link))


def handlers() -> list[BaseHandler]:
    """Approving mentors and /undang, new for each Application."""
    return [
        CallbackQueryHandler(decide, pattern=rf"^{PREFIX}:(ok|no):{ID}$"),
        CommandHandler("undang", invite),
    ]
