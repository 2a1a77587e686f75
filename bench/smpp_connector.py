"""The SMPP connector alone: N single-part submits and their receipts, against smsc-sim.

For each run a fresh ``centauro smsc-sim --dlr-delay 0`` (its own process) and a fresh
``SmppConnector`` (window 64, tps 0, registered delivery) in this process, driven by
``--workers`` concurrent submitters as the dispatcher drives it; receipts go to an inbox
that returns at once. Reports per run and as medians of the runs:

* submits/s: N / (last submit outcome − first submit);
* receipts/s: N / (last receipt − first receipt), receipts flowing while submits go on;
* all-in msg/s: N / (last receipt − first submit);
* CPU per message: this process's user+system time (every thread: ``getrusage``) from the
  first submit to the last receipt, over N.

Uses uvloop when installed, as the server does (uvicorn runs with uvloop).
Profile it with ``py-spy record -o prof.svg -- python bench/smpp_connector.py --runs 1``.

Usage: python bench/smpp_connector.py [--n 20000] [--window 64] [--runs 3] [--workers 256]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from centauro.connectors.base import Accepted, InboundSms, OutboundSms, Receipt
from centauro.connectors.smpp import SmppConnector, SmppSettings


class CountingInbox:
    """Stores nothing, returns at once; notes when receipts came."""

    def __init__(self) -> None:
        self.count = 0
        self.first = self.last = 0.0

    def _note(self, n: int) -> None:
        now = time.perf_counter()
        if not self.count:
            self.first = now
        self.count += n
        self.last = now

    async def receipts(self, receipts: Sequence[Receipt]) -> None:
        self._note(len(receipts))

    async def inbound(self, messages: Sequence[InboundSms]) -> None:
        pass

    async def receipt(self, receipt: Receipt) -> None:  # the Inbox before batches
        self._note(1)


def start_sim(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    stats = workdir / "sim.stats.json"
    stats.unlink(missing_ok=True)
    args = [sys.executable, "-m", "centauro", "smsc-sim", "--port", "0", "--dlr-delay", "0"]
    args += ["--system-id", "bench", "--password", "bench", "--stats-file", str(stats)]
    args += ["--log-level", "WARNING"]
    process = subprocess.Popen(
        args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=(workdir / "sim.log").open("wb")
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            port = int(json.loads(stats.read_text()).get("port", 0))
        except (OSError, ValueError):
            port = 0
        if port:
            return process, port
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit((workdir / "sim.log").read_text())
        time.sleep(0.05)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_once(port: int, n: int, window: int, workers: int) -> dict[str, float]:
    settings = SmppSettings(
        host="127.0.0.1", port=port, system_id="bench", password="bench",
        source_addr="Centauro", window=window, tps=0, registered_delivery=True,
    )  # fmt: skip
    connector = SmppConnector("bench", settings)
    inbox = CountingInbox()
    await connector.start(inbox)  # type: ignore[arg-type]  (also the old, one-by-one Inbox)
    try:
        deadline = time.monotonic() + 10
        while connector.status().state != "up":
            if time.monotonic() > deadline:
                raise SystemExit(f"no bind: {connector.status()}")
            await asyncio.sleep(0.01)
        messages = iter(
            [OutboundSms(i, f"+58412{i:07d}", f"Su codigo es {i:06d}", "gsm7", 1) for i in range(n)]
        )
        accepted = 0

        async def worker() -> None:
            nonlocal accepted
            for message in messages:
                outcome = await connector.submit(message)
                accepted += isinstance(outcome, Accepted)

        cpu0, t0 = cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        t1 = time.perf_counter()
        limit = t1 + 60
        while inbox.count < n and time.perf_counter() < limit:
            await asyncio.sleep(0.005)
        cpu = cpu_seconds() - cpu0
    finally:
        await connector.stop()
    if accepted != n or inbox.count != n:
        raise SystemExit(f"accepted {accepted}, receipts {inbox.count} of {n}")
    return {
        "submits/s": n / (t1 - t0),
        "receipts/s": n / max(inbox.last - inbox.first, 1e-6),
        "all-in msg/s": n / (inbox.last - t0),
        "CPU µs/msg": cpu / n * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=256)
    parser.add_argument("--no-uvloop", action="store_true")
    args = parser.parse_args()
    runner: Any = asyncio.run
    if not args.no_uvloop:
        try:
            import uvloop  # noqa: PLC0415

            runner = uvloop.run
        except ImportError:
            pass
    loop_name = "asyncio" if runner is asyncio.run else "uvloop"
    print(f"{args.n:,} single-part submits, window {args.window}, tps 0, {loop_name}")
    results: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="centauro-bench-smpp-") as tmp:
        for run in range(1, args.runs + 1):
            sim, port = start_sim(Path(tmp))
            try:
                result = runner(run_once(port, args.n, args.window, args.workers))
            finally:
                sim.terminate()
                sim.wait(10)
            results.append(result)
            print(f"run {run}: " + ", ".join(f"{k} {v:,.0f}" for k, v in result.items()))
    print(
        "median: "
        + ", ".join(f"{k} {statistics.median(r[k] for r in results):,.0f}" for k in results[0])
    )


if __name__ == "__main__":
    main()
