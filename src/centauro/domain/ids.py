"""Numbers written by someone else: ids in paths, cursors, SMPP fields.

``str.isdigit()`` is true for ``"²"`` and ``"٣"``, and ``int()`` accepts ``" 7"``,
``"+7"`` and ``"1_000"``: neither is a parser for outside input. :func:`parse_ascii_int`
is the one every door uses, so a Unicode digit is "not an id", never a 500.
"""

from __future__ import annotations

_ASCII_DIGITS = frozenset("0123456789")
MAX_ID = 2**63 - 1  #: the largest id a BIGINT column holds
MAX_ID_DIGITS = 19  #: digits of :data:`MAX_ID`


def parse_ascii_int(text: str, *, max_digits: int = MAX_ID_DIGITS) -> int | None:
    """``text`` as a non-negative int if it is 1..``max_digits`` ASCII digits, else None.

    No sign, space, underscore or non-ASCII digit; leading zeros are allowed.
    """
    if not 0 < len(text) <= max_digits or not _ASCII_DIGITS.issuperset(text):
        return None
    return int(text)


def parse_id(text: str) -> int | None:
    """A store id (1..:data:`MAX_ID`) from outside, or None when ``text`` cannot be one."""
    value = parse_ascii_int(text)
    return value if value is not None and 0 < value <= MAX_ID else None
