"""Webhooks, opt-outs, inbound messages and the delivery log in the panel, against real
``centauro serve`` processes and a real HTTP receiver: a customer adds a webhook (secret
shown once), tests it and sees the signed delivery arrive and logged; keeps its opt-out
list; reads the inbound messages of its numbers — and another account's ids are 404."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from centauro.service import inbound, panel_auth
from centauro.service.inbound import Inbound
from tests.support.panel import Panel, ready_user, shown
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account
from tests.support.webhook_receiver import receiving, signed_by

ENV = {"CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1"}
_numbers = itertools.count(7_100_000)


def fresh() -> str:
    return f"0424{next(_numbers):07d}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory, env=ENV) as gateway:
        yield gateway


@dataclass
class Customer:
    account: Account
    panel: Panel


def customer_of(gw: Gateway) -> Customer:
    account = gw.account(20)
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    return Customer(account, Panel(gw.url).signed_in(email))


@pytest.fixture
def customer(gw: Gateway) -> Iterator[Customer]:
    made = customer_of(gw)
    yield made
    made.panel.close()


def test_webhook_added_tested_logged_and_removed(gw: Gateway, customer: Customer) -> None:
    panel = customer.panel
    with receiving() as receiver:
        added = panel.post_form("/panel/webhooks", {"url": receiver.url("/panel-hook")})
        assert added.status_code == 200, added.text
        secret = shown(added.text, "webhook-secret")
        assert secret.startswith("whsec_")
        listing = panel.get("/panel/webhooks").text
        assert receiver.url("/panel-hook") in listing
        assert secret not in listing
        hook = re.search(r'action="/panel/webhooks/(\d+)/test"', listing)
        assert hook
        tested = panel.post_form(
            "/panel/webhooks", {}, action=f"/panel/webhooks/{hook.group(1)}/test"
        )
        assert tested.status_code == 303
        receiver.wait_for(lambda r: len(r.on("/panel-hook")) >= 1, what="the test event")
        got = receiver.on("/panel-hook")[0]
        assert got.json["event"] == "webhook.test"
        assert signed_by(got, secret)
        deadline = time.monotonic() + 20
        log = ""
        while time.monotonic() < deadline:
            log = panel.get(f"/panel/webhooks/{hook.group(1)}").text
            if 'data-status="delivered"' in log:
                break
            time.sleep(0.3)
        assert 'data-status="delivered">entregada' in log
        assert "webhook.test" in log

        operator = Panel(gw.url).signed_in(ready_user(gw.url, gw.db))
        try:
            everything = operator.get("/panel/deliveries?estado=delivered").text
            assert receiver.url("/panel-hook") in everything
            assert (
                receiver.url("/panel-hook")
                not in operator.get("/panel/deliveries?estado=failed").text
            )
        finally:
            operator.close()

        stranger = customer_of(gw)
        try:
            assert stranger.panel.get(f"/panel/webhooks/{hook.group(1)}").status_code == 404
            for action in ("test", "remove"):
                answer = stranger.panel.post_form(
                    "/panel/webhooks", {}, action=f"/panel/webhooks/{hook.group(1)}/{action}"
                )
                assert answer.status_code == 404, action
            assert receiver.url("/panel-hook") not in stranger.panel.get("/panel/webhooks").text
        finally:
            stranger.panel.close()
        assert len(receiver.on("/panel-hook")) == 1

        removed = panel.post_form(
            "/panel/webhooks", {}, action=f"/panel/webhooks/{hook.group(1)}/remove"
        )
        assert removed.status_code == 303
        assert receiver.url("/panel-hook") not in panel.get("/panel/webhooks").text


def test_webhook_refusals(customer: Customer) -> None:
    bad = customer.panel.post_form("/panel/webhooks", {"url": "ftp://ejemplo.com/x"})
    assert bad.status_code == 422
    assert "http:// o https://" in bad.text


def test_opt_out_list_for_the_customer_and_the_operator(gw: Gateway, customer: Customer) -> None:
    panel = customer.panel
    number = fresh()
    added = panel.post_form("/panel/optouts", {"number": number})
    assert added.status_code == 303
    page = panel.get("/panel/optouts").text
    e164 = "+58" + number[1:]
    assert f"<td>{e164}</td><td>panel</td>" in page
    sent = gw.http.post(
        "/v1/messages",
        json={"to": number, "text": "hola"},
        auth=(customer.account.client_id, customer.account.client_secret),
    )
    assert sent.json()["messages"][0]["status"] == "rejected"
    bad = panel.post_form("/panel/optouts", {"number": "123"})
    assert bad.status_code == 422
    assert "celular de Venezuela o Colombia" in bad.text
    lifted = panel.post_form("/panel/optouts", {"number": e164}, action="/panel/optouts/remove")
    assert lifted.status_code == 303
    assert e164 not in panel.get("/panel/optouts").text
    again = panel.post_form("/panel/optouts", {"number": e164}, action="/panel/optouts/remove")
    assert again.status_code == 404

    operator = Panel(gw.url).signed_in(ready_user(gw.url, gw.db))
    try:
        cid = customer.account.client_id
        done = operator.post_form(f"/panel/optouts?cuenta={cid}", {"cuenta": cid, "number": number})
        assert done.status_code == 303
        assert e164 in operator.get(f"/panel/optouts?cuenta={cid}").text
        assert e164 in panel.get("/panel/optouts").text
        assert operator.get("/panel/optouts?cuenta=no-existe").status_code == 404
    finally:
        operator.close()


def test_inbound_shows_only_the_accounts_own_numbers(gw: Gateway, customer: Customer) -> None:
    mine, theirs = fresh(), fresh()
    other = gw.account(5)
    for account, number in ((customer.account, mine), (other, theirs)):
        answer = gw.http.post(
            "/v1/messages",
            json={"to": number, "text": "¿viene mañana?"},
            auth=(account.client_id, account.client_secret),
        )
        assert answer.status_code == 202, answer.text
    at = datetime.now(UTC)
    with gw.db.begin() as conn:
        for number, text in ((mine, "Sí, voy"), (theirs, "respuesta ajena")):
            inbound.receive(conn, [Inbound("sandbox", "+58" + number[1:], "2000", text, at)], at)
    page = customer.panel.get("/panel/inbound").text
    assert "Sí, voy" in page
    assert "respuesta ajena" not in page
    assert (
        "respuesta ajena" not in customer.panel.get(f"/panel/inbound?cuenta={other.client_id}").text
    )
    search = customer.panel.get(f"/panel/inbound?numero={mine}").text
    assert "Sí, voy" in search
    assert customer.panel.get("/panel/inbound?numero=12").status_code == 422
    operator = Panel(gw.url).signed_in(ready_user(gw.url, gw.db))
    try:
        everything = operator.get("/panel/inbound").text
        assert "Sí, voy" in everything
        assert "respuesta ajena" in everything
        assert operator.get("/panel/webhooks").status_code == 403
        assert customer.panel.get("/panel/deliveries").status_code == 403
    finally:
        operator.close()
