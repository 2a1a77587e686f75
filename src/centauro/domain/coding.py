"""SMS data coding schemes (GSM 03.38 DCS, SMPP ``data_coding``) → text.

Pure, so the parts of a concatenated inbound message can be joined as bytes and decoded
once, wherever they are reassembled: a UCS-2 surrogate pair (an emoji) split over two
parts only decodes once both halves are together.

SMSCs deliver GSM-7 unpacked over SMPP (one septet per octet); a byte above 0x7F cannot be
a septet, so such a "data_coding 0" message is read as Latin-1, which is what carriers
with a non-GSM default alphabet actually send. Binary (8-bit data) becomes hex text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

DC_GSM7, DC_IA5, DC_BINARY, DC_LATIN1, DC_UCS2 = 0x00, 0x01, 0x04, 0x03, 0x08

_NOT_SEPTET = re.compile(rb"[\x80-\xff]")

# data_codings read with Python's codecs (GSM-7 and binary are handled apart).
_CODECS = {
    DC_IA5: "ascii",
    DC_LATIN1: "latin-1",
    DC_UCS2: "utf-16-be",
    0x05: "shift_jis",
    0x06: "iso8859_5",
    0x07: "iso8859_8",
    0x0A: "iso2022_jp",
    0x0D: "euc_jis_2004",
    0x0E: "euc_kr",
}


def _alphabet(data_coding: int) -> int:
    """The SMPP data_coding an inbound value amounts to (GSM 03.38 DCS groups folded)."""
    if data_coding < 0x10:
        return data_coding
    group = data_coding & 0xF0
    if group < 0x40:  # general data coding: alphabet in bits 3-2
        return (DC_GSM7, DC_BINARY, DC_UCS2, DC_BINARY)[(data_coding >> 2) & 3]
    if group in (0xC0, 0xD0):  # message waiting indication, default alphabet
        return DC_GSM7
    if group == 0xE0:  # message waiting indication, UCS-2
        return DC_UCS2
    if group == 0xF0:  # data coding / message class: bit 2 is 8-bit data
        return DC_BINARY if data_coding & 0x04 else DC_GSM7
    return DC_BINARY


def decode_bytes(data: bytes, data_coding: int) -> str:
    """Text of a message body in ``data_coding``; undecodable bytes become U+FFFD."""
    alphabet = _alphabet(data_coding)
    if alphabet == DC_GSM7:
        if _NOT_SEPTET.search(data):
            return data.decode("latin-1")
        return data.decode("gsm03.38", "replace")
    codec = _CODECS.get(alphabet)
    return data.decode(codec, "replace") if codec else data.hex()


def join_parts(parts: Sequence[tuple[int, int, bytes]]) -> str:
    """The text of the parts ``(seq, data_coding, body)`` of one concatenated message.

    Each run of consecutive parts in one coding is joined as bytes before decoding, so a
    character cut between two parts (a UCS-2 surrogate pair) comes out whole; a gap (a
    part that never came) only ends a run.
    """
    text: list[str] = []
    run: list[bytes] = []
    last: tuple[int, int] | None = None
    for seq, coding, body in sorted(parts, key=lambda p: p[0]):
        if run and last is not None and (seq != last[0] + 1 or coding != last[1]):
            text.append(decode_bytes(b"".join(run), last[1]))
            run = []
        run.append(body)
        last = (seq, coding)
    if run and last is not None:
        text.append(decode_bytes(b"".join(run), last[1]))
    return "".join(text)
