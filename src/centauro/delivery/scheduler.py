"""Scheduled messages become queued when their time comes.

Every ``interval`` seconds (0.5 by default, so a message goes out within ±2 s of its
``schedule_at`` with room to spare), one statement moves the due ``scheduled`` messages
to ``queued`` and wakes the dispatcher. After a restart it simply catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from centauro.store import outbox
from centauro.store.writer import Writer

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        writer: Writer,
        on_due: Callable[[], None],
        *,
        interval: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self._on_due = on_due
        self._interval = interval
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                released = await self._writer.run(
                    functools.partial(outbox.release_scheduled, now=self._clock())
                )
                if released:
                    self._on_due()
            except Exception:
                log.exception("scheduler_failed", extra={"action": "scheduler_failed"})
            await asyncio.sleep(self._interval)
