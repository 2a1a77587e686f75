"""The SMPP server under ``serve --workers N``: it runs in the first HTTP worker, on a socket
the parent bound, while worker 0 delivers.

Real ``serve`` processes on a real SQLite file, smpplib as the customer: a submit is
delivered by the other worker and its receipt comes back over the bind; the operator's
views (``smpp-clients status``, ``/v1/health``, ``/metrics``) show the bind from whichever
worker answers; ``kill -9`` of the SMPP server's worker restarts it and the customer's
waiting receipts arrive on rebind; an SMPP port already in use is refused in Spanish
before any worker starts.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import smpplib.exceptions

from tests.support.esme import OPERATOR_TOKEN, Esme, Smpp, receipt_fields, smpp_gateway
from tests.support.processes import alive, children, eventually
from tests.support.server import free_port, run_cli

VE = "584141234567"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def _gateway(tmp_path: Path, workers: int) -> Iterator[Smpp]:
    url = f"sqlite:///{tmp_path / 'smpp-workers.sqlite3'}"
    yield from smpp_gateway(url, tmp_path, env={"CENTAURO_WORKERS": str(workers)})


@pytest.fixture
def two(tmp_path: Path) -> Iterator[Smpp]:
    yield from _gateway(tmp_path, 2)


@pytest.fixture
def three(tmp_path: Path) -> Iterator[Smpp]:
    yield from _gateway(tmp_path, 3)


def _health(smpp: Smpp) -> dict[str, object]:
    with httpx.Client(base_url=smpp.gw.base_url, timeout=10) as http:  # a fresh connection
        response = http.get("/v1/health", headers=OPERATOR)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _binds_seen(smpp: Smpp, body: dict[str, object]) -> dict[str, int] | None:
    server = body.get("smpp_server")
    if not isinstance(server, dict):
        return None
    for account in server["accounts"]:
        if account["client_id"] == smpp.account.client_id:
            return dict(account["binds"])
    return None


def _status_binds(smpp: Smpp) -> dict[str, int]:
    rows = smpp.gw.cli_json("smpp-clients", "status")
    return dict(next(r for r in rows if r["client_id"] == smpp.account.client_id)["binds"])


def test_a_submit_is_delivered_by_worker_0_and_its_receipt_comes_back_on_the_bind(
    two: Smpp,
) -> None:
    esme = two.esme()
    status, message_id = esme.answer(esme.submit(VE, "hola", registered_delivery=1))
    assert status == 0
    receipt = esme.wait_deliver(lambda d: d.receipted_message_id == message_id, timeout=30)
    assert receipt_fields(receipt.text)["stat"] == "DELIVRD"
    # The one HTTP worker runs the SMPP server: health shows the bind from that process,
    # which is not the delivering one; the CLI reads the figures its report stored.
    body = _health(two)
    assert body["process"] == {"pid": body["process"]["pid"], "delivers": False}  # type: ignore[index]
    assert _binds_seen(two, body) == {"trx": 1}
    eventually(lambda: _status_binds(two) == {"trx": 1}, "the bind in smpp-clients status")
    esme.close()


def test_every_worker_shows_the_binds_of_the_one_that_holds_them(three: Smpp) -> None:
    esme = three.esme("receiver")
    pids: set[int] = set()

    def both_http_workers_show_the_bind() -> bool:
        body = _health(three)
        if _binds_seen(three, body) != {"rx": 1}:
            return False
        pids.add(body["process"]["pid"])  # type: ignore[index]
        return len(pids) == 2

    eventually(both_http_workers_show_the_bind, "the bind seen from both HTTP workers", 30)
    for _ in range(6):  # fresh connections: either HTTP worker may answer (loopback: open)
        with httpx.Client(base_url=three.gw.base_url, timeout=10) as http:
            scrape = http.get("/metrics").text
        assert f'centauro_smpp_server_binds{{account="{three.account.client_id}"}} 1.0' in scrape
    esme.close()


def test_kill_9_of_the_smpp_worker_restarts_it_and_waiting_receipts_arrive_on_rebind(
    two: Smpp,
) -> None:
    assert two.gw.process is not None
    parent = two.gw.process.pid
    sender = two.esme("transmitter")  # a transmitter bind gets no deliver_sm: they wait
    ids = [
        sender.answer(sender.submit(VE, f"espera {i}", registered_delivery=1))[1] for i in range(5)
    ]
    victim = int(_health(two)["process"]["pid"])  # type: ignore[index]
    others = children(parent) - {victim}
    os.kill(victim, signal.SIGKILL)
    eventually(lambda: not alive(victim), f"worker {victim} gone")
    eventually(lambda: len(children(parent) - others - {victim}) == 1, "a new SMPP worker", 30)
    assert children(parent) >= others  # the delivering worker was not touched
    receiver = eventually(lambda: _try_bind(two), "the SMPP port answering again", 30)
    for message_id in ids:
        receipt = receiver.wait_deliver(lambda d, m=message_id: d.receipted_message_id == m, 30)
        assert receipt_fields(receipt.text)["stat"] == "DELIVRD"
    receiver.close()
    sender.close()  # its connection died with the worker


def _try_bind(smpp: Smpp) -> Esme | None:
    """A receiver bind, or None while the restarted worker is not answering yet."""
    try:
        esme = Esme(smpp.port)
    except (OSError, smpplib.exceptions.ConnectionError):
        return None
    try:
        status = esme.bind(smpp.system_id, smpp.password, "receiver")
    except (OSError, smpplib.exceptions.ConnectionError):
        status = -1
    if status != 0:
        esme.close()
        return None
    return esme


def test_an_smpp_port_in_use_is_refused_in_spanish_before_any_worker_starts(
    tmp_path: Path,
) -> None:
    holder = socket.create_server(("127.0.0.1", 0))
    taken = holder.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'taken.sqlite3'}"
    try:
        done = run_cli(
            url,
            "serve",
            "--port",
            str(free_port()),
            "--smpp-port",
            str(taken),
            env={"CENTAURO_WORKERS": "2"},
            check=False,
            timeout=60,
        )
    finally:
        holder.close()
    assert done.returncode != 0
    assert f"No se pudo escuchar en 127.0.0.1:{taken}" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
