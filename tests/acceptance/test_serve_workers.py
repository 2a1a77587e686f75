"""``centauro serve --workers N``: one port, N real processes, one store.

Real ``serve`` processes over a real SQLite file (and PostgreSQL where the store matters):
the HTTP workers share the one port and the delivering worker (which answers no HTTP)
delivers what they accepted; a worker killed with ``kill -9`` is started again;
``kill -9`` of the parent takes the workers with it; SIGINT stops everything within 10 s
with every answered send stored; a second ``serve`` on the same SQLite file refuses in
Spanish.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import alive, children, eventually
from tests.support.server import Account, ServerProcess, free_port, run_cli

TOKEN = "operator-token-for-the-workers-test-0123456789"
WORKERS_ENV = {"CENTAURO_WORKERS": "2", "CENTAURO_OPERATOR_TOKEN": TOKEN}


def who_answers(server: ServerProcess, tries: int = 200, expect: int = 1) -> dict[int, bool]:
    """pid → delivers, of the processes that answered up to ``tries`` fresh connections
    (fewer once ``expect`` different ones have)."""
    seen: dict[int, bool] = {}
    for _ in range(tries):
        with httpx.Client(base_url=server.base_url, timeout=5) as http:
            response = http.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.text
        process = response.json()["process"]
        seen[process["pid"]] = process["delivers"]
        if len(seen) == expect:
            break
    return seen


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """Three workers: two answer HTTP, one delivers."""
    env = WORKERS_ENV | {"CENTAURO_WORKERS": "3"}
    server = ServerProcess(database_url, tmp_path, free_port(), env_extra=env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sqlite_workers(tmp_path: Path) -> Iterator[ServerProcess]:
    url = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    server = ServerProcess(url, tmp_path, free_port(), env_extra=dict(WORKERS_ENV))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def send(server: ServerProcess, account: Account, to: str) -> str:
    """The id of one message sent on a fresh connection (to any worker)."""
    with httpx.Client(base_url=server.base_url, timeout=10) as http:  # a fresh connection
        response = http.post(
            "/v1/messages",
            json={"to": to, "text": "hola"},
            auth=(account.client_id, account.client_secret),
        )
    assert response.status_code == 202, response.text
    return str(response.json()["messages"][0]["id"])


def status(server: ServerProcess, account: Account, message_id: str) -> str:
    response = httpx.get(
        f"{server.base_url}/v1/messages/{message_id}",
        auth=(account.client_id, account.client_secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def test_http_workers_share_one_port_and_the_delivering_worker_delivers_for_them(
    workers: ServerProcess,
) -> None:
    assert workers.process is not None
    seen = who_answers(workers, expect=2)
    assert len(seen) == 2  # both HTTP workers took connections on the one port
    assert set(seen.values()) == {False}  # the delivering worker answers no HTTP
    assert set(seen) < children(workers.process.pid)
    assert len(children(workers.process.pid)) == 3
    with httpx.Client(base_url=workers.base_url, timeout=5) as http:
        health = http.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    # On one SQLite file the HTTP workers write on their event loop (store/writer.py).
    sqlite = workers.database_url.startswith("sqlite")
    assert health["writer"]["runs_on"] == ("event loop" if sqlite else "thread")
    account = workers.create_account(credits=50)
    sent = [send(workers, account, f"+58414555{i:04d}") for i in range(20)]
    for message_id in sent:  # accepted by either worker, delivered by the one that delivers
        eventually(lambda m=message_id: status(workers, account, m) == "delivered", f"{message_id}")


def test_a_killed_worker_is_started_again(sqlite_workers: ServerProcess) -> None:
    assert sqlite_workers.process is not None
    parent = sqlite_workers.process.pid
    account = sqlite_workers.create_account(credits=5)
    for victim in sorted(children(parent)):  # the delivering worker and the HTTP one
        os.kill(victim, signal.SIGKILL)
        eventually(lambda v=victim: not alive(v), f"worker {victim} gone")
        eventually(lambda: len(children(parent)) == 2, "a new worker", timeout=30)
        assert victim not in children(parent)
        message_id = eventually(lambda: _try_send(sqlite_workers, account), "HTTP again")
        eventually(lambda m=message_id: status(sqlite_workers, account, m) == "delivered", "sent")


def _try_send(server: ServerProcess, account: Account) -> str | None:
    try:
        return send(server, account, "+584145550001")
    except (httpx.HTTPError, AssertionError):
        return None


def test_kill_9_of_the_parent_takes_the_workers_with_it_and_a_new_serve_starts(
    sqlite_workers: ServerProcess,
) -> None:
    assert sqlite_workers.process is not None
    pids = children(sqlite_workers.process.pid)
    assert len(pids) == 2
    sqlite_workers.kill()
    eventually(lambda: not any(alive(p) for p in pids), "workers gone", timeout=5)
    sqlite_workers.start()  # the same file and port: the lock and the port are free again
    assert len(children(sqlite_workers.process.pid)) == 2
    account = sqlite_workers.create_account(credits=5)
    message_id = send(sqlite_workers, account, "+584145550002")
    eventually(lambda: status(sqlite_workers, account, message_id) == "delivered", "delivery")


def test_sigint_stops_everything_within_10_seconds_and_keeps_every_answered_send(
    sqlite_workers: ServerProcess,
) -> None:
    process = sqlite_workers.process
    assert process is not None
    account = sqlite_workers.create_account(credits=100_000)
    pids = children(process.pid)
    answered: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=sqlite_workers.base_url, timeout=15) as http:
            for i in range(100_000):
                if stop.is_set():
                    return
                try:
                    response = http.post(
                        "/v1/messages",
                        json={"to": f"+58414{i:07d}", "text": "hola"},
                        auth=(account.client_id, account.client_secret),
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 202:
                    answered.append(response.json()["messages"][0]["id"])

    senders = [threading.Thread(target=load) for _ in range(4)]
    for thread in senders:
        thread.start()
    eventually(lambda: len(answered) >= 50, "sends under way")
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=15)
    took = time.monotonic() - started
    stop.set()
    for thread in senders:
        thread.join(timeout=20)
    assert took < 10, took
    assert not any(alive(p) for p in pids)
    assert process.returncode == 0

    sqlite_workers.start()
    missing = [
        m
        for m in answered[:: max(len(answered) // 50, 1)]
        if not _stored(sqlite_workers, account, m)
    ]
    assert missing == []


def _stored(server: ServerProcess, account: Account, message_id: str) -> bool:
    response = httpx.get(
        f"{server.base_url}/v1/messages/{message_id}",
        auth=(account.client_id, account.client_secret),
        timeout=10,
    )
    return response.status_code == 200


def test_a_second_serve_on_the_same_sqlite_file_refuses_in_spanish(
    sqlite_workers: ServerProcess, tmp_path: Path
) -> None:
    result = run_cli(
        sqlite_workers.database_url,
        "serve",
        "--workers",
        "2",
        "--port",
        str(free_port()),
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    said = " ".join(result.stderr.split())
    assert "Otro `centauro serve` está usando" in said, said
    assert "Traceback" not in said
    assert who_answers(sqlite_workers)  # the first one still serves


def test_a_negative_worker_count_is_refused_in_spanish(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    env = {"CENTAURO_WORKERS": "-1"}
    result = run_cli(url, "serve", "--port", str(free_port()), env=env, check=False, timeout=60)
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert "CENTAURO_WORKERS=-1 no es válido" in said, said
    assert "Traceback" not in said


def test_a_worker_that_cannot_start_stops_serve_instead_of_restarting_forever(
    tmp_path: Path,
) -> None:
    """An empty file with ``--no-migrate``: every worker's start fails the same way."""
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    port = str(free_port())
    args = ("serve", "--workers", "2", "--no-migrate", "--port", port)
    result = run_cli(url, *args, check=False, timeout=60)
    assert result.returncode == 1
    assert "Un proceso de trabajo no pudo iniciar" in " ".join(result.stderr.split())
