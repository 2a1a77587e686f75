"""Statements on campaigns, and on the messages of one campaign (hold, release, cancel).

Progress is counted from ``messages`` through the partial index on
``(campaign_id, status)``: a poll reads index entries of that campaign only, never the
rest of the table, and the dispatcher's hot path writes nothing more than before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from centauro.store import sql
from centauro.store.tables import campaigns, messages


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    account_id: int
    name: str
    template: str
    state: str
    source_name: str
    source_format: str
    mapping: str  #: JSON
    preview: str  #: JSON
    total_rows: int
    accepted: int
    rejected: int
    cost: int
    charged: int
    refunded: int
    schedule_at: datetime | None
    created_at: datetime
    confirmed_at: datetime | None
    updated_at: datetime


_COLUMNS = [c for c in campaigns.c if c.name != "source"]


def _row(r: Any) -> Campaign:
    return Campaign(**{c.name: getattr(r, c.name) for c in _COLUMNS})


def insert_campaign(conn: Connection, *, source: bytes, **values: Any) -> int:
    result = conn.execute(insert(campaigns).values(source=source, **values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def by_id(conn: Connection, campaign_id: int, *, account_id: int | None = None) -> Campaign | None:
    query = select(*_COLUMNS).where(campaigns.c.id == campaign_id)
    if account_id is not None:
        query = query.where(campaigns.c.account_id == account_id)
    row = conn.execute(query).first()
    return _row(row) if row else None


def source_of(conn: Connection, campaign_id: int) -> bytes:
    return bytes(
        conn.execute(select(campaigns.c.source).where(campaigns.c.id == campaign_id)).scalar_one()
    )


def listing(
    conn: Connection, *, account_id: int | None, before_id: int | None, limit: int
) -> list[Campaign]:
    query = select(*_COLUMNS)
    if account_id is not None:
        query = query.where(campaigns.c.account_id == account_id)
    if before_id is not None:
        query = query.where(campaigns.c.id < before_id)
    return [_row(r) for r in conn.execute(query.order_by(campaigns.c.id.desc()).limit(limit))]


def move(
    conn: Connection,
    campaign_id: int,
    *,
    from_states: Sequence[str],
    to_state: str,
    now: datetime,
    **values: Any,
) -> bool:
    """Change a campaign's state if it is in one of ``from_states``; whether it did.

    The state check is in the UPDATE itself, so of two concurrent confirms (a
    double click) exactly one moves the campaign; the other sees no row changed.
    """
    result = conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.state.in_(list(from_states)))
        .values(state=to_state, updated_at=now, **values)
    )
    return result.rowcount == 1


def add_refund(conn: Connection, campaign_id: int, amount: int, now: datetime) -> None:
    conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(refunded=campaigns.c.refunded + amount, updated_at=now)
    )


_COUNTS = """
SELECT status, COUNT(*), COALESCE(SUM(cost), 0) FROM messages
WHERE campaign_id = :id GROUP BY status
"""

_REASONS = """
SELECT status, COALESCE(error, ''), COUNT(*) FROM messages
WHERE campaign_id = :id AND status IN ('failed', 'rejected', 'undelivered', 'expired',
      'cancelled')
GROUP BY status, COALESCE(error, '')
"""


def counts(conn: Connection, campaign_id: int) -> dict[str, tuple[int, int]]:
    """``{state: (messages, credits)}`` of the campaign's messages (index only)."""
    rows = sql.fetchall(conn, _COUNTS, {"id": campaign_id})
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def reasons(conn: Connection, campaign_id: int) -> list[tuple[str, str, int]]:
    """``(state, error, messages)`` of the campaign's messages that did not arrive."""
    rows = sql.fetchall(conn, _REASONS, {"id": campaign_id})
    return [(r[0], r[1], int(r[2])) for r in rows]


#: A message may be held, released or cancelled only while no dispatcher holds a live
#: claim on it (one in flight to the carrier cannot be recalled).
_HOLD = """
UPDATE messages SET status = 'held', updated_at = :now
WHERE campaign_id = :id AND status IN ('queued', 'scheduled')
      AND (claimed_by IS NULL OR due_at <= :now)
"""

_RELEASE = """
UPDATE messages SET status = :status,
       due_at = :due, expires_at = :expires, claimed_by = NULL, updated_at = :now
WHERE campaign_id = :id AND status = 'held'
"""

_CANCEL = """
UPDATE messages SET status = 'cancelled', error = 'campaign cancelled', done_at = :now,
       due_at = NULL, claimed_by = NULL, updated_at = :now
WHERE campaign_id = :id AND status IN ('queued', 'scheduled', 'held')
      AND (claimed_by IS NULL OR due_at <= :now)
RETURNING id, cost
"""


def hold(conn: Connection, campaign_id: int, now: datetime) -> int:
    return sql.execute(conn, _HOLD, {"id": campaign_id, "now": sql.stamp(conn, now)})


def release(
    conn: Connection, campaign_id: int, *, due: datetime, expires: datetime, now: datetime
) -> int:
    """Held messages go back to the queue (or wait for ``due`` if it is later)."""
    return sql.execute(
        conn,
        _RELEASE,
        {
            "id": campaign_id,
            "status": "scheduled" if due > now else "queued",
            "now": sql.stamp(conn, now),
            "due": sql.stamp(conn, due),
            "expires": sql.stamp(conn, expires),
        },
    )


def cancel_open(conn: Connection, campaign_id: int, now: datetime) -> list[tuple[int, int]]:
    """Cancel what has not left; ``(message_id, cost)`` of each cancelled."""
    rows = sql.fetchall(conn, _CANCEL, {"id": campaign_id, "now": sql.stamp(conn, now)})
    return [(int(r[0]), int(r[1])) for r in rows]


def message_rows(conn: Connection, campaign_id: int) -> Iterator[tuple[Any, ...]]:
    """Every message of the campaign for the report, in id order."""
    query = (
        select(
            messages.c.id,
            messages.c.recipient,
            messages.c.name,
            messages.c.status,
            messages.c.error,
            messages.c.segments,
            messages.c.cost,
            messages.c.sent_at,
            messages.c.done_at,
        )
        .where(messages.c.campaign_id == campaign_id)
        .order_by(messages.c.id)
    )
    for row in conn.execute(query):
        yield tuple(row)
