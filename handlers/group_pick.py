"""The first question of a conversation about one of the mentor's groups (/kunjungan, /hibah):
"which group?" with a button per group (or "no groups yet"); a press or the typed name begins
the conversation with the group, as Flow's Pick takes it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bot.telegram.context import BotContext
from handlers.button_questions import ask_pick
from handlers.common import own_group, read_only_text
from handlers.flow import Flow, Pick
from models import changes
from models import groups as group_queries
from models.groups import GroupRow
from models.tables import Group

MAX_GROUP_BUTTONS = 50

Label = Callable[[BotContext, GroupRow], str]  # a group's button ("KUBE Mawar (terlambat 3 hari)")


def _name(context: BotContext, row: GroupRow) -> str:
    return row.group.name


async def group_buttons(context: BotContext, *, prefix: str,
                        label: Label = _name) -> list[tuple[str, str]]:
    """The mentor's groups that may still be written to (a dissolved one is read-only), most
    overdue first, as buttons "<prefix>:group:<id>"."""
    rows = await group_queries.list_for_mentor(session=context.session, mentor=context.mentor)
    rows = [row for row in rows if not changes.is_read_only(row.group)]
    return [(label(context, row), f"{prefix}:group:{row.group.id}")
            for row in rows[:MAX_GROUP_BUTTONS]]


def pick_group(flow: Flow, step: int, *, command: str, texts: str,
               begin: Callable[[Update, BotContext, Group], Awaitable[int]],
               label: Label = _name) -> None:
    """Sets the flow's Pick to one of the mentor's groups (the draft's "group_id"; ``begin``
    copies what the questions need) and registers its question at ``step``. Its words are the
    text keys "<texts>.ask_group", ".no_groups", ".group_not_found" and ".resume" (with the
    draft's "group_name")."""

    def resume(context: BotContext, draft: dict[str, Any]) -> str:
        return context.t(f"{texts}.resume", group=draft.get("group_name", ""))

    flow.pick = Pick(command=command, button="group", step=step, chosen="group_id",
                     choices=functools.partial(group_buttons, prefix=flow.prefix, label=label),
                     find=own_group, label=lambda group: group.name, begin=begin,
                     resume=resume, none=f"{texts}.no_groups",
                     not_found=f"{texts}.group_not_found", explain=read_only_text)
    ask_pick(flow, step, f"{texts}.ask_group")
