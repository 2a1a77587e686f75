"""The shared claim loop, through both of its users on a real store (SQLite and
PostgreSQL): a crashed handler's item is recorded, not left claimed until its lease runs
out; stop cancels a hung handler within its bound and releases its claim; the room is
never exceeded; a prefetch claims ahead while the sends begun and unrecorded stay within
the window, and stop puts the prefetched messages back at once. (The webhook sender's own
tests run the same loop under POSTs.) One frozen clock per test (the rows' own T0)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from centauro.connectors.base import (
    Accepted,
    Connector,
    ConnectorStatus,
    Inbox,
    OutboundSms,
    SubmitOutcome,
)
from centauro.delivery.dispatcher import Dispatcher
from centauro.service import accounts, submit
from centauro.store import sql
from centauro.store.engine import Database
from centauro.store.writer import Writer

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _queue(db: Database, count: int) -> list[int]:
    with db.begin() as conn:
        created = accounts.create(conn, name="Loop", credits=1000, now=T0)
        planned = submit.plan(
            [submit.Recipient(f"0414{i:07d}") for i in range(count)],
            "Hola",
            country="VE",
            max_segments=10,
            max_recipients=10_000,
        )
        receipt = submit.commit(conn, account=created.account, planned=planned, source="t", now=T0)
    return [m for m in receipt.message_ids if m is not None]


def _messages(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return [
            tuple(r)
            for r in sql.fetchall(
                conn, "SELECT status, attempts, claimed_by, error FROM messages ORDER BY id"
            )
        ]


class AlwaysUp:
    """What every connector of these tests shares: always up, nothing to start or stop."""

    name = "test"

    async def start(self, inbox: Inbox) -> None:
        return None

    def status(self) -> ConnectorStatus:
        return ConnectorStatus(self.name, "test", "up")

    async def stop(self) -> None:
        return None


class Hanging(AlwaysUp):
    """A connector whose carrier never answers (and counts what it holds at once)."""

    name = "hanging"
    window = 3

    def __init__(self) -> None:
        self.holding = 0
        self.most = 0

    async def submit(self, sms: OutboundSms) -> SubmitOutcome:
        self.holding += 1
        self.most = max(self.most, self.holding)
        try:
            await asyncio.Event().wait()
        finally:
            self.holding -= 1
        return Accepted(("never",))


def _dispatch(
    db: Database,
    router: Callable[[str], list[Connector]],
    scenario: Callable[[Dispatcher], Awaitable[None]],
    **options: Any,
) -> float:
    """Run the dispatcher through ``scenario``; how long its stop took (seconds)."""

    async def main() -> float:
        writer = Writer(db.write_engine)
        writer.start()
        dispatcher = Dispatcher(
            writer, router, worker_id="w1", poll_interval=0.02, clock=lambda: T0, **options
        )
        dispatcher.start()
        try:
            await scenario(dispatcher)
            started = time.monotonic()
            await dispatcher.stop()
            return time.monotonic() - started
        finally:
            writer.stop()

    return asyncio.run(main())


async def _until(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def test_a_crashed_send_is_recorded_as_a_retry_not_left_claimed(db: Database) -> None:
    [message] = _queue(db, 1)

    def broken_router(_: str) -> list[Connector]:
        raise RuntimeError("router bug")

    async def scenario(d: Dispatcher) -> None:
        await _until(lambda: d.dispatched == 1, "the crash recorded")

    _dispatch(db, broken_router, scenario)
    [(status, attempts, claimed_by, error)] = _messages(db)
    assert (status, attempts, claimed_by) == ("queued", 1, None)  # back in the queue now
    assert error == "internal error: RuntimeError"
    with db.read() as conn:
        due = sql.fetchone(conn, "SELECT due_at FROM messages WHERE id = :id", {"id": message})
    assert due is not None
    when = sql.unstamp(due[0])
    assert when is not None
    assert when < T0 + timedelta(seconds=60)  # not left to its lease


def test_stop_cancels_a_hung_send_within_its_bound_and_releases_its_claim(
    db: Database,
) -> None:
    _queue(db, 5)
    carrier = Hanging()

    async def scenario(d: Dispatcher) -> None:
        await _until(lambda: carrier.holding == 3, "three sends in hand")
        await asyncio.sleep(0.1)  # a fourth claim, if the room let one through
        assert d.in_flight == 3

    took = _dispatch(
        db, lambda _: [carrier], scenario, capacity=lambda: carrier.window, stop_timeout=0.3
    )
    assert took < 3
    assert carrier.most == 3  # never more than the room
    rows = _messages(db)
    stopped = [r for r in rows if r[1] == 1]
    assert len(stopped) == 3
    assert all(r[0] == "queued" and r[2] is None for r in rows)
    assert {r[3] for r in stopped} == {"stopped while in progress"}
    assert all(r[1] == 0 for r in rows if r not in stopped)  # never claimed


class Counting(AlwaysUp):
    """A carrier that accepts at once and notes the most sends ever begun and unrecorded."""

    name = "counting"
    window = 4

    def __init__(self) -> None:
        self.dispatcher: Dispatcher | None = None
        self.most_started = 0
        self.most_claimed = 0
        self.sent = 0

    async def submit(self, sms: OutboundSms) -> SubmitOutcome:
        assert self.dispatcher is not None
        self.most_started = max(self.most_started, self.dispatcher.started)
        self.most_claimed = max(self.most_claimed, self.dispatcher.in_flight)
        self.sent += 1
        await asyncio.sleep(0.002)  # the carrier's answer takes a moment
        return Accepted((f"c{sms.message_id}",))


def _prefetching(
    db: Database,
    carrier: Hanging | Counting,
    scenario: Callable[[Dispatcher], Awaitable[None]],
    **options: Any,
) -> None:
    """The dispatcher as the runtime sets it: a window on the wire, the next one claimed."""
    window = carrier.window
    _dispatch(
        db,
        lambda _: [carrier],
        scenario,
        capacity=lambda: window,
        prefetch=lambda: window,
        **options,
    )


def test_a_prefetch_claims_the_next_window_but_never_sends_more_than_the_window_unrecorded(
    db: Database,
) -> None:
    """The duplicates bound after a crash (sent, not yet recorded) stays the window even
    though the next window is claimed while this one is out."""
    _queue(db, 200)
    carrier = Counting()

    async def scenario(d: Dispatcher) -> None:
        carrier.dispatcher = d
        await _until(lambda: d.dispatched == 200, "200 recorded")

    _prefetching(db, carrier, scenario, batch=4)
    assert carrier.sent == 200
    assert carrier.most_started <= carrier.window  # the gate: sent and unrecorded
    assert carrier.most_claimed > carrier.window  # the prefetch did claim ahead
    assert all(r[0] == "sent" and r[2] is None for r in _messages(db))


def test_stop_puts_prefetched_messages_back_at_once_and_never_sends_them(db: Database) -> None:
    _queue(db, 10)
    carrier = Hanging()

    async def scenario(d: Dispatcher) -> None:
        await _until(lambda: d.in_flight == 6, "a window out and one claimed ahead")
        await asyncio.sleep(0.1)  # a seventh claim, if the room let one through
        assert (carrier.holding, d.in_flight) == (3, 6)

    _prefetching(db, carrier, scenario, stop_timeout=0.3)
    assert carrier.most == 3  # the gate: never more than the window on the wire
    rows = _messages(db)
    assert all(r[0] == "queued" and r[2] is None for r in rows)
    errors = Counter(r[3] for r in rows if r[1] == 1)
    assert errors == {"stopped while in progress": 3, "stopped before it was sent": 3}
    with db.read() as conn:
        dues = sql.fetchall(
            conn,
            "SELECT due_at FROM messages WHERE error = 'stopped before it was sent'",
        )
    assert all(sql.unstamp(d[0]) <= T0 for d in dues)  # due now, not after a backoff
