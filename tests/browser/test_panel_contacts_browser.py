"""Contact lists in a real browser (Debian's chromium through Playwright) against a real
``centauro serve``: a customer imports a spreadsheet's CSV, downloads the export, imports
that into a second list with the same file back, edits a contact — on a phone-size screen
too, with no page breaking its Content-Security-Policy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from centauro.service import panel_auth
from tests.browser.conftest import shot
from tests.support.panel import PASSWORD, ready_user
from tests.support.php import Gateway

SHEET = (
    "Número;Nombre;Ciudad;Nota\r\n"
    '0414-222.33.44;"Rivas, Carmen ""Mela""";Mérida;"primera\r\nsegunda"\r\n'
    "+57 311 222 3344;Julián;Pasto;@arroba\r\n"
    "0212 555 0000;Oficina;Caracas;\r\n"
).encode("cp1252")


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


def sign_in_customer(page: Any, gw: Gateway) -> None:
    account = gw.account(10)
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    page.goto(f"{gw.url}/panel/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def create_list(page: Any, name: str) -> None:
    page.click("nav >> text=Contactos")
    page.fill("#name", name)
    page.click("button:has-text('Crear lista')")
    assert page.locator("h1").inner_text() == name


def import_file(page: Any, path: Path) -> str:
    page.set_input_files("#file", str(path))
    page.click("button:has-text('Importar')")
    return str(page.locator("[role=status]").inner_text())


def test_import_download_reimport_and_edit(page: Any, gw: Gateway, tmp_path: Path) -> None:
    sign_in_customer(page, gw)
    create_list(page, "Clientes de Mérida")
    sheet = tmp_path / "hoja.csv"
    sheet.write_bytes(SHEET)
    assert "2 nuevos, 0 actualizados, 1 rechazados" in import_file(page, sheet)
    assert "no es un celular válido" in page.locator("#rejected").inner_text()
    table = page.locator("#contacts").inner_text()
    assert 'Rivas, Carmen "Mela"' in table
    assert "@arroba" in table
    shot(page, "panel-contacts")
    with page.expect_download() as info:
        page.click("#export")
    first = tmp_path / "exportada.csv"
    info.value.save_as(str(first))
    assert first.read_bytes().startswith(b"\xef\xbb\xbfnumero,nombre,Ciudad,Nota\r\n")

    create_list(page, "Copia")
    assert "2 nuevos, 0 actualizados, 0 rechazados" in import_file(page, first)
    with page.expect_download() as info:
        page.click("#export")
    second = tmp_path / "copia.csv"
    info.value.save_as(str(second))
    assert second.read_bytes() == first.read_bytes()

    page.click("#contacts >> text=Editar >> nth=1")
    assert page.locator("#number").input_value() == "+573112223344"
    page.fill("#name", "Julián Andrés")
    page.fill("#v0", "San Juan de Pasto")
    page.click("button:has-text('Guardar')")
    assert "Julián Andrés" in page.locator("#contacts").inner_text()
    assert "San Juan de Pasto" in page.locator("#contacts").inner_text()
    assert re.search(r"/panel/contacts/\d+$", page.url)


def test_contact_pages_fit_a_phone_screen(page: Any, gw: Gateway, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_customer(page, gw)
    create_list(page, "En el teléfono")
    sheet = tmp_path / "hoja.csv"
    sheet.write_bytes(SHEET)
    import_file(page, sheet)
    for _ in range(2):
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, page.url
        assert page.locator("nav").count() == 1
        assert page.locator("h1").count() == 1
        page.click("nav >> text=Contactos")
