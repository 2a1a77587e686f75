"""The dispatcher: claim due messages, hand them to connectors, record the outcomes.

It runs on the shared :class:`~centauro.delivery.claims.ClaimLoop`: claims take due
messages in batches, and never more than ``capacity()`` (the connectors' windows
together) are between their submit and their record. The runtime also lets it claim
``prefetch()`` more (another window), which wait at that gate: the next messages are
claimed while the current ones are on the wire, so a freed slot goes straight to a
submit instead of to a claim first. Each message
then goes its own way through the router's connectors, and its outcome is recorded as
soon as it is known: outcomes are collected while one write is under way and the next
write takes them all (group commit). So after a crash, the messages a carrier accepted
but we had not recorded — the ones sent again after a restart — are at most the window;
claimed messages still waiting at the gate were never sent, and their lease brings them
back.

Outcomes: accepted → ``sent``; retry → back in the queue with backoff; rejected,
expired or out of retries → final, refunded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from centauro import metrics
from centauro.connectors.base import (
    Accepted,
    Connector,
    OutboundSms,
    Rejected,
    RetryLater,
    SubmitOutcome,
)
from centauro.delivery.claims import ClaimLoop
from centauro.domain import senders
from centauro.domain.retry import RetryPolicy
from centauro.domain.states import MessageState
from centauro.service import outcomes
from centauro.store import outbox
from centauro.store.outbox import Claimed
from centauro.store.writer import Writer

log = logging.getLogger(__name__)

#: Picks the connectors that may carry a message to a number, best first. Called as
#: ``router(number, alphanumeric=True)`` for a message with an alphanumeric sender ID.
Router = Callable[..., list[Connector]]
#: Why a message with an alphanumeric sender fails when no route to its number carries one.
NO_ALPHANUMERIC_ROUTE = "no route to this number carries alphanumeric sender IDs"

#: What became of one message: (connector name, outcome), or None when it expired.
Result = tuple[str, SubmitOutcome] | None


class Dispatcher:
    """The messages outbox on the shared :class:`~centauro.delivery.claims.ClaimLoop`."""

    def __init__(
        self,
        writer: Writer,
        router: Router,
        *,
        batch: int = 500,
        capacity: Callable[[], int] = lambda: 2000,
        prefetch: Callable[[], int] = lambda: 0,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 0.5,
        retry: RetryPolicy | None = None,
        worker_id: str | None = None,
        on_recorded: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stop_timeout: float = 10.0,
    ) -> None:
        self._writer = writer
        self._router = router
        self._lease = lease
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._worker_id = worker_id
        self._on_recorded = on_recorded
        self._loop: ClaimLoop[Claimed, Result] = ClaimLoop(
            "dispatcher",
            claim=self._claim,
            handle=self._submit,
            record=self._record,
            crashed=_crashed,
            released=_released,
            capacity=capacity,
            prefetch=prefetch,
            batch=batch,
            poll_interval=poll_interval,
            stop_timeout=stop_timeout,
        )
        self.dispatched = 0

    def start(self) -> None:
        self._loop.start()

    def wake(self) -> None:
        """New messages are queued: look now rather than at the next poll."""
        self._loop.wake()

    @property
    def in_flight(self) -> int:
        """Messages claimed and not yet recorded (sent or waiting at the gate)."""
        return self._loop.in_flight

    @property
    def started(self) -> int:
        """Messages handed to a connector and not yet recorded: at most the window."""
        return self._loop.started

    async def stop(self) -> None:
        """Stop claiming; let messages in flight finish and record their outcomes."""
        await self._loop.stop()

    async def _claim(self, limit: int) -> list[Claimed]:
        now = self._clock()
        lease_until = now + self._lease

        def job(conn: Connection) -> list[Claimed]:
            return outbox.claim(
                conn, now=now, lease_until=lease_until, limit=limit, worker=self._worker_id
            )

        return await self._writer.run(job)

    # -- sending ------------------------------------------------------------------------

    async def _submit(self, m: Claimed) -> Result:
        """Try each connector the router gives, in order; None when the message expired."""
        if self._retry.expired(m.created_at, self._clock(), m.expires_at):
            return None
        sms = OutboundSms(m.id, m.recipient, m.text, m.encoding, m.segments, m.sender, m.udh)
        outcome: SubmitOutcome = RetryLater("no connector can carry this number now")
        if m.sender is not None and senders.kind_of(m.sender) is senders.SenderKind.ALPHANUMERIC:
            candidates = self._router(m.recipient, alphanumeric=True)
            if not candidates and self._router(m.recipient):
                return "", Rejected(NO_ALPHANUMERIC_ROUTE)
        else:
            candidates = self._router(m.recipient)
        for connector in candidates:
            started = time.perf_counter()
            try:
                outcome = await connector.submit(sms)
                metrics.submit_took(connector.name, time.perf_counter() - started)
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

    async def _record(self, results: list[tuple[Claimed, Result]]) -> None:
        now = self._clock()
        sent: list[tuple[int, str, tuple[str, ...]]] = []
        retries: list[tuple[int, datetime, str]] = []
        finals: list[outcomes.Final] = []
        accounts: dict[int, int] = {}
        for m, result in results:
            if result is None:
                finals.append(outcomes.Final(m.id, MessageState.EXPIRED, "validity period ended"))
                continue
            name, outcome = result
            if isinstance(outcome, Accepted):
                sent.append((m.id, name, outcome.carrier_ids))
                accounts[m.id] = m.account_id
            elif isinstance(outcome, Rejected):
                error = f"{outcome.reason} [{outcome.code}]" if outcome.code else outcome.reason
                finals.append(outcomes.Final(m.id, MessageState.FAILED, error, name))
            else:
                due = self._retry.next_due(attempts=m.attempts, now=now, hint=outcome.after)
                if self._retry.expired(m.created_at, due, m.expires_at):
                    finals.append(outcomes.Final(m.id, MessageState.EXPIRED, outcome.reason, name))
                else:
                    retries.append((m.id, due, outcome.reason))

        def job(conn: Connection) -> metrics.Tally:
            tally = metrics.Tally()  # new on each run: the writer may re-run a job
            outcomes.record_sent(conn, sent, now)
            for message_id, name, _ in sent:
                tally.add(accounts[message_id], name, MessageState.SENT.value)
            outcomes.record_retry(conn, retries, now)
            outcomes.record_final(conn, finals, now, tally=tally)
            return outcomes.label_accounts(conn, tally)

        (await self._writer.run(job)).publish()
        self.dispatched += len(results)
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


def _released(message: Claimed) -> Result:
    """Claimed but never sent when we stopped: back in the queue at once, not after backoff."""
    return "", RetryLater("stopped before it was sent", after=0.0)


def _crashed(message: Claimed, why: str) -> Result:
    """A send that crashed or hung at stop: back in the queue (with backoff), not lost."""
    return "", RetryLater(why)
