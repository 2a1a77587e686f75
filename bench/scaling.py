"""Scaling curve on PostgreSQL: 1, 2 and 4 ``centauro serve`` processes on one store.

For each process count N (the configurations interleaved: run 1 of N=1, 2, 4, then run
2 …; medians of ``--runs``), on a fresh PostgreSQL schema with ``centauro smsc-sim`` as
the carrier (one SMPP connector, default route):

* compat ``GET /http/`` single sends, the load spread round-robin over the N ports
  → accepted messages/s;
* REST ``POST /v1/messages`` single sends, the same way → accepted messages/s;
* end to end: ``GET /http/`` single sends until every message is ``delivered`` (submit
  to the simulator, its receipt back) → messages/s from first request to last receipt.

Each process first answers 100 unmeasured requests (it checks each account's secret once,
a slow hash by design). During the compat phase it also measures how busy the machine was
and the CPU milliseconds per message of ``serve``, PostgreSQL, the load generator and the
simulator, and prints the ceiling: the rate at which every CPU would be busy at those costs.

Then, for N = 2 and 4, the failover run: the same end-to-end load sent to the processes
that do not own the bind, ``kill -9`` of the bind owner when the simulator has accepted
half of it; reports messages lost (never reached the carrier), duplicates (accepted
twice; bounded by the connector window) and the takeover time (kill → the new owner's
bind accepted by the simulator).

The machine is shared and small: the load generator runs on the same cores as the
servers. Separate processes on distinct ports (no load balancer in between).
Load is spread over 8 accounts (many customers), then over 1 (one account's sends all
charge one balance row, so they queue on its lock): `--accounts 8,1`.
Usage: python bench/scaling.py [--db postgresql://…/test] [--runs 3] [--n 6000] [--accounts 8,1]
                               [--workers 1]   (each serve one process, as the issue counts them)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CpuShares, analyzing, children, free_port, named
from bench.e2e_smpp import sim_stats, start_sim
from bench.loadgen import LoadResult, run_load

OK = b'"status":"200"'
WINDOW = 64
PREFIXES = ("0412", "0414", "0424", "0416")  #: Venezuelan mobile prefixes
RATES = ("get", "post", "e2e")
CPUS = os.cpu_count() or 1
#: ``serve --workers`` of each process (``--workers``; 0: serve's default, one per CPU).
SERVE_WORKERS = 0


class Cluster:
    """N ``serve`` processes on one PostgreSQL schema, plus the simulator's connector."""

    def __init__(self, url: str, workdir: Path, count: int) -> None:
        self.url, self.workdir = url, workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CENTAURO_")}
        self.env |= {
            "CENTAURO_DATABASE_URL": url,
            "CENTAURO_LOG_LEVEL": "WARNING",
            "CENTAURO_RATE_LIMIT": "0",
            "CENTAURO_WORKERS": str(SERVE_WORKERS),
        }
        self.ports = [free_port() for _ in range(count)]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        for i, port in enumerate(self.ports):
            self.processes[port] = self._spawn(port, migrate=i == 0)
            self.wait_ready(port)

    def _spawn(self, port: int, *, migrate: bool) -> subprocess.Popen[bytes]:
        with (self.workdir / f"serve-{port}.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "centauro", "serve", "--port", str(port)]
                + ([] if migrate else ["--no-migrate"]),
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError((self.workdir / f"serve-{port}.log").read_text())

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "centauro", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def owner_port(self) -> int:
        """The port of the process that holds the bind lease of ``sim``."""
        with psycopg.connect(pg_dsn(self.url)) as conn:
            row = conn.execute(
                "SELECT pid FROM connector_leases WHERE connector = 'sim' "
                "AND lease_until > clock_timestamp()"
            ).fetchone()
        if row is None:
            raise RuntimeError("nobody owns the connector")
        return next(p for p, proc in self.processes.items() if proc.pid == row[0])

    def pids(self) -> list[int]:
        """Every live process of the cluster: each ``serve`` and its workers."""
        return [p for proc in self.processes.values() for p in (proc.pid, *children(proc.pid))]

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def pg_dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (psycopg takes ``options`` in the query)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


#: ``--analyze-every``: seconds between two ANALYZE of the schema's busy tables (0: never).
ANALYZE_EVERY = 0.0


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        with analyzing(base, ANALYZE_EVERY, schema):
            url = base.replace("postgresql://", "postgresql+psycopg://", 1)
            yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def spread(
    ports: list[int], build: Callable[[int, int], bytes], total: int, concurrency: int
) -> LoadResult:
    """``total`` requests over ``concurrency`` connections, round-robin over ``ports``."""

    async def all_ports() -> LoadResult:
        share = [total // len(ports) + (i < total % len(ports)) for i in range(len(ports))]
        conns = [
            concurrency // len(ports) + (i < concurrency % len(ports)) for i in range(len(ports))
        ]
        offsets = [sum(share[:i]) for i in range(len(ports))]
        started = time.perf_counter()
        parts = await asyncio.gather(
            *(
                run_load(
                    "127.0.0.1",
                    port,
                    lambda i, port=port, off=off: build(port, off + i),
                    total=n,
                    concurrency=max(1, c),
                    accept=lambda status, body: (status == 200 and OK in body) or status == 202,
                )
                for port, n, c, off in zip(ports, share, conns, offsets, strict=True)
            )
        )
        result = LoadResult(elapsed=time.perf_counter() - started)
        for part in parts:
            result.sent += part.sent
            result.ok += part.ok
            result.failed += part.failed
            result.first_failure = result.first_failure or part.first_failure
        return result

    result = asyncio.run(all_ports())
    if result.failed:
        raise SystemExit(f"{result.failed} requests failed: {result.first_failure}")
    return result


class Load:
    """Request builders, request ``i`` from account ``i % len(accounts)``; numbers are
    unique per ``tag``."""

    def __init__(self, accounts: list[tuple[str, str]]) -> None:
        self.queries = [
            urllib.parse.urlencode({"client_id": cid, "client_secret": secret})
            for cid, secret in accounts
        ]
        self.auths = [
            base64.b64encode(f"{cid}:{secret}".encode()).decode() for cid, secret in accounts
        ]
        self.text = "Su pedido 4521 va en camino. Gracias por comprar en Centauro."

    def number(self, tag: int, i: int) -> str:
        return f"{PREFIXES[tag % 4]}{tag % 10}{i:06d}"

    def get(self, tag: int) -> Callable[[int, int], bytes]:
        text = urllib.parse.quote(self.text)

        def build(port: int, i: int) -> bytes:
            query = self.queries[i % len(self.queries)]
            return (
                f"GET /http/?{query}&client_opcion=send_sms&num={self.number(tag, i)}"
                f"&msg={text} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
            ).encode()

        return build

    def post(self, tag: int) -> Callable[[int, int], bytes]:
        def build(port: int, i: int) -> bytes:
            body = json.dumps({"to": self.number(tag, i), "text": self.text}).encode()
            auth = self.auths[i % len(self.auths)]
            return (
                f"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body

        return build


def delivered(url: str) -> int:
    with psycopg.connect(pg_dsn(url)) as conn:
        row = conn.execute("SELECT count(*) FROM messages WHERE status = 'delivered'").fetchone()
    return int(row[0]) if row else 0


def wait_delivered(url: str, target: int, timeout: float = 300) -> float:
    """The moment ``target`` messages are ``delivered`` (polled every 50 ms)."""
    deadline = time.monotonic() + timeout
    while delivered(url) < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {delivered(url)} of {target} delivered after {timeout} s")
        time.sleep(0.05)
    return time.perf_counter()


@contextmanager
def cluster(
    base: str, count: int, sim_port: int, workdir: Path, accounts: int
) -> Iterator[tuple[Cluster, Load]]:
    with fresh_schema(base) as url:
        c = Cluster(url, workdir, count)
        try:
            c.cli(
                "connectors", "add", "sim", "--host", "127.0.0.1", "--port", str(sim_port),
                "--system-id", "centauro", "--password", "secret", "--window", str(WINDOW),
                "--tps", "0", "--json",
            )  # fmt: skip
            c.cli("routes", "add", "--default", "--connector", "sim", "--json")
            made = [
                json.loads(
                    c.cli("accounts", "create", f"bench{i}", "--credits", "100000000", "--json")
                )
                for i in range(accounts)
            ]
            time.sleep(3)  # a lease round: the owner binds
            yield c, Load([(m["client_id"], m["client_secret"]) for m in made])
        finally:
            c.stop()


def speed_run(
    base: str, count: int, n: int, conc: int, workdir: Path, accounts: int
) -> dict[str, float]:
    sim_dir = workdir / f"sim-{count}-{uuid.uuid4().hex[:6]}"
    sim_dir.mkdir()
    sim_port = free_port()
    sim = start_sim(sim_dir, sim_port)
    try:
        with cluster(base, count, sim_port, workdir, accounts) as (c, load):
            # Each process checks each account's secret once (a slow hash by design) and
            # opens its connections: 100 requests per process first, not measured.
            warm = 100 * count
            spread(c.ports, load.get(0), warm, conc)
            with CpuShares(
                {
                    "serve": c.pids,
                    "postgres": lambda: named("postgres"),
                    "load": lambda: [os.getpid()],
                    "sim": lambda: [sim.pid],
                }
            ) as cpu:
                get = spread(c.ports, load.get(1), n, conc)
            post = spread(c.ports, load.post(2), n, conc)
            wait_delivered(c.url, warm + 2 * n)
            e2e_n = n // 2
            started = time.perf_counter()
            spread(c.ports, load.get(3), e2e_n, conc)
            done = wait_delivered(c.url, warm + 2 * n + e2e_n)
            shares = {f"cpu_{k}": 1000 * v / get.ok for k, v in cpu.seconds.items()}
            return (
                {"get": get.rate, "post": post.rate, "e2e": e2e_n / (done - started)}
                | {"busy": cpu.busy}
                | shares
            )
    finally:
        sim.terminate()
        sim.wait(timeout=20)


def failover_run(base: str, count: int, n: int, conc: int, workdir: Path) -> dict[str, float]:
    sim_dir = workdir / f"kill-{count}-{uuid.uuid4().hex[:6]}"
    sim_dir.mkdir()
    sim_port = free_port()
    sim = start_sim(sim_dir, sim_port)
    try:
        with cluster(base, count, sim_port, workdir, 1) as (c, load):
            owner = c.owner_port()
            others = [p for p in c.ports if p != owner]
            binds_before = sim_stats(sim_dir).get("binds_ok", 0)
            killed_at: list[float] = []

            def killer() -> None:
                while sim_stats(sim_dir).get("submit_accepted", 0) < n // 2:
                    time.sleep(0.02)
                c.processes[owner].send_signal(signal.SIGKILL)
                killed_at.append(time.monotonic())

            thread = threading.Thread(target=killer, daemon=True)
            thread.start()
            spread(others, load.get(4), n, conc)
            thread.join(timeout=120)
            if not killed_at:
                raise SystemExit("the owner was never killed: the load ended before midpoint")
            while sim_stats(sim_dir).get("binds_ok", 0) <= binds_before:
                if time.monotonic() - killed_at[0] > 60:
                    raise SystemExit("no takeover within 60 s")
                time.sleep(0.02)
            takeover = time.monotonic() - killed_at[0]
            wait_delivered(c.url, n)
            time.sleep(1)  # the simulator's accepted log is written within 0.1 s
            log = Path(str(sim_stats(sim_dir)["accepted_log"]))
            accepted = Counter(line.split(" ")[1] for line in log.read_text().splitlines())
            wanted = {"58" + load.number(4, i)[1:] for i in range(n)}
            return {
                "lost": len(wanted - set(accepted)),
                "duplicates": sum(accepted.values()) - len(wanted & set(accepted)),
                "takeover": takeover,
            }
    finally:
        sim.terminate()
        sim.wait(timeout=20)


def _cpu_text(got: dict[str, float]) -> str:
    """The CPU ms per message of each group in ``got`` (its ``cpu_*`` keys), for a line."""
    return ", ".join(f"{k[4:]} {v:.3f}" for k, v in got.items() if k.startswith("cpu_"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--n", type=int, default=6000, help="requests per figure and run")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--counts", default="1,2,4")
    parser.add_argument("--no-failover", action="store_true")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="serve --workers of each process (0: its default, one per CPU; 1: one process)",
    )
    parser.add_argument(
        "--accounts", default="8,1", help="accounts the load is spread over (one set per value)"
    )
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=0.0,
        help="seconds between two ANALYZE of the busy tables, as autovacuum would (0: never)",
    )
    args = parser.parse_args()
    global SERVE_WORKERS, ANALYZE_EVERY  # noqa: PLW0603 - one setting for the whole run
    SERVE_WORKERS = args.workers
    ANALYZE_EVERY = args.analyze_every
    counts = [int(c) for c in args.counts.split(",")]
    account_sets = [int(a) for a in args.accounts.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="centauro-scaling-"))
    figures: dict[tuple[int, int], dict[str, list[float]]] = {
        (a, c): {} for a in account_sets for c in counts
    }
    for run in range(args.runs):
        for accounts in account_sets:
            for count in counts:
                got = speed_run(args.db, count, args.n, args.concurrency, workdir, accounts)
                print(f"run {run + 1}, {accounts} account(s), {count} process(es): " + ", ".join(
                    f"{k} {v:,.0f} msg/s" for k, v in got.items() if k in RATES)
                    + f"; GET phase: machine {got['busy']:.0%} busy, CPU ms/msg " + _cpu_text(got),
                    flush=True)  # fmt: skip
                for key, value in got.items():
                    figures[accounts, count].setdefault(key, []).append(value)
    names = {"get": "compat GET /http/ single", "post": "REST POST /v1/messages single",
             "e2e": "end to end with receipts (GET)"}  # fmt: skip
    for accounts in account_sets:
        print(f"\n{accounts} account(s): medians (msg/s) and ratio to one process:")
        for key, name in names.items():
            base = statistics.median(figures[accounts, counts[0]][key])
            cells = []
            for count in counts:
                median = statistics.median(figures[accounts, count][key])
                cells.append(f"{count}p {median:,.0f} ({median / base:.2f}×)")
            print(f"  {name}: " + "; ".join(cells))
        print("  compat GET, where the CPU went (medians): ")
        for count in counts:
            got = {k: statistics.median(v) for k, v in figures[accounts, count].items()}
            per_msg = sum(v for k, v in got.items() if k.startswith("cpu_"))
            ceiling = 1000 * CPUS / per_msg if per_msg else float("nan")
            print(
                f"    {count}p: machine {got['busy']:.0%} busy of {CPUS} CPUs; CPU ms per message "
                + _cpu_text(got)
                + f" (all {per_msg:.3f}): every CPU busy at these costs would be "
                f"{ceiling:,.0f} msg/s, {got['get'] / ceiling:.0%} of it reached"
            )
    if args.no_failover:
        return
    print("\nkill -9 of the bind owner at the midpoint (load on the other processes):")
    for count in [c for c in counts if c > 1]:
        got = failover_run(args.db, count, args.n, args.concurrency, workdir)
        print(
            f"  {count} processes, {args.n:,} messages: lost {got['lost']:.0f}, "
            f"duplicates {got['duplicates']:.0f} (window {WINDOW}), "
            f"takeover {got['takeover']:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
