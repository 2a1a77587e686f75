"""Credential ids, secrets and their hashes.

Secrets are random (192 bits) and never stored: only ``sha256:<hex>`` of them. A slow
password hash (bcrypt, argon2) defends guessable human passwords; against a random
192-bit secret a single SHA-256 is just as safe and keeps every request's check in
the microseconds. Comparison is constant-time.

That holds only for random secrets, so a secret an operator chooses
(``accounts create --client-secret``) must look like one: :func:`check_chosen`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from centauro.domain.errors import WeakSecret

_SCHEME = "sha256:"
#: A chosen secret needs this many characters, this many of them distinct: 24 characters
#: of even a 10-symbol alphabet are about 80 bits, past any online or offline guessing of
#: a single SHA-256; "bench-secret" or 24 times "a" are refused.
MIN_CHOSEN_LENGTH = 24
MIN_DISTINCT = 10


def new_client_id() -> str:
    return secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def hash_secret(secret: str) -> str:
    return _SCHEME + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def verify_secret(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret).encode(), stored_hash.encode())


def check_chosen(secret: str) -> None:
    """Refuse a chosen secret too short or too plain to be stored as one fast hash."""
    if len(secret) < MIN_CHOSEN_LENGTH or len(set(secret)) < MIN_DISTINCT:
        raise WeakSecret
