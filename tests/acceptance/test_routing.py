"""Connectors and routes configured from the CLI take effect in a running server.

Uses sandbox connectors (no carrier needed): the point is the routing, failover and
live reload, through the real server and the real CLI.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.stores import KINDS, store_url


@pytest.fixture(params=KINDS)
def gw(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    with store_url(request.param, tmp_path) as url:
        proc = start_server(url, tmp_path, port=free_port(), env={"CENTAURO_RELOAD_SECONDS": "0.2"})
        try:
            yield proc
        finally:
            proc.stop()


def send(gw: ServerProcess, account: Account, number: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(
        f"{gw.base_url}/http/",
        params={
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "client_opcion": "send_sms",
            "num": number,
            "msg": "Hola",
        },
        timeout=10,
    ).json()
    return answer


def connector_of(gw: ServerProcess, answer: dict[str, Any]) -> str:
    message_id = answer["response"][0]["datos"][0]["Messageid"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        shown = gw.cli_json("messages", "show", message_id)
        if shown["connector"]:
            return str(shown["connector"])
        time.sleep(0.1)
    raise AssertionError(f"message {message_id} was never sent")


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_routes_failover_and_live_reload(gw: ServerProcess) -> None:
    account = gw.create_account(credits=100)
    # Nothing configured: the built-in sandbox carries everything.
    assert connector_of(gw, send(gw, account, "04241234567")) == "sandbox"

    gw.cli_json("connectors", "add", "movistar", "--type", "sandbox", "--dlr-delay", "0")
    gw.cli_json("connectors", "add", "digitel", "--type", "sandbox", "--dlr-delay", "0")
    gw.cli_json("routes", "add", "--prefix", "58414", "--connector", "movistar")
    gw.cli_json("routes", "add", "--prefix", "+58 412", "--connector", "digitel")

    # Once the server has read the routes, an unroutable number is refused whole (302).
    assert eventually(lambda: send(gw, account, "04241234567")["status"] == "302")
    assert connector_of(gw, send(gw, account, "04141234567")) == "movistar"
    assert connector_of(gw, send(gw, account, "04121234567")) == "digitel"

    # Failover: a second route for 58414; when movistar is disabled, digitel carries it.
    gw.cli_json("routes", "add", "--prefix", "58414", "--connector", "digitel", "--priority", "5")
    gw.cli_json("connectors", "disable", "movistar")
    assert eventually(lambda: connector_of(gw, send(gw, account, "04141234568")) == "digitel")

    # A default route catches everything else.
    gw.cli_json("routes", "add", "--default", "--connector", "digitel")
    assert eventually(lambda: send(gw, account, "04241234567")["status"] == "200")

    routes = gw.cli_json("routes", "list")
    assert [(r["prefix"], r["connector"], r["priority"]) for r in routes] == [
        ("58414", "movistar", 0),
        ("58414", "digitel", 5),
        ("58412", "digitel", 0),
        ("", "digitel", 0),
    ]
    assert eventually(
        lambda: (
            {c["name"]: c["state"] for c in gw.cli_json("connectors", "status")["connectors"]}
            == {"digitel": "up"}
        )
    )

    removed = gw.cli_json("connectors", "remove", "digitel")
    assert removed == {"removed": "digitel", "routes_removed": 3}
    assert [r["connector"] for r in gw.cli_json("routes", "list")] == ["movistar"]


def test_connector_cli_refuses_bad_input(gw: ServerProcess) -> None:
    bad = gw.cli("connectors", "add", "x", "--type", "carrier-pigeon", check=False)
    assert bad.returncode == 2
    missing = gw.cli("connectors", "show", "nadie", check=False)
    assert missing.returncode == 1
    bad_route = gw.cli("routes", "add", "--prefix", "58-abc", "--connector", "x", check=False)
    assert bad_route.returncode != 0


def test_a_sandbox_taken_out_of_service_reports_what_it_owed(gw: ServerProcess) -> None:
    """A sandbox lives in our process: disabled (or replaced by a route to another
    connector) it hands over its receipts at once, instead of leaving its messages
    ``sent`` for good."""
    account = gw.create_account(credits=100)
    gw.cli_json("connectors", "add", "lento", "--type", "sandbox", "--dlr-delay", "3600")
    gw.cli_json("routes", "add", "--default", "--connector", "lento")
    owed: list[str] = []

    def sent_through_lento() -> bool:
        answer = send(gw, account, "04141234567")
        if answer["status"] != "200":
            return False  # between the route's reload and the connector's start
        message_id = answer["response"][0]["datos"][0]["Messageid"]
        if connector_of(gw, answer) != "lento":
            return False  # the built-in sandbox took it before the reload: delivered soon
        owed.append(message_id)
        return True

    assert eventually(sent_through_lento)
    assert gw.cli_json("messages", "show", owed[0])["status"] == "sent"
    gw.cli_json("connectors", "disable", "lento")
    assert eventually(lambda: gw.cli_json("messages", "show", owed[0])["status"] == "delivered"), (
        gw.cli_json("messages", "show", owed[0])
    )
