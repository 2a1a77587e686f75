"""CPU per item of the claim loop itself: claim → handle → record with trivial hooks.

The dispatcher and the webhook sender run on ``delivery/claims.ClaimLoop``; this measures
what the engine (tasks, room, group-committed recording) costs per item, with no store,
carrier or HTTP, so a change to the loop can be compared apart from the I/O around it.
It drives the real :class:`~centauro.delivery.dispatcher.Dispatcher` with its three hooks
replaced. Prints the median of ``--runs`` runs of ``--n`` items.

Usage: python bench/claim_loop.py [--n 200000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from centauro.delivery.dispatcher import Dispatcher


class Bare(Dispatcher):
    """The dispatcher's loop over ``n`` fake items: nothing but the engine's own work."""

    def __init__(self, n: int) -> None:
        super().__init__(None, lambda _: [], batch=500, capacity=lambda: 2000)  # type: ignore[arg-type]
        self.left = n
        self.recorded = 0
        self.finished = asyncio.Event()

    async def _claim(self, limit: int) -> list[Any]:
        k = min(limit, self.left)
        self.left -= k
        return list(range(k))

    async def _submit(self, m: Any) -> Any:
        await asyncio.sleep(0)

    async def _record(self, results: list[Any]) -> None:
        await asyncio.sleep(0)
        self.recorded += len(results)
        self.finished.set()


async def one_run(n: int) -> float:
    d = Bare(n)
    started = time.process_time()
    d.start()
    while d.recorded < n:
        await asyncio.wait_for(d.finished.wait(), 60)
        d.finished.clear()
    took = time.process_time() - started
    await d.stop()
    return took / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [asyncio.run(one_run(args.n)) for _ in range(args.runs)]
    shown = ", ".join(f"{r:.2f}" for r in runs)
    print(f"claim loop: median {statistics.median(runs):.2f} µs CPU per item  (runs: {shown})")


if __name__ == "__main__":
    main()
