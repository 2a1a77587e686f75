"""Inbound messages (MO): whose they are, opt-out keywords, and their events.

An answer belongs to the account that last texted its sender. A message whose whole
text is an opt-out keyword (STOP, BAJA, SALIR, CANCELAR, NO MAS — any case, accents,
surrounding spaces or a final period) puts the sender on that account's suppression
list (and withdraws that account's messages still scheduled for it); ALTA or START
takes it off. Everything is stored, keyword or not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from centauro.domain import numbers
from centauro.domain.errors import InvalidNumber
from centauro.service import events
from centauro.service.suppressions import withdraw_scheduled
from centauro.store import inbound as store
from centauro.store import suppressions

OPT_OUT = frozenset({"stop", "baja", "salir", "cancelar", "no mas"})
OPT_IN = frozenset({"alta", "start"})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Inbound:
    connector: str
    sender: str
    recipient: str
    text: str
    received_at: datetime


def keyword(text: str) -> str:
    """The text reduced for keyword matching: no accents, lower case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", plain.casefold()).strip(" .!¡")


def receive(conn: Connection, messages: Sequence[Inbound], now: datetime) -> int:
    """Store inbound messages, apply opt-out keywords, queue their events. How many."""
    queued: list[events.InboundEvent] = []
    for m in messages:
        try:
            number = numbers.normalize(m.sender).e164
        except InvalidNumber:
            number = None  # a short code or alphanumeric sender: nobody's answer
        account_id = store.last_sender_account(conn, number) if number else None
        inbound_id = store.insert(
            conn,
            connector=m.connector,
            sender=number or m.sender,
            recipient=m.recipient,
            text=m.text,
            received_at=m.received_at,
            account_id=account_id,
        )
        if account_id is None or number is None:
            continue
        word = keyword(m.text)
        if word in OPT_OUT:
            if suppressions.add(conn, account_id, number, "inbound", now):
                withdraw_scheduled(conn, account_id, number, now)
        elif word in OPT_IN:
            suppressions.remove(conn, account_id, number)
        queued.append(
            events.InboundEvent(
                inbound_id, account_id, number, m.recipient, m.text, m.connector, m.received_at
            )
        )
    events.inbound_received(conn, queued, now)
    return len(messages)


def listing(
    conn: Connection,
    *,
    sender: str | None = None,
    account_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[store.InboundRow]:
    """Inbound messages, newest first (the doors' one way to read them)."""
    return store.listing(
        conn, sender=sender, account_id=account_id, before_id=before_id, limit=limit
    )
