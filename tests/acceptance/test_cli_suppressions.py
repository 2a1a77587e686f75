"""``centauro suppressions list|add|remove`` as a customer runs them, against a real server.

Client commands: they reach the gateway's REST API with the account in ``CENTAURO_URL``,
``CENTAURO_CLIENT_ID`` and ``CENTAURO_CLIENT_SECRET``. One server per store serves the
module; each test takes an account of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from centauro.service import accounts
from centauro.store import suppressions as store
from tests.support.php import ACCEPTED, Gateway, datos, running_gateway
from tests.support.server import Account, free_port

OPTED_OUT = "Rejected: opted out"


@dataclass
class Setup:
    gw: Gateway

    def env(self, account: Account, **overrides: str | None) -> dict[str, str]:
        values: dict[str, str | None] = {
            "CENTAURO_URL": self.gw.url,
            "CENTAURO_CLIENT_ID": account.client_id,
            "CENTAURO_CLIENT_SECRET": account.client_secret,
            **overrides,
        }
        return {k: v for k, v in values.items() if v is not None}


def centauro(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m centauro ARGS`` with only *env*'s ``CENTAURO_*`` variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CENTAURO_")}
    return subprocess.run(
        [sys.executable, "-m", "centauro", *args],
        env={**clean, **env, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    with running_gateway(request.param, tmp_path_factory) as gw:
        yield Setup(gw)


def test_add_list_and_remove_in_spanish(setup: Setup) -> None:
    account = setup.gw.account()
    env = setup.env(account)
    php = setup.gw.client(account)

    added = centauro(env, "suppressions", "add", "0414-555.0001")
    assert (added.returncode, added.stderr) == (0, "")
    assert "+584145550001 dado de baja" in added.stdout
    assert [r["StatusText"] for r in datos(php.send(["04145550001"], "Hola"))] == [OPTED_OUT]
    again = centauro(env, "suppressions", "add", "+58 414 5550001")
    assert "+584145550001 ya estaba dado de baja" in again.stdout

    listed = centauro(env, "suppressions", "list")
    assert listed.returncode == 0
    assert "+584145550001" in listed.stdout
    assert "línea de órdenes" in listed.stdout  # who added it: this command

    removed = centauro(env, "suppressions", "remove", "04145550001")
    assert removed.returncode == 0
    assert "quitado de la lista de bajas" in removed.stdout
    assert [r["StatusText"] for r in datos(php.send(["04145550001"], "Hola"))] == [ACCEPTED]
    assert "No hay números dados de baja." in centauro(env, "suppressions", "list").stdout


def test_json_output_is_for_machines(setup: Setup) -> None:
    account = setup.gw.account()
    env = setup.env(account)
    added = json.loads(centauro(env, "suppressions", "add", "3001234567", "--json").stdout)
    assert (added["number"], added["source"], added["created"]) == ("+573001234567", "cli", True)
    assert datetime.fromisoformat(added["created_at"]).tzinfo is not None
    again = json.loads(centauro(env, "suppressions", "add", "+573001234567", "--json").stdout)
    assert again == {**added, "created": False}
    listed = json.loads(centauro(env, "suppressions", "list", "--json").stdout)
    assert listed == [{k: added[k] for k in ("number", "source", "created_at")}]
    removed = centauro(env, "suppressions", "remove", "+573001234567", "--json")
    assert json.loads(removed.stdout) == {"number": "+573001234567", "removed": True}


def test_list_follows_the_pages(setup: Setup) -> None:
    """More numbers than one page (1000) of the API: the command fetches them all."""
    account = setup.gw.account()
    with setup.gw.db.begin() as conn:
        account_id = accounts.get(conn, account.client_id).id
        for i in range(1001):
            store.add(conn, account_id, f"+58414{i:07d}", "api", datetime.now(UTC))
    listed = json.loads(centauro(setup.env(account), "suppressions", "list", "--json").stdout)
    assert len(listed) == 1001
    assert listed[0]["number"] == "+584140000000"
    assert listed[-1]["number"] == "+584140001000"


def test_refusals_exit_1_with_the_reason(setup: Setup) -> None:
    account = setup.gw.account()
    env = setup.env(account)
    invalid = centauro(env, "suppressions", "add", "0212-5550001")
    assert invalid.returncode == 1
    assert "Número de teléfono no válido" in invalid.stderr

    missing = centauro(env, "suppressions", "remove", "04145550002", "--json")
    assert missing.returncode == 1
    error = json.loads(missing.stdout)
    assert (error["error"], error["status"]) == ("not_found", 404)
    assert "no estaba dado de baja" in error["message"]

    wrong = centauro(setup.env(account, CENTAURO_CLIENT_SECRET="no-es"), "suppressions", "list")
    assert wrong.returncode == 1
    assert "Credenciales incorrectas" in wrong.stderr


def test_configuration_and_connection_problems(setup: Setup) -> None:
    account = setup.gw.account()
    unset = centauro(setup.env(account, CENTAURO_URL=None), "suppressions", "list", "--json")
    assert unset.returncode == 2
    assert json.loads(unset.stdout)["error"] == "MissingEnvironment"
    assert "CENTAURO_URL" in unset.stderr

    bad_url = centauro(setup.env(account, CENTAURO_URL="gateway:8000"), "suppressions", "list")
    assert bad_url.returncode == 2
    assert "CENTAURO_URL no es válida" in bad_url.stderr

    nobody = f"http://127.0.0.1:{free_port()}"
    down = centauro(setup.env(account, CENTAURO_URL=nobody), "suppressions", "add", "04145550003")
    assert down.returncode == 3
    assert "No se pudo conectar" in down.stderr
