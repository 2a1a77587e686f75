"""8-bit binary messages: UDH elements kept, parts of 140 octets (134 with concatenation)."""

from __future__ import annotations

import pytest

from centauro.connectors.smpp.codec import binary_parts
from centauro.domain import binary

PORT = b"\x05\x04\x0b\x84\x23\xf0"  # IEI 5: 16-bit application ports


@pytest.mark.parametrize(
    ("octets", "elements", "parts"),
    [
        (1, b"", 1),
        (140, b"", 1),
        (141, b"", 2),  # 134 + 7
        (268, b"", 2),
        (269, b"", 3),
        (133, PORT, 1),  # 1 + 6 + 133 = 140
        (134, PORT, 2),  # parts of 140 - (1 + 6 + 5) = 128
        (256, PORT, 2),
        (257, PORT, 3),
    ],
)
def test_segments_count_140_octets_with_the_udh_inside(
    octets: int, elements: bytes, parts: int
) -> None:
    assert binary.segments(b"\xaa" * octets, elements) == parts


def test_parse_udh_keeps_other_elements_and_reads_concatenation() -> None:
    data = bytes([6 + 5]) + PORT + b"\x00\x03\x2a\x03\x02" + b"body"
    assert binary.parse_udh(data) == (PORT, b"body", binary.Concat(0x2A, 3, 2))
    sixteen = b"\x06\x08\x04\x01\x02\x02\x01" + b"x"
    assert binary.parse_udh(sixteen) == (b"", b"x", binary.Concat(0x0102, 2, 1))
    with pytest.raises(binary.BadHeader):
        binary.parse_udh(b"\x05\x05\x04\x0b")  # the header is longer than the data
    with pytest.raises(binary.BadHeader):
        binary.parse_udh(b"\x03\x05\x04\x0b\x84")  # the element overruns the header


def test_parts_carry_the_bytes_intact_in_order() -> None:
    body = bytes(range(256)) + bytes(range(44))  # 300 octets
    parts = binary.user_data_parts(body, PORT, reference=0x1FF)
    assert len(parts) == 3
    joined = b""
    for seq, (data, udhi) in enumerate(parts, 1):
        assert udhi
        assert len(data) <= binary.USER_DATA
        elements, chunk, concat = binary.parse_udh(data)
        assert elements == PORT
        assert concat == binary.Concat(0xFF, 3, seq)
        joined += chunk
    assert joined == body
    assert binary.user_data_parts(b"\x00\x01", b"", 0) == [(b"\x00\x01", False)]
    assert binary.user_data_parts(b"\x00", PORT, 0) == [(b"\x06" + PORT + b"\x00", True)]


def test_the_smpp_connector_sends_binary_parts_as_data_coding_4() -> None:
    asked: list[int] = []

    def reference() -> int:
        asked.append(1)
        return 9

    single = binary_parts("00ff", None, reference)
    assert [(p.short_message, p.data_coding, p.esm_class) for p in single] == [(b"\x00\xff", 4, 0)]
    assert asked == []  # one part: no reference taken
    many = binary_parts("ab" * 141, PORT.hex(), reference)
    assert [(p.data_coding, p.esm_class) for p in many] == [(4, 0x40), (4, 0x40)]
    assert asked == [1]
