"""What the local Bot API server records and is told: Telegram's limits, the sent messages,
users, files and queued updates, the faults to inject, and a request's parameters."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

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

