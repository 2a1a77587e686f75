"""The dispatcher: claim due messages, hand them to connectors, record the outcomes.

Several claimed batches may be in flight at once (bounded by ``max_in_flight``) so a
slow carrier answer does not stall the next claim. Outcomes of a batch are written in
one job: accepted → ``sent``; retry → back in the queue with backoff; rejected,
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


class Dispatcher:
    def __init__(
        self,
        writer: Writer,
        router: Router,
        *,
        batch: int = 500,
        max_in_flight: int = 2000,
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
        self._max_in_flight = max_in_flight
        self._lease = lease
        self._poll = poll_interval
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._worker_id = worker_id
        self._on_recorded = on_recorded
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._in_flight = 0
        self._task: asyncio.Task[None] | None = None
        self._batches: set[asyncio.Task[None]] = set()
        self.dispatched = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dispatcher")

    def wake(self) -> None:
        """New messages are queued: look now rather than at the next poll."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def stop(self) -> None:
        """Stop claiming; let batches in flight finish recording their outcomes."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._batches:
            await asyncio.wait(self._batches, timeout=10)

    async def _run(self) -> None:
        while True:
            room = self._max_in_flight - self._in_flight
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
            task = asyncio.create_task(self._dispatch(claimed))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _claim(self, limit: int) -> list[Claimed]:
        now = self._clock()
        lease_until = now + self._lease

        def job(conn: Connection) -> list[Claimed]:
            return outbox.claim(
                conn, now=now, lease_until=lease_until, limit=limit, worker=self._worker_id
            )

        return await self._writer.run(job)

    async def _dispatch(self, claimed: list[Claimed]) -> None:
        try:
            results = await asyncio.gather(*(self._submit(m) for m in claimed))
            await self._record(claimed, results)
            self.dispatched += len(claimed)
        except Exception:
            # The lease brings these messages back; nothing is lost.
            log.exception("dispatch_batch_failed", extra={"action": "dispatch_batch_failed"})
        finally:
            self._in_flight -= len(claimed)
            self._room.set()

    async def _submit(self, m: Claimed) -> tuple[str, SubmitOutcome] | None:
        """Try each connector the router gives, in order; None when the message expired."""
        if self._retry.expired(m.created_at, self._clock()):
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

    async def _record(
        self, claimed: list[Claimed], results: list[tuple[str, SubmitOutcome] | None]
    ) -> None:
        now = self._clock()
        sent: list[tuple[int, str, tuple[str, ...]]] = []
        retries: list[tuple[int, datetime, str]] = []
        finals: list[outcomes.Final] = []
        for m, result in zip(claimed, results, strict=True):
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
                if self._retry.expired(m.created_at, due):
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
