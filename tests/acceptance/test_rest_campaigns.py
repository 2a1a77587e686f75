"""``/v1/campaigns`` end to end: a real ``centauro serve`` per store, raw HTTP (httpx).

Upload → preview → confirm → delivered by the sandbox; a double confirm charges once;
pause and cancel refund what did not leave; bad files and templates are problems.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from centauro.service import accounts as account_service
from tests.support.contact_lists import make_list
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account

FAST = {"CENTAURO_SANDBOX_DLR_DELAY": "0.1", "CENTAURO_RELOAD_SECONDS": "0.2"}

CSV = (
    "Teléfono;Nombre;Ciudad;Deuda\n"
    "0414-123.45.67;Ana;Caracas;10\n"
    "(0424) 765 4321;Luis;Maracaibo;20\n"
    "0414 1234567;Ana otra vez;Caracas;10\n"
    "12345;Nadie;;\n"
    "\n"
    "+57 300 123 4567;Camila;Bogotá;30\n"
).encode("cp1252")  # as Excel saves a CSV on Windows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory, env=FAST) as gateway:
        yield gateway


def _auth(a: Account) -> tuple[str, str]:
    return (a.client_id, a.client_secret)


def upload(
    gw: Gateway, a: Account, data: bytes, name: str = "clientes.csv", **form: str
) -> httpx.Response:
    fields = {"name": "Promo", "template": "Hola {nombre}, su deuda es {deuda}.",
              "number_column": "teléfono", "name_column": "nombre", **form}  # fmt: skip
    return gw.http.post(
        "/v1/campaigns/upload", auth=_auth(a), data=fields, files={"file": (name, data)}
    )


def balance(gw: Gateway, a: Account) -> int:
    with gw.db.read() as conn:
        return account_service.get(conn, a.client_id).balance


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def until_delivered(gw: Gateway, a: Account, cid: str, count: int) -> dict[str, Any]:
    """The campaign once ``count`` of its messages are delivered (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        shown: dict[str, Any] = gw.http.get(f"/v1/campaigns/{cid}", auth=_auth(a)).json()
        if shown["progress"]["delivered"] == count:
            return shown
        assert time.monotonic() < deadline, shown
        time.sleep(0.2)


def test_an_uploaded_campaign_is_previewed_charged_once_and_delivered(gw: Gateway) -> None:
    a = gw.account(100)
    response = upload(gw, a, CSV)
    assert response.status_code == 201, response.text
    draft = response.json()
    assert (draft["state"], draft["total_rows"], draft["accepted"], draft["cost"]) == (
        "draft", 5, 3, 3,
    )  # fmt: skip
    assert draft["columns"] == ["Teléfono", "Nombre", "Ciudad", "Deuda"]
    assert draft["preview"]["sample"][0]["text"] == "Hola Ana, su deuda es 10."
    assert draft["preview"]["problem_counts"] == {"duplicate": 1, "invalid_number": 1}
    assert balance(gw, a) == 100
    cid = draft["id"]
    confirmed = gw.http.post(f"/v1/campaigns/{cid}/confirm", auth=_auth(a))
    assert confirmed.status_code == 200, confirmed.text
    again = gw.http.post(f"/v1/campaigns/{cid}/confirm", auth=_auth(a))
    assert "ya fue confirmada" in problem(again, 409, "conflict")["detail"]
    assert balance(gw, a) == 97
    shown = until_delivered(gw, a, cid, 3)
    assert (shown["state"], shown["progress"]["percent"]) == ("done", 100)
    report = gw.http.get(f"/v1/campaigns/{cid}/report", auth=_auth(a)).json()
    assert report["campaign"]["progress"]["counts"] == {"delivered": 3}
    got = gw.http.get(f"/v1/campaigns/{cid}/report.csv", auth=_auth(a))
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "numero", "nombre", "estado"]
    assert sorted((r[1], r[3]) for r in rows[1:]) == [
        ("+573001234567", "entregado"), ("+584141234567", "entregado"),
        ("+584247654321", "entregado"),
    ]  # fmt: skip
    listed = gw.http.get("/v1/campaigns", auth=_auth(a)).json()
    assert [c["id"] for c in listed["data"]] == [cid]


def test_json_rows_scheduled_then_paused_and_cancelled_are_refunded(gw: Gateway) -> None:
    a = gw.account(50)
    rows = [{"tel": f"0414{n:07d}", "nombre": f"N{n}"} for n in range(1000, 1020)]
    body = {"name": "Mañana", "template": "Hola {nombre}", "number_column": "tel", "rows": rows}
    created = gw.http.post("/v1/campaigns", auth=_auth(a), json=body)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    confirmed = gw.http.post(
        f"/v1/campaigns/{cid}/confirm", auth=_auth(a), json={"schedule_at": later}
    ).json()
    assert (confirmed["state"], confirmed["charged"]) == ("scheduled", 20)
    assert balance(gw, a) == 30
    paused = gw.http.post(f"/v1/campaigns/{cid}/pause", auth=_auth(a)).json()
    assert (paused["state"], paused["progress"]["counts"]) == ("paused", {"held": 20})
    problem(gw.http.post(f"/v1/campaigns/{cid}/pause", auth=_auth(a)), 409, "conflict")
    cancelled = gw.http.post(f"/v1/campaigns/{cid}/cancel", auth=_auth(a)).json()
    assert (cancelled["state"], cancelled["refunded"]) == ("cancelled", 20)
    assert balance(gw, a) == 50
    problem(gw.http.post(f"/v1/campaigns/{cid}/cancel", auth=_auth(a)), 409, "conflict")
    assert balance(gw, a) == 50
    other = gw.account(10)
    problem(gw.http.get(f"/v1/campaigns/{cid}", auth=_auth(other)), 404, "not_found")
    problem(gw.http.post(f"/v1/campaigns/{cid}/cancel", auth=_auth(other)), 404, "not_found")


def test_bad_files_and_templates_are_spanish_problems_and_nothing_is_charged(
    gw: Gateway,
) -> None:
    a = gw.account(100)
    not_csv = upload(gw, a, b"%PDF-1.4\x00\x00binary", "lista.pdf")
    assert "no es un CSV ni un XLSX" in problem(not_csv, 422, "unreadable_file")["detail"]
    unknown = upload(gw, a, CSV, template="Hola {apellido}")
    assert "{apellido} no existe" in problem(unknown, 422, "invalid_template")["detail"]
    wrong_column = upload(gw, a, CSV, number_column="celular")
    assert "celular" in problem(wrong_column, 422, "invalid_request")["detail"]
    # 12 MB: over the 10 MB of other bodies, under the uploads' own limit; refused by rows.
    huge = upload(gw, a, b"numero\n" + b"04141234567\n" * 1_000_001, "grande.csv")
    assert "más de 1.000.000 filas" in problem(huge, 413, "too_many_rows")["detail"]
    problem(gw.http.get("/v1/campaigns/abc", auth=_auth(a)), 404, "not_found")
    assert gw.http.get("/v1/campaigns", auth=_auth(a)).json()["data"] == []
    assert balance(gw, a) == 100


LIST_FILE = "numero;nombre;Ciudad\n0414-555.00.01;Ana;Caracas\n0424 555 0002;Luis;Maracaibo\n"
LIST_FILE += "0416 555 0003;Rosa;Valencia\n"


def contact_list(gw: Gateway, a: Account, name: str = "Clientes") -> str:
    """A list of three contacts, the third one opted out."""
    return make_list(gw, a, name, LIST_FILE, opted_out=["04165550003"])


def test_a_campaign_from_a_contact_list_skips_opted_out_and_is_delivered(gw: Gateway) -> None:
    a = gw.account(100)
    list_id = contact_list(gw, a)
    body = {"name": "Desde lista", "template": "Hola {nombre} de {ciudad}",
            "contact_list_id": list_id}  # fmt: skip
    created = gw.http.post("/v1/campaigns", auth=_auth(a), json=body)
    assert created.status_code == 201, created.text
    draft = created.json()
    assert (draft["source_format"], draft["source_name"]) == ("list", "Lista: Clientes")
    assert (draft["number_column"], draft["name_column"]) == ("numero", "nombre")
    assert draft["columns"] == ["numero", "nombre", "Ciudad"]
    assert (draft["total_rows"], draft["accepted"], draft["rejected"], draft["cost"]) == (
        3, 2, 1, 2,
    )  # fmt: skip
    assert draft["preview"]["problem_counts"] == {"opted_out": 1}
    assert [(p["row"], p["number"]) for p in draft["preview"]["problems"]] == [(4, "+584165550003")]
    assert draft["preview"]["sample"][0]["text"] == "Hola Ana de Caracas"
    cid = draft["id"]
    confirmed = gw.http.post(f"/v1/campaigns/{cid}/confirm", auth=_auth(a))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["charged"] == 2
    assert balance(gw, a) == 98  # the opted-out contact is not charged
    shown = until_delivered(gw, a, cid, 2)
    assert (shown["state"], shown["progress"]["counts"]) == ("done", {"delivered": 2})
    got = gw.http.get(f"/v1/campaigns/{cid}/report.csv", auth=_auth(a))
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert sorted((r[1], r[2]) for r in rows[1:]) == [
        ("+584145550001", "Ana"), ("+584245550002", "Luis"),
    ]  # fmt: skip


def test_another_accounts_list_is_404_and_bad_list_bodies_are_problems(gw: Gateway) -> None:
    owner, other = gw.account(100), gw.account(100)
    list_id = contact_list(gw, owner, "Privada")
    body = {"name": "Ajena", "template": "Hola {nombre}", "contact_list_id": list_id}
    found = problem(gw.http.post("/v1/campaigns", auth=_auth(other), json=body), 404, "not_found")
    assert found["detail"] == "No existe esa lista de contactos."
    for missing in ("999999999", "abc"):
        gone = {**body, "contact_list_id": missing}
        problem(gw.http.post("/v1/campaigns", auth=_auth(owner), json=gone), 404, "not_found")
    both = {**body, "rows": [{"numero": "04145550001"}]}
    problem(gw.http.post("/v1/campaigns", auth=_auth(owner), json=both), 422, "validation_error")
    neither = {"name": "Nada", "template": "Hola"}
    problem(gw.http.post("/v1/campaigns", auth=_auth(owner), json=neither), 422, "validation_error")
    rows_only = {"name": "Filas", "template": "Hola", "rows": [{"numero": "04145550001"}]}
    problem(
        gw.http.post("/v1/campaigns", auth=_auth(owner), json=rows_only), 422, "validation_error"
    )
    empty = gw.http.post("/v1/contact-lists", auth=_auth(owner), json={"name": "Vacía"}).json()
    no_rows = {**body, "contact_list_id": empty["id"]}
    detail = problem(
        gw.http.post("/v1/campaigns", auth=_auth(owner), json=no_rows), 422, "invalid_request"
    )["detail"]
    assert "no tiene contactos" in detail
    bad_field = {**body, "template": "Hola {apellido}"}
    problem(
        gw.http.post("/v1/campaigns", auth=_auth(owner), json=bad_field), 422, "invalid_template"
    )
    assert gw.http.get("/v1/campaigns", auth=_auth(other)).json()["data"] == []
    assert (balance(gw, owner), balance(gw, other)) == (100, 100)
