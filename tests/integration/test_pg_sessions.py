"""``serve``'s PostgreSQL sessions end a transaction left idle, and its locks with it.

A process paused in the middle of a transaction (SIGSTOP, a frozen VM, a cut network)
must not hold its row locks until it wakes: the process that takes over its bind leases
gives its claimed messages back to the queue, and would wait on those very rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from centauro.domain.errors import StoreUnavailable
from centauro.runtime import fence_pg_sessions
from centauro.store.engine import Database, open_database
from tests.support.stores import store_url

#: Any lock id of our own; advisory locks live as long as the transaction that took them.
LOCK = 730_305
LIMIT = 2.0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with store_url("postgresql", tmp_path) as url:
        database = open_database(url)
        fence_pg_sessions(database, seconds=LIMIT)
        try:
            yield database
        finally:
            database.dispose()


def test_a_transaction_left_idle_ends_lets_its_locks_go_and_its_owner_hears_so(
    db: Database,
) -> None:
    waited: list[float] = []
    with pytest.raises(StoreUnavailable):
        _lock_pause_and_wake(db, waited)
    assert LIMIT - 0.5 < waited[0] < LIMIT + 2, waited
    with db.begin() as conn:  # the pool hands out a live session again
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def _lock_pause_and_wake(db: Database, waited: list[float]) -> None:
    """Take a lock in a transaction, sit idle while another session waits for it (how
    long goes in ``waited``), then use the transaction again."""
    with db.begin() as paused:
        paused.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK})")
        started = time.monotonic()
        try:  # the other session waits at most twice the limit, then fails
            with db.write_engine.begin() as other:
                other.exec_driver_sql(f"SET LOCAL lock_timeout = {int(LIMIT * 2000)}")
                other.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK})")
        except sa_exc.OperationalError:
            pytest.fail("the idle transaction kept its lock")
        waited.append(time.monotonic() - started)
        paused.exec_driver_sql("SELECT 1")  # awake: its session is gone
