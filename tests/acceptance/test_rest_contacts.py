"""``/v1/contact-lists`` against a real ``centauro serve``: CRUD, a CSV exported and
imported back gives the same list, spreadsheet files of every kind are read, bad input is
a problem with a stable code, and another account's ids are 404 on every URL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.php import Gateway, running_gateway
from tests.support.server import Account

FILE = (
    "Teléfono;Nombre;Ciudad;Nota\r\n"
    '0414-123.45.67;"Peña, José ""Pepe""";Maracay;"dos\r\nlíneas"\r\n'
    "+57 300 123 4567;Ana María;Bogotá;=1+1\r\n"
    "0212-555.12.12;Fijo;Caracas;\r\n"
).encode("cp1252")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


def api(gw: Gateway, account: Account) -> httpx.Client:
    return httpx.Client(
        base_url=gw.url + "/v1", auth=(account.client_id, account.client_secret), timeout=30
    )


def test_import_export_round_trip_over_http(gw: Gateway) -> None:
    with api(gw, gw.account()) as http:
        made = http.post("/contact-lists", json={"name": "Clientes de Maracay"})
        assert made.status_code == 201, made.text
        list_id = made.json()["id"]
        report = http.post(
            f"/contact-lists/{list_id}/import",
            content=FILE,
            headers={"content-type": "text/csv"},
        )
        assert report.status_code == 200, report.text
        body = report.json()
        assert (body["added"], body["updated"], body["rejected_total"]) == (2, 0, 1)
        assert body["rejected"][0]["line"] == 5
        assert "no es un celular válido" in body["rejected"][0]["reason"]

        exported = http.get(f"/contact-lists/{list_id}/export")
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.content.startswith(b"\xef\xbb\xbfnumero,nombre,Ciudad,Nota\r\n")

        copy = http.post("/contact-lists", json={"name": "Copia"}).json()["id"]
        again = http.post(f"/contact-lists/{copy}/import", content=exported.content)
        assert again.json() == {"added": 2, "updated": 0, "rejected_total": 0, "rejected": []}
        assert http.get(f"/contact-lists/{copy}/export").content == exported.content

        page = http.get(f"/contact-lists/{copy}/contacts").json()
        assert [(c["number"], c["name"], c["fields"]) for c in page["data"]] == [
            ("+584141234567", 'Peña, José "Pepe"', {"Ciudad": "Maracay", "Nota": "dos\r\nlíneas"}),
            ("+573001234567", "Ana María", {"Ciudad": "Bogotá", "Nota": "=1+1"}),
        ]
        listed = http.get("/contact-lists").json()["data"]
        assert sorted((x["name"], x["contacts"]) for x in listed) == [
            ("Clientes de Maracay", 2),
            ("Copia", 2),
        ]


def test_contacts_crud_and_opted_out_mark(gw: Gateway) -> None:
    with api(gw, gw.account()) as http:
        list_id = http.post("/contact-lists", json={"name": "CRUD"}).json()["id"]
        added = http.post(
            f"/contact-lists/{list_id}/contacts",
            json={"number": "04161112233", "name": "Rosa", "fields": {"plan": "oro"}},
        )
        assert added.status_code == 201, added.text
        contact = added.json()
        assert (contact["number"], contact["opted_out"]) == ("+584161112233", False)
        twice = http.post(f"/contact-lists/{list_id}/contacts", json={"number": "+584161112233"})
        assert twice.status_code == 409
        assert twice.json()["code"] == "conflict"
        assert http.post("/suppressions", json={"number": "04161112233"}).status_code == 201
        path = f"/contact-lists/{list_id}/contacts/{contact['id']}"
        edited = http.patch(path, json={"name": "Rosa Elena"})
        assert edited.status_code == 200, edited.text
        assert edited.json()["name"] == "Rosa Elena"
        assert edited.json()["fields"] == {"plan": "oro"}
        assert edited.json()["opted_out"] is True
        renamed = http.patch(f"/contact-lists/{list_id}", json={"name": "CRUD 2"})
        assert renamed.json()["name"] == "CRUD 2"
        assert http.delete(path).status_code == 204
        assert http.get(path).status_code == 404
        assert http.delete(f"/contact-lists/{list_id}").status_code == 204
        assert http.get(f"/contact-lists/{list_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        (b"", "invalid_request", "vacío"),
        (b"nombre,ciudad\nAna,Caracas\n", "invalid_request", "columna «numero»"),
        (b"numero,,x\n", "invalid_request", "no tiene nombre"),
        (b"numero\n04141234567,extra\n", "invalid_request", "Línea 2"),
    ],
)
def test_bad_files_are_problems_in_spanish(gw: Gateway, body: bytes, code: str, says: str) -> None:
    with api(gw, gw.account()) as http:
        list_id = http.post("/contact-lists", json={"name": "Mala"}).json()["id"]
        answer = http.post(f"/contact-lists/{list_id}/import", content=body)
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == code
        assert says in answer.json()["detail"]
        assert http.get(f"/contact-lists/{list_id}").json()["contacts"] == 0


def test_bad_bodies_and_ids(gw: Gateway) -> None:
    with api(gw, gw.account()) as http:
        assert http.post("/contact-lists", json={"name": ""}).status_code == 422
        assert http.post("/contact-lists", json={"nombre": "x"}).status_code == 422
        list_id = http.post("/contact-lists", json={"name": "Ids"}).json()["id"]
        assert http.post("/contact-lists", json={"name": "Ids"}).status_code == 409
        bad = http.post(f"/contact-lists/{list_id}/contacts", json={"number": "123"})
        assert bad.status_code == 422
        assert bad.json()["code"] == "invalid_number"
        for path in ("/contact-lists/abc", "/contact-lists/0", "/contact-lists/99999999999999"):
            assert http.get(path).status_code == 404
        cursor = http.get(f"/contact-lists/{list_id}/contacts", params={"cursor": "x"})
        assert cursor.status_code == 422


def test_another_accounts_ids_are_404_everywhere(gw: Gateway) -> None:
    with api(gw, gw.account()) as owner, api(gw, gw.account()) as stranger:
        list_id = owner.post("/contact-lists", json={"name": "Privada"}).json()["id"]
        contact = owner.post(
            f"/contact-lists/{list_id}/contacts", json={"number": "04141234567"}
        ).json()["id"]
        base, one = f"/contact-lists/{list_id}", f"/contact-lists/{list_id}/contacts/{contact}"
        tries = [
            stranger.get(base),
            stranger.patch(base, json={"name": "mía"}),
            stranger.delete(base),
            stranger.get(base + "/contacts"),
            stranger.post(base + "/contacts", json={"number": "04241234567"}),
            stranger.get(one),
            stranger.patch(one, json={"name": "x"}),
            stranger.delete(one),
            stranger.post(base + "/import", content=b"numero\n04241234567\n"),
            stranger.get(base + "/export"),
        ]
        assert [t.status_code for t in tries] == [404] * len(tries)
        assert stranger.get("/contact-lists").json() == {"data": []}
        kept = owner.get(base).json()
        assert (kept["name"], kept["contacts"]) == ("Privada", 1)


def test_a_file_longer_than_one_write_chunk_is_imported_whole(gw: Gateway) -> None:
    rows = 2 * 2000 + 321  # three of the doors' write transactions
    body = "numero,nombre\n" + "".join(f"0416{n:07d},N{n}\n" for n in range(rows))
    with api(gw, gw.account()) as http:
        list_id = http.post("/contact-lists", json={"name": "Larga"}).json()["id"]
        first = http.post(f"/contact-lists/{list_id}/import", content=body.encode())
        assert first.json()["added"] == rows
        again = http.post(f"/contact-lists/{list_id}/import", content=body.encode())
        assert (again.json()["added"], again.json()["updated"]) == (0, rows)
        assert http.get(f"/contact-lists/{list_id}").json()["contacts"] == rows
        lines = http.get(f"/contact-lists/{list_id}/export").content.decode("utf-8-sig")
        assert lines.splitlines()[1:] == [f"+58416{n:07d},N{n}" for n in range(rows)]
