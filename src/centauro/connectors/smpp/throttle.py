"""A token bucket for a carrier's submit rate, that can be told to slow down.

Carriers sell a TPS and answer ESME_RTHROTTLED (or ESME_RMSGQFUL) the moment we go
over it, often before our configured rate says we should: their clock, their window.
So the bucket has two controls besides its rate: :meth:`TokenBucket.slow_down` (a
lower rate for a while, compounding if the carrier keeps complaining) and
:meth:`TokenBucket.pause` (nothing at all for a moment).

The clock and the sleep are injected so tests run the arithmetic without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: How much of a second's worth of tokens may accumulate: a carrier measuring over
#: 100 ms windows must not see a whole second of submits in one burst.
BURST_SECONDS = 0.1
_EPSILON = 1e-9


class TokenBucket:
    """Hands out one token per submit at ``rate`` per second; ``rate == 0`` is unlimited.

    Waiters are served in arrival order (one asyncio lock), so a slow rate cannot starve
    an early caller. ``min_rate`` is the floor repeated :meth:`slow_down` calls stop at;
    calls within ``settle`` seconds of the last one that took effect count once (a full
    window of throttled responses is one complaint, not 64 halvings).
    """

    def __init__(
        self,
        rate: float,
        *,
        min_rate: float = 1.0,
        settle: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate < 0:
            raise ValueError("rate must be >= 0 (0 means unlimited)")
        self.rate = float(rate)
        self.min_rate = float(min_rate)
        self.settle = settle
        self._last_slow_down = float("-inf")
        self._clock = clock
        self._sleep = sleep
        self._limit = 0.0  # the slowed-down rate while now < _slow_until
        self._slow_until = 0.0
        self._paused_until = 0.0
        self._tokens = self._capacity(self.rate)
        self._stamp = clock()
        self._lock = asyncio.Lock()

    @staticmethod
    def _capacity(rate: float) -> float:
        return max(1.0, rate * BURST_SECONDS)

    @property
    def effective_rate(self) -> float:
        """The rate in force now (0 = unlimited)."""
        if self._slow_until and self._clock() >= self._slow_until:
            self._slow_until = 0.0
            self._limit = 0.0
        return self._limit if self._slow_until else self.rate

    @property
    def slowed(self) -> bool:
        return self.effective_rate != self.rate or self._clock() < self._paused_until

    def slow_down(self, factor: float, for_seconds: float, *, observed: float = 0.0) -> bool:
        """Multiply the rate in force by ``factor`` (< 1) for the next ``for_seconds``.

        An unlimited bucket has no rate to multiply: ``observed`` (what we actually sent
        per second lately) is used instead; with no observation it is left unlimited and
        only :meth:`pause` slows it. Returns whether the rate changed.
        """
        now = self._clock()
        current = self.effective_rate or observed
        if current <= 0 or now - self._last_slow_down < self.settle:
            return False
        self._last_slow_down = now
        limit = max(self.min_rate, current * factor)
        self._limit = min(limit, self.rate) if self.rate else limit
        self._slow_until = max(self._slow_until, now + for_seconds)
        return True

    def pause(self, seconds: float) -> None:
        """Hand out no token for ``seconds`` (extends, never shortens, a pause)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self) -> None:
        """Wait for one token."""
        if not self.rate and not self._slow_until and not self._paused_until:
            return  # the hot path of an unlimited bucket: no lock, no clock
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                self._paused_until = 0.0
                rate = self.effective_rate
                if not rate:
                    return
                capacity = self._capacity(rate)
                self._tokens = min(capacity, self._tokens + (now - self._stamp) * rate)
                self._stamp = now
                if self._tokens >= 1.0 - _EPSILON:  # float sums fall short of 1.0 by 1e-16
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                await self._sleep((1.0 - self._tokens) / rate)


class RateMeter:
    """Events per second over the last ``span`` whole seconds (what ``status()`` shows)."""

    def __init__(self, span: int = 5, clock: Clock = time.monotonic) -> None:
        self.span = span
        self._clock = clock
        self._counts: deque[list[int]] = deque(maxlen=span + 1)

    def tick(self) -> None:
        second = int(self._clock())
        if self._counts and self._counts[-1][0] == second:
            self._counts[-1][1] += 1
        else:
            self._counts.append([second, 1])

    def rate(self) -> float:
        """Mean over the last ``span`` complete seconds (the current one is still counting).

        A meter younger than ``span`` averages over the seconds it has seen, or a
        connector throttled in its first seconds would think it had been sending slowly.
        """
        now = int(self._clock())
        recent = [(second, n) for second, n in self._counts if 0 < now - second <= self.span]
        if not recent:
            return 0.0
        return sum(n for _, n in recent) / min(self.span, now - recent[0][0])
