"""The log filter: NIKs, phone numbers (any way they are written) and the token never reach a
log line, tracebacks included; ordinary numbers stay readable."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import RedactingFilter, setup_logging

TOKEN = "7312456789:AAFq3kZ_vX-TeStToKeNLooksReal0123456"


def written(message: str, *args: object, exc: BaseException | None = None) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter([TOKEN]))
    logger = logging.getLogger("tests.redaction")
    logger.propagate = False
    logger.handlers[:] = [handler]
    try:
        if exc is None:
            logger.warning(message, *args)
        else:
            try:
                raise exc
            except type(exc):
                logger.exception(message, *args)
    finally:
        logger.handlers[:] = []
    return out.getvalue()


@pytest.mark.parametrize("secret", [
    "3202114507800001", "3202 1145 0780 0001", "3202-1145-0780-0001", "32.02.11.450780.0001",
    "081298765432", "0812-9876-5432", "0812 9876 5432", "+6281298765432", "+62 812 9876 5432",
    "+62-812-9876-5432", "6281298765432", "62 812-9876-5432", "+62 (0) 812 9876 5432",
    "812-9876-5432", "812 9876 5432", "81298765432", TOKEN, TOKEN.split(":")[1],
    # issue 14: brackets, slashes, spaces around the separators
    "(0812) 9876-5432", "0812/9876/5432", "+62 (812) 9876 5432", "3202 - 1145 - 0780 - 0001",
    "3202/1145/0780/0001",
])
def test_numbers_and_token_are_redacted_however_written(secret):
    for template in ("%s", "nik=%s;", "text: 'Siti; miskin; ketua; %s\\nBudi'", "-%s-"):
        line = written(template, secret)
        digits = "".join(ch for ch in secret if ch.isdigit())
        assert secret not in line and digits[-8:] not in line.replace(" ", "")


def test_tracebacks_are_redacted_too():
    line = written("error while handling an update",
                   exc=RuntimeError("duplicate (nik)=(3202114507800001) phone 0812-9876-5432"))
    assert "Traceback" in line and "RuntimeError" in line
    assert "3202114507800001" not in line and "9876-5432" not in line


def test_ordinary_numbers_stay():
    line = written("update %s chat %s on %s, Rp %s, took %s ms; %s %s", 812345678, 7001234567,
                   "2026-11-25 03:00:00", "1.500.000", 125, "Rp 150.000.000", "12/03/2026")
    for kept in ("812345678", "7001234567", "2026-11-25 03:00:00", "1.500.000", "125 ms",
                 "Rp 150.000.000", "12/03/2026"):
        assert kept in line


def test_setup_logging_writes_through_the_filter():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    try:
        setup_logging("INFO", secrets=[TOKEN], stream=out)
        logging.getLogger("tests.setup").info("calling %s/bot%s/getMe for 0812-9876-5432",
                                              "http://127.0.0.1:8081", TOKEN)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert "getMe" in out.getvalue() and TOKEN not in out.getvalue()
    assert "9876-5432" not in out.getvalue()
