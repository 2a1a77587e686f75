"""Failed sign-ins counted per client id and per address; lockouts when they pile up.

Why two counters: guessing one account's secret shows as many failures on one client
id (from one address or many); spraying many ids shows as many failures from one
address. A locked client id refuses every sign-in, right secret or not, until the lock
ends — otherwise the attacker would learn when a guess is right. A locked *address*
refuses only failures (429 instead of 401): right credentials from it still pass, so
the honest customers behind a shared NAT or proxy keep working.

Counts live in this process (each server process counts its own; with N processes an
attacker gets at most N times the attempts). Memory is bounded: past ``MAX_KEYS``
tracked keys the oldest are forgotten.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Policy:
    client_failures: int = 10  #: failures of one client id within ``window`` → locked
    address_failures: int = 100  #: failures from one address within ``window`` → locked
    window: float = 300.0
    lock_seconds: float = 900.0


@dataclass(frozen=True, slots=True)
class Lock:
    """A lockout that just began: what the audit log records."""

    kind: str  #: "client_id" or "ip"
    key: str
    seconds: float


class _Counter:
    """Failure times per key (the last ``limit`` only) and the locks they caused."""

    def __init__(self, limit: int, policy: Policy) -> None:
        self._limit = max(1, limit)
        self._policy = policy
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked: OrderedDict[str, float] = OrderedDict()

    def locked_for(self, key: str, now: float) -> float:
        until = self._locked.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self._locked[key]
            return 0.0
        return until - now

    def fail(self, key: str, now: float) -> bool:
        """Count one failure; True when it starts a lockout."""
        times = self._failures.get(key)
        if times is None:
            times = self._failures[key] = deque(maxlen=self._limit)
        times.append(now)
        self._failures.move_to_end(key)
        _bound(self._failures)
        if len(times) == self._limit and now - times[0] <= self._policy.window:
            del self._failures[key]
            self._locked[key] = now + self._policy.lock_seconds
            _bound(self._locked)
            return True
        return False


def _bound(entries: OrderedDict[str, Any]) -> None:
    while len(entries) > MAX_KEYS:
        entries.popitem(last=False)


class Lockouts:
    """The two counters under one clock (settable for tests of the pure logic)."""

    def __init__(self, policy: Policy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._clients = _Counter(policy.client_failures, policy)
        self._addresses = _Counter(policy.address_failures, policy)

    def client_locked(self, client_id: str) -> float:
        """Seconds the client id stays locked (0: not locked)."""
        return self._clients.locked_for(client_id, self._clock())

    def address_locked(self, ip: str) -> float:
        return self._addresses.locked_for(ip, self._clock())

    def failed(self, client_id: str, ip: str) -> list[Lock]:
        """Count a failed sign-in; the lockouts it starts (at most one of each kind)."""
        now = self._clock()
        started: list[Lock] = []
        seconds = self.policy.lock_seconds
        if (
            client_id
            and self._clients.locked_for(client_id, now) == 0
            and self._clients.fail(client_id, now)
        ):
            started.append(Lock("client_id", client_id, seconds))
        if ip and self._addresses.locked_for(ip, now) == 0 and self._addresses.fail(ip, now):
            started.append(Lock("ip", ip, seconds))
        return started
