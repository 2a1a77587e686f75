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
import time
import urllib.request
from dataclasses import dataclass
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

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the server process so far (VmHWM)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

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
        deadline = time.monotonic() + 30
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


def _spawn(workdir: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    with (workdir / "serve.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "centauro", "serve", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def start_server(db_url: str | None = None, extra_env: dict[str, str] | None = None) -> Server:
    workdir = Path(tempfile.mkdtemp(prefix="centauro-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTAURO_")}
    env["CENTAURO_DATABASE_URL"] = db_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    env["CENTAURO_LOG_LEVEL"] = "WARNING"
    env["CENTAURO_RATE_LIMIT"] = "0"  # one account sends everything: no per-account cap
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
