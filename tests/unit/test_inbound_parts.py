"""Reading where an MO part belongs (UDH 8/16-bit, SAR) and joining parts as bytes."""

from __future__ import annotations

from centauro.connectors.base import InboundPart, InboundSms
from centauro.connectors.smpp import codec, dlr
from centauro.domain.coding import join_parts

SAR = {0x020C: b"\x01\x02", 0x020E: b"\x03", 0x020F: b"\x02"}


def test_sar_tlvs_say_where_a_part_belongs() -> None:
    body, concat = codec.user_data(b"Hola", 0, SAR)
    assert (body, concat) == (b"Hola", codec.Concatenation(0x0102, 3, 2))


def test_a_header_that_makes_no_sense_as_a_part_is_ignored() -> None:
    for total, seq in ((1, 1), (3, 0), (3, 4), (0, 0)):
        body, concat = codec.user_data(bytes((5, 0, 3, 9, total, seq)) + b"Hi", 0x40)
        assert (body, concat) == (b"Hi", None)
    assert codec.user_data(b"Hi", 0, {0x020C: b"\x01", 0x020E: b"\x01", 0x020F: b"\x01"}) == (
        b"Hi",
        None,
    )


def test_a_deliver_sm_part_keeps_its_undecoded_body() -> None:
    half = "Hola 😀".encode("utf-16-be")[:-2]  # ends inside the surrogate pair
    udh = bytes((6, 8, 4, 0x12, 0x34, 2, 1))
    item = dlr.read_deliver_sm("c", 0x40, 0x08, udh + half, {}, "584141234567", "2222")
    assert isinstance(item, InboundSms)
    assert item.part == InboundPart(0x1234, 2, 1, 0x08, half)
    sar = dlr.read_deliver_sm("c", 0, 0x00, b"BA", SAR, "584141234567", "2222")
    assert isinstance(sar, InboundSms)
    assert sar.part == InboundPart(0x0102, 3, 2, 0x00, b"BA")
    single = dlr.read_deliver_sm("c", 0, 0x00, b"BAJA", {}, "584141234567", "2222")
    assert isinstance(single, InboundSms)
    assert (single.text, single.part) == ("BAJA", None)


def test_parts_are_joined_as_bytes_so_a_split_surrogate_pair_survives() -> None:
    data = "¿Sí? 😀 ok".encode("utf-16-be")
    cut = data.index("😀".encode("utf-16-be")) + 2
    assert join_parts([(2, 8, data[cut:]), (1, 8, data[:cut])]) == "¿Sí? 😀 ok"


def test_a_gap_or_a_change_of_coding_ends_a_run() -> None:
    assert join_parts([(1, 0, b"BA"), (3, 0, b" ya")]) == "BA ya"
    assert join_parts([(1, 0, b"Hola "), (2, 8, "ñandú".encode("utf-16-be"))]) == "Hola ñandú"
