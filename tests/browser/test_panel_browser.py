"""The panel in a real browser (Debian's chromium through Playwright) against a real
``centauro serve``: sign-in and lockout, create an account and top it up, a customer
sending one SMS through the sandbox with the live counter, message search, another
account's URLs, a phone-size screen, CSRF and a tampered cookie — and no page breaks
its own Content-Security-Policy."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from centauro.service import panel_auth
from tests.browser.conftest import shot
from tests.support.panel import PASSWORD, ready_user
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account


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


def sign_in(page: Any, gw: Gateway, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{gw.url}/panel/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def operator(gw: Gateway) -> str:
    return ready_user(gw.url, gw.db)


@pytest.fixture
def own_gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A server of its own: a lockout also locks the browser's address (127.0.0.1)."""
    with running_gateway("sqlite", tmp_path_factory) as gateway:
        yield gateway


def test_sign_in_shows_the_dashboard_and_ten_failures_lock_out(page: Any, own_gw: Gateway) -> None:
    gw = own_gw
    email = operator(gw)
    page.goto(f"{gw.url}/panel/")
    assert page.url.endswith("/panel/sign-in")
    shot(page, "panel-sign-in")
    sign_in(page, gw, email)
    assert page.locator("h1").inner_text().startswith("Hoy")
    assert page.locator("svg.chart").count() == 1
    assert page.locator("#stat-accepted").count() == 1

    victim = operator(gw)
    page.context.clear_cookies()
    for _ in range(10):
        sign_in(page, gw, victim, "no es la contraseña")
        assert "Correo o contraseña incorrectos" in page.locator("[role=alert]").inner_text()
    sign_in(page, gw, victim)
    assert "bloqueado 15 minutos" in page.locator("[role=alert]").inner_text()


def test_create_an_account_then_top_it_up(page: Any, gw: Gateway) -> None:
    sign_in(page, gw, operator(gw))
    page.click("text=Cuentas")
    page.click("text=Nueva cuenta")
    page.fill("#name", "Ferretería El Tornillo")
    page.fill("#credits", "250")
    page.select_option("#country", "VE")
    page.click("button:has-text('Crear cuenta')")
    assert page.locator("h1").inner_text() == "Cuenta creada"
    client_id = page.locator("#client-id").inner_text().strip()
    assert len(page.locator("#client-secret").inner_text().strip()) >= 20
    page.click("text=Ir a la cuenta")
    page.fill("#amount", "1.000")
    page.fill("#note", "pago móvil 0412")
    page.click("button:has-text('Recargar')")
    assert page.locator("#balance").inner_text() == "1.250"
    assert page.locator("text=pago móvil 0412").count() == 1
    shot(page, "panel-account")
    assert gw.stored(client_id) == {}


def test_a_customer_sends_one_sms_with_the_live_counter(page: Any, gw: Gateway) -> None:
    account = gw.account(30)
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    sign_in(page, gw, email)
    page.click("text=Enviar SMS")
    page.fill("#number", "0424 765 43 21")
    page.fill("#text", "a" * 320)
    assert "320 caracteres · GSM-7 · 3 segmentos" in page.locator("#counter").inner_text()
    assert page.locator("#counter-why").inner_text() == ""
    page.type("#text", " 😀")  # one emoji: 3 segments become 5
    counter = page.locator("#counter").inner_text()
    assert "Unicode (UCS-2) · 5 segmentos · costo: 5 créditos" in counter
    why = page.locator("#counter-why").inner_text()
    assert "😀" in why
    assert "Sin esos caracteres serían 3 segmentos en lugar de 5" in why
    page.fill("#text", "Su pedido 123 está listo 😀")
    shot(page, "panel-send")
    page.click("button:has-text('Enviar')")
    assert re.search(r"/panel/messages/\d+$", page.url)
    deadline = time.monotonic() + 20
    while page.locator("#status").inner_text() != "entregado" and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()
    assert page.locator("#status").inner_text() == "entregado"
    assert page.locator("#status").get_attribute("data-state") == "delivered"
    page.click("text=Saldo")
    assert page.locator("#balance").inner_text() == "29"


def account_that_sent(gw: Gateway, to: str, times: int) -> Account:
    """A new account that sent ``times`` messages to ``to`` through REST."""
    account = gw.account(30)
    for _ in range(times):
        gw.http.post(
            "/v1/messages",
            json={"to": to, "text": "hola"},
            auth=(account.client_id, account.client_secret),
        ).raise_for_status()
    return account


def test_message_search_finds_by_number_and_status(page: Any, gw: Gateway) -> None:
    account = account_that_sent(gw, "04141112233", 2)
    sign_in(page, gw, operator(gw))
    page.click("nav >> text=Mensajes")
    page.fill("#numero", "0414-111.22.33")
    page.fill("#cuenta", account.client_id)
    page.click("button:has-text('Buscar')")
    assert page.locator("tbody tr").count() == 2
    assert page.locator("text=+584141112233").count() == 2
    shot(page, "panel-messages")
    page.select_option("#estado", "failed")
    page.click("button:has-text('Buscar')")
    assert page.locator("text=No hay mensajes con esos filtros").count() == 1
    page.goto(f"{gw.url}/panel/")
    shot(page, "panel-dashboard")


def test_reports_show_the_period_chosen_with_a_chart_and_the_account(
    page: Any, gw: Gateway
) -> None:
    account = account_that_sent(gw, "04141112244", 3)
    sign_in(page, gw, operator(gw))
    page.click("nav >> text=Informes")
    page.click("text=7 días")
    assert page.locator("#by-day tbody tr").count() == 7
    assert page.locator("svg.chart").count() == 1
    row = page.locator("#by-account tr", has_text=account.client_id)
    assert row.locator("td.num").first.inner_text() == "3"
    shot(page, "panel-reports")
    row.locator("text=ver").click()
    assert page.locator("text=+584141112244").count() == 3


def test_a_customer_gets_403_or_404_on_another_accounts_urls(page: Any, gw: Gateway) -> None:
    mine, theirs = gw.account(10), gw.account(10)
    answer = gw.http.post(
        "/v1/messages",
        json={"to": "04145556677", "text": "privado"},
        auth=(theirs.client_id, theirs.client_secret),
    )
    their_message = answer.json()["messages"][0]["id"]
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=mine.client_id)
    sign_in(page, gw, email)
    assert page.goto(f"{gw.url}/panel/accounts/{theirs.client_id}").status == 403
    assert "No tiene permiso" in page.locator("[role=alert]").inner_text()
    assert page.goto(f"{gw.url}/panel/accounts").status == 403
    assert page.goto(f"{gw.url}/panel/reports.csv?by=account").status == 403
    assert page.goto(f"{gw.url}/panel/messages/{their_message}").status == 404
    page.goto(f"{gw.url}/panel/messages?cuenta={theirs.client_id}")
    assert page.locator("text=privado").count() == 0
    assert page.locator("text=+584145556677").count() == 0


@pytest.mark.parametrize(
    "path", ["/panel/sign-in", "/panel/", "/panel/messages", "/panel/send", "/panel/reports"]
)
def test_phone_screen_has_no_horizontal_scroll_and_has_the_landmarks(
    page: Any, gw: Gateway, path: str
) -> None:
    account = gw.account(10)
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    page.set_viewport_size({"width": 390, "height": 844})
    if path != "/panel/sign-in":
        sign_in(page, gw, email)
    page.goto(gw.url + path)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert page.locator("main").count() == 1
    assert page.locator("h1").count() == 1
    if path != "/panel/sign-in":
        assert page.locator("nav").count() == 1
        box = page.locator("main").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
    if path == "/panel/send":
        shot(page, "panel-phone")


def test_phone_screen_operator_pages_fit(page: Any, gw: Gateway) -> None:
    gw.account(10)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, gw, operator(gw))
    for path in ("/panel/", "/panel/accounts", "/panel/messages", "/panel/reports"):
        page.goto(gw.url + path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
        assert page.locator("nav").count() == 1
    page.goto(gw.url + "/panel/")
    shot(page, "panel-phone-dashboard")


def test_a_form_without_its_csrf_token_is_refused(page: Any, gw: Gateway) -> None:
    sign_in(page, gw, operator(gw))
    page.goto(f"{gw.url}/panel/accounts/new")
    page.evaluate("() => document.querySelector('main input[name=csrf]').remove()")
    page.fill("#name", "Sin token")
    page.click("button:has-text('Crear cuenta')")
    assert "El formulario venció o no es válido" in page.locator("[role=alert]").inner_text()
    page.goto(f"{gw.url}/panel/accounts")
    assert page.locator("text=Sin token").count() == 0


def test_a_tampered_session_cookie_sends_back_to_sign_in(page: Any, gw: Gateway) -> None:
    sign_in(page, gw, operator(gw))
    assert page.locator("h1").inner_text().startswith("Hoy")
    cookie = next(c for c in page.context.cookies() if c["name"] == "centauro_panel")
    token, _, mac = cookie["value"].rpartition(".")
    forged = {**cookie, "value": f"{token}.{'0' if mac[0] != '0' else '1'}{mac[1:]}"}
    page.context.add_cookies([forged])
    page.goto(f"{gw.url}/panel/")
    assert page.url.endswith("/panel/sign-in")
    assert page.locator("h1").inner_text() == "Iniciar sesión"


def test_the_operator_grants_sender_ids_and_messages_show_theirs(page: Any, gw: Gateway) -> None:
    account = gw.account(10)
    sign_in(page, gw, operator(gw))
    page.goto(f"{gw.url}/panel/accounts/{account.client_id}")
    assert page.locator("#no-senders").count() == 1
    page.fill("#sender-value", "Ferretería")  # í is not GSM-7
    page.click("button:has-text('Autorizar')")
    assert "Remitente:" in page.locator(".alert.error").inner_text()
    page.fill("#sender-value", "Tornillo")
    page.click("button:has-text('Autorizar')")
    page.fill("#sender-value", "2020")
    page.click("button:has-text('Autorizar')")
    rows = page.locator("#sender-list tbody tr")
    assert rows.count() == 2
    assert "sí" in rows.nth(0).inner_text()  # the first granted is the default
    assert "Tornillo" in rows.nth(0).inner_text()
    page.click("button[aria-label='Hacer predeterminado 2020']")
    assert "2020" in page.locator("#sender-list tbody tr").nth(0).inner_text()
    page.click("button[aria-label='Retirar Tornillo']")
    assert page.locator("#sender-list tbody tr").count() == 1
    shot(page, "panel-senders")

    sent = gw.http.post(
        f"{gw.url}/v1/messages",
        json={"to": "04247654321", "text": "Su pedido está listo"},
        auth=(account.client_id, account.client_secret),
    )
    assert sent.status_code == 202, sent.text
    page.goto(f"{gw.url}/panel/messages/{sent.json()['messages'][0]['id']}")
    assert page.locator("#sender").inner_text() == "2020"
