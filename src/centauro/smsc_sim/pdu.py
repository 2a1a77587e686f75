"""SMPP 3.4 wire pieces the simulator writes itself: framing, bind, and the small PDUs.

Why not all through smpp34: its Python codec has classes only for submit_sm and
deliver_sm (everything else decodes to a ``RawPdu`` header plus raw body), and its Python
``Server`` accepts every bind with no way to check a password. An SMSC that refuses bad
credentials therefore needs its own session, and that session needs the bind body and
the fixed-shape responses. Those are a few ``struct`` calls each; submit_sm and
deliver_sm, with their many fields and TLVs, stay with smpp34's ``decode`` and
``DeliverSm(...).encode()``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
HEADER_SIZE = 16
#: A submit_sm with a 64 KiB message_payload TLV fits; anything larger is not SMPP.
MAX_PDU_LENGTH = 70_000
RESPONSE_BIT = 0x80000000

GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
BINDS = (BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER)

TLV_SC_INTERFACE_VERSION = 0x0210
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_SAR_MSG_REF_NUM = 0x020C


class Status(IntEnum):
    """command_status values (SMPP 3.4 §5.1.3), plus the one 3.4 lacks for data_coding."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RSYSERR = 0x08
    ESME_RINVDSTADR = 0x0B
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RMSGQFUL = 0x14
    ESME_RTHROTTLED = 0x58
    ESME_RINVPARLEN = 0xC2
    #: SMPP 3.4 has no code for an unsupported data_coding; 0x104 is ESME_RINVDCS from
    #: SMPP 5.0 (§4.7.6), which is what 3.4 carriers answer in practice.
    ESME_RINVDCS = 0x104


class BadPdu(Exception):
    """A PDU body that cannot be read; ``status`` is the answer the peer gets."""

    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class Bind:
    """The body of bind_transmitter / bind_receiver / bind_transceiver (§4.1.1)."""

    system_id: str
    password: str
    system_type: str
    interface_version: int
    addr_ton: int
    addr_npi: int
    address_range: str


class Framer:
    """Cuts a TCP byte stream into whole PDUs, however the reads split or join them.

    A command_length below 16 or above :data:`MAX_PDU_LENGTH` cannot be skipped (the
    stream has no other markers), so :meth:`feed` reports it and the session must close.

    One exception, counted in ``stray_nuls``: a NUL byte right after a body-less error
    response is skipped when the PDU behind it is well formed. smpp34 1.5.0 writes its
    refusals of deliver_sm (``deliver_sm.reject``, sent when the client's inbound queue is
    full) as 17 bytes with command_length 16; taking that literally would end the session
    each time a gateway falls behind on receipts, which is the moment a benchmark exists
    to measure.
    """

    def __init__(self, max_length: int = MAX_PDU_LENGTH) -> None:
        self._buffer = bytearray()
        self._max_length = max_length
        self._after_bare_error = False
        self.stray_nuls = 0

    def feed(self, data: bytes) -> tuple[list[bytes], int | None]:
        """Whole PDUs now available, and the sequence_number of a bad header (or None)."""
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        start = 0
        available = len(buffer)
        while available - start >= 4:
            (length,) = struct.unpack_from(">I", buffer, start)
            if length < HEADER_SIZE and self._after_bare_error and buffer[start] == 0:
                if available - start < 5:
                    break
                if self._valid(struct.unpack_from(">I", buffer, start + 1)[0]):
                    start += 1
                    self.stray_nuls += 1
                    self._after_bare_error = False
                    continue
            if not self._valid(length):
                sequence = 0
                if available - start >= HEADER_SIZE:
                    sequence = struct.unpack_from(">I", buffer, start + 12)[0]
                del buffer[:]
                return frames, sequence
            if available - start < length:
                break
            frames.append(bytes(buffer[start : start + length]))
            self._after_bare_error = (
                length == HEADER_SIZE
                and buffer[start + 4] & 0x80 != 0
                and buffer[start + 8 : start + 12] != b"\0\0\0\0"
            )
            start += length
        del buffer[:start]
        return frames, None

    def _valid(self, length: int) -> bool:
        return HEADER_SIZE <= length <= self._max_length


def _cstring(body: bytes, pos: int, limit: int, status: Status, name: str) -> tuple[str, int]:
    """A C-Octet String of at most ``limit`` octets including its NUL (§3.1)."""
    end = body.find(b"\0", pos, pos + limit)
    if end < 0:
        raise BadPdu(status, f"{name} is not a C-string of at most {limit} octets")
    return body[pos:end].decode("latin-1"), end + 1


def parse_bind(body: bytes) -> Bind:
    """Read a bind body; a field that overruns its limit is answered with that field's status."""
    system_id, pos = _cstring(body, 0, 16, Status.ESME_RINVSYSID, "system_id")
    password, pos = _cstring(body, pos, 9, Status.ESME_RINVPASWD, "password")
    system_type, pos = _cstring(body, pos, 13, Status.ESME_RINVCMDLEN, "system_type")
    if len(body) < pos + 3:
        raise BadPdu(Status.ESME_RINVCMDLEN, "bind body ends before addr_npi")
    version, ton, npi = body[pos], body[pos + 1], body[pos + 2]
    address_range, pos = _cstring(body, pos + 3, 41, Status.ESME_RINVCMDLEN, "address_range")
    return Bind(system_id, password, system_type, version, ton, npi, address_range)


def header(command_id: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    return HEADER.pack(HEADER_SIZE + len(body), command_id, status, sequence) + body


def bind_resp(bind_command: int, status: int, sequence: int, system_id: str) -> bytes:
    """bind_*_resp; on error the body is left out, as §4.1.2 says."""
    body = b""
    if status == Status.ESME_ROK:
        version_tlv = struct.pack(">HHB", TLV_SC_INTERFACE_VERSION, 1, 0x34)
        body = system_id.encode("latin-1") + b"\0" + version_tlv
    return header(bind_command | RESPONSE_BIT, status, sequence, body)


def submit_sm_resp(sequence: int, message_id: str) -> bytes:
    body = message_id.encode("ascii") + b"\0"
    return HEADER.pack(HEADER_SIZE + len(body), SUBMIT_SM_RESP, 0, sequence) + body


def submit_sm_error(sequence: int, status: int) -> bytes:
    """A refused submit_sm: no body (§4.4.2: "not returned if command_status is non-zero")."""
    return HEADER.pack(HEADER_SIZE, SUBMIT_SM_RESP, status, sequence)


def generic_nack(sequence: int, status: int) -> bytes:
    return HEADER.pack(HEADER_SIZE, GENERIC_NACK, status, sequence)


def response(command_id: int, sequence: int, status: int = Status.ESME_ROK) -> bytes:
    """The body-less response to ``command_id`` (enquire_link, unbind, refusals)."""
    return HEADER.pack(HEADER_SIZE, command_id | RESPONSE_BIT, status, sequence)


def unbind(sequence: int) -> bytes:
    return HEADER.pack(HEADER_SIZE, UNBIND, 0, sequence)
