"""Worker registry: who holds claims, and giving back the claims of the dead.

Each dispatcher process registers a row and refreshes its heartbeat every few seconds.
A claim names its worker. When a worker's heartbeat is older than the stale limit, a
live worker deletes it and puts the messages it had claimed back in the queue at once,
instead of waiting for their leases to run out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from centauro.store import sql, webhooks

_RELEASE_ORPHANS = """
UPDATE messages{indexed} SET due_at = :now, claimed_by = NULL, updated_at = :now
WHERE claimed_by IS NOT NULL AND status = 'queued'
  AND claimed_by NOT IN (SELECT id FROM workers)
"""


def register(conn: Connection, *, worker_id: str, host: str, pid: int, now: datetime) -> None:
    stamp = sql.stamp(conn, now)
    sql.execute(
        conn,
        "INSERT INTO workers (id, host, pid, started_at, heartbeat_at) "
        "VALUES (:id, :host, :pid, :now, :now)",
        {"id": worker_id, "host": host[:200], "pid": pid, "now": stamp},
    )


def heartbeat(conn: Connection, *, worker_id: str, now: datetime) -> bool:
    """Refresh our heartbeat; False if another worker declared us dead meanwhile."""
    return (
        sql.execute(
            conn,
            "UPDATE workers SET heartbeat_at = :now WHERE id = :id",
            {"id": worker_id, "now": sql.stamp(conn, now)},
        )
        == 1
    )


def unregister(conn: Connection, *, worker_id: str, now: datetime) -> int:
    """Leave cleanly: our remaining claims go back to the queue. Returns how many."""
    sql.execute(conn, "DELETE FROM workers WHERE id = :id", {"id": worker_id})
    return release_orphans(conn, now=now)


def reap(conn: Connection, *, now: datetime, stale_before: datetime) -> int:
    """Forget workers silent since ``stale_before``; requeue their claims. Returns how many."""
    sql.execute(
        conn,
        "DELETE FROM workers WHERE heartbeat_at < :stale",
        {"stale": sql.stamp(conn, stale_before)},
    )
    return release_orphans(conn, now=now)


def reap_all_but(conn: Connection, *, worker_id: str, now: datetime) -> int:
    """Forget every other worker (we know we are alone, e.g. we hold the SQLite lock)."""
    sql.execute(conn, "DELETE FROM workers WHERE id <> :id", {"id": worker_id})
    return release_orphans(conn, now=now)


def release_orphans(conn: Connection, *, now: datetime) -> int:
    """Claims (messages and webhook deliveries) of workers that are gone become due now."""
    statement = _RELEASE_ORPHANS.format(indexed=sql.indexed_by(conn, "ix_messages_claimed"))
    released = sql.execute(conn, statement, {"now": sql.stamp(conn, now)})
    return released + webhooks.release_orphans(conn, now=now)


def live(conn: Connection) -> list[tuple[str, str, int, datetime | None, datetime | None]]:
    rows = sql.fetchall(
        conn, "SELECT id, host, pid, started_at, heartbeat_at FROM workers ORDER BY started_at"
    )
    return [(r[0], r[1], r[2], sql.unstamp(r[3]), sql.unstamp(r[4])) for r in rows]
