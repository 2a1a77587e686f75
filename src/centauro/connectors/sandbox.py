"""The sandbox connector: a carrier that accepts everything and reports it delivered.

It lets the whole path — submit, queue, dispatch, receipt — run with no carrier at all
(demos, tests, benchmarks). A few reserved numbers behave badly on purpose, so that
failure paths can be tried end to end:

* national number ending in ``9999999``: the carrier rejects it (message ``failed``);
* ending in ``9999998``: accepted, then reported ``undelivered``;
* ending in ``9999997``: accepted, then reported ``expired``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from datetime import UTC, datetime

from centauro.connectors.base import (
    LEASE_LOST,
    Accepted,
    ConnectorStatus,
    Fence,
    Inbox,
    OutboundSms,
    Receipt,
    Rejected,
    RetryLater,
    SubmitOutcome,
    unfenced,
)
from centauro.domain.states import MessageState

log = logging.getLogger(__name__)
#: Seconds before receipts the inbox could not store (the store was away) are offered
#: again, as a carrier resends a deliver_sm we did not acknowledge.
RECEIPT_RETRY_SECONDS = 1.0
#: Seconds a stopping sandbox gives the inbox to take the receipts it still owes.
STOP_FLUSH_SECONDS = 2.0

_OUTCOME_BY_SUFFIX = {
    "9999998": (MessageState.UNDELIVERED, "sandbox: handset unreachable"),
    "9999997": (MessageState.EXPIRED, "sandbox: validity period ended"),
}


class SandboxConnector:
    """Accepts every message at once; reports receipts ``dlr_delay`` seconds later."""

    kind = "sandbox"
    #: The sandbox answers at once; this only bounds how many it takes per claim round.
    window = 1000

    def __init__(self, name: str = "sandbox", *, dlr_delay: float = 0.2) -> None:
        self.name = name
        self._dlr_delay = dlr_delay
        self._ids = itertools.count(1)
        self._prefix = f"{int(time.time()):x}"
        #: (due time, receipt), in due order: every receipt waits the same delay.
        self._due: deque[tuple[float, Receipt]] = deque()
        self._queued = asyncio.Event()
        self._inbox: Inbox | None = None
        self._task: asyncio.Task[None] | None = None
        self._submitted = 0
        self._since: datetime | None = None
        self.fence: Fence = unfenced

    async def start(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self._since = datetime.now(UTC)
        self._task = asyncio.create_task(self._report(), name=f"{self.name}-receipts")

    def resume(self, accepted: list[tuple[str, str]]) -> None:
        """Report on ``(carrier_id, recipient)`` pairs accepted before a restart.

        A real carrier keeps the receipts it owes us when our process dies and sends them
        after we bind again; the sandbox lives in our process, so the store (messages
        still ``sent`` through it) is its memory.
        """
        due = time.monotonic() + self._dlr_delay
        for carrier_id, recipient in accepted:
            state, error = _OUTCOME_BY_SUFFIX.get(recipient[-7:], (MessageState.DELIVERED, None))
            self._due.append((due, Receipt(self.name, carrier_id, state, error)))
        self._queued.set()

    async def submit(self, sms: OutboundSms) -> SubmitOutcome:
        if not self.fence():
            return RetryLater(LEASE_LOST)
        if sms.recipient.endswith("9999999"):
            return Rejected("sandbox: destination refused")
        self._submitted += 1
        carrier_id = f"{self._prefix}-{next(self._ids)}"
        state, error = _OUTCOME_BY_SUFFIX.get(sms.recipient[-7:], (MessageState.DELIVERED, None))
        receipt = Receipt(self.name, carrier_id, state, error)
        self._due.append((time.monotonic() + self._dlr_delay, receipt))
        self._queued.set()
        return Accepted((carrier_id,))

    async def _report(self) -> None:
        """Hand over receipts as they fall due, all those due at once in one batch."""
        while True:
            if not self._due:
                self._queued.clear()
                await self._queued.wait()
                continue
            wait = self._due[0][0] - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            now = time.monotonic()
            batch: list[Receipt] = []
            while self._due and self._due[0][0] <= now:
                batch.append(self._due.popleft()[1])
            assert self._inbox is not None
            try:
                await self._inbox.receipts(_reported_now(batch))
            except asyncio.CancelledError:
                # Stopped while the inbox stored them: owed until we know (stop() hands
                # them over; a receipt for a message already final changes nothing).
                self._due.extendleft((now, r) for r in reversed(batch))
                raise
            except Exception as exc:  # noqa: BLE001 - kept and offered again, as a carrier does
                log.warning(
                    "sandbox_receipts_deferred",
                    extra={
                        "action": "receipts_deferred",
                        "receipts": len(batch),
                        "error": repr(exc),
                    },
                )
                retry = time.monotonic() + RECEIPT_RETRY_SECONDS
                self._due.extendleft((retry, r) for r in reversed(batch))

    def status(self) -> ConnectorStatus:
        return ConnectorStatus(
            name=self.name,
            kind=self.kind,
            state="up" if self._task and not self._task.done() else "stopped",
            in_flight=len(self._due),
            submitted=self._submitted,
            since=self._since,
        )

    async def stop(self) -> None:
        """Stop, handing over at once the receipts still owed.

        This carrier lives in our process: a sandbox taken out of the configuration (the
        built-in one once a route names another connector, or one disabled or removed)
        would never report the messages it accepted, and they would stay ``sent`` for
        good. Receipts the inbox cannot take within STOP_FLUSH_SECONDS (the store is
        away) stay owed: :meth:`resume` reports them when a sandbox of this name starts.
        """
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if not self._due or self._inbox is None:
            return
        owed = [receipt for _, receipt in self._due]
        self._due.clear()
        try:
            await asyncio.wait_for(self._inbox.receipts(_reported_now(owed)), STOP_FLUSH_SECONDS)
        except Exception as exc:  # noqa: BLE001 - left to resume(); stopping goes on
            log.warning(
                "sandbox_receipts_left",
                extra={"action": "receipts_left", "receipts": len(owed), "error": repr(exc)},
            )


def _reported_now(receipts: list[Receipt]) -> list[Receipt]:
    """The receipts as the carrier reports them: done now."""
    done_at = datetime.now(UTC)
    return [Receipt(r.connector, r.carrier_id, r.state, r.error, done_at) for r in receipts]
