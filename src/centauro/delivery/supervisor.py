"""Runs the connectors the store describes, and keeps them in step with it.

The operator edits connectors and routes from the CLI (another process); every few
seconds the supervisor reads them back, starts what is new or enabled, stops what was
removed or disabled, restarts what changed, swaps in the new route table, and writes
its connectors' health for ``centauro connectors status``. That health is also written
once the connectors are first started, and within :data:`STATE_POLL` seconds of a
connector changing state (a bind coming up after a start or a takeover, a bind lost):
other processes (``/v1/health`` on an API node, the CLI) read only these rows.

Until any connector is configured, messages go to a built-in sandbox (the route ""),
so a fresh install delivers end to end with nothing to set up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from centauro.connectors import registry
from centauro.connectors.base import Connector, ConnectorStatus, Fenced, Inbox
from centauro.connectors.sandbox import SandboxConnector
from centauro.delivery.leases import Alone, BindLeases
from centauro.domain.routing import Route, RouteTable
from centauro.store import carriers, outbox
from centauro.store.carriers import ConnectorRow

log = logging.getLogger(__name__)
T = TypeVar("T")

IMPLICIT_SANDBOX = "sandbox"
SANDBOX_RESUME_LIMIT = 1_000_000
CANDIDATE_CACHE = 100_000  #: distinct leading-digit keys remembered before starting over
#: How often (seconds) the connectors' states are compared with the last written ones.
STATE_POLL = 0.25

Read = Callable[[Callable[[Connection], T]], Awaitable[T]]
Factory = Callable[[ConnectorRow], Connector]


def build_connector(row: ConnectorRow, *, sandbox_dlr_delay: float = 0.2) -> Connector:
    """A connector object for a stored row, built by its kind (connectors/registry.py)."""
    return registry.build(row.kind, row.name, row.settings, sandbox_dlr_delay=sandbox_dlr_delay)


class Supervisor:
    def __init__(
        self,
        *,
        read: Read[Any],
        write: Read[Any],
        inbox: Inbox,
        worker_id: str,
        factory: Factory,
        interval: float = 2.0,
        leases: BindLeases | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._read = read
        self._write = write
        self._inbox = inbox
        self._worker_id = worker_id
        self._factory = factory
        self._interval = interval
        self._clock = clock
        self._running: dict[str, tuple[tuple[str, bool, str], Connector]] = {}
        self._table = RouteTable([])
        self._configured = RouteTable([])
        self._by_name: dict[str, Connector] = {}
        self._cache: dict[str, list[Connector]] = {}
        self._task: asyncio.Task[None] | None = None
        self._leases: BindLeases = leases or Alone()
        #: Connectors are enabled but other processes own them all: we stand by.
        self.standby = False
        #: (name, state) of each connector as last written to ``connector_status``.
        self._saved_states: list[tuple[str, str]] | None = None

    # -- routing ------------------------------------------------------------------------

    def candidates(self, recipient: str, *, alphanumeric: bool = False) -> list[Connector]:
        """Running connectors that may carry a message to ``recipient``, best first
        (with ``alphanumeric``: only those whose route carries alphanumeric senders).

        Memoised per leading digits (the longest route prefix decides): this runs twice
        per message, at accept time and at dispatch.
        """
        key = recipient.removeprefix("+")[: self._table.key_length]
        if alphanumeric:
            key = "a" + key
        found = self._cache.get(key)
        if found is None:
            by_name = self._by_name
            names = self._table.candidates(key.removeprefix("a"), alphanumeric=alphanumeric)
            found = [by_name[n] for n in names if n in by_name]
            if len(self._cache) > CANDIDATE_CACHE:
                self._cache.clear()
            self._cache[key] = found
        return found

    def routable(self, recipient: str) -> bool:
        """Whether a running connector may carry ``recipient`` — here, or when bind
        ownership is shared, in whichever process owns it."""
        if self._leases.shared:
            key = recipient.removeprefix("+")[: self._configured.key_length]
            return bool(self._configured.candidates(key))
        return bool(self.candidates(recipient))

    @property
    def connectors(self) -> list[Connector]:
        return [c for _, c in self._running.values()]

    def capacity(self) -> int:
        """Messages the dispatcher may hold between claim and record: the connectors'
        windows together (at least one, so a queue with no connector still drains into
        retries). None while we stand by: the owners of the binds send those messages."""
        if self.standby:
            return 0
        return max(1, sum(c.window for c in self.connectors))

    def statuses(self) -> list[ConnectorStatus]:
        return [c.status() for c in self.connectors]

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self.reload()
        await self._save_status()
        self._task = asyncio.create_task(self._watch(), name="supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for _, connector in list(self._running.values()):
            await self._stop(connector)
        self._running.clear()
        self._by_name = {}
        self._cache = {}
        await self._leases.release()  # after the unbinds: the next owner binds at once

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        next_reload = loop.time() + self._interval
        while True:
            await asyncio.sleep(max(0.0, min(STATE_POLL, next_reload - loop.time())))
            try:
                if loop.time() >= next_reload:
                    await self.reload()
                    await self._save_status()
                    next_reload = loop.time() + self._interval
                elif self._states() != self._saved_states:
                    await self._save_status()
            except Exception:
                next_reload = loop.time() + self._interval
                self._saved_states = self._states()  # retried at the next reload, not sooner
                log.exception("supervisor_reload_failed", extra={"action": "supervisor_reload"})
                await self._drop_unleased()

    async def _drop_unleased(self) -> None:
        """Unbind the connectors whose lease we could not renew in time (the store is
        out of reach): their fences are already shut, now their binds go too."""
        lost = [n for n in self._running if not self._leases.valid(n)]
        for name in lost:
            await self._stop(self._running.pop(name)[1])
        if lost:
            self._by_name = {n: c for n, (_, c) in self._running.items()}
            self._table = RouteTable(
                [r for r in self._table.routes if r.connector in self._by_name]
            )
            self._cache = {}

    async def reload(self) -> None:
        """Bring the running connectors and the route table in line with the store."""
        rows, routes = await self._read(
            lambda c: (carriers.all_connectors(c), carriers.all_routes(c))
        )
        wanted: dict[str, ConnectorRow] = {r.name: r for r in rows if r.enabled}
        route_list = [r.route() for r in routes]
        if not rows:  # nothing configured yet: the built-in sandbox carries everything
            wanted = {
                IMPLICIT_SANDBOX: ConnectorRow(IMPLICIT_SANDBOX, "sandbox", True, {}, self._clock())
            }
            route_list = [Route("", IMPLICIT_SANDBOX)]
        self._configured = RouteTable([r for r in route_list if r.connector in wanted])
        owned = await self._leases.hold(sorted(wanted))
        self.standby = bool(wanted) and not owned
        wanted = {name: row for name, row in wanted.items() if name in owned}
        for name in [n for n in self._running if n not in wanted]:
            await self._stop(self._running.pop(name)[1])
        for name, row in wanted.items():
            current = self._running.get(name)
            if current is not None and current[0] == row.fingerprint:
                continue
            if current is not None:
                await self._stop(current[1])
            started = await self._start(row)
            if started is not None:
                self._running[name] = (row.fingerprint, started)
        self._by_name = {name: c for name, (_, c) in self._running.items()}
        self._table = RouteTable([r for r in route_list if r.connector in self._by_name])
        self._cache = {}

    async def _start(self, row: ConnectorRow) -> Connector | None:
        try:
            connector = self._factory(row)
            if isinstance(connector, Fenced):
                connector.fence = functools.partial(self._leases.valid, row.name)
            await connector.start(self._inbox)
        except Exception:
            log.exception(
                "connector_start_failed",
                extra={"action": "connector_start_failed", "connector": row.name},
            )
            return None
        log.info("connector_started", extra={"action": "connector_started", "connector": row.name})
        if isinstance(connector, SandboxConnector):
            connector.resume(
                await self._read(
                    lambda c: outbox.awaiting_receipt(c, row.name, limit=SANDBOX_RESUME_LIMIT)
                )
            )
        return connector

    async def _stop(self, connector: Connector) -> None:
        try:
            await connector.stop()
        except Exception:
            log.exception(
                "connector_stop_failed",
                extra={"action": "connector_stop_failed", "connector": connector.name},
            )
        log.info(
            "connector_stopped", extra={"action": "connector_stopped", "connector": connector.name}
        )

    def _states(self) -> list[tuple[str, str]]:
        return [(s.name, s.state) for s in self.statuses()]

    async def _save_status(self) -> None:
        rows = []
        statuses = self.statuses()
        for status in statuses:
            row = asdict(status)
            row.pop("extra", None)
            rows.append(row)
        now = self._clock()
        await self._write(lambda c: carriers.save_status(c, self._worker_id, rows, now))
        self._saved_states = [(s.name, s.state) for s in statuses]
