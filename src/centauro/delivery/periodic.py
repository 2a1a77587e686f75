"""A task that runs a round every ``interval`` seconds until stopped: the shape the
scheduler and the reports' roll-up share. A round that fails is logged and the next one
comes as usual; a round that says it is behind is followed by the next at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


class Periodic:
    #: The task's name, and the log's action when a round fails ("<name>_failed").
    name = "periodic"

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def round(self) -> bool:
        """One round; True to run the next one without waiting."""
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failed = f"{self.name}_failed"
        while True:
            behind = False
            try:
                behind = await self.round()
            except Exception:
                log.exception(failed, extra={"action": failed})
            await asyncio.sleep(0 if behind else self._interval)
