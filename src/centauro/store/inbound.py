"""Statements on inbound messages (MO): what handsets sent to our numbers, and the parts
of concatenated ones while their siblings are awaited (``inbound_parts``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from centauro.store import sql


@dataclass(frozen=True, slots=True)
class InboundRow:
    id: int
    connector: str
    sender: str
    recipient: str
    text: str
    received_at: datetime
    account_id: int | None = None
    parts: int = 1
    complete: bool = True


_INSERT = """
INSERT INTO inbound (connector, sender, recipient, text, received_at, account_id, parts, complete)
VALUES (:connector, :sender, :recipient, :text, :received_at, :account_id, :parts, :complete)
RETURNING id
"""


def insert(
    conn: Connection,
    *,
    connector: str,
    sender: str,
    recipient: str,
    text: str,
    received_at: datetime,
    account_id: int | None,
    parts: int = 1,
    complete: bool = True,
) -> int:
    """Store one inbound message; its id."""
    row = sql.fetchone(
        conn,
        _INSERT,
        {
            "connector": connector,
            "sender": sender[:32],
            "recipient": recipient[:32],
            "text": text,
            "received_at": sql.stamp(conn, received_at),
            "account_id": account_id,
            "parts": parts,
            "complete": complete,
        },
    )
    assert row is not None
    return int(row[0])


def last_sender_account(conn: Connection, number: str) -> int | None:
    """The account that last texted ``number`` (E.164): who an answer belongs to."""
    row = sql.fetchone(
        conn,
        "SELECT account_id FROM messages WHERE recipient = :number ORDER BY id DESC LIMIT 1",
        {"number": number},
    )
    return int(row[0]) if row else None


def listing(
    conn: Connection,
    *,
    sender: str | None = None,
    account_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[InboundRow]:
    """Newest first."""
    where = ["1 = 1"]
    params: dict[str, object] = {"limit": limit}
    if account_id is not None:
        where.append("account_id = :account_id")
        params["account_id"] = account_id
    if sender is not None:
        where.append("sender = :sender")
        params["sender"] = sender
    if before_id is not None:
        where.append("id < :before_id")
        params["before_id"] = before_id
    rows = sql.fetchall(
        conn,
        "SELECT id, connector, sender, recipient, text, received_at, account_id, parts, "  # noqa: S608
        "complete "
        f"FROM inbound WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT :limit",
        params,
    )
    return [
        InboundRow(r[0], r[1], r[2], r[3], r[4], sql.unstamp(r[5]), r[6], r[7], bool(r[8]))  # type: ignore[arg-type]
        for r in rows
    ]


# -- parts of concatenated messages ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartKey:
    """What the parts of one concatenated message share."""

    connector: str
    sender: str
    recipient: str
    reference: int
    total: int


@dataclass(frozen=True, slots=True)
class PartRow:
    id: int
    seq: int
    data_coding: int
    body: bytes
    received_at: datetime


_KEY = (
    "connector = :connector AND sender = :sender AND recipient = :recipient "
    "AND reference = :reference AND total = :total"
)

_SEEN = f"""
SELECT 1 FROM inbound_parts WHERE {_KEY} AND seq = :seq
AND (inbound_id IS NULL OR (received_at >= :since AND body = :body)) LIMIT 1
"""  # noqa: S608 - constant text

_ADD = """
INSERT INTO inbound_parts
  (connector, sender, recipient, reference, total, seq, data_coding, body, received_at)
VALUES (:connector, :sender, :recipient, :reference, :total, :seq, :data_coding, :body,
        :received_at)
"""


def _key_params(key: PartKey) -> dict[str, object]:
    return {
        "connector": key.connector,
        "sender": key.sender[:32],
        "recipient": key.recipient[:32],
        "reference": key.reference,
        "total": key.total,
    }


def add_part(
    conn: Connection,
    key: PartKey,
    *,
    seq: int,
    data_coding: int,
    body: bytes,
    received_at: datetime,
    since: datetime,
) -> bool:
    """Keep one part; False when it is a copy (the carrier resent it): the same seq still
    awaited, or already joined since ``since`` with the same body."""
    params = {**_key_params(key), "seq": seq}
    seen = sql.fetchone(conn, _SEEN, {**params, "since": sql.stamp(conn, since), "body": body})
    if seen is not None:
        return False
    sql.execute(
        conn,
        _ADD,
        {
            **params,
            "data_coding": data_coding,
            "body": body,
            "received_at": sql.stamp(conn, received_at),
        },
    )
    return True


def open_parts(conn: Connection, key: PartKey) -> list[PartRow]:
    """The awaited parts of one message, by seq (the first copy of each seq)."""
    rows = sql.fetchall(
        conn,
        "SELECT id, seq, data_coding, body, received_at FROM inbound_parts "  # noqa: S608
        f"WHERE {_KEY} AND inbound_id IS NULL ORDER BY seq, id",
        _key_params(key),
    )
    return [
        PartRow(r[0], r[1], r[2], bytes(r[3]), sql.unstamp(r[4]))  # type: ignore[arg-type]
        for r in rows
    ]


def due_groups(conn: Connection, *, started_before: datetime, limit: int = 500) -> list[PartKey]:
    """Messages whose awaited parts are all in, or whose first part came before
    ``started_before`` (given up)."""
    rows = sql.fetchall(
        conn,
        "SELECT connector, sender, recipient, reference, total FROM inbound_parts "
        "WHERE inbound_id IS NULL GROUP BY connector, sender, recipient, reference, total "
        "HAVING MIN(received_at) < :before OR COUNT(DISTINCT seq) >= total LIMIT :limit",
        {"before": sql.stamp(conn, started_before), "limit": limit},
    )
    return [PartKey(*r) for r in rows]


def join_parts(conn: Connection, part_ids: Sequence[int], inbound_id: int) -> int:
    """Point awaited parts at the message they became; how many were still awaited (fewer
    than given: another worker joined them first)."""
    return sql.execute(
        conn,
        "UPDATE inbound_parts SET inbound_id = :inbound_id "  # noqa: S608
        f"WHERE inbound_id IS NULL AND id {sql.in_list(conn)}",
        {"inbound_id": inbound_id, "ids": sql.list_param(conn, part_ids)},
    )
