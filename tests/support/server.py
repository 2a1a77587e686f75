"""Run the real ``centauro`` server and CLI as subprocesses for tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

STARTUP_TIMEOUT = 30.0


#: Ports :func:`free_port` handed out in this process.
_GIVEN: set[int] = set()


def free_port() -> int:
    """A loopback port nobody listens on now, never the same one twice in this process:
    the kernel may give a just-released port out again at once, and a server asked for two
    (HTTP and SMPP) once got the same port for both."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port
    raise RuntimeError("no new free port in 100 tries")


def cli_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTAURO_")}
    env["CENTAURO_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    # One process unless a test asks for workers: per-process state (sign-in lockouts,
    # rate buckets) is what many tests count on; tests/acceptance/test_serve_workers.py
    # runs the default's shape.
    env["CENTAURO_WORKERS"] = "1"
    env.update(extra or {})
    return env


def run_cli(
    database_url: str,
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``centauro ARGS`` against ``database_url``; raise with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "centauro", *args],
        env=cli_env(database_url, env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"centauro {' '.join(args)} exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
    return result


def cli_json(database_url: str, *args: str, **kw: Any) -> Any:
    return json.loads(run_cli(database_url, *args, "--json", **kw).stdout)


@dataclass
class Account:
    client_id: str
    client_secret: str
    name: str = ""


@dataclass
class ServerProcess:
    database_url: str
    workdir: Path
    port: int
    env_extra: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"serve-{self.port}.log"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = self._spawn(log)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()}")

    def _spawn(self, log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "centauro",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=cli_env(self.database_url, self.env_extra),
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def cli(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return run_cli(self.database_url, *args, cwd=self.workdir, **kw)

    def cli_json(self, *args: str, **kw: Any) -> Any:
        return cli_json(self.database_url, *args, cwd=self.workdir, **kw)

    def create_account(
        self, credits: int = 100, *, country: str = "VE", name: str = "Tienda"
    ) -> Account:
        data = self.cli_json(
            "accounts", "create", name, "--credits", str(credits), "--country", country
        )
        return Account(data["client_id"], data["client_secret"], name)


def start_server(
    database_url: str, workdir: Path, *, port: int, env: dict[str, str] | None = None
) -> ServerProcess:
    proc = ServerProcess(database_url, workdir, port, env_extra=dict(env or {}))
    proc.start()
    return proc
