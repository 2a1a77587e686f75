"""Positive sign-ins remembered for a moment, per server process.

The cache saves a store read and the hash comparison on every request of a busy client.
It is never the last word: each operation re-checks, in its own transaction, that the
account is still enabled with the secret it was cached with
(:func:`centauro.service.accounts.ensure_current`, or the charge's conditional UPDATE),
so disabling or rotating takes effect at once in every process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from centauro.domain.models import Account
from centauro.service import credentials

MAX_ENTRIES = 10_000


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

    @staticmethod
    def key(client_id: str, secret: str) -> tuple[str, str]:
        return client_id, credentials.hash_secret(secret)

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
