"""The claim loop every kind of claimed work runs on: claim → handle → record.

The messages outbox and the webhook deliveries (and any new claimed work) share one
engine; each user gives three hooks and keeps only its own handling:

* ``claim(limit)`` reserves up to ``limit`` due items in the store (a lease plus our
  worker id) and returns them;
* ``handle(item)`` does the work for one item and returns its result;
* ``record(results)`` writes the results of many items in one job (group commit).

What the engine guarantees, so no user has to get it right again:

* **The gate.** At most ``capacity()`` items are between the start of their handling and
  their record: after a crash, the work done but not recorded (for the dispatcher: sent to
  the carrier, not yet marked sent — the duplicates after a restart) is at most that.
* **Room.** At most ``capacity() + prefetch()`` items are claimed and not yet recorded:
  with a prefetch the next items are claimed while the current ones are being handled, so
  the claim is off the path from a record to the next handling. Claimed items waiting at
  the gate are not done work; their lease brings them back after a crash. The items of a
  record under way count as free room, so the next claim can share its commit. A claim
  asks for no more than the room (and waits until at least ``min_claim`` is free while
  others are in flight: many tiny claims would each cost the writer a statement and a
  commit share).
* **Wake-ups.** :meth:`ClaimLoop.wake` claims at once instead of at the next poll.
* **Nothing stays claimed by mistake.** A handler that raises has ``crashed(item, why)``
  recorded as its result (normally a retry), so its item goes back to the queue now
  instead of when its lease runs out.
* **Stop is bounded.** :meth:`ClaimLoop.stop` stops claiming, records the items still
  waiting at the gate as ``released(item)`` (back in the queue now: never handled), lets
  handlers finish for up to ``stop_timeout`` seconds, cancels the ones still hanging
  (their items recorded as crashed too) and records everything before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Seconds a cancelled handler gets to unwind at stop before it is left behind.
UNWIND_SECONDS = 1.0


class ClaimLoop(Generic[Item, Result]):
    def __init__(
        self,
        name: str,
        *,
        claim: Callable[[int], Awaitable[Sequence[Item]]],
        handle: Callable[[Item], Awaitable[Result]],
        record: Callable[[list[tuple[Item, Result]]], Awaitable[None]],
        crashed: Callable[[Item, str], Result],
        capacity: Callable[[], int],
        prefetch: Callable[[], int] = lambda: 0,
        released: Callable[[Item], Result] | None = None,
        batch: int = 500,
        min_claim: int = 1,
        poll_interval: float = 0.5,
        stop_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._claim = claim
        self._handle = handle
        self._record = record
        self._crashed = crashed
        self._capacity = capacity
        self._prefetch = prefetch
        self._released = released or (lambda item: crashed(item, "stopped before it was handled"))
        self._batch = batch
        self._min_claim = max(1, min_claim)
        self._poll = poll_interval
        self._stop_timeout = stop_timeout
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._done = asyncio.Event()
        self._in_flight = 0  #: claimed, not yet recorded
        self._started = 0  #: handed to ``handle``, not yet recorded (the gate)
        self._recording = 0  #: in the record under way
        self._ready: deque[Item] = deque()  #: claimed, waiting at the gate
        self._results: list[tuple[Item, Result]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._handling: set[asyncio.Task[None]] = set()
        self._recording_tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name=self.name),
            asyncio.create_task(self._record_loop(), name=f"{self.name}-record"),
        ]

    def wake(self) -> None:
        """New work is due: claim now rather than at the next poll."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        """Items claimed and not yet recorded."""
        return self._in_flight

    @property
    def started(self) -> int:
        """Items handed to ``handle`` and not yet recorded: at most ``capacity()``."""
        return self._started

    async def stop(self) -> None:
        """Stop claiming; finish (or cancel) what is in hand and record every result."""
        claim_loop, record_loop = self._tasks or (None, None)
        self._tasks = []
        if claim_loop is not None:
            await _cancel(claim_loop)
        while self._ready:
            item = self._ready.popleft()
            self._started += 1  # counted as handled, so its record frees it like the rest
            self._results.append((item, self._released(item)))
        if self._handling:
            await asyncio.wait(self._handling, timeout=self._stop_timeout)
        hung = list(self._handling)
        if hung:
            log.warning(
                "claimed_work_cancelled",
                extra={"action": "claimed_work_cancelled", "loop": self.name, "items": len(hung)},
            )
            for task in hung:
                task.cancel()
            await asyncio.wait(hung, timeout=UNWIND_SECONDS)
        if record_loop is not None:
            await _cancel(record_loop)
        try:
            await self._record_pending()
        except Exception:
            # The leases bring these items back; nothing is lost.
            log.exception("claim_record_failed", extra={"action": "claim_record_failed"})

    # -- claiming -----------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while True:
            self._admit()  # the capacity may have grown without a record (a bind came up)
            room = self._capacity() + self._prefetch() - (self._in_flight - self._recording)
            if room <= 0 or (self._in_flight and room < self._min_claim):
                self._room.clear()
                # Bounded: capacity may grow without a record (a connector was bound).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._room.wait(), self._poll)
                continue
            self._wake.clear()
            try:
                claimed = await self._claim(min(room, self._batch))
            except Exception:
                log.exception("claim_failed", extra={"action": "claim_failed", "loop": self.name})
                await asyncio.sleep(self._poll)
                continue
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
                continue
            self._in_flight += len(claimed)
            self._ready.extend(claimed)
            self._admit()

    def _admit(self) -> None:
        """Start handling waiting items while the gate has room."""
        room = self._capacity() - self._started
        while room > 0 and self._ready:
            item = self._ready.popleft()
            self._started += 1
            room -= 1
            task = asyncio.create_task(self._run(item))
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)

    # -- handling -----------------------------------------------------------------------

    async def _run(self, item: Item) -> None:
        try:
            result = await self._handle(item)
        except asyncio.CancelledError:
            # Only stop() cancels a handler: record it so its claim is released now.
            result = self._crashed(item, "stopped while in progress")
        except Exception as exc:  # a bug must not leave the item claimed: record it
            log.exception("claimed_work_crashed", extra={"action": "claimed_work_crashed"})
            result = self._crashed(item, f"internal error: {type(exc).__name__}")
        self._results.append((item, result))
        self._done.set()

    # -- recording ----------------------------------------------------------------------

    async def _record_loop(self) -> None:
        """Hand each wake-up's results to the writer at once, without waiting for the
        previous record's commit: records queued together share a commit anyway, and a
        result queued late would let the receipt that follows its submit reach the store
        first (unmatched: kept and matched again later, three writes instead of one)."""
        while True:
            await self._done.wait()
            self._done.clear()
            results, self._results = self._results, []
            if results:
                task = asyncio.create_task(self._record_logged(results))
                self._recording_tasks.add(task)
                task.add_done_callback(self._recording_tasks.discard)

    async def _record_logged(self, results: list[tuple[Item, Result]]) -> None:
        try:
            await self._record_results(results)
        except Exception:
            # The leases bring these items back; nothing is lost.
            log.exception(
                "claim_record_failed",
                extra={"action": "claim_record_failed", "loop": self.name},
            )

    async def _record_pending(self) -> None:
        """At stop: wait for the records under way, then record what is left."""
        if self._recording_tasks:
            await asyncio.wait(self._recording_tasks, timeout=self._stop_timeout)
        results, self._results = self._results, []
        if results:
            await self._record_results(results)

    async def _record_results(self, results: list[tuple[Item, Result]]) -> None:
        self._recording += len(results)
        self._room.set()  # claim now: the claim can share this record's commit
        try:
            await self._record(results)
        finally:
            self._recording -= len(results)
            self._in_flight -= len(results)
            self._started -= len(results)
            self._room.set()
            if self._tasks:  # not at stop: what waits at the gate goes on
                self._admit()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
