"""Logging set-up. The bot token and personal numbers must never reach a log line."""

from __future__ import annotations

import logging
import re

# NIK (16 digits) and Indonesian phone numbers, wherever they appear in a message.
_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
_PHONE = re.compile(r"(?<![\d])(?:\+?62|0)8\d{7,12}(?!\d)")
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


class RedactingFilter(logging.Filter):
    """Replaces the token, NIKs and phone numbers in every record before it is written."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self._secrets = [s for s in (secrets or []) if s]

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
        return True


def setup_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and Telegram URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
