"""Group commit: jobs share transactions, fail alone, and are answered only once committed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event

from centauro.domain.errors import InsufficientCredits, NotFound
from centauro.domain.models import Account
from centauro.service import accounts, submit, suppressions
from centauro.store import accounts as account_store
from centauro.store import messages as message_store
from centauro.store import migrate
from centauro.store.engine import Database, open_database
from centauro.store.errors import StoreUnavailable
from centauro.store.writer import LoopWriter, Writer
from tests.support.roundtrips import Turns


@pytest.fixture(params=["thread", "loop"])
def writer(db: Database, request: pytest.FixtureRequest) -> Iterator[Writer]:
    """Each test runs with the writer thread and, on SQLite, with the LoopWriter that
    ``serve --workers`` uses (``pytest_collection_modifyitems`` below drops the pairs of
    the LoopWriter with PostgreSQL)."""
    w = (Writer if request.param == "thread" else LoopWriter)(db.write_engine, max_batch=64)
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


def _send(account: Account, number: str) -> submit.Commit:
    planned = submit.plan(
        [submit.Recipient(number)], "Hola", country="VE", max_segments=5, max_recipients=5
    )
    return submit.Commit(account, planned, "test", _now())


def test_sends_in_one_batch_each_get_their_own_outcome(db: Database, writer: Writer) -> None:
    """On PostgreSQL these go out pipelined; a refused send leaves the others committed."""
    with db.begin() as conn:
        rich = accounts.create(conn, name="Rico", credits=100, now=_now()).account
        poor = accounts.create(conn, name="Pobre", credits=2, now=_now()).account

    async def main() -> list[submit.Receipt | BaseException]:
        jobs = [_send(rich if i % 2 else poor, f"0414{i:07d}") for i in range(40)]
        return await asyncio.gather(*(writer.run(job) for job in jobs), return_exceptions=True)

    results = asyncio.run(main())
    refused = [r for r in results if isinstance(r, BaseException)]
    receipts = [r for r in results if isinstance(r, submit.Receipt)]
    assert len(refused) == 18
    assert all(isinstance(r, InsufficientCredits) for r in refused)
    assert len(receipts) == 22
    ids = [r.message_ids[0] for r in receipts]
    assert None not in ids
    assert len(set(ids)) == 22
    with db.read() as conn:
        for account, spent in ((rich, 20), (poor, 2)):
            current = account_store.by_id(conn, account.id)
            assert current is not None
            assert current.balance == account.balance - spent
            assert account_store.ledger_sum(conn, account.id) == current.balance


def test_a_batch_of_sends_is_one_round_trip_on_postgresql(db: Database) -> None:
    """The batch's sends are one statement (``Commit.send_many``); the sends of an account
    that cannot pay for all of them are then run one by one, which costs one more round
    trip, and each refused send is answered as alone."""
    if db.is_sqlite:
        pytest.skip("SQLite has no round trips")
    with db.begin() as conn:
        account = accounts.create(conn, name="Lote", credits=1000, now=_now()).account
        broke = accounts.create(conn, name="Sin saldo", credits=0, now=_now()).account
    writer = Writer(db.write_engine, max_batch=64)
    turns = Turns()

    @event.listens_for(db.write_engine, "connect")
    def _trace(dbapi_conn: Any, _record: Any) -> None:
        turns.follow(dbapi_conn.pgconn)

    db.write_engine.dispose()  # the writer's connection is traced from its start
    writer.start()

    async def batch(owners: list[Account]) -> tuple[list[Any], int, int]:
        turns.reset()
        commits = writer.commits
        jobs = [_send(a, f"0414{i:07d}") for i, a in enumerate(owners)]
        results = await asyncio.gather(*(writer.run(j) for j in jobs), return_exceptions=True)
        return results, turns.count(), writer.commits - commits

    async def main() -> list[tuple[list[Any], int, int]]:
        await writer.run(lambda conn: None)  # connect and warm up
        paid = await batch([account] * 32)
        mixed = await batch([broke if i % 4 == 0 else account for i in range(32)])
        return [paid, mixed]

    try:
        (paid, paid_trips, paid_commits), (mixed, mixed_trips, mixed_commits) = asyncio.run(main())
    finally:
        writer.stop()
        event.remove(db.write_engine, "connect", _trace)
        turns.close()
    # Each batch: BEGIN (psycopg syncs it; answered while the statement is being built),
    # the sends in one statement, COMMIT: never a round trip per send.
    assert paid_commits <= 2
    assert paid_trips <= 3 * paid_commits, (paid_trips, paid_commits)
    assert all(isinstance(r, submit.Receipt) for r in paid)
    # ... and the refused account's sends alone, in one more pipeline.
    assert mixed_commits <= 2
    assert mixed_trips <= 4 * mixed_commits, (mixed_trips, mixed_commits)
    assert [isinstance(r, InsufficientCredits) for r in mixed] == [i % 4 == 0 for i in range(32)]
    with db.read() as conn:
        assert account_store.by_id(conn, account.id).balance == 1000 - 32 - 24  # type: ignore[union-attr]
        assert account_store.ledger_sum(conn, account.id) == 1000 - 32 - 24


def test_jobs_queued_while_another_process_commits_join_the_batch(
    db: Database, writer: Writer
) -> None:
    """With ``serve --workers`` another process holds the SQLite file's write lock between
    our batches: what queued while the writer waited for it goes into the same commit."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL has no file-wide write lock")
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Turnos", credits=0, now=_now()).client_id
    other = _held_elsewhere(db)  # as another worker's writer would

    def topup(conn: Connection) -> int:
        return accounts.topup(conn, client_id=client_id, amount=1, now=_now())

    async def main() -> list[int]:
        other.execute("BEGIN IMMEDIATE")
        first = asyncio.ensure_future(writer.run(topup))
        deadline = time.monotonic() + 10
        while not writer._queue.empty():  # the writer took it and waits for the lock
            assert time.monotonic() < deadline
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(writer.run(topup)) for _ in range(4)]
        await asyncio.sleep(0.05)
        other.execute("COMMIT")
        return await asyncio.gather(first, *rest)

    try:
        balances = asyncio.run(main())
    finally:
        other.close()
    assert sorted(balances) == [1, 2, 3, 4, 5]
    assert (writer.jobs, writer.commits) == (5, 1)


def test_a_batch_of_sends_on_sqlite_runs_together_with_each_send_answered_as_alone(
    db: Database, writer: Writer
) -> None:
    """The sends of one batch share their statements (``submit.Commit.together``; on
    PostgreSQL ``send_many``, one statement): one charge per account, one INSERT for all
    messages. Each is still answered as if it ran alone: an account whose sends are not all
    covered is charged send by send, an opted-out number is left out, a disabled account is
    refused, and no send takes its own savepoint."""
    with db.begin() as conn:
        rich = accounts.create(conn, name="Rico", credits=100, now=_now()).account
        poor = accounts.create(conn, name="Pobre", credits=3, now=_now()).account
        gone = accounts.create(conn, name="Baja", credits=100, now=_now())
        accounts.set_enabled(conn, client_id=gone.client_id, enabled=False, now=_now())
        quiet = accounts.create(conn, name="Callado", credits=100, now=_now()).account
        other = accounts.create(conn, name="Otro", credits=100, now=_now()).account
        suppressions.add(conn, quiet, "04140000004", source="api", now=_now())
    statements: list[str] = []

    @event.listens_for(db.write_engine, "connect")
    def _trace(dbapi_conn: Any, _record: Any) -> None:
        if db.is_sqlite:
            dbapi_conn.set_trace_callback(statements.append)

    db.write_engine.dispose()  # the writer's connection is traced from its start
    # rich and other: charged in the batch's statement on PostgreSQL; poor (cannot pay for
    # all), gone (disabled) and quiet (its one send costs nothing): one by one after.
    owner = [rich, poor, rich, gone.account, quiet, poor, poor, rich, poor, rich, other, other]

    async def main() -> list[Any]:
        await writer.run(lambda conn: None)  # connect first
        statements.clear()
        jobs = [_send(a, f"0414{i:07d}") for i, a in enumerate(owner)]
        return await asyncio.gather(*(writer.run(j) for j in jobs), return_exceptions=True)

    try:
        results = asyncio.run(main())
    finally:
        event.remove(db.write_engine, "connect", _trace)
    assert writer.commits == 2, "the twelve sends went in one batch"
    assert "SAVEPOINT job" not in statements
    assert writer._careful_until == 0.0, "the batch never fell back to a savepoint per job"
    kinds = [type(r).__name__ for r in results]
    assert kinds == [
        "Receipt", "Receipt", "Receipt", "AuthenticationFailed", "Receipt",
        "Receipt", "Receipt", "Receipt", "InsufficientCredits", "Receipt",
        "Receipt", "Receipt",
    ]  # fmt: skip
    opted_out = results[4]
    assert isinstance(opted_out, submit.Receipt)
    assert opted_out.message_ids == [None]
    assert opted_out.items[0].verdict is submit.Verdict.OPTED_OUT
    ids = [r.message_ids[0] for r in results if isinstance(r, submit.Receipt) and r.cost]
    assert len(set(ids)) == 9
    # Numbered in batch order; on PostgreSQL the sends run one by one come after.
    rich_ids = [r.message_ids[0] for r, a in zip(results, owner, strict=True) if a is rich]
    assert [i for i in rich_ids if i is not None] == sorted(i for i in rich_ids if i is not None)
    assert not db.is_sqlite or ids == sorted(ids)
    with db.read() as conn:
        for account, spent, sends in ((rich, 4, 4), (poor, 3, 3), (other, 2, 2), (quiet, 0, 0)):
            current = account_store.by_id(conn, account.id)
            assert current is not None
            assert current.balance == account.balance - spent
            entries = account_store.ledger_entries(conn, account.id)
            charges = sorted((e for e in entries if e.kind == "charge"), key=lambda e: e.id)
            assert len(charges) == sends
            assert [e.balance_after for e in charges] == [
                account.balance - n for n in range(1, sends + 1)
            ]
            assert account_store.ledger_sum(conn, account.id) == current.balance
        listed = message_store.listing(conn, account_id=rich.id, limit=10)
        assert sorted(m.id for m in listed) == [
            r.message_ids[0]
            for r, a in zip(results, owner, strict=True)
            if a is rich and isinstance(r, submit.Receipt) and r.cost
        ]


@dataclass(frozen=True)
class _Topup:
    """A job whose ``together`` breaks after writing: the writer must undo that and run
    each job alone."""

    client_id: str
    amount: int

    def __call__(self, conn: Connection) -> int:
        return accounts.topup(conn, client_id=self.client_id, amount=self.amount, now=_now())

    @staticmethod
    def together(conn: Connection, jobs: list[_Topup]) -> list[tuple[bool, object]]:
        accounts.topup(conn, client_id=jobs[0].client_id, amount=1000, now=_now())
        raise RuntimeError("broken together")


def test_when_together_fails_its_writes_are_undone_and_each_job_runs_alone(
    db: Database, writer: Writer
) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL sends a batch as one pipeline instead")
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Respaldo", credits=0, now=_now()).client_id
    other = _held_elsewhere(db)  # as another worker's writer would

    async def main() -> list[int]:
        other.execute("BEGIN IMMEDIATE")  # so that all three queue into one batch
        first = asyncio.ensure_future(writer.run(_Topup(client_id, 1)))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(writer.run(_Topup(client_id, a))) for a in (2, 3)]
        await asyncio.sleep(0.05)
        other.execute("COMMIT")
        return list(await asyncio.gather(first, *rest))

    try:
        balances = asyncio.run(main())
    finally:
        other.close()
    assert balances == [1, 3, 6]
    assert writer.commits == 1
    with db.read() as conn:
        assert accounts.get(conn, client_id).balance == 6


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """The LoopWriter's tests: it exists for SQLite's file-wide write lock only."""
    database = open_database(f"sqlite:///{tmp_path / 'loop.sqlite3'}")
    migrate.upgrade(database)
    try:
        yield database
    finally:
        database.dispose()


def _held_elsewhere(db: Database) -> sqlite3.Connection:
    """A connection of "another worker", to hold the file's write lock with."""
    path = db.write_engine.url.database
    assert path
    return sqlite3.connect(path, isolation_level=None)


def test_the_loop_writer_keeps_the_loop_serving_while_another_process_holds_the_lock(
    sqlite_db: Database,
) -> None:
    """``serve --workers`` on SQLite: while the other worker holds the write lock, this
    one's event loop goes on (it answers other requests), its jobs wait without blocking
    it, and everything queued meanwhile goes in one commit once the lock is free."""
    db = sqlite_db
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Turnos", credits=0, now=_now()).client_id
    writer = LoopWriter(db.write_engine)
    other = _held_elsewhere(db)

    def topup(conn: Connection) -> int:
        return accounts.topup(conn, client_id=client_id, amount=1, now=_now())

    async def main() -> tuple[list[int], bool]:
        other.execute("BEGIN IMMEDIATE")
        jobs = [asyncio.ensure_future(writer.run(topup)) for _ in range(3)]
        # 0.1 s of this loop's own work while the lock is held elsewhere: a writer that
        # waited for the lock on this thread would stall here until its timeout and fail.
        for _ in range(20):
            await asyncio.sleep(0.005)
        waited = not any(job.done() for job in jobs)
        jobs += [asyncio.ensure_future(writer.run(topup)) for _ in range(2)]
        await asyncio.sleep(0.01)
        other.execute("COMMIT")
        return await asyncio.gather(*jobs), waited

    try:
        balances, waited = asyncio.run(main())
    finally:
        other.close()
        writer.stop()
    assert waited, "no job was answered before its commit"
    assert sorted(balances) == [1, 2, 3, 4, 5]
    assert (writer.jobs, writer.commits) == (5, 1)


def test_the_loop_writer_takes_jobs_from_another_threads_loop(sqlite_db: Database) -> None:
    """A job from a coroutine on another thread runs on the writer's loop, in its batches."""
    db = sqlite_db
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Hilos", credits=0, now=_now()).client_id
    writer = LoopWriter(db.write_engine)

    def topup(conn: Connection) -> int:
        return accounts.topup(conn, client_id=client_id, amount=1, now=_now())

    def elsewhere() -> int:
        return asyncio.run(writer.run(topup))

    async def main() -> list[int]:
        other = _held_elsewhere(db)
        other.execute("BEGIN IMMEDIATE")  # keeps the writer busy on this loop meanwhile
        here = asyncio.ensure_future(writer.run(topup))
        await asyncio.sleep(0.01)
        there = asyncio.ensure_future(asyncio.to_thread(elsewhere))
        await asyncio.sleep(0.05)
        other.execute("COMMIT")
        other.close()
        return list(await asyncio.gather(here, there))

    try:
        assert sorted(asyncio.run(main())) == [1, 2]
    finally:
        writer.stop()
    assert writer.jobs == 2


def test_the_loop_writer_answers_what_it_could_not_write_at_stop(sqlite_db: Database) -> None:
    """Stopping while another process never lets the lock go: the callers are told the
    store is unavailable (and nothing was written), they are not left waiting."""
    db = sqlite_db
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Parada", credits=0, now=_now()).client_id
    writer = LoopWriter(db.write_engine)
    other = _held_elsewhere(db)

    async def main() -> object:
        other.execute("BEGIN IMMEDIATE")
        job = asyncio.ensure_future(
            writer.run(lambda c: accounts.topup(c, client_id=client_id, amount=1, now=_now()))
        )
        await asyncio.sleep(0.01)
        writer.stop(timeout=0.2)
        return (await asyncio.gather(job, return_exceptions=True))[0]

    try:
        outcome = asyncio.run(main())
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert isinstance(outcome, StoreUnavailable)
    with db.read() as conn:
        assert accounts.get(conn, client_id).balance == 0


def test_the_loop_writer_runs_a_heavy_job_off_the_loop(sqlite_db: Database) -> None:
    """A campaign's confirm writes up to a million messages: its batch runs on a thread, so
    the HTTP worker's loop goes on answering meanwhile; the next batch waits for it."""
    db = sqlite_db
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Campaña", credits=0, now=_now()).client_id
    writer = LoopWriter(db.write_engine)
    started, release = threading.Event(), threading.Event()

    def topup(conn: Connection) -> int:
        return accounts.topup(conn, client_id=client_id, amount=1, now=_now())

    def heavy(conn: Connection) -> bool:
        topup(conn)
        started.set()
        return release.wait(5)  # set by the loop below: only if the loop is free meanwhile

    async def main() -> tuple[bool, int, bool]:
        big = asyncio.ensure_future(writer.run(heavy, heavy=True))
        for _ in range(500):
            if started.is_set():
                break
            await asyncio.sleep(0.01)
        small = asyncio.ensure_future(writer.run(topup))
        await asyncio.sleep(0.05)
        waited = not small.done()
        release.set()
        return await big, await small, waited

    try:
        released, balance, waited = asyncio.run(main())
    finally:
        writer.stop()
    assert released, "the loop was blocked while the heavy job ran"
    assert waited, "the next batch ran beside the heavy one"
    assert balance == 2
    assert (writer.jobs, writer.commits) == (2, 2)


def test_a_send_to_many_numbers_is_heavy() -> None:
    account = Account(1, "Masivo", "masivo", True, "VE", 0, _now())
    many = submit.plan(
        [submit.Recipient(f"0414{i:07d}") for i in range(submit.HEAVY_SEND)],
        "Hola",
        country="VE",
        max_segments=5,
        max_recipients=submit.HEAVY_SEND,
    )
    assert submit.Commit(account, many, "test", _now()).heavy
    assert not _send(account, "04140000001").heavy


def test_the_loop_writer_answers_when_another_process_keeps_the_lock(sqlite_db: Database) -> None:
    """Another process that never lets the write lock go (stopped, or a forgotten BEGIN in
    a shell): the callers are answered StoreUnavailable after the lock wait, as with the
    writer thread, and the next job goes through once the lock is free."""
    db = sqlite_db
    with db.begin() as conn:
        client_id = accounts.create(conn, name="Bloqueo", credits=0, now=_now()).client_id
    writer = LoopWriter(db.write_engine, lock_timeout=0.2)
    other = _held_elsewhere(db)

    def topup(conn: Connection) -> int:
        return accounts.topup(conn, client_id=client_id, amount=1, now=_now())

    async def main() -> tuple[object, int]:
        other.execute("BEGIN IMMEDIATE")
        refused = await asyncio.wait_for(
            asyncio.gather(writer.run(topup), return_exceptions=True), timeout=10
        )
        other.execute("ROLLBACK")
        return refused[0], await writer.run(topup)

    try:
        refused, balance = asyncio.run(main())
    finally:
        other.close()
        writer.stop()
    assert isinstance(refused, StoreUnavailable)
    assert balance == 1
