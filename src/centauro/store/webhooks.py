"""Statements on webhooks and their deliveries (the events outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from centauro.store import sql


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
