"""Statements on ``idempotency_keys``: the first answer to each (account, key).

A key is *claimed* by inserting its row before the request's work runs, in the same
transaction. ``INSERT … ON CONFLICT DO NOTHING`` is what makes concurrent retries safe on
PostgreSQL: a second transaction inserting the same key waits on the unique index until
the first commits (then inserts nothing and reads the committed row) or rolls back (then
the insert goes through). On SQLite one writer thread runs every job, one after another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from centauro.store import sql


@dataclass(frozen=True, slots=True)
class StoredKey:
    request_hash: str
    status_code: int  #: 0 while the claiming transaction has not recorded its answer
    response: str
    created_at: datetime


_CLAIM = """
INSERT INTO idempotency_keys (account_id, "key", request_hash, status_code, response, created_at)
VALUES (:account_id, :key, :request_hash, 0, '', :now)
ON CONFLICT (account_id, "key") DO NOTHING
"""

#: An expired row is taken over in place; the row lock makes a concurrent taker wait and
#: then find the row fresh (PostgreSQL re-checks the WHERE after the wait).
_TAKE_OVER = """
UPDATE idempotency_keys
   SET request_hash = :request_hash, status_code = 0, response = '', created_at = :now
 WHERE account_id = :account_id AND "key" = :key AND created_at < :expired_before
"""

_RECORD = """
UPDATE idempotency_keys SET status_code = :status_code, response = :response
 WHERE account_id = :account_id AND "key" = :key
"""

_GET = """
SELECT request_hash, status_code, response, created_at FROM idempotency_keys
 WHERE account_id = :account_id AND "key" = :key
"""

#: A bounded sub-select of expired rows. SQLite runs the sub-select once into a
#: temporary table; on PostgreSQL the rows are named by their ``ctid`` in an array made
#: once (a TID scan), because ``(account_id, "key") IN (SELECT … LIMIT …)`` may be planned
#: as a semi-join that runs the sub-select again for every row of the table — inside the
#: shared write transaction, stalling every send (see ``sql.picked``).
_PURGE = {
    "sqlite": """
DELETE FROM idempotency_keys WHERE (account_id, "key") IN (
    SELECT account_id, "key" FROM idempotency_keys WHERE created_at < :expired_before
     LIMIT :limit)
""",
    "postgresql": """
DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < :expired_before LIMIT :limit))
""",
}


def claim(
    conn: Connection,
    *,
    account_id: int,
    key: str,
    request_hash: str,
    now: datetime,
    expired_before: datetime,
) -> bool:
    """Take ``key`` for this transaction's request: True if it was free or expired."""
    params = {
        "account_id": account_id,
        "key": key,
        "request_hash": request_hash,
        "now": sql.stamp(conn, now),
    }
    if sql.execute(conn, _CLAIM, params) == 1:
        return True
    params["expired_before"] = sql.stamp(conn, expired_before)
    return sql.execute(conn, _TAKE_OVER, params) == 1


def record(conn: Connection, *, account_id: int, key: str, status_code: int, response: str) -> None:
    """Keep the answer of the request that claimed ``key``."""
    sql.execute(
        conn,
        _RECORD,
        {"account_id": account_id, "key": key, "status_code": status_code, "response": response},
    )


def get(conn: Connection, *, account_id: int, key: str) -> StoredKey | None:
    row = sql.fetchone(conn, _GET, {"account_id": account_id, "key": key})
    if row is None:
        return None
    created = sql.unstamp(row[3])
    assert created is not None
    return StoredKey(str(row[0]), int(row[1]), str(row[2]), created)


def purge(conn: Connection, *, expired_before: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` rows older than ``expired_before``; how many went."""
    return sql.execute(
        conn,
        _PURGE[conn.dialect.name],
        {"expired_before": sql.stamp(conn, expired_before), "limit": limit},
        planned_each_time=True,
    )
