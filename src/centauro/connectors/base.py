"""The one small interface between delivery and carriers.

A connector takes one message at a time and says what the carrier did with it, in one
of three words: :class:`Accepted` (with the carrier's id), :class:`RetryLater`, or
:class:`Rejected`. Windows, rates, binds and reconnects live inside the connector.
Receipts and inbound messages arrive later, pushed into the :class:`Inbox` the
connector was started with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from centauro.domain.states import MessageState


@dataclass(frozen=True, slots=True)
class OutboundSms:
    message_id: int
    recipient: str  #: E.164
    text: str
    encoding: str  #: "gsm7" or "ucs2" (centauro.domain.text.Encoding)
    segments: int


@dataclass(frozen=True, slots=True)
class Accepted:
    """The carrier took the message and will report on it under ``carrier_id``."""

    carrier_id: str


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Not now (link down, throttled, temporary error); try again after ``after`` seconds."""

    reason: str
    after: float | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """The carrier refused the message for good."""

    reason: str


SubmitOutcome = Accepted | RetryLater | Rejected


@dataclass(frozen=True, slots=True)
class Receipt:
    """A delivery report for a message the carrier accepted earlier."""

    connector: str
    carrier_id: str
    state: MessageState
    error: str | None = None
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A message a handset sent to us (MO)."""

    connector: str
    sender: str
    recipient: str
    text: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    name: str
    kind: str
    state: str  #: "up", "connecting", "down", "stopped"
    in_flight: int = 0
    submitted: int = 0
    last_error: str | None = None
    since: datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)


class Inbox(Protocol):
    """Where connectors push what carriers report. Implemented by delivery."""

    async def receipt(self, receipt: Receipt) -> None: ...

    async def inbound(self, sms: InboundSms) -> None: ...


class Connector(Protocol):
    name: str

    async def start(self, inbox: Inbox) -> None: ...

    async def submit(self, sms: OutboundSms) -> SubmitOutcome: ...

    def status(self) -> ConnectorStatus: ...

    async def stop(self) -> None: ...
