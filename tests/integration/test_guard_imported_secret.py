"""The door's sign-in with an imported (scrypt) secret: the slow hash runs once, then the
per-process cache answers as cheaply as for any secret, and the per-operation re-check
compares stored values. A real ``runtime.Gateway`` over a real SQLite file."""

from __future__ import annotations

import asyncio
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


def test_cached_sign_ins_of_an_imported_secret_skip_the_slow_hash(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'gw.sqlite3'}", auth_cache_seconds=60)

    async def main() -> tuple[float, float, int, bool]:
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
            first = time.perf_counter() - started
            started = time.perf_counter()
            for _ in range(HITS):
                assert await guard.authenticate("sitio", "abc123", "127.0.0.1") is account
            hits = time.perf_counter() - started
            balance = await gateway.read(
                checked(account, lambda c: accounts.balance(c, account.id))
            )
            with pytest.raises(AuthenticationFailed):
                await guard.authenticate("sitio", "abc124", "127.0.0.1")
            return first, hits, balance, account.secret_hash.startswith("scrypt:")
        finally:
            await gateway.stop()

    first, hits, balance, slow = asyncio.run(main())
    assert slow
    assert balance == 7  # the re-check compares the stored scrypt value, it does not derive
    assert hits < first  # a hundred cache hits cost less than the one derivation
