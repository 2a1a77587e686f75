"""Per-account request rates: one token bucket per account, burst of two seconds' worth."""

from __future__ import annotations

from centauro.domain.errors import RateLimited

MAX_ACCOUNTS = 100_000  #: buckets kept; beyond, the oldest idle ones are forgotten


class RateLimiter:
    """Token buckets keyed by account; ``take`` spends one token or raises RateLimited."""

    def __init__(self, burst_seconds: float = 2.0) -> None:
        self._burst = burst_seconds
        self._buckets: dict[int, tuple[float, float]] = {}  # account → (tokens, at)

    def take(self, key: int, rate: float, now: float) -> None:
        capacity = max(1.0, rate * self._burst)
        tokens, at = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - at) * rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            raise RateLimited((1.0 - tokens) / rate)
        if len(self._buckets) >= MAX_ACCOUNTS and key not in self._buckets:
            self._buckets.clear()
        self._buckets[key] = (tokens - 1.0, now)
