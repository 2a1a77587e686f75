"""Inbound messages (MO): whose they are, opt-out keywords, and their events.

An answer belongs to the account that last texted its sender. A message whose whole
text is an opt-out keyword (STOP, BAJA, SALIR, CANCELAR, NO MAS — any case, accents,
surrounding spaces or a final period) puts the sender on that account's suppression
list (and withdraws that account's messages still scheduled for it); ALTA or START
takes it off. Everything is stored, keyword or not.

A concatenated message (UDH or SAR) comes in parts. Each part is kept as it arrives (in
the transaction the carrier's ack waits for); when the last one is in, the parts are
joined — as bytes, then decoded — into one message that goes through the keywords, the
store and the webhook event like any other, so "BA" + "JA" is an opt-out. A message whose
parts do not all come within the reassembly wait is stored as what arrived, marked
incomplete, and not read for keywords (its whole text is unknown).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from centauro.domain import coding, numbers
from centauro.domain.errors import InvalidNumber
from centauro.service import events
from centauro.service.suppressions import withdraw_scheduled
from centauro.store import inbound as store
from centauro.store import suppressions

OPT_OUT = frozenset({"stop", "baja", "salir", "cancelar", "no mas"})
OPT_IN = frozenset({"alta", "start"})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Part:
    """Where one part of a concatenated message belongs, and its undecoded body."""

    reference: int
    total: int
    seq: int
    data_coding: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Inbound:
    connector: str
    sender: str
    recipient: str
    text: str
    received_at: datetime
    part: Part | None = None


def keyword(text: str) -> str:
    """The text reduced for keyword matching: no accents, lower case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", plain.casefold()).strip(" .!¡")


def receive(
    conn: Connection,
    messages: Sequence[Inbound],
    now: datetime,
    *,
    resend_window: timedelta = timedelta(minutes=5),
) -> int:
    """Store inbound messages, apply opt-out keywords, queue their events; keep parts and
    join those now complete. How many messages were stored.

    A part already kept, or joined within ``resend_window`` with the same body, is a copy
    the carrier resent (our ack was lost): it is dropped.
    """
    queued: list[events.InboundEvent] = []
    completed: dict[store.PartKey, None] = {}
    stored = 0
    for m in messages:
        if m.part is None:
            _store(conn, m, m.text, now, queued)
            stored += 1
            continue
        key = store.PartKey(m.connector, m.sender, m.recipient, m.part.reference, m.part.total)
        kept = store.add_part(
            conn,
            key,
            seq=m.part.seq,
            data_coding=m.part.data_coding,
            body=m.part.body,
            received_at=m.received_at,
            since=now - resend_window,
        )
        if kept:
            completed[key] = None
    for key in completed:
        stored += _join(conn, key, now, queued, give_up=False)
    events.inbound_received(conn, queued, now)
    return stored


def reassemble(conn: Connection, now: datetime, *, wait: timedelta) -> int:
    """Join the parts of messages now complete (another worker may have kept the last part)
    and give up on those whose first part came more than ``wait`` ago. How many stored."""
    queued: list[events.InboundEvent] = []
    stored = sum(
        _join(conn, key, now, queued, give_up=True)
        for key in store.due_groups(conn, started_before=now - wait)
    )
    events.inbound_received(conn, queued, now)
    return stored


def _join(
    conn: Connection,
    key: store.PartKey,
    now: datetime,
    queued: list[events.InboundEvent],
    *,
    give_up: bool,
) -> int:
    """One message from its awaited parts if they are all in (or ``give_up``); 1 if stored."""
    first: dict[int, store.PartRow] = {}
    for p in store.open_parts(conn, key):
        first.setdefault(p.seq, p)
    complete = len(first) == key.total
    if not first or not (complete or give_up):
        return 0
    parts = list(first.values())
    text = coding.join_parts([(p.seq, p.data_coding, p.body) for p in parts])
    received_at = min(p.received_at for p in parts)
    message = Inbound(key.connector, key.sender, key.recipient, text, received_at)
    mine: list[events.InboundEvent] = []
    savepoint = conn.begin_nested()
    try:
        inbound_id = _store(conn, message, text, now, mine, parts=len(parts), complete=complete)
        if store.join_parts(conn, [p.id for p in parts], inbound_id) != len(parts):
            savepoint.rollback()  # another worker joined them first
            return 0
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    queued.extend(mine)
    return 1


def _store(
    conn: Connection,
    m: Inbound,
    text: str,
    now: datetime,
    queued: list[events.InboundEvent],
    *,
    parts: int = 1,
    complete: bool = True,
) -> int:
    """Store one whole message; keywords (when complete) and its event. Its id."""
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
        text=text,
        received_at=m.received_at,
        account_id=account_id,
        parts=parts,
        complete=complete,
    )
    if account_id is None or number is None:
        return inbound_id
    word = keyword(text) if complete else ""
    if word in OPT_OUT:
        if suppressions.add(conn, account_id, number, "inbound", now):
            withdraw_scheduled(conn, account_id, number, now)
    elif word in OPT_IN:
        suppressions.remove(conn, account_id, number)
    queued.append(
        events.InboundEvent(
            inbound_id,
            account_id,
            number,
            m.recipient,
            text,
            m.connector,
            m.received_at,
            parts,
            complete,
        )
    )
    return inbound_id


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
