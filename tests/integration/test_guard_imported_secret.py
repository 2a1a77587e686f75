"""The door's sign-in with an imported (scrypt) secret: the slow hash runs once per process
for a given secret, then the cache answers as cheaply as for any secret, and the
per-operation re-check compares stored values. A real ``runtime.Gateway`` over a real
SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from centauro.api.guard import Guard, checked
from centauro.config import Settings
from centauro.domain.errors import AuthenticationFailed
from centauro.runtime import Gateway
from centauro.service import accounts

HITS = 100
MISSES = 5


@dataclasses.dataclass
class Timings:
    first: float = 0.0  #: the one sign-in that derives
    hits: float = 0.0  #: HITS cached sign-ins
    first_off: float = 0.0  #: the first sign-in with the cache off: it derives
    misses: float = 0.0  #: MISSES more with the cache off: a store read each, no derivation
    balance: int = -1
    slow: bool = False


def test_sign_ins_of_an_imported_secret_derive_the_slow_hash_once(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'gw.sqlite3'}", auth_cache_seconds=60)
    seen = Timings()

    async def main() -> None:
        gateway = Gateway(settings)
        await gateway.start()
        try:
            assert gateway.db is not None
            with gateway.db.begin() as conn:
                accounts.create(
                    conn, name="Tienda", credits=7, now=datetime.now(UTC),
                    client_id="sitio", client_secret="abc123", import_secret=True,
                )  # fmt: skip
            guard = Guard(gateway, settings)
            started = time.perf_counter()
            account = await guard.authenticate("sitio", "abc123", "127.0.0.1")
            seen.first = time.perf_counter() - started
            seen.slow = account.secret_hash.startswith("scrypt:")
            started = time.perf_counter()
            for _ in range(HITS):
                assert await guard.authenticate("sitio", "abc123", "127.0.0.1") is account
            seen.hits = time.perf_counter() - started
            seen.balance = await gateway.read(
                checked(account, lambda c: accounts.balance(c, account.id))
            )
            with pytest.raises(AuthenticationFailed):
                await guard.authenticate("sitio", "abc124", "127.0.0.1")

            off = dataclasses.replace(settings, auth_cache_seconds=0)
            guard = Guard(gateway, off)  # a fresh guard, its cache off: every sign-in misses
            started = time.perf_counter()
            await guard.authenticate("sitio", "abc123", "127.0.0.1")
            seen.first_off = time.perf_counter() - started
            started = time.perf_counter()
            for _ in range(MISSES):
                assert (await guard.authenticate("sitio", "abc123", "127.0.0.1")).id == account.id
            seen.misses = time.perf_counter() - started
        finally:
            await gateway.stop()

    asyncio.run(main())
    assert seen.slow
    assert seen.balance == 7  # the re-check compares the stored scrypt value, it does not derive
    assert seen.hits < seen.first  # a hundred cache hits cost less than the one derivation
    assert seen.misses < seen.first_off  # five store reads cost less than one derivation
