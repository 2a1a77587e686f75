"""Delivery receipts, and the queue every deliver_sm (receipt or MO) waits in.

A receipt is the de-facto format of SMPP 3.4 Appendix B in ``short_message``
(``id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD
err:000 text:…``), esm_class 0x04, plus the TLVs receipted_message_id (0x001E) and
message_state (0x0427). The id in a receipt may be written differently from the one in
submit_sm_resp (``--dlr-id-format``), as real carriers do: hex in the response, decimal
in the receipt, zero-padded or not.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import smpp34

from centauro.smsc_sim import pdu

ID_FORMATS = ("dec", "hex")
DLR_ID_FORMATS = ("same", "dec", "hex", "dec-padded")

#: message_state values (§5.2.28) the simulator uses.
DELIVERED, EXPIRED, UNDELIVERABLE, REJECTED = 2, 3, 5, 8

RECEIPT_ESM_CLASS = 0x04
TEXT_PREVIEW = 20


def format_id(number: int, fmt: str) -> str:
    """A message id as a carrier would write it: ``dec``, ``hex`` (lowercase), ``dec-padded``."""
    if fmt == "hex":
        return format(number, "x")
    if fmt == "dec-padded":
        return f"{number:010d}"
    return str(number)


def fails(message_id: str, seed: int, rate: float) -> bool:
    """Whether this message's receipt says UNDELIV: the same answer for the same id and seed."""
    if rate <= 0.0:
        return False
    if rate >= 1.0:
        return True
    digest = hashlib.blake2b(f"{seed}:{message_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * 2**64


def preview(body: bytes, data_coding: int, udhi: bool) -> str:
    """The first characters of a message, for the receipt's ``text:`` field (ASCII only)."""
    if udhi and body:
        body = body[1 + body[0] :]
    if data_coding == 8:
        text = body[: 2 * TEXT_PREVIEW].decode("utf-16-be", errors="replace")
    elif data_coding == 0:
        text = body[: 2 * TEXT_PREVIEW].decode("gsm03.38", errors="replace")
    else:
        text = body[:TEXT_PREVIEW].decode("latin-1")
    head = text[:TEXT_PREVIEW]
    return "".join(c if " " <= c <= "~" else "?" for c in head)


def smpp_date(wall: float) -> str:
    """YYMMDDhhmm in local time (receipt dates have minutes, no seconds)."""
    return _minute(int(wall // 60))


@functools.lru_cache(maxsize=4)
def _minute(minute: int) -> str:
    """Formatted once per minute: receipts come by the thousand."""
    return time.strftime("%y%m%d%H%M", time.localtime(minute * 60))


@dataclass(frozen=True, slots=True)
class ReceiptStyle:
    """How this simulator writes receipts (shared by all of them)."""

    id_format: str = "dec"
    dlr_id_format: str = "same"
    tlvs: bool = True

    def receipt_id(self, number: int) -> str:
        fmt = self.id_format if self.dlr_id_format == "same" else self.dlr_id_format
        return format_id(number, fmt)


class Outbound(Protocol):
    """Anything the simulator sends as deliver_sm and keeps until it is acknowledged."""

    system_id: str
    attempts: int

    def encode(self, sequence: int) -> bytes: ...


class Receipt:
    """What a receipt needs from its submit_sm; the rest is built when it is sent."""

    __slots__ = (
        "attempts",
        "body",
        "data_coding",
        "destination",
        "failed",
        "number",
        "source",
        "style",
        "submitted_at",
        "system_id",
        "ton_npi",
        "udhi",
    )

    def __init__(
        self,
        *,
        system_id: str,
        number: int,
        style: ReceiptStyle,
        submit: smpp34.SubmitSm,
        body: bytes,
        submitted_at: float,
        failed: bool,
    ) -> None:
        self.system_id = system_id
        self.number = number
        self.style = style
        # A receipt travels back: from the handset (the submit's destination) to the sender.
        self.source = submit.destination_addr
        self.destination = submit.source_addr
        self.ton_npi = (
            submit.dest_addr_ton,
            submit.dest_addr_npi,
            submit.source_addr_ton,
            submit.source_addr_npi,
        )
        self.udhi = bool(submit.esm_class & 0x40)
        header = 1 + body[0] if self.udhi and body else 0
        self.body = body[: header + 2 * TEXT_PREVIEW]  # enough for the preview, no more
        self.data_coding = submit.data_coding
        self.submitted_at = submitted_at
        self.failed = failed
        self.attempts = 0

    def text(self, now: float) -> str:
        stat, err, dlvrd = ("UNDELIV", "001", "000") if self.failed else ("DELIVRD", "000", "001")
        return (
            f"id:{self.style.receipt_id(self.number)} sub:001 dlvrd:{dlvrd} "
            f"submit date:{smpp_date(self.submitted_at)} done date:{smpp_date(now)} "
            f"stat:{stat} err:{err} text:{preview(self.body, self.data_coding, self.udhi)}"
        )

    def encode(self, sequence: int) -> bytes:
        tlvs = []
        if self.style.tlvs:
            receipt_id = self.style.receipt_id(self.number).encode() + b"\0"
            state = UNDELIVERABLE if self.failed else DELIVERED
            tlvs = [
                smpp34.Tlv(pdu.TLV_RECEIPTED_MESSAGE_ID, receipt_id),
                smpp34.Tlv(pdu.TLV_MESSAGE_STATE, bytes([state])),
            ]
        src_ton, src_npi, dst_ton, dst_npi = self.ton_npi
        return smpp34.DeliverSm(
            self.source,
            self.destination,
            self.text(time.time()).encode("ascii"),
            source_addr_ton=src_ton,
            source_addr_npi=src_npi,
            dest_addr_ton=dst_ton,
            dest_addr_npi=dst_npi,
            esm_class=RECEIPT_ESM_CLASS,
            tlvs=tlvs,
            sequence_number=sequence,
        ).encode()


class DeliveryQueue:
    """deliver_sm waiting to go out: not yet due, due but with no receiver, or to retry.

    Like a real SMSC it keeps what it cannot deliver until a receiver binds, up to ``cap``
    items in all; beyond that the oldest are dropped and counted. Every delay is constant
    (the receipt delay, the retry delay), so two FIFO deques stay in due order.
    """

    def __init__(self, cap: int, retry_delay: float = 1.0) -> None:
        self.cap = cap
        self.retry_delay = retry_delay
        self._scheduled: deque[tuple[float, Outbound]] = deque()
        self._retry: deque[tuple[float, Outbound]] = deque()
        self.ready: dict[str, deque[Outbound]] = {}
        self._ready_count = 0
        self.dropped: list[Outbound] = []

    def __len__(self) -> int:
        return len(self._scheduled) + len(self._retry) + self._ready_count

    def schedule(self, item: Outbound, due: float) -> None:
        self._scheduled.append((due, item))
        if len(self) > self.cap:
            self._drop_oldest()

    def retry(self, item: Outbound, now: float) -> None:
        self._retry.append((now + self.retry_delay, item))

    def requeue(self, items: Iterable[Outbound]) -> None:
        """Put back what was in flight on a lost connection, ahead of everything else."""
        for item in reversed(list(items)):
            self.ready.setdefault(item.system_id, deque()).appendleft(item)
            self._ready_count += 1

    def release(self, now: float) -> None:
        """Move whatever is due into the per-system ``ready`` queues."""
        for pending in (self._scheduled, self._retry):
            while pending and pending[0][0] <= now:
                item = pending.popleft()[1]
                self.ready.setdefault(item.system_id, deque()).append(item)
                self._ready_count += 1

    def take(self, system_id: str, count: int) -> list[Outbound]:
        ready = self.ready.get(system_id)
        if not ready:
            return []
        count = min(count, len(ready))
        self._ready_count -= count
        return [ready.popleft() for _ in range(count)]

    def drain_dropped(self) -> list[Outbound]:
        dropped, self.dropped = self.dropped, []
        return dropped

    def _drop_oldest(self) -> None:
        for ready in self.ready.values():
            if ready:
                self.dropped.append(ready.popleft())
                self._ready_count -= 1
                return
        source = self._retry if self._retry else self._scheduled
        self.dropped.append(source.popleft()[1])
