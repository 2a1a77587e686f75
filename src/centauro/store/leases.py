"""Bind leases: which live process owns each connector's binds (PostgreSQL).

One row per connector. Its owner renews ``lease_until`` well before it runs out; any
delivering process takes over a lease that has run out (``epoch`` + 1, the old owner
kept in ``previous_owner``). Every time is the database's own clock
(``clock_timestamp()``), so the machines' clocks may disagree as much as they like.
SQLite needs none of this: one ``serve`` holds the file's lock (runtime.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from centauro.store import sql, workers

# -- hold: acquire what is free or ours, renew what is ours (one statement) --
_HOLD = """
INSERT INTO connector_leases AS l
    (connector, owner, host, pid, epoch, lease_until, acquired_at)
SELECT n, :owner, :host, :pid, 1,
       clock_timestamp() + make_interval(secs => :seconds), clock_timestamp()
FROM unnest(CAST(:names AS text[])) AS n
ON CONFLICT (connector) DO UPDATE SET
    epoch = CASE WHEN l.owner = excluded.owner THEN l.epoch ELSE l.epoch + 1 END,
    acquired_at = CASE WHEN l.owner = excluded.owner THEN l.acquired_at
                       ELSE excluded.acquired_at END,
    previous_owner = CASE WHEN l.owner = excluded.owner THEN l.previous_owner
                          ELSE l.owner END,
    owner = excluded.owner, host = excluded.host, pid = excluded.pid,
    lease_until = excluded.lease_until
WHERE l.owner = excluded.owner OR l.lease_until < clock_timestamp()
RETURNING connector, epoch, previous_owner
"""

# -- let go of the leases of connectors we no longer run --
_LET_GO = """
DELETE FROM connector_leases WHERE owner = :owner AND NOT (connector = ANY(:names))
"""

#: A session of an expired owner waiting this long on its client mid-transaction is stuck.
FENCE_STUCK_SECONDS = 2.0

# -- end the stuck sessions of owners whose leases ran out (they are fenced already):
# inside a transaction, waiting on their client (ClientRead/Write) for ``stuck`` seconds. An owner
# that is only late (busy, its renewal queued behind long jobs) keeps the sessions that
# are working or idle, and its COMMIT is never cut in half.
_FENCE_OUT = """
SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
FROM (
    SELECT DISTINCT a.pid
    FROM connector_leases l
    JOIN pg_stat_activity a ON a.application_name = l.owner
    WHERE l.connector = ANY(:names) AND l.owner <> :owner
      AND l.lease_until < clock_timestamp()
      AND a.datname = current_database() AND a.usename = current_user
      AND a.pid <> pg_backend_pid()
      AND a.xact_start IS NOT NULL AND a.wait_event IN ('ClientRead', 'ClientWrite')
      AND a.state_change < clock_timestamp() - make_interval(secs => :stuck)
) AS stuck
"""

_OWNERS = """
SELECT connector, owner, host, pid, epoch, lease_until, acquired_at,
       lease_until < clock_timestamp() AS expired
FROM connector_leases ORDER BY connector
"""


@dataclass(frozen=True, slots=True)
class Held:
    """A lease we hold after :func:`hold`; ``previous_owner`` is set after a takeover."""

    connector: str
    epoch: int
    previous_owner: str | None


@dataclass(frozen=True, slots=True)
class Owner:
    connector: str
    worker: str
    host: str
    pid: int
    epoch: int
    lease_until: datetime
    acquired_at: datetime
    expired: bool


def hold(
    conn: Connection, *, owner: str, host: str, pid: int, names: Sequence[str], seconds: float
) -> list[Held]:
    """Take or renew the leases of ``names`` for ``owner``; return those it holds now.

    Leases of other connectors ``owner`` held are let go (the operator disabled or
    removed them), so another process need not wait for them to run out.
    """
    sql.execute(conn, _LET_GO, {"owner": owner, "names": list(names)})
    if not names:
        return []
    rows = sql.fetchall(
        conn,
        _HOLD,
        {"owner": owner, "host": host[:200], "pid": pid, "names": list(names), "seconds": seconds},
    )
    return [Held(r[0], int(r[1]), r[2]) for r in rows]


def fence_out(
    conn: Connection, *, owner: str, names: Sequence[str], stuck: float = FENCE_STUCK_SECONDS
) -> int:
    """End the stuck database sessions of every other owner whose lease of one of
    ``names`` ran out (in a transaction, waiting on their client for ``stuck`` seconds);
    how many were ended.

    Such an owner is dead or paused, and fenced already (it trusts its lease less long
    than it lasts). Paused in the middle of a transaction it keeps its row locks — the
    lease row itself, messages it was recording — and the server's idle-transaction
    limit does not reach a session stopped inside a pipeline (psycopg's ``executemany``
    is one), which waits for the rest rather than sits idle. Ending its sessions lets
    :func:`hold` and :func:`take_over_from` go on at once; awake, its next statement
    fails and it learns at its next lease round that it lost the lease. Sessions are
    named by their owner's worker id (runtime.fence_pg_sessions).
    """
    if not names:
        return 0
    row = sql.fetchone(
        conn, _FENCE_OUT, {"owner": owner, "names": list(names), "stuck": float(stuck)}
    )
    return int(row[0]) if row else 0


def take_over_from(conn: Connection, *, worker: str, now: datetime) -> int:
    """The previous owner of a lease we took over let it run out: count it as dead
    (its claimed messages go back to the queue now, not after ``worker_stale_seconds``).
    A process that was only paused registers again at its next heartbeat."""
    sql.execute(conn, "DELETE FROM workers WHERE id = :id", {"id": worker})
    return workers.release_orphans(conn, now=now)


def release(conn: Connection, *, owner: str) -> int:
    """Give back every lease of ``owner`` (a clean stop): others take over at once."""
    return sql.execute(conn, "DELETE FROM connector_leases WHERE owner = :owner", {"owner": owner})


def owners(conn: Connection) -> list[Owner]:
    """Every lease, live or run out, with its owner's host and pid."""
    if conn.dialect.name != "postgresql":
        return []
    return [
        Owner(
            connector=r[0],
            worker=r[1],
            host=r[2],
            pid=int(r[3]),
            epoch=int(r[4]),
            lease_until=sql.unstamp(r[5]),  # type: ignore[arg-type]
            acquired_at=sql.unstamp(r[6]),  # type: ignore[arg-type]
            expired=bool(r[7]),
        )
        for r in sql.fetchall(conn, _OWNERS)
    ]
