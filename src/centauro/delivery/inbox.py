"""The Inbox connectors push into: receipts are matched to messages in batches.

Receipts arrive one by one from carriers at thousands a second; writing each alone
would cost a transaction apiece. They are buffered and applied together by one write
job. A receipt can overtake the record of its own submission (the carrier answers the
submit and reports delivery before our write of "sent" commits), so receipts that
match nothing are kept and tried again for a while before being dropped with a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection

from centauro.connectors.base import InboundSms, Receipt
from centauro.service import outcomes
from centauro.store import inbound
from centauro.store.writer import Writer

log = logging.getLogger(__name__)

UNMATCHED_PATIENCE = 120.0  # seconds a receipt may wait for its message to show up
RETRY_EVERY = 0.5  # seconds between two tries of an unmatched receipt


class BufferedInbox:
    """Collects receipts and applies them every ``interval`` seconds (or ``batch`` items)."""

    def __init__(
        self,
        writer: Writer,
        *,
        interval: float = 0.05,
        batch: int = 2000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self._interval = interval
        self._batch = batch
        self._clock = clock
        self._pending: list[tuple[float, Receipt]] = []
        self._retry: list[tuple[float, float, Receipt]] = []  # (first seen, next try, r)
        self._mo: list[InboundSms] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.applied = 0
        self.dropped = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inbox")

    async def stop(self) -> None:
        """Apply what is buffered, then stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def receipt(self, receipt: Receipt) -> None:
        self._pending.append((time.monotonic(), receipt))
        if len(self._pending) >= self._batch:
            self._wake.set()

    async def inbound(self, sms: InboundSms) -> None:
        self._mo.append(sms)
        if len(self._mo) >= self._batch:
            self._wake.set()

    def sent_recorded(self) -> None:
        """Submits were just recorded: receipts that overtook them can match now."""
        if self._retry:
            self._retry = [(seen, 0.0, r) for seen, _, r in self._retry]
            self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._pending) + len(self._retry) + len(self._mo)

    async def _store_inbound(self) -> None:
        mo, self._mo = self._mo, []
        if not mo:
            return
        rows = [(m.connector, m.sender, m.recipient, m.text, m.received_at) for m in mo]
        try:
            await self._writer.run(lambda conn: inbound.insert_many(conn, rows))
        except Exception:
            self._mo = mo + self._mo  # keep them; the store may come back
            raise
        log.info("inbound_stored", extra={"action": "inbound_stored", "messages": len(mo)})

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("inbox_flush_failed", extra={"action": "inbox_flush_failed"})
                await asyncio.sleep(1.0)

    async def flush(self) -> None:
        """Store buffered inbound messages; apply every buffered receipt now (and the
        unmatched ones whose retry is due)."""
        await self._store_inbound()
        now_mono = time.monotonic()
        work, self._pending = self._pending, []
        if self._retry:
            due = [r for r in self._retry if r[1] <= now_mono]
            self._retry = [r for r in self._retry if r[1] > now_mono]
            work.extend((seen, receipt) for seen, _, receipt in due)
        if not work:
            return
        by_connector: dict[str, list[tuple[float, Receipt]]] = defaultdict(list)
        for seen, r in work:
            by_connector[r.connector].append((seen, r))
        now = self._clock()

        def job(conn: Connection) -> dict[str, list[outcomes.CarrierReceipt]]:
            return {
                name: outcomes.apply_receipts(
                    conn,
                    name,
                    [outcomes.CarrierReceipt(r.carrier_id, r.state, r.error) for _, r in items],
                    now,
                )
                for name, items in by_connector.items()
            }

        try:
            unmatched = await self._writer.run(job)
        except Exception:
            self._pending = work + self._pending  # keep them; the store may come back
            raise
        missing = {(name, u.carrier_id) for name, items in unmatched.items() for u in items}
        self.applied += len(work) - len(missing)
        for seen, r in work:
            if (r.connector, r.carrier_id) not in missing:
                continue
            if now_mono - seen > UNMATCHED_PATIENCE:
                self.dropped += 1
                log.warning(
                    "receipt_unmatched",
                    extra={"action": "receipt_unmatched", "connector": r.connector},
                )
            else:
                self._retry.append((seen, now_mono + RETRY_EVERY, r))
