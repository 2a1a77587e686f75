"""Shared pieces of the benchmarks: a real server process, an account, peak RSS.

Benchmarks start ``centauro serve`` exactly as a user does, in a temporary directory
(SQLite by default, or ``--db URL``), and time it from outside.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    env: dict[str, str]
    client_id: str = ""
    client_secret: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The server process and its workers (``serve --workers N``)."""
        return [self.process.pid, *children(self.process.pid)]

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the largest server process so far (VmHWM)."""
        peaks = [float("nan")]
        for pid in self.pids():
            status = Path(f"/proc/{pid}/status").read_text()
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks[1:], default=peaks[0])

    def cpu_seconds(self) -> float:
        """CPU seconds of the server process and its live workers."""
        return sum(process_cpu(pid) for pid in self.pids())

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "centauro", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 90  # a loaded, shared machine starts slowly
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError((self.workdir / "serve.log").read_text())

    def restart(self) -> None:
        """Stop (SIGTERM) and start again on the same store and port."""
        self.stop()
        self.process = _spawn(self.workdir, self.env, self.port)
        self.wait_ready()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def children(parent: int) -> list[int]:
    """Live processes whose parent is ``parent`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdecimal():
            continue
        try:
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(ppid) == parent and state != "Z":
            found.append(int(entry.name))
    return found


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def named(command: str) -> list[int]:
    """Live processes whose command name (``comm``) is ``command``: ``postgres``'s
    server and backends, say."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                if (entry / "comm").read_text().strip() == command:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuShares:
    """Where the CPU went while a load ran: seconds per group of processes, and how busy
    the whole machine was. On a machine of 2 cores the load generator, the store and the
    gateway share them, so a rate means little without it. A process that exits before
    the end is not counted (``/proc`` forgets it): short-lived ones are missed."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self.seconds: dict[str, float] = {}
        self.busy = 0.0  #: fraction of all CPUs busy, 0..1

    def __enter__(self) -> CpuShares:
        self._pids = {name: pids() for name, pids in self.groups.items()}
        self._start = {n: {p: process_cpu(p) for p in ps} for n, ps in self._pids.items()}
        self._machine = machine_jiffies()
        return self

    def __exit__(self, *_: object) -> None:
        busy, total = machine_jiffies()
        self.busy = (busy - self._machine[0]) / max(1, total - self._machine[1])
        for name, pids in self.groups.items():
            seen = set(self._pids[name]) | set(pids())  # processes that started meanwhile
            start = self._start[name]
            self.seconds[name] = sum(max(0.0, process_cpu(p) - start.get(p, 0.0)) for p in seen)


def _spawn(workdir: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    with (workdir / "serve.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "centauro", "serve", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def start_server(
    db_url: str | None = None, extra_env: dict[str, str] | None = None, *, workers: int = 0
) -> Server:
    """``serve`` with ``workers`` processes (0: its default, one per CPU)."""
    workdir = Path(tempfile.mkdtemp(prefix="centauro-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTAURO_")}
    env["CENTAURO_DATABASE_URL"] = db_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    env["CENTAURO_LOG_LEVEL"] = "WARNING"
    env["CENTAURO_RATE_LIMIT"] = "0"  # one account sends everything: no per-account cap
    env["CENTAURO_WORKERS"] = str(workers)
    env.update(extra_env or {})
    # Migrate first, as a deployment does (`centauro db upgrade`, then `serve`): the server
    # then starts on a current schema, like every start but the first after an upgrade.
    subprocess.run(
        [sys.executable, "-m", "centauro", "db", "upgrade"],
        env=env,
        cwd=workdir,
        capture_output=True,
        check=True,
    )
    port = free_port()
    server = Server(_spawn(workdir, env, port), port, workdir, env)
    server.wait_ready()
    created = json.loads(
        server.cli("accounts", "create", "bench", "--credits", "100000000", "--json")
    )
    server.client_id = created["client_id"]
    server.client_secret = created["client_secret"]
    return server


def median_report(name: str, unit: str, values: list[float]) -> str:
    runs = ", ".join(f"{v:,.0f}" for v in values)
    return f"{name}: median {statistics.median(values):,.0f} {unit}  (runs: {runs})"


_databases = count(1)


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """A new, empty database ``bench_<pid>_<n>`` on ``server_url``'s server, dropped after.

    ``server_url`` is any database there to connect to (``…/test``); the yielded URL names
    the new database with the psycopg driver, as ``centauro serve`` takes it.
    """
    import psycopg  # noqa: PLC0415 - the benchmarks on SQLite do not need it

    name = f"bench_{os.getpid()}_{next(_databases)}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    base = plain.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


#: The tables whose statistics go stale fastest under a send load.
ANALYZED = ("messages", "message_parts", "accounts", "ledger", "pending_receipts")


@contextmanager
def analyzing(url: str | None, every: float, schema: str | None = None) -> Iterator[None]:
    """ANALYZE the busy tables of the PostgreSQL store ``url`` every ``every`` seconds
    (0, or a SQLite ``url``: never) while the block runs.

    This is what autovacuum's auto-analyze does by default, for a server that runs without
    it, as this machine's does: without fresh statistics the plans that connections
    prepared while the tables were empty (sequential scans) stay in use as the tables
    fill up (docs/performance.md, "Plans made on empty tables").
    """
    if every <= 0 or url is None or not url.startswith("postgresql"):
        yield
        return
    import psycopg  # noqa: PLC0415 - the benchmarks on SQLite do not need it

    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1).split("?", 1)[0]
    tables = ", ".join(f"{schema}.{t}" if schema else t for t in ANALYZED)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            # Errors while the store is being set up or dropped are expected: try again.
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"ANALYZE {tables}")
            except psycopg.Error:
                continue

    analyzer = threading.Thread(target=loop, name="analyze", daemon=True)
    analyzer.start()
    try:
        yield
    finally:
        stop.set()
        analyzer.join(timeout=30)


@contextmanager
def store(db: str | None) -> Iterator[str | None]:
    """``--db`` as the scripts take it: None (a SQLite file in the server's directory), a
    ``sqlite:`` URL, or a PostgreSQL server URL, on which a fresh database is made and
    dropped after (``fresh_postgres``)."""
    if db is None or db.startswith("sqlite"):
        yield db
        return
    with fresh_postgres(db) as url:
        yield url
