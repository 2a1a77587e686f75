"""A customer user's pages against real ``centauro serve`` processes: balance and ledger,
sending one SMS through the sandbox, API credentials — and never another account's data,
whatever id is put in a URL."""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from centauro.service import panel_auth
from tests.support.panel import Panel, csrf_of, ready_user, report_csv, shown
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account

_numbers = itertools.count(6_000_000)


def fresh() -> str:
    return f"0416{next(_numbers):07d}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


@dataclass
class Customer:
    account: Account
    panel: Panel


@pytest.fixture
def customer(gw: Gateway) -> Iterator[Customer]:
    account = gw.account(20)
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    panel = Panel(gw.url).signed_in(email)
    yield Customer(account, panel)
    panel.close()


def send_rest(gw: Gateway, account: Account, to: str) -> int:
    answer = gw.http.post(
        "/v1/messages",
        json={"to": to, "text": "de la API"},
        auth=(account.client_id, account.client_secret),
    )
    assert answer.status_code == 202, answer.text
    return int(answer.json()["messages"][0]["id"])


def test_balance_page_shows_the_account_and_its_ledger(gw: Gateway, customer: Customer) -> None:
    gw.topup(customer.account.client_id, 1234)
    home = customer.panel.get("/panel/")
    assert home.status_code == 200
    assert 'id="balance">1.254<' in home.text
    assert "recarga" in home.text
    assert "saldo inicial" in home.text


def test_send_one_sms_goes_through_the_sandbox_and_is_charged(
    gw: Gateway, customer: Customer
) -> None:
    answer = customer.panel.post_form(
        "/panel/send", {"number": "0414-555.12.12", "text": "Hola 😀 " + "a" * 70}
    )
    assert answer.status_code == 303, answer.text
    detail = answer.headers["location"]
    assert re.fullmatch(r"/panel/messages/\d+", detail)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        shown = customer.panel.get(detail).text
        if 'data-state="delivered">entregado<' in shown:
            break
        time.sleep(0.2)
    assert 'data-state="delivered">entregado<' in shown
    assert "+584145551212" in shown
    assert "ucs2 · 2 segmento(s)" in shown
    assert 'id="balance">18<' in customer.panel.get("/panel/").text


def test_send_refusals_are_spanish_and_charge_nothing(gw: Gateway, customer: Customer) -> None:
    gw.topup(customer.account.client_id, -15)
    for data, status, words in (
        ({"number": "12345", "text": "hola"}, 422, "no es un celular válido"),
        ({"number": "", "text": "hola"}, 422, "Escriba el número"),
        ({"number": fresh(), "text": ""}, 422, "vacío"),
        ({"number": fresh(), "text": "x" * 1601}, 422, "pasa de 1600"),
        ({"number": fresh(), "text": "ñ" * 1600}, 422, "demasiado largo"),
        ({"number": fresh(), "text": "x" * 153 * 10}, 402, "créditos suficientes"),
    ):
        answer = customer.panel.post_form("/panel/send", data)
        assert answer.status_code == status, data
        assert words in answer.text, data
    assert 'id="balance">5<' in customer.panel.get("/panel/").text


def test_credentials_page_rotates_the_secret_once(gw: Gateway, customer: Customer) -> None:
    page = customer.panel.get("/panel/credentials")
    assert customer.account.client_id in page.text
    rotated = customer.panel.post_form("/panel/credentials", {}, action="/panel/credentials/rotate")
    assert rotated.status_code == 200
    secret = shown(rotated.text, "client-secret")
    ok = gw.http.get("/v1/balance", auth=(customer.account.client_id, secret))
    assert ok.status_code == 200
    assert secret not in customer.panel.get("/panel/credentials").text


def test_a_customer_never_sees_another_accounts_data(gw: Gateway, customer: Customer) -> None:
    other = gw.account(50)
    theirs = send_rest(gw, other, fresh())
    mine = send_rest(gw, customer.account, fresh())
    panel = customer.panel
    token = csrf_of(panel.get("/panel/").text)
    for path in (
        "/panel/accounts",
        "/panel/accounts/new",
        f"/panel/accounts/{other.client_id}",
        f"/panel/accounts/{customer.account.client_id}",
    ):
        assert panel.get(path).status_code == 403, path
    for action in ("topup", "enabled", "rotate", "limits", "users"):
        answer = panel.http.post(
            f"/panel/accounts/{other.client_id}/{action}",
            data={"csrf": token, "amount": "1000", "enabled": "0", "email": "x@y.com"},
        )
        assert answer.status_code == 403, action
    assert panel.http.post("/panel/accounts", data={"csrf": token, "name": "x"}).status_code == 403
    assert panel.get(f"/panel/messages/{theirs}").status_code == 404
    assert panel.get(f"/panel/messages/{mine}").status_code == 200
    listing = panel.get("/panel/messages", params={"cuenta": other.client_id}).text
    assert f'href="/panel/messages/{mine}"' in listing
    assert f'href="/panel/messages/{theirs}"' not in listing
    rows = list(
        csv.DictReader(
            io.StringIO(panel.get("/panel/messages.csv", params={"cuenta": other.client_id}).text)
        )
    )
    assert {int(r["id"]) for r in rows} == {mine}
    assert gw.stored(other.client_id)  # the other account is untouched
    balance = gw.http.get("/v1/balance", auth=(other.client_id, other.client_secret))
    assert balance.json()["balance"] == 49


def test_reports_show_a_customer_its_own_days_only(gw: Gateway, customer: Customer) -> None:
    other = gw.account(20)
    mine = [send_rest(gw, customer.account, fresh()) for _ in range(2)]
    theirs = send_rest(gw, other, fresh())
    for mid in (*mine, theirs):
        gw.wait_for_status(mid, {"delivered"}, timeout=20)
    for params in ({}, {"cuenta": other.client_id}, {"account_id": "1"}):
        view = customer.panel.get("/panel/reports", params=params)
        assert view.status_code == 200
        assert 'id="by-day"' in view.text
        assert 'id="by-account"' not in view.text
        assert 'id="by-connector"' not in view.text
        assert other.client_id not in view.text
        days = report_csv(customer.panel, by="day", **params)
        assert sum(int(row[1]) for row in days[1:]) == 2  # accepted: its own two
        assert sum(int(row[2]) for row in days[1:]) == 2  # delivered
    for by in ("account", "connector"):
        refused = customer.panel.get("/panel/reports.csv", params={"by": by})
        assert refused.status_code == 403
        assert other.client_id not in refused.text
