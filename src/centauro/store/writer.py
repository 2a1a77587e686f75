"""Group commit: many small write jobs share one transaction on one connection.

Every accepted request must be on disk before it is answered, and a commit costs far
more than the rows in it. The writer thread takes whatever jobs have queued up, runs
each inside its own savepoint (so one job's failure leaves the others intact), commits
once, and only then hands each caller its result. On SQLite this is also the only
writer in the process, so requests never fight over the database lock. On PostgreSQL,
where each statement is a round trip, the sends of a batch go out in one pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from centauro.domain.errors import CentauroError
from centauro.store import sql
from centauro.store.engine import (
    LOCK_RETRY_FIRST,
    LOCK_RETRY_MOST,
    SQLITE_BUSY_TIMEOUT_MS,
    try_write_lock,
)
from centauro.store.errors import StoreUnavailable, is_transient

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Connection], Any]

_STOP = object()
TRANSIENT_RETRIES = 5
#: after a job failed, seconds of batches run with a savepoint per job (see _transaction)
CAREFUL_SECONDS = 1.0


@dataclass(slots=True)
class _Pending:
    job: Job
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    #: Jobs given an ``order`` run sorted by it within their batch (see :meth:`Writer.run`).
    order: int = -1
    heavy: bool = False  #: see :meth:`Writer.run`
    outcome: tuple[bool, Any] = field(default=(False, None))


class Writer:
    """Runs write jobs in one thread, committing up to ``max_batch`` jobs at a time."""

    def __init__(self, engine: Engine, *, max_batch: int = 512, name: str = "store-writer"):
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._conn: Connection | None = None
        self.commits = 0
        self.jobs = 0
        self.busy_seconds = 0.0
        self._careful_until = 0.0
        self._stopping = False  # the stop sign was taken into a batch (see _transaction)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the jobs already queued, then stop."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    async def close(self) -> None:
        """:meth:`stop` from a coroutine, without blocking its event loop."""
        await asyncio.to_thread(self.stop)

    async def run(
        self, job: Callable[[Connection], T], *, order: int = -1, heavy: bool = False
    ) -> T:
        """Run ``job(conn)`` in a write transaction; return once it is committed.

        ``order`` (an account id, say) sorts the jobs of one batch that lock rows of the
        same table: two processes' batches then take those row locks in the same order
        and cannot deadlock each other on PostgreSQL. Jobs without one keep their order,
        first. ``heavy``: a job that may run for long (a campaign's 100,000 messages); the
        :class:`LoopWriter` runs its batch off the event loop. Here every batch is.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Pending(job, future, loop, order))
        return await future

    # -- the writer thread ------------------------------------------------------------

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch: list[_Pending] = [first]  # type: ignore[list-item]
            stopping = self._gather(batch)
            batch.sort(key=_order)  # stable: unordered jobs keep their places, first
            self._run_batch(batch)
            stopping = stopping or self._stopping
        if self._conn is not None:
            self._conn.close()

    def _gather(self, batch: list[_Pending]) -> bool:
        """Add the jobs queued by now to ``batch``; True when the stop sign was among them."""
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            batch.append(item)  # type: ignore[arg-type]
        return False

    #: Where the batches run, for ``/v1/health``: this class's own thread.
    runs_on = "thread"

    def stats(self) -> dict[str, float | str]:
        """Jobs and commits so far, and seconds spent in transactions (the writer's load)."""
        return {
            "jobs": self.jobs,
            "commits": self.commits,
            "busy_seconds": round(self.busy_seconds, 3),
            "runs_on": self.runs_on,
        }

    def _run_batch(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        for attempt in range(TRANSIENT_RETRIES + 1):
            try:
                self._transaction(batch)
                break
            except Exception as exc:  # noqa: BLE001 - every failure is reported to the callers
                self._drop_connection()
                if is_transient(exc) and attempt < TRANSIENT_RETRIES:
                    time.sleep(0.01 * 2**attempt)
                    continue
                log.error(
                    "store_commit_failed",
                    extra={"action": "store_commit_failed", "error": type(exc).__name__},
                )
                failure = StoreUnavailable()
                failure.__cause__ = exc
                for pending in batch:
                    pending.outcome = (False, failure)
                break
        self.commits += 1
        self.jobs += len(batch)
        self.busy_seconds += time.perf_counter() - started
        _deliver(batch)

    def _transaction(self, batch: list[_Pending]) -> None:
        conn = self._connection()
        if conn.dialect.name != "sqlite" and time.monotonic() >= self._careful_until:
            # On PostgreSQL every SAVEPOINT and RELEASE is a round trip to the server: a
            # third of the writer's time at 32 clients. Jobs rarely fail, so run the batch
            # without them and, if one does fail, roll back and run it again the careful
            # way (jobs are re-runnable: transient failures already retry them).
            try:
                with conn.begin():
                    outcomes = _run_pipelined(conn, batch)
            except Exception as exc:
                if is_transient(exc):
                    raise
                self._careful_until = time.monotonic() + CAREFUL_SECONDS
            else:
                for pending, outcome in zip(batch, outcomes, strict=True):
                    pending.outcome = outcome
                return
        with conn.begin():
            if conn.dialect.name == "sqlite":
                # The write lock is ours now: BEGIN IMMEDIATE may have waited for another
                # process's commit (serve --workers). The jobs queued meanwhile join this
                # batch instead of waiting a whole turn for the next one, so two processes
                # take turns with full batches, one commit each per turn.
                self._stopping = self._gather(batch) or self._stopping
                batch.sort(key=_order)
            at = 0
            while at < len(batch):
                run = _together(batch, at) if conn.dialect.name == "sqlite" else 1
                if run > 1 and _run_together(conn, batch[at : at + run]):
                    at += run
                    continue
                for pending in batch[at : at + run]:
                    _run_alone(conn, pending)
                at += run

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception:
                log.debug("writer connection close failed", exc_info=True)
            self._conn = None


def _order(pending: _Pending) -> int:
    return pending.order


def _run_alone(conn: Connection, pending: _Pending) -> None:
    """Run one job in its own savepoint: its failure undoes its writes only."""
    # Raw SAVEPOINT statements: SQLAlchemy's begin_nested() costs ~20x more, and this
    # runs once per request.
    sql.execute(conn, "SAVEPOINT job")
    try:
        result = pending.job(conn)
    except CentauroError as exc:
        sql.execute(conn, "ROLLBACK TO SAVEPOINT job")
        pending.outcome = (False, exc)
    except Exception as exc:
        if is_transient(exc):
            raise
        sql.execute(conn, "ROLLBACK TO SAVEPOINT job")
        log.exception("store_job_failed", extra={"action": "store_job_failed"})
        failure = StoreUnavailable()
        failure.__cause__ = exc
        pending.outcome = (False, failure)
    else:
        sql.execute(conn, "RELEASE SAVEPOINT job")
        pending.outcome = (True, result)


def _together(batch: list[_Pending], at: int, method: str = "together") -> int:
    """How many jobs from ``at`` on can run as one call of their kind's ``method``
    (``together``, or ``send_many`` on PostgreSQL): consecutive jobs of one class that has
    it (``service.submit.Commit``), else 1."""
    kind = type(batch[at].job)
    if getattr(kind, method, None) is None:
        return 1
    end = at + 1
    while end < len(batch) and type(batch[end].job) is kind:
        end += 1
    return end - at


def _run_together(conn: Connection, run: list[_Pending]) -> bool:
    """Run ``run`` through ``together`` in one savepoint; False (and nothing written) if
    that raised, so the caller runs the jobs one by one and each fails or passes alone."""
    sql.execute(conn, "SAVEPOINT jobs")
    try:
        outcomes = type(run[0].job).together(conn, [p.job for p in run])  # type: ignore[attr-defined]
    except Exception as exc:
        if is_transient(exc):
            raise
        sql.execute(conn, "ROLLBACK TO SAVEPOINT jobs")
        sql.execute(conn, "RELEASE SAVEPOINT jobs")
        log.warning(
            "store_jobs_together_failed",
            extra={"action": "store_jobs_together_failed", "error": type(exc).__name__},
        )
        return False
    sql.execute(conn, "RELEASE SAVEPOINT jobs")
    for pending, outcome in zip(run, outcomes, strict=True):
        pending.outcome = outcome
    return True


def _run_pipelined(conn: Connection, batch: list[_Pending]) -> list[tuple[bool, Any]]:
    """Run a PostgreSQL batch; runs of jobs that can split go out in one psycopg pipeline.

    Such a job (``service.submit.Commit``) has a ``send(conn)`` method that sends its
    statements and returns a function reading their outcome: the run costs one round trip.
    That function raises a :class:`CentauroError` only for a refusal that wrote nothing (no
    credits, a changed secret), so the refusal is that job's answer and the batch goes on.
    Consecutive jobs of a class with ``send_many(conn, jobs)`` go out as one call of it
    (one statement for all: the server runs one plan, not one per send); the function it
    returns reads every job's outcome. Any other failure fails the batch, which the caller
    then runs the careful way.
    """
    driver = conn.connection.driver_connection
    outcomes: list[tuple[bool, Any]] = []
    at = 0
    while at < len(batch):
        if getattr(batch[at].job, "send", None) is None:
            outcomes.append((True, batch[at].job(conn)))
            at += 1
            continue
        finishers: list[tuple[bool, Callable[[], Any]]] = []
        with driver.pipeline():  # type: ignore[union-attr]
            while at < len(batch) and getattr(batch[at].job, "send", None) is not None:
                run = _together(batch, at, "send_many")
                if run > 1:
                    jobs = [p.job for p in batch[at : at + run]]
                    finishers.append((True, type(jobs[0]).send_many(conn, jobs)))  # type: ignore[attr-defined]
                    at += run
                    continue
                finishers.append((False, batch[at].job.send(conn)))  # type: ignore[attr-defined]
                at += 1
        for many, finish in finishers:
            if many:
                outcomes.extend(finish())
                continue
            try:
                outcomes.append((True, finish()))
            except CentauroError as exc:
                outcomes.append((False, exc))
    return outcomes


def _deliver(batch: list[_Pending]) -> None:
    """Hand results to the waiting coroutines, one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
    for pending in batch:
        by_loop.setdefault(pending.loop, []).append(pending)
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, items)
        except RuntimeError:  # the loop closed while we were committing
            log.warning("writer results dropped: event loop closed")


def _settle(items: list[_Pending]) -> None:
    for pending in items:
        if pending.future.done():
            continue
        ok, value = pending.outcome
        if ok:
            pending.future.set_result(value)
        else:
            pending.future.set_exception(value)


class LoopWriter(Writer):
    """SQLite shared by processes (``serve --workers``): the same batches, run on the
    event loop's own thread instead of a writer thread.

    Each SQLite call releases the GIL, and a writer thread must win it back from the
    event loop after every one. The file's write lock is held all that time, while the
    other process waits for it: under the peer harness a third of the lock's time went
    to those waits (py-spy, 2026-12-06), and the accept rate is the inverse of the lock's
    time per message. Here the loop runs the batch itself, so the lock is held only for
    the work; the lock is tried without waiting, and while another process holds it the
    loop goes on serving and tries again within a millisecond.

    Used by the workers that answer requests beside the delivering one. The delivering
    worker and a single ``serve`` keep :class:`Writer`: their thread's writes overlap the
    loop's SMPP work, and run on the loop the bulk case lost 13 % end to end (3,847 →
    3,330 msg/s, medians of 3 interleaved peer-harness runs) while single sends gained
    nothing more than in the HTTP workers alone.

    A batch blocks the loop while it runs, so a batch with a heavy job (``run(heavy=True)``,
    or a job whose ``heavy`` attribute is true: a send to 1,000 numbers or more) runs on a
    thread of the loop's executor instead, and the next batch waits for it.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 512,
        lock_timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000,
    ) -> None:
        if engine.dialect.name != "sqlite":
            raise ValueError("LoopWriter is for SQLite's file-wide write lock")
        super().__init__(engine, max_batch=max_batch)
        #: Seconds the pending jobs wait for a lock another process keeps before they are
        #: answered StoreUnavailable (503 / the compat equivalent), as the thread's wait.
        self._lock_timeout = lock_timeout
        self._waiting_since: float | None = None
        self._pending: list[_Pending] = []
        self._home: asyncio.AbstractEventLoop | None = None
        self._scheduled: asyncio.Handle | None = None
        self._delay = LOCK_RETRY_FIRST
        self._idle = threading.Event()  #: cleared while a heavy batch runs on a thread
        self._idle.set()

    runs_on = "event loop"

    def start(self) -> None:
        """Nothing to start: the writer runs on the loop of its first caller."""

    async def run(
        self, job: Callable[[Connection], T], *, order: int = -1, heavy: bool = False
    ) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._home:
            if self._home is None or self._home.is_closed() or not self._busy():
                self._home = loop  # idle: move to this loop
            else:  # a caller on another thread's loop: hand the job to ours
                home = asyncio.run_coroutine_threadsafe(
                    self.run(job, order=order, heavy=heavy), self._home
                )
                return await asyncio.wrap_future(home)
        future: asyncio.Future[T] = loop.create_future()
        heavy = heavy or bool(getattr(job, "heavy", False))
        self._pending.append(_Pending(job, future, loop, order, heavy))
        if self._scheduled is None:
            self._scheduled = loop.call_soon(self._flush)
        return await future

    def _busy(self) -> bool:
        return bool(self._pending) or self._scheduled is not None or not self._idle.is_set()

    def _flush(self) -> None:
        """Run what is pending if the write lock is free; else try again shortly."""
        self._scheduled = None
        if not self._pending or self._home is None or not self._idle.is_set():
            return  # a heavy batch on a thread calls us again when it is done
        if not self._lock():
            now = time.monotonic()
            if self._waiting_since is None:
                self._waiting_since = now
            if now - self._waiting_since >= self._lock_timeout:
                self._give_up()  # another process keeps the lock: answer, do not hang
                return
            self._scheduled = self._home.call_later(self._delay, self._flush)
            self._delay = min(self._delay * 2, LOCK_RETRY_MOST)
            return
        self._delay = LOCK_RETRY_FIRST
        self._waiting_since = None
        self._run_pending()
        if self._pending and self._idle.is_set():
            self._scheduled = self._home.call_soon(self._flush)

    def _give_up(self) -> None:
        """Answer every pending job StoreUnavailable (nothing of theirs was written)."""
        self._waiting_since = None
        self._delay = LOCK_RETRY_FIRST
        left, self._pending = self._pending, []
        log.error(
            "store_lock_timeout",
            extra={"action": "store_lock_timeout", "jobs": len(left)},
        )
        for pending in left:
            pending.outcome = (False, StoreUnavailable())
        _deliver(left)

    def _lock(self) -> bool:
        try:
            return try_write_lock(self._connection())
        except Exception:  # noqa: BLE001 - the batch then fails (and is reported) as usual
            self._drop_connection()
            return True

    def _run_pending(self, *, here: bool = False) -> None:
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        batch.sort(key=_order)
        if here or self._home is None or not any(p.heavy for p in batch):
            self._run_batch(batch)
            return
        home = self._home
        self._idle.clear()

        def work() -> None:
            try:
                self._run_batch(batch)
            finally:
                self._idle.set()  # here, not on the loop: stop() may be waiting on it

        def done(_: object) -> None:
            if self._pending and self._scheduled is None:
                self._scheduled = home.call_soon(self._flush)

        home.run_in_executor(None, work).add_done_callback(done)

    def _gather(self, batch: list[_Pending]) -> bool:
        return False  # the batch is what was pending when the lock was taken

    def stop(self, timeout: float = 10.0) -> None:
        """Run what is pending (waiting for the lock, as the loop is stopping), then stop."""
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        deadline = time.monotonic() + timeout
        # A heavy batch on a thread finishes first; one still running past the timeout
        # keeps the connection (the process is ending) and what waits gets an answer.
        finished = self._idle.wait(timeout)
        while finished and self._pending and time.monotonic() < deadline:
            if self._lock():
                self._run_pending(here=True)
            else:
                time.sleep(LOCK_RETRY_MOST)
        if self._pending:  # the lock never came: these callers get an answer, not a hang
            self._give_up()
        if finished and self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        self.stop()
