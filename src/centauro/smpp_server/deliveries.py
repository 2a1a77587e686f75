"""Receipts and MO to customers' receiver binds, from the durable queue in the store.

The queue (``smpp_deliveries``) is filled in the transactions that changed a message's
state or stored an MO. The pump reads what is due for each account with a receiver bind
that has room in its window, sends it as deliver_sm, and deletes a row only when the
deliver_sm_resp says ROK; a refusal postpones it (backing off), a closed bind releases
what it had in flight, so it goes out again on the next bind. Rows older than their
validity window are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

import smpp34
from sqlalchemy import Connection

from centauro.connectors.smpp import smsc
from centauro.connectors.smpp.codec import MAX_SHORT_MESSAGE, choose_coding, encode_gsm7
from centauro.connectors.smpp.pdu import (
    TLV_MESSAGE_PAYLOAD,
    TLV_MESSAGE_STATE,
    TLV_RECEIPTED_MESSAGE_ID,
)
from centauro.connectors.smpp.smsc import Session
from centauro.service import smpp
from centauro.store.smpp import Delivery

if TYPE_CHECKING:
    from centauro.smpp_server.server import SmppServer

log = logging.getLogger("centauro.smpp_server")

POLL = 0.2  #: seconds between two looks at the queue when nothing woke the pump
EXPIRE_EVERY = 60.0
WAITING_EVERY = 2.0
RECEIPT_ESM_CLASS = 0x04  #: esm_class of an SMSC delivery receipt (§5.2.12)
#: Our final states as a receipt's stat, err and message_state (§5.2.28, Appendix B).
RECEIPT_STATES = {
    "delivered": ("DELIVRD", "000", 2),
    "expired": ("EXPIRED", "001", 3),
    "cancelled": ("DELETED", "001", 4),
    "undelivered": ("UNDELIV", "001", 5),
    "failed": ("UNDELIV", "002", 5),
    "rejected": ("REJECTD", "001", 8),
}


def _date(iso: str | None) -> str:
    when = datetime.fromisoformat(iso) if iso else datetime.now(UTC)
    return when.astimezone(UTC).strftime("%y%m%d%H%M")


def receipt_text(body: dict[str, str]) -> str:
    stat, err, _ = RECEIPT_STATES.get(body["status"], ("UNKNOWN", "001", 7))
    preview = body.get("text", "")[:20].encode("ascii", "replace").decode()
    return (
        f"id:{body['id']} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
        f"submit date:{_date(body.get('submitted'))} done date:{_date(body.get('done'))} "
        f"stat:{stat} err:{err} text:{preview}"
    )


def encode(delivery: Delivery, sequence: int) -> bytes:
    """The deliver_sm for one queued receipt or MO."""
    body = json.loads(delivery.body)
    if delivery.kind == smpp.RECEIPT:
        _, _, state = RECEIPT_STATES.get(body["status"], ("UNKNOWN", "001", 7))
        return smpp34.DeliverSm(
            body["source"],
            body["destination"],
            receipt_text(body).encode("ascii"),
            source_addr_ton=1,
            source_addr_npi=1,
            esm_class=RECEIPT_ESM_CLASS,
            tlvs=[
                smpp34.Tlv(TLV_RECEIPTED_MESSAGE_ID, body["id"].encode() + b"\0"),
                smpp34.Tlv(TLV_MESSAGE_STATE, bytes([state])),
            ],
            sequence_number=sequence,
        ).encode()
    data_coding, codec = choose_coding(body["text"], "gsm7")
    data = encode_gsm7(body["text"]) if codec == "gsm03.38" else body["text"].encode(codec)
    short, tlvs = (
        (data, [])
        if len(data) <= MAX_SHORT_MESSAGE
        else (b"", [smpp34.Tlv(TLV_MESSAGE_PAYLOAD, data)])
    )
    return smpp34.DeliverSm(
        body["source"],
        body["destination"],
        short,
        source_addr_ton=1,
        source_addr_npi=1,
        data_coding=data_coding,
        tlvs=tlvs,
        sequence_number=sequence,
    ).encode()


class Outgoing:
    """A queued row on its way to one session (the session's in-flight item)."""

    __slots__ = ("attempts", "delivery")

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.attempts = 0

    def encode(self, sequence: int) -> bytes:
        return encode(self.delivery, sequence)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2**attempts, 300))


class Pump:
    def __init__(self, server: SmppServer) -> None:
        self.server = server
        self.gateway = server.gateway
        self.in_flight: dict[int, Outgoing] = {}  #: by row id, until its answer is stored
        self.waiting: dict[int, int] = {}  #: rows per account, as last counted
        self._acked: list[int] = []
        self._retries: list[tuple[int, datetime]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_expire = 0.0
        self._next_count = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="smpp-server deliveries")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._settle(expire=False)  # keep what was acknowledged up to now

    def wake(self) -> None:
        self._wake.set()

    def answered(self, item: smsc.Outbound, status: int) -> None:
        sent = cast(Outgoing, item)
        if status == 0:
            self._acked.append(sent.delivery.id)
        else:
            due = datetime.now(UTC) + backoff(sent.delivery.attempts)
            self._retries.append((sent.delivery.id, due))
        self._wake.set()

    def closed(self, session: Session) -> None:
        """A bind went away: what it had not answered is free to go out again."""
        for item in session.in_flight.values():
            self.in_flight.pop(cast(Outgoing, item).delivery.id, None)
        session.in_flight.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL)
            self._wake.clear()
            try:
                now = loop.time()
                await self._settle(expire=now >= self._next_expire)
                if now >= self._next_expire:
                    self._next_expire = now + EXPIRE_EVERY
                await self._send()
                if now >= self._next_count:
                    self._next_count = now + WAITING_EVERY
                    self.waiting = await self.gateway.read(smpp.waiting)
            except Exception:  # the pump must outlive a store hiccup
                log.exception("smpp deliveries round failed", extra={"action": "smpp_pump_error"})
                await asyncio.sleep(1.0)

    async def _settle(self, *, expire: bool) -> None:
        acked, retries = self._acked, self._retries
        if not (acked or retries or expire):
            return
        self._acked, self._retries = [], []
        now = datetime.now(UTC)
        try:
            await self.gateway.write(
                lambda conn: smpp.settle(
                    conn, acknowledged=acked, retries=retries, now=now, expire=expire
                )
            )
        except BaseException:
            self._acked[:0], self._retries[:0] = acked, retries
            raise
        for row_id in acked:
            self.in_flight.pop(row_id, None)
        for row_id, _ in retries:
            self.in_flight.pop(row_id, None)

    async def _send(self) -> None:
        now = datetime.now(UTC)
        for account_id, clients in list(self.server.binds.items()):
            sessions = [c.session for c in clients if c.session.room() > 0]
            room = sum(s.room() for s in sessions)
            if room <= 0:
                continue
            skip = list(self.in_flight)
            rows = await self.gateway.read(functools.partial(_due, account_id, now, skip, room))
            rows = [r for r in rows if r.id not in self.in_flight]
            for session in sessions:
                take, rows = rows[: session.room()], rows[session.room() :]
                if not take:
                    break
                items = [Outgoing(r) for r in take]
                for item in items:
                    self.in_flight[item.delivery.id] = item
                session.deliver(items)


def _due(
    account_id: int, now: datetime, skip: list[int], limit: int, conn: Connection
) -> list[Delivery]:
    return smpp.due(conn, account_id, now, skip=skip, limit=limit)
