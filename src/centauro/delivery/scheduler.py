"""Scheduled messages become queued when their time comes.

Every ``interval`` seconds (0.5 by default, so a message goes out within ±2 s of its
``schedule_at`` with room to spare), one statement moves the due ``scheduled`` messages
to ``queued`` and wakes the dispatcher. After a restart it simply catches up.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime

from centauro.delivery.periodic import Periodic
from centauro.store import outbox
from centauro.store.writer import Writer


class Scheduler(Periodic):
    name = "scheduler"

    def __init__(
        self,
        writer: Writer,
        on_due: Callable[[], None],
        *,
        interval: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval)
        self._writer = writer
        self._on_due = on_due
        self._clock = clock

    async def round(self) -> bool:
        released = await self._writer.run(
            functools.partial(outbox.release_scheduled, now=self._clock())
        )
        if released:
            self._on_due()
        return False
