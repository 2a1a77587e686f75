"""What ``/metrics`` costs.

``overhead``: compat ``GET /http/`` single sends (as bench/core_api.py), 32 keep-alive
clients, on a server from a tree without metrics (``--base-src``, e.g. a ``git archive``
of main) and on this tree, single-process and in multiprocess mode; fresh server per run,
the variants interleaved round by round, their order turned each round; medians and
ratios of throughput and of the server's CPU time per message.

``hotpath``: the metric calls of one compat single send, timed alone, in both modes.

``queue``: the scrape-time queue depth on a table of ``--rows`` messages (almost all
final, a few thousand open), in SQLite or in a PostgreSQL schema; medians of ``--runs``
of ``service.messages.queue_depth`` and of the whole exposition, beside a naive
``GROUP BY status`` over the table for scale.

Usage:
  python bench/metrics.py overhead --base-src /tmp/base/src [--rounds 3] [--gets 10000]
  python bench/metrics.py hotpath
  python bench/metrics.py queue [--rows 1000000] [--pg postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import insert, text

from bench.common import start_server
from bench.loadgen import run_load
from centauro import metrics
from centauro.service import accounts
from centauro.service import messages as message_service
from centauro.service.sealing import Sealer
from centauro.store import migrate
from centauro.store.engine import open_database
from centauro.store.tables import messages

OK = b'"status":"200"'
HERE_SRC = str(Path(__file__).resolve().parent.parent / "src")


# -- overhead ----------------------------------------------------------------------------


def get_rate(src: str, gets: int, concurrency: int, multiproc: bool) -> tuple[float, float]:
    """(messages/s, server CPU microseconds per message) of one run on a fresh server."""
    env = {"PYTHONPATH": src}
    directory = tempfile.mkdtemp(prefix="centauro-prom-") if multiproc else None
    if directory is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = directory
    server = start_server(None, env)
    try:
        host = f"127.0.0.1:{server.port}"
        query = urllib.parse.urlencode(
            {"client_id": server.client_id, "client_secret": server.client_secret}
        )
        msg = urllib.parse.quote("Su pedido 4521 va en camino. Gracias por comprar.")

        def build(i: int) -> bytes:
            return (
                f"GET /http/?{query}&client_opcion=send_sms&num=0424{i:07d}&msg={msg} "
                f"HTTP/1.1\r\nHost: {host}\r\n\r\n"
            ).encode()

        cpu_before = server.cpu_seconds()
        result = asyncio.run(
            run_load(
                "127.0.0.1",
                server.port,
                build,
                total=gets,
                concurrency=concurrency,
                accept=lambda status, body: status == 200 and OK in body,
            )
        )
        if result.failed:
            raise SystemExit(f"{result.failed} GET sends failed: {result.first_failure}")
        return result.rate, (server.cpu_seconds() - cpu_before) / gets * 1e6
    finally:
        server.stop()
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


def overhead(args: argparse.Namespace) -> None:
    variants: dict[str, tuple[str, bool]] = {
        "base (no metrics)": (args.base_src, False),
        "metrics": (HERE_SRC, False),
        "metrics, multiprocess": (HERE_SRC, True),
    }
    rates: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for round_ in range(args.rounds):
        # The order turns each round: the machine drifts, and a fixed order showed a
        # steady penalty for whichever variant ran later in the round.
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            src, multiproc = variants[name]
            rate, micros = get_rate(src, args.gets, args.concurrency, multiproc)
            rates[name].append(rate)
            cpu[name].append(micros)
            print(
                f"round {round_ + 1}: {name}: {rate:,.0f} msg/s, {micros:.0f} µs CPU/msg",
                flush=True,
            )
    base_rate = statistics.median(rates["base (no metrics)"])
    base_cpu = statistics.median(cpu["base (no metrics)"])
    print(f"\nGET /http/ single sends, {args.concurrency} clients, {args.gets:,} per run")
    for name in variants:
        rate, micros = statistics.median(rates[name]), statistics.median(cpu[name])
        print(
            f"  {name}: median {rate:,.0f} msg/s ({rate / base_rate:.3f}x), "
            f"server CPU {micros:.0f} µs/msg ({micros / base_cpu:.3f}x)"
        )


# -- per request ----------------------------------------------------------------------

HOTPATH = """
import timeit
from centauro import metrics
from centauro.api.metrics import route_of
scope = {"path": "/http/", "type": "http", "method": "GET"}
fixed = frozenset({"/http/", "/http"})
def one():
    metrics.http_request(route_of(scope, fixed), "GET", 200)
    metrics.accepted("0123456789abcdef", 1)
    metrics.submit_took("sim", 0.01)
n = 100_000
print(min(timeit.repeat(one, number=n, repeat=5)) / n * 1e6)
"""


def hotpath(args: argparse.Namespace) -> None:
    """The metric calls one compat single send costs, timed alone (no server noise)."""
    for mode in ("single process", "multiprocess"):
        env = dict(os.environ)
        directory = tempfile.mkdtemp(prefix="centauro-prom-")
        if mode == "multiprocess":
            env["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            out = subprocess.run(
                [sys.executable, "-c", HOTPATH], env=env, capture_output=True, text=True, check=True
            ).stdout
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        print(f"{mode}: {float(out):.2f} µs per message (HTTP count, accepted, submit latency)")


# -- queue depth -------------------------------------------------------------------------


def timed(fn: Callable[[], object], runs: int) -> float:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def fill(url: str, rows: int) -> dict[str, int]:
    db = open_database(url, sqlite_synchronous="NORMAL")
    migrate.upgrade(db)
    now = datetime.now(UTC)
    with db.write_engine.begin() as conn:
        accounts.create(conn, name="bench", credits=0, now=now, sealer=Sealer(""))
        account_id = accounts.by_name(conn, "bench").id  # type: ignore[union-attr]
    open_counts = {"scheduled": 1_000, "queued": 4_000, "sent": 5_000}
    final = rows - sum(open_counts.values())
    plan = [("delivered", final), *open_counts.items()]
    batch = 20_000
    next_id = 1
    with db.write_engine.begin() as conn:
        for status, count in plan:
            done = 0
            while done < count:
                n = min(batch, count - done)
                conn.execute(
                    insert(messages),
                    [
                        {
                            "id": next_id + i,
                            "account_id": account_id,
                            "recipient": f"+58414{(next_id + i) % 10_000_000:07d}",
                            "text": "Su código es 4521",
                            "encoding": "gsm7",
                            "segments": 1,
                            "cost": 1,
                            "status": status,
                            "source": "bench",
                            "due_at": now + timedelta(days=1) if status != "delivered" else None,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(n)
                    ],
                )
                next_id += n
                done += n
    db.dispose()
    return open_counts


def queue(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="centauro-bench-queue-"))
    schema = None
    if args.pg:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        base = args.pg.replace("postgresql://", "postgresql+psycopg://", 1)
        url = f"{base}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{workdir / 'queue.sqlite3'}"
    try:
        started = time.perf_counter()
        expected = fill(url, args.rows)
        print(f"filled {args.rows:,} rows in {time.perf_counter() - started:.0f} s ({url[:20]}…)")
        db = open_database(url)
        with db.read() as conn:
            if db.write_engine.dialect.name == "postgresql":
                conn.execute(text("ANALYZE messages"))
            got = message_service.queue_depth(conn)
            assert got == expected, (got, expected)
            indexed = timed(lambda: message_service.queue_depth(conn), args.runs)
            whole = timed(
                lambda: conn.execute(
                    text("SELECT status, count(*) FROM messages GROUP BY status")
                ).all(),
                args.runs,
            )
            scrape = timed(
                lambda: metrics.exposition(
                    metrics.StateSample(queue=message_service.queue_depth(conn))
                ),
                args.runs,
            )
        db.dispose()
        open_ = sum(expected.values())
        print(f"queue depth ({open_:,} open of {args.rows:,}), medians of {args.runs}:")
        print(f"  queue_depth (indexed, per state): {indexed * 1000:.2f} ms")
        print(f"  whole exposition with it:         {scrape * 1000:.2f} ms")
        print(f"  naive GROUP BY status (all rows): {whole * 1000:.1f} ms")
    finally:
        if schema is not None:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    o = sub.add_parser("overhead")
    o.add_argument("--base-src", required=True, help="src/ of a tree without metrics")
    o.add_argument("--rounds", type=int, default=3)
    o.add_argument("--gets", type=int, default=10_000)
    o.add_argument("--concurrency", type=int, default=32)
    sub.add_parser("hotpath")
    q = sub.add_parser("queue")
    q.add_argument("--rows", type=int, default=1_000_000)
    q.add_argument("--runs", type=int, default=3)
    q.add_argument("--pg", default=None, help="PostgreSQL DSN (a schema is made and dropped)")
    args = parser.parse_args()
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    {"overhead": overhead, "hotpath": hotpath, "queue": queue}[args.what](args)


if __name__ == "__main__":
    main()
