"""Campaigns in a real browser (Debian's chromium through Playwright) against a real
``centauro serve`` with the sandbox: a 10,000-row CSV from upload to 100 % delivered with
the live progress bar; a double-clicked confirm charged once; pause and cancel with the
refund; bad files and templates answered in Spanish on the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from centauro.service import accounts as account_service
from centauro.service import panel_auth
from tests.browser.conftest import shot
from tests.support.contact_lists import make_list
from tests.support.panel import PASSWORD, ready_user
from tests.support.php import Gateway, running_gateway

FAST = {"CENTAURO_SANDBOX_DLR_DELAY": "0.1", "CENTAURO_RELOAD_SECONDS": "0.2"}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway("sqlite", tmp_path_factory, env=FAST) as gateway:
        yield gateway


@pytest.fixture
def page(browser_context: Any, gw: Gateway) -> Iterator[Any]:
    """A fresh tab; fails the test on any CSP violation or page error."""
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    yield tab
    tab.close()
    assert problems == []


def customer(page: Any, gw: Gateway, credits: int) -> str:
    account = gw.account(credits)
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    page.goto(f"{gw.url}/panel/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return account.client_id


def balance(gw: Gateway, client_id: str) -> int:
    with gw.db.read() as conn:
        return account_service.get(conn, client_id).balance


def upload(page: Any, gw: Gateway, name: str, data: bytes, filename: str = "clientes.csv") -> None:
    page.goto(f"{gw.url}/panel/campaigns/new")
    page.fill("#name", name)
    page.set_input_files("#file", {"name": filename, "mimeType": "text/csv", "buffer": data})
    page.click("button:has-text('Subir y continuar')")


def ten_thousand_rows() -> bytes:
    lines = ["Teléfono;Nombre;Ciudad"]
    lines += [f"0414{n:07d};Cliente {n};Caracas" for n in range(3_000_000, 3_010_000)]
    lines += ["0414;Malo;Caracas", "04143000000;Repetido;Caracas"]
    return ("\n".join(lines) + "\n").encode("cp1252")


def test_ten_thousand_rows_from_upload_to_all_delivered(page: Any, gw: Gateway) -> None:
    client_id = customer(page, gw, 20_000)
    page.click("nav >> text=Campañas")
    page.click("text=Nueva campaña")
    upload(page, gw, "Diez mil", ten_thousand_rows())
    assert page.url.endswith("/setup")
    assert page.locator("#number_column").input_value() == "Teléfono"
    assert page.locator("#name_column").input_value() == "Nombre"
    page.fill("#template", "Hola {nombre}, le saludamos desde {Ciudad}.")
    shot(page, "panel-campaign-setup")
    page.click("button:has-text('Ver vista previa')")
    assert page.locator("#accepted").inner_text() == "10.000 mensajes · 10.000 créditos"
    assert page.locator("#rejected").inner_text() == "2"
    problems = page.locator("#problems").inner_text()
    assert "número inválido" in problems
    assert "número repetido" in problems
    assert (
        "Hola Cliente 3000000, le saludamos desde Caracas." in page.locator("#sample").inner_text()
    )
    assert balance(gw, client_id) == 20_000
    shot(page, "panel-campaign-preview")
    page.click("#confirm")
    assert page.locator("#state").inner_text() in ("enviándose", "terminada")
    assert balance(gw, client_id) == 10_000
    # The page's own script polls and updates the bar, and reloads when the state moves.
    # "done" means every message left; the receipts come after, so it also waits for the
    # page to show none pending (the script keeps polling until then).
    deadline = time.monotonic() + 300
    while (
        page.locator("#state").get_attribute("data-state") != "done"
        or page.locator("#pending").inner_text() != "0"
    ):
        assert time.monotonic() < deadline, page.locator("#progress").inner_text()
        time.sleep(0.5)
    assert page.locator("#delivered").inner_text() == "10.000"
    assert page.locator("#percent").inner_text() == "100"
    assert page.locator("#bar").get_attribute("value") == "100"
    shot(page, "panel-campaign-done")
    with page.expect_download() as download:
        page.click("#report-csv")
    lines = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 10_001
    assert all(line.split(",")[3] == "entregado" for line in lines[1:])


def test_double_confirm_charges_once_then_pause_and_cancel_refund(page: Any, gw: Gateway) -> None:
    client_id = customer(page, gw, 100)
    rows = "celular,nombre\n" + "".join(f"0424{n:07d},C{n}\n" for n in range(4_000_000, 4_000_030))
    upload(page, gw, "Mañana", rows.encode())
    page.fill("#template", "Hola {nombre}")
    page.click("button:has-text('Ver vista previa')")
    assert page.locator("#cost").inner_text() == "30"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#schedule_at", tomorrow)
    page.dblclick("#confirm")
    page.wait_for_selector("#state[data-state=scheduled]")
    deadline = time.monotonic() + 10
    while balance(gw, client_id) != 70:  # the second click's request may still be running
        assert time.monotonic() < deadline, balance(gw, client_id)
        time.sleep(0.1)
    time.sleep(1)
    assert balance(gw, client_id) == 70  # charged once
    page.click("#pause")
    assert page.locator("#state").inner_text() == "en pausa"
    page.click("#cancel")
    assert page.locator("#state").inner_text() == "cancelada"
    assert page.locator("#refunded").inner_text() == "30 créditos"
    assert page.locator("#cancelled").inner_text() == "30"
    assert balance(gw, client_id) == 100
    page.click("nav >> text=Campañas")
    assert page.locator("tbody tr").count() == 1  # one campaign, not two


def test_bad_files_and_templates_are_answered_in_spanish_on_the_page(
    page: Any, gw: Gateway
) -> None:
    client_id = customer(page, gw, 100)
    upload(page, gw, "PDF", b"%PDF-1.4\x00\x00binario", "lista.pdf")
    assert "no es un CSV ni un XLSX" in page.locator(".alert.error").inner_text()
    upload(page, gw, "Campos", b"numero;nombre\n04141234567;Ana\n")
    page.fill("#template", "Hola {apellido}")
    page.click("button:has-text('Ver vista previa')")
    assert "{apellido} no existe" in page.locator(".alert.error").inner_text()
    assert page.locator("#template").input_value() == "Hola {apellido}"
    assert balance(gw, client_id) == 100


def test_an_operator_sees_every_campaign_read_only(page: Any, gw: Gateway) -> None:
    account = gw.account(50)
    rows = [{"tel": "04145550001", "nombre": "Ana"}]
    body = {"name": "De la API", "template": "Hola {nombre}", "number_column": "tel", "rows": rows}
    created = gw.http.post(
        "/v1/campaigns", json=body, auth=(account.client_id, account.client_secret)
    )
    assert created.status_code == 201, created.text
    email = ready_user(gw.url, gw.db)
    page.goto(f"{gw.url}/panel/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Campañas")
    page.click("text=De la API")
    assert page.locator("#state").inner_text() == "en borrador"
    assert page.locator("#confirm").count() == 0
    assert "Hola Ana" in page.locator("#sample").inner_text()


def test_a_campaign_from_a_contact_list_chosen_in_the_wizard(page: Any, gw: Gateway) -> None:
    """Choose a list in step 1; numero / nombre come chosen, the list's fields fill the
    template; the opted-out contact shows as left out, uncharged; delivered to the rest.
    Another account's list id slipped into the form is a Spanish 404 on the page."""
    stranger = gw.account(10)
    foreign = make_list(gw, stranger, "Ajena", "numero\n04145550100\n")
    account = gw.account(50)
    file = "numero,nombre,tienda\n04145550101,Ana,Chacao\n04245550102,Luis,Sabana Grande\n"
    file += "04165550103,Rosa,Altamira\n"
    list_id = make_list(gw, account, "VIP", file, opted_out=["04165550103"])
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    page.goto(f"{gw.url}/panel/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{gw.url}/panel/campaigns/new")
    assert page.locator("#list_id option").all_inner_texts() == ["VIP (3 contactos)"]
    page.fill("#list_name", "Ajena")  # another account's list: as if it did not exist
    page.eval_on_selector("#list_id option", f"o => {{ o.value = '{foreign}'; }}")
    page.click("button:has-text('Usar la lista y continuar')")
    assert "No existe esa lista de contactos." in page.locator("[role=alert]").inner_text()
    page.fill("#list_name", "Clientes VIP")
    page.select_option("#list_id", list_id)
    shot(page, "panel-campaign-from-list")
    page.click("button:has-text('Usar la lista y continuar')")
    assert page.url.endswith("/setup")
    assert page.locator("#number_column").input_value() == "numero"
    assert page.locator("#name_column").input_value() == "nombre"
    assert "{tienda}" in page.locator("form.card .counter").inner_text()
    page.fill("#template", "Hola {nombre}, le esperamos en {tienda}.")
    page.click("button:has-text('Ver vista previa')")
    assert page.locator("#accepted").inner_text() == "2 mensajes · 2 créditos"
    assert page.locator("#rejected").inner_text() == "1"
    assert "pidió no recibir mensajes" in page.locator("#problems").inner_text()
    assert "Hola Ana, le esperamos en Chacao." in page.locator("#sample").inner_text()
    page.click("#confirm")
    assert balance(gw, account.client_id) == 48
    deadline = time.monotonic() + 60
    # "terminada" once every message left; the receipts follow (the bar keeps polling).
    while (
        page.locator("#state").get_attribute("data-state") != "done"
        or page.locator("#delivered").inner_text() != "2"
    ):
        assert time.monotonic() < deadline, page.locator("#progress").inner_text()
        time.sleep(0.5)
    assert balance(gw, stranger.client_id) == 10
