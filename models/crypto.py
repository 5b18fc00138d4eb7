"""Personal data at rest: NIKs, phone numbers and conversation drafts are stored encrypted.

One key (``PENDAMPING_DATA_KEY``, 32 random bytes in URL-safe base64; ``pendamping key new``
makes one) is set once per process with :func:`configure`, where the bot, the CLI or the
tests start. Two keys are derived from it with HKDF: one for AES-GCM, one for HMAC-SHA256
lookup hashes. Encryption is randomised, so equal NIKs give different ciphertexts; finding a
NIK (a duplicate in a group, a lookup) goes through its keyed hash, kept in its own indexed
column. Each ciphertext is bound to its column (the associated data), so a value copied into
another column does not decrypt.

Tables use :class:`EncryptedString` and :class:`EncryptedJSON`; the rest of the code sees
plain values only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String, Text, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

KEY_VARIABLE = "PENDAMPING_DATA_KEY"
KEY_BYTES = 32
# The format version leads every ciphertext, so a later key rotation can tell them apart.
PREFIX = "v1."
_NONCE_BYTES = 12

HOW_TO_MAKE = (f"Make one with `pendamping key new`, set it as {KEY_VARIABLE} (environment "
               "or .env) and keep a copy somewhere safe: without it the stored NIKs and phone "
               "numbers cannot be read.")

# (table, column, purpose): every encrypted column, for the start-up check and the migration.
ENCRYPTED_COLUMNS = (
    ("member", "nik", "member.nik"),
    ("member", "phone", "member.phone"),
    ("mentor", "phone", "mentor.phone"),
    ("user_data", "data", "user_data.data"),
    ("received_update", "payload", "received_update.payload"),
)


class DataKeyError(Exception):
    """The data key is missing, malformed or not the one the data was stored with."""


class MissingKey(DataKeyError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(f"{KEY_VARIABLE} is not set{detail}. {HOW_TO_MAKE}")


class BadKey(DataKeyError):
    def __init__(self) -> None:
        super().__init__(f"{KEY_VARIABLE} is not a valid key (32 bytes in URL-safe base64). "
                         + HOW_TO_MAKE)


class WrongKey(DataKeyError):
    def __init__(self, where: str = "") -> None:
        super().__init__(
            f"{KEY_VARIABLE} does not open the personal data already stored{where}: start with "
            "the key the data was stored with (a lost key cannot be recovered).")


def new_key() -> str:
    """A fresh random key, as PENDAMPING_DATA_KEY expects it."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _decode_key(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BadKey() from None
    if len(raw) != KEY_BYTES:
        raise BadKey()
    return raw


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"pendamping-kube " + purpose).derive(master)


class Keyring:
    """Encrypts, decrypts and hashes with keys derived from one data key."""

    def __init__(self, key: str) -> None:
        master = _decode_key(key)
        self._aead = AESGCM(_derive(master, b"encryption v1"))
        self._mac_key = _derive(master, b"lookup v1")
        self._signing_key = _derive(master, b"signing v1")

    def encrypt(self, plain: str, purpose: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode("utf-8"), purpose.encode("ascii"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, purpose: str) -> str:
        if not token.startswith(PREFIX):
            raise DataKeyError(f"{purpose}: a value is stored unencrypted; run "
                               "`pendamping db upgrade` with the data key set.")
        try:
            raw = base64.urlsafe_b64decode(token[len(PREFIX):].encode("ascii"))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:],
                                       purpose.encode("ascii"))
        except (InvalidTag, binascii.Error, ValueError):
            raise WrongKey() from None
        return plain.decode("utf-8")

    def lookup_hash(self, value: str, purpose: str) -> str:
        """HMAC-SHA256 of the (normalised) value: equal values, equal hashes; no way back."""
        message = purpose.encode("ascii") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()

    def sign(self, message: str, purpose: str) -> str:
        """A URL-safe HMAC-SHA256 of ``message`` for ``purpose`` (a one-time dashboard link, a
        session cookie): only this server can make one, and one purpose's signature is no
        good for another."""
        digest = hmac.new(self._signing_key, purpose.encode("ascii") + b"\x00"
                          + message.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def verify(self, message: str, purpose: str, signature: str) -> bool:
        """Whether ``signature`` is :meth:`sign`'s for ``message`` (compared in constant
        time)."""
        return hmac.compare_digest(self.sign(message, purpose).encode("ascii"),
                                   signature.encode("ascii", "replace"))


_keyring: Keyring | None = None


def configure(key: Any) -> Keyring:
    """Sets the process's data key (a str or pydantic SecretStr); empty raises MissingKey."""
    global _keyring
    if hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    if not key:
        raise MissingKey()
    _keyring = Keyring(str(key))
    return _keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise MissingKey(" (or the data key was never configured in this process)")
    return _keyring


def is_configured() -> bool:
    return _keyring is not None


def lookup_hash(value: str | None, purpose: str) -> str | None:
    return None if not value else keyring().lookup_hash(value, purpose)


async def verify_stored(*, session: AsyncSession) -> None:
    """Raises :class:`WrongKey` when the configured key does not open what is stored (one
    value per encrypted column is tried); nothing stored yet passes with any key."""
    ring = keyring()
    for table, column, purpose in ENCRYPTED_COLUMNS:
        # Raw SQL on purpose: the typed column would decrypt (and fail) inside SQLAlchemy.
        value = (await session.execute(text(
            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL LIMIT 1"))).scalar()
        if value is not None:
            try:
                ring.decrypt(str(value), purpose)
            except WrongKey:
                raise WrongKey(f" ({table}.{column})") from None


class EncryptedString(TypeDecorator):
    """A string column stored encrypted; ``purpose`` (e.g. "member.nik") binds the ciphertext
    to its column. A 20-character value takes about 70 characters stored."""

    impl = String
    cache_ok = True

    def __init__(self, purpose: str, length: int = 120) -> None:
        super().__init__(length)
        self.purpose = purpose

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else keyring().encrypt(str(value), self.purpose)

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else keyring().decrypt(value, self.purpose)


class EncryptedJSON(TypeDecorator):
    """A JSON document stored encrypted as text."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring().encrypt(json.dumps(value, separators=(",", ":")), self.purpose)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(keyring().decrypt(value, self.purpose))
