"""Message states and the moves allowed between them.

A message is ``queued`` once accepted (charged and on disk), or ``scheduled`` when it
must wait (a ``schedule_at``, or quiet hours) and then ``queued`` when its time comes;
the dispatcher hands it to a carrier, which makes it ``sent``; the carrier's receipt
makes it final. ``failed`` means no carrier ever accepted it; ``cancelled``, that its
owner withdrew it before it was sent; ``held``, that its campaign is paused (no
dispatcher claims it). See ``REFUNDED`` for which final states give the credits back.
"""

from __future__ import annotations

import enum


class MessageState(enum.StrEnum):
    SCHEDULED = "scheduled"  #: accepted and charged, waiting for its time (or quiet hours)
    QUEUED = "queued"  #: accepted, charged, waiting for (or being handed to) a carrier
    SENT = "sent"  #: a carrier accepted it and gave us its id; waiting for a receipt
    DELIVERED = "delivered"  #: the handset got it
    UNDELIVERED = "undelivered"  #: the carrier gave up delivering it
    EXPIRED = "expired"  #: its validity period ran out before delivery
    REJECTED = "rejected"  #: the carrier (or our policy) refused it
    FAILED = "failed"  #: no carrier accepted it (permanent error, or retries exhausted)
    CANCELLED = "cancelled"  #: withdrawn by its owner before it was sent
    HELD = "held"  #: accepted and charged, its campaign paused: no dispatcher claims it


FINAL: frozenset[MessageState] = frozenset(
    {
        MessageState.DELIVERED,
        MessageState.UNDELIVERED,
        MessageState.EXPIRED,
        MessageState.REJECTED,
        MessageState.FAILED,
        MessageState.CANCELLED,
    }
)

#: Final states whose credits go back to the account.
REFUNDED: frozenset[MessageState] = frozenset(
    {MessageState.FAILED, MessageState.REJECTED, MessageState.EXPIRED, MessageState.CANCELLED}
)

_ALLOWED: dict[MessageState, frozenset[MessageState]] = {
    MessageState.SCHEDULED: frozenset(
        {MessageState.QUEUED, MessageState.CANCELLED, MessageState.EXPIRED, MessageState.HELD}
    ),
    MessageState.HELD: frozenset(
        {MessageState.QUEUED, MessageState.SCHEDULED, MessageState.CANCELLED}
    ),
    MessageState.QUEUED: frozenset(
        {
            MessageState.CANCELLED,
            MessageState.HELD,
            MessageState.SENT,
            MessageState.FAILED,
            MessageState.REJECTED,
            MessageState.EXPIRED,
            # A receipt may overtake the record of the carrier's acceptance.
            MessageState.DELIVERED,
            MessageState.UNDELIVERED,
        }
    ),
    MessageState.SENT: frozenset(
        {
            MessageState.DELIVERED,
            MessageState.UNDELIVERED,
            MessageState.EXPIRED,
            MessageState.REJECTED,
        }
    ),
}


def can_move(current: MessageState, new: MessageState) -> bool:
    """Whether a message in ``current`` may move to ``new`` (final states never move)."""
    return new in _ALLOWED.get(current, frozenset())


def is_final(state: MessageState) -> bool:
    return state in FINAL


#: The states as the people who use the panel and the CLI name them (Venezuela/Colombia
#: usage); the store, the APIs and ``--json`` keep the English values.
SPANISH_NAMES: dict[str, str] = {
    "scheduled": "programado",
    "queued": "en cola",
    "sent": "enviado",
    "delivered": "entregado",
    "undelivered": "no entregado",
    "expired": "vencido",
    "rejected": "rechazado",
    "failed": "fallido",
    "cancelled": "cancelado",
    "held": "en pausa",
}
