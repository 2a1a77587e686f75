"""The REST API (docs/rest.md), pure: each endpoint is a request and a reader. No I/O.

Every endpoint function here returns a :class:`Call`: the :class:`~centauro.client._base.
PreparedRequest` to send and the reader (:mod:`centauro.client._answers`) that turns the
answer (status, headers, body) into a value or an exception. ``Client`` and
``AsyncClient`` only move the bytes, so the two cannot drift apart and every rule is
tested without a network.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

from centauro import __version__
from centauro.client._answers import (
    Reader,
    delivery,
    health_answer,
    inbound_message,
    ledger_entry,
    message,
    nothing,
    page,
    reader,
    submission,
    suppression,
    webhook,
)
from centauro.client._base import Credentials, PreparedRequest
from centauro.client._models import (
    BatchItem,
    Health,
    InboundMessage,
    LedgerEntry,
    Message,
    Page,
    Submission,
    Suppression,
    Webhook,
    WebhookDelivery,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One REST exchange: what to send, and how to read what comes back."""

    request: PreparedRequest
    read: Reader[T]


def request(
    base_url: str,
    creds: Credentials | None,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    body: Any = None,
    idempotency_key: str | None = None,
) -> PreparedRequest:
    """A REST request: HTTP Basic credentials, JSON body, query without ``None`` values."""
    url = base_url + "/v1" + path
    query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
    if query:
        url += "?" + urlencode(query)
    headers = [("Accept", "application/json"), ("User-Agent", f"centauro-python/{__version__}")]
    if creds is not None:
        token = f"{creds.client_id}:{creds.client_secret}".encode()
        headers.append(("Authorization", "Basic " + base64.b64encode(token).decode("ascii")))
    content = b""
    if body is not None:
        headers.append(("Content-Type", "application/json"))
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    if idempotency_key is not None:
        headers.append(("Idempotency-Key", idempotency_key))
    return PreparedRequest(method, url, tuple(headers), content)


def _query_value(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("times must be timezone-aware (e.g. datetime.now(UTC))")
        return value.isoformat()
    return str(value)


def _segment(value: str | int) -> str:
    return quote(str(value), safe="")


# --- the endpoints ----------------------------------------------------------------------


def _options(
    schedule_at: datetime | None,
    validity_period: int | None,
    callback_url: str | None,
    category: str | None,
    sender: str | None = None,
) -> dict[str, Any]:
    if schedule_at is not None and schedule_at.tzinfo is None:
        raise ValueError("schedule_at must be timezone-aware (e.g. datetime.now(UTC))")
    options = {
        "schedule_at": schedule_at.isoformat() if schedule_at is not None else None,
        "validity_period": validity_period,
        "callback_url": callback_url,
        "category": category,
        "from": sender,
    }
    return {k: v for k, v in options.items() if v is not None}


def send_message(
    base_url: str,
    creds: Credentials,
    to: str | Sequence[str],
    text: str,
    *,
    reference: str | None = None,
    schedule_at: datetime | None = None,
    validity_period: int | None = None,
    callback_url: str | None = None,
    category: str | None = None,
    idempotency_key: str | None = None,
    sender: str | None = None,
) -> Call[Submission]:
    body: dict[str, Any] = {"to": to if isinstance(to, str) else list(to), "text": text}
    if reference is not None:
        body["reference"] = reference
    body.update(_options(schedule_at, validity_period, callback_url, category, sender))
    req = request(base_url, creds, "POST", "/messages", body=body, idempotency_key=idempotency_key)
    return Call(req, submission)


def send_batch(
    base_url: str,
    creds: Credentials,
    items: Sequence[BatchItem | tuple[str, str] | Mapping[str, Any]],
    *,
    schedule_at: datetime | None = None,
    validity_period: int | None = None,
    callback_url: str | None = None,
    category: str | None = None,
    idempotency_key: str | None = None,
    sender: str | None = None,
) -> Call[Submission]:
    messages: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, BatchItem):
            entry = {"to": item.to, "text": item.text, "reference": item.reference}
        elif isinstance(item, tuple) and len(item) == 2:
            entry = {"to": item[0], "text": item[1]}
        elif isinstance(item, Mapping):
            entry = dict(item)
        else:
            raise TypeError("each item must be a BatchItem, a (to, text) tuple or a dict")
        messages.append({k: v for k, v in entry.items() if v is not None})
    options = _options(schedule_at, validity_period, callback_url, category, sender)
    body = {"messages": messages, **options}
    req = request(
        base_url, creds, "POST", "/messages/batch", body=body, idempotency_key=idempotency_key
    )
    return Call(req, submission)


def get_message(base_url: str, creds: Credentials, message_id: str | int) -> Call[Message]:
    req = request(base_url, creds, "GET", f"/messages/{_segment(message_id)}")
    return Call(req, reader(message))


def cancel_message(base_url: str, creds: Credentials, message_id: str | int) -> Call[Message]:
    req = request(base_url, creds, "DELETE", f"/messages/{_segment(message_id)}")
    return Call(req, reader(message))


def list_messages(
    base_url: str,
    creds: Credentials,
    *,
    status: str | None = None,
    to: str | None = None,
    reference: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call[Page[Message]]:
    params = {
        "status": status,
        "to": to,
        "reference": reference,
        "since": since,
        "until": until,
        "limit": limit,
        "cursor": cursor,
    }
    return Call(request(base_url, creds, "GET", "/messages", params=params), reader(page(message)))


def balance(base_url: str, creds: Credentials) -> Call[int]:
    return Call(request(base_url, creds, "GET", "/balance"), reader(lambda d: int(d["balance"])))


def _paged(
    base_url: str,
    creds: Credentials,
    path: str,
    item: Callable[[dict[str, Any]], T],
    limit: int | None,
    cursor: str | None,
) -> Call[Page[T]]:
    req = request(base_url, creds, "GET", path, params={"limit": limit, "cursor": cursor})
    return Call(req, reader(page(item)))


def ledger(
    base_url: str, creds: Credentials, *, limit: int | None = None, cursor: str | None = None
) -> Call[Page[LedgerEntry]]:
    return _paged(base_url, creds, "/ledger", ledger_entry, limit, cursor)


def inbound(
    base_url: str, creds: Credentials, *, limit: int | None = None, cursor: str | None = None
) -> Call[Page[InboundMessage]]:
    return _paged(base_url, creds, "/inbound", inbound_message, limit, cursor)


def health(base_url: str, creds: Credentials | None = None) -> Call[Health]:
    """``/v1/health``: without credentials only ``status``; with an account's, the version,
    store and connector states. A ``503`` still carries the health answer."""
    return Call(request(base_url, creds, "GET", "/health"), reader(health_answer, ok=(200, 503)))


def create_webhook(
    base_url: str,
    creds: Credentials,
    url: str,
    events: Sequence[str] | None = None,
    *,
    idempotency_key: str | None = None,
) -> Call[Webhook]:
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = list(events)
    req = request(base_url, creds, "POST", "/webhooks", body=body, idempotency_key=idempotency_key)
    return Call(req, reader(webhook, ok=(201,)))


def list_webhooks(base_url: str, creds: Credentials) -> Call[list[Webhook]]:
    req = request(base_url, creds, "GET", "/webhooks")
    return Call(req, reader(lambda d: [webhook(w) for w in d["data"]]))


def delete_webhook(base_url: str, creds: Credentials, webhook_id: str | int) -> Call[None]:
    return Call(request(base_url, creds, "DELETE", f"/webhooks/{_segment(webhook_id)}"), nothing)


def webhook_deliveries(
    base_url: str,
    creds: Credentials,
    webhook_id: str | int,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call[Page[WebhookDelivery]]:
    path = f"/webhooks/{_segment(webhook_id)}/deliveries"
    return _paged(base_url, creds, path, delivery, limit, cursor)


def list_suppressions(
    base_url: str, creds: Credentials, *, limit: int | None = None, cursor: str | None = None
) -> Call[Page[Suppression]]:
    return _paged(base_url, creds, "/suppressions", suppression, limit, cursor)


def add_suppression(
    base_url: str, creds: Credentials, number: str, *, idempotency_key: str | None = None
) -> Call[Suppression]:
    req = request(
        base_url,
        creds,
        "POST",
        "/suppressions",
        body={"number": number},
        idempotency_key=idempotency_key,
    )
    return Call(req, reader(suppression, ok=(200, 201)))


def remove_suppression(base_url: str, creds: Credentials, number: str) -> Call[None]:
    return Call(request(base_url, creds, "DELETE", f"/suppressions/{_segment(number)}"), nothing)
