"""What the panel counts a message as: accepted, delivered or failed.

A module of its own so the delivering process's roll-up (service/summaries.py) can use the
definitions without importing the panel's services (and their password hashing library:
the panel's stack loads on its first request, tests/acceptance/test_serve_memory.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from centauro.domain.states import MessageState

#: What the dashboard calls failed: every final state that did not reach the handset,
#: except a cancellation (the sender's own choice).
FAILED = frozenset(
    {
        MessageState.FAILED,
        MessageState.UNDELIVERED,
        MessageState.EXPIRED,
        MessageState.REJECTED,
    }
)


@dataclass(frozen=True, slots=True)
class Counts:
    accepted: int = 0
    delivered: int = 0
    failed: int = 0
    #: Credits the accepted messages keep spent: their segments, less those refunded
    #: (domain/states.REFUNDED); only the reports page reads them.
    credits: int = 0

    @property
    def pending(self) -> int:
        """Accepted messages without an outcome yet (queued, scheduled, held, sent)."""
        return max(self.accepted - self.delivered - self.failed, 0)

    @property
    def delivery_rate(self) -> float | None:
        """Delivered over the messages that have an outcome (None: none has one yet)."""
        done = self.delivered + self.failed
        return self.delivered / done if done else None


def _counts(by_status: dict[str, int]) -> Counts:
    return Counts(
        accepted=sum(n for s, n in by_status.items() if s != MessageState.CANCELLED),
        delivered=by_status.get(MessageState.DELIVERED, 0),
        failed=sum(by_status.get(s, 0) for s in FAILED),
    )
