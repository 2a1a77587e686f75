"""Classify, count, split and encode SMS text the way it goes on the air.

Why our own module: the SMPP libraries' helpers are wrong exactly at the edges that
matter (they split the € escape pair, cut surrogate pairs, count code points instead
of UTF-16 units), and those edges decide what we bill (segments) and whether the
handset shows the text. The GSM-7 codec itself is gsm0338's ``gsm03.38``.

Decisions:

* GSM-7 means the GSM 03.38 default alphabet plus its extension table, no national
  shift tables: every handset renders those without negotiation. The alphabet is read
  from gsm0338's own tables, so :func:`is_gsm7` is true exactly when
  ``text.encode("gsm03.38")`` succeeds (gsm0338 maps 0x09 to "Ç", so "ç" is not GSM-7).
* One character outside that set sends the whole text as UCS-2: a message has one
  data coding for all its parts.
* "UCS-2" is really UTF-16BE: non-BMP characters (emoji) go as surrogate pairs and
  count 2 units, which is what carriers and handsets accept in practice.
* A single SMS holds 160 septets or 70 units; a part of a concatenated SMS holds 153
  or 67 (the UDH takes the rest). Parts are cut greedily and never inside an escape
  pair (extension characters € [ ] { } \\ ^ ~ | and form feed count 2 septets) nor a
  surrogate pair, so a text can need more than ``ceil(units / 153)`` parts.
* Spanish: á í ó ú Á Í Ó Ú are not GSM-7 and force UCS-2; é É ñ Ñ ü Ü ¿ ¡ à è ù ì ò Ç
  are GSM-7.
* The empty text is one GSM-7 segment of 0 septets; :func:`check_sendable` rejects it,
  as it rejects control characters (among them the ESC and form feed gsm0338 can
  encode) and lone surrogates. Counting and splitting never raise; the encoders raise
  ``UnicodeEncodeError`` (a ``ValueError``) for text their encoding cannot carry.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass

# Importing gsm0338 (any submodule) registers the "gsm03.38" codec.
from gsm0338.charset import BASIC_CHARACTER_SET, BASIC_CHARACTER_SET_EXTENSION

from centauro.domain.errors import InvalidText
from centauro.domain.inputs import TEXT_FORBIDDEN, describe, first_forbidden

MAX_SEGMENTS_DEFAULT = 10
"""How many segments one message may take unless the account says otherwise."""

_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67


class Encoding(enum.StrEnum):
    """The data coding a whole message is sent in."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True, slots=True)
class TextInfo:
    """What a text costs on the air.

    ``units`` are GSM-7 septets (extension characters count 2) or UTF-16 code units
    (non-BMP characters count 2); ``segments`` is always ``len(split(text))``.
    """

    encoding: Encoding
    units: int
    segments: int


def _characters(table: dict[int, str]) -> frozenset[str]:
    # The same name lookup gsm0338's codec does, so both agree on every character.
    return frozenset(unicodedata.lookup(name) for name in table.values())


def _char_class(chars: frozenset[str], *, negate: bool = False) -> re.Pattern[str]:
    body = "".join(f"\\u{ord(c):04x}" for c in sorted(chars))
    return re.compile(f"[{'^' if negate else ''}{body}]")


_GSM7_BASIC = _characters(BASIC_CHARACTER_SET)
_GSM7_EXTENSION = _characters(BASIC_CHARACTER_SET_EXTENSION)

# Regex character classes scan in C: analyze() on 160 characters takes about 2 µs,
# where a Python loop over the characters takes 10 to 20.
_NOT_GSM7 = _char_class(_GSM7_BASIC | _GSM7_EXTENSION, negate=True)
_GSM7_ESCAPED = _char_class(_GSM7_EXTENSION)
_ASTRAL = re.compile(r"[\U00010000-\U0010ffff]")

_LIMITS: dict[Encoding, tuple[int, int]] = {
    Encoding.GSM7: (_GSM7_SINGLE, _GSM7_PART),
    Encoding.UCS2: (_UCS2_SINGLE, _UCS2_PART),
}
_DOUBLES: dict[Encoding, re.Pattern[str]] = {
    Encoding.GSM7: _GSM7_ESCAPED,
    Encoding.UCS2: _ASTRAL,
}


def is_gsm7(text: str) -> bool:
    """Whether every character is in the GSM 03.38 default alphabet or its extension."""
    return _NOT_GSM7.search(text) is None


def is_gsm7_basic(text: str) -> bool:
    """Whether every character is in the GSM 03.38 default alphabet (no escapes)."""
    return _NOT_GSM7.search(text) is None and _GSM7_ESCAPED.search(text) is None


def _measure(text: str) -> tuple[Encoding, int, int]:
    """Encoding, units, and how many characters count double (escape or surrogate pairs)."""
    if _NOT_GSM7.search(text) is None:
        doubles = len(_GSM7_ESCAPED.findall(text))
        return Encoding.GSM7, len(text) + doubles, doubles
    # surrogatepass: lone surrogates count 1 unit instead of raising; they are
    # rejected by check_sendable, and counting must not fail.
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    return Encoding.UCS2, units, units - len(text)


def _part_ends(text: str, limit: int, doubles: re.Pattern[str]) -> list[int]:
    """End index of each part: cut greedily before the character that would overflow.

    Greedy maximal parts are also the fewest parts, so this is what we bill. Python
    only touches the double-width characters (their positions, bisected), not every
    character: a 2-part text costs about 5 µs.
    """
    marks = [found.start() for found in doubles.finditer(text)]
    ends: list[int] = []
    start = 0
    while start < len(text):
        first = bisect_left(marks, start)
        end = min(len(text), start + limit)
        # Units of text[start:end] minus the limit; shrinking by ceil(over / 2)
        # characters sheds at most 2 units each, so it never cuts more than needed.
        while (over := end - start + bisect_left(marks, end) - first - limit) > 0:
            end -= (over + 1) // 2
        ends.append(end)
        start = end
    return ends


def analyze(text: str) -> TextInfo:
    """Encoding, units and segments of ``text``; cheap enough for every request."""
    encoding, units, doubles = _measure(text)
    single, part = _LIMITS[encoding]
    if units <= single:
        segments = 1
    elif not doubles:
        segments = -(-units // part)
    else:
        segments = len(_part_ends(text, part, _DOUBLES[encoding]))
    return TextInfo(encoding, units, segments)


def split(text: str) -> list[str]:
    """The parts as they go on the air; ``"".join(split(text)) == text``.

    ``[text]`` when it fits one SMS; otherwise parts of at most 153 septets or 67
    UTF-16 units, never splitting an escape pair or a surrogate pair.
    """
    encoding, units, doubles = _measure(text)
    single, part = _LIMITS[encoding]
    if units <= single:
        return [text]
    if not doubles:
        return [text[start : start + part] for start in range(0, len(text), part)]
    ends = _part_ends(text, part, _DOUBLES[encoding])
    return [text[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def encode_gsm7(text: str) -> bytes:
    """Unpacked GSM-7: one byte per septet, extension characters as ``0x1B xx``.

    Unpacked because SMPP carries septets one per octet; packing is the SMSC's job.
    """
    return text.encode("gsm03.38")


def encode_ucs2(text: str) -> bytes:
    """UTF-16BE, non-BMP characters as surrogate pairs (what carriers take as UCS-2)."""
    return text.encode("utf-16-be")


def check_sendable(text: str) -> None:
    """Raise :class:`InvalidText` unless ``text`` can go to a handset as it is.

    Control characters other than LF and CR (C0, DEL, C1) show as garbage or break
    carriers, and a lone surrogate cannot be encoded at all. In a Python ``str`` every
    surrogate code point is lone: real non-BMP characters are single code points.
    """
    if not text:
        raise InvalidText("text is empty")
    found = first_forbidden(text, TEXT_FORBIDDEN)
    if found is not None:
        position, char = found
        raise InvalidText(f"text contains {describe(char)} at position {position}")
