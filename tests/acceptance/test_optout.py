"""Opt-out end to end: a handset answers BAJA through a real SMSC, its sender is suppressed.

One gateway per store (``centauro serve``), bound over SMPP to a ``centauro smsc-sim``
that injects the handsets' answers (MO), serves the whole module; every test takes fresh
accounts and numbers of its own. Sends go through the compat API as PHP builds them and
through ``POST /v1/messages``; the list is read and edited with ``/v1/suppressions``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from centauro.service import accounts as account_service
from centauro.store import inbound as inbound_store
from tests.support.php import ACCEPTED, Gateway, PhpClient, datos, running_gateway
from tests.support.server import Account
from tests.support.smsc import SmscProcess, start_smsc

T = TypeVar("T")
OPTED_OUT = "Rejected: opted out"
SHORT_CODE = "2222"
FAST = {"CENTAURO_RELOAD_SECONDS": "0.2", "CENTAURO_HEARTBEAT_SECONDS": "0.5"}
_numbers = itertools.count(1_000_000)


def fresh_number() -> str:
    """A VE mobile no other test of the module has texted ("0414" + 7 digits)."""
    return f"0414{next(_numbers):07d}"


def e164(national: str) -> str:
    return "+58" + national[1:]


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None or found is False:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return found


@dataclass
class Rest:
    """``/v1`` as one account, over the module's shared connection pool."""

    http: httpx.Client
    auth: tuple[str, str]

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(f"/v1{path}", auth=self.auth, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(f"/v1{path}", auth=self.auth, **kw)

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(f"/v1{path}", auth=self.auth)


@dataclass
class Setup:
    gw: Gateway
    smsc: SmscProcess

    def account(self, credits: int = 100) -> tuple[Account, PhpClient, Rest]:
        """A fresh account, its compat client and a REST client (``/v1``) for it."""
        account = self.gw.account(credits)
        rest = Rest(self.gw.http, (account.client_id, account.client_secret))
        return account, self.gw.client(account), rest

    def answer(self, number: str, text: str) -> None:
        """The handset ``number`` texts ``text`` to our short code, through the SMSC."""
        self.smsc.inject_mo(e164(number).lstrip("+"), SHORT_CODE, text)

    def ledger(self, account: Account) -> list[Any]:
        with self.gw.db.read() as conn:
            return account_service.ledger(conn, account.client_id, limit=1000)

    def inbound_from(self, number: str) -> list[inbound_store.InboundRow]:
        with self.gw.db.read() as conn:
            return inbound_store.listing(conn, sender=e164(number))


def suppressed(rest: Rest) -> dict[str, dict[str, Any]]:
    response = rest.get("/suppressions", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return {row["number"]: row for row in response.json()["data"]}


def wait_suppressed(rest: Rest, number: str, present: bool = True) -> None:
    eventually(lambda: (e164(number) in suppressed(rest)) is present, f"{number} listed={present}")


def send_one(client: PhpClient, number: str, text: str = "Oferta de temporada") -> dict[str, str]:
    [row] = datos(client.send([number], text))
    return row


def connect(gw: Gateway, smsc: SmscProcess) -> None:
    cli = gw.server.cli_json
    cli(
        "connectors", "add", "sim", "--host", "127.0.0.1", "--port", str(smsc.port),
        "--system-id", smsc.system_id, "--password", smsc.password,
        "--reconnect-min", "0.1", "--reconnect-max", "0.5",
    )  # fmt: skip
    cli("routes", "add", "--default", "--connector", "sim")
    eventually(
        lambda: any(
            c["name"] == "sim" and c["state"] == "up"
            for c in cli("connectors", "status")["connectors"]
        ),
        "the SMPP bind",
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    smsc = start_smsc(tmp_path_factory.mktemp("smsc"), dlr_delay=0)
    try:
        with running_gateway(request.param, tmp_path_factory, env=FAST) as gw:
            connect(gw, smsc)
            yield Setup(gw, smsc)
    finally:
        smsc.stop()


@pytest.mark.parametrize("word", ["BAJA", " baja ", "No Más", "Stop."])
def test_an_opt_out_answer_suppresses_the_sender_for_that_account_only(
    setup: Setup, word: str
) -> None:
    shop, shop_php, shop_rest = setup.account()
    _other, other_php, other_rest = setup.account()
    number = fresh_number()
    assert send_one(shop_php, number)["StatusText"] == ACCEPTED

    setup.answer(number, word)
    wait_suppressed(shop_rest, number)
    entry = suppressed(shop_rest)[e164(number)]
    assert entry["source"] == "inbound"
    [mo] = setup.inbound_from(number)
    assert (mo.text, mo.account_id) == (word, _account_id(setup, shop))

    # The shop may no longer text it: rejected at no cost, nothing in the ledger.
    balance, ledger = shop_php.balance(), setup.ledger(shop)
    row = send_one(shop_php, number)
    assert (row["StatusText"], row["Messageid"], row["Cel"]) == (OPTED_OUT, "", number[1:])
    assert shop_php.balance() == balance
    assert setup.ledger(shop) == ledger

    # Another account's list is its own: it still texts the number, and is charged.
    assert suppressed(other_rest) == {}
    assert send_one(other_php, number)["StatusText"] == ACCEPTED
    assert other_php.balance() == 99


def test_the_rest_api_rejects_a_suppressed_number_for_free(setup: Setup) -> None:
    _shop, shop_php, shop_rest = setup.account()
    number, fine = fresh_number(), fresh_number()
    send_one(shop_php, number)
    setup.answer(number, "BAJA")
    wait_suppressed(shop_rest, number)
    before = shop_php.balance()

    response = shop_rest.post("/messages", json={"to": [number, fine], "text": "Hola"})
    if response.status_code == 404:
        pytest.skip("POST /v1/messages is not there yet")
    assert response.status_code == 202, response.text
    body = response.json()
    [out, ok] = body["messages"]
    assert (out["id"], out["to"], out["status"], out["error"], out["cost"]) == (
        None, e164(number), "rejected", "opted_out", 0,
    )  # fmt: skip
    assert (ok["status"], ok["cost"]) == ("queued", 1)
    assert (body["cost"], body["balance"]) == (1, before - 1)
    assert shop_php.balance() == before - 1


def test_an_opt_out_withdraws_what_was_scheduled_for_later(setup: Setup) -> None:
    """A campaign scheduled before the BAJA must not reach the handset after it."""
    shop, shop_php, shop_rest = setup.account()
    number, by_hand = fresh_number(), fresh_number()
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = shop_rest.post(
        "/messages", json={"to": [number, by_hand], "text": "2x1", "schedule_at": later}
    )
    if response.status_code == 404:
        pytest.skip("POST /v1/messages is not there yet")
    assert response.status_code == 202, response.text
    held = {m["to"]: m["id"] for m in response.json()["messages"]}
    assert shop_php.balance() == 98

    setup.answer(number, "BAJA")  # the scheduled message makes the shop its last sender
    wait_suppressed(shop_rest, number)
    withdrawn = shop_rest.get(f"/messages/{held[e164(number)]}").json()
    assert (withdrawn["status"], withdrawn["error"], withdrawn["sent_at"]) == (
        "cancelled", "opted_out", None,
    )  # fmt: skip
    assert shop_php.balance() == 99  # refunded

    assert shop_rest.post("/suppressions", json={"number": by_hand}).status_code == 201
    assert shop_rest.get(f"/messages/{held[e164(by_hand)]}").json()["status"] == "cancelled"
    assert shop_php.balance() == 100
    kinds = [e.kind for e in setup.ledger(shop)]
    assert kinds == ["refund", "refund", "charge", "topup"]


def test_alta_lifts_the_suppression(setup: Setup) -> None:
    _shop, shop_php, shop_rest = setup.account()
    number = fresh_number()
    send_one(shop_php, number)
    setup.answer(number, "BAJA")
    wait_suppressed(shop_rest, number)
    assert send_one(shop_php, number)["StatusText"] == OPTED_OUT

    setup.answer(number, " Alta ")
    wait_suppressed(shop_rest, number, present=False)
    assert send_one(shop_php, number)["StatusText"] == ACCEPTED


def test_an_answer_belongs_to_the_account_that_texted_last(setup: Setup) -> None:
    _first, first_php, first_rest = setup.account()
    _last, last_php, last_rest = setup.account()
    number = fresh_number()
    send_one(first_php, number)
    send_one(last_php, number)

    setup.answer(number, "SALIR")
    wait_suppressed(last_rest, number)
    assert e164(number) not in suppressed(first_rest)
    assert send_one(first_php, number)["StatusText"] == ACCEPTED


def test_an_answer_from_a_number_nobody_texted_is_kept_unattributed(setup: Setup) -> None:
    _shop, _, shop_rest = setup.account()
    stranger = fresh_number()
    setup.answer(stranger, "BAJA")
    [mo] = eventually(lambda: setup.inbound_from(stranger) or None, "the stranger's MO")
    assert (mo.sender, mo.recipient, mo.text, mo.account_id) == (
        e164(stranger), SHORT_CODE, "BAJA", None,
    )  # fmt: skip
    assert mo.connector == "sim"
    assert suppressed(shop_rest) == {}
    inbound = shop_rest.get("/inbound")
    assert inbound.status_code in (200, 404), inbound.text
    if inbound.status_code == 200:  # the account sees no answer that is not its own
        assert stranger not in {m["from"] for m in inbound.json()["data"]}


def test_an_answer_that_is_more_than_a_keyword_suppresses_nothing(setup: Setup) -> None:
    _shop, shop_php, shop_rest = setup.account()
    number = fresh_number()
    send_one(shop_php, number)
    setup.answer(number, "BAJA el precio por favor")
    eventually(lambda: setup.inbound_from(number) or None, "the MO")
    assert suppressed(shop_rest) == {}


def test_the_suppressions_api_lists_adds_and_lifts_numbers(setup: Setup) -> None:
    _shop, shop_php, shop_rest = setup.account()
    _, _, other_rest = setup.account()
    number = fresh_number()
    spaced = f"{number[:4]} {number[4:7]}-{number[7:]}"  # "0414 100-0001"

    created = shop_rest.post("/suppressions", json={"number": spaced})
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["number"], entry["source"]) == (e164(number), "api")
    again = shop_rest.post("/suppressions", json={"number": e164(number)})
    assert (again.status_code, again.json()) == (200, entry)  # the first entry, kept
    colombian = shop_rest.post("/suppressions", json={"number": "3001234567"})
    assert (colombian.status_code, colombian.json()["number"]) == (201, "+573001234567")
    invalid = shop_rest.post("/suppressions", json={"number": "0212 1234567"})
    assert (invalid.status_code, invalid.json()["code"]) == (422, "invalid_number")
    assert invalid.headers["content-type"] == "application/problem+json"

    # Number order, a page at a time; the last page says so.
    listed = shop_rest.get("/suppressions", params={"limit": 1}).json()
    assert [e["number"] for e in listed["data"]] == ["+573001234567"]
    rest_of_it = shop_rest.get(
        "/suppressions", params={"limit": 1, "cursor": listed["next_cursor"]}
    )
    assert rest_of_it.json() == {"data": [entry], "next_cursor": None}
    bad_cursor = shop_rest.get("/suppressions", params={"cursor": "not-ours"})
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (422, "invalid_request")

    # Sends from this account to it are refused; another account sees none of it.
    assert send_one(shop_php, number)["StatusText"] == OPTED_OUT
    assert other_rest.get("/suppressions").json() == {"data": [], "next_cursor": None}
    assert other_rest.delete(f"/suppressions/{number}").status_code == 404

    lifted = shop_rest.delete("/suppressions/%2B" + e164(number)[1:])
    assert (lifted.status_code, lifted.content) == (204, b"")
    gone = shop_rest.delete(f"/suppressions/{number}")
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")
    assert send_one(shop_php, number)["StatusText"] == ACCEPTED
    anonymous = httpx.get(f"{setup.gw.url}/v1/suppressions")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Basic realm="centauro"'


def _account_id(setup: Setup, account: Account) -> int:
    with setup.gw.db.read() as conn:
        return account_service.get(conn, account.client_id).id
