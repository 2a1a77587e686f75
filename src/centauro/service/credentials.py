"""Credential ids, secrets and their hashes.

Secrets are random (192 bits) and never stored: only ``sha256:<hex>`` of them. A slow
password hash (bcrypt, argon2) defends guessable human passwords; against a random
192-bit secret a single SHA-256 is just as safe and keeps every request's check in
the microseconds. Comparison is constant-time.

That holds only for random secrets, so a secret an operator chooses
(``accounts create --client-secret``) must look like one: :func:`check_chosen`.

A site migrating from the original service may have a weak secret it cannot change
(``--import-secret``): that one is stored as ``scrypt:<log2 n>:<r>:<p>:<salt>:<key>``,
so a leaked database does not give it away for one SHA-256 per guess. Checking it costs
tens of milliseconds; sign-ins are cached per process and failures locked out
(``api/guard.py``), and operations re-check by comparing stored values, never by hashing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

from centauro.domain import inputs
from centauro.domain.errors import InvalidRequest, WeakSecret

_SCHEME = "sha256:"
_SCRYPT = "scrypt:"
#: A chosen secret needs this many characters, this many of them distinct: 24 characters
#: of even a 10-symbol alphabet are about 80 bits, past any online or offline guessing of
#: a single SHA-256; "bench-secret" or 24 times "a" are refused.
MIN_CHOSEN_LENGTH = 24
MIN_DISTINCT = 10
#: Longest imported secret: far past anything the original service issued.
MAX_IMPORTED_LENGTH = 255
#: scrypt cost: n = 2**14, r = 8 (16 MiB; tens of ms, 0.1 s on a busy 2-core machine), p = 1.
SCRYPT_LOG2_N = 14
SCRYPT_R = 8
SCRYPT_P = 1
#: A stored row may not ask for more than this (a tampered row must not exhaust memory).
_MAX_LOG2_N = 20
_MAX_MEMORY = 64 * 1024 * 1024
#: Derivations at once in this process: each takes 16 MiB and a core, so a burst of wrong
#: secrets queues here instead of taking every thread's worth of memory.
_DERIVING = threading.BoundedSemaphore(2)

#: What ``secret_kind`` says of a stored hash.
STRONG = "strong"  #: random, or chosen and accepted by :func:`check_chosen` (SHA-256)
IMPORTED = "imported"  #: taken as it was from the original service (scrypt)


def new_client_id() -> str:
    return secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def secret_bytes(secret: str) -> bytes:
    """A secret as hashed (lone surrogates kept, so every str has bytes)."""
    return secret.encode("utf-8", "surrogatepass")


def hash_secret(secret: str) -> str:
    return _SCHEME + hashlib.sha256(secret_bytes(secret)).hexdigest()


def hash_imported(secret: str) -> str:
    """The slow hash of an imported secret, with a fresh salt."""
    salt = secrets.token_bytes(16)
    key = _scrypt(secret, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
    return f"{_SCRYPT}{SCRYPT_LOG2_N}:{SCRYPT_R}:{SCRYPT_P}:{_b64(salt)}:{_b64(key)}"


def is_slow(stored_hash: str) -> bool:
    """Whether checking a secret against ``stored_hash`` costs a slow derivation."""
    return stored_hash.startswith(_SCRYPT)


def secret_kind(stored_hash: str) -> str:
    return IMPORTED if is_slow(stored_hash) else STRONG


def verify_secret(secret: str, stored_hash: str) -> bool:
    """Constant-time check of ``secret`` against a stored ``sha256:`` or ``scrypt:`` hash."""
    if not is_slow(stored_hash):
        return hmac.compare_digest(hash_secret(secret).encode(), stored_hash.encode())
    try:
        log2_n, r, p, salt, key = stored_hash[len(_SCRYPT) :].split(":")
        cost = int(log2_n), int(r), int(p)
        expected = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        salt_bytes = base64.urlsafe_b64decode(salt + "=" * (-len(salt) % 4))
    except ValueError:
        return False
    if not (1 <= cost[0] <= _MAX_LOG2_N and cost[1] >= 1 and cost[2] == 1):
        return False
    if 128 * cost[1] * 2 ** cost[0] > _MAX_MEMORY // 2:  # scrypt's own limit would raise
        return False
    return hmac.compare_digest(_scrypt(secret, salt_bytes, *cost), expected)


def check_chosen(secret: str) -> None:
    """Refuse a chosen secret too short or too plain to be stored as one fast hash."""
    if len(secret) < MIN_CHOSEN_LENGTH or len(set(secret)) < MIN_DISTINCT:
        raise WeakSecret


def check_imported(secret: str) -> None:
    """Refuse what no service could have issued: empty, too long, control characters."""
    if not secret:
        raise InvalidRequest("the imported secret is empty")
    if len(secret) > MAX_IMPORTED_LENGTH:
        raise InvalidRequest(f"the imported secret is longer than {MAX_IMPORTED_LENGTH}")
    inputs.check_line("client_secret", secret)


def _scrypt(secret: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    with _DERIVING:
        return hashlib.scrypt(
            secret_bytes(secret), salt=salt, n=2**log2_n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=32
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
