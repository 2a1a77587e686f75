"""Mobile-originated (MO) messages injected through a text file the simulator watches.

Each line appended to ``--mo-file`` is one MO message, either ``FROM TO TEXT…`` or a
JSON object ``{"from": …, "to": …, "text": …, "coding": "gsm7" | "ucs2"}``. It goes out
as deliver_sm (esm_class 0) to a bound receiver: GSM-7 as unpacked septets (data_coding
0, the ``gsm0338`` codec) when the text fits the GSM alphabet, otherwise UTF-16BE
(data_coding 8). A file is simpler to drive from a test, a shell or a benchmark than a
control socket, and polling it every ~0.2 s costs nothing.

A JSON line may also send the text as a concatenated message, as handsets do:
``"concat": "udh8" | "udh16" | "sar"`` (UDH IEI 0x00 or 0x08 with esm_class 0x40, or the
SAR TLVs), the pieces either given as ``"parts": ["BA", "JA"]`` or cut from the encoded
text every ``"part_octets"`` bytes (default 153 for GSM-7, 134 for UCS-2: a cut may fall
inside a UCS-2 surrogate pair, as on real handsets), ``"ref"`` the reference, and
``"order": [3, 1]`` the part numbers to send, in that order (the rest never come).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import smpp34

from centauro.smsc_sim import pdu

log = logging.getLogger(__name__)

#: Read at most this much per poll, so a huge append cannot stall the event loop.
READ_LIMIT = 64 * 1024
CODINGS = {"gsm7": 0, "ucs2": 8}
CONCATS = ("udh8", "udh16", "sar")
TLV_SAR_MSG_REF_NUM, TLV_SAR_TOTAL_SEGMENTS, TLV_SAR_SEGMENT_SEQNUM = 0x020C, 0x020E, 0x020F


class MoMessage:
    """One MO message, ready to be sent as deliver_sm."""

    __slots__ = (
        "attempts",
        "body",
        "data_coding",
        "destination",
        "esm_class",
        "source",
        "system_id",
        "tlvs",
    )

    def __init__(
        self,
        source: str,
        destination: str,
        body: bytes,
        data_coding: int,
        system_id: str,
        esm_class: int = 0,
        tlvs: tuple[tuple[int, bytes], ...] = (),
    ) -> None:
        self.source = source
        self.destination = destination
        self.body = body
        self.data_coding = data_coding
        self.system_id = system_id
        self.esm_class = esm_class
        self.tlvs = tlvs
        self.attempts = 0

    def encode(self, sequence: int) -> bytes:
        src, src_ton, src_npi = _address(self.source)
        dst, dst_ton, dst_npi = _address(self.destination)
        short, tlvs = self.body, [smpp34.Tlv(tag, value) for tag, value in self.tlvs]
        if len(short) > 254:  # too long for short_message: the payload TLV takes 64 KiB
            short, tlvs = b"", [*tlvs, smpp34.Tlv(pdu.TLV_MESSAGE_PAYLOAD, self.body)]
        return smpp34.DeliverSm(
            src,
            dst,
            short,
            source_addr_ton=src_ton,
            source_addr_npi=src_npi,
            dest_addr_ton=dst_ton,
            dest_addr_npi=dst_npi,
            data_coding=self.data_coding,
            esm_class=self.esm_class,
            tlvs=tlvs,
            sequence_number=sequence,
        ).encode()


def _address(address: str) -> tuple[str, int, int]:
    """``+58414…`` → international (TON 1, NPI 1); digits → unknown/ISDN; else alphanumeric."""
    if address.startswith("+"):
        return address[1:], 1, 1
    if address.isascii() and address.isdigit():
        return address, 0, 1
    return address, 5, 0


def encode_text(text: str, coding: str | None) -> tuple[bytes, int]:
    """Bytes and data_coding for ``text``; ``coding`` None means GSM-7 when it fits."""
    if coding not in (None, *CODINGS):
        raise ValueError(f"coding must be gsm7 or ucs2, not {coding!r}")
    if coding in (None, "gsm7"):
        try:
            return text.encode("gsm03.38"), 0
        except UnicodeEncodeError:
            if coding == "gsm7":
                raise ValueError("text has characters outside the GSM-7 alphabet") from None
    return text.encode("utf-16-be"), 8


def parse_line(line: str, system_id: str) -> list[MoMessage]:
    """One line of the MO file (one deliver_sm, or one per part sent); ``ValueError`` says
    what is wrong with it."""
    record: dict[str, Any] = {}
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from None
        if not isinstance(record, dict):
            raise ValueError("a JSON line must be an object")
        source, destination, text = record.get("from"), record.get("to"), record.get("text")
        coding = record.get("coding")
    else:
        parts = line.split(" ", 2)
        if len(parts) < 3:
            raise ValueError("expected FROM TO TEXT")
        source, destination, text = parts
        coding = None
    if not (isinstance(source, str) and isinstance(destination, str) and isinstance(text, str)):
        raise ValueError("from, to and text must be strings")
    if not (source and destination and text):
        raise ValueError("from, to and text must not be empty")
    if len(source.lstrip("+")) > 20 or len(destination.lstrip("+")) > 20:
        raise ValueError("addresses are at most 20 characters")
    body, data_coding = encode_text(text, coding)
    if "concat" not in record:
        return [MoMessage(source, destination, body, data_coding, system_id)]
    pieces = _pieces(record, body, data_coding)
    return [
        MoMessage(source, destination, piece, data_coding, system_id, esm, tlvs)
        for piece, esm, tlvs in concatenate(record, pieces)
    ]


def _pieces(record: dict[str, object], body: bytes, data_coding: int) -> list[bytes]:
    """The encoded parts: the given ``parts`` texts, or ``body`` cut every ``part_octets``."""
    given = record.get("parts")
    if given is not None:
        if not (isinstance(given, list) and given and all(isinstance(p, str) for p in given)):
            raise ValueError("parts must be a list of texts")
        coding = "ucs2" if data_coding == CODINGS["ucs2"] else "gsm7"
        return [encode_text(p, coding)[0] for p in given]
    octets = record.get("part_octets", 134 if data_coding == 8 else 153)
    if not isinstance(octets, int) or octets < 1:
        raise ValueError("part_octets must be a positive integer")
    return [body[i : i + octets] for i in range(0, len(body), octets)]


def concatenate(
    record: dict[str, object], pieces: list[bytes]
) -> list[tuple[bytes, int, tuple[tuple[int, bytes], ...]]]:
    """(short_message, esm_class, TLVs) of each part to send, in the order asked."""
    concat, ref, total = record.get("concat"), record.get("ref", 1), len(pieces)
    if concat not in CONCATS:
        raise ValueError(f"concat must be one of {', '.join(CONCATS)}")
    if not isinstance(ref, int) or not 0 <= ref <= (0xFF if concat == "udh8" else 0xFFFF):
        raise ValueError("ref must fit the concatenation reference")
    if not 1 <= total <= 255:
        raise ValueError("a concatenated message has 1 to 255 parts")
    order = record.get("order", list(range(1, total + 1)))
    if not (isinstance(order, list) and all(isinstance(n, int) and 1 <= n <= total for n in order)):
        raise ValueError("order must list part numbers")
    sent: list[tuple[bytes, int, tuple[tuple[int, bytes], ...]]] = []
    for seq in order:
        piece = pieces[seq - 1]
        if concat == "udh8":
            sent.append((bytes((5, 0, 3, ref, total, seq)) + piece, 0x40, ()))
        elif concat == "udh16":
            udh = bytes((6, 8, 4)) + ref.to_bytes(2, "big") + bytes((total, seq))
            sent.append((udh + piece, 0x40, ()))
        else:
            tlvs = (
                (TLV_SAR_MSG_REF_NUM, ref.to_bytes(2, "big")),
                (TLV_SAR_TOTAL_SEGMENTS, bytes([total])),
                (TLV_SAR_SEGMENT_SEQNUM, bytes([seq])),
            )
            sent.append((piece, 0, tlvs))
    return sent


class MoFile:
    """Follows a file like ``tail -f``: lines appended after the simulator started."""

    def __init__(self, path: Path, system_id: str) -> None:
        self.path = path
        self.system_id = system_id
        self.rejected = 0
        try:
            self._offset = path.stat().st_size
        except FileNotFoundError:
            self._offset = 0

    def poll(self) -> list[MoMessage]:
        """New complete lines since the last poll, parsed; bad lines are logged and skipped."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self._offset:  # truncated or replaced: start over
            self._offset = 0
        if size == self._offset:
            return []
        with self.path.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read(READ_LIMIT)
        end = chunk.rfind(b"\n")
        if end < 0:
            if len(chunk) == READ_LIMIT:  # one line longer than the limit: skip it
                self._offset += len(chunk)
                self.rejected += 1
            return []
        self._offset += end + 1
        messages = []
        for raw in chunk[:end].splitlines():
            line = raw.decode("utf-8", errors="replace").strip()
            if not line or line.startswith("#"):
                continue
            try:
                messages.extend(parse_line(line, self.system_id))
            except ValueError as exc:
                self.rejected += 1
                log.warning("mo line skipped: %s", exc, extra={"action": "mo_rejected"})
        return messages
