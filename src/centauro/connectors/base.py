"""The one small interface between delivery and carriers.

A connector takes one message at a time and says what the carrier did with it, in one
of three words: :class:`Accepted` (with the carrier's id), :class:`RetryLater`, or
:class:`Rejected`. Windows, rates, binds and reconnects live inside the connector.
Receipts and inbound messages arrive later, pushed into the :class:`Inbox` the
connector was started with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from centauro.domain.states import MessageState


@dataclass(frozen=True, slots=True)
class OutboundSms:
    message_id: int
    recipient: str  #: E.164
    text: str
    #: "gsm7" or "ucs2" (centauro.domain.text.Encoding), or "binary": ``text`` is then
    #: the body in hex and ``udh`` the UDH elements each part repeats (domain/binary.py).
    encoding: str
    segments: int
    #: The sender ID (domain/senders.py); None: the connector's configured source address.
    sender: str | None = None
    udh: str | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """The carrier took the message; it reports on each part under its carrier id.

    ``carrier_ids`` has one id per part submitted, in part order (a single id when the
    whole text went in one PDU, e.g. as ``message_payload``).
    """

    carrier_ids: tuple[str, ...]

    @property
    def carrier_id(self) -> str:
        return self.carrier_ids[0]


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Not now (link down, throttled, temporary error); try again after ``after`` seconds."""

    reason: str
    after: float | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """The carrier refused the message for good (e.g. invalid destination)."""

    reason: str
    #: The carrier's own error code, as text (SMPP: ``"0x0000000b"``), if it gave one.
    code: str | None = None


SubmitOutcome = Accepted | RetryLater | Rejected


@dataclass(frozen=True, slots=True)
class Receipt:
    """A final delivery report for a message (part) the carrier accepted earlier.

    ``carrier_id`` is as the carrier wrote it in the report (hex or decimal, with or
    without leading zeros: matching it to what ``Accepted`` said is delivery's job).
    Intermediate reports (ENROUTE, ACCEPTD) are not receipts: connectors drop them.
    """

    connector: str
    carrier_id: str
    state: MessageState  #: delivered, undelivered, expired or rejected
    error: str | None = None  #: the carrier's error code ("err:" field), if any
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboundPart:
    """Where one part of a concatenated MO belongs (from its UDH or SAR TLVs), with its
    body undecoded: parts are joined as bytes, then decoded (see ``domain.coding``)."""

    reference: int  #: the concatenation reference (8 or 16 bits)
    total: int  #: parts in the whole message (2–255)
    seq: int  #: this part's number, 1-based
    data_coding: int
    body: bytes  #: the user data without its header


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A message a handset sent to us (MO), its text decoded from its data coding.

    ``part`` is set when it is one part of a concatenated message; delivery keeps the
    parts and stores the whole message once they are all in (or given up on).
    """

    connector: str
    sender: str  #: as the carrier gave it (usually international digits, no "+")
    recipient: str  #: our number / short code it was sent to
    text: str  #: for a part: this part's text alone
    received_at: datetime
    part: InboundPart | None = None


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """A connector's health at a glance (what ``centauro connectors status`` shows)."""

    name: str
    kind: str
    state: str  #: "up", "connecting", "down" or "stopped"
    in_flight: int = 0  #: submitted, waiting for the carrier's answer (the window)
    queued: int = 0  #: handed to the connector, waiting for window or rate
    submitted: int = 0  #: PDUs accepted by the carrier since start
    tps: float = 0.0  #: submits per second over the last few seconds
    last_error: str | None = None
    since: datetime | None = None  #: when the current state began (uptime when "up")
    extra: dict[str, object] = field(default_factory=dict)


class Inbox(Protocol):
    """Where connectors push what carriers report. Implemented by delivery.

    Both methods return once what they were given is durably stored (applied to its
    message, or kept to be matched later). A connector acknowledges a report to the
    carrier only after that, so a crash never loses a report the carrier was told we
    have. Batches: a connector hands over everything one read from the carrier brought.
    """

    async def receipts(self, receipts: Sequence[Receipt]) -> None: ...

    async def inbound(self, messages: Sequence[InboundSms]) -> None: ...


class Connector(Protocol):
    name: str

    @property
    def window(self) -> int:
        """Messages it may have handed to the carrier without an answer yet. The
        dispatcher keeps no more than the sum of its connectors' windows between claim
        and record, which bounds what a crash can make us send twice."""
        ...

    async def start(self, inbox: Inbox) -> None: ...

    async def submit(self, sms: OutboundSms) -> SubmitOutcome: ...

    def status(self) -> ConnectorStatus: ...

    async def stop(self) -> None: ...


#: Whether this process may still put submits on the wire for a connector (its bind
#: lease, delivery/leases.py). Checked right before each write; False means "stop now".
Fence = Callable[[], bool]

LEASE_LOST = "bind lease lost: another process owns this connector now"


def unfenced() -> bool:
    """The fence of a connector nobody else can own (SQLite, tests): always open."""
    return True


@runtime_checkable
class Fenced(Protocol):
    """A connector that checks a :data:`Fence` before each submit it writes; the
    supervisor sets ``fence`` when bind ownership is shared through the database."""

    fence: Fence
