"""Reading REST answers into the SDK's values, or into its exceptions. No I/O.

A reader takes ``(status code, headers, body)``: the expected status gives the value,
a problem+json answer the matching :class:`~centauro.client.errors.APIError`, anything
else (a proxy's HTML page, a wrong shape) a :class:`~centauro.client.errors.ProtocolError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from centauro.client._models import (
    ConnectorHealth,
    Health,
    InboundMessage,
    LedgerEntry,
    Message,
    Page,
    Submission,
    SubmittedMessage,
    Suppression,
    Webhook,
    WebhookDelivery,
)
from centauro.client.errors import ProtocolError, problem_error
from centauro.domain.ids import parse_ascii_int

T = TypeVar("T")

#: ``(status code, headers with case-insensitive names, body)`` of an answer → a value.
Reader = Callable[[int, Mapping[str, str], bytes], T]


# --- reading answers --------------------------------------------------------------------


def decode(
    status: int, headers: Mapping[str, str], content: bytes, ok: Sequence[int] = (200,)
) -> Any:
    """The JSON of an answer whose status is in ``ok``; the matching :class:`APIError` for
    a problem+json answer; :class:`ProtocolError` for anything else."""
    try:
        data = json.loads(content) if content else None
    except ValueError:
        data = None
    if status in ok:
        if data is None and content:
            raise ProtocolError(
                f"HTTP {status} with a body that is not JSON", status_code=status, body=content
            )
        return data
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        retry = headers.get("retry-after")
        seconds = _seconds(retry)
        raise problem_error(status, data, retry_after=seconds)
    raise ProtocolError(
        f"the gateway answered HTTP {status} without a problem+json body",
        status_code=status,
        body=content,
    )


def reader(build: Callable[[Any], T], ok: Sequence[int] = (200,)) -> Reader[T]:
    def read(status: int, headers: Mapping[str, str], content: bytes) -> T:
        data = decode(status, headers, content, ok)
        try:
            return build(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(
                f"unexpected answer shape ({type(exc).__name__}: {exc})",
                status_code=status,
                body=content,
            ) from None

    return read


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time without offset: {value!r}")
    return parsed


def _opt_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def page(item: Callable[[dict[str, Any]], T]) -> Callable[[Any], Page[T]]:
    def build(data: Any) -> Page[T]:
        return Page([item(d) for d in data["data"]], data["next_cursor"])

    return build


def _submitted(d: dict[str, Any]) -> SubmittedMessage:
    return SubmittedMessage(
        d["id"], d["to"], d["status"], d["error"], d["segments"], d["encoding"], d["cost"],
        d["reference"],
    )  # fmt: skip


def submission(status: int, headers: Mapping[str, str], content: bytes) -> Submission:
    replayed = headers.get("idempotent-replayed") == "true"
    build = reader(
        lambda d: Submission([_submitted(m) for m in d["messages"]], d["cost"], d["balance"]),
        ok=(202,),
    )
    submission = build(status, headers, content)
    return Submission(submission.messages, submission.cost, submission.balance, replayed)


def message(d: dict[str, Any]) -> Message:
    return Message(
        id=d["id"],
        to=d["to"],
        text=d["text"],
        status=d["status"],
        error=d["error"],
        segments=d["segments"],
        encoding=d["encoding"],
        cost=d["cost"],
        reference=d["reference"],
        category=d["category"],
        connector=d["connector"],
        created_at=_time(d["created_at"]),
        scheduled_for=_opt_time(d["scheduled_for"]),
        sent_at=_opt_time(d["sent_at"]),
        done_at=_opt_time(d["done_at"]),
        expires_at=_opt_time(d["expires_at"]),
        sender=d.get("from"),
    )


def ledger_entry(d: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        d["id"], d["kind"], d["amount"], d["balance_after"], d["message_id"], d["messages"],
        d["note"], _time(d["created_at"]),
    )  # fmt: skip


def inbound_message(d: dict[str, Any]) -> InboundMessage:
    return InboundMessage(
        d["id"], d["from"], d["to"], d["text"], d["connector"], _time(d["received_at"])
    )


def health_answer(d: dict[str, Any]) -> Health:
    connectors = [
        ConnectorHealth(
            c["name"],
            c["kind"],
            c["state"],
            c.get("in_flight"),
            c.get("queued"),
            c.get("tps"),
            c.get("submitted"),
            c.get("last_error"),
            _opt_time(c.get("up_since")),
        )
        for c in d.get("connectors") or ()
    ]
    return Health(d["status"], d.get("version"), d.get("store"), connectors)


def webhook(d: dict[str, Any]) -> Webhook:
    return Webhook(
        d["id"], d["url"], list(d["events"]), d["enabled"], _time(d["created_at"]), d.get("secret")
    )


def delivery(d: dict[str, Any]) -> WebhookDelivery:
    return WebhookDelivery(
        d["id"], d["event"], d["status"], d["attempts"], d["last_status"], d["last_error"],
        _time(d["created_at"]), _opt_time(d["delivered_at"]), _opt_time(d["next_attempt_at"]),
    )  # fmt: skip


def suppression(d: dict[str, Any]) -> Suppression:
    return Suppression(d["number"], d["source"], _time(d["created_at"]))


def nothing(status: int, headers: Mapping[str, str], content: bytes) -> None:
    decode(status, headers, content, ok=(204,))


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (``"2"``, ``"1.5"``); None for a date or anything else."""
    whole, dot, fraction = (value or "").partition(".")
    if parse_ascii_int(whole) is None or (dot and parse_ascii_int(fraction) is None):
        return None
    return float(f"{whole}.{fraction or 0}")
