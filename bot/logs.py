"""Logging set-up. The bot token and personal numbers must never reach a log line."""

from __future__ import annotations

import logging
import re
from typing import TextIO

# NIK (16 digits, possibly grouped by spaces, dots or dashes) and Indonesian phone numbers
# (08…, 62 8…, +62 8…, grouped or not), wherever they appear in a message or a traceback.
_NIK = re.compile(r"(?<![\d.-])\d(?:[ .-]?\d){15}(?![\d])")
_PHONE = re.compile(r"(?<![\d+])(?:\+?62[ .-]?(?:\(0\)[ .-]?)?|0)8\d(?:[ .-]?\d){6,11}(?!\d)")
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


class RedactingFilter(logging.Filter):
    """Replaces the token, NIKs and phone numbers in every record before it is written: the
    message, and the traceback and stack of records that carry one."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self._secrets = [s for s in (secrets or []) if s]
        self._formatter = logging.Formatter()

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _TOKEN.sub("***", text)
        text = _NIK.sub("****************", text)
        return _PHONE.sub("+62***", text)

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
