"""Logging set-up. The bot token and personal numbers must never reach a log line."""

from __future__ import annotations

import logging
import re
from typing import TextIO

from bot.core.parsing import Found, replace_numbers

_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


def _redacted(number: Found) -> str:
    """What a log line shows for a number: its kind, never a digit of it."""
    return {"nik": "****************", "phone": "+62***"}.get(number.kind, "***")


class RedactingFilter(logging.Filter):
    """Replaces the token, NIKs and phone numbers in every record before it is written: the
    message, and the traceback and stack of records that carry one."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self._secrets = [s for s in (secrets or []) if s]
        # A bot token's secret half is a secret on its own ("123456:" is the public bot id).
        self._secrets += [s.split(":", 1)[1] for s in self._secrets
                          if ":" in s and len(s.split(":", 1)[1]) >= 20]
        self._formatter = logging.Formatter()

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _TOKEN.sub("***", text)
        # NIKs and phone numbers are found as notes find them (bot.core.parsing.numbers),
        # wherever they appear in a message or a traceback.
        return replace_numbers(text, _redacted)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        # An exception's text may quote what a user typed (or a SQL parameter).
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` without bot tokens, NIKs or phone numbers (for what is printed, not logged)."""
    return RedactingFilter(secrets)._clean(text)


# These write what users typed, what the bot sent and what is stored (Telegram's requests and
# updates, SQL parameters) at DEBUG: names and notes no filter can recognise. A DEBUG log is
# for the bot's own lines; their problems still show.
DATA_LOGGERS = {"telegram": logging.INFO, "aiosqlite": logging.WARNING,
                "asyncpg": logging.WARNING}


def quiet_data_loggers() -> None:
    """Keeps the loggers that would write personal data (DATA_LOGGERS) above DEBUG."""
    for name, level in DATA_LOGGERS.items():
        logging.getLogger(name).setLevel(level)


def setup_logging(level: str = "INFO", secrets: list[str] | None = None,
                  stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and Telegram URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Alembic announces each of its plugins on every start; only its problems matter here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    quiet_data_loggers()
