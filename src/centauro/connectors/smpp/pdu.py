"""SMPP 3.4 wire pieces we write ourselves: framing, binds, and the small fixed-shape PDUs.

Shared by both ends we run: the ESME session of the connector (``session.py``) and the
SMSC simulator (``centauro.smsc_sim``, which re-exports this module as its ``pdu``).

Why not all through smpp34: its Python codec has classes only for submit_sm and
deliver_sm (everything else decodes to a ``RawPdu`` header plus raw body), its session
(``smpp34.Client``) is what ``session.py`` replaces (its docstring says why), and its
Python ``Server`` accepts every bind with no way to check a password. The bind body and
the fixed-shape responses are a few ``struct`` calls each; submit_sm and deliver_sm,
with their many fields and TLVs, stay with smpp34's ``SubmitSm(...).encode()``,
``DeliverSm(...).encode()`` and ``decode``, which are fast and correct.

Everything here works on ``bytes`` and ints: at 20,000 PDUs/s a dataclass per response
would be a measurable share of the connector's CPU, so only the bind (once a session)
gets one.
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
INTERFACE_VERSION = 0x34
MAX_SEQUENCE = 0x7FFFFFFF  #: §5.1.4: sequence numbers run 1..0x7FFFFFFF

GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_RECEIVER_RESP = 0x80000001
BIND_TRANSMITTER = 0x00000002
BIND_TRANSMITTER_RESP = 0x80000002
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
BIND_TRANSCEIVER = 0x00000009
BIND_TRANSCEIVER_RESP = 0x80000009
ENQUIRE_LINK = 0x00000015
QUERY_SM = 0x00000003
CANCEL_SM = 0x00000008
SUBMIT_MULTI = 0x00000021
ENQUIRE_LINK_RESP = 0x80000015
BINDS = (BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER)
#: The bind command for each bind type, as the connector names them.
BIND_COMMANDS = {"TRX": BIND_TRANSCEIVER, "TX": BIND_TRANSMITTER, "RX": BIND_RECEIVER}

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
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RCANCELFAIL = 0x11
    ESME_RMSGQFUL = 0x14
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVESMCLASS = 0x43
    ESME_RSUBMITFAIL = 0x45
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    #: "ESME receiver temporary app error": the ESME could not take a deliver_sm now
    #: (our store failed); the SMSC keeps it and sends it again later.
    ESME_RX_T_APPN = 0x64
    ESME_RQUERYFAIL = 0x67
    ESME_RINVPARLEN = 0xC2
    ESME_RUNKNOWNERR = 0xFF
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
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


class Framer:
    """Cuts a TCP byte stream into whole PDUs, however the reads split or join them.

    A command_length below 16 or above ``max_length`` cannot be skipped (the stream has
    no other markers), so :meth:`feed` reports it and the session must close.

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
        """Whole PDUs now available, and the sequence_number of a bad header (or None).

        After a bad header the buffer is emptied: nothing after it can be trusted.
        """
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


# -- reading --------------------------------------------------------------------------


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


def leading_cstring(frame: bytes, start: int = HEADER_SIZE, end: int | None = None) -> str:
    """The first C-string of a PDU body: submit_sm_resp's message_id, bind_resp's system_id.

    Lenient on purpose: an empty body (error responses leave it out, §4.4.2) reads as
    ``""``, and a missing NUL (seen from real SMSCs) as the rest of the body.
    """
    end = len(frame) if end is None else end
    nul = frame.find(b"\0", start, end)
    return frame[start : end if nul < 0 else nul].decode("ascii", "replace")


# -- writing --------------------------------------------------------------------------


def header(command_id: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    return HEADER.pack(HEADER_SIZE + len(body), command_id, status, sequence) + body


def _c(value: str) -> bytes:
    return value.encode("latin-1") + b"\0"


def bind(command_id: int, sequence: int, fields: Bind) -> bytes:
    """bind_transmitter / bind_receiver / bind_transceiver (§4.1.1)."""
    body = b"".join(
        (
            _c(fields.system_id),
            _c(fields.password),
            _c(fields.system_type),
            bytes((fields.interface_version, fields.addr_ton, fields.addr_npi)),
            _c(fields.address_range),
        )
    )
    return header(command_id, 0, sequence, body)


def bind_resp(bind_command: int, status: int, sequence: int, system_id: str) -> bytes:
    """bind_*_resp; on error the body is left out, as §4.1.2 says."""
    body = b""
    if status == Status.ESME_ROK:
        version_tlv = struct.pack(">HHB", TLV_SC_INTERFACE_VERSION, 1, INTERFACE_VERSION)
        body = system_id.encode("latin-1") + b"\0" + version_tlv
    return header(bind_command | RESPONSE_BIT, status, sequence, body)


def submit_sm_resp(sequence: int, message_id: str) -> bytes:
    body = message_id.encode("ascii") + b"\0"
    return HEADER.pack(HEADER_SIZE + len(body), SUBMIT_SM_RESP, 0, sequence) + body


def submit_sm_error(sequence: int, status: int) -> bytes:
    """A refused submit_sm: no body (§4.4.2: "not returned if command_status is non-zero")."""
    return HEADER.pack(HEADER_SIZE, SUBMIT_SM_RESP, status, sequence)


_DELIVER_SM_RESP = struct.Struct(">IIIIx")


def deliver_sm_resp(sequence: int, status: int = Status.ESME_ROK) -> bytes:
    """deliver_sm_resp: 17 octets, the unused message_id a lone NUL (§4.6.2), on error too.

    (smpp34 1.5.0 wrote the 17 octets with command_length 16, which desynchronises a
    strict SMSC's framing.)
    """
    return _DELIVER_SM_RESP.pack(HEADER_SIZE + 1, DELIVER_SM_RESP, status, sequence)


def generic_nack(sequence: int, status: int) -> bytes:
    return HEADER.pack(HEADER_SIZE, GENERIC_NACK, status, sequence)


def response(command_id: int, sequence: int, status: int = Status.ESME_ROK) -> bytes:
    """The body-less response to ``command_id`` (enquire_link, unbind, refusals)."""
    return HEADER.pack(HEADER_SIZE, command_id | RESPONSE_BIT, status, sequence)


def unbind(sequence: int) -> bytes:
    return HEADER.pack(HEADER_SIZE, UNBIND, 0, sequence)


def enquire_link(sequence: int) -> bytes:
    return HEADER.pack(HEADER_SIZE, ENQUIRE_LINK, 0, sequence)
