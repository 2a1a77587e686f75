"""What a customer's submit_sm asks for, read into plain values; parts put back together.

Pure functions and one small buffer, no I/O: the session hands in PDU bytes, gets a
:class:`Piece` (or a :class:`Refused` with the command_status to answer), and parts of a
concatenated message go into :class:`Reassembly` until the last one arrives. Text is
decoded only once the message is whole, so a UCS-2 character or a GSM-7 escape split
across two parts still reads right.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import smpp34

from centauro.connectors.smpp.codec import (
    ESM_UDHI,
    TLV_MESSAGE_PAYLOAD,
    TLV_SAR_MSG_REF_NUM,
    TLV_SAR_SEGMENT_SEQNUM,
    TLV_SAR_TOTAL_SEGMENTS,
    decode_bytes,
    split_udh,
)
from centauro.connectors.smpp.pdu import Status
from centauro.domain import binary

#: data_coding values we carry: GSM-7, IA5, Latin-1, UCS-2 as text; 8-bit binary (4) as
#: bytes (domain/binary.py). Others are refused with ESME_RINVDCS.
DATA_CODINGS = frozenset({0x00, 0x01, 0x03, 0x04, 0x08})
DC_BINARY = 0x04
#: A concatenated message whose parts do not all arrive within this many seconds is
#: refused (its parts' submit_sm get ESME_RSUBMITFAIL).
REASSEMBLY_SECONDS = 60.0
MAX_PARTIALS = 10_000
_SMPP_TIME = re.compile(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d)(\d{2})([+\-R])")


class Refused(Exception):
    """A submit we answer with ``status`` and nothing else."""

    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class Part:
    """Where a part belongs: message ``reference``, part ``seq`` of ``total``."""

    reference: int
    total: int
    seq: int


@dataclass(frozen=True, slots=True)
class Piece:
    """One submit_sm: a whole message, or a part of one (``part`` is set)."""

    source: str
    destination: str
    body: bytes
    data_coding: int
    registered: int
    schedule: str
    validity: str
    part: Part | None = None
    #: Binary only: the UDH's elements other than concatenation (ports…), kept to resend.
    elements: bytes = b""


def _digits(address: str) -> bool:
    plain = address.removeprefix("+")
    return plain.isascii() and plain.isdigit()


def read_submit(frame: bytes) -> Piece:
    """A submit_sm frame as a :class:`Piece`; :class:`Refused` for what we cannot take."""
    try:
        submit = smpp34.decode(frame)
    except smpp34.SmppError as exc:
        raise Refused(Status.ESME_RINVCMDLEN, f"undecodable submit_sm: {exc}") from None
    if not isinstance(submit, smpp34.SubmitSm):
        raise Refused(Status.ESME_RINVCMDID, "not a submit_sm")
    destination = submit.destination_addr
    if not _digits(destination):
        raise Refused(Status.ESME_RINVDSTADR, "destination_addr is not a phone number")
    if submit.dest_addr_ton == 1 and not destination.startswith("+"):
        destination = "+" + destination  # international number written without its +
    return piece(
        source=submit.source_addr,
        destination=destination,
        short_message=submit.short_message,
        esm_class=submit.esm_class,
        data_coding=submit.data_coding,
        registered=submit.registered_delivery,
        schedule=submit.schedule_delivery_time,
        validity=submit.validity_period,
        tlvs={t.tag: t.value for t in submit.tlvs or ()},
    )


def piece(
    *,
    source: str,
    destination: str,
    short_message: bytes,
    esm_class: int,
    data_coding: int,
    registered: int,
    schedule: str,
    validity: str,
    tlvs: dict[int, bytes],
) -> Piece:
    """The checks shared by submit_sm and submit_multi, on fields already read."""
    if data_coding not in DATA_CODINGS:
        raise Refused(Status.ESME_RINVDCS, f"data_coding {data_coding} is not supported")
    payload = tlvs.get(TLV_MESSAGE_PAYLOAD)
    if payload is not None and short_message:
        raise Refused(Status.ESME_RINVPARLEN, "both short_message and message_payload")
    body = payload if payload is not None else short_message
    part: Part | None = None
    elements = b""
    if esm_class & ESM_UDHI:
        elements, body, part = _read_udh(body, data_coding)
    elif TLV_SAR_MSG_REF_NUM in tlvs:
        try:
            part = Part(
                int.from_bytes(tlvs[TLV_SAR_MSG_REF_NUM], "big"),
                tlvs[TLV_SAR_TOTAL_SEGMENTS][0],
                tlvs[TLV_SAR_SEGMENT_SEQNUM][0],
            )
        except (KeyError, IndexError):
            raise Refused(Status.ESME_RINVPARLEN, "incomplete sar_* parameters") from None
    if part is not None:
        if not 1 <= part.seq <= part.total:
            raise Refused(Status.ESME_RINVMSGLEN, "part number outside its message")
        if part.total == 1:
            part = None
    return Piece(
        source, destination, body, data_coding, registered, schedule, validity, part, elements
    )


def _read_udh(data: bytes, data_coding: int) -> tuple[bytes, bytes, Part | None]:
    """(kept elements, body, part) of user data with a UDH; a text keeps no elements."""
    if not data or data[0] + 1 > len(data):
        raise Refused(Status.ESME_RINVMSGLEN, "the UDH says it is longer than the message")
    if data_coding == DC_BINARY:
        try:
            elements, body, concat = binary.parse_udh(data)
        except binary.BadHeader as exc:
            raise Refused(Status.ESME_RINVMSGLEN, str(exc)) from None
        part = Part(concat.reference, concat.total, concat.seq) if concat else None
        return elements, body, part
    body, text_concat = split_udh(data)
    if text_concat is None:
        return b"", body, None
    return b"", body, Part(text_concat.reference, text_concat.total, text_concat.seq)


def text_of(body: bytes, data_coding: int) -> str:
    """The text of a whole message; undecodable bytes are a refusal, not a guess."""
    if data_coding == 0x08 and len(body) % 2:
        raise Refused(Status.ESME_RINVMSGLEN, "UCS-2 text of an odd number of octets")
    text = decode_bytes(body, data_coding)
    if not text:
        raise Refused(Status.ESME_RINVMSGLEN, "empty message")
    return text


def smpp_time(value: str, now: datetime) -> datetime | None:
    """An SMPP time (§7.1.1): absolute ``YYMMDDhhmmsstnn±`` or relative ``…R``; "" is None."""
    if not value:
        return None
    found = _SMPP_TIME.fullmatch(value)
    if found is None:
        raise ValueError(f"not an SMPP time: {value!r}")
    yy, mo, dd, hh, mi, ss, tenths, quarters, sign = found.groups()
    if sign == "R":
        return now + timedelta(
            days=int(yy) * 365 + int(mo) * 30 + int(dd),
            hours=int(hh),
            minutes=int(mi),
            seconds=int(ss),
        )
    local = datetime(
        2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss), int(tenths) * 100_000
    )
    offset = timedelta(minutes=15 * int(quarters))
    return (local - offset if sign == "+" else local + offset).replace(tzinfo=UTC)


@dataclass
class Partial:
    """The parts of one concatenated message received so far, and who waits for them."""

    first: Piece
    parts: dict[int, bytes] = field(default_factory=dict)
    waiting: list[int] = field(default_factory=list)  #: sequence numbers to answer
    started: float = field(default_factory=time.monotonic)


class Reassembly:
    """Parts of concatenated messages, per (source, destination, reference, total)."""

    def __init__(self, limit: int = MAX_PARTIALS) -> None:
        self._partials: dict[tuple[str, str, int, int], Partial] = {}
        self._limit = limit

    def __len__(self) -> int:
        return len(self._partials)

    def add(self, piece: Piece, sequence: int) -> tuple[Piece, list[int]] | None:
        """The whole message and every sequence number it took, once the last part is in."""
        part = piece.part
        assert part is not None
        key = (piece.source, piece.destination, part.reference, part.total)
        partial = self._partials.get(key)
        if partial is None:
            if len(self._partials) >= self._limit:
                raise Refused(Status.ESME_RMSGQFUL, "too many unfinished concatenated messages")
            partial = self._partials[key] = Partial(piece)
        partial.parts[part.seq] = piece.body
        partial.waiting.append(sequence)
        if len(partial.parts) < part.total:
            return None
        del self._partials[key]
        body = b"".join(partial.parts[i] for i in range(1, part.total + 1))
        first = partial.first
        whole = Piece(
            first.source,
            first.destination,
            body,
            first.data_coding,
            max(first.registered, piece.registered),
            first.schedule,
            first.validity,
            elements=first.elements,
        )
        return whole, partial.waiting

    def expired(self, now: float, after: float = REASSEMBLY_SECONDS) -> Iterable[list[int]]:
        """Take out the messages whose parts stopped coming; their sequence numbers."""
        stale = [k for k, p in self._partials.items() if now - p.started > after]
        for key in stale:
            yield self._partials.pop(key).waiting
