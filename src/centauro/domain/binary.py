"""8-bit binary messages (SMPP data_coding 4): their user data header, parts and price.

A binary message is stored as its body in hex (``messages.text``, ``encoding`` "binary")
plus the information elements of its UDH other than concatenation (``messages.udh``, hex,
e.g. an application port for a WAP push), which every part repeats. One SMS carries 140
octets of user data, UDH included: a message that fits goes as one part; a longer one is
cut into parts of ``140 - UDH`` octets, each with a UDH holding the kept elements plus an
8-bit concatenation element (5 octets), so 134 octets a part when there are no others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Octets of user data in one SMS (GSM 03.40 TP-UDL for 8-bit data).
USER_DATA: Final = 140
#: IEI 0x00 (8-bit reference) and 0x08 (16-bit reference): concatenation.
_CONCAT_IEIS: Final = frozenset({0x00, 0x08})
_CONCAT_8BIT: Final = 5  #: 00 03 ref total seq
MAX_PARTS: Final = 255


class BadHeader(ValueError):
    """A user data header whose elements overrun it."""


@dataclass(frozen=True, slots=True)
class Concat:
    reference: int
    total: int
    seq: int


def parse_udh(data: bytes) -> tuple[bytes, bytes, Concat | None]:
    """``(elements without concatenation, body, concatenation)`` of user data with a UDH."""
    if not data or 1 + data[0] > len(data):
        raise BadHeader("the UDH says it is longer than the message")
    header, body = data[1 : 1 + data[0]], data[1 + data[0] :]
    kept = bytearray()
    concat: Concat | None = None
    pos = 0
    while pos < len(header):
        if pos + 2 > len(header) or pos + 2 + header[pos + 1] > len(header):
            raise BadHeader("an information element overruns the UDH")
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + length]
        if iei == 0x00 and length == 3:
            concat = Concat(value[0], value[1], value[2])
        elif iei == 0x08 and length == 4:
            concat = Concat(int.from_bytes(value[:2], "big"), value[2], value[3])
        elif iei not in _CONCAT_IEIS:
            kept += header[pos : pos + 2 + length]
        pos += 2 + length
    return bytes(kept), body, concat


def _part_room(elements: bytes) -> int:
    return USER_DATA - 1 - len(elements) - _CONCAT_8BIT


def segments(body: bytes, elements: bytes = b"") -> int:
    """SMS parts (and credits) a binary message takes; 0 when it cannot be sent at all."""
    header = 1 + len(elements) if elements else 0
    if header + len(body) <= USER_DATA:
        return 1
    room = _part_room(elements)
    if room <= 0:
        return 0
    return -(-len(body) // room)


def user_data_parts(body: bytes, elements: bytes, reference: int) -> list[tuple[bytes, bool]]:
    """Each part's user data and whether it starts with a UDH (esm_class UDHI), in order."""
    if segments(body, elements) == 1:
        if not elements:
            return [(body, False)]
        return [(bytes([len(elements)]) + elements + body, True)]
    room = _part_room(elements)
    if room <= 0:
        raise ValueError("the UDH leaves no room for data")
    chunks = [body[i : i + room] for i in range(0, len(body), room)]
    total = len(chunks)
    if total > MAX_PARTS:
        raise ValueError(f"{total} parts; a concatenated SMS holds at most {MAX_PARTS}")
    ref = reference & 0xFF
    return [
        (
            bytes([len(elements) + _CONCAT_8BIT]) + elements + bytes((0, 3, ref, total, seq)) + c,
            True,
        )
        for seq, c in enumerate(chunks, 1)
    ]
