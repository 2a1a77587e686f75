"""The SMPP server's pure pieces: SMPP times, submit fields, reassembly of parts, passwords."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from centauro.connectors.smpp.pdu import Status
from centauro.service.smpp import hash_password, new_password, verify_password
from centauro.smpp_server.submits import (
    REASSEMBLY_SECONDS,
    Part,
    Reassembly,
    Refused,
    piece,
    smpp_time,
    text_of,
)

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def fields(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "source": "CENTAURO",
        "destination": "+584141234567",
        "short_message": b"hola",
        "esm_class": 0,
        "data_coding": 0,
        "registered": 1,
        "schedule": "",
        "validity": "",
        "tlvs": {},
    }
    return {**base, **kw}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("261205180000000+", datetime(2026, 12, 5, 18, 0, tzinfo=UTC)),
        ("261205180000016-", datetime(2026, 12, 5, 22, 0, tzinfo=UTC)),  # UTC-4 (Caracas)
        ("261205180000012+", datetime(2026, 12, 5, 15, 0, tzinfo=UTC)),  # UTC+3
        ("000000010000000R", NOW + timedelta(hours=1)),
        ("000002000030000R", NOW + timedelta(days=2, seconds=30)),
    ],
)
def test_smpp_times_absolute_and_relative(value: str, expected: datetime | None) -> None:
    assert smpp_time(value, NOW) == expected


@pytest.mark.parametrize(
    "value", ["mañana", "2612051800000", "261305180000000+", "26120518000000X"]
)
def test_malformed_smpp_times_are_errors(value: str) -> None:
    with pytest.raises(ValueError):
        smpp_time(value, NOW)


def test_udh_and_sar_parts_are_recognised() -> None:
    udh8 = piece(**fields(short_message=b"\x05\x00\x03\x2a\x02\x01hola", esm_class=0x40))
    assert (udh8.body, udh8.part) == (b"hola", Part(0x2A, 2, 1))
    udh16 = piece(**fields(short_message=b"\x06\x08\x04\x12\x34\x03\x02x", esm_class=0x40))
    assert udh16.part == Part(0x1234, 3, 2)
    sar = piece(**fields(tlvs={0x020C: b"\x01\x01", 0x020E: b"\x02", 0x020F: b"\x02"}))
    assert sar.part == Part(0x0101, 2, 2)
    single = piece(**fields(short_message=b"\x05\x00\x03\x01\x01\x01solo", esm_class=0x40))
    assert (single.body, single.part) == (b"solo", None)  # a "1 of 1" is a whole message


@pytest.mark.parametrize(
    ("kw", "status"),
    [
        ({"short_message": b"\x20\x00\x03\x01\x02\x01hola", "esm_class": 0x40}, 0x01),
        ({"short_message": b"", "esm_class": 0x40}, 0x01),
        ({"short_message": b"\x05\x00\x03\x01\x02\x03hola", "esm_class": 0x40}, 0x01),
        ({"tlvs": {0x020C: b"\x01\x01", 0x020E: b"\x02"}}, 0xC2),
        ({"tlvs": {0x0424: b"payload"}}, 0xC2),  # short_message and message_payload both
        ({"data_coding": 5}, 0x104),  # Shift-JIS
        ({"data_coding": 0xF5}, 0x104),
        # binary: an information element that runs past the header
        ({"data_coding": 4, "short_message": b"\x03\x05\x04\x0b\x84", "esm_class": 0x40}, 0x01),
    ],
)
def test_submit_fields_we_cannot_take_are_refused_with_their_status(
    kw: dict[str, object], status: int
) -> None:
    with pytest.raises(Refused) as refused:
        piece(**fields(**kw))
    assert refused.value.status == status


def test_text_decodes_per_data_coding_and_refuses_what_is_not_text() -> None:
    assert text_of("ñandú 🎉".encode("utf-16-be"), 8) == "ñandú 🎉"
    assert text_of(b"5\x1be", 0) == "5€"
    with pytest.raises(Refused) as odd:
        text_of(b"\x00A\x00", 8)
    assert odd.value.status == Status.ESME_RINVMSGLEN
    with pytest.raises(Refused):
        text_of(b"", 0)


def _part(seq: int, total: int = 3, body: bytes = b"", ref: int = 7) -> object:
    return piece(
        **fields(
            short_message=bytes((5, 0, 3, ref, total, seq)) + (body or f"p{seq}".encode()),
            esm_class=0x40,
        )
    )


def test_parts_in_any_order_become_one_message_with_every_sequence_number() -> None:
    parts = Reassembly()
    assert parts.add(_part(3), 103) is None
    assert parts.add(_part(1), 101) is None
    whole = parts.add(_part(2), 102)
    assert whole is not None
    message, sequences = whole
    assert (message.body, message.part, sequences) == (b"p1p2p3", None, [103, 101, 102])
    assert len(parts) == 0


def test_a_ucs2_character_split_across_parts_reads_whole() -> None:
    data = "año 🎉".encode("utf-16-be")  # the emoji's surrogate pair is cut in two below
    parts = Reassembly()
    parts.add(_part(1, 2, data[:7]), 1)
    whole = parts.add(_part(2, 2, data[7:]), 2)
    assert whole is not None
    assert text_of(whole[0].body, 8) == "año 🎉"


def test_parts_that_stop_coming_expire_and_the_buffer_is_bounded() -> None:
    parts = Reassembly(limit=2)
    parts.add(_part(1, ref=1), 11)
    parts.add(_part(1, ref=2), 21)
    with pytest.raises(Refused) as full:
        parts.add(_part(1, ref=3), 31)
    assert full.value.status == Status.ESME_RMSGQFUL
    assert list(parts.expired(now=time.monotonic())) == []  # not yet
    assert list(parts.expired(now=time.monotonic() + REASSEMBLY_SECONDS + 1)) == [[11], [21]]
    assert len(parts) == 0


def test_smpp_passwords_are_eight_characters_hashed_with_a_salt() -> None:
    password = new_password()
    assert len(password) == 8
    stored = hash_password(password)
    assert stored.startswith("scrypt$")
    assert stored != hash_password(password)  # salted
    assert verify_password(password, stored)
    assert not verify_password(password[:-1] + "?", stored)
    assert not verify_password(password, "sha256:abc")


def test_binary_keeps_its_udh_elements_and_its_parts_join_as_bytes() -> None:
    port = b"\x05\x04\x0b\x84\x23\xf0"  # application port addressing (WAP push)
    data = bytes(range(256))[:200]
    single = piece(
        **fields(
            data_coding=4, esm_class=0x40, short_message=bytes([len(port)]) + port + b"\x00\xff"
        )
    )
    assert (single.body, single.elements, single.part) == (b"\x00\xff", port, None)

    reassembly = Reassembly()
    first, second = data[:120], data[120:]
    header = bytes([len(port) + 5]) + port
    one = piece(
        **fields(
            data_coding=4, esm_class=0x40, short_message=header + b"\x00\x03\x07\x02\x01" + first
        )
    )
    two = piece(
        **fields(
            data_coding=4, esm_class=0x40, short_message=header + b"\x00\x03\x07\x02\x02" + second
        )
    )
    assert one.part == Part(7, 2, 1)
    assert reassembly.add(one, 1) is None
    whole = reassembly.add(two, 2)
    assert whole is not None
    message, sequences = whole
    assert (message.body, message.elements, message.data_coding) == (data, port, 4)
    assert sequences == [1, 2]

    plain = piece(**fields(data_coding=4, short_message=b"\x00\x01\x02\xfe"))
    assert (plain.body, plain.elements) == (b"\x00\x01\x02\xfe", b"")
