"""The operator's connector and route pages against a real ``centauro serve`` and a real
SMPP peer (``centauro smsc-sim``): a connector added in the panel binds, its password is
never sent back, an empty password field keeps the stored one, bad options are Spanish
422 pages, routes are added and removed, and customers get 403."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from centauro.service import carriers, panel_auth
from tests.support.panel import Panel, ready_user
from tests.support.php import Gateway, running_gateway
from tests.support.smsc import start_smsc

BIND_PASSWORD = "Zq7pW3x9"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


@pytest.fixture
def operator(gw: Gateway) -> Iterator[Panel]:
    panel = Panel(gw.url).signed_in(ready_user(gw.url, gw.db))
    yield panel
    panel.close()


def state_of(panel: Panel, name: str) -> str:
    html = panel.get(f"/panel/connectors/{name}").text
    found = re.search(r'id="state"><span[^>]*data-state="(\w+)"', html)
    assert found, html[:3000]
    return found.group(1)


def wait_state(panel: Panel, name: str, want: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        seen = state_of(panel, name)
        if seen == want:
            return
        time.sleep(0.5)
    raise AssertionError(f"{name} stayed {seen!r}, not {want!r}")


def stored_password(gw: Gateway, name: str) -> str:
    with gw.db.read() as conn:
        return str(carriers.get_connector(conn, name).settings.get("password", ""))


def test_added_connector_binds_and_its_password_never_comes_back(
    gw: Gateway, operator: Panel, tmp_path: Path
) -> None:
    name = f"sim{gw.kind[:2]}"
    with start_smsc(tmp_path, password=BIND_PASSWORD, dlr_delay=0) as smsc:
        added = operator.post_form(
            "/panel/connectors",
            {
                "name": name,
                "kind": "smpp",
                "host": "127.0.0.1",
                "port": str(smsc.port),
                "system_id": smsc.system_id,
                "password": BIND_PASSWORD,
                "window": "16",
                "tps": "50",
                "registered_delivery": "1",
                "bind_mode": "transceiver",
            },
        )
        assert added.status_code == 303, added.text
        assert added.headers["location"] == f"/panel/connectors/{name}"
        wait_state(operator, name, "up")
        for path in ("/panel/connectors", f"/panel/connectors/{name}"):
            assert BIND_PASSWORD not in operator.get(path).text
        assert "(guardada; vacío la conserva)" in operator.get(f"/panel/connectors/{name}").text

        edited = operator.post_form(
            f"/panel/connectors/{name}",
            {"host": "127.0.0.1", "port": str(smsc.port), "system_id": smsc.system_id,
             "password": "", "window": "8", "tps": "50", "registered_delivery": "1"},
        )  # fmt: skip
        assert edited.status_code == 200, edited.text
        assert "Conector actualizado" in edited.text
        assert BIND_PASSWORD not in edited.text
        assert stored_password(gw, name) == BIND_PASSWORD
        with gw.db.read() as conn:
            assert carriers.get_connector(conn, name).settings["window"] == 8
        wait_state(operator, name, "up")

        route = operator.post_form(
            "/panel/connectors",
            {"prefix": "+58 416", "connector": name, "priority": "1"},
            action="/panel/routes",
        )
        assert route.status_code == 303
        listing = operator.get("/panel/connectors").text
        assert re.search(rf"<td>58416</td><td>{name}</td>", listing)
        route_id = re.search(r'action="/panel/routes/(\d+)/remove"', listing)
        assert route_id
        removed = operator.post_form(
            "/panel/connectors", {}, action=f"/panel/routes/{route_id.group(1)}/remove"
        )
        assert removed.status_code == 303
        assert "<td>58416</td>" not in operator.get("/panel/connectors").text

        off = operator.post_form(
            f"/panel/connectors/{name}",
            {"enabled": "0"},
            action=f"/panel/connectors/{name}/enabled",
        )
        assert off.status_code == 303
        gone = operator.post_form(
            f"/panel/connectors/{name}", {}, action=f"/panel/connectors/{name}/remove"
        )
        assert gone.status_code == 303
        assert operator.get(f"/panel/connectors/{name}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"name": "Mayúsculas", "kind": "sandbox"}, 422, "Nombre: de 1 a 64 caracteres"),
        ({"name": "x1", "kind": "otro"}, 422, "Elija el tipo de conector"),
        ({"name": "x2", "kind": "smpp", "port": "dos"}, 422, "Puerto: escriba un número."),
        ({"name": "x3", "kind": "smpp", "host": "h"}, 422, "Opciones de conector no válidas"),
        ({"name": "x4", "kind": "sandbox", "dlr_delay": "-1"}, 422, "no válidas"),
    ],
)
def test_bad_connector_forms_are_spanish_pages(
    operator: Panel, fields: dict[str, str], status: int, says: str
) -> None:
    answer = operator.post_form("/panel/connectors", fields)
    assert answer.status_code == status, answer.text
    assert says in answer.text


def test_bad_routes_and_customers(gw: Gateway, operator: Panel) -> None:
    bad = operator.post_form(
        "/panel/connectors", {"prefix": "abc", "connector": "nada", "priority": "0"},
        action="/panel/routes",
    )  # fmt: skip
    assert bad.status_code == 422
    assert "Prefijo: hasta 15 dígitos" in bad.text
    account = gw.account(5)
    email = ready_user(gw.url, gw.db, role=panel_auth.CUSTOMER, client_id=account.client_id)
    customer = Panel(gw.url).signed_in(email)
    try:
        assert customer.get("/panel/connectors").status_code == 403
        assert customer.get("/panel/connectors/sandbox").status_code == 403
    finally:
        customer.close()
