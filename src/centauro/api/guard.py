"""Request policy at the doors: who is calling, how often they may, and fresh credentials.

One :class:`Guard` per app, shared by the compat routes and the REST API:

* :meth:`Guard.authenticate` — lockouts first (:mod:`centauro.api.lockout`), then the
  brief cache of positive answers (:mod:`centauro.api.auth_cache`), then the store; an
  imported secret's slow hash is checked on a worker thread, after the read.
* :meth:`Guard.check_rate` — the account's request rate (token bucket per account).
* :func:`checked` — wraps an operation so that, in its own transaction, it first
  re-checks that the (maybe cached) account is still enabled with the same secret.
  Sends need no wrapper: their charge is one conditional UPDATE that checks the same.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypeVar

import anyio
from sqlalchemy import Connection

from centauro.api.auth_cache import AuthCache
from centauro.api.lockout import Lockouts, Policy
from centauro.config import Settings
from centauro.domain.errors import AuthenticationFailed, SignInLocked
from centauro.domain.models import Account
from centauro.domain.rates import RateLimiter
from centauro.runtime import Gateway
from centauro.service import accounts, credentials

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Longest client id worth counting (ids have at most 64 characters).
MAX_ID = 80
#: Compat answers to locked sign-ins held back at once at most; beyond, they go out
#: without the pause (the pause only slows scripts down; it must not tie up the server).
MAX_PAUSED = 100


class Guard:
    def __init__(self, gateway: Gateway, settings: Settings) -> None:
        self.gateway = gateway
        self.settings = settings
        self.cache = AuthCache(settings.auth_cache_seconds)
        self.lockouts = Lockouts(
            Policy(
                client_failures=settings.auth_lockout_failures,
                address_failures=settings.auth_lockout_ip_failures,
                window=settings.auth_lockout_window_seconds,
                lock_seconds=settings.auth_lockout_seconds,
            )
        )
        self._rates = RateLimiter()
        self._paused = 0

    async def authenticate(self, client_id: str, secret: str, ip: str) -> Account:
        """The enabled account for these credentials, or AuthenticationFailed /
        SignInLocked (client id locked; or a failure from a locked address)."""
        counted_id = client_id[:MAX_ID]
        locked = self.lockouts.client_locked(counted_id)
        if locked:
            raise SignInLocked(locked)
        key = self.cache.key(client_id, secret)
        account = self.cache.get(key)
        if account is not None:
            return account
        try:
            account = await self._sign_in(key, secret)
        except AuthenticationFailed:
            self.refused(ip, client_id=counted_id)
            raise
        self.cache.put(key, account)
        return account

    async def _sign_in(self, key: tuple[str, str], secret: str) -> Account:
        """Read the account, then check the secret outside the transaction: an imported
        secret's scrypt runs on a worker thread without holding a pooled connection, and
        once per process for a given secret and stored hash."""
        client_id = key[0]
        found = await self.gateway.read(lambda c: accounts.find(c, client_id))
        if found is None or not credentials.is_slow(found.secret_hash):
            return accounts.verify(found, secret)
        if self.cache.proven(found.secret_hash, key):
            return accounts.verify(found, secret, proven=True)
        account = await anyio.to_thread.run_sync(accounts.verify, found, secret)
        self.cache.prove(found.secret_hash, key)
        return account

    def refused(self, ip: str, *, client_id: str = "") -> None:
        """Count a failed sign-in (also one with no client id: a wrong operator token) and
        log the lockouts it starts; :class:`SignInLocked` if the id or address is locked."""
        for lock in self.lockouts.failed(client_id, ip):
            log.warning(
                "auth_lockout",
                extra={
                    "action": "auth_lockout",
                    "locked": lock.kind,
                    "client_id": client_id,
                    "ip": ip,
                    "locked_seconds": lock.seconds,
                },
            )
        locked = self.lockouts.address_locked(ip)
        if client_id:
            locked = max(locked, self.lockouts.client_locked(client_id))
        if locked:
            raise SignInLocked(locked) from None

    def check_rate(self, account: Account) -> None:
        """Count one request against the account's rate; :class:`RateLimited` when over."""
        rate = self.settings.rate_limit if account.rate_limit is None else account.rate_limit
        if rate <= 0:
            return
        self._rates.take(account.id, rate, time.monotonic())

    async def pause(self) -> None:
        """Hold a locked-out compat answer back a moment, if few are held already."""
        delay = self.settings.auth_failure_delay_seconds
        if delay <= 0 or self._paused >= MAX_PAUSED:
            return
        self._paused += 1
        try:
            await asyncio.sleep(delay)
        finally:
            self._paused -= 1


def checked(account: Account, fn: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """``fn`` preceded, in the same transaction, by the check that ``account`` is still
    enabled with the secret it signed in with (one primary-key read)."""

    def run(conn: Connection) -> T:
        accounts.ensure_current(conn, account)
        return fn(conn)

    return run
