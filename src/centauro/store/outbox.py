"""The messages table as a durable outbox: claim due messages, record what happened.

A claim does not change a message's state: it pushes ``due_at`` forward by a lease.
If the dispatcher dies before recording an outcome, the lease runs out and another
claim takes the message again, so nothing is lost and at most the in-flight window
is sent twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from centauro.domain import receipts
from centauro.store import sql


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message reserved for one dispatcher until its lease ends."""

    id: int
    account_id: int
    recipient: str
    text: str
    encoding: str
    segments: int
    attempts: int
    created_at: datetime
    expires_at: datetime | None = None  #: not sent by then: it expires
    sender: str | None = None  #: sender ID (None: the connector's source address)
    udh: str | None = None  #: binary messages: kept UDH elements, hex


_CLAIM = """
UPDATE messages SET due_at = :lease_until, attempts = attempts + 1, claimed_by = :worker,
       updated_at = :now
WHERE id {picked}
RETURNING id, account_id, recipient, text, encoding, segments, attempts, created_at, expires_at,
          sender, udh
"""

_DUE = """
SELECT id FROM messages{indexed}
WHERE status = 'queued' AND due_at <= :now
ORDER BY due_at, id
LIMIT :limit"""

_MARK_SENT = """
UPDATE messages SET status = 'sent', connector = :connector, carrier_id = :carrier_id,
       carrier_key = :carrier_key, parts = :parts, sent_at = :now, due_at = NULL,
       claimed_by = NULL, updated_at = :now
WHERE id = :id AND status = 'queued'
"""

#: PostgreSQL: :data:`_MARK_SENT` for a whole batch in one statement. ``executemany`` is
#: one round trip there too (a pipeline), but the server plans and starts one UPDATE per
#: row; here it runs one. The arrays are sorted by id (the plan decides the order in
#: which rows are locked, as it did for executemany's rows).
_MARK_SENT_MANY = """
UPDATE messages m SET status = 'sent', connector = u.connector, carrier_id = u.carrier_id,
       carrier_key = u.carrier_key, parts = u.parts, sent_at = :now, due_at = NULL,
       claimed_by = NULL, updated_at = :now
FROM unnest(:id::bigint[], :connector::text[], :carrier_id::text[], :carrier_key::text[],
            :parts::int[]) AS u(id, connector, carrier_id, carrier_key, parts)
WHERE m.id = u.id AND m.status = 'queued'
"""

_INSERT_PART = """
INSERT INTO message_parts (message_id, part, connector, carrier_id, carrier_key)
VALUES (:message_id, :part, :connector, :carrier_id, :carrier_key)
ON CONFLICT (message_id, part) DO NOTHING
"""


_RESCHEDULE = """
UPDATE messages SET due_at = :due_at, error = :error, claimed_by = NULL, updated_at = :now
WHERE id = :id AND status = 'queued'
"""

_FINISH = """
UPDATE messages SET status = :status, error = COALESCE(:error, error), done_at = :now,
       due_at = NULL, claimed_by = NULL, updated_at = :now
WHERE id = :id AND status IN ('scheduled', 'queued', 'sent')
"""

#: PostgreSQL: :data:`_FINISH` for a whole batch in one statement (see _MARK_SENT_MANY).
_FINISH_MANY = """
UPDATE messages m SET status = u.status, error = COALESCE(u.error, m.error), done_at = :now,
       due_at = NULL, claimed_by = NULL, updated_at = :now
FROM unnest(:id::bigint[], :status::text[], :error::text[]) AS u(id, status, error)
WHERE m.id = u.id AND m.status IN ('scheduled', 'queued', 'sent')
"""


_OPEN = """
SELECT id, account_id, cost, status, sent_at FROM messages
WHERE id {in_ids} AND status IN ('scheduled', 'queued', 'sent'){lock}
"""

_BY_CARRIER_ID = """
SELECT carrier_id, id FROM messages WHERE connector = :connector AND carrier_id {in_ids}
"""


def _lock(conn: Connection, clause: str) -> str:
    return clause if conn.dialect.name == "postgresql" else ""


def claim(
    conn: Connection,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    worker: str | None = None,
) -> list[Claimed]:
    """Reserve up to ``limit`` due messages, oldest first, for ``worker``."""
    rows = sql.fetchall(
        conn,
        _CLAIM.format(
            picked=sql.picked(conn, _DUE.format(indexed=sql.indexed_by(conn, "ix_messages_due")))
        ),
        {
            "now": sql.stamp(conn, now),
            "lease_until": sql.stamp(conn, lease_until),
            "limit": limit,
            "worker": worker,
        },
        planned_each_time=True,
    )
    claimed = [
        Claimed(
            id=r[0],
            account_id=r[1],
            recipient=r[2],
            text=r[3],
            encoding=r[4],
            segments=r[5],
            attempts=r[6],
            created_at=sql.unstamp(r[7]),  # type: ignore[arg-type]
            expires_at=sql.unstamp(r[8]),
            sender=r[9],
            udh=r[10],
        )
        for r in rows
    ]
    claimed.sort(key=lambda c: c.id)
    return claimed


def mark_sent(
    conn: Connection, sent: Sequence[tuple[int, str, tuple[str, ...]]], now: datetime
) -> int:
    """Record carrier acceptance: ``(message_id, connector, carrier_ids)`` each.

    A single-part message keeps its receipt key on its own row; the parts of a
    concatenated one get a row each in ``message_parts``.
    """
    changed = _update_each(
        conn,
        _MARK_SENT,
        _MARK_SENT_MANY,
        [
            {
                "id": m,
                "connector": c,
                "carrier_id": ids[0],
                "carrier_key": receipts.key(ids[0]) if len(ids) == 1 else None,
                "parts": len(ids),
            }
            for m, c, ids in sent
        ],
        now,
    )
    _insert_parts(conn, sent)
    return changed


def _update_each(
    conn: Connection, one: str, many: str, rows: Sequence[dict[str, Any]], now: datetime
) -> int:
    """Run ``one`` for each row (``now`` added); return the rows changed.

    On PostgreSQL ``many`` instead, once, with each key's values as an array (``unnest``):
    the first row of each message id only, in id order — one statement updates a row
    once, where ``executemany`` applied the first and found the message moved on for the
    others."""
    if conn.dialect.name != "postgresql":
        stamp = sql.stamp(conn, now)
        return sql.executemany(conn, one, [{**row, "now": stamp} for row in rows])
    first: dict[int, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["id"], row)
    if not first:
        return 0
    ordered = [first[m] for m in sorted(first)]
    arrays = {key: [row[key] for row in ordered] for key in ordered[0]}
    return sql.execute(conn, many, {**arrays, "now": now})


def _insert_parts(conn: Connection, sent: Sequence[tuple[int, str, tuple[str, ...]]]) -> None:
    sql.executemany(
        conn,
        _INSERT_PART,
        (
            {
                "message_id": m,
                "part": index,
                "connector": c,
                "carrier_id": cid,
                "carrier_key": receipts.key(cid),
            }
            for m, c, ids in sent
            if len(ids) > 1
            for index, cid in enumerate(ids, start=1)
        ),
    )


def reschedule(
    conn: Connection, retries: Sequence[tuple[int, datetime, str]], now: datetime
) -> int:
    """Put messages back in the queue: ``(message_id, due_at, error)`` each."""
    stamp = sql.stamp(conn, now)
    return sql.executemany(
        conn,
        _RESCHEDULE,
        (
            {"id": m, "due_at": sql.stamp(conn, due), "error": error[:200], "now": stamp}
            for m, due, error in retries
        ),
    )


@dataclass(frozen=True, slots=True)
class Open:
    """A message not yet in a final state."""

    id: int
    account_id: int
    cost: int
    status: str
    sent_at: datetime | None  #: when the carrier accepted it (None: not sent)


def open_messages(conn: Connection, ids: Sequence[int]) -> list[Open]:
    """Those of ``ids`` not yet in a final state."""
    if not ids:
        return []
    query = _OPEN.format(in_ids=sql.in_list(conn), lock=_lock(conn, " FOR UPDATE"))
    rows = sql.fetchall(conn, query, {"ids": sql.list_param(conn, ids)})
    return [Open(r[0], r[1], r[2], r[3], sql.unstamp(r[4])) for r in rows]


def finish(conn: Connection, finals: Sequence[tuple[int, str, str | None]], now: datetime) -> int:
    """Move messages to a final state: ``(message_id, state, error)`` each."""
    return _update_each(
        conn,
        _FINISH,
        _FINISH_MANY,
        [
            {"id": m, "status": state, "error": error[:200] if error else None}
            for m, state, error in finals
        ],
        now,
    )


def awaiting_receipt(conn: Connection, connector: str, *, limit: int) -> list[tuple[str, str]]:
    """``(carrier_id, recipient)`` of messages ``connector`` accepted and not yet reported."""
    rows = sql.fetchall(
        conn,
        "SELECT carrier_id, recipient FROM messages "
        "WHERE status = 'sent' AND connector = :connector ORDER BY id LIMIT :limit",
        {"connector": connector, "limit": limit},
    )
    return [(r[0], r[1]) for r in rows]


def release_scheduled(conn: Connection, now: datetime) -> int:
    """Scheduled messages whose time has come join the queue; how many did."""
    stamp = sql.stamp(conn, now)
    return sql.execute(
        conn,
        f"UPDATE messages{sql.indexed_by(conn, 'ix_messages_scheduled')} "  # noqa: S608
        "SET status = 'queued', updated_at = :now "
        "WHERE status = 'scheduled' AND due_at <= :now",
        {"now": stamp},
    )
