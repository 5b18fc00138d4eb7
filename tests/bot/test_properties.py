"""Property-based tests (hypothesis) of what users send to the handlers: dates and counts they
type into conversations, button data (callback_data) and the other small parsers of typed text.

The parsers of bot.core have theirs beside their examples (tests/bot/parsing/, the place
search in test_places.py); the settings and strategies they share, and what the two kinds of
properties are, are in tests/bot/strategies.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from telegram import CallbackQuery, User
from telegram.ext import CallbackQueryHandler, ConversationHandler

from bot.app import HANDLER_MODULES
from bot.core import parsing
from bot.core.enums import (
    Activity,
    Affiliation,
    Audience,
    BindingTie,
    BusinessType,
    GrantForm,
    GrantKind,
    LeaveReason,
    MemberRole,
    RecipientKind,
    RegisterStatus,
    Sex,
    Stage,
    WelfareCategory,
)
from handlers import (
    approvals,
    broadcasts,
    common,
    coordinators,
    grant_texts,
    grants,
    group_registration,
    groups,
    member_leaving,
    members,
    onboarding,
    rollovers,
    schedule,
    system,
    visits,
)
from handlers import help as help_handlers
from models import broadcasts as broadcast_queries
from scheduler import outbox
from tests.bot.strategies import (
    PROPS,
    SLOW,
    any_text,
    codes_by_level,
    id_grouped,
    spelt,
)

TODAY = date(2026, 11, 25)


# --------------------------------------------------------------------------------------
# Dates typed to the handlers
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Counts typed to the handlers
# --------------------------------------------------------------------------------------


@PROPS
@given(st.integers(1, 1000), st.sampled_from(["ekor kambing", "ekor anak ayam", "karung",
                                              "batang bibit", "unit"]), st.data())
def test_units_in_digits_and_words_parse_back(n: int, label: str, data: st.DataObject) -> None:
    count = data.draw(st.sampled_from([str(n), id_grouped(n), spelt(n, "id")]))
    assert grant_texts.parse_units(f"{count} {label}") == (n, label)
    assert grant_texts.parse_units(count) == (n, None)


# --------------------------------------------------------------------------------------
# Button data (callback_data)
# --------------------------------------------------------------------------------------


def _callback_handlers() -> list[CallbackQueryHandler]:
    found: list[CallbackQueryHandler] = []

    def walk(handlers) -> None:
        for handler in handlers:
            if isinstance(handler, ConversationHandler):
                walk(handler.entry_points)
                for state in handler.states.values():
                    walk(state)
                walk(handler.fallbacks)
            elif isinstance(handler, CallbackQueryHandler):
                found.append(handler)

    for module in HANDLER_MODULES:
        walk(module.handlers())
    walk(help_handlers.catch_all())
    walk(system.last())
    return found


@lru_cache(maxsize=1)
def _patterns() -> list[re.Pattern[str]]:
    return [handler.pattern for handler in _callback_handlers()
            if isinstance(handler.pattern, re.Pattern)]


@lru_cache(maxsize=1)
def _button_data() -> list[st.SearchStrategy[str]]:
    """Per pattern, the data it matches; built once (from_regex is slow to build)."""
    return [st.from_regex(pattern, fullmatch=True) for pattern in _patterns()]


@SLOW
@given(st.data())
def test_every_button_pattern_only_takes_numbers_a_database_can_hold(data: st.DataObject) -> None:
    """Button data reaches the bot as sent (a modified client may send anything up to 64
    bytes); the handlers read its numbers with int() into SQL parameters (64-bit)."""
    at = data.draw(st.integers(0, len(_patterns()) - 1))
    pattern, text = _patterns()[at], data.draw(_button_data()[at])
    assume("\n" not in text)  # "$" also matches before a final newline
    # Then every run of digits as long as the 64 bytes allow.
    runs = re.findall(r"\d+", text)
    longest = max(1, 64 - len(text.encode()) + sum(len(run) for run in runs))
    longer = re.sub(r"\d+", lambda _: str(data.draw(st.integers(1, 10 ** min(longest, 40)))),
                    text)
    for candidate in (text, longer):
        if len(candidate.encode()) > 64 or not pattern.fullmatch(candidate):
            continue
        for run in re.finditer(r"\d+", candidate):
            as_word = candidate[:run.start()] + "a" + candidate[run.end():]
            if pattern.fullmatch(as_word):
                continue  # a word slot (\w+) that happens to hold digits: not read as a number
            assert int(run[0]) < 2**63, (pattern.pattern, candidate)


ids = st.integers(1, 10**12 - 1)


def _real_codes(level: int) -> st.SearchStrategy[str]:
    """Any official code of that level (looked up when drawn: the index loads on first use)."""
    return st.integers(0, 10**6).map(lambda i: codes_by_level()[level][
        i % len(codes_by_level()[level])])


villages = _real_codes(4)


def _query(data: str) -> CallbackQuery:
    return CallbackQuery("1", User(1, "Siti", False), "chat", data=data)


BUILDERS: list[tuple[str, Callable[..., str], list[st.SearchStrategy]]] = [
    ("visit start", lambda g: f"kun:start:{g}", [ids]),
    ("visit group", lambda g: f"{visits.PREFIX}:group:{g}", [ids]),
    ("visit activity", lambda a: f"{visits.PREFIX}:act:{a}", [st.sampled_from(list(Activity))]),
    ("members list", lambda g: f"mem:list:{g}", [ids]),
    ("members add", lambda g: f"{members.PREFIX}:add:{g}", [ids]),
    ("members leave", lambda g, m: f"{member_leaving.PREFIX}:start:{g}:{m}", [ids, ids]),
    ("members leave reason", lambda r: f"{member_leaving.PREFIX}:why:{r}",
     [st.sampled_from(list(LeaveReason))]),
    ("member page", lambda g, m: f"{members.PREFIX}:page:{g}:{m}", [ids, ids]),
    ("member sex", lambda g, m, s: f"{members.PREFIX}:sex:{g}:{m}:{s}",
     [ids, ids, st.sampled_from(list(Sex))]),
    ("member register", lambda g, m, s: f"{members.PREFIX}:reg:{g}:{m}:{s}",
     [ids, ids, st.sampled_from(list(RegisterStatus))]),
    ("member decile", lambda g, m, d: f"{members.PREFIX}:dec:{g}:{m}:{d}",
     [ids, ids, st.integers(0, 10)]),
    ("member category", lambda g, m, c: f"{members.PREFIX}:cset:{g}:{m}:{c}",
     [ids, ids, st.sampled_from(list(WelfareCategory))]),
    ("members role", lambda g, m, r: f"{members.PREFIX}:roleset:{g}:{m}:{r}",
     [ids, ids, st.sampled_from(list(MemberRole))]),
    ("history", lambda g: f"riw:group:{g}", [ids]),
    ("group card", lambda g, p: f"{groups.PREFIX}:card:{g}:{p}", [ids, st.integers(0, 999)]),
    ("group detail", lambda g: f"kel:det:{g}", [ids]),
    ("grant start", lambda g: f"hib:start:{g}", [ids]),
    ("grant view", lambda g: f"hib:view:{g}", [ids]),
    ("grant kind", lambda k: f"{grants.PREFIX}:kind:{k}", [st.sampled_from(list(GrantKind))]),
    ("grant required", lambda r: f"{grants.PREFIX}:required:{r}",
     [st.sampled_from(["yes", "no"])]),
    ("lpj start", lambda g: f"lpj:start:{g}", [ids]),
    ("grant form", lambda f: f"{grants.PREFIX}:form:{f}", [st.sampled_from(list(GrantForm))]),
    ("rollover start", lambda g: f"gul:start:{g}", [ids]),
    ("rollover kind", lambda k: f"{rollovers.PREFIX}:kind:{k}",
     [st.sampled_from(list(RecipientKind))]),
    ("rollover village", lambda v: f"{rollovers.PREFIX}:vil:{v}", [villages]),
    ("schedule ask", lambda g: f"jdw:ask:{g}", [ids]),
    ("schedule set", lambda g, d: f"{schedule.PREFIX}:set:{g}:{d}",
     [ids, st.sampled_from(schedule.CHOICES)]),
    ("snooze", lambda r: f"rem:snooze:{r}", [ids]),
    ("approve", lambda m: f"appr:ok:{m}", [ids]),
    ("reject", lambda m: f"appr:no:{m}", [ids]),
    ("broadcast audience", lambda a: f"{broadcasts.PREFIX}:aud:{a}",
     [st.sampled_from(list(Audience))]),
    ("broadcast district", lambda c: f"{broadcasts.PREFIX}:dist:{c}", [_real_codes(3)]),
    ("broadcast failures", lambda b: f"{outbox.FAIL_PREFIX}:{b}", [ids]),
    ("mentor off", lambda m: f"{coordinators.MENTORS}:off:{m}", [ids]),
    ("mentor move", lambda s, t: f"{coordinators.MENTORS}:mv:{s}:{t}", [ids, ids]),
    ("mentor move and off", lambda s, t: f"{coordinators.MENTORS}:offto:{s}:{t}", [ids, ids]),
    ("appoint who", lambda m: f"{coordinators.PREFIX}:who:{m}", [ids]),
    ("appoint area", lambda c: f"{coordinators.PREFIX}:area:{c}",
     [st.one_of(_real_codes(1), _real_codes(2), _real_codes(3))]),
    ("signup affiliation", lambda a: f"{onboarding.PREFIX}:aff:{a}",
     [st.sampled_from(list(Affiliation))]),
    ("signup area", lambda c: f"{onboarding.PREFIX}:area:{c}",
     [st.one_of(_real_codes(2), _real_codes(3))]),
    ("group village", lambda v: f"{group_registration.PREFIX}:vil:{v}", [villages]),
    ("group business", lambda b: f"{group_registration.PREFIX}:biz:{b}",
     [st.sampled_from(list(BusinessType))]),
    ("group tie", lambda t: f"{group_registration.PREFIX}:tie:{t}",
     [st.sampled_from(list(BindingTie))]),
    ("group stage", lambda s: f"{group_registration.PREFIX}:stage:{s}",
     [st.sampled_from(list(Stage))]),
    ("language", lambda lang: f"{help_handlers.PREFIX}:{lang}",
     [st.sampled_from(["id", "en"])]),
]


@PROPS
@given(st.sampled_from(BUILDERS), st.data())
def test_button_data_built_by_the_handlers_is_handled_and_reads_back(builder,
                                                                     data: st.DataObject) -> None:
    _, build, strategies = builder
    values = [data.draw(strategy) for strategy in strategies]
    text = build(*values)
    assert len(text.encode()) <= 64  # Telegram's limit for callback_data
    assert any(pattern.fullmatch(text) for pattern in _patterns()), text
    assert common.pressed(_query(text)) == str(values[-1])
    assert text.split(":")[-len(values):] == [str(value) for value in values]


# --------------------------------------------------------------------------------------
# Other small parsers of typed text
# --------------------------------------------------------------------------------------


@PROPS
@given(any_text)
def test_other_typed_answers_never_raise(text: str) -> None:
    point = parsing.parse_coordinates(text)
    assert point is None or (-90 <= point[0] <= 90 and -180 <= point[1] <= 180)
    units = grant_texts.parse_units(text)
    assert units is None or 1 <= units[0] <= grant_texts.MAX_UNITS
    rendered = broadcast_queries.render(text, "Siti")
    assert len(rendered) <= broadcast_queries.longest_rendering(text)


@PROPS
@given(st.floats(-90, 90), st.floats(-180, 180), st.sampled_from([", ", ",", "; ", " "]))
def test_typed_coordinates_parse_back(lat: float, lon: float, separator: str) -> None:
    text = f"{lat:.6f}{separator}{lon:.6f}"  # as copied from a map
    assert parsing.parse_coordinates(text) == (float(f"{lat:.6f}"), float(f"{lon:.6f}"))


@PROPS
@given(any_text, st.text(max_size=100))
def test_broadcast_placeholder(text: str, name: str) -> None:
    """{nama} becomes the name, nothing else changes, and the length checked before sending
    is never less than what a recipient gets (names are at most 100 characters)."""
    rendered = broadcast_queries.render(text, name)
    assert len(rendered) <= broadcast_queries.longest_rendering(text)
    if "{nama}" not in text:
        assert rendered == text
    else:
        assert rendered == name.join(text.split("{nama}"))


@PROPS
@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_invite_arguments(uses: int, days: int) -> None:
    assert approvals.invite_arguments([str(uses), str(days)]) == (
        (uses, days) if uses <= 500 and days <= 90 else None)


@pytest.mark.parametrize("words", [["lima", "tujuh"], ["5", "tujuh"], ["seratus"]])
def test_invite_arguments_in_words(words: list[str]) -> None:
    expected = {"lima": 5, "tujuh": 7, "5": 5, "seratus": 100}
    found = approvals.invite_arguments(words)
    assert found == (expected[words[0]], expected[words[1]] if len(words) > 1 else 7)
