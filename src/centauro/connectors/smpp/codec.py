"""Text ↔ SMPP message fields, both ways, with no I/O and no SMPP library types.

Outbound: a text becomes the ``short_message`` / ``data_coding`` / ``esm_class`` / TLVs
of one ``submit_sm`` per part. Parts are cut by :func:`centauro.domain.text.split`, the
same function that counted the segments we billed, so escape pairs (``€``) and
surrogate pairs (emoji) are never cut in two.

Inbound: a deliver_sm's user data header is read (concatenation) and stripped; its bytes
become text through :func:`centauro.domain.coding.decode_bytes`, whatever data coding the
SMSC chose.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gsm0338.charset import BASIC_CHARACTER_SET, BASIC_CHARACTER_SET_EXTENSION

from centauro.connectors.smpp.config import SmppSettings
from centauro.domain import binary
from centauro.domain import text as sms_text
from centauro.domain.coding import DC_BINARY, DC_GSM7, DC_IA5, DC_LATIN1, DC_UCS2, decode_bytes

__all__ = ["DC_BINARY", "DC_GSM7", "DC_IA5", "DC_LATIN1", "DC_UCS2", "decode_bytes"]

TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_MESSAGE_PAYLOAD = 0x0424

ESM_UDHI = 0x40

#: The most a short_message may hold (SMPP 3.4); smpp34 panics beyond it.
MAX_SHORT_MESSAGE = 254

_NOT_IA5 = re.compile(r"[^\x00-\x7f]")
_NOT_LATIN1 = re.compile(r"[^\x00-\xff]")


def _gsm7_table() -> dict[int, str]:
    """gsm0338's own alphabet as a ``str.translate`` table: character → septet(s).

    gsm0338 encodes in Python one character at a time (about 0.2 µs each, 30 µs for a
    full SMS); ``translate`` does the same mapping in C. A unit test checks that both
    agree on every character.
    """
    table = {ord(unicodedata.lookup(n)): chr(code) for code, n in BASIC_CHARACTER_SET.items()}
    for code, n in BASIC_CHARACTER_SET_EXTENSION.items():
        table[ord(unicodedata.lookup(n))] = "\x1b" + chr(code)
    return table


_GSM7 = _gsm7_table()


def encode_gsm7(text: str) -> bytes:
    """Unpacked GSM-7, as :func:`centauro.domain.text.encode_gsm7`; ``text`` must be GSM-7."""
    return text.translate(_GSM7).encode("latin-1")


def _encode(text: str, codec: str) -> bytes:
    return encode_gsm7(text) if codec == "gsm03.38" else text.encode(codec)


@dataclass(frozen=True, slots=True)
class SubmitPart:
    """The fields of one submit_sm that depend on the text."""

    short_message: bytes
    data_coding: int
    esm_class: int = 0
    tlvs: tuple[tuple[int, bytes], ...] = ()


def choose_coding(text: str, coding: str) -> tuple[int, str]:
    """(data_coding, Python codec) for a whole text under the connector's ``gsm7_coding``.

    Text that is not GSM-7 is UCS-2 everywhere; GSM-7 text the 8-bit coding cannot carry
    falls back to UCS-2 as well (see :mod:`centauro.connectors.smpp.config`).
    """
    if not sms_text.is_gsm7(text):
        return DC_UCS2, "utf-16-be"
    if coding == "latin1":
        return (DC_LATIN1, "latin-1") if not _NOT_LATIN1.search(text) else (DC_UCS2, "utf-16-be")
    if coding == "ascii":
        return (DC_IA5, "ascii") if not _NOT_IA5.search(text) else (DC_UCS2, "utf-16-be")
    return DC_GSM7, "gsm03.38"


def _split(text: str, data_coding: int) -> list[str]:
    """Parts as billed; a GSM-7 text forced into UCS-2 is re-split at 67 units."""
    if data_coding == DC_UCS2 and sms_text.is_gsm7(text):
        # split() would cut at 153 septets; UCS-2 parts hold 67 UTF-16 units. GSM-7 text
        # has no surrogate pairs, so plain slicing cannot cut a character in two.
        if len(text) <= 70:
            return [text]
        return [text[i : i + 67] for i in range(0, len(text), 67)]
    return sms_text.split(text)


def single_part(text: str, encoding: str) -> SubmitPart:
    """The one part of a text our text module already classified as a single SMS.

    The common case (a short OTP or notice with data coding 0 or 8) without classifying
    and splitting the text a second time.
    """
    if encoding == "gsm7":
        return SubmitPart(encode_gsm7(text), DC_GSM7)
    return SubmitPart(text.encode("utf-16-be"), DC_UCS2)


def encode(
    text: str, settings: SmppSettings, reference: int | Callable[[], int] = 0
) -> list[SubmitPart]:
    """The submit_sm fields for every part of ``text``, in part order.

    ``reference`` identifies this message among the recent multipart messages to the
    same handset: its low 8 bits go in the UDH, its low 16 bits in sar_msg_ref_num. A
    callable is only called when the text does need more than one part.
    """
    data_coding, codec = choose_coding(text, settings.gsm7_coding)
    if settings.multipart == "payload":
        payload = _encode(text, codec)
        if len(payload) <= MAX_SHORT_MESSAGE and len(_split(text, data_coding)) == 1:
            return [SubmitPart(payload, data_coding)]
        return [SubmitPart(b"", data_coding, 0, ((TLV_MESSAGE_PAYLOAD, payload),))]
    pieces = [_encode(piece, codec) for piece in _split(text, data_coding)]
    total = len(pieces)
    if total == 1:
        return [SubmitPart(pieces[0], data_coding)]
    if total > 255:
        raise ValueError(f"text needs {total} parts; a concatenated SMS holds at most 255")
    if callable(reference):
        reference = reference()
    if settings.multipart == "sar":
        ref = (reference & 0xFFFF).to_bytes(2, "big")
        return [
            SubmitPart(
                piece,
                data_coding,
                0,
                (
                    (TLV_SAR_MSG_REF_NUM, ref),
                    (TLV_SAR_TOTAL_SEGMENTS, bytes([total])),
                    (TLV_SAR_SEGMENT_SEQNUM, bytes([seq])),
                ),
            )
            for seq, piece in enumerate(pieces, 1)
        ]
    ref8 = reference & 0xFF
    return [
        SubmitPart(bytes((5, 0, 3, ref8, total, seq)) + piece, data_coding, ESM_UDHI)
        for seq, piece in enumerate(pieces, 1)
    ]


def binary_parts(
    body_hex: str, udh_hex: str | None, reference: Callable[[], int]
) -> list[SubmitPart]:
    """The submit_sm fields of a binary message (data_coding 4): its body cut into 140-octet
    user data, each part with the kept UDH elements and, when there are several, an 8-bit
    concatenation element (domain/binary.py). Always UDH parts, whatever ``multipart`` says:
    binary payloads (ports, WAP) live in the UDH."""
    body, elements = bytes.fromhex(body_hex), bytes.fromhex(udh_hex or "")
    ref = reference() if binary.segments(body, elements) > 1 else 0
    return [
        SubmitPart(data, DC_BINARY, ESM_UDHI if udhi else 0)
        for data, udhi in binary.user_data_parts(body, elements, ref)
    ]


class References:
    """Concatenation references, counted per destination from a random start.

    A handset tells two multipart messages apart by the reference only, so consecutive
    messages to one number must differ. The most recently used ``keep`` destinations
    are remembered: bulk traffic to millions of numbers must not grow without bound.
    """

    def __init__(self, rng: Callable[[], float], keep: int = 65_536) -> None:
        self._rng = rng
        self._keep = keep
        self._last: OrderedDict[str, int] = OrderedDict()

    def next(self, destination: str) -> int:
        last = self._last.pop(destination, None)
        ref = int(self._rng() * 0x10000) & 0xFFFF if last is None else (last + 1) & 0xFFFF
        self._last[destination] = ref
        if len(self._last) > self._keep:
            self._last.popitem(last=False)
        return ref


@dataclass(frozen=True, slots=True)
class Concatenation:
    """Where an inbound part belongs: message ``reference``, part ``seq`` of ``total``."""

    reference: int
    total: int
    seq: int


def split_udh(data: bytes) -> tuple[bytes, Concatenation | None]:
    """Strip the user data header; read the 8- or 16-bit concatenation element if any."""
    if not data:
        return data, None
    header, body = data[1 : 1 + data[0]], data[1 + data[0] :]
    pos = 0
    while pos + 2 <= len(header):
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + length]
        if iei == 0x00 and length == 3 and len(value) == 3:
            return body, Concatenation(value[0], value[1], value[2])
        if iei == 0x08 and length == 4 and len(value) == 4:
            return body, Concatenation(int.from_bytes(value[:2], "big"), value[2], value[3])
        pos += 2 + length
    return body, None


def user_data(
    short_message: bytes, esm_class: int, tlvs: Mapping[int, bytes] | None = None
) -> tuple[bytes, Concatenation | None]:
    """The body of an inbound deliver_sm (UDH stripped) and where it belongs if it is a part.

    The message_payload TLV stands in for an empty short_message (SMSCs use it for long
    messages). Concatenation comes from the UDH (IEI 0x00, 8-bit reference, or 0x08,
    16-bit) when esm_class has UDHI, else from the SAR TLVs. A header that does not make
    sense as a part (total under 2, seq out of range) is ignored: the text stands alone.
    """
    tlvs = tlvs or {}
    body = short_message or tlvs.get(TLV_MESSAGE_PAYLOAD, b"")
    concat = None
    if esm_class & ESM_UDHI:
        body, concat = split_udh(body)
    elif TLV_SAR_MSG_REF_NUM in tlvs and TLV_SAR_TOTAL_SEGMENTS in tlvs:
        concat = Concatenation(
            int.from_bytes(tlvs[TLV_SAR_MSG_REF_NUM], "big"),
            int.from_bytes(tlvs[TLV_SAR_TOTAL_SEGMENTS], "big"),
            int.from_bytes(tlvs.get(TLV_SAR_SEGMENT_SEQNUM, b""), "big"),
        )
    if concat is not None and not (concat.total >= 2 and 1 <= concat.seq <= concat.total):
        concat = None
    return body, concat


def decode_message(
    short_message: bytes, data_coding: int, esm_class: int, payload: bytes | None = None
) -> tuple[str, Concatenation | None]:
    """The text of an inbound deliver_sm (MO), and its concatenation info if it is a part.

    ``payload`` is the message_payload TLV. A UDH (esm_class 0x40) is stripped before
    decoding.
    """
    body, concat = user_data(short_message, esm_class, {TLV_MESSAGE_PAYLOAD: payload or b""})
    return decode_bytes(body, data_coding), concat
