"""Delivery receipts: the de-facto text format and the SMPP 3.4 TLVs, to a ``Receipt``.

The text (SMPP 3.4 Appendix B, which calls itself an example, so every SMSC varies)::

    id:0123456789 sub:001 dlvrd:001 submit date:2601011200 done date:2601011201
    stat:DELIVRD err:000 text:Hola...

Keys are matched case-insensitively, in any order, any of them may be missing, and
``text:`` (the start of the message) may contain anything, ``stat:`` included. When the
receipt also carries ``receipted_message_id`` / ``message_state`` TLVs, those win: they
are typed fields, while the text is free-form. The carrier id is kept exactly as written;
matching hex against decimal, or leading zeros, is delivery's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from centauro.connectors.base import InboundPart, InboundSms, Receipt
from centauro.connectors.smpp import codec
from centauro.domain.ids import parse_ascii_int
from centauro.domain.states import MessageState

TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_NETWORK_ERROR_CODE = 0x0423
TLV_MESSAGE_STATE = 0x0427

ESM_DELIVERY_RECEIPT = 0x04
ESM_INTERMEDIATE_NOTIFICATION = 0x20

_FINAL = {
    "DELIVRD": MessageState.DELIVERED,
    "DELIVERED": MessageState.DELIVERED,
    "UNDELIV": MessageState.UNDELIVERED,
    "UNDELIVERABLE": MessageState.UNDELIVERED,
    "EXPIRED": MessageState.EXPIRED,
    "REJECTD": MessageState.REJECTED,
    "REJECTED": MessageState.REJECTED,
    "DELETED": MessageState.UNDELIVERED,
    "UNKNOWN": MessageState.UNDELIVERED,
}
_NOT_FINAL = frozenset({"ENROUTE", "ACCEPTD", "ACCEPTED", "SCHEDULED"})

#: message_state TLV (SMPP 3.4 §5.2.28): None where the state is not final.
_MESSAGE_STATE: dict[int, MessageState | None] = {
    1: None,  # ENROUTE
    2: MessageState.DELIVERED,
    3: MessageState.EXPIRED,
    4: MessageState.UNDELIVERED,  # DELETED
    5: MessageState.UNDELIVERED,  # UNDELIVERABLE
    6: None,  # ACCEPTED
    7: MessageState.UNDELIVERED,  # UNKNOWN
    8: MessageState.REJECTED,
}

_KEY = re.compile(
    r"(?:^|(?<=\s))(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text)\s?:", re.IGNORECASE
)


class BadReceipt(ValueError):
    """A receipt we cannot use: no carrier id, or a state we do not know."""


@dataclass(frozen=True, slots=True)
class Fields:
    """What a receipt says, before deciding whether it is final."""

    carrier_id: str | None
    stat: str | None
    error: str | None
    done_at: datetime | None


def is_receipt(esm_class: int, tlv_tags: Iterable[int]) -> bool:
    """Whether a deliver_sm is a receipt (or intermediate notification), not an MO."""
    if esm_class & (ESM_DELIVERY_RECEIPT | ESM_INTERMEDIATE_NOTIFICATION):
        return True
    return TLV_RECEIPTED_MESSAGE_ID in tlv_tags


def parse_text(text: str) -> dict[str, str]:
    """The ``key:value`` fields of a receipt text, keys lower-case.

    A value runs to the next key. Everything after ``text:`` is the message's own text,
    unless ``id`` or ``stat`` is still missing: then keys after it are read as well (a
    carrier that puts ``text:`` first).
    """
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for index, match in enumerate(matches):
        key = match.group(1).lower().replace("_", " ")
        if key in fields:
            continue
        if key == "text" and "id" in fields and "stat" in fields:
            fields[key] = text[match.end() :]
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields[key] = text[match.end() : end].strip()
    return fields


def parse_done_date(value: str | None) -> datetime | None:
    """``YYMMDDhhmm`` or ``YYMMDDhhmmss`` as UTC; None when absent or malformed."""
    if not value or len(value) not in (10, 12) or parse_ascii_int(value, max_digits=12) is None:
        return None
    # Sliced by hand: strptime costs more than the rest of the receipt's parsing.
    try:
        return datetime(
            2000 + int(value[0:2]),
            int(value[2:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12] or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _tlv_string(value: bytes) -> str:
    return value.rstrip(b"\x00").decode("latin-1").strip()


def fields_of(text: str, tlvs: dict[int, bytes]) -> Fields:
    """Everything the receipt says, TLVs winning over the text."""
    parsed = parse_text(text)
    carrier_id = parsed.get("id") or None
    if TLV_RECEIPTED_MESSAGE_ID in tlvs:
        carrier_id = _tlv_string(tlvs[TLV_RECEIPTED_MESSAGE_ID]) or carrier_id
    error = parsed.get("err") or None
    if error is not None and not error.strip("0"):
        error = None  # err:000 means "no error"
    network_error = tlvs.get(TLV_NETWORK_ERROR_CODE)
    if error is None and network_error and len(network_error) == 3:
        error = f"network:{network_error[0]}:{int.from_bytes(network_error[1:], 'big')}"
    done_at = parse_done_date(parsed.get("done date"))
    stat = parsed.get("stat")
    return Fields(
        carrier_id,
        stat.split()[0].upper() if stat else None,
        error,
        done_at.replace(tzinfo=UTC) if done_at else None,
    )


def parse_receipt(connector: str, text: str, tlvs: dict[int, bytes]) -> Receipt | None:
    """A final receipt, or None when the report is intermediate (ENROUTE, ACCEPTD).

    Raises :class:`BadReceipt` when there is no carrier id or no state we know.
    """
    fields = fields_of(text, tlvs)
    if not fields.carrier_id:
        raise BadReceipt("receipt without a message id")
    state: MessageState | None
    raw_state = tlvs.get(TLV_MESSAGE_STATE)
    if raw_state and int.from_bytes(raw_state, "big") in _MESSAGE_STATE:
        state = _MESSAGE_STATE[int.from_bytes(raw_state, "big")]
    elif fields.stat in _FINAL:
        state = _FINAL[fields.stat]
    elif fields.stat in _NOT_FINAL:
        state = None
    else:
        raise BadReceipt(f"receipt with an unknown state: {fields.stat!r}")
    if state is None:
        return None
    return Receipt(connector, fields.carrier_id, state, fields.error, fields.done_at)


def read_deliver_sm(
    connector: str,
    esm_class: int,
    data_coding: int,
    short_message: bytes,
    tlvs: dict[int, bytes],
    source: str,
    destination: str,
) -> Receipt | InboundSms | None:
    """What a deliver_sm is: a final receipt, an MO, or None (an intermediate report).

    Receipt text is ASCII in practice whatever data_coding says (GSM-7 would turn ``_``
    in ``submit_date`` into ``§``), so it is read as Latin-1 unless it is UCS-2.
    Raises :class:`BadReceipt` for a receipt that cannot be used.
    """
    body = short_message or tlvs.get(codec.TLV_MESSAGE_PAYLOAD, b"")
    if is_receipt(esm_class, tlvs):
        ucs2 = data_coding == codec.DC_UCS2
        text = codec.decode_bytes(body, data_coding) if ucs2 else body.decode("latin-1")
        return parse_receipt(connector, text, tlvs)
    data, concat = codec.user_data(short_message, esm_class, tlvs)
    text = codec.decode_bytes(data, data_coding)
    part = None
    if concat is not None:
        part = InboundPart(concat.reference, concat.total, concat.seq, data_coding, data)
    return InboundSms(connector, source, destination, text, datetime.now(UTC), part)
