"""End to end over SMPP: compat HTTP sends → store → SMPP → receipts → ``delivered``.

Starts ``centauro smsc-sim`` (receipts at once) and ``centauro serve`` on a fresh SQLite
file, configures one SMPP connector with a default route from the CLI, then for each
run sends N single-recipient ``GET /http/`` requests with C in flight and waits until
every message of the run is ``delivered``. Reports, per run and as medians:

* end to end: N / (last ``delivered`` − first request);
* HTTP accept rate: N / (last answer − first request);
* peak RSS of ``serve``; and checks the simulator saw every message.

Then, for the receipt figure, the simulator is restarted holding receipts for a few
seconds: N messages go out and wait as ``sent``; the gateway is stopped while the
receipts fall due (the simulator keeps them, as a real SMSC does for an unbound
client) and started again, so they all arrive in one backlog burst on the new bind:
receipts processed = N / (last ``delivered`` − first ``delivered``).

Usage: python bench/e2e_smpp.py [--n 10000] [--concurrency 32] [--runs 3] [--window 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, free_port, start_server
from bench.loadgen import run_load

OK = b'"status":"200"'


def start_sim(workdir: Path, port: int, dlr_delay: float = 0) -> subprocess.Popen[bytes]:
    stats = workdir / "smsc-stats.json"
    stats.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "centauro",
            "smsc-sim",
            "--port",
            str(port),
            "--dlr-delay",
            str(dlr_delay),
            "--stats-file",
            str(stats),
            "--log-level",
            "WARNING",
        ],
        cwd=workdir,
        stdout=(workdir / "smsc.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while not stats.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError((workdir / "smsc.log").read_text())
        time.sleep(0.1)
    return process


def sim_stats(workdir: Path) -> dict[str, int]:
    try:
        return json.loads((workdir / "smsc-stats.json").read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return {}


def delivered_since(db: sqlite3.Connection, first_id: int) -> int:
    row = db.execute(
        "SELECT COUNT(*) FROM messages WHERE id >= ? AND status = 'delivered'", (first_id,)
    ).fetchone()
    return int(row[0])


def next_message_id(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
    return int(row[0] if row else 0) + 1


def run_once(
    server: Server, db: sqlite3.Connection, run: int, n: int, conc: int
) -> dict[str, float]:
    host = f"127.0.0.1:{server.port}"
    query = urllib.parse.urlencode(
        {"client_id": server.client_id, "client_secret": server.client_secret}
    )
    text = urllib.parse.quote("Su pedido 4521 va en camino. Gracias por comprar en Centauro.")

    def build(i: int) -> bytes:
        return (
            f"GET /http/?{query}&client_opcion=send_sms&num=0412{run}{i:06d}&msg={text} "
            f"HTTP/1.1\r\nHost: {host}\r\n\r\n"
        ).encode()

    first_id = next_message_id(db)
    started = time.perf_counter()
    result = asyncio.run(
        run_load(
            "127.0.0.1",
            server.port,
            build,
            total=n,
            concurrency=conc,
            accept=lambda status, body: status == 200 and OK in body,
        )
    )
    accepted_at = time.perf_counter()
    if result.failed:
        raise SystemExit(f"{result.failed} sends failed: {result.first_failure}")
    first_delivered, last_delivered = wait_delivered(db, first_id, n)
    return {
        "e2e": n / (last_delivered - started),
        "accept": n / (accepted_at - started),
        "receipts": n / max(last_delivered - first_delivered, 1e-3),
    }


def wait_delivered(db: sqlite3.Connection, first_id: int, n: int) -> tuple[float, float]:
    """(first, last) moment a message of the run was seen ``delivered``, polling at 20 ms."""
    first_delivered = 0.0
    deadline = time.perf_counter() + 300
    seen = 0
    while time.perf_counter() < deadline:
        seen = delivered_since(db, first_id)
        now = time.perf_counter()
        if seen and not first_delivered:
            first_delivered = now
        if seen >= n:
            return first_delivered, now
        time.sleep(0.02)
    raise SystemExit(f"only {seen} of {n} delivered after 300 s")


def receipt_burst(
    server: Server, db: sqlite3.Connection, run: int, n: int, conc: int, hold: float
) -> float:
    """Receipts/s when ``n`` receipts, held by the simulator, arrive together."""
    first_id = next_message_id(db)
    started = time.perf_counter()
    host = f"127.0.0.1:{server.port}"
    query = urllib.parse.urlencode(
        {"client_id": server.client_id, "client_secret": server.client_secret}
    )

    def build(i: int) -> bytes:
        return (
            f"GET /http/?{query}&client_opcion=send_sms&num=0416{run}{i:06d}&msg=Hola "
            f"HTTP/1.1\r\nHost: {host}\r\n\r\n"
        ).encode()

    asyncio.run(
        run_load(
            "127.0.0.1",
            server.port,
            build,
            total=n,
            concurrency=conc,
            accept=lambda status, body: status == 200,
        )
    )
    if time.perf_counter() - started > hold:
        raise SystemExit("sending took longer than the receipt hold: raise --receipt-hold")
    server.stop()
    time.sleep(max(0.0, hold - (time.perf_counter() - started)) + 0.5)
    server.restart()
    first, last = wait_delivered(db, first_id, n)
    return n / max(last - first, 1e-3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--receipt-hold", type=float, default=8.0)
    parser.add_argument("--no-receipts", action="store_true", help="skip the receipt burst")
    parser.add_argument("--workers", type=int, default=0, help="serve --workers (0: default)")
    args = parser.parse_args()

    server = start_server(workers=args.workers)
    sim_port = free_port()
    sim = start_sim(server.workdir, sim_port)
    try:
        server.cli(
            "connectors",
            "add",
            "sim",
            "--host",
            "127.0.0.1",
            "--port",
            str(sim_port),
            "--system-id",
            "centauro",
            "--password",
            "secret",
            "--window",
            str(args.window),
            "--tps",
            "0",
        )
        server.cli("routes", "add", "--default", "--connector", "sim")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = json.loads(server.cli("connectors", "status", "--json"))
            if any(c["name"] == "sim" and c["state"] == "up" for c in status["connectors"]):
                break
            time.sleep(0.2)
        else:
            raise SystemExit("the SMPP connector never came up")
        db = sqlite3.connect(f"file:{server.workdir / 'bench.sqlite3'}?mode=ro", uri=True)
        if args.warmup:
            run_once(server, db, 9, args.warmup, args.concurrency)
        results = [run_once(server, db, run, args.n, args.concurrency) for run in range(args.runs)]
        time.sleep(1.0)  # the simulator rewrites its stats file every 0.1-0.5 s
        stats = sim_stats(server.workdir)
        for key, label in (
            ("e2e", "end to end (first request → last delivered)"),
            ("accept", "HTTP accept"),
        ):
            values = [r[key] for r in results]
            runs = ", ".join(f"{v:,.0f}" for v in values)
            print(f"{label}: median {statistics.median(values):,.0f} msg/s  (runs: {runs})")
        total = args.warmup + args.n * args.runs
        print(
            f"smsc-sim accepted {stats.get('submit_accepted')} submit_sm for {total} messages, "
            f"{stats.get('duplicates', 0)} duplicates; receipts acked {stats.get('receipts_acked')}"
        )
        print(f"peak RSS of centauro serve (largest process): {server.peak_rss_mb():.0f} MB")
        print(f"server CPU seconds: {server.cpu_seconds():.1f}")
        if args.no_receipts:
            return
        sim.terminate()
        sim.wait(timeout=10)
        sim = start_sim(server.workdir, sim_port, dlr_delay=args.receipt_hold)
        burst = [
            receipt_burst(server, db, 5 + run, args.n, args.concurrency, args.receipt_hold)
            for run in range(args.runs)
        ]
        runs = ", ".join(f"{v:,.0f}" for v in burst)
        print(f"receipts processed: median {statistics.median(burst):,.0f} msg/s  (runs: {runs})")
    finally:
        server.stop()
        sim.terminate()
        sim.wait(timeout=10)


if __name__ == "__main__":
    main()
