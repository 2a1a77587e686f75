"""``centauro contacts …`` as a customer runs it, against a real server (one per store):
create a list, import a spreadsheet's CSV, export it and import the export into a second
list with the same result, edit and remove contacts, and Spanish errors with exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.php import Gateway, running_gateway
from tests.support.server import Account

SPREADSHEET = (
    "numero;nombre;ciudad;nota\r\n"
    '0414 123 4567;"Muñoz, Inés";Valencia;"dice ""hola""\r\ny chao"\r\n'
    "3001234567;Andrés;Medellín;+ comienza con más\r\n"
    "999;Malo;;\r\n"
).encode("cp1252")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


def run(gw: Gateway, account: Account, *args: str) -> subprocess.CompletedProcess[str]:
    done = run_bytes(gw, account, *args)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def run_bytes(gw: Gateway, account: Account, *args: str) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CENTAURO_")}
    env = {
        **clean,
        "CENTAURO_URL": gw.url,
        "CENTAURO_CLIENT_ID": account.client_id,
        "CENTAURO_CLIENT_SECRET": account.client_secret,
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "centauro", "contacts", *args],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


def ok_json(gw: Gateway, account: Account, *args: str) -> object:
    done = run(gw, account, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_import_export_and_reimport_through_the_cli(gw: Gateway, tmp_path: Path) -> None:
    account = gw.account()
    first = ok_json(gw, account, "create", "Clientes")
    assert isinstance(first, dict)
    source = tmp_path / "hoja.csv"
    source.write_bytes(SPREADSHEET)
    report = ok_json(gw, account, "import", first["id"], str(source))
    assert report == {
        "added": 2,
        "updated": 0,
        "rejected_total": 1,
        "rejected": [
            {
                "line": 5,
                "value": "999",
                "reason": "«999» no es un celular válido de Venezuela o Colombia.",
            }
        ],
    }
    exported = tmp_path / "exportada.csv"
    done = run(gw, account, "export", first["id"], str(exported))
    assert done.returncode == 0, done.stderr
    assert "Lista exportada" in done.stderr
    second = ok_json(gw, account, "create", "Copia")
    assert isinstance(second, dict)
    human = run(gw, account, "import", second["id"], str(exported))
    assert human.returncode == 0, human.stderr
    assert "Importación: 2 nuevos, 0 actualizados, 0 rechazados." in human.stdout
    to_stdout = run_bytes(gw, account, "export", second["id"])
    assert to_stdout.stdout == exported.read_bytes()
    contacts = ok_json(gw, account, "show", second["id"])
    assert isinstance(contacts, list)
    assert [(c["number"], c["name"], c["fields"]) for c in contacts] == [
        ("+584141234567", "Muñoz, Inés", {"ciudad": "Valencia", "nota": 'dice "hola"\r\ny chao'}),
        ("+573001234567", "Andrés", {"ciudad": "Medellín", "nota": "+ comienza con más"}),
    ]
    table = run(gw, account, "lists")
    assert "Clientes" in table.stdout
    assert "Copia" in table.stdout


def test_add_edit_remove_and_refusals_in_spanish(gw: Gateway) -> None:
    account = gw.account()
    made = ok_json(gw, account, "create", "Editar")
    assert isinstance(made, dict)
    lid = made["id"]
    contact = ok_json(
        gw, account, "add", lid, "0416-111.22.33", "--nombre", "Eva", "--campo", "plan=oro"
    )
    assert isinstance(contact, dict)
    assert contact["fields"] == {"plan": "oro"}
    edited = ok_json(gw, account, "edit", lid, contact["id"], "--nombre", "Eva María")
    assert isinstance(edited, dict)
    assert (edited["name"], edited["fields"]) == ("Eva María", {"plan": "oro"})
    twice = run(gw, account, "add", lid, "+584161112233")
    assert twice.returncode == 1
    assert "Ya existe: La lista ya tiene el número +584161112233." in twice.stderr
    bad = run(gw, account, "add", lid, "12")
    assert bad.returncode == 1
    assert "no es un celular válido" in bad.stderr
    assert run(gw, account, "remove", lid, contact["id"]).returncode == 0
    gone = run(gw, account, "remove", lid, contact["id"])
    assert gone.returncode == 1
    assert "No existe esa lista o ese contacto" in gone.stderr
    stranger = run(gw, gw.account(), "show", lid)
    assert stranger.returncode == 1
    assert "No existe esa lista" in stranger.stderr
    field = run(gw, account, "add", lid, "04161112233", "--campo", "sin-igual")
    assert field.returncode == 2
    assert "CLAVE=VALOR" in field.stderr
    missing = run(gw, account, "import", lid, "/no/existe.csv")
    assert missing.returncode == 2
    assert "No se pudo leer el archivo" in missing.stderr
    assert run(gw, account, "delete", lid).returncode == 0
