"""The running gateway: store, writer, connectors, dispatcher and inbox, started and
stopped together. The API and the CLI's ``serve`` hold one of these.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any, TypeVar, cast

import anyio
import anyio.to_thread
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url

from centauro.config import Settings
from centauro.connectors.base import Connector
from centauro.delivery.dispatcher import Dispatcher
from centauro.delivery.inbox import BufferedInbox
from centauro.delivery.leases import Alone, BindLeases, DatabaseLeases
from centauro.delivery.presence import Presence, new_worker_id
from centauro.delivery.rollup import ReportRollup
from centauro.delivery.scheduler import Scheduler
from centauro.delivery.supervisor import Supervisor, build_connector
from centauro.delivery.webhooks import WebhookSender, sender_for
from centauro.domain.errors import Unavailable
from centauro.service import carriers, smpp
from centauro.store import migrate
from centauro.store.engine import Database, open_database
from centauro.store.writer import LoopWriter, Writer

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Store reads run on worker threads, this many at once (SQLite's read pool holds 8).
READ_THREADS = 8


#: Seconds a new ``serve`` waits for the SQLite serve lock before refusing: the workers
#: of a ``serve`` killed a moment ago hold it until they are gone too.
SERVE_LOCK_WAIT = 5.0


@dataclass(frozen=True, slots=True)
class Siblings:
    """What a worker of ``serve --workers N`` shares with its parent and siblings.

    ``lock_held``: the parent holds the SQLite serve lock for all of them (so the
    delivering worker is alone among dispatchers). ``wake_write``: a non-blocking pipe to
    the delivering worker, written when this one queued messages; ``wake_read``: its read
    end, in the delivering worker (woken at once rather than at its next poll).
    ``deliveries_write``: a second pipe, from the delivering worker to the worker that runs
    the SMPP server, written when receipts or MO were stored (customers' deliver_sm may
    be due); ``deliveries_read``: its read end, in the SMPP server's worker.
    """

    lock_held: bool = False
    wake_write: int | None = None
    wake_read: int | None = None
    deliveries_write: int | None = None
    deliveries_read: int | None = None


class Gateway:
    """Everything ``centauro serve`` runs in one process."""

    def __init__(
        self, settings: Settings, *, migrate: bool = True, siblings: Siblings | None = None
    ) -> None:
        self.settings = settings
        self._migrate = migrate
        self.siblings = siblings or Siblings()
        self.db: Database | None = None
        #: Reads in flight on worker threads at most: more would only wait for a pooled
        #: connection, each on a thread of its own (and its memory).
        self._readers: anyio.CapacityLimiter | None = None
        self.writer: Writer | None = None
        #: PostgreSQL: the writer of delivery's records (None: they share ``writer``).
        self.delivery_writer: Writer | None = None
        self.inbox: BufferedInbox | None = None
        self.dispatcher: Dispatcher | None = None
        self.supervisor: Supervisor | None = None
        self.scheduler: Scheduler | None = None
        self.presence: Presence | None = None
        self.webhooks: WebhookSender | None = None
        self.leases: BindLeases | None = None
        self._serve_lock: IO[bytes] | None = None
        self._poke_due = False  #: a wake-up for the delivering sibling is scheduled
        self._stack: contextlib.AsyncExitStack | None = None
        self.started_at: datetime | None = None
        #: Status of parts other doors run beside the gateway (the SMPP server), by name,
        #: for /v1/health; each registers itself when it starts.
        self.reports: dict[str, Callable[[], object]] = {}
        #: Who this process is, as ``owner`` in connector status (host, pid).
        self.owner = {"host": socket.gethostname(), "pid": os.getpid()}
        #: Called when receipts or MO were stored for customers (the SMPP server's pump
        #: registers its wake-up): see :meth:`deliveries_stored`.
        self.delivery_listeners: list[Callable[[], None]] = []

    # -- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start every part in order. Each started part's stop goes on a stack, so a
        start that fails half-way stops what it had started, in reverse, and raises."""
        async with contextlib.AsyncExitStack() as stack:
            await self._start_parts(stack)
            self._stack = stack.pop_all()
        self.started_at = datetime.now(UTC)
        log.info("gateway_started", extra={"action": "gateway_started"})

    async def _start_parts(self, stack: contextlib.AsyncExitStack) -> None:
        s = self.settings
        sqlite = make_url(s.database_url).get_backend_name() == "sqlite"
        if sqlite and not self.siblings.lock_held:
            self._serve_lock = await anyio.to_thread.run_sync(
                functools.partial(sqlite_serve_lock, s.database_url, wait=SERVE_LOCK_WAIT)
            )
            push_stop(stack, "serve_lock", self._release_lock)
        db = self.db = open_database(s.database_url, sqlite_synchronous=s.sqlite_synchronous)
        worker_id = new_worker_id()
        if not db.is_sqlite:
            fence_pg_sessions(db, seconds=s.bind_lease_seconds / 2, name=worker_id)
        push_stop(stack, "database", lambda: _sync(db.dispose))
        if self._migrate:
            await anyio.to_thread.run_sync(migrate.upgrade, db)
        else:
            await anyio.to_thread.run_sync(migrate.ensure_current, db)
        # A worker that answers requests beside the delivering one on one SQLite file runs
        # its batches on its event loop (LoopWriter says why); the delivering worker and a
        # single process keep the writer thread, whose writes overlap their loop's work.
        beside_delivery = sqlite and self.siblings.lock_held and not s.delivers
        writer = self.writer = (
            LoopWriter(db.write_engine) if beside_delivery else Writer(db.write_engine)
        )
        writer.start()
        push_stop(stack, "writer", writer.close)
        if self.siblings.deliveries_read is not None:
            self._listen(self.siblings.deliveries_read, self._deliveries_here, stack)
        if not s.delivers:  # --role api: the doors only, never a bind
            return
        delivery_writer = writer if sqlite else self._start_delivery_writer(db, stack)
        # SQLite: this process (or the parent of its workers) holds the file's lock, so
        # no other dispatcher exists.
        alone = self._serve_lock is not None or (sqlite and self.siblings.lock_held)
        presence = self.presence = Presence(
            writer,
            worker_id=worker_id,
            alone=alone,
            heartbeat=s.heartbeat_seconds,
            stale_after=timedelta(seconds=s.worker_stale_seconds),
        )
        await presence.start()
        push_stop(stack, "presence", presence.stop)
        inbox = self.inbox = BufferedInbox(
            delivery_writer,
            reassembly=timedelta(seconds=s.mo_reassembly_seconds),
            on_stored=self.deliveries_stored,
        )
        inbox.start()
        push_stop(stack, "inbox", inbox.stop)
        # On SQLite we hold the file's lock: alone, every connector is ours. On
        # PostgreSQL each connector's binds go to one delivering process (a lease).
        self.leases = (
            Alone()
            if alone
            else DatabaseLeases(
                self.write, worker_id=presence.worker_id, seconds=s.bind_lease_seconds
            )
        )
        supervisor = self.supervisor = Supervisor(
            read=self.read,
            write=self.write,
            inbox=inbox,
            worker_id=presence.worker_id,
            factory=functools.partial(build_connector, sandbox_dlr_delay=s.sandbox_dlr_delay),
            interval=min(s.reload_seconds, s.bind_lease_seconds / 3),
            leases=self.leases,
        )
        # Pushed before its start: a reload that fails may have started connectors.
        push_stop(stack, "supervisor", supervisor.stop)
        await supervisor.start()
        dispatcher = self.dispatcher = Dispatcher(
            delivery_writer,
            supervisor.candidates,
            batch=s.dispatch_batch,
            capacity=supervisor.capacity,
            prefetch=supervisor.capacity,  # the next window claimed while this one is out
            lease=timedelta(seconds=s.lease_seconds),
            worker_id=presence.worker_id,
            on_recorded=inbox.sent_recorded,
        )
        dispatcher.start()
        push_stop(stack, "dispatcher", dispatcher.stop)
        if self.siblings.wake_read is not None:  # a sibling queued messages
            self._listen(self.siblings.wake_read, dispatcher.wake, stack)
        scheduler = self.scheduler = Scheduler(delivery_writer, dispatcher.wake)
        scheduler.start()
        push_stop(stack, "scheduler", scheduler.stop)
        rollup = ReportRollup(self.read, self.write, runner=presence.worker_id)
        rollup.start()
        push_stop(stack, "report_rollup", rollup.stop)
        webhooks = self.webhooks = sender_for(s, delivery_writer, presence.worker_id)
        webhooks.start()
        push_stop(stack, "webhooks", webhooks.stop)

    def _start_delivery_writer(self, db: Database, stack: contextlib.AsyncExitStack) -> Writer:
        """PostgreSQL takes concurrent writers: delivery's records (claims, outcomes,
        receipts and inbound messages, webhook deliveries) go through a connection of
        their own, so a batch of accepted sends never waits behind a delivery batch's
        round trips, nor the other way round. (SQLite has one write lock per file: a
        second writer would only take turns with the first.)"""
        writer = self.delivery_writer = Writer(db.write_engine, name="store-writer-delivery")
        writer.start()
        push_stop(stack, "delivery_writer", writer.close)
        return writer

    def _listen(self, fd: int, wake: Callable[[], None], stack: contextlib.AsyncExitStack) -> None:
        """Call ``wake`` when a sibling worker writes a byte on the pipe end ``fd``."""
        loop = asyncio.get_running_loop()
        os.set_blocking(fd, False)

        def readable() -> None:
            with contextlib.suppress(BlockingIOError, InterruptedError):
                os.read(fd, 4096)
            wake()

        loop.add_reader(fd, readable)
        push_stop(stack, "sibling_wake", lambda: _sync(lambda: loop.remove_reader(fd)))

    async def stop(self) -> None:
        """Stop the started parts in reverse order; a failing step is logged, the rest run."""
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()
        log.info("gateway_stopped", extra={"action": "gateway_stopped"})

    async def _release_lock(self) -> None:
        if self._serve_lock is not None:
            self._serve_lock.close()
            self._serve_lock = None

    async def peer_connectors(self) -> list[dict[str, Any]]:
        """Status rows of the connectors other processes own (``live_status``, each with
        its ``owner``): what ``/v1/health`` shows of delivery on an API node."""
        mine = {c.name for c in self.connectors}
        rows = await self.read(carriers.live_status)
        return [r for r in rows if r["name"] not in mine]

    async def smpp_report(self) -> dict[str, Any] | None:
        """The SMPP server's figures: this process's when it runs the server; else, with
        ``--workers 3`` or more, those the worker that does wrote to the store (≤ 2 s old)."""
        report = self.reports.get("smpp_server")
        if report is not None:
            return cast(dict[str, Any], report())
        now = datetime.now(UTC)
        return await self.read(lambda conn: smpp.server_report(conn, now))

    @property
    def connectors(self) -> list[Connector]:
        return self.supervisor.connectors if self.supervisor is not None else []

    def routable(self, recipient: str) -> bool:
        """Whether some running connector may carry ``recipient`` (True when this process
        does not deliver: it cannot tell, and another process may)."""
        return self.supervisor is None or self.supervisor.routable(recipient)

    # -- store access -----------------------------------------------------------------

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a read snapshot on a worker thread."""
        assert self.db is not None
        db = self.db

        def run() -> T:
            with db.read() as conn:
                return fn(conn)

        if self._readers is None:
            self._readers = anyio.CapacityLimiter(READ_THREADS)
        return await anyio.to_thread.run_sync(run, limiter=self._readers)

    async def write(
        self, fn: Callable[[Connection], T], *, order: int = -1, heavy: bool = False
    ) -> T:
        """Run ``fn`` in a (group-committed) write transaction (``order``, ``heavy``:
        Writer.run)."""
        assert self.writer is not None
        return await self.writer.run(fn, order=order, heavy=heavy)

    async def store_ok(self) -> bool:
        """Whether a read reaches our tables now (``SELECT 1`` alone passes on a database
        that lost its schema)."""
        try:
            await self.read(lambda c: c.execute(text("SELECT 1 FROM accounts LIMIT 1")).scalar())
        except Exception:  # noqa: BLE001 - a health probe reports, it never raises
            return False
        return True

    def queued(self) -> None:
        """Tell the dispatcher that new messages wait (in this process or a sibling's).

        A sibling gets one byte per turn of this event loop, not one per request: the sends
        a writer batch answered together all call this in the same turn, and one wake-up
        is all the dispatcher needs (a system call per send was ~4 % of an HTTP worker)."""
        if self.dispatcher is not None:
            self.dispatcher.wake()
            return
        fd = self.siblings.wake_write
        if fd is None or self._poke_due:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called off the loop (a thread): no turn to wait for
            _poke(fd)
            return
        self._poke_due = True
        loop.call_soon(self._poke_sibling, fd)

    def _poke_sibling(self, fd: int) -> None:
        self._poke_due = False
        _poke(fd)

    def deliveries_stored(self) -> None:
        """Receipts or MO were stored: the SMPP server's pump (in this process or the
        sibling that runs it) looks at its queue now rather than at its next poll."""
        self._deliveries_here()
        if self.siblings.deliveries_write is not None:
            _poke(self.siblings.deliveries_write)

    def _deliveries_here(self) -> None:
        for wake in self.delivery_listeners:
            wake()


def _poke(fd: int) -> None:
    """One byte on a sibling's non-blocking wake pipe. A full pipe already holds a
    wake-up, and a sibling being restarted reads its queue when it starts: nothing is
    lost by dropping this one."""
    with contextlib.suppress(BlockingIOError, InterruptedError, BrokenPipeError):
        os.write(fd, b"w")


def push_stop(
    stack: contextlib.AsyncExitStack, part: str, stop: Callable[[], Awaitable[object]]
) -> None:
    """Put ``stop`` on ``stack``, guarded: a part that fails to stop is logged and the
    parts started before it are still stopped."""

    async def guarded() -> None:
        try:
            await stop()
        except Exception:
            log.exception(
                "gateway_stop_failed", extra={"action": "gateway_stop_failed", "part": part}
            )

    stack.push_async_callback(guarded)


async def _sync(fn: Callable[[], object]) -> None:
    fn()


def fence_pg_sessions(db: Database, *, seconds: float, name: str | None = None) -> None:
    """Make our PostgreSQL sessions fenceable: the server ends our transactions that sit
    idle for ``seconds``, and each session is named ``name`` (``application_name``: our
    worker id) so a process taking our leases over can find the stuck ones.

    A serving process never leaves a transaction idle (the writer runs jobs back to
    back), unless it is paused (SIGSTOP, a frozen VM) or cut off: then its row locks
    (a lease row, messages it was recording) would block the process taking its
    connectors over for as long as the pause lasts. The server ends such a transaction
    (``idle_in_transaction_session_timeout``) and its locks go with it. A session paused
    inside a pipeline (psycopg's ``executemany`` is one) is not idle to the server, only
    waiting for the rest: the process taking the leases over finds it by its name and
    ends it (store/leases.py, ``fence_out``).
    """
    millis = max(1000, int(seconds * 1000))

    @event.listens_for(db.write_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute(f"SET idle_in_transaction_session_timeout = {millis}")
        if name is not None:
            cursor.execute("SELECT set_config('application_name', %s, false)", (name,))
        cursor.close()
        dbapi_conn.commit()


def sqlite_serve_lock(database_url: str, *, wait: float = 0.0) -> IO[bytes]:
    """Hold ``<file>.serve.lock`` for as long as we serve: one ``serve`` per SQLite file.

    SQLite is the one-machine, one-process store; a second ``serve`` on the same file
    would compete for the write lock and could not tell our claims from a dead
    process's. With the lock held we know every other worker row is stale. ``serve
    --workers N`` takes it in the parent and its workers inherit it, so it is free only
    once every process of that ``serve`` is gone; ``wait`` seconds are given for that.
    """
    path = make_url(database_url).database or ""
    handle = open(f"{path}.serve.lock", "ab")  # noqa: SIM115 - held until stop()
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            if time.monotonic() < deadline:
                time.sleep(0.1)
                continue
        else:
            return handle
        handle.close()
        raise Unavailable(
            f"another `centauro serve` is using {path}; SQLite takes one server process "
            "(use PostgreSQL to run several)"
        ) from None
