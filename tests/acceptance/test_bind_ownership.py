"""Bind ownership on PostgreSQL: several ``serve`` processes, one owner per connector.

Real processes throughout: ``centauro serve`` (two or three of them on one PostgreSQL
schema), ``centauro smsc-sim`` as the carrier, ``kill -9`` and SIGSTOP/SIGCONT for the
owner's death and pause. The simulator counts accepted submit_sm per peer address, and
``/proc`` tells which of those addresses belong to which process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.php import php_field
from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.smsc import SmscProcess, start_smsc
from tests.support.stores import store_url
from tests.support.webhook_receiver import receiving

WINDOW = 32
TOKEN = "op-bind-ownership-token"
#: Takeover: the lease is the default 6 s; the supervisor looks every 2 s.
ENV = {"CENTAURO_OPERATOR_TOKEN": TOKEN, "CENTAURO_SANDBOX_DLR_DELAY": "0"}


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``check`` until true; return how long it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[str]:
    with store_url("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[SmscProcess]:
    with start_smsc(tmp_path, dlr_delay=0.2) as sim:
        yield sim


def serve(pg: str, tmp_path: Path, **env: str) -> ServerProcess:
    return start_server(pg, tmp_path, port=free_port(), env={**ENV, **env})


def configure(gw: ServerProcess, smsc: SmscProcess, *extra: str) -> None:
    gw.cli_json(
        "connectors", "add", "sim", "--host", "127.0.0.1", "--port", str(smsc.port),
        "--system-id", smsc.system_id, "--password", smsc.password, "--window", str(WINDOW),
        "--reconnect-min", "0.1", "--reconnect-max", "0.5", *extra,
    )  # fmt: skip
    gw.cli_json("routes", "add", "--default", "--connector", "sim")


def owner_pid(gw: ServerProcess) -> int | None:
    """The pid ``connectors status`` names as the owner of ``sim`` while it is up."""
    rows = [c for c in gw.cli_json("connectors", "status")["connectors"] if c["name"] == "sim"]
    up = [r for r in rows if r["state"] == "up"]
    return int(up[0]["owner"]["pid"]) if len(up) == 1 else None


def pid(gw: ServerProcess) -> int:
    assert gw.process is not None
    return gw.process.pid


def send(gw: ServerProcess, account: Account, numbers: list[str]) -> list[str]:
    people = ",".join(json.dumps({"id": "0", "cel": n, "nom": ""}) for n in numbers)
    answer = httpx.post(
        f"{gw.base_url}/controllersms/",
        data={
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "client_opcion": "send_sms",
            "json": php_field(people),
            "msg": php_field("Su cita es mañana a las 9"),
        },
        timeout=60,
    ).json()
    assert answer["status"] == "200", answer
    return [r["Messageid"] for r in answer["response"][0]["datos"] if r["Messageid"]]


def all_final(gw: ServerProcess) -> bool:
    status = gw.cli_json("connectors", "status")
    return bool(status["queued"] == 0 and status["awaiting_receipt"] == 0)


def peers_of(process_id: int, remote_port: int) -> set[str]:
    """``ip:port`` of the TCP connections process ``process_id`` has to ``remote_port``."""
    inodes = set()
    for fd in os.listdir(f"/proc/{process_id}/fd"):
        try:
            link = os.readlink(f"/proc/{process_id}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if inode in inodes and int(remote.split(":")[1], 16) == remote_port:
            address = socket.inet_ntoa(bytes.fromhex(local.split(":")[0])[::-1])
            found.add(f"{address}:{int(local.split(':')[1], 16)}")
    return found


def submitted_by(smsc: SmscProcess, peers: set[str]) -> int:
    by_peer: dict[str, int] = smsc.stats().get("submit_by_peer", {})
    return sum(n for peer, n in by_peer.items() if peer in peers)


def delivered_everything(smsc: SmscProcess, numbers: list[str]) -> int:
    """Assert every number reached the carrier; return how many went twice."""
    accepted = Counter(a.destination for a in smsc.accepted())
    missing = {"58" + n[1:] for n in numbers} - set(accepted)
    assert not missing, f"{len(missing)} messages never reached the carrier"
    return sum(accepted.values()) - len(numbers)


def test_one_process_binds_and_the_other_takes_over_within_10_s_of_a_kill_9(
    pg: str, tmp_path: Path, smsc: SmscProcess
) -> None:
    first = serve(pg, tmp_path)
    second: ServerProcess | None = None
    try:
        configure(first, smsc, "--tps", "300")
        wait_until(lambda: owner_pid(first) == pid(first), 20, "the first process's bind")
        second = serve(pg, tmp_path)
        time.sleep(4)  # two lease rounds of the second process: it must stand by
        stats = smsc.stats()
        assert (stats["binds_ok"], stats["sessions"]) == (1, 1)
        account = first.create_account(credits=10_000)
        numbers = [f"0414{i:07d}" for i in range(3000)]
        assert len(send(second, account, numbers)) == 3000  # a standby still accepts
        smsc.wait_for(lambda s: s["submit_accepted"] >= 600, timeout=30)
        first.kill()
        took = wait_until(lambda: smsc.stats()["binds_ok"] == 2, 15, "the takeover bind")
        assert took <= 10, took
        # The carrier counts the bind before the new owner hears its answer and writes
        # its status row (within the supervisor's state poll, well before a reload).
        wait_until(lambda: owner_pid(second) == pid(second), 5, "the new owner's status row")
        wait_until(lambda: all_final(second), 90, "every message final")
        duplicates = delivered_everything(smsc, numbers)
        assert duplicates <= WINDOW, duplicates
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_a_paused_owner_stops_sending_and_does_not_take_the_connector_back(
    pg: str, tmp_path: Path, smsc: SmscProcess
) -> None:
    first = serve(pg, tmp_path)
    second: ServerProcess | None = None
    try:
        configure(first, smsc, "--tps", "200")  # the owner always has submits waiting
        wait_until(lambda: owner_pid(first) == pid(first), 20, "the first process's bind")
        second = serve(pg, tmp_path)
        account = first.create_account(credits=10_000)
        numbers = [f"0424{i:07d}" for i in range(3000)]
        assert len(send(second, account, numbers)) == 3000
        smsc.wait_for(lambda s: s["submit_accepted"] >= 400, timeout=30)
        os.kill(pid(first), signal.SIGSTOP)
        try:
            paused = peers_of(pid(first), smsc.port)
            assert paused, "the paused owner has no connection to the carrier"
            wait_until(lambda: smsc.stats()["binds_ok"] == 2, 15, "the takeover bind")
            time.sleep(0.5)  # the stats file is rewritten within 0.1 s of a change
            before = submitted_by(smsc, paused)
        finally:
            os.kill(pid(first), signal.SIGCONT)
        # Awake: its fence is shut before it learns it lost the lease, then it unbinds.
        wait_until(lambda: smsc.stats()["sessions"] == 1, 15, "the old owner's unbind")
        time.sleep(3)  # more lease rounds of the woken process
        assert submitted_by(smsc, paused) == before
        assert owner_pid(second) == pid(second)
        wait_until(lambda: all_final(second), 90, "every message final")
        assert owner_pid(second) == pid(second)
        duplicates = delivered_everything(smsc, numbers)
        assert duplicates <= WINDOW, duplicates
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_an_api_node_never_binds_and_health_names_the_owner(
    pg: str, tmp_path: Path, smsc: SmscProcess
) -> None:
    api = serve(pg, tmp_path, CENTAURO_ROLE="api")
    delivery: ServerProcess | None = None
    # A reload (and the lease round with it) only every 20 s: the delivery node's status
    # row must come from its start and from its bind coming up, not from a reload.
    slow_reload = {"CENTAURO_RELOAD_SECONDS": "20", "CENTAURO_BIND_LEASE_SECONDS": "60"}

    def health() -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(
            f"{api.base_url}/v1/health", headers={"Authorization": f"Bearer {TOKEN}"}
        ).json()
        return answer

    try:
        configure(api, smsc)
        account = api.create_account(credits=100)
        numbers = [f"0412{i:07d}" for i in range(20)]
        assert len(send(api, account, numbers)) == 20
        time.sleep(3)
        assert (smsc.stats()["binds_ok"], smsc.stats()["submit_received"]) == (0, 0)
        delivery = serve(pg, tmp_path, CENTAURO_ROLE="delivery", **slow_reload)
        wait_until(lambda: all_final(api), 30, "delivery by the delivery node")
        assert smsc.stats()["binds_ok"] == 1
        assert delivered_everything(smsc, numbers) == 0
        wait_until(
            lambda: [c["state"] for c in health()["connectors"]] == ["up"],
            5,
            "the delivery node's status row on the API node",
        )
        [sim] = health()["connectors"]
        assert (sim["name"], sim["state"]) == ("sim", "up")
        assert sim["owner"] == {"host": socket.gethostname(), "pid": pid(delivery)}
        # /metrics of the API node shows the bind the delivery node holds (its status row).
        scraped = httpx.get(f"{api.base_url}/metrics", timeout=10).text
        gauges = {
            s.name: s.value
            for family in text_string_to_metric_families(scraped)
            for s in family.samples
            if s.labels == {"connector": "sim"} and s.name.startswith("centauro_connector_")
        }
        assert gauges["centauro_connector_up"] == 1
        assert gauges["centauro_connector_window_size"] == WINDOW
    finally:
        api.stop()
        if delivery is not None:
            delivery.stop()


def test_scheduler_and_webhook_sender_do_each_job_once_with_two_processes(
    pg: str, tmp_path: Path
) -> None:
    """Both processes run the scheduler and the webhook sender; only claims share work."""
    fast = {"CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1", "CENTAURO_WEBHOOK_POLL_SECONDS": "0.1"}
    first = serve(pg, tmp_path, **fast)
    second: ServerProcess | None = None
    try:
        second = serve(pg, tmp_path, **fast)
        account = first.create_account(credits=100)
        with receiving() as rx:
            hook = httpx.post(
                f"{first.base_url}/v1/webhooks",
                auth=(account.client_id, account.client_secret),
                json={"url": rx.url("/status"), "events": ["message.status"]},
            )
            assert hook.status_code == 201, hook.text
            when = (datetime.now(UTC) + timedelta(seconds=20)).isoformat()
            ids = []
            for i in range(20):
                gw = (first, second)[i % 2]
                answer = httpx.post(
                    f"{gw.base_url}/v1/messages",
                    auth=(account.client_id, account.client_secret),
                    json={"to": f"0414{i:07d}", "text": "Hola", "schedule_at": when},
                )
                assert answer.status_code == 202, answer.text
                [message] = answer.json()["messages"]
                assert message["status"] == "scheduled"
                ids.append(message["id"])
            rx.wait_for(lambda r: len(r.on("/status")) >= 40, 60, "sent + delivered of each")
            time.sleep(2)  # a second look of both senders and both schedulers
            events = Counter(
                (r.json["data"]["id"], r.json["data"]["status"]) for r in rx.on("/status")
            )
            assert events == Counter({(i, s): 1 for i in ids for s in ("sent", "delivered")})
            assert set(rx.deliveries().values()) == {1}
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_two_processes_charging_the_same_accounts_answer_every_send(
    pg: str, tmp_path: Path
) -> None:
    """Each process's writer charges several accounts per transaction; in account order,
    two such transactions wait for each other instead of deadlocking (which answered 302)."""
    first = serve(pg, tmp_path, CENTAURO_RATE_LIMIT="0")
    second: ServerProcess | None = None
    try:
        second = serve(pg, tmp_path, CENTAURO_RATE_LIMIT="0")
        accounts = [first.create_account(credits=1000, name=f"Tienda {i}") for i in range(4)]
        gateways = (first, second)

        def sends(worker: int) -> list[str]:
            answers = []
            with httpx.Client(timeout=60) as client:
                for i in range(worker, 800, 16):
                    account = accounts[i % len(accounts)]
                    answer = client.get(
                        f"{gateways[i % 2].base_url}/http/",
                        params={
                            "client_id": account.client_id,
                            "client_secret": account.client_secret,
                            "client_opcion": "send_sms",
                            "num": f"0412{i:07d}",
                            "msg": "Hola",
                        },
                    )
                    answers.append(answer.json()["status"])
            return answers

        with ThreadPoolExecutor(16) as pool:
            statuses = Counter(s for answers in pool.map(sends, range(16)) for s in answers)
        assert statuses == Counter({"200": 800})
    finally:
        first.stop()
        if second is not None:
            second.stop()
