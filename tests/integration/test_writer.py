"""Group commit: jobs share transactions, fail alone, and are answered only once committed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection

from centauro.domain.errors import InsufficientCredits, NotFound
from centauro.service import accounts
from centauro.store import accounts as account_store
from centauro.store.engine import Database
from centauro.store.writer import Writer


@pytest.fixture
def writer(db: Database) -> Iterator[Writer]:
    w = Writer(db.write_engine, max_batch=64)
    w.start()
    try:
        yield w
    finally:
        w.stop()


def _now() -> datetime:
    return datetime.now(UTC)


def test_many_concurrent_jobs_commit_in_few_transactions(db: Database, writer: Writer) -> None:
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Lote", credits=0, now=_now()).client_id

    async def main() -> list[int]:
        def topup(conn: Connection) -> int:
            return accounts.topup(conn, client_id=client_id, amount=1, now=_now())

        return await asyncio.gather(*(writer.run(topup) for _ in range(300)))

    balances = asyncio.run(main())
    assert sorted(balances) == list(range(1, 301))
    assert writer.jobs == 300
    assert writer.commits < 300  # jobs were grouped
    with db.read() as conn:
        account = accounts.get(conn, client_id)
        assert account.balance == account_store.ledger_sum(conn, account.id) == 300


def test_a_failing_job_rolls_back_alone(db: Database, writer: Writer) -> None:
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Aislado", credits=0, now=_now()).client_id

    def good(conn: Connection) -> int:
        return accounts.topup(conn, client_id=client_id, amount=10, now=_now())

    def bad(conn: Connection) -> int:
        accounts.topup(conn, client_id=client_id, amount=1000, now=_now())
        raise InsufficientCredits(1, 0)  # after writing: the savepoint must undo the top-up

    def missing(conn: Connection) -> int:
        accounts.get(conn, "no-such-id")
        return 0

    async def main() -> list[object]:
        return await asyncio.gather(
            writer.run(good),
            writer.run(bad),
            writer.run(missing),
            writer.run(good),
            return_exceptions=True,
        )

    results = asyncio.run(main())
    assert isinstance(results[1], InsufficientCredits)
    assert isinstance(results[2], NotFound)
    assert sorted(r for r in results if isinstance(r, int)) == [10, 20]
    with db.read() as conn:
        assert accounts.get(conn, client_id).balance == 20


def test_results_arrive_only_after_commit(db: Database, writer: Writer) -> None:
    """A caller told "done" must find its write in a fresh connection."""
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Durable", credits=0, now=_now()).client_id

    async def main() -> None:
        for amount in range(1, 20):
            await writer.run(
                lambda c, a=amount: accounts.topup(c, client_id=client_id, amount=a, now=_now())
            )
            with db.read() as conn:
                account = accounts.get(conn, client_id)
                assert account.balance == amount * (amount + 1) // 2

    asyncio.run(main())
