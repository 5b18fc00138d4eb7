"""How a group's households read in chat, personal data masked: one household, a typed list
(with its unreadable lines), and the membership problems. Used by /tambah_kelompok, /kelompok
and Anggota, so it lives in none of them."""

from __future__ import annotations

from bot.core.parsing import MemberLine, mask_nik, mask_numbers, mask_phone
from bot.telegram.context import BotContext


def member_line_text(context: BotContext, line: MemberLine | object, no: int) -> str:
    """One household as the mentor sees it, personal data masked."""
    extra = ""
    nik = getattr(line, "nik", None)
    phone = getattr(line, "phone", None)
    if nik:
        extra += f" – NIK {mask_nik(nik)}"
    if phone:
        extra += f" – HP {mask_phone(phone)}"
    return context.t("grp.member_line", no=no, name=line.name,
                     category=context.t(f"welfare.{line.welfare_category}"),
                     role=context.t(f"role.{line.role}"), extra=extra)


def problems_text(context: BotContext, problems: list[str]) -> str:
    settings = context.settings
    return "; ".join(context.t(f"grp.problem.{p}", min=settings.group_min_size,
                               max=settings.group_max_size) for p in problems)


def members_text(context: BotContext, lines: list[MemberLine]) -> str:
    """A typed member list, numbered, its unreadable lines named with why."""
    rendered = []
    for no, line in enumerate(lines, start=1):
        if line.ok:
            rendered.append(member_line_text(context, line, no))
        else:
            # The line as typed may hold a NIK or a phone number: never echo them in full.
            rendered.append(context.t("grp.member_bad_line", no=no,
                                      raw=mask_numbers(line.raw[:80]),
                                      error=context.t(f"grp.line_error.{line.error}")))
    valid = sum(1 for line in lines if line.ok)
    if valid < len(lines):
        # Only readable lines count as households, so the size rule below agrees with this.
        return context.t("grp.members_list_partial", valid=valid, count=len(lines),
                         lines="\n".join(rendered))
    return context.t("grp.members_list", count=len(lines), lines="\n".join(rendered))
