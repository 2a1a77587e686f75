"""Message states and the moves allowed between them.

A message is ``queued`` once accepted (charged and on disk); the dispatcher hands it
to a carrier, which makes it ``sent``; the carrier's receipt makes it final. ``failed``
means no carrier ever accepted it. Final states other than ``delivered`` refund the
message's credits (see ``REFUNDED``).
"""

from __future__ import annotations

import enum


class MessageState(enum.StrEnum):
    QUEUED = "queued"  #: accepted, charged, waiting for (or being handed to) a carrier
    SENT = "sent"  #: a carrier accepted it and gave us its id; waiting for a receipt
    DELIVERED = "delivered"  #: the handset got it
    UNDELIVERED = "undelivered"  #: the carrier gave up delivering it
    EXPIRED = "expired"  #: its validity period ran out before delivery
    REJECTED = "rejected"  #: the carrier (or our policy) refused it
    FAILED = "failed"  #: no carrier accepted it (permanent error, or retries exhausted)


FINAL: frozenset[MessageState] = frozenset(
    {
        MessageState.DELIVERED,
        MessageState.UNDELIVERED,
        MessageState.EXPIRED,
        MessageState.REJECTED,
        MessageState.FAILED,
    }
)

#: Final states whose credits go back to the account.
REFUNDED: frozenset[MessageState] = frozenset(
    {MessageState.FAILED, MessageState.REJECTED, MessageState.EXPIRED}
)

_ALLOWED: dict[MessageState, frozenset[MessageState]] = {
    MessageState.QUEUED: frozenset(
        {
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
