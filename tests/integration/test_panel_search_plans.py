"""The panel's message searches over a filled store: every page's statement is a range of
the index made for it (EXPLAIN on both stores, after ANALYZE, planner left free), never a
scan of messages nor a walk of the primary key filtering rows; and paging a date search
by its cursor shows every message once, newest first.

The store holds 24,000 messages over 30 days, ids growing with ``created_at`` as in a real
store, two accounts in turn; the second account has no ``failed`` or ``expired`` message
(its rows are the odd ones) — the searches that walked everything before 0013.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text

from centauro.service import accounts
from centauro.service import messages as service
from centauro.store.engine import Database
from centauro.store.tables import messages
from tests.support.plans import captured, plan

T0 = datetime(2030, 3, 10, 15, 0, tzinfo=UTC)
ROWS = 24_000
WINDOW = 30 * 86_400
STATUSES = ["delivered"] * 8 + ["failed", "undelivered", "expired", "cancelled"]

_CASES = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STATUSES))
_SQLITE_FILL = f"""
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)
INSERT INTO messages (account_id, recipient, text, encoding, segments, cost, status, source,
    attempts, connector, parts, created_at, updated_at)
SELECT CASE i % 2 WHEN 0 THEN :a ELSE :b END, '+58414' || printf('%07d', i % 5000),
    'hola', 'gsm7', 1, 1, CASE i % 12 {_CASES} END, 'compat', 1, 'c', 1,
    strftime('%Y-%m-%d %H:%M:%f', :now, '-' || (((:rows - 1 - i) * {WINDOW}) / :rows)
        || ' seconds'),
    :now
FROM n
"""
_PG_FILL = f"""
INSERT INTO messages (account_id, recipient, text, encoding, segments, cost, status, source,
    attempts, connector, parts, created_at, updated_at)
SELECT CASE i % 2 WHEN 0 THEN :a ELSE :b END, '+58414' || lpad((i % 5000)::text, 7, '0'),
    'hola', 'gsm7', 1, 1, CASE i % 12 {_CASES} END, 'compat', 1, 'c', 1,
    CAST(:now AS timestamptz) - make_interval(secs => ((:rows - 1 - i) * {WINDOW}) / :rows),
    CAST(:now AS timestamptz)
FROM generate_series(0, CAST(:rows AS bigint) - 1) AS i
"""


def _fill(db: Database) -> tuple[int, int]:
    with db.begin() as conn:
        a = accounts.create(conn, name="a", credits=0, now=T0).account.id
        b = accounts.create(conn, name="b", credits=0, now=T0).account.id
        now: Any = T0.replace(tzinfo=None).isoformat(sep=" ") if db.is_sqlite else T0
        fill = _SQLITE_FILL if db.is_sqlite else _PG_FILL
        conn.execute(text(fill), {"rows": ROWS, "a": a, "b": b, "now": now})
    with db.begin() as conn:
        conn.execute(text("ANALYZE"))
    return a, b


def _statement(db: Database, **filters: Any) -> tuple[str, Any]:
    """The SQL of one page of a search, as it goes to the driver."""
    with captured(db, "FROM messages") as seen, db.read() as conn:
        service.find(conn, limit=51, **filters)
    [found] = seen
    return found


def _day(days_ago: int) -> tuple[datetime, datetime]:
    start = (T0 - timedelta(days=days_ago)).replace(hour=4, minute=0)  # local midnight, UTC-4
    return start, start + timedelta(days=1)


@pytest.fixture
def filled(db: Database) -> tuple[Database, int, int]:
    return (db, *_fill(db))


def test_each_search_is_a_range_of_its_index(filled: tuple[Database, int, int]) -> None:
    db, _a, b = filled
    since, until = _day(10)
    pages: list[tuple[str, dict[str, Any], set[str]]] = [
        ("no filter", {}, {"pk_messages", "SCAN messages"}),
        ("number", {"recipient": "+584140001234"}, {"ix_messages_recipient_id"}),
        ("a status nobody has", {"status": "rejected"}, {"ix_messages_status_id"}),
        ("one day", {"since": since, "until": until}, {"ix_messages_created_at_status"}),
        (
            "one account, a status it has none of",
            {"account_id": b, "status": "expired"},
            {"ix_messages_account_id_status_id"},
        ),
        (
            "one account, one day",
            {"account_id": b, "since": since, "until": until},
            {"ix_messages_account_id_created_at", "ix_messages_created_at_status"},
        ),
        (
            "one account, from a day on",
            {"account_id": b, "since": since},
            {"ix_messages_account_id_created_at", "ix_messages_created_at_status"},
        ),
        ("one account", {"account_id": b}, {"ix_messages_account_id_id", "pk_messages"}),
    ]
    for name, filters, indexes in pages:
        found = plan(db, *_statement(db, **filters))
        assert any(index in found for index in indexes), (name, found)
        if db.is_sqlite:
            # SCAN only as the primary key newest first, stopped by the LIMIT: no sort.
            assert "SCAN messages" not in found or (not filters and "B-TREE" not in found)
            assert "USE TEMP B-TREE FOR ORDER BY" not in found, (name, found)
        else:
            assert "Seq Scan on messages" not in found, (name, found)
            if "pk_messages" not in indexes:  # half the rows are b's: a walk is fine there
                assert not ("pk_messages" in found and "Filter" in found), (name, found)
            if "since" in filters:  # a date range is read from its newest end, not sorted
                assert "Sort Key" not in found or "Presorted Key" in found, (name, found)


def test_paging_a_date_search_shows_each_message_once_newest_first(db: Database) -> None:
    with db.begin() as conn:
        account = accounts.create(conn, name="a", credits=0, now=T0).account.id
    since, until = _day(1)
    # ids do not follow created_at here (a scheduled import, clocks of several workers)
    offsets = [700, 100, 100, 5000, 42, 86_000, 100, 3, 86_399, 9_999, -5, 86_400]
    with db.begin() as conn:
        for n, seconds in enumerate(offsets):
            at = since + timedelta(seconds=seconds)
            conn.execute(
                insert(messages).values(
                    account_id=account,
                    recipient=f"+5841400000{n:02d}",
                    text="x",
                    encoding="gsm7",
                    segments=1,
                    cost=1,
                    status="delivered",
                    source="cli",
                    created_at=at,
                    updated_at=at,
                )
            )
    seen: list[tuple[datetime, int]] = []
    before: int | None = None
    for _ in range(len(offsets)):
        with db.read() as conn:
            page = service.find(
                conn, account_id=account, since=since, until=until, before_id=before, limit=3
            )
        if not page:
            break
        seen += [(m.created_at, m.id) for m in page]
        before = page[-1].id
    inside = [s for s in offsets if 0 <= s < 86_400]
    assert len(seen) == len(inside) == len(set(seen))
    assert seen == sorted(seen, reverse=True)
