"""The SQL a piece of code sends, and the plans the store makes of it: for tests that
check a page's queries are ranges of indexes, never scans (EXPLAIN on both stores)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from centauro.store.engine import Database


@contextmanager
def captured(db: Database, *words: str) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and parameters) sent on the read engine inside the block that
    mention any of ``words``."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if any(w in statement for w in words):
            seen.append((statement, params))

    event.listen(db.read_engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(db.read_engine, "before_cursor_execute", capture)


def plan(db: Database, statement: str, params: Any, *, seqscan: bool = True) -> str:
    """The plan, its lines joined by `` | `` (``seqscan=False``: PostgreSQL told to avoid
    sequential scans, so a tiny table still shows whether an index *can* serve)."""
    with db.write_engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        if db.is_sqlite:
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            return " | ".join(str(row[-1]) for row in cur.fetchall())
        if not seqscan:
            cur.execute("SET enable_seqscan = off")
        cur.execute("EXPLAIN " + statement, params)
        return " | ".join(str(row[0]) for row in cur.fetchall())
