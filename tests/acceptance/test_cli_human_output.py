"""Human output for the operator (issue 8, item 14): ids whole, Spanish words, readable logs."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.server import ServerProcess, cli_env, free_port, run_cli

LONG_NAME = "Distribuidora Farmacéutica de los Andes Occidentales C.A. (sucursal Mérida)"


def test_accounts_list_never_cuts_the_client_id_on_an_80_column_terminal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    narrow = {"COLUMNS": "80"}
    created = run_cli(url, "accounts", "create", LONG_NAME, "--credits", "5", env=narrow).stdout
    secret = re.search(r"client_secret\s+(\S+)", created)
    assert secret is not None
    assert len(secret.group(1)) >= 32
    run_cli(url, "accounts", "create", "Otra", "--json")
    listed = json.loads(run_cli(url, "accounts", "list", "--json").stdout)
    ids = [a["client_id"] for a in listed]

    for columns in ("80", "40"):
        out = run_cli(url, "accounts", "list", env={"COLUMNS": columns}).stdout
        for client_id in ids:
            assert client_id in out, (columns, out)
        assert "…" not in out  # nothing is cut; long words fold instead

    rotated_out = run_cli(url, "accounts", "rotate-secret", ids[0], env={"COLUMNS": "30"}).stdout
    rotated = re.search(r"client_secret\s+(\S+)", rotated_out)
    assert rotated is not None
    assert len(rotated.group(1)) >= 32  # the whole secret on one line
    assert ids[0] in rotated_out


def test_messages_show_speaks_spanish_and_json_stays_english(server: ServerProcess) -> None:
    account = server.create_account(credits=5)
    answer = httpx.post(
        f"{server.base_url}/v1/messages",
        auth=(account.client_id, account.client_secret),
        json={"to": "04141234567", "text": "Hola"},
    )
    message_id = str(answer.json()["messages"][0]["id"])
    deadline = time.monotonic() + 20
    while server.cli_json("messages", "show", message_id)["status"] != "delivered":
        assert time.monotonic() < deadline, "the sandbox never delivered"
        time.sleep(0.2)

    shown = server.cli("messages", "show", message_id, env={"COLUMNS": "200"}).stdout
    labels = [line.split("  ")[0].strip() for line in shown.splitlines() if line.strip()]
    assert {"Estado", "Intentos", "Origen"} <= set(labels)
    assert re.search(r"Estado\s+entregado", shown)
    assert re.search(r"Origen\s+API REST", shown)
    for english in ("delivered", "attempts", "status", "source"):
        assert english not in shown
    listed = server.cli("messages", "list", env={"COLUMNS": "200"}).stdout
    assert "entregado" in listed
    assert "delivered" not in listed

    machine = server.cli_json("messages", "show", message_id)
    assert (machine["status"], machine["source"]) == ("delivered", "v1")
    assert "attempts" in machine


def _serve_on_a_terminal(tmp_path: Path, env: dict[str, str]) -> str:
    """Run ``serve`` with its stderr on a pseudo-terminal; what it logged in its first seconds."""
    port = free_port()
    url = f"sqlite:///{tmp_path / 'tty.sqlite3'}"
    controller, terminal = pty.openpty()
    with (tmp_path / "stdout.log").open("wb") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-m", "centauro", "serve", "--port", str(port)],
            env=cli_env(url, env),
            cwd=tmp_path,
            stdout=stdout,
            stderr=terminal,
        )
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"startup complete" not in seen.lower() and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(controller, 65536)
                except OSError:  # the process closed the terminal (it exited)
                    break
            assert proc.poll() is None, seen.decode(errors="replace")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        os.close(controller)
    return seen.decode(errors="replace").replace("\r\n", "\n")


def test_serve_logs_readable_lines_on_a_terminal(tmp_path: Path) -> None:
    seen = _serve_on_a_terminal(tmp_path, {})
    lines = [line for line in seen.splitlines() if line.strip()]
    assert any("startup complete" in line.lower() for line in lines), seen
    assert all(not line.lstrip().startswith("{") for line in lines), seen
    assert any(re.match(r"\d\d:\d\d:\d\d\.\d{3} INFO +\S", line) for line in lines), seen


def test_serve_logs_json_on_a_terminal_when_asked(tmp_path: Path) -> None:
    seen = _serve_on_a_terminal(tmp_path, {"CENTAURO_LOG_FORMAT": "json"})
    events = [json.loads(line) for line in seen.splitlines() if line.startswith("{")]
    assert any("startup complete" in e["event"].lower() for e in events), seen


def test_serve_logs_json_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'p.sqlite3'}", tmp_path, free_port())
    server.start()
    server.stop()
    logged = [line for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    assert any("startup complete" in json.loads(line)["event"].lower() for line in logged)


def test_serve_refuses_an_unknown_log_format(tmp_path: Path) -> None:
    result = run_cli(f"sqlite:///{tmp_path / 'x.sqlite3'}", "serve", "--log-format", "xml",
                     check=False)  # fmt: skip
    assert result.returncode == 2
    assert "Formato de registro desconocido" in result.stderr
