"""Which characters a text field from outside may hold: one rule for every door.

NUL can never be stored: PostgreSQL's ``text`` refuses it (psycopg raised ``DataError``
and the caller saw a 503 or compat ``302``) while SQLite kept it, so the same request had
two answers. The other C0 controls, DEL and the C1 controls have no business in a
one-line field (a name, a reference, a number, a URL, a client id): they break logs,
terminals, CSV exports and carriers. A lone surrogate cannot be encoded for either store.

=====================  ===========================================================
field                  control characters accepted
=====================  ===========================================================
message text           LF and CR only (:data:`TEXT_FORBIDDEN`; TAB, FF, ESC: no —
                       handsets show them as garbage; ``domain.text.check_sendable``)
every other field      none (:data:`LINE_FORBIDDEN`)
=====================  ===========================================================

Doors call :func:`check_line` and answer in their own words: REST ``422``, compat ``304``,
the CLI a Spanish sentence. Texts a carrier sends us (MO, receipts) are not checked here.
"""

from __future__ import annotations

import re

from centauro.domain.errors import InvalidRequest

#: C0 controls, DEL, C1 controls and lone surrogates: refused in one-line fields.
LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same less LF and CR: refused in a message text.
TEXT_FORBIDDEN = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def first_forbidden(
    value: str, pattern: re.Pattern[str] = LINE_FORBIDDEN
) -> tuple[int, str] | None:
    """Position and character of the first character ``pattern`` refuses, if any."""
    found = pattern.search(value)
    return None if found is None else (found.start(), found.group())


def describe(char: str) -> str:
    """``"a control character (U+0000)"`` or ``"a lone surrogate (U+D800)"``."""
    kind = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"{kind} (U+{ord(char):04X})"


def check_line(name: str, value: str) -> str:
    """``value`` if it holds no control character; :class:`InvalidRequest` naming the field."""
    found = first_forbidden(value)
    if found is not None:
        position, char = found
        raise InvalidRequest(f"{name} contains {describe(char)} at position {position}")
    return value
