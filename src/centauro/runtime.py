"""The running gateway: store, writer, connectors, dispatcher and inbox, started and
stopped together. The API and the CLI's ``serve`` hold one of these.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import IO, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from centauro.config import Settings
from centauro.connectors.base import Connector
from centauro.delivery.dispatcher import Dispatcher
from centauro.delivery.inbox import BufferedInbox
from centauro.delivery.presence import Presence, new_worker_id
from centauro.delivery.scheduler import Scheduler
from centauro.delivery.supervisor import Supervisor, build_connector
from centauro.delivery.webhooks import WebhookSender, sender_for
from centauro.domain.errors import Unavailable
from centauro.store import migrate
from centauro.store.engine import Database, open_database
from centauro.store.writer import Writer

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Store reads run on worker threads, this many at once (SQLite's read pool holds 8).
READ_THREADS = 8


class Gateway:
    """Everything ``centauro serve`` runs in one process."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        self.settings = settings
        self._migrate = migrate
        self.db: Database | None = None
        #: Reads in flight on worker threads at most: more would only wait for a pooled
        #: connection, each on a thread of its own (and its memory).
        self._readers: anyio.CapacityLimiter | None = None
        self.writer: Writer | None = None
        self.inbox: BufferedInbox | None = None
        self.dispatcher: Dispatcher | None = None
        self.supervisor: Supervisor | None = None
        self.scheduler: Scheduler | None = None
        self.presence: Presence | None = None
        self.webhooks: WebhookSender | None = None
        self._serve_lock: IO[bytes] | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self.started_at: datetime | None = None
        #: Status of parts other doors run beside the gateway (the SMPP server), by name,
        #: for /v1/health; each registers itself when it starts.
        self.reports: dict[str, Callable[[], object]] = {}

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
        if make_url(s.database_url).get_backend_name() == "sqlite":
            self._serve_lock = sqlite_serve_lock(s.database_url)
            push_stop(stack, "serve_lock", self._release_lock)
        db = self.db = open_database(s.database_url, sqlite_synchronous=s.sqlite_synchronous)
        push_stop(stack, "database", lambda: _sync(db.dispose))
        if self._migrate:
            await anyio.to_thread.run_sync(migrate.upgrade, db)
        else:
            await anyio.to_thread.run_sync(migrate.ensure_current, db)
        writer = self.writer = Writer(db.write_engine)
        writer.start()
        push_stop(stack, "writer", lambda: anyio.to_thread.run_sync(writer.stop))
        if not s.dispatcher:
            return
        presence = self.presence = Presence(
            writer,
            worker_id=new_worker_id(),
            alone=self._serve_lock is not None,
            heartbeat=s.heartbeat_seconds,
            stale_after=timedelta(seconds=s.worker_stale_seconds),
        )
        await presence.start()
        push_stop(stack, "presence", presence.stop)
        inbox = self.inbox = BufferedInbox(
            writer, reassembly=timedelta(seconds=s.mo_reassembly_seconds)
        )
        inbox.start()
        push_stop(stack, "inbox", inbox.stop)
        supervisor = self.supervisor = Supervisor(
            read=self.read,
            write=self.write,
            inbox=inbox,
            worker_id=presence.worker_id,
            factory=functools.partial(build_connector, sandbox_dlr_delay=s.sandbox_dlr_delay),
            interval=s.reload_seconds,
        )
        # Pushed before its start: a reload that fails may have started connectors.
        push_stop(stack, "supervisor", supervisor.stop)
        await supervisor.start()
        dispatcher = self.dispatcher = Dispatcher(
            writer,
            supervisor.candidates,
            batch=s.dispatch_batch,
            capacity=supervisor.capacity,
            lease=timedelta(seconds=s.lease_seconds),
            worker_id=presence.worker_id,
            on_recorded=inbox.sent_recorded,
        )
        dispatcher.start()
        push_stop(stack, "dispatcher", dispatcher.stop)
        scheduler = self.scheduler = Scheduler(writer, dispatcher.wake)
        scheduler.start()
        push_stop(stack, "scheduler", scheduler.stop)
        webhooks = self.webhooks = sender_for(s, writer, presence.worker_id)
        webhooks.start()
        push_stop(stack, "webhooks", webhooks.stop)

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

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a (group-committed) write transaction."""
        assert self.writer is not None
        return await self.writer.run(fn)

    async def store_ok(self) -> bool:
        """Whether a read reaches our tables now (``SELECT 1`` alone passes on a database
        that lost its schema)."""
        try:
            await self.read(lambda c: c.execute(text("SELECT 1 FROM accounts LIMIT 1")).scalar())
        except Exception:  # noqa: BLE001 - a health probe reports, it never raises
            return False
        return True

    def queued(self) -> None:
        """Tell the dispatcher that new messages wait."""
        if self.dispatcher is not None:
            self.dispatcher.wake()


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


def sqlite_serve_lock(database_url: str) -> IO[bytes]:
    """Hold ``<file>.serve.lock`` for as long as we serve: one ``serve`` per SQLite file.

    SQLite is the one-machine, one-process store; a second ``serve`` on the same file
    would compete for the write lock and could not tell our claims from a dead
    process's. With the lock held we know every other worker row is stale.
    """
    path = make_url(database_url).database or ""
    handle = open(f"{path}.serve.lock", "ab")  # noqa: SIM115 - held until stop()
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise Unavailable(
            f"another `centauro serve` is using {path}; SQLite takes one server process "
            "(use PostgreSQL to run several)"
        ) from None
    return handle
