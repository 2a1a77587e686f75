"""The SDK's pure core: build requests as bytes, read answers into values. No I/O.

``Client``, ``AsyncClient`` and ``CentauroSMS`` differ only in how they move bytes; every
decision about what goes on the wire and what an answer means lives here once, so the
three cannot drift apart and the rules are tested without a network (httpx's
``BaseClient``/``auth_flow`` split, aesthetics rule 8).

Requests are built as the PHP class ``CentauroSMS`` v1.2 builds them, byte for byte: its
``http_build_query`` of the fields in its order, each value through PHP's ``urlencode``,
and ``json``/``msg`` as ``base64_encode(urlencode($text))``. A gateway that took the PHP
client takes ours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from centauro import __version__
from centauro.client._models import Personalized, SendResult, SentMessage
from centauro.client.errors import ProtocolError, api_error
from centauro.compat.codes import OPERATION_FIELD
from centauro.compat.phpurl import encode_field, php_urlencode
from centauro.domain.ids import parse_ascii_int

#: Seconds each network step (connect, send, each read) may take before a ``TransportError``.
DEFAULT_TIMEOUT = 10.0
COMPAT_PATH = "/controllersms/"
#: The headers the PHP client's cURL call sets, plus who we are.
HEADERS: tuple[tuple[str, str], ...] = (
    ("Accept", "application/json"),
    ("Content-Type", "application/x-www-form-urlencoded"),
    ("User-Agent", f"centauro-python/{__version__}"),
)

#: What ``set_sms_send`` and friends take: the PHP JSON text, one object, or a list of them.
Destinatarios: TypeAlias = str | Mapping[str, Any] | Sequence[Mapping[str, Any]]
#: One recipient of ``send_personalized``.
PersonalizedItem: TypeAlias = tuple[str, str] | Personalized | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Credentials:
    """An account's credentials; the secret stays out of ``repr``, and so out of logs."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request ready for any HTTP library: method, absolute URL, headers, exact body."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


# --- requests ---------------------------------------------------------------------------


def normalize_base_url(base_url: str) -> str:
    """Check *base_url* is ``http(s)://host[/prefix]`` and drop its trailing ``/``.

    Raises ``ValueError`` early, rather than a transport error on the first call.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"base_url must be an http:// or https:// URL, not {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not carry a query or fragment: {base_url!r}")
    return base_url.rstrip("/")


def _compat_request(
    base_url: str, creds: Credentials, operation: str, *payload: tuple[str, str]
) -> PreparedRequest:
    """PHP's ``http_build_query``: each value through ``urlencode``, in the PHP class's
    order (credentials, payload, then ``client_opcion``)."""
    fields = [
        ("client_id", creds.client_id),
        ("client_secret", creds.client_secret),
        *payload,
        (OPERATION_FIELD, operation),
    ]
    body = "&".join(f"{php_urlencode(k)}={php_urlencode(v)}" for k, v in fields)
    return PreparedRequest("POST", base_url + COMPAT_PATH, HEADERS, body.encode("ascii"))


def balance_request(base_url: str, creds: Credentials) -> PreparedRequest:
    """``get_sms_disponibles()``."""
    return _compat_request(base_url, creds, "sms_disponibles")


def send_request(base_url: str, creds: Credentials, recipients: str, text: str) -> PreparedRequest:
    """``set_sms_send($json, $msg)``; *recipients* is the JSON text of the recipients."""
    return _compat_request(
        base_url,
        creds,
        "send_sms",
        ("json", encode_field(recipients)),
        ("msg", encode_field(text)),
    )


def personalized_request(base_url: str, creds: Credentials, recipients: str) -> PreparedRequest:
    """``set_sms_send_personalizado($json)``: each recipient carries its own ``msg``."""
    return _compat_request(
        base_url, creds, "send_sms_personalizado", ("json", encode_field(recipients))
    )


#: ``\u007f`` written by Python's escaper, not preceded by an odd run of backslashes.
_ESCAPED_DEL = re.compile(r"(?<!\\)((?:\\\\)*)\\u007f")


def php_json_encode(value: Any) -> str:
    """PHP's ``json_encode($value)`` with default flags: ``/`` escaped, DEL left raw."""
    text = json.dumps(value, separators=(",", ":")).replace("/", "\\/")
    if "\\u007f" in text:
        text = _ESCAPED_DEL.sub(lambda m: m[1] + "\x7f", text)
    return text


def destinatarios_text(destinatarios: Destinatarios) -> str:
    """The recipients' JSON text: a string as given (PHP callers build it by hand, often
    as objects joined by commas), a dict or a list of dicts as PHP's ``json_encode``."""
    if isinstance(destinatarios, str):
        return destinatarios
    if isinstance(destinatarios, Mapping):
        return php_json_encode(dict(destinatarios))
    items = list(destinatarios) if isinstance(destinatarios, Sequence) else None
    if items is not None and all(isinstance(item, Mapping) for item in items):
        return php_json_encode([dict(item) for item in items if isinstance(item, Mapping)])
    raise TypeError("destinatarios must be a JSON string, a dict, or a list of dicts")


def recipients_for(to: str | Sequence[str]) -> list[dict[str, str]]:
    """``send``'s recipients: a number, numbers separated by commas, or a sequence of them.

    Only blanks are dropped; whether a number is valid is the gateway's call (it answers
    per recipient, or ``304`` when none is).
    """
    items = [to] if isinstance(to, str) else list(to)
    if not all(isinstance(item, str) for item in items):
        raise TypeError("numbers must be strings")
    numbers = [n.strip() for item in items for n in item.split(",")]
    return [{"id": "0", "cel": n, "nom": ""} for n in numbers if n]


_KEYS = ("id", "cel", "nom", "msg")


def personalized_recipients(items: Sequence[PersonalizedItem]) -> list[dict[str, str]]:
    """``send_personalized``'s recipients with the protocol's keys (``id`` ``"0"`` if unset,
    as in the PHP examples)."""
    out: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, Personalized):
            out.append(
                {
                    "id": item.reference or "0",
                    "cel": item.number,
                    "nom": item.name,
                    "msg": item.text,
                }
            )
        elif isinstance(item, tuple) and len(item) == 2:
            number, text = item
            out.append({"id": "0", "cel": str(number), "nom": "", "msg": str(text)})
        elif isinstance(item, Mapping):
            out.append({k: str(item[k]) for k in _KEYS if item.get(k) is not None})
        else:
            raise TypeError(
                "each item must be a (number, text) tuple, a Personalized, or a dict "
                f"with cel/msg keys, not {type(item).__name__}"
            )
    return out


# --- answers ----------------------------------------------------------------------------


def _json_object(content: bytes) -> dict[str, Any] | None:
    """The answer if it is a JSON object with a ``status``; ``None`` otherwise.

    A REST problem+json answer (``type``, ``title``, an int ``status``: what the gateway
    says for a path that is not the compat door) is not a protocol answer either.
    """
    try:
        answer = json.loads(content)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return None
    if not isinstance(answer, dict) or ("type" in answer and "title" in answer):
        return None
    if isinstance(answer.get("status"), str | int):
        return answer
    return None


def _error_text(answer: Mapping[str, Any]) -> str:
    response = answer.get("response")
    if isinstance(response, Mapping) and isinstance(response.get("error"), str):
        return str(response["error"])
    return ""


def decode_answer(
    status_code: int, content: bytes, *, any_http_status: bool = False
) -> dict[str, Any]:
    """The decoded answer, as the server sent it; ``ProtocolError`` if it has no ``status``.

    The gateway answers HTTP 200 for every protocol outcome, so any other status is a
    ``ProtocolError`` — unless *any_http_status*, which ``CentauroSMS`` sets: like the PHP
    class, it returns any answer in the protocol's shape whatever its HTTP status.
    """
    answer = _json_object(content)
    if status_code != 200 and not (any_http_status and answer is not None):
        detail = f" ({answer['status']}: {_error_text(answer)})" if answer is not None else ""
        raise ProtocolError(
            f"the gateway answered HTTP {status_code}{detail}",
            status_code=status_code,
            body=content,
        )
    if answer is None:
        raise ProtocolError(
            "the answer is not a CentauroSMS JSON object (is base_url right?)",
            status_code=status_code,
            body=content,
        )
    return answer


def check_code(answer: Mapping[str, Any]) -> None:
    """Raise the ``APIError`` subclass for a non-``200`` status; return for ``200``."""
    status = str(answer.get("status", ""))
    code = parse_ascii_int(status, max_digits=3)
    if code is None:
        raise ProtocolError(f"status is not a number: {status[:20]!r}")
    if status == "200":
        return
    raise api_error(code, _error_text(answer), dict(answer))


def parse_balance(answer: Mapping[str, Any]) -> int:
    """``sms_disponibles`` of a balance answer, as an int (the wire has ``"500"``)."""
    check_code(answer)
    response = answer.get("response")
    value = response.get("sms_disponibles") if isinstance(response, Mapping) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    parsed = parse_ascii_int(value) if isinstance(value, str) else None
    if parsed is not None:
        return parsed
    raise ProtocolError(f"no sms_disponibles in the answer: {response!r:.200}")


def _row(item: Any) -> SentMessage:
    if not isinstance(item, Mapping):
        raise ProtocolError(f"a datos entry is not an object: {item!r:.200}")
    try:
        cel, message_id, status_text = item["Cel"], item["Messageid"], item["StatusText"]
    except KeyError as exc:
        raise ProtocolError(f"a datos entry lacks {exc.args[0]}: {item!r:.200}") from None
    name, text = item.get("Nom", ""), item.get("Msg", "")
    if not all(isinstance(v, str) for v in (cel, status_text, name, text)) or not isinstance(
        message_id, str | int
    ):
        raise ProtocolError(f"a datos entry has a value of the wrong type: {item!r:.200}")
    mid = str(message_id)
    return SentMessage(
        number=cel,
        message_id=mid or None,
        status_text=status_text,
        accepted=bool(mid),
        name=name,
        text=text,
    )


def parse_send(answer: Mapping[str, Any]) -> SendResult:
    """The rows of a send answer, in request order.

    Our gateway puts every row in one ``datos``; the original service's README also shows
    one ``{"datos": [...]}`` per recipient, so all of them are read, in order.
    """
    check_code(answer)
    response = answer.get("response")
    if not isinstance(response, list):
        raise ProtocolError(f"a send answer's response is not a list: {response!r:.200}")
    rows: list[SentMessage] = []
    for block in response:
        datos = block.get("datos") if isinstance(block, Mapping) else None
        if not isinstance(datos, list):
            raise ProtocolError(f"a send answer's block has no datos list: {block!r:.200}")
        rows.extend(_row(item) for item in datos)
    return SendResult(rows)
