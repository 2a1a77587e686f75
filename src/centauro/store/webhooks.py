"""Statements on webhooks and their deliveries (the events outbox).

``webhook_deliveries`` works like the messages outbox (``store/outbox.py``): a claim pushes
``due_at`` forward by a lease and names its worker, the state stays ``pending`` until an
outcome is recorded, so a sender that dies loses nothing — its claims come back when the
lease runs out, or at once when its worker row is reaped (:func:`release_orphans`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from centauro.store import sql
from centauro.store.sql import Params


@dataclass(frozen=True, slots=True)
class Subscriber:
    webhook_id: int
    account_id: int
    url: str


@dataclass(frozen=True, slots=True)
class NewDelivery:
    account_id: int
    webhook_id: int | None  #: None: a message's own callback_url
    url: str
    event: str
    payload: str  #: the JSON body, exactly as it will be signed and sent


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    account_id: int
    url: str
    events: tuple[str, ...]
    enabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row of a webhook's delivery log."""

    id: int
    event: str
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery reserved for one sender until its lease ends."""

    id: int
    account_id: int
    webhook_id: int | None
    url: str
    event: str
    payload: str
    attempts: int  #: this attempt included
    created_at: datetime
    #: The HMAC key as stored (maybe sealed: open it before use): the webhook's secret,
    #: or for a callback_url the account's signing key. None when the webhook is gone
    #: (the delivery fails).
    key: str | None


def subscribers(conn: Connection, account_ids: Sequence[int], event: str) -> list[Subscriber]:
    """Enabled webhooks of these accounts that want ``event``."""
    if not account_ids:
        return []
    rows = sql.fetchall(
        conn,
        "SELECT id, account_id, url, events FROM webhooks "  # noqa: S608 - constant
        f"WHERE enabled AND account_id {sql.in_list(conn)}",
        {"ids": sql.list_param(conn, sorted(set(account_ids)))},
    )
    return [Subscriber(r[0], r[1], r[2]) for r in rows if event in r[3].split(",")]


_INSERT_DELIVERY = """
INSERT INTO webhook_deliveries (account_id, webhook_id, url, event, payload, status, attempts,
                                due_at, created_at)
VALUES (:account_id, :webhook_id, :url, :event, :payload, 'pending', 0, :now, :now)
"""


def insert_deliveries(conn: Connection, deliveries: Sequence[NewDelivery], now: datetime) -> int:
    stamp = sql.stamp(conn, now)
    return sql.executemany(
        conn,
        _INSERT_DELIVERY,
        (
            {
                "account_id": d.account_id,
                "webhook_id": d.webhook_id,
                "url": d.url,
                "event": d.event,
                "payload": d.payload,
                "now": stamp,
            }
            for d in deliveries
        ),
    )


# -- webhooks ---------------------------------------------------------------------------

_WEBHOOK_COLUMNS = "id, account_id, url, events, enabled, created_at"
_INSERT_WEBHOOK = f"""
INSERT INTO webhooks (account_id, url, events, secret, created_at)
VALUES (:account_id, :url, :events, :secret, :now) RETURNING {_WEBHOOK_COLUMNS}
"""  # noqa: S608 - constant


def _webhook(r: tuple[object, ...]) -> Webhook:
    return Webhook(
        id=int(r[0]),  # type: ignore[call-overload]
        account_id=int(r[1]),  # type: ignore[call-overload]
        url=str(r[2]),
        events=tuple(str(r[3]).split(",")),
        enabled=bool(r[4]),
        created_at=sql.unstamp(r[5]),  # type: ignore[arg-type]
    )


def create(
    conn: Connection,
    *,
    account_id: int,
    url: str,
    events: Sequence[str],
    secret: str,
    now: datetime,
) -> Webhook:
    row = sql.fetchone(
        conn,
        _INSERT_WEBHOOK,
        {
            "account_id": account_id,
            "url": url,
            "events": ",".join(events),
            "secret": secret,
            "now": sql.stamp(conn, now),
        },
    )
    assert row is not None
    return _webhook(row)


def listing(conn: Connection, account_id: int) -> list[Webhook]:
    rows = sql.fetchall(
        conn,
        f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE account_id = :a ORDER BY id",  # noqa: S608
        {"a": account_id},
    )
    return [_webhook(r) for r in rows]


def get(conn: Connection, account_id: int, webhook_id: int) -> Webhook | None:
    """The webhook, if it is this account's."""
    row = sql.fetchone(
        conn,
        f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE id = :id AND account_id = :a",  # noqa: S608
        {"id": webhook_id, "a": account_id},
    )
    return _webhook(row) if row else None


def delete(conn: Connection, account_id: int, webhook_id: int) -> bool:
    """Remove the account's webhook; its pending deliveries fail (nobody can sign them)."""
    if not sql.execute(
        conn,
        "DELETE FROM webhooks WHERE id = :id AND account_id = :a",
        {"id": webhook_id, "a": account_id},
    ):
        return False
    sql.execute(
        conn,
        "UPDATE webhook_deliveries SET status = 'failed', last_error = 'webhook deleted', "
        "claimed_by = NULL WHERE webhook_id = :id AND status = 'pending'",
        {"id": webhook_id},
    )
    return True


def count(conn: Connection, account_id: int) -> int:
    row = sql.fetchone(
        conn, "SELECT count(*) FROM webhooks WHERE account_id = :a", {"a": account_id}
    )
    return int(row[0]) if row else 0


# -- the delivery log -------------------------------------------------------------------


def deliveries(
    conn: Connection, webhook_id: int, *, before_id: int | None, limit: int
) -> list[Delivery]:
    """A webhook's deliveries, newest first, those with ids below ``before_id``."""
    rows = sql.fetchall(
        conn,
        "SELECT id, event, status, attempts, last_status, last_error, created_at, "
        "delivered_at, due_at FROM webhook_deliveries "
        "WHERE webhook_id = :w AND id < :before ORDER BY id DESC LIMIT :limit",
        {"w": webhook_id, "before": before_id or 2**62, "limit": limit},
    )
    return [
        Delivery(r[0], r[1], r[2], r[3], r[4], r[5], *(sql.unstamp(v) for v in r[6:9]))  # type: ignore[arg-type]
        for r in rows
    ]


# -- the sender's statements ------------------------------------------------------------

_CLAIM = """
UPDATE webhook_deliveries SET due_at = :lease_until, attempts = attempts + 1,
       claimed_by = :worker
WHERE id {picked}
RETURNING id, account_id, webhook_id, url, event, payload, attempts, created_at
"""


_DUE = """
SELECT id FROM webhook_deliveries
WHERE status = 'pending' AND due_at <= :now
ORDER BY due_at, id
LIMIT :limit"""


def claim(
    conn: Connection, *, now: datetime, lease_until: datetime, limit: int, worker: str | None
) -> list[Claimed]:
    """Reserve up to ``limit`` due deliveries for ``worker``, each with its signing key."""
    rows = sql.fetchall(
        conn,
        _CLAIM.format(picked=sql.picked(conn, _DUE)),
        {
            "now": sql.stamp(conn, now),
            "lease_until": sql.stamp(conn, lease_until),
            "limit": limit,
            "worker": worker,
        },
        planned_each_time=True,
    )
    if not rows:
        return []
    secrets = _column(conn, "webhooks", "secret", {r[2] for r in rows if r[2] is not None})
    keys = _column(conn, "accounts", "signing_key", {r[1] for r in rows if r[2] is None})
    claimed = [
        Claimed(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            sql.unstamp(r[7]),  # type: ignore[arg-type]
            secrets.get(r[2]) if r[2] is not None else keys.get(r[1]),
        )
        for r in rows
    ]
    claimed.sort(key=lambda c: c.id)
    return claimed


def _column(conn: Connection, table: str, column: str, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = f"SELECT id, {column} FROM {table} WHERE id {sql.in_list(conn)}"  # noqa: S608
    return {
        r[0]: r[1] for r in sql.fetchall(conn, query, {"ids": sql.list_param(conn, sorted(ids))})
    }


_SETTLE = """
UPDATE webhook_deliveries SET status = :status, due_at = COALESCE(:due, due_at),
       last_status = :code, last_error = :error, delivered_at = :delivered, claimed_by = NULL
WHERE id = :id AND status = 'pending'
"""

#: What one attempt came to: (delivery id, HTTP status or None, error or None).
Outcome = tuple[int, int | None, str | None]


def record(
    conn: Connection,
    *,
    delivered: Sequence[Outcome],
    retries: Sequence[tuple[int, int | None, str | None, datetime]],
    failed: Sequence[Outcome],
    now: datetime,
) -> None:
    """Record attempts: delivered; to try again at a time; or given up."""
    stamp = sql.stamp(conn, now)

    def row(status: str, i: int, code: int | None, error: str | None, due: Any = None) -> Params:
        return {"id": i, "status": status, "code": code, "error": error[:300] if error else None,
                "due": due, "delivered": stamp if status == "delivered" else None}  # fmt: skip

    sql.executemany(
        conn,
        _SETTLE,
        [row("delivered", *d) for d in delivered]
        + [row("pending", i, c, e, sql.stamp(conn, due)) for i, c, e, due in retries]
        + [row("failed", *f) for f in failed],
    )


_RELEASE_ORPHANS = """
UPDATE webhook_deliveries SET due_at = :now, claimed_by = NULL
WHERE status = 'pending' AND due_at > :now AND claimed_by IS NOT NULL
  AND claimed_by NOT IN (SELECT id FROM workers)
"""


def release_orphans(conn: Connection, *, now: datetime) -> int:
    """Deliveries claimed by workers that are gone become due now. How many.

    A claimed delivery is pending with ``due_at`` pushed past now (its lease), so the
    partial index on due pending rows finds them without scanning the log.
    """
    return sql.execute(conn, _RELEASE_ORPHANS, {"now": sql.stamp(conn, now)})


def cleanup(conn: Connection, *, before: datetime, limit: int = 5000) -> int:
    """Delete final deliveries created before ``before``, oldest first. How many.

    Rows are created in id order, so the old ones are a prefix of the table: read the
    first ``limit`` ids and delete those that are old and final (a pending one stays
    until the sender settles it). Cheap without an index on ``created_at``.
    """
    rows = sql.fetchall(
        conn,
        "SELECT id, status, created_at FROM webhook_deliveries ORDER BY id LIMIT :limit",
        {"limit": limit},
    )
    old: list[int] = []
    for id_, status, created_at in rows:
        if sql.unstamp(created_at) >= before:  # type: ignore[operator]
            break
        if status != "pending":
            old.append(id_)
    if not old:
        return 0
    return sql.execute(
        conn,
        f"DELETE FROM webhook_deliveries WHERE id {sql.in_list(conn)}",  # noqa: S608
        {"ids": sql.list_param(conn, old)},
    )


@dataclass(frozen=True, slots=True)
class LoggedDelivery:
    """One delivery in the operator's log: whose, where, and how it went."""

    id: int
    account_id: int
    webhook_id: int | None
    url: str
    event: str
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    due_at: datetime


def recent(
    conn: Connection, *, before_id: int | None, limit: int, status: str | None = None
) -> list[LoggedDelivery]:
    """Every account's deliveries, newest first, below ``before_id`` (maybe of one status)."""
    rows = sql.fetchall(
        conn,
        "SELECT id, account_id, webhook_id, url, event, status, attempts, last_status, "
        "last_error, created_at, delivered_at, due_at FROM webhook_deliveries "
        "WHERE id < :before AND (:status = '' OR status = :status) "
        "ORDER BY id DESC LIMIT :limit",
        {"before": before_id or 2**62, "limit": limit, "status": status or ""},
    )
    return [LoggedDelivery(*r[:9], *(sql.unstamp(v) for v in r[9:12])) for r in rows]
