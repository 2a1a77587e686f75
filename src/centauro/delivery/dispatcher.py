"""The dispatcher: claim due messages, hand them to connectors, record the outcomes.

Claims take due messages in batches, never holding more than ``capacity()`` (the
connectors' windows together) between claim and record. Each message
then goes its own way through the router's connectors, and its outcome is recorded as
soon as it is known: outcomes are collected while one write is under way and the next
write takes them all (group commit). So after a crash, the messages a carrier accepted
but we had not recorded — the ones sent again after a restart — are only those of the
last few milliseconds, plus those waiting for the carrier's answer (the window).

Outcomes: accepted → ``sent``; retry → back in the queue with backoff; rejected,
expired or out of retries → final, refunded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from centauro.connectors.base import (
    Accepted,
    Connector,
    OutboundSms,
    Rejected,
    RetryLater,
    SubmitOutcome,
)
from centauro.domain.retry import RetryPolicy
from centauro.domain.states import MessageState
from centauro.service import outcomes
from centauro.store import outbox
from centauro.store.outbox import Claimed
from centauro.store.writer import Writer

log = logging.getLogger(__name__)

#: Picks the connectors that may carry a message to a number, best first.
Router = Callable[[str], list[Connector]]
#: What became of one message: (connector name, outcome), or None when it expired.
Result = tuple[str, SubmitOutcome] | None


class Dispatcher:
    def __init__(
        self,
        writer: Writer,
        router: Router,
        *,
        batch: int = 500,
        capacity: Callable[[], int] = lambda: 2000,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 0.5,
        retry: RetryPolicy | None = None,
        worker_id: str | None = None,
        on_recorded: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self._router = router
        self._batch = batch
        self._capacity = capacity
        self._lease = lease
        self._poll = poll_interval
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._worker_id = worker_id
        self._on_recorded = on_recorded
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._done = asyncio.Event()
        self._in_flight = 0
        self._results: list[tuple[Claimed, Result]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._sending: set[asyncio.Task[None]] = set()
        self.dispatched = 0

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="dispatcher"),
            asyncio.create_task(self._record_loop(), name="dispatcher-record"),
        ]

    def wake(self) -> None:
        """New messages are queued: look now rather than at the next poll."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def stop(self) -> None:
        """Stop claiming; let messages in flight finish and record their outcomes."""
        claim_loop, record_loop = self._tasks or (None, None)
        for task in (claim_loop,):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._sending:
            await asyncio.wait(self._sending, timeout=10)
        with contextlib.suppress(Exception):
            await self._record_pending()
        if record_loop is not None:
            record_loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await record_loop
        self._tasks = []

    # -- claiming -----------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while True:
            room = self._capacity() - self._in_flight
            if room <= 0:
                self._room.clear()
                await self._room.wait()
                continue
            self._wake.clear()
            try:
                claimed = await self._claim(min(room, self._batch))
            except Exception:
                log.exception("dispatch_claim_failed", extra={"action": "dispatch_claim_failed"})
                await asyncio.sleep(self._poll)
                continue
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
                continue
            self._in_flight += len(claimed)
            for message in claimed:
                task = asyncio.create_task(self._send(message))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _claim(self, limit: int) -> list[Claimed]:
        now = self._clock()
        lease_until = now + self._lease

        def job(conn: Connection) -> list[Claimed]:
            return outbox.claim(
                conn, now=now, lease_until=lease_until, limit=limit, worker=self._worker_id
            )

        return await self._writer.run(job)

    # -- sending ------------------------------------------------------------------------

    async def _send(self, message: Claimed) -> None:
        try:
            result = await self._submit(message)
        except Exception:
            # Unexpected: leave it to its lease, which brings it back; nothing is lost.
            log.exception(
                "dispatch_failed", extra={"action": "dispatch_failed", "message_id": message.id}
            )
            self._in_flight -= 1
            self._room.set()
            return
        self._results.append((message, result))
        self._done.set()

    async def _submit(self, m: Claimed) -> Result:
        """Try each connector the router gives, in order; None when the message expired."""
        if self._retry.expired(m.created_at, self._clock(), m.expires_at):
            return None
        sms = OutboundSms(m.id, m.recipient, m.text, m.encoding, m.segments)
        outcome: SubmitOutcome = RetryLater("no connector can carry this number now")
        for connector in self._router(m.recipient):
            try:
                outcome = await connector.submit(sms)
            except Exception as exc:  # a connector bug must not lose the message
                log.exception(
                    "connector_submit_crashed",
                    extra={"action": "connector_submit_crashed", "message_id": m.id},
                )
                outcome = RetryLater(f"{connector.name}: {type(exc).__name__}")
            if not isinstance(outcome, RetryLater):
                return connector.name, outcome
        return "", outcome

    # -- recording ----------------------------------------------------------------------

    async def _record_loop(self) -> None:
        while True:
            await self._done.wait()
            self._done.clear()
            try:
                await self._record_pending()
            except Exception:
                # The leases bring these messages back; nothing is lost.
                log.exception("dispatch_record_failed", extra={"action": "dispatch_record"})
                await asyncio.sleep(0.5)

    async def _record_pending(self) -> None:
        results, self._results = self._results, []
        if not results:
            return
        try:
            await self._record(results)
            self.dispatched += len(results)
        finally:
            self._in_flight -= len(results)
            self._room.set()

    async def _record(self, results: list[tuple[Claimed, Result]]) -> None:
        now = self._clock()
        sent: list[tuple[int, str, tuple[str, ...]]] = []
        retries: list[tuple[int, datetime, str]] = []
        finals: list[outcomes.Final] = []
        for m, result in results:
            if result is None:
                finals.append(outcomes.Final(m.id, MessageState.EXPIRED, "validity period ended"))
                continue
            name, outcome = result
            if isinstance(outcome, Accepted):
                sent.append((m.id, name, outcome.carrier_ids))
            elif isinstance(outcome, Rejected):
                error = f"{outcome.reason} [{outcome.code}]" if outcome.code else outcome.reason
                finals.append(outcomes.Final(m.id, MessageState.FAILED, error))
            else:
                due = self._retry.next_due(attempts=m.attempts, now=now, hint=outcome.after)
                if self._retry.expired(m.created_at, due, m.expires_at):
                    finals.append(outcomes.Final(m.id, MessageState.EXPIRED, outcome.reason))
                else:
                    retries.append((m.id, due, outcome.reason))

        def job(conn: Connection) -> None:
            outcomes.record_sent(conn, sent, now)
            outcomes.record_retry(conn, retries, now)
            outcomes.record_final(conn, finals, now)

        await self._writer.run(job)
        if sent and self._on_recorded is not None:
            self._on_recorded()
        if retries or finals:
            log.info(
                "dispatch_recorded",
                extra={
                    "action": "dispatch_recorded",
                    "sent": len(sent),
                    "retries": len(retries),
                    "finals": len(finals),
                },
            )
