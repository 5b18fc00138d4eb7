"""How a group's households read in chat, personal data masked: one household, a typed list
(with its unreadable lines), the membership problems, a household's page and the group's
household counts. Used by /tambah_kelompok, /kelompok and Anggota, so it lives in none of
them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.enums import RegisterStatus, Sex
from bot.core.formatting import format_date, format_date_short
from bot.core.parsing import MemberLine, mask_nik, mask_numbers, mask_phone
from bot.telegram.context import BotContext


def household_marks(context: BotContext, line: MemberLine | object) -> str:
    """The head of household's sex and DTKS/DTSEN registration, briefly (" – ♀ – DTKS d2");
    empty when neither is known."""
    marks = []
    sex = getattr(line, "head_sex", None)
    if sex in set(Sex):
        marks.append(context.t(f"mem.mark.sex.{sex}"))
    status = getattr(line, "register_status", None)
    decile = getattr(line, "register_decile", None)
    if status == RegisterStatus.YES and decile:
        marks.append(context.t("mem.mark.register.decile", decile=decile))
    elif status in set(RegisterStatus):
        marks.append(context.t(f"mem.mark.register.{status}"))
    return "".join(f" – {mark}" for mark in marks)


def sex_text(context: BotContext, member: object) -> str:
    sex = getattr(member, "head_sex", None)
    return context.t(f"sex.{sex}") if sex in set(Sex) else context.t("mem.not_set")


def register_text(context: BotContext, member: object) -> str:
    """"terdaftar, desil 2", "tidak terdaftar", "tidak tahu" or "belum diisi"."""
    status = getattr(member, "register_status", None)
    decile = getattr(member, "register_decile", None)
    if status == RegisterStatus.YES and decile:
        return context.t("mem.register_decile", decile=decile)
    if status in set(RegisterStatus):
        return context.t(f"register.{status}")
    return context.t("mem.not_set")


def welfare_text(context: BotContext, category: str | None) -> str:
    return context.t(f"welfare.{category}") if category else "-"


def member_page_text(context: BotContext, member: object, history: Sequence[object]) -> str:
    """A household's page: role, category, head of household, DTKS/DTSEN, date joined, the
    NIK and phone masked, and its welfare category's history ("miskin → hampir miskin, 5 Des
    2026")."""
    numbers = []
    nik = getattr(member, "nik", None)
    phone = getattr(member, "phone", None)
    if nik:
        numbers.append(f"NIK {mask_nik(nik)}")
    if phone:
        numbers.append(f"HP {mask_phone(phone)}")
    lines = "\n".join(context.t(
        "mem.welfare_line", old=welfare_text(context, change.old),
        new=welfare_text(context, change.new),
        date=format_date_short(change.changed_on, context.lang))
        for change in history)
    return context.t(
        "mem.page", name=member.name, role=context.t(f"role.{member.role}"),
        category=welfare_text(context, member.welfare_category), sex=sex_text(context, member),
        register=register_text(context, member),
        joined=format_date(member.joined_on, context.lang),
        extra=context.t("mem.page_extra", extra=" – ".join(numbers)) if numbers else "",
        history=context.t("mem.welfare_history", lines=lines) if lines else "")


def households_text(context: BotContext, members: Iterable[object], graduated: int) -> str:
    """The group's households in two counts: headed by women (of the current ones) and
    graduated (ever)."""
    current = list(members)
    women = sum(1 for member in current if getattr(member, "head_sex", None) == Sex.FEMALE)
    unknown = sum(1 for member in current if getattr(member, "head_sex", None) is None)
    # "0 of 7" where nobody was asked would read as "no women": say how many are not known.
    note = context.t("grp.households_unknown", count=unknown) if unknown else ""
    return context.t("grp.households", women=women, count=len(current), graduated=graduated,
                     unknown=note)


def member_line_text(context: BotContext, line: MemberLine | object, no: int) -> str:
    """One household as the mentor sees it, personal data masked."""
    extra = household_marks(context, line)
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


def officer_replace_text(context: BotContext, role: str, previous: str, name: str) -> str:
    """"Ketua sekarang Siti Aminah. Ganti dengan Wati?": asked before an officer role passes
    from its holder to someone else."""
    title = context.t(f"role.{role}")
    return context.t("officer.replace_ask", role_title=title[:1].upper() + title[1:],
                     previous=previous, name=name)
