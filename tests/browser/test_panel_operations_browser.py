"""The operator's and customer's operations pages in a real browser (Debian's chromium
through Playwright) against a real ``centauro serve``: the operator adds an SMPP connector
pointing at a real ``centauro smsc-sim`` and sees it bind, the dashboard refreshes its
counts without a reload, and a customer adds a webhook, sees its secret once and tests
it against a real receiver — with no page breaking its Content-Security-Policy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from centauro.service import panel_auth
from tests.browser.conftest import shot
from tests.support.panel import PASSWORD, ready_user
from tests.support.php import Gateway, running_gateway
from tests.support.smsc import start_smsc
from tests.support.webhook_receiver import receiving, signed_by

BIND_PASSWORD = "Pw4bind9"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    env = {"CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1"}
    with running_gateway("sqlite", tmp_path_factory, env=env) as gateway:
        yield gateway


@pytest.fixture
def page(browser_context: Any, gw: Gateway) -> Iterator[Any]:
    """A fresh tab with no cookies; fails the test on any CSP violation or page error."""
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    yield tab
    tab.close()
    assert problems == []


def sign_in(page: Any, gw: Gateway, email: str) -> None:
    page.goto(f"{gw.url}/panel/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_operator_adds_a_connector_and_sees_it_bound(
    page: Any, gw: Gateway, tmp_path: Path
) -> None:
    with start_smsc(tmp_path, password=BIND_PASSWORD, dlr_delay=0) as smsc:
        sign_in(page, gw, ready_user(gw.url, gw.db))
        page.click("nav >> text=Conexiones")
        page.fill("#name", "movil-sim")
        page.select_option("#kind", "smpp")
        page.fill("#host", "127.0.0.1")
        page.fill("#port", str(smsc.port))
        page.fill("#system_id", smsc.system_id)
        page.fill("#password", BIND_PASSWORD)
        page.click("button:has-text('Agregar conector')")
        assert page.locator("h1").inner_text() == "movil-sim"
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if page.locator("#state [data-state=up]").count() == 1:
                break
            time.sleep(0.5)
            page.reload()
        assert page.locator("#state").inner_text().startswith("conectada")
        assert page.locator("#password").input_value() == ""
        assert BIND_PASSWORD not in page.content()
        shot(page, "panel-connector")
        assert smsc.wait_for(lambda s: s["sessions"] >= 1)["sessions"] >= 1

        page.click("nav >> text=Conexiones")
        page.fill("#prefix", "58")
        page.select_option("#connector", "movil-sim")
        page.click("button:has-text('Agregar ruta')")
        assert "movil-sim" in page.locator("#routes").inner_text()

        page.click("nav >> text=Hoy")
        row = page.locator("#live-connectors tr", has_text="movil-sim")
        assert row.locator("[data-state=up]").count() == 1
        before = page.locator("#stat-accepted").inner_text()
        account = gw.account(10)
        # The server picks up a new route at its next reload (CENTAURO_RELOAD_SECONDS);
        # until then a send to it is refused uncharged with 503 "no route".
        deadline = time.monotonic() + 20
        while True:
            sent = gw.http.post(
                "/v1/messages",
                json={"to": "04141234567", "text": "en vivo"},
                auth=(account.client_id, account.client_secret),
            )
            if sent.status_code != 503 or time.monotonic() > deadline:
                break
            assert "no route" in sent.text, sent.text
            time.sleep(0.3)
        assert sent.status_code == 202, sent.text
        deadline = time.monotonic() + 20
        while page.locator("#stat-accepted").inner_text() == before:
            assert time.monotonic() < deadline, "the dashboard did not refresh"
            time.sleep(0.3)
        assert page.locator("[data-live]").get_attribute("data-updated")
        smsc.wait_for(lambda s: s["submit_accepted"] >= 1)


def test_a_customer_adds_a_webhook_and_tests_it(page: Any, gw: Gateway) -> None:
    account = gw.account(10)
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    with receiving() as receiver:
        sign_in(page, gw, email)
        page.click("nav >> text=Webhooks")
        page.fill("#url", receiver.url("/de-prueba"))
        page.click("button:has-text('Agregar webhook')")
        assert page.locator("h1").inner_text() == "Webhook creado"
        secret = page.locator("#webhook-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        page.click("text=Volver a los webhooks")
        assert receiver.url("/de-prueba") in page.locator("#webhooks").inner_text()
        assert secret not in page.content()
        page.click("#webhooks >> button:has-text('Probar')")
        receiver.wait_for(lambda r: len(r.on("/de-prueba")) == 1, what="the test delivery")
        got = receiver.on("/de-prueba")[0]
        assert got.json["event"] == "webhook.test"
        assert signed_by(got, secret)
        deadline = time.monotonic() + 20
        while page.locator("#deliveries [data-status=delivered]").count() == 0:
            assert time.monotonic() < deadline, "the delivery log did not show it"
            time.sleep(0.3)
            page.reload()
        assert "webhook.test" in page.locator("#deliveries").inner_text()


def test_the_new_pages_fit_a_phone_screen(page: Any, gw: Gateway) -> None:
    account = gw.account(10)
    customer = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    page.set_viewport_size({"width": 390, "height": 844})
    for email, paths in (
        (ready_user(gw.url, gw.db), ("/panel/connectors", "/panel/inbound",
                                      f"/panel/optouts?cuenta={account.client_id}",
                                      "/panel/deliveries")),
        (customer, ("/panel/webhooks", "/panel/optouts", "/panel/inbound", "/panel/contacts")),
    ):  # fmt: skip
        page.context.clear_cookies()
        sign_in(page, gw, email)
        for path in paths:
            page.goto(gw.url + path)
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, path
            assert page.locator("h1").count() == 1, path
            assert page.locator("nav").count() >= 1, path
