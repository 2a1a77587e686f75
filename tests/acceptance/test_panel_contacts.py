"""A customer's contact lists in the panel, against real ``centauro serve`` processes:
create, import a spreadsheet's CSV, export and import the export into a new list with the
same file back, edit and remove contacts, opted-out numbers marked — and another account's
list and contact ids a 404 on every URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from centauro.service import panel_auth
from tests.support.panel import Panel, csrf_of, ready_user
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account

SHEET = (
    "\ufeffCelular;Nombre;Ciudad;Nota\r\n"
    '0414-765.43.21;"Gómez, Luz ""la jefa""";Barquisimeto;"una\r\ndos"\r\n'
    "+57 310 765 4321;Óscar;Cali;=SUM(A1)\r\n"
    "0212 555 1212;Fijo;Caracas;\r\n"
).encode()


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


def customer_of(gw: Gateway) -> Customer:
    account = gw.account(20)
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    return Customer(account, Panel(gw.url).signed_in(email))


@pytest.fixture
def customer(gw: Gateway) -> Iterator[Customer]:
    made = customer_of(gw)
    yield made
    made.panel.close()


def new_list(panel: Panel, name: str) -> str:
    answer = panel.post_form("/panel/contacts", {"name": name})
    assert answer.status_code == 303, answer.text
    match = re.fullmatch(r"/panel/contacts/(\d+)", answer.headers["location"])
    assert match, answer.headers["location"]
    return match.group(1)


def upload(panel: Panel, list_id: str, data: bytes) -> str:
    page = panel.get(f"/panel/contacts/{list_id}")
    answer = panel.http.post(
        f"/panel/contacts/{list_id}/import",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("hoja.csv", data, "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def test_import_export_reimport_edit_and_remove(gw: Gateway, customer: Customer) -> None:
    panel = customer.panel
    first = new_list(panel, "Vendedores")
    shown = upload(panel, first, SHEET)
    assert "2 nuevos, 0 actualizados, 1 rechazados" in shown
    assert "no es un celular válido" in shown
    assert "Gómez, Luz &#34;la jefa&#34;" in shown
    assert "=SUM(A1)" in shown
    exported = panel.get(f"/panel/contacts/{first}/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbfnumero,nombre,Ciudad,Nota\r\n")
    assert b"'=SUM(A1)" in exported.content  # a spreadsheet will not run it

    second = new_list(panel, "Copia de vendedores")
    assert "2 nuevos, 0 actualizados, 0 rechazados" in upload(panel, second, exported.content)
    assert panel.get(f"/panel/contacts/{second}/export").content == exported.content

    page = panel.get(f"/panel/contacts/{second}").text
    edit = re.search(rf'href="(/panel/contacts/{second}/c/\d+)"', page)
    assert edit
    form = panel.get(edit.group(1))
    assert form.status_code == 200
    assert "+584147654321" in form.text
    saved = panel.http.post(
        edit.group(1),
        data={
            "csrf": csrf_of(form.text),
            "number": "0414 765 43 21",
            "name": "Luz Gómez",
            "v0": "Barquisimeto",
            "v1": "  con espacios  ",
            "k_new": "Cargo",
            "v_new": "gerente",
        },
    )
    assert saved.status_code == 303, saved.text
    after = panel.get(f"/panel/contacts/{second}/export").content.decode("utf-8-sig")
    assert after.splitlines()[0] == "numero,nombre,Ciudad,Nota,Cargo"
    assert "+584147654321,Luz Gómez,Barquisimeto,  con espacios  ,gerente" in after

    removed = panel.post_form(f"{edit.group(1)}", {}, action=f"{edit.group(1)}/delete")
    assert removed.status_code == 303
    assert "+584147654321" not in panel.get(f"/panel/contacts/{second}").text


def test_opted_out_numbers_are_marked(gw: Gateway, customer: Customer) -> None:
    list_id = new_list(customer.panel, "Con bajas")
    upload(customer.panel, list_id, b"numero\n04161230001\n04161230002\n")
    answer = gw.http.post(
        "/v1/suppressions",
        json={"number": "04161230002"},
        auth=(customer.account.client_id, customer.account.client_secret),
    )
    assert answer.status_code == 201
    page = customer.panel.get(f"/panel/contacts/{list_id}").text
    rows = re.findall(r"<td>(\+58\d+)( <strong class=\"optout\">Baja</strong>)?</td>", page)
    assert rows == [
        ("+584161230001", ""),
        ("+584161230002", ' <strong class="optout">Baja</strong>'),
    ]


def test_refusals_are_spanish_pages(gw: Gateway, customer: Customer) -> None:
    panel = customer.panel
    list_id = new_list(panel, "Errores")
    twice = panel.post_form("/panel/contacts", {"name": "Errores"})
    assert twice.status_code == 422
    assert "Ya existe una lista llamada «Errores»" in twice.text
    bad = upload_status(panel, list_id, b"nombre\nAna\n")
    assert bad[0] == 422
    assert "no tiene una columna «numero»" in bad[1]
    no_file = panel.post_form(
        f"/panel/contacts/{list_id}", {}, action=f"/panel/contacts/{list_id}/import"
    )
    assert no_file.status_code == 422
    assert "Elija un archivo CSV" in no_file.text
    forged = panel.http.post(
        f"/panel/contacts/{list_id}/import",
        data={"csrf": "x"},
        files={"file": ("a.csv", b"numero\n04141234567\n", "text/csv")},
    )
    assert forged.status_code == 403
    add = panel.post_form(
        f"/panel/contacts/{list_id}", {"number": "123"}, action=f"/panel/contacts/{list_id}/add"
    )
    assert add.status_code == 422
    assert "«123» no es un celular válido" in add.text
    assert "0 contacto(s)" in panel.get(f"/panel/contacts/{list_id}").text


def upload_status(panel: Panel, list_id: str, data: bytes) -> tuple[int, str]:
    page = panel.get(f"/panel/contacts/{list_id}")
    answer = panel.http.post(
        f"/panel/contacts/{list_id}/import",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("hoja.csv", data, "text/csv")},
    )
    return answer.status_code, answer.text


def test_another_accounts_ids_are_404_and_operators_403(gw: Gateway, customer: Customer) -> None:
    list_id = new_list(customer.panel, "Privada")
    upload(customer.panel, list_id, b"numero\n04141112233\n")
    page = customer.panel.get(f"/panel/contacts/{list_id}").text
    found = re.search(rf'href="/panel/contacts/{list_id}/c/(\d+)"', page)
    assert found
    contact = found.group(1)
    base, one = f"/panel/contacts/{list_id}", f"/panel/contacts/{list_id}/c/{contact}"
    stranger = customer_of(gw)
    try:
        token = csrf_of(stranger.panel.get("/panel/contacts").text)
        for path in (base, f"{base}/export", one):
            assert stranger.panel.get(path).status_code == 404, path
        for path in (f"{base}/rename", f"{base}/delete", f"{base}/add", one, f"{one}/delete"):
            answer = stranger.panel.http.post(
                path, data={"csrf": token, "name": "mía", "number": "04141112233"}
            )
            assert answer.status_code == 404, path
        imported = stranger.panel.http.post(
            f"{base}/import",
            data={"csrf": token},
            files={"file": ("a.csv", b"numero\n04241112233\n", "text/csv")},
        )
        assert imported.status_code == 404
        assert "Privada" not in stranger.panel.get("/panel/contacts").text
    finally:
        stranger.panel.close()
    assert "1 contacto(s)" in customer.panel.get(base).text
    operator = Panel(gw.url).signed_in(ready_user(gw.url, gw.db))
    try:
        assert operator.get("/panel/contacts").status_code == 403
        assert operator.get(base).status_code == 403
    finally:
        operator.close()
