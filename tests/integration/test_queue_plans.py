"""The statements that walk the queue read its partial indexes on SQLite.

SQLite plans without statistics (nobody runs ``ANALYZE`` on an embedded file) and, left
free, read ``status = 'queued' AND due_at <= :now ORDER BY due_at, id LIMIT n`` through
the ``(status, id)`` index: every queued message read and sorted for each claim, a cost
that grows with the queue (16 ms a claim at 56,000 queued, and a 200,000-recipient bulk
delivered at half speed). The claim, the scheduler's release and the release of a dead
worker's claims must each be a range of the partial index made for them, whatever the
file's statistics say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from centauro.service import accounts, submit
from centauro.store import migrate, outbox, workers
from centauro.store.engine import Database, open_database
from tests.support.plans import plan
from tests.support.stores import store_url

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
QUEUED = 2_000


def _claim(conn: Connection) -> object:
    return outbox.claim(conn, now=T0, lease_until=T0 + timedelta(minutes=1), limit=10)


def _release_scheduled(conn: Connection) -> object:
    return outbox.release_scheduled(conn, now=T0)


def _release_orphans(conn: Connection) -> object:
    return workers.release_orphans(conn, now=T0)


CASES: list[tuple[str, Callable[[Connection], object], str, str]] = [
    ("claim", _claim, "FROM messages", "ix_messages_due"),
    ("scheduled", _release_scheduled, "status = 'scheduled'", "ix_messages_scheduled"),
    ("orphans", _release_orphans, "claimed_by NOT IN", "ix_messages_claimed"),
]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite file: PostgreSQL keeps statistics and plans these statements
    by itself (its claims are checked in test_pg_kept_plans)."""
    with store_url("sqlite", tmp_path) as url:
        database = open_database(url)
        migrate.upgrade(database)
        try:
            yield database
        finally:
            database.dispose()


def _fill(db: Database, *, analyze: bool) -> None:
    """Queued messages, half of them claimed by a worker that is gone; with ``analyze``,
    the statistics an operator's ``ANALYZE`` would leave in the file."""
    with db.begin() as conn:
        account = accounts.create(conn, name="Cola", credits=QUEUED, now=T0).account
        planned = submit.plan(
            [submit.Recipient(f"0414{i:07d}") for i in range(QUEUED)],
            "Hola",
            country="VE",
            max_segments=1,
            max_recipients=QUEUED,
        )
        submit.commit(conn, account=account, planned=planned, source="t", now=T0)
        conn.execute(
            text("UPDATE messages SET claimed_by = 'gone' WHERE id % 2 = 0"),
        )
        if analyze:
            conn.execute(text("ANALYZE"))


@pytest.mark.parametrize("analyze", [False, True], ids=["no-statistics", "analyzed"])
@pytest.mark.parametrize(("name", "run", "marker", "index"), CASES, ids=[c[0] for c in CASES])
def test_queue_statements_are_ranges_of_their_partial_index(
    db: Database,
    analyze: bool,
    name: str,
    run: Callable[[Connection], object],
    marker: str,
    index: str,
) -> None:
    _fill(db, analyze=analyze)
    seen: list[str] = []
    with db.begin() as conn:
        # The store's statements go to the driver's cursor, past SQLAlchemy's events:
        # SQLite's own trace gives each as it ran, its values in place.
        raw = conn.connection.driver_connection
        raw.set_trace_callback(seen.append)  # type: ignore[union-attr]
        try:
            run(conn)
        finally:
            raw.set_trace_callback(None)  # type: ignore[union-attr]
    statements = [s for s in seen if s.lstrip().startswith("UPDATE messages") and marker in s]
    assert statements, (name, seen)
    for statement in statements:
        found = plan(db, statement, ())
        assert index in found, (name, found)
        assert "ix_messages_status_id" not in found, (name, found)
        assert "TEMP B-TREE" not in found, (name, found)


def test_claims_over_a_long_queue_take_the_oldest_first(db: Database) -> None:
    _fill(db, analyze=False)
    with db.read() as conn:
        first_ids: list[Any] = [
            r[0] for r in conn.execute(text("SELECT id FROM messages ORDER BY id LIMIT 25"))
        ]
    claimed: list[int] = []
    with db.begin() as conn:
        for _ in range(5):  # a claim's lease moves its messages behind every other one
            lease = T0 + timedelta(minutes=1)
            claimed += [m.id for m in outbox.claim(conn, now=T0, lease_until=lease, limit=5)]
    assert claimed == first_ids
