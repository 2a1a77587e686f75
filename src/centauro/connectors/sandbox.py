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
import time
from datetime import UTC, datetime

from centauro.connectors.base import (
    Accepted,
    ConnectorStatus,
    Inbox,
    OutboundSms,
    Receipt,
    Rejected,
    SubmitOutcome,
)
from centauro.domain.states import MessageState

_OUTCOME_BY_SUFFIX = {
    "9999998": (MessageState.UNDELIVERED, "sandbox: handset unreachable"),
    "9999997": (MessageState.EXPIRED, "sandbox: validity period ended"),
}


class SandboxConnector:
    """Accepts every message at once; reports receipts ``dlr_delay`` seconds later."""

    kind = "sandbox"

    def __init__(self, name: str = "sandbox", *, dlr_delay: float = 0.2) -> None:
        self.name = name
        self._dlr_delay = dlr_delay
        self._ids = itertools.count(1)
        self._prefix = f"{int(time.time()):x}"
        self._due: asyncio.Queue[tuple[float, Receipt]] = asyncio.Queue()
        self._inbox: Inbox | None = None
        self._task: asyncio.Task[None] | None = None
        self._submitted = 0
        self._since: datetime | None = None

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
            self._due.put_nowait((due, Receipt(self.name, carrier_id, state, error)))

    async def submit(self, sms: OutboundSms) -> SubmitOutcome:
        if sms.recipient.endswith("9999999"):
            return Rejected("sandbox: destination refused")
        self._submitted += 1
        carrier_id = f"{self._prefix}-{next(self._ids)}"
        state, error = _OUTCOME_BY_SUFFIX.get(sms.recipient[-7:], (MessageState.DELIVERED, None))
        receipt = Receipt(self.name, carrier_id, state, error)
        self._due.put_nowait((time.monotonic() + self._dlr_delay, receipt))
        return Accepted((carrier_id,))

    async def _report(self) -> None:
        while True:
            due, receipt = await self._due.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            assert self._inbox is not None
            await self._inbox.receipt(
                Receipt(
                    receipt.connector,
                    receipt.carrier_id,
                    receipt.state,
                    receipt.error,
                    datetime.now(UTC),
                )
            )

    def status(self) -> ConnectorStatus:
        return ConnectorStatus(
            name=self.name,
            kind=self.kind,
            state="up" if self._task and not self._task.done() else "stopped",
            in_flight=self._due.qsize(),
            submitted=self._submitted,
            since=self._since,
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
