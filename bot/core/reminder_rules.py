"""The reminder rules' offsets: on which day, counted from a due date, each reminder fires.

Pure date arithmetic from the settings; models.reminders stores what these rules produce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.enums import ReminderRule


@dataclass(frozen=True)
class Rules:
    """The offsets of every rule (from the settings; these defaults are the programme's)."""

    hour: int = 7
    visit_overdue_days: tuple[int, ...] = (1, 3, 7)
    visit_overdue_every: int = 7
    escalation_days: int = 14
    rollover_warning_days: tuple[int, ...] = (30, 7, 1)
    rollover_overdue_every: int = 7
    lpj_warning_days: tuple[int, ...] = (14, 1)
    lpj_overdue_every: int = 7

    def offset(self, rule: str, step: int) -> int | None:
        """Days from the cycle's due date for ``step`` of ``rule``; None when there is no such
        step. The overdue rules repeat for ever (until a visit, the roll-over or the LPJ is done)."""
        if rule == ReminderRule.VISIT_DUE:
            return 0 if step == 0 else None
        if rule == ReminderRule.VISIT_OVERDUE:
            fixed = self.visit_overdue_days
            if step < len(fixed):
                return fixed[step]
            return fixed[-1] + self.visit_overdue_every * (step - len(fixed) + 1)
        if rule == ReminderRule.VISIT_ESCALATION:
            return self.escalation_days if step == 0 else None
        if rule == ReminderRule.ROLLOVER_SOON:
            days = self.rollover_warning_days
            return -days[step] if step < len(days) else None
        if rule == ReminderRule.ROLLOVER_OVERDUE:
            return 1 + self.rollover_overdue_every * step
        if rule == ReminderRule.LPJ_SOON:
            days = self.lpj_warning_days
            return -days[step] if step < len(days) else None
        if rule == ReminderRule.LPJ_OVERDUE:
            return 1 + self.lpj_overdue_every * step
        raise ValueError(rule)

    def next_step(self, rule: str, cycle: date, not_before: date) -> tuple[int, date] | None:
        """The first step of ``rule`` whose day is ``not_before`` or later."""
        step = 0
        while (offset := self.offset(rule, step)) is not None:
            fire_on = cycle + timedelta(days=offset)
            if fire_on >= not_before:
                return step, fire_on
            step += 1
            if step > 10_000:  # a cycle decades old: nothing sensible to send
                return None
        return None
