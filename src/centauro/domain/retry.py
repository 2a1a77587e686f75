"""When to try a message again, and when to give up.

Exponential backoff from ``base`` seconds, doubling per attempt up to ``ceiling``, with
jitter so a carrier that comes back is not hit by every message at once. A message
whose validity period has run out is not retried: it expires.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: float = 2.0
    ceiling: float = 600.0
    validity: timedelta = timedelta(hours=24)

    def expired(
        self, created_at: datetime, now: datetime, expires_at: datetime | None = None
    ) -> bool:
        """Past the message's own validity (``expires_at``), else the policy's from creation."""
        return now >= (expires_at or created_at + self.validity)

    def next_due(
        self,
        *,
        attempts: int,
        now: datetime,
        hint: float | None = None,
        rng: random.Random | None = None,
    ) -> datetime:
        """When attempt ``attempts + 1`` may run. ``hint`` is the carrier's own suggestion."""
        delay = min(self.ceiling, self.base * 2 ** max(0, attempts - 1))
        if hint is not None:
            delay = max(hint, 0.0)
        jitter = (rng or random).uniform(0.0, delay * 0.1)
        return now + timedelta(seconds=delay + jitter)
