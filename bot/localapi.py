"""A local, in-process Telegram Bot API server for tests and the terminal demo.

``LocalBotApi`` speaks the HTTP Bot API the way python-telegram-bot uses it (POST to
``/bot<token>/<method>`` with url-encoded or multipart bodies), so a real PTB ``Application``
can run against it unchanged: pass :attr:`LocalBotApi.base_url` to
``ApplicationBuilder().base_url(...)`` and :attr:`LocalBotApi.base_file_url` to
``.base_file_url(...)``.

Besides answering the bot, the server plays the users: ``send_text``, ``press_button``,
``share_contact`` ... queue updates that the bot fetches with real long polling, and every
message the bot sends is recorded as a :class:`SentMessage`. Faults Telegram produces in real
life (blocked users, flood limits, redelivery after a crash) can be injected on purpose, and
so can the failures of a bad minute (:class:`Faults`: 5xx answers, timeouts, dropped
connections, slow answers, updates delivered twice, bursts of 429), at random from a seed or
one by one with :meth:`LocalBotApi.fail_next`; ``fault_counts`` says how many were injected.

The server validates what real Telegram validates where a bug would otherwise slip through
unnoticed: HTML / MarkdownV2 markup, message and caption length, callback data length,
edits that change nothing, double answers to a callback query.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime as dtm
import inspect
import io
import itertools
import json
import logging
import math
import mimetypes
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, ClassVar, Self

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)

__all__ = [
    "ApiCall",
    "BotApiError",
    "CallbackAnswer",
    "Faults",
    "LocalBotApi",
    "LocalUser",
    "SentMessage",
    "start_application",
    "stop_application",
]

# Telegram's documented limits (in UTF-16 code units, like entity offsets).
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200

# Methods that put something into a chat: these are subject to blocking and flood limits.
_SEND_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendlocation",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
    }
)

# Update types Telegram leaves out unless they are asked for explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_INLINE_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "web_app",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


class BotApiError(Exception):
    """A Telegram-style error answer: HTTP status ``error_code`` and a ``description``."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram would answer with."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(detail: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {detail}")


@dataclass(eq=False)
class SentMessage:
    """One message the bot sent, as the user sees it now (edits update it in place).

    ``text`` / ``caption`` are what the user sees: markup given with ``parse_mode`` is parsed
    away (into ``entities``); ``raw_text`` keeps what the bot sent. ``edits`` holds the
    previous versions, oldest first. ``document_bytes`` holds the uploaded bytes of a document
    or photo.
    """

    message_id: int
    chat_id: int
    text: str | None
    reply_markup: dict[str, Any] | None
    kind: str = "text"  # "text" | "photo" | "document" | "location"
    caption: str | None = None
    document_name: str | None = None
    document_bytes: bytes | None = field(default=None, repr=False)
    parse_mode: str | None = None
    edits: list[SentMessage] = field(default_factory=list, repr=False)
    entities: list[dict[str, Any]] = field(default_factory=list, repr=False)
    raw_text: str | None = field(default=None, repr=False)
    latitude: float | None = None
    longitude: float | None = None
    file_id: str | None = field(default=None, repr=False)
    mime_type: str | None = field(default=None, repr=False)
    date: int = field(default=0, repr=False)
    edit_date: int | None = field(default=None, repr=False)
    deleted: bool = False
    # The Telegram payload of the media (photo sizes or document), echoed in Message objects.
    media: Any = field(default=None, repr=False)

    @property
    def content(self) -> str | None:
        """The text, or the caption for media messages."""
        return self.text if self.text is not None else self.caption

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """The rows of the inline keyboard, or ``[]``."""
        if not self.reply_markup:
            return []
        return list(self.reply_markup.get("inline_keyboard") or [])

    @property
    def inline_buttons(self) -> list[dict[str, Any]]:
        """All inline buttons, row by row."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def button_texts(self) -> list[str]:
        """The texts of all inline buttons, row by row."""
        return [str(button.get("text", "")) for button in self.inline_buttons]

    def callback_data(self, button_text: str) -> str:
        """The callback data of the inline button labelled exactly ``button_text``."""
        for button in self.inline_buttons:
            if button.get("text") == button_text and "callback_data" in button:
                return str(button["callback_data"])
        raise KeyError(f"no callback button {button_text!r}; buttons: {self.button_texts}")

    def snapshot(self) -> SentMessage:
        """A copy of the current version, used as the history entry before an edit."""
        return dataclasses.replace(self, edits=[], entities=list(self.entities))


@dataclass(frozen=True)
class CallbackAnswer:
    """An answerCallbackQuery call, with the user whose button press it answered."""

    callback_query_id: str
    user_id: int
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made (method and decoded form values; files as their names)."""

    method: str
    params: dict[str, Any]


@dataclass
class LocalUser:
    """A simulated Telegram user; their private chat with the bot has ``chat id == user id``."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "id"
    phone_number: str | None = None

    def user_payload(self) -> dict[str, Any]:
        """The ``User`` object as Telegram sends it."""
        payload: dict[str, Any] = {
            "id": self.user_id, "is_bot": False, "first_name": self.first_name,
        }
        if self.last_name:
            payload["last_name"] = self.last_name
        if self.username:
            payload["username"] = self.username
        if self.language_code:
            payload["language_code"] = self.language_code
        return payload

    def chat_payload(self) -> dict[str, Any]:
        """The private ``Chat`` object for this user."""
        payload: dict[str, Any] = {
            "id": self.user_id, "type": "private", "first_name": self.first_name,
        }
        if self.last_name:
            payload["last_name"] = self.last_name
        if self.username:
            payload["username"] = self.username
        return payload


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _QueuedUpdate:
    payload: dict[str, Any]
    # A redelivered update is below the bot's current offset; it is confirmed only by an
    # offset given *after* it has been handed out again, not by the offset that dropped it.
    redelivered: bool = False
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.payload["update_id"])

    @property
    def kind(self) -> str:
        return next((key for key in self.payload if key != "update_id"), "")


@dataclass
class _RateRule:
    retry_after: int
    remaining: int
    chat_id: int | None


# --------------------------------------------------------------------------------------------
# Injected faults
# --------------------------------------------------------------------------------------------

FAULT_KINDS = ("error_5xx", "timeout", "drop", "slow", "duplicate", "burst_429")

# Methods random faults hit unless Faults.methods says otherwise: what the bot sends and the
# answers to button presses (getUpdates is opt-in: its faults only cost the poll loop time).
_DEFAULT_FAULT_METHODS = _SEND_METHODS | {"answercallbackquery", "sendchataction", "deletemessage"}

_SERVER_ERRORS = ((502, "Bad Gateway"), (500, "Internal Server Error"),
                  (503, "Service Unavailable"))


@dataclass
class Faults:
    """Failures the server injects at random, from a seeded ``random.Random`` (a run repeats).

    Each probability is per request of an affected method (``methods``, lower-case names;
    None: what the bot sends and answerCallbackQuery), except ``duplicate``, which is per
    update handed out (getUpdates or the webhook). The kinds, as real Telegram shows them:

    - ``error_5xx``: 502/500/503 answered at once; nothing was done.
    - ``timeout``: done, but answered only after ``timeout_seconds``, which must exceed the
      client's timeout: the client gives up without knowing that it arrived.
    - ``drop``: done, then the connection is closed without an answer (a reply lost on the
      way back); the client cannot tell it from a request that never arrived.
    - ``slow``: answered after ``slow_seconds`` (within the client's patience).
    - ``duplicate``: the update is delivered again later, with the same update_id.
    - ``burst_429``: this and the next ``burst_length - 1`` requests answer 429 retry_after.
    """

    seed: int = 0
    error_5xx: float = 0.0
    timeout: float = 0.0
    drop: float = 0.0
    slow: float = 0.0
    duplicate: float = 0.0
    burst_429: float = 0.0
    methods: frozenset[str] | None = None
    timeout_seconds: float = 6.0
    slow_seconds: float = 0.3
    burst_length: int = 3
    retry_after: int = 1

    def affects(self, method: str) -> bool:
        return method.lower() in (self.methods if self.methods is not None
                                  else _DEFAULT_FAULT_METHODS)


@dataclass
class _TargetedFault:
    kind: str
    method: str | None  # lower-case; None: any affected method
    remaining: int


SentListener = Callable[[SentMessage], Awaitable[None] | None]
AnswerListener = Callable[[CallbackAnswer], Awaitable[None] | None]


# --------------------------------------------------------------------------------------------
# Markup parsing (parse_mode), close enough to Telegram to catch the same mistakes
# --------------------------------------------------------------------------------------------


class _ParseError(Exception):
    """Raised for markup Telegram would refuse ("can't parse entities: ...")."""


def _utf16_len(text: str) -> int:
    # Telegram counts entity offsets and lengths in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


class _HtmlToEntities(HTMLParser):
    """Turns Telegram-flavoured HTML into plain text plus entities; refuses other tags."""

    _TAGS: ClassVar[dict[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
        "a": "text_link",
        "code": "code",
        "pre": "pre",
        "blockquote": "blockquote",
        "tg-emoji": "custom_emoji",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.position = 0
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self._TAGS:
            raise _ParseError(f'Unsupported start tag "{tag}"')
        attributes = dict(attrs)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise _ParseError('Tag "span" must have class "tg-spoiler"')
        if tag == "a" and not attributes.get("href"):
            raise _ParseError('Tag "a" must have attribute "href"')
        self.stack.append((tag, self.position, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _ParseError(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _ParseError(f'Unexpected end tag "{tag}"')
        open_tag, start, attributes = self.stack.pop()
        if open_tag != tag:
            raise _ParseError(f'Unmatched end tag "{tag}", expected "</{open_tag}>"')
        length = self.position - start
        if length <= 0:
            return  # Telegram drops empty entities
        entity: dict[str, Any] = {"type": self._TAGS[tag], "offset": start, "length": length}
        if tag == "a":
            entity["url"] = attributes["href"]
        elif tag == "pre" and self.entities and self.entities[-1].get("language") and (
            self.entities[-1]["offset"], self.entities[-1]["length"]) == (start, length):
            return  # the inner <code class="language-..."> already made this pre entity
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            # <pre><code class="language-x"> sets the language of the enclosing pre block.
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                entity = {"type": "pre", "offset": start, "length": length, "language": language}
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.position += _utf16_len(data)

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.close()
        if self.stack:
            tag = self.stack[-1][0]
            raise _ParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        return "".join(self.parts), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
# How Telegram names an unclosed entity in its error message.
_MDV2_ERROR_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough",
                     "||": "Spoiler", "`": "Code", "```": "Pre", "[": "TextUrl"}


def _parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    """MarkdownV2 as Telegram parses it, including its insistence on escaping reserved chars."""
    parts: list[str] = []
    position = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, int]] = []  # (marker, start offset, byte offset in source)
    index = 0

    def emit(chunk: str) -> None:
        nonlocal position
        parts.append(chunk)
        position += _utf16_len(chunk)

    def byte_offset(at: int) -> int:
        return len(source[:at].encode("utf-8"))

    def close(name: str, **extra: Any) -> None:
        _, start, _ = stack.pop()
        if position > start:
            entities.append({"type": name, "offset": start, "length": position - start, **extra})

    while index < len(source):
        char = source[index]
        top = stack[-1][0] if stack else None
        if char == "\\":
            if index + 1 >= len(source):
                raise _ParseError(f"Character '\\' is reserved and must be escaped with the "
                                  f"preceding '\\' at byte offset {byte_offset(index)}")
            emit(source[index + 1])
            index += 2
            continue
        if top in ("`", "```"):
            # Inside code only ` and \ are special.
            if top == "```" and source.startswith("```", index):
                close("pre")
                index += 3
            elif top == "`" and char == "`":
                close("code")
                index += 1
            else:
                emit(char)
                index += 1
            continue
        if source.startswith("```", index):
            index += 3
            newline = source.find("\n", index)
            language = source[index:newline] if newline != -1 else ""
            if language and language.strip() == language and " " not in language:
                index = newline + 1
            stack.append(("```", position, byte_offset(index)))
            continue
        if char == "`":
            stack.append(("`", position, byte_offset(index)))
            index += 1
            continue
        marker = None
        for candidate in ("||", "__", "*", "_", "~"):
            if source.startswith(candidate, index):
                marker = candidate
                break
        if marker == "__" and top == "_":
            marker = "_"  # "_italic_" closing right before another "_"
        if marker is not None:
            if top == marker:
                close(_MDV2_NAMES[marker])
            elif any(entry[0] == marker for entry in stack):
                raise _ParseError(f"Can't find end of {_MDV2_ERROR_NAMES[top or marker]} "
                                  f"entity at byte offset {stack[-1][2]}")
            else:
                stack.append((marker, position, byte_offset(index)))
            index += len(marker)
            continue
        if char == "[" or (char == "!" and source.startswith("![", index)):
            index += 1 if char == "[" else 2
            stack.append(("[", position, byte_offset(index)))
            continue
        if char == "]" and top == "[":
            if not source.startswith("(", index + 1):
                raise _ParseError(f"Character ']' is reserved and must be escaped with the "
                                  f"preceding '\\' at byte offset {byte_offset(index)}")
            cursor = index + 2
            url_chars: list[str] = []
            while cursor < len(source) and source[cursor] != ")":
                if source[cursor] == "\\" and cursor + 1 < len(source):
                    cursor += 1
                url_chars.append(source[cursor])
                cursor += 1
            if cursor >= len(source):
                raise _ParseError(f"Can't find end of a url at byte offset {byte_offset(index)}")
            url = "".join(url_chars)
            if url.startswith("tg://emoji?id="):
                close("custom_emoji", custom_emoji_id=url.removeprefix("tg://emoji?id="))
            else:
                close("text_link", url=url)
            index = cursor + 1
            continue
        if char == ">" and (index == 0 or source[index - 1] == "\n"):
            index += 1  # blockquote line marker; the quote itself is not needed by tests
            continue
        if char in _MDV2_RESERVED:
            raise _ParseError(f"Character '{char}' is reserved and must be escaped with the "
                              f"preceding '\\'")
        emit(char)
        index += 1
    if stack:
        marker, _, offset = stack[-1]
        raise _ParseError(f"Can't find end of {_MDV2_ERROR_NAMES[marker]} entity at byte "
                          f"offset {offset}")
    return "".join(parts), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    parts: list[str] = []
    position = 0
    entities: list[dict[str, Any]] = []
    index = 0
    markers = {"*": "bold", "_": "italic", "`": "code"}

    def emit(chunk: str) -> None:
        nonlocal position
        parts.append(chunk)
        position += _utf16_len(chunk)

    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source) and source[index + 1] in "_*`[":
            emit(source[index + 1])
            index += 2
            continue
        if source.startswith("```", index) or char in markers or char == "[":
            opener = "```" if source.startswith("```", index) else char
            closer = "]" if opener == "[" else opener
            end = source.find(closer, index + len(opener))
            if end == -1:
                raise _ParseError("Can't find end of the entity starting at byte offset "
                                  f"{len(source[:index].encode('utf-8'))}")
            inner = source[index + len(opener):end]
            start = position
            emit(inner)
            after = end + len(closer)
            if opener == "[":
                if source.startswith("(", after) and ")" in source[after:]:
                    url_end = source.index(")", after)
                    if position > start:
                        entities.append({"type": "text_link", "offset": start,
                                         "length": position - start,
                                         "url": source[after + 1:url_end]})
                    after = url_end + 1
            elif position > start:
                entities.append({"type": "pre" if opener == "```" else markers[opener],
                                 "offset": start, "length": position - start})
            index = after
            continue
        emit(char)
        index += 1
    return "".join(parts), entities


def _apply_parse_mode(
    source: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> tuple[str, list[dict[str, Any]]]:
    """What the user sees for ``source``: explicit entities win over parse_mode, as in Telegram."""
    if entities is not None:
        return source, list(entities)
    if not parse_mode:
        return source, []
    mode = parse_mode.lower()
    try:
        if mode == "html":
            parser = _HtmlToEntities()
            parser.feed(source)
            return parser.result()
        if mode == "markdownv2":
            return _parse_markdown_v2(source)
        if mode == "markdown":
            return _parse_markdown(source)
    except _ParseError as exc:
        raise _bad_request(f"can't parse entities: {exc}") from None
    raise _bad_request(f"unsupported parse_mode {parse_mode!r}")


# --------------------------------------------------------------------------------------------
# Request parameters
# --------------------------------------------------------------------------------------------


class _Params:
    """Form values of one request with Telegram's coercions.

    PTB sends strings as they are and everything else JSON-encoded, so the type of a value
    is decided by the parameter, never guessed from the value (the text "123" stays a string).
    """

    def __init__(self, values: dict[str, Any]):
        self.values = values

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, web.FileField):
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def require_str(self, name: str, empty_message: str | None = None) -> str:
        value = self.get_str(name)
        if value is None or value == "":
            raise _bad_request(empty_message or f"{name} is empty")
        return value

    def _number(self, name: str, kind: type, default: Any) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise _bad_request(f"invalid {name} specified") from None

    def get_int(self, name: str, default: int | None = None) -> int | None:
        return self._number(name, int, default)

    def require_int(self, name: str) -> int:
        value = self.get_int(name)
        if value is None:
            raise _bad_request(f"{name} is empty")
        return value

    def get_float(self, name: str, default: float | None = None) -> float | None:
        return self._number(name, float, default)

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1")

    def get_json(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None

    def describe(self) -> dict[str, Any]:
        """The values for the call log, with uploads replaced by a short description."""
        return {
            key: (f"<file {value.filename}>" if isinstance(value, web.FileField) else value)
            for key, value in self.values.items()
        }


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class LocalBotApi:
    """An in-process Telegram Bot API server with simulated users (see the module docstring).

    State lives in memory and is only touched from the event loop; every request handler runs
    to completion without awaiting between reading and changing state, so no locks are needed.
    """

    def __init__(
        self,
        *,
        bot_id: int = 1000,
        bot_username: str = "pendamping_kube_bot",
        bot_first_name: str = "Pendamping KUBE",
        strict_chats: bool = False,
        first_update_id: int = 1,
        faults: Faults | None = None,
    ) -> None:
        """``strict_chats``: refuse to message users who never wrote to the bot (Telegram does,
        with 403 "bot can't initiate conversation"); off by default so tests may notify an
        admin who has not pressed /start yet. ``faults``: failures injected at random (off
        by default; see :class:`Faults` and :meth:`fail_next`)."""
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.strict_chats = strict_chats
        self.calls: collections.Counter[str] = collections.Counter()
        self.requests: list[ApiCall] = []
        self.webhook: dict[str, Any] | None = None
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}

        self._runner: web.AppRunner | None = None
        self._pusher: asyncio.Task[None] | None = None
        # What the webhook pusher saw: (update id, HTTP status or error name) per attempt.
        self.webhook_attempts: list[tuple[int, str]] = []
        self._host = "127.0.0.1"
        self._port = 0
        self._closing = False

        self._users: dict[int, LocalUser] = {}
        self._started_chats: set[int] = set()
        self._blocked: set[int] = set()
        self._rate_rules: list[_RateRule] = []
        self._limits: tuple[int, int] | None = None
        self._recent_overall: collections.deque[float] = collections.deque()
        self._recent_per_chat: dict[int, collections.deque[float]] = {}
        self.faults = Faults()
        self._rng = random.Random(0)
        self.set_faults(faults or Faults())
        # Injected faults by kind (Faults), for a test to report.
        self.fault_counts: collections.Counter[str] = collections.Counter()
        self._targeted: list[_TargetedFault] = []
        self._burst_left = 0

        self._next_update_id = first_update_id
        self._all_updates: dict[int, dict[str, Any]] = {}
        self._queue: list[_QueuedUpdate] = []
        self._allowed_updates: frozenset[str] = frozenset()
        self._poll_generation = 0
        # Replaced (after being set) on every state change: waiters grab the current event,
        # so a change between their check and their wait can never be missed.
        self._changed = asyncio.Event()

        self._message_ids: dict[int, itertools.count[int]] = {}
        self._sent: dict[int, dict[int, SentMessage]] = {}
        self._events: dict[int, list[SentMessage]] = {}
        self._reply_keyboards: dict[int, dict[str, Any] | None] = {}
        self._callback_queries: dict[str, tuple[int, bool]] = {}  # id -> (user id, answered)
        self._callback_answers: list[CallbackAnswer] = []
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)

        self._sent_listeners: list[SentListener] = []
        self._answer_listeners: list[AnswerListener] = []

        self._methods: dict[str, Callable[[_Params], Awaitable[Any]]] = {
            name.lower(): getattr(self, f"_api_{name}")
            for name in (
                "getMe", "getUpdates", "deleteWebhook", "setWebhook", "getWebhookInfo", "logOut",
                "close", "sendMessage", "editMessageText", "editMessageCaption",
                "editMessageReplyMarkup", "deleteMessage", "answerCallbackQuery", "sendPhoto",
                "sendDocument", "sendLocation", "sendChatAction", "setMyCommands",
                "getMyCommands", "deleteMyCommands", "setChatMenuButton", "getChatMenuButton",
                "getFile", "getChat",
            )
        }
        self._method_names = {key: value.__name__[5:] for key, value in self._methods.items()}

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listens on ``host:port`` (0 picks a free port)."""
        if self._runner is not None:
            raise RuntimeError("LocalBotApi is already running")
        # Uploads (reports, charts) can exceed aiohttp's default 1 MiB body limit.
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # access_log=None: the request path contains the bot token, which must never be logged.
        # handler_cancellation: a long poll whose client went away must not linger.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        address = self._runner.addresses[0]
        self._host, self._port = str(address[0]), int(address[1])
        self._closing = False
        self._pusher = asyncio.create_task(self._push_to_webhook(), name="localapi-webhook")

    async def stop(self) -> None:
        """Releases waiting long polls and stops listening."""
        if self._runner is None:
            return
        self._closing = True
        self._notify()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``; PTB appends the token."""
        return f"http://{self._host}:{self._port}/file/bot"

    # ----------------------------------------------------------------------------------------
    # Users and injected updates
    # ----------------------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Pengguna",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
        phone_number: str | None = None,
    ) -> LocalUser:
        """Registers (or updates) a simulated user, so updates carry a realistic ``from``."""
        user = LocalUser(user_id, first_name, last_name, username, language_code, phone_number)
        self._users[user_id] = user
        return user

    def get_user(self, user_id: int) -> LocalUser:
        """The registered user, or a plain default one registered on the fly."""
        if user_id not in self._users:
            self.user(user_id, first_name=f"Pengguna {user_id}")
        return self._users[user_id]

    def send_text(self, user_id: int, text: str) -> int:
        """The user sends ``text``; a leading "/command" gets its bot_command entity."""
        content: dict[str, Any] = {"text": text}
        command = text.split(maxsplit=1)[0] if text.startswith("/") else ""
        name = command[1:].split("@", 1)[0]
        valid = all(c.isascii() and (c.isalnum() or c == "_") for c in name)
        if name and len(name) <= 32 and valid:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self._user_message(user_id, content)

    def share_contact(self, user_id: int, phone_number: str, first_name: str | None = None,
                      *, contact_user_id: int | None = None) -> int:
        """The user shares their own contact (as the request_contact button does), or with
        ``contact_user_id`` someone else's."""
        user = self.get_user(user_id)
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or user.first_name,
            "user_id": contact_user_id if contact_user_id is not None else user_id,
        }
        if user.last_name:
            contact["last_name"] = user.last_name
        return self._user_message(user_id, {"contact": contact})

    def share_location(self, user_id: int, latitude: float, longitude: float) -> int:
        """The user shares a location."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._user_message(user_id, {"location": location})

    def send_photo(
        self, user_id: int, file_id: str | None = None, caption: str | None = None
    ) -> int:
        """The user sends a photo; three sizes, each downloadable through getFile."""
        sizes = []
        for index, (width, height) in enumerate(((90, 68), (320, 240), (800, 600))):
            content = _fake_jpeg(width, height)
            wanted_id = file_id if (file_id and index == 2) else None
            stored = self._store_file(content, "photos", ".jpg", mime_type="image/jpeg",
                                      file_id=wanted_id)
            sizes.append({
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(content),
            })
        content_payload: dict[str, Any] = {"photo": sizes}
        if caption:
            content_payload["caption"] = caption
        return self._user_message(user_id, content_payload)

    def send_document(self, user_id: int, filename: str, content_bytes: bytes,
                      mime_type: str | None = None, caption: str | None = None) -> int:
        """The user sends a file."""
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self._store_file(content_bytes, "documents", "", mime_type=mime,
                                  file_name=filename)
        payload: dict[str, Any] = {
            "document": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": filename,
                "mime_type": mime,
                "file_size": len(content_bytes),
            }
        }
        if caption:
            payload["caption"] = caption
        return self._user_message(user_id, payload)

    def send_sticker(self, user_id: int, emoji: str = "👍") -> int:
        """The user sends a sticker (something most bots do not expect)."""
        stored = self._store_file(b"RIFF\x00\x00\x00\x00WEBP", "stickers", ".webp",
                                  mime_type="image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._user_message(user_id, {"sticker": sticker})

    def press_button(self, user_id: int, message_id: int, callback_data: str, *,
                     strict: bool = True) -> int:
        """The user presses an inline button of the bot's message ``message_id``.

        With ``strict`` (the default) the message must exist and carry a button with exactly
        this callback data; ``strict=False`` forges any data, as a malicious client could.
        """
        sent = self._sent.get(user_id, {}).get(message_id)
        if strict:
            if sent is None or sent.deleted:
                raise LookupError(f"chat {user_id} has no bot message {message_id}")
            datas = [b.get("callback_data") for b in sent.inline_buttons]
            if callback_data not in datas:
                raise LookupError(
                    f"message {message_id} has no button with callback_data {callback_data!r}; "
                    f"it has {datas}"
                )
        user = self.get_user(user_id)
        self._started_chats.add(user_id)
        query_id = f"{user_id}{next(self._callback_counter):08d}"
        self._callback_queries[query_id] = (user_id, False)
        query: dict[str, Any] = {
            "id": query_id,
            "from": user.user_payload(),
            "chat_instance": str(-(user_id * 7919 % 10**12)),
            "data": callback_data,
        }
        if sent is not None and not sent.deleted:
            query["message"] = self._message_payload(sent)
        else:
            # What Telegram sends for a message the bot cannot see any more.
            query["message"] = {"chat": self._chat_payload(user_id), "message_id": message_id,
                                "date": 0}
        return self._enqueue({"callback_query": query})

    def send_raw_update(self, update: dict[str, Any]) -> int:
        """Queues any update; ``update_id`` is assigned unless given."""
        payload = dict(update)
        if "update_id" not in payload:
            return self._enqueue(payload)
        update_id = int(payload["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._all_updates[update_id] = payload
        # An explicit id may be below the bot's offset already; deliver it once regardless.
        self._queue.append(_QueuedUpdate(payload, redelivered=True))
        self._queue.sort(key=lambda item: item.update_id)
        self._notify()
        return update_id

    def redeliver(self, update_id: int) -> int:
        """Queues an already delivered update again, same update_id (Telegram after a crash)."""
        payload = self._all_updates.get(update_id)
        if payload is None:
            raise KeyError(f"update {update_id} was never queued")
        if not any(item.update_id == update_id for item in self._queue):
            self._queue.append(_QueuedUpdate(payload, redelivered=True))
            self._queue.sort(key=lambda item: item.update_id)
        self._notify()
        return update_id

    @property
    def pending_updates(self) -> list[int]:
        """Ids of updates the bot has not confirmed yet."""
        return [item.update_id for item in self._queue]

    async def wait_fetched(self, update_id: int, timeout: float = 5) -> None:
        """Waits until the bot confirmed ``update_id`` with a getUpdates offset above it.

        PTB's Updater asks with a new offset only after it has put the previous batch into
        ``application.update_queue``, so afterwards ``update_queue.join()`` covers the update.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while any(item.update_id == update_id for item in self._queue):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(
                    f"the bot did not fetch update {update_id} within {timeout}s "
                    "(is the Application polling this server?)"
                )
            await self._wait_change(remaining)

    # ----------------------------------------------------------------------------------------
    # Fault injection
    # ----------------------------------------------------------------------------------------

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends and edits to the chat answer 403."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def rate_limit(self, retry_after: int, count: int = 1, chat_id: int | None = None) -> None:
        """The next ``count`` sends (to ``chat_id``, or to any chat) answer 429 retry_after."""
        self._rate_rules.append(_RateRule(retry_after, count, chat_id))

    def enforce_limits(self, per_second_overall: int = 30, per_chat_per_second: int = 1) -> None:
        """Answers 429 when the bot sends faster than this (sliding one-second windows)."""
        self._limits = (per_second_overall, per_chat_per_second)
        self._recent_overall.clear()
        self._recent_per_chat.clear()

    def disable_limits(self) -> None:
        self._limits = None

    def set_faults(self, faults: Faults) -> None:
        """Injects these random faults from now on (``Faults()`` turns them off)."""
        self.faults = faults
        self._rng = random.Random(faults.seed)

    def fail_next(self, kind: str, method: str | None = None, count: int = 1) -> None:
        """The next ``count`` requests of ``method`` (any method random faults affect when
        None) fail this way; for "duplicate", the next ``count`` updates handed out."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        self._targeted.append(_TargetedFault(kind, method.lower() if method else None, count))

    def _take_targeted(self, method: str, *, duplicate: bool) -> str | None:
        for fault in self._targeted:
            if (fault.kind == "duplicate") != duplicate:
                continue
            if not duplicate and not (fault.method == method or (
                    fault.method is None and self.faults.affects(method))):
                continue
            fault.remaining -= 1
            self._targeted = [f for f in self._targeted if f.remaining > 0]
            return fault.kind
        return None

    def _draw_fault(self, method: str) -> str | None:
        """The fault for this request of ``method`` (lower-case), if any; counted."""
        kind = self._take_targeted(method, duplicate=False)
        if kind is None and self._burst_left > 0 and self.faults.affects(method):
            self._burst_left -= 1
            kind = "burst_429"
        if kind is None and self.faults.affects(method):
            draw = self._rng.random()
            for name in ("error_5xx", "timeout", "drop", "slow", "burst_429"):
                draw -= getattr(self.faults, name)
                if draw < 0:
                    kind = name
                    if name == "burst_429":
                        self._burst_left = self.faults.burst_length - 1
                    break
        if kind is not None:
            self.fault_counts[kind] += 1
        return kind

    def _duplicate(self, item: _QueuedUpdate) -> None:
        """Maybe queues ``item`` for a second delivery (same update_id), as Telegram does when
        it did not see the first one confirmed."""
        if item.redelivered:
            return
        targeted = self._take_targeted("", duplicate=True)
        if targeted is None and not (self.faults.duplicate
                                     and self._rng.random() < self.faults.duplicate):
            return
        self.fault_counts["duplicate"] += 1
        self._queue.append(_QueuedUpdate(item.payload, redelivered=True))
        self._queue.sort(key=lambda queued: queued.update_id)
        self._notify()

    # ----------------------------------------------------------------------------------------
    # Inspection
    # ----------------------------------------------------------------------------------------

    def on_sent(self, callback: SentListener) -> Callable[[], None]:
        """Calls ``callback(message)`` on every send, edit (``message.edits`` grew) and delete
        (``message.deleted``). May be a coroutine function. Returns an unsubscribe function."""
        self._sent_listeners.append(callback)
        return lambda: self._sent_listeners.remove(callback)

    def on_callback_answer(self, callback: AnswerListener) -> Callable[[], None]:
        """Calls ``callback(answer)`` on every answerCallbackQuery. Returns an unsubscribe."""
        self._answer_listeners.append(callback)
        return lambda: self._answer_listeners.remove(callback)

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent (to one chat, or to all), oldest first, in their current state."""
        chats = [chat_id] if chat_id is not None else list(self._sent)
        messages = [m for chat in chats for m in self._sent.get(chat, {}).values()]
        if chat_id is None:
            messages.sort(key=lambda m: (m.date, m.chat_id, m.message_id))
        return messages

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        """One message the bot sent."""
        return self._sent[chat_id][message_id]

    def last_message(self, chat_id: int) -> SentMessage | None:
        """The newest message the bot sent to the chat (deleted ones included)."""
        messages = self._sent.get(chat_id)
        return next(reversed(messages.values())) if messages else None

    def log_position(self, chat_id: int) -> int:
        """A marker for :meth:`sent_since`."""
        return len(self._events.get(chat_id, []))

    def sent_since(self, chat_id: int, position: int) -> list[SentMessage]:
        """Messages sent, edited or deleted in the chat since ``position``, each once, in order
        of their first change."""
        seen: dict[int, SentMessage] = {}
        for message in self._events.get(chat_id, [])[position:]:
            seen.setdefault(id(message), message)
        return list(seen.values())

    def reply_keyboard(self, chat_id: int) -> list[list[dict[str, Any]]] | None:
        """The reply keyboard the chat shows now (rows of KeyboardButton dicts), or None."""
        markup = self._reply_keyboards.get(chat_id)
        return None if markup is None else markup["keyboard"]

    def reply_keyboard_markup(self, chat_id: int) -> dict[str, Any] | None:
        """The whole ReplyKeyboardMarkup the chat shows now, or None."""
        return self._reply_keyboards.get(chat_id)

    def callback_answers(self, user_id: int | None = None) -> list[CallbackAnswer]:
        """answerCallbackQuery calls, oldest first."""
        return [a for a in self._callback_answers if user_id is None or a.user_id == user_id]

    def commands(
        self, language_code: str = "", scope: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The command menu set for this language and scope (default scope if None)."""
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    def file_content(self, file_id: str) -> bytes:
        """The bytes behind a file id."""
        return self._files[file_id].content

    # ----------------------------------------------------------------------------------------
    # HTTP plumbing
    # ----------------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        requested = request.match_info["method"]
        handler = self._methods.get(requested.lower())
        name = self._method_names.get(requested.lower(), requested)
        self.calls[name] += 1
        if handler is None:
            return self._error_response(BotApiError(404, "Not Found: method not found"))
        fault = self._draw_fault(requested.lower())
        if fault == "error_5xx":
            code, description = self._rng.choice(_SERVER_ERRORS)
            return self._error_response(BotApiError(code, description))
        if fault == "burst_429":
            retry_after = self.faults.retry_after
            return self._error_response(BotApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after))
        if fault == "slow":
            await asyncio.sleep(self.faults.slow_seconds)
        response = await self._answer(request, name, handler)
        if fault == "timeout":
            # Done, but the answer comes after the client gave up (the handler is cancelled
            # when the client goes away).
            await asyncio.sleep(self.faults.timeout_seconds)
        elif fault == "drop" and request.transport is not None:
            request.transport.close()
        return response

    async def _answer(self, request: web.Request, name: str,
                      handler: Callable[[_Params], Awaitable[Any]]) -> web.Response:
        try:
            params = await self._read_params(request)
            self.requests.append(ApiCall(name, params.describe()))
            result = await handler(params)
        except BotApiError as error:
            return self._error_response(error)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("LocalBotApi failed on %s", name)
            return self._error_response(BotApiError(500, "Internal Server Error: LocalBotApi bug"))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._file_paths.get(request.match_info["path"])
        if stored is None:
            return web.Response(status=404, text="Not Found")
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.content, content_type=content_type)

    @staticmethod
    def _error_response(error: BotApiError) -> web.Response:
        return web.json_response(error.payload(), status=error.error_code)

    @staticmethod
    async def _read_params(request: web.Request) -> _Params:
        values: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    values.update(body)
            else:
                form = await request.post()
                for key in form:
                    values[key] = form[key]
        return _Params(values)

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def _emit_sent(self, message: SentMessage) -> None:
        self._events.setdefault(message.chat_id, []).append(message)
        for listener in list(self._sent_listeners):
            await self._call_listener(listener, message)

    @staticmethod
    async def _call_listener(listener: Callable[[Any], Any], argument: Any) -> None:
        # A broken listener (the demo's printer, a test spy) must not break the bot's request.
        try:
            result = listener(argument)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("LocalBotApi listener failed")

    # ----------------------------------------------------------------------------------------
    # Helpers
    # ----------------------------------------------------------------------------------------

    def _enqueue(self, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        full = {"update_id": update_id, **payload}
        self._all_updates[update_id] = full
        self._queue.append(_QueuedUpdate(full))
        self._notify()
        return update_id

    def _user_message(self, user_id: int, content: dict[str, Any]) -> int:
        user = self.get_user(user_id)
        self._started_chats.add(user_id)
        message = {
            "message_id": self._new_message_id(user_id),
            "date": int(time.time()),
            "chat": user.chat_payload(),
            "from": user.user_payload(),
            **content,
        }
        return self._enqueue({"message": message})

    def _new_message_id(self, chat_id: int) -> int:
        # Message ids are per chat and shared by both sides of the conversation.
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _chat_payload(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self._users:
            return self._users[chat_id].chat_payload()
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": f"Grup {chat_id}"}
        return {"id": chat_id, "type": "private", "first_name": f"Pengguna {chat_id}"}

    def _chat_id(self, params: _Params) -> int:
        raw = params.values.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        try:
            return int(raw)
        except (TypeError, ValueError):
            username = str(raw).lstrip("@").lower()
            for user in self._users.values():
                if user.username and user.username.lower() == username:
                    return user.user_id
            raise _bad_request("chat not found") from None

    def _check_chat(self, chat_id: int, method: str) -> None:
        """Raises what Telegram answers when the bot may not write to the chat right now."""
        if self.strict_chats and chat_id not in self._started_chats:
            if chat_id in self._users:
                raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise _bad_request("chat not found")
        if chat_id in self._blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        if method not in _SEND_METHODS:
            return
        for rule in self._rate_rules:
            if rule.remaining > 0 and rule.chat_id in (None, chat_id):
                rule.remaining -= 1
                self._rate_rules = [r for r in self._rate_rules if r.remaining > 0]
                raise BotApiError(429, f"Too Many Requests: retry after {rule.retry_after}",
                                  retry_after=rule.retry_after)
        if self._limits is not None:
            self._check_flood(chat_id)

    def _check_flood(self, chat_id: int) -> None:
        assert self._limits is not None
        overall_limit, chat_limit = self._limits
        now = time.monotonic()
        per_chat = self._recent_per_chat.setdefault(chat_id, collections.deque())
        for window in (self._recent_overall, per_chat):
            while window and window[0] <= now - 1.0:
                window.popleft()
        for window, limit in ((self._recent_overall, overall_limit), (per_chat, chat_limit)):
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + 1.0 - now))
                raise BotApiError(429, f"Too Many Requests: retry after {retry_after}",
                                  retry_after=retry_after)
        self._recent_overall.append(now)
        per_chat.append(now)

    def _store_file(self, content: bytes, folder: str, suffix: str, *, mime_type: str | None = None,
                    file_name: str | None = None, file_id: str | None = None) -> _StoredFile:
        number = next(self._file_counter)
        if not suffix and file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        stored = _StoredFile(
            file_id=file_id or f"LOCAL-{folder[:3].upper()}-{number:06d}-{id(self) % 9973:04d}",
            file_unique_id=f"U{number:06d}",
            content=content,
            file_path=f"{folder}/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _message_payload(self, sent: SentMessage) -> dict[str, Any]:
        """The Telegram ``Message`` for a recorded bot message, as PTB's de_json needs it."""
        payload: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": sent.date,
            "chat": self._chat_payload(sent.chat_id),
            "from": dict(self.bot_user),
        }
        if sent.edit_date:
            payload["edit_date"] = sent.edit_date
        if sent.kind == "text":
            payload["text"] = sent.text
            if sent.entities:
                payload["entities"] = sent.entities
        elif sent.kind == "photo":
            payload["photo"] = sent.media
        elif sent.kind == "document":
            payload["document"] = sent.media
        elif sent.kind == "location":
            payload["location"] = {"latitude": sent.latitude, "longitude": sent.longitude}
        if sent.caption is not None:
            payload["caption"] = sent.caption
            if sent.entities:
                payload["caption_entities"] = sent.entities
        # Telegram echoes only inline keyboards; reply keyboards are not part of the Message.
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            payload["reply_markup"] = sent.reply_markup
        return payload

    def _reply_markup(self, params: _Params) -> dict[str, Any] | None:
        markup = params.get_json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request("can't parse inline keyboard button: InlineKeyboardMarkup "
                                   "must be an Array of Arrays")
            for button in (b for row in rows for b in row):
                self._check_inline_button(button)
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request("can't parse reply keyboard markup JSON object")
            # Plain strings are allowed as buttons; store them the way clients see them.
            markup = {**markup, "keyboard": [
                [b if isinstance(b, dict) else {"text": str(b)} for b in row] for row in rows
            ]}
            for button in (b for row in markup["keyboard"] for b in row):
                if not button.get("text"):
                    raise _bad_request("keyboard button text is empty")
        return markup

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not button.get("text"):
            raise _bad_request("can't parse inline keyboard button: Text buttons are unallowed "
                               "in the inline keyboard")
        actions = [key for key in _INLINE_BUTTON_ACTIONS if key in button]
        if len(actions) != 1:
            raise _bad_request("can't parse inline keyboard button: Text buttons are unallowed "
                               "in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")
        if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
            raise _bad_request(f"inline keyboard button URL '{button['url']}' is invalid: "
                               "Wrong HTTP URL")

    def _note_reply_keyboard(self, chat_id: int, markup: dict[str, Any] | None) -> None:
        if markup is None:
            return
        if "keyboard" in markup:
            self._reply_keyboards[chat_id] = markup
        elif markup.get("remove_keyboard"):
            self._reply_keyboards[chat_id] = None

    def _formatted(self, params: _Params, name: str, limit: int, too_long: str,
                   entities_name: str) -> tuple[str | None, str | None, list[dict[str, Any]]]:
        """(plain text, raw text, entities) for a text or caption parameter."""
        raw = params.get_str(name)
        if raw is None:
            return None, None, []
        entities = params.get_json(entities_name)
        text, parsed = _apply_parse_mode(raw, params.get_str("parse_mode"), entities)
        if _utf16_len(text) > limit:
            raise _bad_request(too_long)
        return text, raw, parsed

    async def _record(self, sent: SentMessage) -> dict[str, Any]:
        sent.date = int(time.time())
        self._sent.setdefault(sent.chat_id, {})[sent.message_id] = sent
        self._note_reply_keyboard(sent.chat_id, sent.reply_markup)
        await self._emit_sent(sent)
        return self._message_payload(sent)

    def _input_file(
        self, params: _Params, name: str
    ) -> tuple[bytes | None, str | None, str | None, str]:
        """(content, file name, mime type, file id / url) of a file parameter."""
        value = params.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.values.get(value.removeprefix("attach://"))
        if isinstance(value, web.FileField):
            content = value.file.read()
            if not content:
                raise _bad_request("file must be non-empty")
            return content, value.filename, value.content_type, ""
        if not isinstance(value, str) or not value:
            raise _bad_request(f"there is no {name} in the request")
        stored = self._files.get(value)
        if stored is not None:
            return stored.content, stored.file_name, stored.mime_type, value
        if value.startswith(("http://", "https://")):
            return None, value.rsplit("/", 1)[-1] or None, None, value
        raise _bad_request("wrong file identifier/HTTP URL specified")

    def _editable(self, params: _Params) -> SentMessage:
        if params.has("inline_message_id"):
            raise _bad_request("inline messages are not supported by LocalBotApi")
        chat_id = self._chat_id(params)
        message_id = params.require_int("message_id")
        sent = self._sent.get(chat_id, {}).get(message_id)
        if sent is None or sent.deleted:
            raise _bad_request("message to edit not found")
        return sent

    @staticmethod
    def _commands_key(scope: Any, language_code: str | None) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), language_code or ""

    # ----------------------------------------------------------------------------------------
    # Bot API methods
    # ----------------------------------------------------------------------------------------

    async def _api_getMe(self, params: _Params) -> dict[str, Any]:
        return dict(self.bot_user)

    async def _api_logOut(self, params: _Params) -> bool:
        return True

    async def _api_close(self, params: _Params) -> bool:
        return True

    async def _api_getUpdates(self, params: _Params) -> list[dict[str, Any]]:
        if self.webhook:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                   "active; use deleteWebhook to delete the webhook first")
        offset = params.get_int("offset", 0) or 0
        limit = min(max(params.get_int("limit", 100) or 100, 1), 100)
        timeout = max(params.get_float("timeout", 0.0) or 0.0, 0.0)
        allowed = params.get_json("allowed_updates")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed)

        # Like Telegram, a newer poll ends an older one still waiting (409 for the older).
        self._poll_generation += 1
        generation = self._poll_generation
        self._confirm(offset)
        self._notify()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._deliverable(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                break
            await self._wait_change(remaining)
            if generation != self._poll_generation:
                raise BotApiError(409, "Conflict: terminated by other getUpdates request; make "
                                       "sure that only one bot instance is running")
        for item in batch:
            item.delivered = True
            self._duplicate(item)
        return [item.payload for item in batch]

    def _confirm(self, offset: int) -> None:
        """Forgets updates confirmed by ``offset`` (negative: keep only the last -offset)."""
        before = len(self._queue)
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset > 0:
            self._queue = [
                item for item in self._queue
                if item.update_id >= offset or (item.redelivered and not item.delivered)
            ]
        if len(self._queue) != before:
            self._notify()

    async def _push_to_webhook(self) -> None:
        """Posts queued updates, one at a time and in order, to the webhook while one is set.

        Like Telegram: the secret token goes in X-Telegram-Bot-Api-Secret-Token, an update is
        done when the bot answers 2xx, and anything else is tried again a moment later.
        """
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
            while not self._closing:
                webhook = self.webhook
                batch = self._deliverable(1) if webhook else []
                if not batch:
                    await self._wait_change(1.0)
                    continue
                item = batch[0]
                headers = {}
                if webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
                try:
                    async with client.post(webhook["url"], json=item.payload,
                                           headers=headers) as response:
                        outcome = str(response.status)
                        ok = 200 <= response.status < 300
                except (aiohttp.ClientError, TimeoutError) as error:
                    outcome, ok = type(error).__name__, False
                self.webhook_attempts.append((item.update_id, outcome))
                if ok and self.webhook is webhook:
                    item.delivered = True
                    self._queue = [queued for queued in self._queue if queued is not item]
                    self._duplicate(item)
                    self._notify()
                elif not ok:
                    await asyncio.sleep(0.2)

    def _deliverable(self, limit: int) -> list[_QueuedUpdate]:
        if self.webhook and self.webhook.get("allowed_updates"):
            wanted = [item for item in self._queue
                      if item.kind in self.webhook["allowed_updates"]]
        elif self._allowed_updates:
            wanted = [item for item in self._queue if item.kind in self._allowed_updates]
        else:
            wanted = [item for item in self._queue if item.kind not in _OPT_IN_UPDATES]
        return wanted[:limit]

    async def _api_deleteWebhook(self, params: _Params) -> bool:
        self.webhook = None
        if params.get_bool("drop_pending_updates"):
            self._queue.clear()
            self._notify()
        return True

    async def _api_setWebhook(self, params: _Params) -> bool:
        url = params.get_str("url") or ""
        # Telegram wants https; this server also takes plain http to the same machine, where
        # the tests run PTB's webhook server.
        loopback = url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        if url and not url.startswith("https://") and not loopback:
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "secret_token": params.get_str("secret_token"),
            "allowed_updates": params.get_json("allowed_updates"),
            "max_connections": params.get_int("max_connections", 40),
        } if url else None
        if params.get_bool("drop_pending_updates"):
            self._queue.clear()
        self._notify()  # a waiting getUpdates must learn that a webhook is now set
        return True

    async def _api_getWebhookInfo(self, params: _Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _api_getChat(self, params: _Params) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        if self.strict_chats and chat_id not in self._users:
            raise _bad_request("chat not found")
        return {**self._chat_payload(chat_id), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False}}

    async def _api_sendMessage(self, params: _Params) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        raw = params.require_str("text", "message text is empty")
        markup = self._reply_markup(params)
        text, _, entities = self._formatted(params, "text", MAX_TEXT_LENGTH,
                                            "message is too long", "entities")
        if not (text or "").strip():
            raise _bad_request("message text is empty")
        self._check_chat(chat_id, "sendmessage")
        sent = SentMessage(
            message_id=self._new_message_id(chat_id), chat_id=chat_id, text=text,
            reply_markup=markup, kind="text", parse_mode=params.get_str("parse_mode"),
            entities=entities, raw_text=raw,
        )
        return await self._record(sent)

    async def _api_sendPhoto(self, params: _Params) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        content, file_name, mime, reference = self._input_file(params, "photo")
        markup = self._reply_markup(params)
        caption, raw, entities = self._formatted(params, "caption", MAX_CAPTION_LENGTH,
                                                 "message caption is too long", "caption_entities")
        self._check_chat(chat_id, "sendphoto")
        sizes = []
        if reference in self._files:
            largest = self._files[reference]
        else:
            largest = self._store_file(content or b"", "photos", ".jpg",
                                       mime_type=mime or "image/jpeg", file_name=file_name)
        width, height = _image_size(content)
        for scale in (0.1125, 0.4, 1.0):
            stored = largest if scale == 1.0 else self._store_file(
                content or b"", "photos", ".jpg", mime_type=largest.mime_type)
            sizes.append({
                "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "width": max(1, int(width * scale)), "height": max(1, int(height * scale)),
                "file_size": len(stored.content),
            })
        sent = SentMessage(
            message_id=self._new_message_id(chat_id), chat_id=chat_id, text=None,
            reply_markup=markup, kind="photo", caption=caption, document_name=file_name,
            document_bytes=content, parse_mode=params.get_str("parse_mode"), entities=entities,
            raw_text=raw, file_id=largest.file_id, mime_type=largest.mime_type, media=sizes,
        )
        return await self._record(sent)

    async def _api_sendDocument(self, params: _Params) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        content, file_name, mime, reference = self._input_file(params, "document")
        markup = self._reply_markup(params)
        caption, raw, entities = self._formatted(params, "caption", MAX_CAPTION_LENGTH,
                                                 "message caption is too long", "caption_entities")
        self._check_chat(chat_id, "senddocument")
        if reference in self._files:
            stored = self._files[reference]
        else:
            mime = mime or mimetypes.guess_type(file_name or "")[0] or "application/octet-stream"
            stored = self._store_file(content or b"", "documents", "", mime_type=mime,
                                      file_name=file_name)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        sent = SentMessage(
            message_id=self._new_message_id(chat_id), chat_id=chat_id, text=None,
            reply_markup=markup, kind="document", caption=caption,
            document_name=stored.file_name, document_bytes=content,
            parse_mode=params.get_str("parse_mode"), entities=entities, raw_text=raw,
            file_id=stored.file_id, mime_type=stored.mime_type, media=document,
        )
        return await self._record(sent)

    async def _api_sendLocation(self, params: _Params) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        latitude = params.get_float("latitude")
        longitude = params.get_float("longitude")
        if latitude is None or longitude is None or not (-90 <= latitude <= 90) or not (
            -180 <= longitude <= 180
        ):
            raise _bad_request("wrong location specified")
        markup = self._reply_markup(params)
        self._check_chat(chat_id, "sendlocation")
        sent = SentMessage(
            message_id=self._new_message_id(chat_id), chat_id=chat_id, text=None,
            reply_markup=markup, kind="location", latitude=latitude, longitude=longitude,
        )
        return await self._record(sent)

    async def _api_sendChatAction(self, params: _Params) -> bool:
        chat_id = self._chat_id(params)
        action = params.require_str("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._check_chat(chat_id, "sendchataction")
        return True

    async def _edit(
        self, sent: SentMessage, changes: dict[str, Any], **also: Any
    ) -> dict[str, Any]:
        """Applies an edit in place (history kept) unless it changes nothing visible.

        ``changes`` is what the user sees (compared for "not modified"); ``also`` is
        bookkeeping updated alongside (raw text, parse mode).
        """
        if all(getattr(sent, key) == value for key, value in changes.items()):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        self._check_chat(sent.chat_id, "editmessagetext")
        sent.edits.append(sent.snapshot())
        for key, value in {**changes, **also}.items():
            setattr(sent, key, value)
        sent.edit_date = int(time.time())
        await self._emit_sent(sent)
        return self._message_payload(sent)

    async def _api_editMessageText(self, params: _Params) -> dict[str, Any]:
        sent = self._editable(params)
        raw = params.require_str("text", "message text is empty")
        markup = self._reply_markup(params)
        text, _, entities = self._formatted(params, "text", MAX_TEXT_LENGTH,
                                            "message is too long", "entities")
        if not (text or "").strip():
            raise _bad_request("message text is empty")
        if sent.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        # Omitting reply_markup in an edit removes the inline keyboard, as in Telegram.
        return await self._edit(
            sent,
            {"text": text, "entities": entities, "reply_markup": markup},
            raw_text=raw, parse_mode=params.get_str("parse_mode"),
        )

    async def _api_editMessageCaption(self, params: _Params) -> dict[str, Any]:
        sent = self._editable(params)
        markup = self._reply_markup(params)
        caption, raw, entities = self._formatted(params, "caption", MAX_CAPTION_LENGTH,
                                                 "message caption is too long", "caption_entities")
        if sent.kind not in ("photo", "document"):
            raise _bad_request("there is no caption in the message to edit")
        return await self._edit(sent, {"caption": caption, "entities": entities,
                                       "reply_markup": markup}, raw_text=raw)

    async def _api_editMessageReplyMarkup(self, params: _Params) -> dict[str, Any]:
        sent = self._editable(params)
        markup = self._reply_markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad_request("inline keyboard expected")
        return await self._edit(sent, {"reply_markup": markup})

    async def _api_deleteMessage(self, params: _Params) -> bool:
        chat_id = self._chat_id(params)
        message_id = params.require_int("message_id")
        sent = self._sent.get(chat_id, {}).get(message_id)
        if sent is None or sent.deleted:
            raise _bad_request("message to delete not found")
        sent.deleted = True
        await self._emit_sent(sent)
        return True

    async def _api_answerCallbackQuery(self, params: _Params) -> bool:
        query_id = params.require_str("callback_query_id")
        known = self._callback_queries.get(query_id)
        if known is None or known[1]:
            raise _bad_request("query is too old and response timeout expired or query ID is "
                               "invalid")
        text = params.get_str("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = (known[0], True)
        answer = CallbackAnswer(query_id, known[0], text or None, params.get_bool("show_alert"),
                                params.get_str("url"))
        self._callback_answers.append(answer)
        for listener in list(self._answer_listeners):
            await self._call_listener(listener, answer)
        return True

    async def _api_setMyCommands(self, params: _Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("parameter \"commands\" must be an Array of at most 100 commands")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not (1 <= len(name) <= 32) or not all(
                c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code"))
        self._commands[key] = [dict(c) for c in commands]
        return True

    async def _api_getMyCommands(self, params: _Params) -> list[dict[str, Any]]:
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code"))
        return list(self._commands.get(key, []))

    async def _api_deleteMyCommands(self, params: _Params) -> bool:
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code"))
        self._commands.pop(key, None)
        return True

    async def _api_setChatMenuButton(self, params: _Params) -> bool:
        chat_id = params.get_int("chat_id")
        self.menu_buttons[chat_id] = params.get_json("menu_button") or {"type": "default"}
        return True

    async def _api_getChatMenuButton(self, params: _Params) -> dict[str, Any]:
        chat_id = params.get_int("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "commands"}

    async def _api_getFile(self, params: _Params) -> dict[str, Any]:
        stored = self._files.get(params.require_str("file_id"))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }


# --------------------------------------------------------------------------------------------
# Media helpers
# --------------------------------------------------------------------------------------------


def _fake_jpeg(width: int, height: int) -> bytes:
    """A real JPEG when Pillow is there (matplotlib brings it), so image code can open it."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return b"\xff\xd8\xff\xe0" + bytes(width % 256 for _ in range(64)) + b"\xff\xd9"
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (46, 125, 50)).save(buffer, "JPEG")
    return buffer.getvalue()


def _image_size(content: bytes | None) -> tuple[int, int]:
    """Width and height of an uploaded image, or a plausible default."""
    if content:
        # Anything Pillow cannot read keeps the default: the size is cosmetic.
        with contextlib.suppress(Exception):
            from PIL import Image

            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
                return int(width), int(height)
    return 800, 600


# --------------------------------------------------------------------------------------------
# Running a PTB Application against the server (shared by the test harness and the demo)
# --------------------------------------------------------------------------------------------


async def start_application(
    application: Application, *, poll_timeout: float = 10, drop_pending_updates: bool = False
) -> None:
    """Starts ``application`` like ``run_polling`` does, but without taking over the loop.

    ``initialize``/``start`` do not call ``post_init`` (only ``run_polling`` does), so it is
    called here, in the same order as ``run_polling``: initialize, post_init, polling, start.
    """
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    if application.updater is not None:
        await application.updater.start_polling(
            poll_interval=0,
            timeout=dtm.timedelta(seconds=poll_timeout),
            drop_pending_updates=drop_pending_updates,
        )
    await application.start()


async def stop_application(application: Application) -> None:
    """Stops what :func:`start_application` started, with post_stop / post_shutdown hooks."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown:
        await application.post_shutdown(application)

