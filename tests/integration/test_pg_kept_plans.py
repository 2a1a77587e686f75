"""PostgreSQL keeps a generic plan for a statement psycopg prepared (after its fifth run).

Made while a table was empty, such a plan for ``x IN (SELECT … LIMIT n)`` is a nested-loop
semi-join that runs the sub-select again for every row: harmless on an empty queue,
quadratic once it holds tens of thousands of rows. These tests plan the statements on an
empty, analysed table through one connection, fill it, and run them again under a
statement timeout the old statements went past (they had not finished after minutes),
before autovacuum would analyse the table (it is off for these tables here).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection

from centauro.service import accounts
from centauro.store import idempotency, migrate, outbox
from centauro.store.engine import open_database
from tests.support.stores import store_url

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
#: psycopg prepares on the 5th run; the server tries custom plans for 5 more.
RUNS_TO_A_KEPT_PLAN = 20


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[tuple[Connection, int]]:
    """One connection to a fresh PostgreSQL schema (its tables analysed empty) and an
    account id."""
    with store_url("postgresql", tmp_path) as url:
        database = open_database(url)
        try:
            migrate.upgrade(database)
            with database.begin() as c:
                account = accounts.create(c, name="Campaña", credits=0, now=T0).account
                c.exec_driver_sql("ANALYZE")
                # Autovacuum analyses a filled table within a minute and the server then
                # plans again; the gateway meets the rows before that: so do we.
                for table in ("messages", "idempotency_keys"):
                    c.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
            with database.write_engine.connect() as c:
                yield c, account.id
        finally:
            database.dispose()


def test_a_claim_planned_on_an_empty_queue_takes_the_oldest_of_20000_at_once(
    conn: tuple[Connection, int],
) -> None:
    c, account_id = conn
    for _ in range(RUNS_TO_A_KEPT_PLAN):
        assert outbox.claim(c, now=T0, lease_until=T0, limit=64) == []
        c.commit()
    c.exec_driver_sql(
        "INSERT INTO messages (account_id, recipient, text, encoding, segments, cost, status,"
        " source, due_at, created_at, updated_at)"
        " SELECT %(account)s, '58414' || lpad(g::text, 7, '0'), 'Hola', 'gsm7', 1, 1,"
        " 'queued', 'test', %(t0)s, %(t0)s, %(t0)s FROM generate_series(1, 20000) AS g",
        {"account": account_id, "t0": T0},
    )
    c.commit()
    c.exec_driver_sql("SET statement_timeout = '30s'")
    claimed = outbox.claim(c, now=T0, lease_until=T0 + timedelta(minutes=1), limit=64)
    c.commit()
    oldest = c.exec_driver_sql("SELECT id FROM messages ORDER BY id LIMIT 64").scalars()
    assert [m.id for m in claimed] == list(oldest)


def test_a_purge_planned_on_few_keys_deletes_1000_expired_among_50000_at_once(
    conn: tuple[Connection, int],
) -> None:
    c, account_id = conn
    for _ in range(RUNS_TO_A_KEPT_PLAN):
        assert idempotency.purge(c, expired_before=T0) == 0
        c.commit()
    # Live keys first, the expired ones last in the table: each re-run of the old
    # sub-select had to read past every live key to find them.
    c.exec_driver_sql(
        "INSERT INTO idempotency_keys (account_id, key, request_hash, status_code, response,"
        " created_at) SELECT %(account)s, 'live-' || g, 'h', 200, '{}', %(at)s"
        " FROM generate_series(1, 50000) AS g",
        {"account": account_id, "at": T0},
    )
    c.exec_driver_sql(
        "INSERT INTO idempotency_keys (account_id, key, request_hash, status_code, response,"
        " created_at) SELECT %(account)s, 'old-' || g, 'h', 200, '{}', %(at)s"
        " FROM generate_series(1, 1500) AS g",
        {"account": account_id, "at": T0 - timedelta(days=2)},
    )
    c.commit()
    c.exec_driver_sql("SET statement_timeout = '30s'")
    assert idempotency.purge(c, expired_before=T0 - timedelta(days=1)) == 1000
    c.commit()
    left = c.exec_driver_sql(
        "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'old-%%'"
    ).scalar_one()
    assert left == 500
