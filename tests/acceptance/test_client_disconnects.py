"""A client that leaves mid-body is one debug line in the server's log, not a traceback.

Against the real ``centauro serve`` process: 50 connections dropped half-way through a
``POST /controllersms/`` body and 50 through a ``POST /v1/messages`` body.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess, free_port, start_server
from tests.support.stores import store_url

DROPS = 50


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[ServerProcess]:
    with store_url("sqlite", tmp_path) as url:
        server = start_server(url, tmp_path, port=free_port(), env={"CENTAURO_LOG_LEVEL": "DEBUG"})
        try:
            yield server
        finally:
            server.stop()


def drop_mid_body(server: ServerProcess, head: bytes) -> None:
    """Send ``head`` announcing 1,000 bytes of body, send 100, and hang up."""
    for _ in range(DROPS):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(head + b"Content-Length: 1000\r\n\r\n" + b"x" * 100)


def events(server: ServerProcess) -> tuple[Counter[str], list[str]]:
    """Counts of the server's log events, and the lines that carry a traceback."""
    counts: Counter[str] = Counter()
    tracebacks = []
    for line in server.log_path.read_text().splitlines():
        if "Traceback" in line:
            tracebacks.append(line)
        try:
            record = json.loads(line)
        except ValueError:
            continue
        counts[record.get("event", "")] += 1
    return counts, tracebacks


def wait_for(server: ServerProcess, event: str, count: int) -> Counter[str]:
    deadline = time.monotonic() + 15
    while True:
        counts, _ = events(server)
        if counts[event] >= count or time.monotonic() > deadline:
            time.sleep(0.3)  # any line more would show now
            return events(server)[0]
        time.sleep(0.1)


def test_compat_disconnects_are_one_debug_line_each(gw: ServerProcess) -> None:
    drop_mid_body(
        gw,
        b"POST /controllersms/ HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n",
    )
    counts = wait_for(gw, "compat_client_disconnected", DROPS)
    assert counts["compat_client_disconnected"] == DROPS, counts
    assert counts["compat_unexpected_error"] == 0, counts
    assert events(gw)[1] == []


def test_rest_disconnects_are_one_debug_line_each(gw: ServerProcess) -> None:
    account = gw.create_account()
    basic = base64.b64encode(f"{account.client_id}:{account.client_secret}".encode())
    drop_mid_body(
        gw,
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Basic " + basic + b"\r\n",
    )
    counts = wait_for(gw, "api_client_disconnected", DROPS)
    assert counts["api_client_disconnected"] == DROPS, counts
    assert counts["api_unexpected_error"] == 0, counts
    assert events(gw)[1] == []
