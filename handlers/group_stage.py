"""A group's stage (Tumbuh, Berkembang, Maju/Mandiri) changed from its detail
("tah:start:<id>"), by its mentor or a coordinator or admin of its area: the question shows each
stage with the signs to look for (the texts "stage.signs.<stage>"; an office rewords them with
PENDAMPING_STAGE_SIGNS, no code change), then asks an optional note (what was seen), and saves.

Diagram: group_stage.mmd beside this file. The group is re-checked at the start and at the
save; models.changes.change_stage writes the stage, its history row and the audit row.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot.core.enums import Stage
from bot.core.parsing import is_skip
from bot.core.patterns import ID
from bot.telegram.context import BotContext
from handlers.common import (
    END,
    back_to_group,
    button_choice,
    close_buttons,
    column,
    pressed_manageable,
    say,
)
from handlers.flow import TEXT, Flow
from handlers.typed_answers import typed
from models import changes
from models import groups as group_queries

PREFIX = "tah"
MAX_NOTE = 200


class Step(IntEnum):
    STAGE = 1
    NOTE = 2  # what was seen, or Lewati; then saved


flow = Flow("group_stage", prefix=PREFIX, what="what.group_stage")


def _draft(context: BotContext) -> dict[str, Any]:
    return flow.draft(context)


def signs_text(context: BotContext) -> str:
    """Each stage with the signs to look for, one a line."""
    office = context.settings.stage_signs
    return "\n".join(context.t("gstage.sign_line", stage=context.t(f"stage.{stage}"),
                               signs=office.get(stage) or context.t(f"stage.signs.{stage}"))
                     for stage in Stage)


@flow.question(Step.STAGE)
async def _ask_stage(update: Update, context: BotContext) -> None:
    draft = _draft(context)
    buttons = [(("✓ " if stage == draft["old"] else "") + context.t(f"stage.{stage}"),
                f"{PREFIX}:stage:{stage}") for stage in Stage]
    await say(update, context.t("gstage.ask", group=draft["group_name"],
                                stage=context.t(f"stage.{draft['old']}"),
                                signs=signs_text(context)),
              reply_markup=column(buttons, per_row=3))


flow.says(Step.NOTE, "gstage.ask_note", skip="note")


async def start(update: Update, context: BotContext) -> int:
    """"tah:start:<id>" from the group's detail: the group re-checked (its mentor, or a
    coordinator or admin of its area; not dissolved); asks the stage, with the signs."""
    query = update.callback_query
    if await flow.other_in_progress(update, context):
        return END
    group = await pressed_manageable(update, context)
    if group is None:
        return END
    await query.answer()
    flow.start(context, group_id=group.id, group_name=group.name, old=group.stage,
               village_code=group.village_code)
    return await flow.ask(update, context, Step.STAGE)


async def got_stage(update: Update, context: BotContext) -> int:
    """Stores the new stage (the current one is asked again) and asks the note."""
    query = update.callback_query
    value = await button_choice(query, context, [stage.value for stage in Stage])
    if value is None:
        return Step.STAGE
    draft = _draft(context)
    if value == draft["old"]:
        await close_buttons(query)
        return await flow.retry(update, context, Step.STAGE, context.t(
            "gstage.same", group=draft["group_name"], stage=context.t(f"stage.{value}")))
    draft["stage"] = value
    await close_buttons(query, context.t(f"stage.{value}"))
    return await flow.ask(update, context, Step.NOTE)


async def got_note(update: Update, context: BotContext, text: str) -> int:
    """Stores the note (or none: Lewati, "-") and saves the stage, the group re-checked."""
    note = None if is_skip(text) else " ".join(text.split())
    if note is not None and not 1 <= len(note) <= MAX_NOTE:
        return await flow.retry(update, context, Step.NOTE,
                                context.t("gst.bad_note", max=MAX_NOTE))
    draft = _draft(context)
    if not flow.complete(context, ("group_id", "stage")):
        return await flow.stop(update, context, context.t("common.old_button"))
    group = await group_queries.get_manageable(session=context.session,
                                               group_id=draft["group_id"],
                                               actor=context.mentor)
    if group is None:
        return await flow.stop(update, context, context.t("grp.not_found"))
    if changes.is_read_only(group):
        return await flow.stop(update, context, context.t("life.read_only", group=group.name))
    old = group.stage
    await flow.end_with_save(update, context)
    await changes.change_stage(session=context.session, group=group, stage=draft["stage"],
                               actor=context.mentor, on=flow.today(context), note=note)
    flow.clear(context)
    await say(update, context.t("gstage.saved", group=group.name,
                                old=context.t(f"stage.{old}"),
                                new=context.t(f"stage.{draft['stage']}")),
              reply_markup=back_to_group(context, group.id))
    return END


async def skip(update: Update, context: BotContext) -> int:
    """Lewati on the note: saves the stage without one."""
    return await flow.skip(update, context, {"note": got_note})


def handlers() -> list[BaseHandler]:
    """The stage conversation, new for each Application."""
    stages = "|".join(stage.value for stage in Stage)
    return [flow.build({
        Step.STAGE: {f"stage:({stages})": got_stage},
        Step.NOTE: {"skip:note": skip, TEXT: typed(got_note)},
    }, entry={rf"start:{ID}": start})]
