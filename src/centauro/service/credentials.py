"""Credential ids, secrets and their hashes.

Secrets are random (192 bits) and never stored: only ``sha256:<hex>`` of them. A slow
password hash (bcrypt, argon2) defends guessable human passwords; against a random
192-bit secret a single SHA-256 is just as safe and keeps every request's check in
the microseconds. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SCHEME = "sha256:"


def new_client_id() -> str:
    return secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def hash_secret(secret: str) -> str:
    return _SCHEME + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def verify_secret(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret).encode(), stored_hash.encode())
