"""Carrier ids as match keys: receipts name a message in whatever form the SMSC likes.

An SMSC may answer submit_sm with id ``"0A3F"`` and report delivery of ``"2623"`` (the
same number in decimal), or ``"0000002623"``. We store a normalised key for each id we
were given, and look a receipt up under every reading of its id, the literal one first.
"""

from __future__ import annotations

_HEX = frozenset("0123456789abcdef")
_MAX_DIGITS = 40  # beyond this an id is opaque text; no numeric readings


def key(carrier_id: str) -> str:
    """The stored form: trimmed, lower case, leading zeros dropped ("0" stays "0")."""
    k = carrier_id.strip().lower().lstrip("0")
    return k or ("0" if carrier_id.strip() else "")


def candidates(reported: str) -> list[str]:
    """Keys a reported id may match, most literal first: as written, then the decimal
    reading of a hex id and the hex reading of a decimal one."""
    literal = key(reported)
    keys = [literal]
    if 0 < len(literal) <= _MAX_DIGITS and set(literal) <= _HEX:
        if literal.isdigit():
            keys.append(format(int(literal), "x"))
        keys.append(str(int(literal, 16)))
    return list(dict.fromkeys(keys))
