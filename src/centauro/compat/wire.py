"""Decode compat requests and encode their answers, byte-compatible with the original.

A request is read in two steps, because authentication sits between them (a wrong secret
must answer ``301`` even when the payload is also missing or broken):

1. :func:`read_envelope` — ``client_opcion`` missing or empty: ``303``;
   ``client_id`` or ``client_secret`` missing or empty: ``300``;
   ``client_opcion`` not one of :class:`Operation`: ``304``.
2. The caller authenticates (``301``), then calls :func:`decode_post_payload` or
   :func:`decode_get_payload` — first every field the operation needs must be present and
   non-empty (``300``), then the fields are decoded (``304`` when they cannot be), then an
   empty recipient list, or a ``send_sms_personalizado`` recipient without ``msg``, is
   ``300`` (the parameter the operation needs is, in effect, missing).

Errors are raised as our exception tree; :func:`centauro.compat.codes.code_for` maps them.
Text is not validated here: NUL and other control characters pass through, and the
service runs ``centauro.domain.text.check_sendable`` and ``centauro.domain.inputs`` on
texts, names and references (``304`` too). Only ``client_id`` is checked here, before
it is looked up.

Answers are built with :mod:`json` and then made identical to PHP's ``json_encode``
defaults: ``/`` escaped as ``\\/``, DEL (0x7f) left raw. Non-ASCII is ``\\uXXXX`` with
lower-case hex in both, and control characters use the same short escapes.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple, NoReturn

from centauro.compat.codes import OPERATION_FIELD, Code
from centauro.compat.phpurl import decode_field
from centauro.domain.errors import MissingParameter, UndecodableField, UnknownOperation
from centauro.domain.inputs import first_forbidden

__all__ = [
    "CompatRequest",
    "Envelope",
    "Operation",
    "Payload",
    "Recipient",
    "ResultRow",
    "decode_get_payload",
    "decode_post_payload",
    "encode_balance_answer",
    "encode_error",
    "encode_send_answer",
    "parse_recipients",
    "read_envelope",
]


class Operation(enum.StrEnum):
    """The values of ``client_opcion``."""

    SMS_DISPONIBLES = "sms_disponibles"
    SEND_SMS = "send_sms"
    SEND_SMS_PERSONALIZADO = "send_sms_personalizado"


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient as the caller sent it; ``cel`` is not validated yet."""

    id: str
    cel: str
    nom: str
    msg: str | None  #: per-recipient text (``send_sms_personalizado``); ignored otherwise


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One entry of ``datos`` in a send answer."""

    nom: str
    cel: str
    message_id: str
    status_text: str
    msg: str


@dataclass(frozen=True, slots=True)
class Envelope:
    """What authentication and dispatch need, read before the payload is touched."""

    client_id: str
    client_secret: str = field(repr=False)
    operation: Operation


class Payload(NamedTuple):
    """The decoded payload: recipients in request order, and the ``send_sms`` text."""

    recipients: list[Recipient]
    text: str | None


@dataclass(frozen=True, slots=True)
class CompatRequest:
    """A whole decoded request, for callers that want envelope and payload together."""

    client_id: str
    client_secret: str = field(repr=False)
    operation: Operation
    recipients: list[Recipient]
    text: str | None

    @classmethod
    def of(cls, envelope: Envelope, payload: Payload) -> CompatRequest:
        """Join the two decoding steps' results."""
        return cls(
            envelope.client_id,
            envelope.client_secret,
            envelope.operation,
            payload.recipients,
            payload.text,
        )


# --- requests ---------------------------------------------------------------------------


def read_envelope(fields: Mapping[str, str]) -> Envelope:
    """Check the operation and the credentials' presence (step 1 of the module docstring)."""
    operation = fields.get(OPERATION_FIELD, "")
    if not operation:
        raise MissingParameter(OPERATION_FIELD)
    client_id = fields.get("client_id", "")
    if not client_id:
        raise MissingParameter("client_id")
    client_secret = fields.get("client_secret", "")
    if not client_secret:
        raise MissingParameter("client_secret")
    if first_forbidden(client_id) is not None:  # no id holds one; the store may not take it
        raise UndecodableField("client_id", "client_id holds a control character")
    try:
        return Envelope(client_id, client_secret, Operation(operation))
    except ValueError:
        raise UnknownOperation(f"unknown operation: {operation[:40]!r}") from None


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "")
    if not value:
        raise MissingParameter(name)
    return value


def decode_post_payload(envelope: Envelope, fields: Mapping[str, str]) -> Payload:
    """Decode the base64+urlencoded ``json`` (and ``msg``) of ``POST /controllersms/``."""
    if envelope.operation is Operation.SMS_DISPONIBLES:
        return Payload([], None)
    raw_json = _required(fields, "json")
    raw_msg = _required(fields, "msg") if envelope.operation is Operation.SEND_SMS else None
    recipients_text = decode_field(raw_json, "json")
    text = None if raw_msg is None else decode_field(raw_msg, "msg")
    recipients = parse_recipients(recipients_text)
    if envelope.operation is Operation.SEND_SMS_PERSONALIZADO and not all(
        r.msg for r in recipients
    ):
        raise MissingParameter("msg")
    return Payload(recipients, text)


def decode_get_payload(envelope: Envelope, fields: Mapping[str, str]) -> Payload:
    """Read the plain ``num`` and ``msg`` of ``GET /http/``.

    ``num`` holds one number or several separated by commas; items are stripped (an
    unescaped ``+58…`` arrives as `` 58…``) and empty ones skipped. GET carries no
    per-recipient texts, so ``send_sms_personalizado`` is an unknown operation there.
    """
    if envelope.operation is Operation.SMS_DISPONIBLES:
        return Payload([], None)
    if envelope.operation is not Operation.SEND_SMS:
        raise UnknownOperation(f"{envelope.operation} is not available over GET")
    numbers = [n for n in (item.strip() for item in fields.get("num", "").split(",")) if n]
    if not numbers:
        raise MissingParameter("num")
    text = _required(fields, "msg")
    return Payload([Recipient("", n, "", None) for n in numbers], text)


class _FloatLiteral(str):
    """A JSON number with a fraction or exponent, kept as written until normalised."""

    __slots__ = ()


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _float_text(literal: str) -> str:
    """``4140000000.0`` or ``4.14e9`` (what PHP sends for big ints) → ``"4140000000"``.

    Other numbers keep their literal text; the exponent bound keeps ``1e999999`` cheap.
    """
    number = Decimal(literal)
    if number.adjusted() < 20 and number == number.to_integral_value():
        return str(int(number))
    return literal


def _value(value: object) -> str | None:
    """A recipient value as text: strings as they are, numbers as decimal text."""
    if value is None:
        return None
    if type(value) is str:  # JSON strings, and integers (parse_int=str keeps their text)
        return value
    if type(value) is _FloatLiteral:
        return _float_text(value)
    raise ValueError(f"not a string or number: {type(value).__name__}")


#: A ``\uD800``–``\uDFFF`` escape: the cheap test that lets clean input skip the scan.
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(items: object) -> bool:
    """Whether any string in the parsed recipients is not encodable as UTF-8."""
    if not isinstance(items, list):
        return False
    for item in items:
        if isinstance(item, dict):
            for value in item.values():
                if isinstance(value, str):
                    try:
                        value.encode("utf-8")
                    except UnicodeEncodeError:
                        return True
    return False


def parse_recipients(text: str) -> list[Recipient]:
    """Parse the recipients TEXT: one object, objects joined by commas, or an array.

    The comma form is parsed by wrapping it in brackets, so all three take one
    ``json.loads``. Values may be strings or numbers (PHP sends ``"id":0``, and integers
    too big for 32-bit PHP as floats); ``null`` or missing ``id``/``nom``/``cel`` are
    ``""``. A missing or empty ``cel`` is kept: it becomes an "invalid number" row, not a
    request error. Raises ``MissingParameter("json")`` when there is no recipient at all,
    ``UndecodableField("json")`` for anything else that is not a list of flat objects.
    """
    text = text.strip()
    if text.startswith("\ufeff"):  # a byte-order mark from a Windows editor
        text = text[1:].lstrip()
    if not text:
        raise MissingParameter("json")
    if not text.startswith("["):
        text = f"[{text}]"
    try:
        items = json.loads(
            text, parse_int=str, parse_float=_FloatLiteral, parse_constant=_reject_constant
        )
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise UndecodableField("json") from exc
    if _LONE_SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(items):
        # "\udc00" is valid JSON syntax but no text: PHP's json_decode refuses it too.
        raise UndecodableField("json", "a value holds an unpaired surrogate escape")
    if not items:
        raise MissingParameter("json")
    recipients: list[Recipient] = []
    try:
        for item in items:
            if type(item) is not dict:
                raise ValueError("a recipient is not a JSON object")
            get = item.get
            recipients.append(
                Recipient(
                    _value(get("id")) or "",
                    _value(get("cel")) or "",
                    _value(get("nom")) or "",
                    _value(get("msg")),
                )
            )
    except ValueError as exc:
        raise UndecodableField("json") from exc
    return recipients


# --- answers ----------------------------------------------------------------------------

#: ``\u007f`` written by Python's escaper, not preceded by an odd run of backslashes (which
#: would make it the text ``\u007f`` after an escaped backslash).
_ESCAPED_DEL = re.compile(r"(?<!\\)((?:\\\\)*)\\u007f")


def _php_json(value: object) -> bytes:
    """``json_encode($value)`` with PHP's default flags."""
    text = json.dumps(value, separators=(",", ":")).replace("/", "\\/")
    if "\\u007f" in text:
        text = _ESCAPED_DEL.sub(lambda m: m[1] + "\x7f", text)
    return text.encode("ascii")


def encode_send_answer(rows: Sequence[ResultRow]) -> bytes:
    """The ``200`` answer of ``send_sms``/``send_sms_personalizado``: all rows in one ``datos``."""
    datos = [
        {
            "Nom": r.nom,
            "Cel": r.cel,
            "Messageid": r.message_id,
            "StatusText": r.status_text,
            "Msg": r.msg,
        }
        for r in rows
    ]
    return _php_json({"status": Code.OK.value, "response": [{"datos": datos}]})


def encode_balance_answer(credits: int) -> bytes:
    """The ``200`` answer of ``sms_disponibles``; the number travels as a string."""
    return _php_json({"status": Code.OK.value, "response": {"sms_disponibles": str(credits)}})


def encode_error(code: Code) -> bytes:
    """The error answer for *code*; ``200`` is not an error and raises ``ValueError``."""
    if code is Code.OK:
        raise ValueError("200 is not an error code")
    return _php_json({"status": code.value, "response": {"error": code.text}})
