"""The running gateway: store, writer, connectors, dispatcher and inbox, started and
stopped together. The API and the CLI's ``serve`` hold one of these.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import IO, TypeVar

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
from centauro.domain.models import Account
from centauro.domain.rates import RateLimiter
from centauro.service import accounts, credentials
from centauro.store import migrate
from centauro.store.engine import Database, open_database
from centauro.store.writer import Writer

log = logging.getLogger(__name__)
T = TypeVar("T")

AUTH_CACHE_SIZE = 10_000


class Gateway:
    """Everything ``centauro serve`` runs in one process."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        self.settings = settings
        self._migrate = migrate
        self.db: Database | None = None
        self.writer: Writer | None = None
        self.inbox: BufferedInbox | None = None
        self.dispatcher: Dispatcher | None = None
        self.supervisor: Supervisor | None = None
        self.scheduler: Scheduler | None = None
        self.presence: Presence | None = None
        self.webhooks: WebhookSender | None = None
        self._serve_lock: IO[bytes] | None = None
        self._auth: OrderedDict[tuple[str, str], tuple[float, Account]] = OrderedDict()
        self._rates = RateLimiter()
        self.started_at: datetime | None = None
        #: Status of parts other doors run beside the gateway (the SMPP server), by name,
        #: for /v1/health; each registers itself when it starts.
        self.reports: dict[str, Callable[[], object]] = {}

    # -- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        self.db = open_database(s.database_url, sqlite_synchronous=s.sqlite_synchronous)
        if self._migrate:
            await anyio.to_thread.run_sync(migrate.upgrade, self.db)
        else:
            await anyio.to_thread.run_sync(migrate.ensure_current, self.db)
        if self.db.is_sqlite:
            self._serve_lock = sqlite_serve_lock(s.database_url)
        self.writer = Writer(self.db.write_engine)
        self.writer.start()
        if s.dispatcher:
            self.presence = Presence(
                self.writer,
                worker_id=new_worker_id(),
                alone=self._serve_lock is not None,
                heartbeat=s.heartbeat_seconds,
                stale_after=timedelta(seconds=s.worker_stale_seconds),
            )
            await self.presence.start()
            self.inbox = BufferedInbox(self.writer)
            self.inbox.start()
            self.supervisor = Supervisor(
                read=self.read,
                write=self.write,
                inbox=self.inbox,
                worker_id=self.presence.worker_id,
                factory=functools.partial(build_connector, sandbox_dlr_delay=s.sandbox_dlr_delay),
                interval=s.reload_seconds,
            )
            await self.supervisor.start()
            self.dispatcher = Dispatcher(
                self.writer,
                self.supervisor.candidates,
                batch=s.dispatch_batch,
                capacity=self.supervisor.capacity,
                lease=timedelta(seconds=s.lease_seconds),
                worker_id=self.presence.worker_id,
                on_recorded=self.inbox.sent_recorded,
            )
            self.dispatcher.start()
            self.scheduler = Scheduler(self.writer, self.dispatcher.wake)
            self.scheduler.start()
            self.webhooks = sender_for(s, self.writer, self.presence.worker_id)
            self.webhooks.start()
        self.started_at = datetime.now(UTC)
        log.info("gateway_started", extra={"action": "gateway_started"})

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        if self.supervisor is not None:
            await self.supervisor.stop()
        if self.webhooks is not None:
            await self.webhooks.stop()
        if self.inbox is not None:
            try:
                await self.inbox.stop()
            except Exception:
                log.exception("inbox_stop_failed", extra={"action": "inbox_stop_failed"})
        if self.presence is not None:
            await self.presence.stop()
        if self.writer is not None:
            await anyio.to_thread.run_sync(self.writer.stop)
        if self.db is not None:
            self.db.dispose()
        if self._serve_lock is not None:
            self._serve_lock.close()
            self._serve_lock = None
        log.info("gateway_stopped", extra={"action": "gateway_stopped"})

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

        return await anyio.to_thread.run_sync(run)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a (group-committed) write transaction."""
        assert self.writer is not None
        return await self.writer.run(fn)

    async def store_ok(self) -> bool:
        """Whether a read reaches the store now."""
        try:
            await self.read(lambda c: c.execute(text("SELECT 1")).scalar())
        except Exception:  # noqa: BLE001 - a health probe reports, it never raises
            return False
        return True

    def queued(self) -> None:
        """Tell the dispatcher that new messages wait."""
        if self.dispatcher is not None:
            self.dispatcher.wake()

    # -- request rate -----------------------------------------------------------------

    def check_rate(self, account: Account) -> None:
        """Count one request against the account's rate; :class:`RateLimited` when over."""
        rate = self.settings.rate_limit if account.rate_limit is None else account.rate_limit
        if rate <= 0:
            return
        self._rates.take(account.id, rate, time.monotonic())

    # -- authentication ---------------------------------------------------------------

    async def authenticate(self, client_id: str, secret: str) -> Account:
        """The account for these credentials. Positive answers are cached briefly; the
        charge re-checks secret and enabled state inside its transaction anyway."""
        key = (client_id, credentials.hash_secret(secret))
        hit = self._auth.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        account = await self.read(lambda c: accounts.authenticate(c, client_id, secret))
        self._auth[key] = (now + self.settings.auth_cache_seconds, account)
        self._auth.move_to_end(key)
        while len(self._auth) > AUTH_CACHE_SIZE:
            self._auth.popitem(last=False)
        return account


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
