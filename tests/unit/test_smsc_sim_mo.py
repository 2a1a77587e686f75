"""The simulator's MO lines: a concatenated message becomes one deliver_sm per part sent,
with the UDH or SAR TLVs a handset would put; a bad option is refused with a reason."""

from __future__ import annotations

import json

import pytest

from centauro.connectors.smpp import codec
from centauro.smsc_sim.mo import parse_line


def _line(**record: object) -> str:
    return json.dumps({"from": "584141234567", "to": "2222", "text": "BAJA", **record})


def test_udh_and_sar_parts_read_back_where_they_belong() -> None:
    udh8 = parse_line(_line(concat="udh8", parts=["BA", "JA"], ref=200, order=[2, 1]), "s")
    assert [codec.user_data(m.body, m.esm_class) for m in udh8] == [
        (b"JA", codec.Concatenation(200, 2, 2)),
        (b"BA", codec.Concatenation(200, 2, 1)),
    ]
    udh16 = parse_line(_line(concat="udh16", part_octets=3, ref=0x1234), "s")
    assert [codec.user_data(m.body, m.esm_class) for m in udh16] == [
        (b"BAJ", codec.Concatenation(0x1234, 2, 1)),
        (b"A", codec.Concatenation(0x1234, 2, 2)),
    ]
    [sar] = parse_line(_line(concat="sar", parts=["BA", "JA"], ref=7, order=[2]), "s")
    assert (sar.esm_class, sar.body) == (0, b"JA")
    assert codec.user_data(sar.body, 0, dict(sar.tlvs)) == (b"JA", codec.Concatenation(7, 2, 2))


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"concat": "udh32"}, "concat must be"),
        ({"concat": "udh8", "ref": 256}, "ref must fit"),
        ({"concat": "sar", "order": [3]}, "order must list"),
        ({"concat": "sar", "parts": "BAJA"}, "parts must be"),
        ({"concat": "sar", "part_octets": 0}, "part_octets must be"),
    ],
)
def test_a_bad_concatenation_option_is_refused_with_a_reason(
    options: dict[str, object], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_line(_line(**options), "s")
