"""Plain values that cross layers: accounts, messages, ledger rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from centauro.domain.states import MessageState


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    client_id: str
    enabled: bool
    country: str
    balance: int
    created_at: datetime
    secret_hash: str = field(repr=False, default="")
    timezone: str = "America/Caracas"
    quiet_hours: str | None = None  #: "21:00-08:00", local to ``timezone``
    rate_limit: float | None = None  #: requests per second; None: the server's default
    max_recipients: int | None = None  #: per request; None: the server's default


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    account_id: int
    kind: str  #: "charge", "topup" or "refund"
    amount: int
    balance_after: int
    message_id: int | None
    messages: int
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    account_id: int
    recipient: str  #: E.164
    name: str
    reference: str
    text: str
    encoding: str
    segments: int
    cost: int
    status: MessageState
    source: str
    attempts: int
    connector: str | None
    carrier_id: str | None
    error: str | None
    created_at: datetime
    sent_at: datetime | None
    done_at: datetime | None
    updated_at: datetime
    category: str = "transactional"
    callback_url: str | None = None
    due_at: datetime | None = None  #: when it goes (or went) out, for scheduled messages
    expires_at: datetime | None = None
    claimed: bool = False  #: a dispatcher holds it right now (it may be at the carrier)
    sender: str | None = None  #: its sender ID; None: the connector's source address
