"""Statements on inbound messages (MO): what handsets sent to our numbers."""

from __future__ import annotations

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


_INSERT = """
INSERT INTO inbound (connector, sender, recipient, text, received_at, account_id)
VALUES (:connector, :sender, :recipient, :text, :received_at, :account_id)
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
        "SELECT id, connector, sender, recipient, text, received_at, account_id "  # noqa: S608
        f"FROM inbound WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT :limit",
        params,
    )
    return [
        InboundRow(r[0], r[1], r[2], r[3], r[4], sql.unstamp(r[5]), r[6])  # type: ignore[arg-type]
        for r in rows
    ]
