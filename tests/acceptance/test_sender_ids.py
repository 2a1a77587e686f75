"""Sender IDs through the whole gateway: the CLI grants them, REST and the compat API send
with them, and the carrier (a real ``smsc-sim``) sees source_addr, TON and NPI per message.

Every part is a real process over real sockets: ``centauro serve``, ``centauro smsc-sim``
and the CLI; the SMSC's accepted log records what each submit_sm carried.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.smsc import Accepted, SmscProcess, start_smsc
from tests.support.stores import KINDS, store_url

FAST = {"CENTAURO_RELOAD_SECONDS": "0.2"}


def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def gw(store: str, tmp_path: Path) -> Iterator[ServerProcess]:
    proc = start_server(store, tmp_path, port=free_port(), env=FAST)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[SmscProcess]:
    with start_smsc(tmp_path / "smsc", dlr_delay=0.1) as sim:
        yield sim


def rest(gw: ServerProcess, account: Account, method: str, path: str, **kw: Any) -> httpx.Response:
    auth = (account.client_id, account.client_secret)
    return httpx.request(method, f"{gw.base_url}{path}", auth=auth, timeout=30, **kw)


def compat_send(gw: ServerProcess, account: Account, number: str) -> str:
    answer = httpx.get(
        f"{gw.base_url}/http/",
        params={
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "client_opcion": "send_sms",
            "num": number,
            "msg": "Hola",
        },
        timeout=30,
    ).json()
    assert answer["status"] == "200", answer
    return str(answer["response"][0]["datos"][0]["Messageid"])


def at_smsc(smsc: SmscProcess, destination: str) -> Accepted:
    found: list[Accepted] = eventually(
        lambda: [a for a in smsc.accepted() if a.destination == destination],
        20,
        f"a submit_sm to {destination}",
    )
    assert len(found) == 1, found
    return found[0]


def balance(gw: ServerProcess, account: Account) -> int:
    rows = gw.cli_json("accounts", "list")
    return int(next(a["balance"] for a in rows if a["client_id"] == account.client_id))


def test_the_carrier_sees_each_messages_sender_with_its_ton_and_npi(
    gw: ServerProcess, smsc: SmscProcess
) -> None:
    gw.cli_json(
        "connectors", "add", "sim", "--host", "127.0.0.1", "--port", str(smsc.port),
        "--system-id", smsc.system_id, "--password", smsc.password, "--tps", "0",
        "--source-addr", "88000",
    )  # fmt: skip
    gw.cli_json("routes", "add", "--default", "--connector", "sim")
    bank = gw.create_account(credits=100, name="Banco")
    plain = gw.create_account(credits=100, name="Sin remitentes")
    gw.cli_json("senders", "add", bank.client_id, "Banco XYZ")  # the first: its default
    gw.cli_json("senders", "add", bank.client_id, "2020")
    gw.cli_json("senders", "add", bank.client_id, "04141112233")

    sent = rest(gw, bank, "POST", "/v1/messages",
                json={"to": "04141230001", "text": "Clave 1", "from": "2020"})  # fmt: skip
    assert sent.status_code == 202, sent.text
    message_id = sent.json()["messages"][0]["id"]
    batch = rest(gw, bank, "POST", "/v1/messages/batch", json={
        "from": "+58 414 111 2233",
        "messages": [{"to": "04141230002", "text": "Uno"}, {"to": "04141230003", "text": "Dos"}],
    })  # fmt: skip
    assert batch.status_code == 202, batch.text
    default = rest(gw, bank, "POST", "/v1/messages", json={"to": "04141230004", "text": "Hola"})
    assert default.status_code == 202, default.text
    compat_id = compat_send(gw, bank, "04141230005")
    unbranded_id = compat_send(gw, plain, "04141230006")

    observed = {
        n: (a.source_ton, a.source_npi, a.source)
        for n in (
            "584141230001",
            "584141230002",
            "584141230003",
            "584141230004",
            "584141230005",
            "584141230006",
        )
        for a in [at_smsc(smsc, n)]
    }
    assert observed == {
        "584141230001": (3, 0, "2020"),  # short code
        "584141230002": (1, 1, "584141112233"),  # international number
        "584141230003": (1, 1, "584141112233"),
        "584141230004": (5, 0, "Banco XYZ"),  # REST without "from": the default
        "584141230005": (5, 0, "Banco XYZ"),  # the compat API: the default
        "584141230006": (0, 1, "88000"),  # no sender IDs: the connector's own address
    }

    shown = rest(gw, bank, "GET", f"/v1/messages/{message_id}").json()
    assert shown["from"] == "2020"
    assert gw.cli_json("messages", "show", compat_id)["sender"] == "Banco XYZ"
    assert gw.cli_json("messages", "show", unbranded_id)["sender"] is None


def test_a_sender_not_granted_is_refused_and_not_charged(gw: ServerProcess) -> None:
    bank = gw.create_account(credits=100, name="Banco")
    other = gw.create_account(credits=100, name="Otro banco")
    gw.cli_json("senders", "add", other.client_id, "OtroBanco")
    before = balance(gw, bank)
    for body in (
        {"to": "04141230001", "text": "x", "from": "OtroBanco"},  # another account's
        {"to": "04141230001", "text": "x", "from": "Nombre demasiado largo"},  # not valid
        {"to": "04141230001", "text": "x", "from": "2020"},
    ):
        refused = rest(gw, bank, "POST", "/v1/messages", json=body)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert problem["code"] == "sender_not_granted"
        assert "remitente" in problem["detail"]
    batch = rest(gw, bank, "POST", "/v1/messages/batch", json={
        "from": "OtroBanco", "messages": [{"to": "04141230001", "text": "x"}],
    })  # fmt: skip
    assert batch.json()["code"] == "sender_not_granted"
    wrong_type = rest(gw, bank, "POST", "/v1/messages",
                      json={"to": "04141230001", "text": "x", "from": 2020})  # fmt: skip
    assert wrong_type.json()["code"] == "validation_error"
    assert balance(gw, bank) == before


def test_routes_that_refuse_alphanumeric_senders_are_skipped_for_them(gw: ServerProcess) -> None:
    gw.cli_json("connectors", "add", "numeric", "--type", "sandbox", "--dlr-delay", "0")
    gw.cli_json("connectors", "add", "names", "--type", "sandbox", "--dlr-delay", "0")
    route = gw.cli_json("routes", "add", "--default", "--connector", "numeric", "--no-alphanumeric")
    assert route["allow_alphanumeric"] is False
    bank = gw.create_account(credits=100, name="Banco")
    gw.cli_json("senders", "add", bank.client_id, "Banco")
    gw.cli_json("senders", "add", bank.client_id, "2020")

    def send(sender: str, number: str) -> str:
        answer = rest(gw, bank, "POST", "/v1/messages",
                      json={"to": number, "text": "x", "from": sender})  # fmt: skip
        assert answer.status_code == 202, answer.text
        return str(answer.json()["messages"][0]["id"])

    def settled(message_id: str) -> dict[str, Any]:
        shown: dict[str, Any] = eventually(
            lambda: (m := gw.cli_json("messages", "show", message_id))["status"] != "queued" and m,
            20,
            f"message {message_id} to leave the queue",
        )
        return shown

    # Only a route that refuses names: the named message fails, refunded; digits go.
    eventually(
        lambda: gw.cli_json("connectors", "status")["connectors"], 10, "the connectors to start"
    )
    before = balance(gw, bank)
    failed = settled(send("Banco", "04141230001"))
    assert (failed["status"], failed["connector"]) == ("failed", None)
    assert "alphanumeric" in failed["error"]
    assert balance(gw, bank) == before
    numeric = settled(send("2020", "04141230002"))
    assert numeric["connector"] == "numeric"

    # A second route that carries names: they take it, digits keep the first.
    gw.cli_json("routes", "add", "--default", "--connector", "names", "--priority", "5")
    time.sleep(0.6)  # three reloads of the route table (CENTAURO_RELOAD_SECONDS=0.2)
    assert settled(send("Banco", "04141230003"))["connector"] == "names"
    assert settled(send("2020", "04141230004"))["connector"] == "numeric"
