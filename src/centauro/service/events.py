"""Events for webhooks, queued in the same transaction as the change they report.

A status change and the deliveries that announce it commit together: a webhook is
never told about a change that did not happen, and never misses one that did. The
sender (``delivery/webhooks.py``) POSTs them later, with retries.

Payloads (the body is what gets signed)::

    {"event": "message.status", "created_at": "…",
     "data": {"id": "123", "to": "+584141234567", "status": "delivered", "error": null,
              "reference": "…", "connector": "movistar", "segments": 1}}
    {"event": "message.inbound", "created_at": "…",
     "data": {"id": "7", "from": "+584141234567", "to": "2222", "text": "BAJA",
              "connector": "movistar", "received_at": "…", "parts": 1, "complete": true}}

``parts`` is how many SMS a concatenated message was joined from; ``complete`` is false
when some never came and the text is what arrived.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from centauro.service import smpp
from centauro.store import sql
from centauro.store import webhooks as store

MESSAGE_STATUS = "message.status"
MESSAGE_INBOUND = "message.inbound"
EVENTS = (MESSAGE_STATUS, MESSAGE_INBOUND)


@dataclass(frozen=True, slots=True)
class InboundEvent:
    inbound_id: int
    account_id: int
    sender: str
    recipient: str
    text: str
    connector: str
    received_at: datetime
    parts: int = 1
    complete: bool = True


def _body(event: str, data: dict[str, Any], now: datetime) -> str:
    return json.dumps(
        {"event": event, "created_at": now.isoformat(), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def status_changed(conn: Connection, message_ids: Sequence[int], now: datetime) -> int:
    """Queue a ``message.status`` delivery for each message that changed, to every
    subscribed webhook of its account and to its own callback URL. Returns how many."""
    if not message_ids:
        return 0
    rows = sql.fetchall(
        conn,
        "SELECT id, account_id, recipient, reference, status, error, connector, segments, "  # noqa: S608
        f"callback_url, source FROM messages WHERE id {sql.in_list(conn)}",
        {"ids": sql.list_param(conn, sorted(set(message_ids)))},
    )
    # Receipts owed to SMPP customers: only messages that came in by submit_sm can owe one,
    # so the common case (HTTP sends) costs no extra statement per batch.
    smpp.status_changed(conn, [r[0] for r in rows if r[9] == smpp.SOURCE], now)
    by_account: dict[int, list[store.Subscriber]] = defaultdict(list)
    for s in store.subscribers(conn, [r[1] for r in rows], MESSAGE_STATUS):
        by_account[s.account_id].append(s)
    deliveries: list[store.NewDelivery] = []
    for mid, account_id, to, reference, status, error, connector, segments, callback, _ in rows:
        targets: list[tuple[int | None, str]] = [
            (s.webhook_id, s.url) for s in by_account.get(account_id, ())
        ]
        if callback:
            targets.append((None, callback))
        if not targets:
            continue
        body = _body(
            MESSAGE_STATUS,
            {
                "id": str(mid),
                "to": to,
                "status": status,
                "error": error,
                "reference": reference,
                "connector": connector,
                "segments": segments,
            },
            now,
        )
        deliveries.extend(
            store.NewDelivery(account_id, hook, url, MESSAGE_STATUS, body) for hook, url in targets
        )
    return store.insert_deliveries(conn, deliveries, now)


def inbound_received(conn: Connection, events: Sequence[InboundEvent], now: datetime) -> int:
    """Queue a ``message.inbound`` delivery to every subscribed webhook of the account."""
    smpp.inbound_received(  # and to its SMPP receiver binds
        conn, [(e.account_id, e.sender, e.recipient, e.text) for e in events], now
    )
    by_account: dict[int, list[store.Subscriber]] = defaultdict(list)
    for s in store.subscribers(conn, [e.account_id for e in events], MESSAGE_INBOUND):
        by_account[s.account_id].append(s)
    deliveries = [
        store.NewDelivery(
            e.account_id,
            s.webhook_id,
            s.url,
            MESSAGE_INBOUND,
            _body(
                MESSAGE_INBOUND,
                {
                    "id": str(e.inbound_id),
                    "from": e.sender,
                    "to": e.recipient,
                    "text": e.text,
                    "connector": e.connector,
                    "received_at": e.received_at.isoformat(),
                    "parts": e.parts,
                    "complete": e.complete,
                },
                now,
            ),
        )
        for e in events
        for s in by_account.get(e.account_id, ())
    ]
    return store.insert_deliveries(conn, deliveries, now)
