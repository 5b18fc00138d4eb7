"""What the parsers of typed text share: tidying the text, the words for "skip this", and the
rule that what users type never makes a parser raise."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

__all__ = ["clean", "is_skip", "tidy", "user_text"]

_SPACES = re.compile(r"\s+")
# Phones type curly quotes or backticks for the apostrophe in names like Ma'ruf.
APOSTROPHES = re.compile("['`\u2018\u2019]")


def clean(text: str) -> str:
    """NFKC-normalises, lowercases and collapses whitespace (NBSP included)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def tidy(text: str) -> str:
    """NFKC-normalises and collapses whitespace, keeping the case, and writes every apostrophe
    as "'": a name as it is kept."""
    return APOSTROPHES.sub("'", _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip())


_Parser = TypeVar("_Parser", bound=Callable[..., Any])


def user_text(max_length: int) -> Callable[[_Parser], _Parser]:
    """Makes a parser of what users type answer None, without parsing, for anything but a
    str of at most ``max_length`` characters (longer is never a valid answer, and refusing it
    early keeps the parsers fast), and None rather than raise: dateparser, phonenumbers and
    Babel have surprising failure modes, and the mentor is better asked again."""

    def decorate(parse: _Parser) -> _Parser:
        @wraps(parse)
        def parse_user_text(*args: object, **kwargs: object) -> object:
            text = args[0] if args else kwargs.get("text")
            if not isinstance(text, str) or len(text) > max_length:
                return None
            try:
                return parse(*args, **kwargs)
            except Exception:  # noqa: BLE001 - never raise on user text
                return None

        return parse_user_text  # type: ignore[return-value]

    return decorate


_SKIP_WORDS = frozenset(
    {
        "-",
        "--",
        "\u2013",  # en dash, which phones substitute for "-"
        "\u2014",  # em dash
        "lewati",
        "lewat",
        "skip",
        "tidak ada",
        "tdk ada",
        "tak ada",
        "ga ada",
        "gak ada",
        "nggak ada",
        "enggak ada",
        "belum ada",
        "tidak",
        "tdk",
        "tak",
        "ga",
        "gak",
        "nggak",
        "kosong",
        "none",
        "no",
        "n/a",
        "na",
    }
)


def is_skip(text: str) -> bool:
    """True when the mentor means "skip this optional question" ("-", "lewati", "tidak ada"...).

    "0" is not a skip word: it is an amount or a count.
    """
    if not isinstance(text, str) or len(text) > 40:
        return False
    cleaned = clean(text).lstrip("/")
    if cleaned in _SKIP_WORDS:
        return True
    return cleaned.rstrip(".!") in _SKIP_WORDS
