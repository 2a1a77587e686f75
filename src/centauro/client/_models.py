"""The SDK's values: what you pass in and what the gateway answers, compat and REST.

Frozen dataclasses, so a result can be shared, cached or logged without anyone changing it
under you; built from the wire answer only in :mod:`centauro.client._base` (compat) and
:mod:`centauro.client._rest` (REST). REST ids stay strings, as on the wire (64-bit safe
everywhere); times are aware ``datetime`` values in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

__all__ = [
    "BatchItem",
    "ConnectorHealth",
    "Health",
    "InboundMessage",
    "LedgerEntry",
    "Message",
    "Page",
    "Personalized",
    "SendResult",
    "SentMessage",
    "Submission",
    "SubmittedMessage",
    "Suppression",
    "Webhook",
    "WebhookDelivery",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Personalized:
    """One recipient of a personalised send: its own number and text.

    ``reference`` is your own id for the recipient (the protocol's ``id``); the gateway
    stores it but does not echo it in the answer, so match results by position.
    """

    number: str
    text: str
    name: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One recipient's row of a send answer (one entry of the protocol's ``datos``)."""

    #: The answer's ``Cel``: the national number without country code or trunk zero
    #: (``584140000000`` → ``4140000000``) when valid, as you wrote it when rejected.
    number: str
    #: The gateway's id for this message, ``None`` when the recipient was rejected.
    message_id: str | None
    #: The answer's ``StatusText``, e.g. ``Message accepted for delivery`` or
    #: ``Rejected: invalid number`` (see ``centauro.compat.codes.StatusText``).
    status_text: str
    #: Whether the gateway took the message; rejected rows cost no credit.
    accepted: bool
    #: The answer's ``Nom`` (empty unless given).
    name: str
    #: The answer's ``Msg``: the text as it will be sent.
    text: str


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one send request: a row per recipient, in request order."""

    messages: list[SentMessage]

    @property
    def accepted(self) -> list[SentMessage]:
        """The rows the gateway took for delivery."""
        return [m for m in self.messages if m.accepted]

    @property
    def rejected(self) -> list[SentMessage]:
        """The rows it refused (invalid or duplicate numbers); they cost nothing."""
        return [m for m in self.messages if not m.accepted]

    @property
    def message_ids(self) -> list[str]:
        """The ids of the accepted messages, in request order."""
        return [m.message_id for m in self.messages if m.message_id is not None]


# --- REST API ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One recipient of ``send_batch``: its number, its own text, your reference."""

    to: str
    text: str
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class SubmittedMessage:
    """One recipient's entry in the answer to a REST send, in request order."""

    id: str | None  #: None when rejected
    to: str  #: E.164 (``+584141234567``) when valid, as you wrote it when not
    status: str  #: ``queued``, ``scheduled`` or ``rejected``
    error: str | None  #: ``invalid_number``, ``duplicate`` or ``opted_out`` when rejected
    segments: int
    encoding: str  #: ``gsm7`` or ``ucs2``
    cost: int
    reference: str | None

    @property
    def accepted(self) -> bool:
        return self.status != "rejected"


@dataclass(frozen=True, slots=True)
class Submission:
    """The answer to ``send_message`` / ``send_batch``: an entry per recipient."""

    messages: list[SubmittedMessage]
    cost: int  #: credits charged for the whole request
    balance: int  #: credits left after it
    #: The stored first answer to this ``idempotency_key``: nothing was sent this time.
    replayed: bool = False

    @property
    def accepted(self) -> list[SubmittedMessage]:
        return [m for m in self.messages if m.accepted]

    @property
    def rejected(self) -> list[SubmittedMessage]:
        return [m for m in self.messages if not m.accepted]

    @property
    def message_ids(self) -> list[str]:
        return [m.id for m in self.messages if m.id is not None]


@dataclass(frozen=True, slots=True)
class Message:
    """A message as ``get_message`` and ``list_messages`` show it."""

    id: str
    to: str
    text: str
    status: str  #: scheduled, queued, sent, delivered, undelivered, expired, rejected…
    error: str | None
    segments: int
    encoding: str
    cost: int
    reference: str | None
    category: str
    connector: str | None
    created_at: datetime
    scheduled_for: datetime | None  #: while ``scheduled``: when it goes out
    sent_at: datetime | None
    done_at: datetime | None
    expires_at: datetime | None
    sender: str | None = None  #: the sender ID (REST ``from``); None: the connection's own


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` for the next (None: last)."""

    data: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: str
    kind: str  #: ``charge`` (negative), ``topup`` or ``refund``
    amount: int
    balance_after: int
    message_id: str | None
    messages: int
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message a handset sent in answer to this account (the wire's ``from``/``to``)."""

    id: str
    sender: str
    to: str
    text: str
    connector: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ConnectorHealth:
    name: str
    kind: str
    state: str
    #: The figures below are shown to the operator only (None to an account).
    in_flight: int | None = None
    queued: int | None = None
    tps: float | None = None
    submitted: int | None = None  #: parts submitted since that server process started
    last_error: str | None = None
    up_since: datetime | None = None  #: when the bind's current state began


@dataclass(frozen=True, slots=True)
class Health:
    """``GET /v1/health``; a gateway whose store is down answers it too (``ok`` False).

    ``version``, ``store`` and ``connectors`` come with credentials only.
    """

    status: str  #: ``ok`` or ``degraded``
    version: str | None = None
    store: str | None = None  #: ``ok`` or ``unavailable``
    connectors: list[ConnectorHealth] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    url: str
    events: list[str]
    enabled: bool
    created_at: datetime
    #: The signing secret: only in the answer to ``create_webhook``, never again.
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: str
    event: str
    status: str  #: ``pending``, ``delivered`` or ``failed``
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class Suppression:
    number: str  #: E.164
    source: str  #: ``inbound`` (BAJA/STOP), ``api`` or ``cli``
    created_at: datetime
