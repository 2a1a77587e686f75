"""``centauro balance`` and ``centauro send`` as a user runs them, against a real server.

The commands are clients: which store the server uses is not their concern (the SDK tests
cover both), so one SQLite-backed server serves the whole module. ``quiet`` has one
credit and never spends it; ``spender`` pays for the sends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from centauro.client import Client
from tests.support.server import Account, ServerProcess, free_port, start_server

ROW_KEYS = ["number", "message_id", "status_text", "accepted", "text"]


@dataclass
class Setup:
    server: ServerProcess
    spender: Account
    quiet: Account

    def env(self, account: Account | None = None, **overrides: str | None) -> dict[str, str]:
        a = account or self.spender
        values: dict[str, str | None] = {
            "CENTAURO_URL": self.server.base_url,
            "CENTAURO_CLIENT_ID": a.client_id,
            "CENTAURO_CLIENT_SECRET": a.client_secret,
            **overrides,
        }
        return {k: v for k, v in values.items() if v is not None}

    def balance(self, account: Account) -> int:
        with Client(self.server.base_url, account.client_id, account.client_secret) as c:
            return c.balance()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("cli-client")
    proc = start_server(f"sqlite:///{workdir / 'c.sqlite3'}", workdir, port=free_port())
    try:
        yield Setup(proc, proc.create_account(credits=100), proc.create_account(credits=1))
    finally:
        proc.stop()


def centauro(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m centauro ARGS`` with only *env*'s ``CENTAURO_*`` variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CENTAURO_")}
    return subprocess.run(
        [sys.executable, "-m", "centauro", *args],
        env={**clean, **env, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_balance_prints_the_credits_in_spanish(setup: Setup) -> None:
    result = centauro(setup.env(setup.quiet), "balance")
    assert (result.returncode, result.stdout, result.stderr) == (0, "SMS disponibles: 1\n", "")


def test_balance_json_is_for_machines(setup: Setup) -> None:
    result = centauro(setup.env(setup.quiet), "balance", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"sms_disponibles": 1}


def test_send_prints_a_row_per_recipient_and_a_summary(setup: Setup) -> None:
    result = centauro(setup.env(), "send", "04141000001,123", "Hola desde la CLI")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(all(h in line for h in ("Número", "Messageid", "Estado")) for line in lines)
    assert any("4141000001" in line and "Aceptado para entrega" in line for line in lines)
    assert any("123" in line and "Rechazado: número no válido" in line for line in lines)
    assert lines[-1] == "1 aceptado(s), 1 rechazado(s)"
    assert result.stderr == ""


def test_send_json_lists_the_rows_with_english_keys(setup: Setup) -> None:
    before = setup.balance(setup.spender)
    result = centauro(
        setup.env(), "send", "+58 424-100-0002, 04241000002,3001000002", "hola", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"] == {"accepted": 2, "rejected": 1}
    rows = data["messages"]
    assert [list(row) for row in rows] == [ROW_KEYS] * 3
    assert [(r["number"], r["accepted"], r["status_text"], r["text"]) for r in rows] == [
        ("4241000002", True, "Message accepted for delivery", "hola"),
        ("4241000002", False, "Rejected: duplicate number", "hola"),
        ("3001000002", True, "Message accepted for delivery", "hola"),
    ]
    assert rows[0]["message_id"].isdecimal()
    assert rows[1]["message_id"] is None
    assert setup.balance(setup.spender) == before - 2


@pytest.mark.parametrize(
    ("who", "numbers", "kind", "code", "text"),
    [
        ("quiet", "04141000003,04241000003", "InsufficientCredits", 305,
         "No tiene SMS disponibles para realizar este envio"),
        ("wrong", "04141000003", "InvalidCredentials", 301, "Error de credenciales"),
        ("spender", "123,abc", "InvalidParameters", 304,
         "Los parametros no son correctos por favor no modifique la API"),
    ],
)  # fmt: skip
def test_a_refused_send_exits_1_with_the_gateways_message(
    setup: Setup, who: str, numbers: str, kind: str, code: int, text: str
) -> None:
    if who == "wrong":
        env = setup.env(CENTAURO_CLIENT_SECRET="not-the-secret")
    else:
        env = setup.env(setup.quiet if who == "quiet" else setup.spender)
    result = centauro(env, "send", numbers, "hola", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"error": kind, "message": text, "code": code}
    assert result.stderr == f"Error: {text} (código {code})\n"  # people read stderr


def test_a_refused_send_prints_nothing_on_stdout_and_costs_nothing(setup: Setup) -> None:
    result = centauro(setup.env(setup.quiet), "send", "04141000003,04241000003", "hola")
    assert (result.returncode, result.stdout) == (1, "")
    assert "No tiene SMS disponibles" in result.stderr
    assert setup.balance(setup.quiet) == 1


def test_missing_environment_exits_2_naming_the_variables(setup: Setup) -> None:
    env = setup.env(CENTAURO_CLIENT_ID=None, CENTAURO_CLIENT_SECRET="")
    result = centauro(env, "send", "04141000004", "hola")
    assert (result.returncode, result.stdout) == (2, "")
    assert "Faltan variables de entorno: CENTAURO_CLIENT_ID, CENTAURO_CLIENT_SECRET." in (
        result.stderr
    )
    as_json = centauro(env, "balance", "--json")
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["error"] == "MissingEnvironment"


def test_a_url_that_is_not_http_exits_2(setup: Setup) -> None:
    result = centauro(setup.env(CENTAURO_URL="localhost:8000"), "balance")
    assert result.returncode == 2
    assert result.stderr.startswith("Error: CENTAURO_URL no es válida")


def test_server_down_exits_3_saying_it_cannot_connect(setup: Setup) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = centauro(setup.env(CENTAURO_URL=url), "send", "04141000005", "hola", "--json")
    assert result.returncode == 3
    assert json.loads(result.stdout)["error"] == "TransportError"
    assert result.stderr.startswith(f"Error: No se pudo conectar con {url}: ConnectError")


def test_an_answer_outside_the_protocol_exits_1(setup: Setup) -> None:
    url = setup.server.base_url + "/no-es-centauro"  # the server answers 404 JSON there
    result = centauro(setup.env(CENTAURO_URL=url), "balance", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"] == "ProtocolError"
    assert result.stderr.startswith(f"Error: Respuesta inesperada de {url}: ")
    assert "HTTP 404" in result.stderr
