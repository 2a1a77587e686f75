"""The Inbox connectors push into: receipts and inbound messages, stored durably.

A connector acknowledges a report to the carrier only when ``receipts()`` /
``inbound()`` return, and they return only once what they were given is committed:
applied to its message, or — for a receipt that matches no message yet, because it
overtook the record of its own submit — kept in ``pending_receipts``. A crash can then
lose nothing the carrier was told we have; the carrier resends what we never acked.

The parts of a concatenated MO are kept as they come (acked like the rest) and joined
into one message when the last arrives; a sweep every second joins groups completed by
parts another worker kept, and gives up on those still missing a part after the
reassembly wait (``CENTAURO_MO_REASSEMBLY_SECONDS``), storing what arrived.

Reports arrive thousands a second; writing each alone would cost a transaction apiece.
Whatever arrives while one batch is being written goes into the next, so batches grow
with the load and latency stays one commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from centauro import metrics
from centauro.connectors.base import InboundSms, Receipt
from centauro.domain.states import MessageState
from centauro.service import inbound, outcomes
from centauro.store import receipts as store_receipts
from centauro.store.writer import Writer

log = logging.getLogger(__name__)

#: How long an unmatched receipt waits for its message before it is dropped (logged).
PENDING_PATIENCE = timedelta(hours=1)
#: Seconds between two tries of every kept receipt. Between them only the recent ones
#: are tried again, after each record of submits: a receipt that overtook the record of
#: its own submit is a few milliseconds old when that record lands. Trying every kept
#: receipt after every record made a carrier that reports ids we never sent (10,000 of
#: them, from another ESME on the same account) cost 4× the CPU per message for the hour
#: they are kept.
RETRY_PENDING_EVERY = 30.0
#: What "recent" means for the tries between two full ones.
RECENT_PENDING = timedelta(seconds=5)
#: At most this many tries of the recent ones a second, whatever the rate of records.
RECENT_TRIES_GAP = 0.1
PENDING_BATCH = 5_000
SWEEP_EVERY = 1.0  #: seconds between two looks at the parts of concatenated MO
#: Receipts run after the other jobs of their writer batch: a carrier sends a receipt
#: right after its submit_sm_resp, so the record of that submit is often in the same
#: batch, and applied first it lets the receipt match instead of waiting as pending.
AFTER_RECORDS = 2**62


class BufferedInbox:
    """Collects reports and writes them in batches; each caller waits for its commit."""

    def __init__(
        self,
        writer: Writer,
        *,
        reassembly: timedelta = timedelta(seconds=300),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self._writer = writer
        #: Called after receipts or MO were committed: customers' deliver_sm may be due.
        self._on_stored = on_stored
        self._reassembly = reassembly
        self._clock = clock
        self._receipts: list[Receipt] = []
        self._inbound: list[InboundSms] = []
        self._waiting: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._retry_pending = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.applied = 0
        self.kept = 0
        self.dropped = 0

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="inbox"),
            asyncio.create_task(self._retry_loop(), name="inbox-pending"),
            asyncio.create_task(self._sweep_loop(), name="inbox-reassembly"),
        ]

    async def stop(self) -> None:
        """Write what is buffered, then stop."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.flush()

    # -- the Inbox interface ----------------------------------------------------------------

    async def receipts(self, receipts: Sequence[Receipt]) -> None:
        if receipts:
            self._receipts.extend(receipts)
            await self._committed()

    async def inbound(self, messages: Sequence[InboundSms]) -> None:
        if messages:
            self._inbound.extend(messages)
            await self._committed()

    async def _committed(self) -> None:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        self._wake.set()
        await future

    # -- writing ------------------------------------------------------------------------------

    def sent_recorded(self) -> None:
        """Submits were just recorded: pending receipts may match now."""
        self._retry_pending.set()

    @property
    def backlog(self) -> int:
        return len(self._receipts) + len(self._inbound)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("inbox_flush_failed", extra={"action": "inbox_flush_failed"})
                await asyncio.sleep(0.5)

    async def flush(self) -> None:
        """Write everything buffered in one job; wake its senders (or fail them)."""
        receipts, self._receipts = self._receipts, []
        messages, self._inbound = self._inbound, []
        waiting, self._waiting = self._waiting, []
        if not receipts and not messages:
            _settle(waiting, None)
            return
        now = self._clock()

        def job(conn: Connection) -> tuple[int, metrics.Tally]:
            tally = metrics.Tally()  # new on each run: the writer may re-run a job
            if messages:
                inbound.receive(
                    conn, [_inbound(m) for m in messages], now, resend_window=self._reassembly
                )
            unmatched = _apply(conn, receipts, now, tally)
            store_receipts.keep_pending(
                conn, [(r.connector, r.carrier_id, r.state.value, r.error) for r in unmatched], now
            )
            return len(unmatched), outcomes.label_accounts(conn, tally)

        try:
            kept, tally = await self._writer.run(job, order=AFTER_RECORDS)
        except Exception as exc:
            _settle(waiting, exc)  # the connectors NAK; the carrier sends them again
            raise
        _settle(waiting, None)
        if kept < len(receipts) or messages:
            self._on_stored()
        tally.publish()
        self.applied += len(receipts) - kept
        self.kept += kept
        if kept:
            self._retry_pending.set()
        if messages:
            log.info(
                "inbound_stored", extra={"action": "inbound_stored", "messages": len(messages)}
            )

    async def _sweep_loop(self) -> None:
        every = max(0.05, min(SWEEP_EVERY, self._reassembly.total_seconds() / 2))
        while True:
            await asyncio.sleep(every)
            try:
                await self.reassemble()
            except Exception:
                log.exception("mo_reassembly_failed", extra={"action": "mo_reassembly_failed"})

    async def reassemble(self) -> int:
        """Join complete MO whose last part another worker kept; give up on the overdue."""
        stored = await self._writer.run(
            functools.partial(inbound.reassemble, now=self._clock(), wait=self._reassembly)
        )
        if stored:
            self._on_stored()
            log.info("mo_reassembled", extra={"action": "mo_reassembled", "messages": stored})
        return stored

    async def _retry_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_full = loop.time() + RETRY_PENDING_EVERY
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._retry_pending.wait(), max(0.0, next_full - loop.time())
                )
            self._retry_pending.clear()
            full = loop.time() >= next_full
            if full:
                next_full = loop.time() + RETRY_PENDING_EVERY
            try:
                await self.retry_pending(recent_only=not full)
            except Exception:
                log.exception("pending_receipts_failed", extra={"action": "pending_receipts"})
            if not full:
                await asyncio.sleep(RECENT_TRIES_GAP)

    async def retry_pending(self, *, recent_only: bool = False) -> None:
        """Match the kept receipts again (``recent_only``: those received in the last
        :data:`RECENT_PENDING`); apply those whose message is now known."""
        now = self._clock()
        since = now - RECENT_PENDING if recent_only else None

        def job(conn: Connection) -> tuple[int, int, metrics.Tally]:
            tally = metrics.Tally()
            rows = store_receipts.pending(conn, limit=PENDING_BATCH, since=since)
            if not rows:
                return 0, 0, tally
            receipts = [
                Receipt(r.connector, r.carrier_id, MessageState(r.state), r.error) for r in rows
            ]
            unmatched = {(r.connector, r.carrier_id) for r in _apply(conn, receipts, now, tally)}
            done = [
                r.id
                for r in rows
                if (r.connector, r.carrier_id) not in unmatched
                or r.received_at < now - PENDING_PATIENCE
            ]
            expired = sum(
                1
                for r in rows
                if (r.connector, r.carrier_id) in unmatched
                and r.received_at < now - PENDING_PATIENCE
            )
            store_receipts.forget_pending(conn, done)
            return len(done) - expired, expired, outcomes.label_accounts(conn, tally)

        applied, expired, tally = await self._writer.run(job)
        if applied:
            self._on_stored()
        tally.publish()
        self.applied += applied
        self.dropped += expired
        if expired:
            log.warning(
                "receipts_unmatched", extra={"action": "receipts_unmatched", "receipts": expired}
            )


def _inbound(m: InboundSms) -> inbound.Inbound:
    part = m.part
    return inbound.Inbound(
        m.connector,
        m.sender,
        m.recipient,
        m.text,
        m.received_at,
        None
        if part is None
        else inbound.Part(part.reference, part.total, part.seq, part.data_coding, part.body),
    )


def _apply(
    conn: Connection, receipts: Sequence[Receipt], now: datetime, tally: metrics.Tally
) -> list[Receipt]:
    """Apply receipts to their messages; return those that matched none."""
    by_connector: dict[str, list[Receipt]] = defaultdict(list)
    for r in receipts:
        by_connector[r.connector].append(r)
    unmatched: list[Receipt] = []
    for name, items in by_connector.items():
        left = outcomes.apply_receipts(
            conn,
            name,
            [outcomes.CarrierReceipt(r.carrier_id, r.state, r.error) for r in items],
            now,
            tally=tally,
        )
        missing = {u.carrier_id for u in left}
        unmatched.extend(r for r in items if r.carrier_id in missing)
    return unmatched


def _settle(waiting: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in waiting:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
