"""The reports' summaries kept up to date in the background (service/summaries.py).

Every ``interval`` seconds (60 by default) the delivering process takes or renews the
roll-up's lease (one row in the store: one runner among every ``serve`` sharing a
PostgreSQL store; on SQLite one ``serve`` per file anyway), then rolls what is due: the
new closed hours, the recent ones again. Counting happens in a read snapshot, off the
writer; the write is a short replacement of the step's hours. While it is behind (a first
start over a big store) it goes on without pausing, a day of hours per step.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from centauro.delivery.periodic import Periodic
from centauro.service import summaries

Run = Callable[[Callable[[Connection], Any]], Awaitable[Any]]


class ReportRollup(Periodic):
    name = "report_rollup"

    def __init__(
        self,
        read: Run,
        write: Run,
        *,
        runner: str,
        interval: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval)
        self._read = read
        self._write = write
        self._runner = runner
        #: Another process takes over when the runner has not renewed for this long.
        self._hold = timedelta(seconds=max(3 * interval, 30.0))
        self._clock = clock

    async def round(self) -> bool:
        """One round; whether new hours remain (then the next round starts at once)."""
        runner, hold = self._runner, self._hold
        now = self._clock()
        held = await self._write(lambda c: summaries.hold(c, runner, now=now, hold_for=hold))
        if not held:
            return False
        plan: summaries.Plan = await self._read(lambda c: summaries.plan(c, now=now))
        for step in plan.steps:
            rows = await self._read(functools.partial(summaries.read_step, step=step))
            kept = await self._write(
                functools.partial(
                    summaries.write_step,
                    step=step,
                    rows=rows,
                    runner=runner,
                    now=self._clock(),
                    hold_for=hold,
                )
            )
            if not kept:
                return False
        return plan.behind
