"""The PDUs only an SMSC for customers needs: query_sm, cancel_sm, submit_multi (§4.8,
§4.9, §4.5) and their responses. smpp34 has no classes for them; like the bind in
``connectors/smpp/pdu.py`` they are a few ``struct`` reads each.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from centauro.connectors.smpp.pdu import (
    CANCEL_SM,
    HEADER_SIZE,
    QUERY_SM,
    SUBMIT_MULTI,
    BadPdu,
    Status,
    header,
)

RESPONSE_BIT = 0x80000000


@dataclass(frozen=True, slots=True)
class Destination:
    ton: int
    npi: int
    address: str


@dataclass(frozen=True, slots=True)
class SubmitMulti:
    source: str
    destinations: list[Destination]
    esm_class: int
    registered: int
    data_coding: int
    schedule: str
    validity: str
    short_message: bytes
    tlvs: dict[int, bytes]


class _Reader:
    """Reads fields off a PDU body; any overrun is a BadPdu with ``status``."""

    def __init__(self, body: bytes, status: Status = Status.ESME_RINVCMDLEN) -> None:
        self.body = body
        self.pos = 0
        self.status = status

    def cstring(self, limit: int, name: str) -> str:
        end = self.body.find(b"\0", self.pos, self.pos + limit)
        if end < 0:
            raise BadPdu(self.status, f"{name} is not a C-string of at most {limit} octets")
        value = self.body[self.pos : end].decode("latin-1")
        self.pos = end + 1
        return value

    def octet(self, name: str) -> int:
        if self.pos >= len(self.body):
            raise BadPdu(self.status, f"the body ends before {name}")
        value = self.body[self.pos]
        self.pos += 1
        return value

    def octets(self, count: int, name: str) -> bytes:
        if self.pos + count > len(self.body):
            raise BadPdu(self.status, f"the body ends inside {name}")
        value = self.body[self.pos : self.pos + count]
        self.pos += count
        return value

    def tlvs(self) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        while self.pos < len(self.body):
            if self.pos + 4 > len(self.body):
                raise BadPdu(Status.ESME_RINVPARLEN, "a TLV header is cut short")
            tag, length = struct.unpack_from(">HH", self.body, self.pos)
            self.pos += 4
            found[tag] = self.octets(length, f"TLV 0x{tag:04x}")
        return found


def parse_query_sm(frame: bytes) -> str:
    """query_sm's message_id (the source address is not needed to find our message)."""
    r = _Reader(frame[HEADER_SIZE:])
    message_id = r.cstring(65, "message_id")
    r.octet("source_addr_ton")
    r.octet("source_addr_npi")
    r.cstring(21, "source_addr")
    return message_id


def parse_cancel_sm(frame: bytes) -> str:
    """cancel_sm's message_id; cancelling by addresses alone (empty id) is not offered."""
    r = _Reader(frame[HEADER_SIZE:])
    r.cstring(6, "service_type")
    message_id = r.cstring(65, "message_id")
    for name in ("source", "dest"):
        r.octet(f"{name}_addr_ton")
        r.octet(f"{name}_addr_npi")
        r.cstring(21, f"{name}_addr")
    return message_id


MAX_DESTINATIONS = 255


def parse_submit_multi(frame: bytes) -> SubmitMulti:
    r = _Reader(frame[HEADER_SIZE:])
    r.cstring(6, "service_type")
    r.octet("source_addr_ton")
    r.octet("source_addr_npi")
    source = r.cstring(21, "source_addr")
    count = r.octet("number_of_dests")
    if count == 0:
        raise BadPdu(Status.ESME_RINVNUMDESTS, "no destinations")
    destinations = []
    for _ in range(count):
        flag = r.octet("dest_flag")
        if flag == 1:
            ton, npi = r.octet("dest_addr_ton"), r.octet("dest_addr_npi")
            destinations.append(Destination(ton, npi, r.cstring(21, "destination_addr")))
        elif flag == 2:
            r.cstring(21, "dl_name")
            raise BadPdu(Status.ESME_RINVDSTADR, "distribution lists are not offered")
        else:
            raise BadPdu(Status.ESME_RINVDSTADR, f"dest_flag {flag}")
    esm_class = r.octet("esm_class")
    r.octet("protocol_id")
    r.octet("priority_flag")
    schedule = r.cstring(17, "schedule_delivery_time")
    validity = r.cstring(17, "validity_period")
    registered = r.octet("registered_delivery")
    r.octet("replace_if_present_flag")
    data_coding = r.octet("data_coding")
    r.octet("sm_default_msg_id")
    length = r.octet("sm_length")
    short_message = r.octets(length, "short_message")
    return SubmitMulti(
        source,
        destinations,
        esm_class,
        registered,
        data_coding,
        schedule,
        validity,
        short_message,
        r.tlvs(),
    )


def _c(value: str) -> bytes:
    return value.encode("latin-1") + b"\0"


def query_sm_resp(sequence: int, message_id: str, final_date: str, state: int, error: int) -> bytes:
    body = _c(message_id) + _c(final_date) + bytes((state, error & 0xFF))
    return header(QUERY_SM | RESPONSE_BIT, 0, sequence, body)


def submit_multi_resp(
    sequence: int, message_id: str, unsuccessful: Sequence[tuple[Destination, int]]
) -> bytes:
    body = _c(message_id) + bytes((len(unsuccessful),))
    for d, status in unsuccessful:
        body += bytes((d.ton, d.npi)) + _c(d.address) + struct.pack(">I", status)
    return header(SUBMIT_MULTI | RESPONSE_BIT, 0, sequence, body)


def error_resp(command_id: int, sequence: int, status: int) -> bytes:
    return header(command_id | RESPONSE_BIT, status, sequence)


__all__ = ["CANCEL_SM", "QUERY_SM", "SUBMIT_MULTI"]
