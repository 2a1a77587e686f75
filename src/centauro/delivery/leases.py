"""Bind ownership: which delivering process binds each connector, and the fence.

On PostgreSQL several ``serve --role delivery|all`` processes share one store; each
connector's binds must belong to one of them. :class:`DatabaseLeases` keeps a lease per
connector in the store (store/leases.py, the database's clock): the supervisor calls
:meth:`~DatabaseLeases.hold` every ``seconds / 3`` to take free leases and renew its
own. When the owner dies (kill -9, power loss, a cut network) its leases run out and
another process takes them at its next round: within ``seconds`` + one round. Before it
takes them it ends the old owner's database sessions (store/leases.fence_out): one
paused in the middle of a transaction would hold its row locks until it woke.

**Fencing.** A lease renewed by a statement sent at monotonic time ``t0`` is trusted
only until ``t0 + seconds − margin``: the database computed its end *after* ``t0``, so
our local deadline always falls before the moment another process may take it over.
Connectors check :meth:`~DatabaseLeases.valid` right before each submit is written
(connectors/base.Fence), so a process that was paused (SIGSTOP, a long GC, a frozen VM)
past its lease sends nothing more when it wakes, even before it learns it lost the
lease; the supervisor then stops (unbinds) the connector.

:class:`Alone` is the SQLite case: one ``serve`` per file (runtime.sqlite_serve_lock),
so every connector is ours and the fence is always open.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection

from centauro.store import leases

log = logging.getLogger(__name__)

Write = Callable[[Callable[[Connection], object]], Awaitable[object]]


class BindLeases(Protocol):
    #: True when other processes may own connectors (the dispatcher then claims only
    #: while this process owns one).
    shared: bool

    async def hold(self, names: Sequence[str]) -> set[str]:
        """Take or renew the leases of ``names``; the names this process owns now."""
        ...

    def valid(self, name: str) -> bool:
        """Whether this process may still send on ``name`` right now."""
        ...

    async def release(self) -> None: ...


class Alone:
    """Every connector is ours: nobody else delivers from this store (SQLite)."""

    shared = False

    async def hold(self, names: Sequence[str]) -> set[str]:
        return set(names)

    def valid(self, name: str) -> bool:
        return True

    async def release(self) -> None:
        return None


class DatabaseLeases:
    """Leases in ``connector_leases``, renewed through ``write`` (the store's writer)."""

    shared = True

    def __init__(
        self,
        write: Write,
        *,
        worker_id: str,
        seconds: float = 6.0,
        host: str | None = None,
        pid: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.worker_id = worker_id
        self.seconds = seconds
        #: Trust a lease this much less than it lasts (the renewal's round trip and any
        #: scheduling delay between the check and the write fit inside it).
        self.margin = max(0.5, seconds / 6)
        self._write = write
        self._host = host or socket.gethostname()
        self._pid = os.getpid() if pid is None else pid
        self._monotonic = monotonic
        self._until: dict[str, float] = {}
        self.epochs: dict[str, int] = {}

    async def hold(self, names: Sequence[str]) -> set[str]:
        started = self._monotonic()
        wanted = list(names)

        def job(conn: Connection) -> list[leases.Held]:
            ended = leases.fence_out(conn, owner=self.worker_id, names=wanted)
            if ended:
                log.warning(
                    "bind_lease_sessions_ended",
                    extra={"action": "bind_lease_sessions_ended", "sessions": ended},
                )
            held = leases.hold(
                conn,
                owner=self.worker_id,
                host=self._host,
                pid=self._pid,
                names=wanted,
                seconds=self.seconds,
            )
            now = datetime.now(UTC)
            for h in held:
                if h.connector not in self._until and h.previous_owner not in (
                    None,
                    self.worker_id,
                ):
                    leases.take_over_from(conn, worker=h.previous_owner, now=now)
            return held

        held: list[leases.Held] = await self._write(job)  # type: ignore[assignment]
        until = started + self.seconds - self.margin
        now_held = {h.connector for h in held}
        for h in held:
            if h.connector not in self._until:
                log.info(
                    "bind_lease_acquired",
                    extra={
                        "action": "bind_lease_acquired",
                        "connector": h.connector,
                        "epoch": h.epoch,
                        "previous_owner": h.previous_owner,
                    },
                )
            self.epochs[h.connector] = h.epoch
        for name in [n for n in self._until if n not in now_held]:
            log.warning("bind_lease_lost", extra={"action": "bind_lease_lost", "connector": name})
            self.epochs.pop(name, None)
        self._until = dict.fromkeys(now_held, until)
        return now_held

    def valid(self, name: str) -> bool:
        until = self._until.get(name)
        return until is not None and self._monotonic() < until

    async def release(self) -> None:
        self._until = {}
        await self._write(lambda conn: leases.release(conn, owner=self.worker_id))
