"""Secrets the gateway must be able to read back, sealed at rest under a server key.

Webhook secrets and account signing keys are HMAC keys: every delivery is signed with
them, so unlike client secrets they cannot be kept as a hash. With
``CENTAURO_SECRET_KEY`` set they are stored as ``enc:v1:<Fernet token>`` (AES-128-CBC and
HMAC-SHA256, under a key derived from the server key), so a copy of the database alone
does not let anyone sign callbacks. Without it they are stored in clear (the server logs
a warning at start). Values without the prefix are read as clear text either way, so
rows written before the key was set keep working until they are rotated.

``cryptography`` (its Rust bindings and OpenSSL: ~8 MB resident) is imported only when a
key is set, so a server without one does not carry it.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from centauro.domain.errors import InvalidRequest, Unavailable

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

PREFIX = "enc:v1:"
MIN_KEY_LENGTH = 32


class Sealer:
    """Seals and opens stored secrets under one server key (or none: clear text)."""

    def __init__(self, server_key: str | None) -> None:
        self._fernet: Fernet | None = None
        if server_key:
            if len(server_key) < MIN_KEY_LENGTH:
                raise InvalidRequest(
                    f"CENTAURO_SECRET_KEY must have at least {MIN_KEY_LENGTH} characters"
                )
            from cryptography.fernet import Fernet  # noqa: PLC0415

            digest = hashlib.sha256(b"centauro sealing v1:" + server_key.encode()).digest()
            self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    @property
    def sealing(self) -> bool:
        return self._fernet is not None

    def seal(self, plain: str) -> str:
        if self._fernet is None:
            return plain
        return PREFIX + self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        """The clear value; :class:`Unavailable` when it was sealed under another key."""
        if not stored.startswith(PREFIX):
            return stored
        if self._fernet is None:
            raise Unavailable("a stored secret is encrypted but CENTAURO_SECRET_KEY is not set")
        from cryptography.fernet import InvalidToken  # noqa: PLC0415

        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, ValueError):
            raise Unavailable(
                "a stored secret cannot be decrypted with this CENTAURO_SECRET_KEY"
            ) from None


#: For callers without a server key (tests, tools): stores clear text, opens clear text.
CLEAR = Sealer(None)
