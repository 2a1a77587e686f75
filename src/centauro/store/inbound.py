"""Statements on inbound messages (MO): what handsets sent to our numbers."""

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


_INSERT = """
INSERT INTO inbound (connector, sender, recipient, text, received_at)
VALUES (:connector, :sender, :recipient, :text, :received_at)
"""


def insert_many(conn: Connection, rows: Sequence[tuple[str, str, str, str, datetime]]) -> int:
    """Store ``(connector, sender, recipient, text, received_at)`` rows."""
    return sql.executemany(
        conn,
        _INSERT,
        (
            {
                "connector": c,
                "sender": s[:32],
                "recipient": r[:32],
                "text": t,
                "received_at": sql.stamp(conn, at),
            }
            for c, s, r, t, at in rows
        ),
    )


def listing(
    conn: Connection, *, sender: str | None = None, before_id: int | None = None, limit: int = 50
) -> list[InboundRow]:
    """Newest first."""
    where = ["1 = 1"]
    params: dict[str, object] = {"limit": limit}
    if sender is not None:
        where.append("sender = :sender")
        params["sender"] = sender
    if before_id is not None:
        where.append("id < :before_id")
        params["before_id"] = before_id
    rows = sql.fetchall(
        conn,
        "SELECT id, connector, sender, recipient, text, received_at FROM inbound "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT :limit",
        params,
    )
    return [
        InboundRow(r[0], r[1], r[2], r[3], r[4], sql.unstamp(r[5]))  # type: ignore[arg-type]
        for r in rows
    ]
