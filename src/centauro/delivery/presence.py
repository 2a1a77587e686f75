"""This process as a worker: registered, heartbeating, reaping the claims of dead ones."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from centauro.store import workers
from centauro.store.writer import Writer

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 5.0
STALE_AFTER = timedelta(seconds=30)


def new_worker_id() -> str:
    """``host-pid-random``, printable ASCII: on PostgreSQL it also names the process's
    sessions (``application_name``, which the server would rewrite otherwise)."""
    host = "".join(c for c in socket.gethostname() if " " < c <= "~")
    return f"{host[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Presence:
    """Keeps our ``workers`` row fresh and returns dead workers' claims to the queue.

    ``alone=True`` (we hold the SQLite file's serve lock, so no other dispatcher can be
    running) releases every other worker's claims at start instead of waiting for them
    to go stale: after a crash the messages the dead process had claimed go out at once.
    """

    def __init__(
        self,
        writer: Writer,
        *,
        worker_id: str,
        alone: bool = False,
        heartbeat: float = HEARTBEAT_EVERY,
        stale_after: timedelta = STALE_AFTER,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.worker_id = worker_id
        self._writer = writer
        self._alone = alone
        self._heartbeat = heartbeat
        self._stale_after = stale_after
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        now = self._clock()
        alone = self._alone
        stale_after = self._stale_after

        def join(conn: Connection) -> int:
            workers.register(
                conn, worker_id=self.worker_id, host=socket.gethostname(), pid=os.getpid(), now=now
            )
            if alone:
                return workers.reap_all_but(conn, worker_id=self.worker_id, now=now)
            return workers.reap(conn, now=now, stale_before=now - stale_after)

        released = await self._writer.run(join)
        if released:
            log.info("claims_released", extra={"action": "claims_released", "messages": released})
        self._task = asyncio.create_task(self._beat(), name="presence")

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            now = self._clock()

            try:
                released = await self._writer.run(functools.partial(self._beat_once, now=now))
            except Exception:
                log.exception("heartbeat_failed", extra={"action": "heartbeat_failed"})
                continue
            if released:
                log.info(
                    "claims_released", extra={"action": "claims_released", "messages": released}
                )

    def _beat_once(self, conn: Connection, now: datetime) -> int:
        if not workers.heartbeat(conn, worker_id=self.worker_id, now=now):
            # Declared dead during a long pause: come back (our claims were requeued).
            workers.register(
                conn, worker_id=self.worker_id, host=socket.gethostname(), pid=os.getpid(), now=now
            )
        return workers.reap(conn, now=now, stale_before=now - self._stale_after)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        now = self._clock()
        try:
            await self._writer.run(
                lambda conn: workers.unregister(conn, worker_id=self.worker_id, now=now)
            )
        except Exception:
            log.exception("unregister_failed", extra={"action": "unregister_failed"})
