"""Two ``centauro serve`` on one PostgreSQL store sharing ``PROMETHEUS_MULTIPROC_DIR`` (as
``serve --workers N`` runs them): a scrape of either counts what both did."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from centauro import metrics
from tests.acceptance.test_smpp_delivery import FAST_FAILOVER
from tests.support.php import php_field
from tests.support.processes import eventually
from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.stores import store_url

FAST = {**FAST_FAILOVER, "CENTAURO_SANDBOX_DLR_DELAY": "0"}


def send(gw: ServerProcess, account: Account, numbers: list[str]) -> None:
    people = ",".join(json.dumps({"id": "0", "cel": n, "nom": ""}) for n in numbers)
    answer = httpx.post(
        f"{gw.base_url}/controllersms/",
        data={
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "client_opcion": "send_sms",
            "json": php_field(people),
            "msg": php_field("Hola"),
        },
        timeout=30,
    ).json()
    assert answer["status"] == "200", answer


def counted(gw: ServerProcess, name: str, **labels: str) -> float:
    text = httpx.get(f"{gw.base_url}/metrics", timeout=10).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and s.labels == labels
    )


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    shared = tmp_path / "prom"
    shared.mkdir(mode=0o700)
    env = {**FAST, metrics.MULTIPROC_ENV: str(shared)}
    with store_url("postgresql", tmp_path) as url:
        first = start_server(url, tmp_path, port=free_port(), env=env)
        try:
            second = start_server(url, tmp_path, port=free_port(), env=env)
            try:
                yield first, second
            finally:
                second.stop()
        finally:
            first.stop()
    assert os.listdir(shared)  # both wrote their counts there


@pytest.mark.postgresql
def test_either_process_answers_the_sum_of_both(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = pair
    account = first.create_account(credits=100)
    send(first, account, ["04141000001", "04141000002"])
    send(second, account, ["04141000003", "04141000004", "04141000005"])
    accepted = {"account": account.client_id, "connector": "", "outcome": "accepted"}
    delivered = {"account": account.client_id, "connector": "sandbox", "outcome": "delivered"}
    for gw in (first, second):
        assert counted(gw, "centauro_messages_total", **accepted) == 5
    eventually(
        lambda: counted(second, "centauro_messages_total", **delivered) == 5,
        "5 delivered",
        timeout=30,
    )
    assert counted(first, "centauro_messages_total", **delivered) == 5
    compat = {"route": "/controllersms", "method": "POST", "status": "200"}
    assert counted(first, "centauro_http_requests_total", **compat) == 2
