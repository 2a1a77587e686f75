"""Positive sign-ins remembered for a moment, per server process.

The cache saves a store read and the hash comparison on every request of a busy client.
It is never the last word: each operation re-checks, in its own transaction, that the
account is still enabled with the secret it was cached with
(:func:`centauro.service.accounts.ensure_current`, or the charge's conditional UPDATE),
so disabling or rotating takes effect at once in every process.

It also remembers which presented secrets were proven against which stored scrypt hashes
(imported secrets): a miss then re-reads the account but does not derive again. A proof
never goes stale: it is keyed by the stored hash, which a rotation replaces.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from centauro.domain.models import Account
from centauro.service import credentials

MAX_ENTRIES = 10_000
_PROCESS_KEY = secrets.token_bytes(32)


class AuthCache:
    """``(client_id, secret) → Account`` for ``ttl`` seconds, the oldest dropped past
    ``size`` entries. Keys hold the secret's hash, never the secret."""

    def __init__(
        self,
        ttl: float,
        *,
        size: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, Account]] = OrderedDict()
        self._proofs: OrderedDict[tuple[str, str], None] = OrderedDict()

    @staticmethod
    def key(client_id: str, secret: str) -> tuple[str, str]:
        """Keyed by a per-process random key: the memory of a server holds no plain
        SHA-256 of an imported (maybe weak) secret to try guesses against."""
        digest = hashlib.blake2b(credentials.secret_bytes(secret), key=_PROCESS_KEY)
        return client_id, digest.hexdigest()

    def get(self, key: tuple[str, str]) -> Account | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] <= self._clock():
            del self._entries[key]
            return None
        return hit[1]

    def put(self, key: tuple[str, str], account: Account) -> None:
        if self._ttl <= 0:
            return
        self._entries[key] = (self._clock() + self._ttl, account)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def proven(self, stored_hash: str, key: tuple[str, str]) -> bool:
        """Whether the secret behind ``key`` already verified against ``stored_hash``."""
        return (stored_hash, key[1]) in self._proofs

    def prove(self, stored_hash: str, key: tuple[str, str]) -> None:
        """Remember that the secret behind ``key`` verified against ``stored_hash``."""
        self._proofs[stored_hash, key[1]] = None
        self._proofs.move_to_end((stored_hash, key[1]))
        while len(self._proofs) > self._size:
            self._proofs.popitem(last=False)
