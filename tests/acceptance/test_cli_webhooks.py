"""``centauro webhooks …`` as a user runs it, against a real server and a real receiver.

The commands are REST clients configured by ``CENTAURO_URL``, ``CENTAURO_CLIENT_ID`` and
``CENTAURO_CLIENT_SECRET``; one SQLite-backed server (private targets allowed: the
receiver is on 127.0.0.1) serves the module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.php import php_field
from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.webhook_receiver import Receiver, receiving, signed_by


@dataclass
class Setup:
    server: ServerProcess
    account: Account
    rx: Receiver

    def env(self, **overrides: str | None) -> dict[str, str]:
        values: dict[str, str | None] = {
            "CENTAURO_URL": self.server.base_url,
            "CENTAURO_CLIENT_ID": self.account.client_id,
            "CENTAURO_CLIENT_SECRET": self.account.client_secret,
            **overrides,
        }
        return {k: v for k, v in values.items() if v is not None}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("cli-webhooks")
    env = {"CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1", "CENTAURO_SANDBOX_DLR_DELAY": "0.1",
           "CENTAURO_WEBHOOK_POLL_SECONDS": "0.1"}  # fmt: skip
    proc = start_server(f"sqlite:///{workdir / 'w.sqlite3'}", workdir, port=free_port(), env=env)
    try:
        with receiving() as rx:
            yield Setup(proc, proc.create_account(credits=100), rx)
    finally:
        proc.stop()


def centauro(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CENTAURO_")}
    return subprocess.run(
        [sys.executable, "-m", "centauro", "webhooks", *args],
        env={**clean, **env, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_add_list_deliveries_remove(setup: Setup) -> None:
    added = centauro(setup.env(), "add", setup.rx.url("/cli"), "--events", "message.status")
    assert added.returncode == 0, added.stderr
    assert "Guarde el secreto: no se mostrará de nuevo" in added.stdout
    secret = next(w for w in added.stdout.split() if w.startswith("whsec_"))
    listed = json.loads(centauro(setup.env(), "list", "--json").stdout)
    [hook] = [h for h in listed if h["url"] == setup.rx.url("/cli")]
    assert hook["events"] == ["message.status"]
    assert "secret" not in hook
    assert setup.rx.url("/cli") in centauro(setup.env(), "list").stdout

    people = json.dumps({"id": "0", "cel": "04141234567", "nom": ""})
    sent = httpx.post(
        f"{setup.server.base_url}/controllersms/",
        data={"client_id": setup.account.client_id, "client_secret": setup.account.client_secret,
              "client_opcion": "send_sms", "json": php_field(people), "msg": php_field("Hola")},
        timeout=30,
    )  # fmt: skip
    assert sent.json()["status"] == "200"
    setup.rx.wait_for(lambda r: len(r.on("/cli")) == 2, 20, "sent + delivered")
    assert all(signed_by(r, secret) for r in setup.rx.on("/cli"))

    def delivered() -> bool:
        log = json.loads(centauro(setup.env(), "deliveries", hook["id"], "--json").stdout)
        return [d["status"] for d in log["data"]] == ["delivered", "delivered"]

    setup.rx.wait_for(lambda _: delivered(), 20, "the log to show both delivered")
    people_view = centauro(setup.env(), "deliveries", hook["id"])
    assert people_view.returncode == 0
    assert "entregado" in people_view.stdout
    assert "Intentos" in people_view.stdout
    page = json.loads(
        centauro(setup.env(), "deliveries", hook["id"], "--limit", "1", "--json").stdout
    )
    assert len(page["data"]) == 1
    assert page["next_cursor"]

    removed = centauro(setup.env(), "remove", hook["id"])
    assert (removed.returncode, removed.stdout.strip()) == (0, f"Webhook {hook['id']} eliminado.")
    again = centauro(setup.env(), "remove", hook["id"], "--json")
    assert again.returncode == 1
    assert json.loads(again.stdout)["code"] == "not_found"
    assert "código not_found" in again.stderr


def test_add_json_answers_the_api_object_with_its_secret(setup: Setup) -> None:
    result = centauro(setup.env(), "add", setup.rx.url("/json"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"id", "url", "events", "enabled", "created_at", "secret"}
    assert data["events"] == ["message.status", "message.inbound"]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("add", "ftp://example.com/x"), 1, "invalid_request"),
        (("add", "https://example.com/x", "--events", "message.deleted"), 2, "Evento desconocido"),
        (("deliveries", "999999"), 1, "not_found"),
    ],
)
def test_refusals_exit_with_their_codes(
    setup: Setup, args: tuple[str, ...], code: int, words: str
) -> None:
    result = centauro(setup.env(), *args)
    assert result.returncode == code, result.stderr
    assert words in result.stderr
    assert result.stdout == ""


def test_configuration_and_connection_problems(setup: Setup) -> None:
    missing = centauro(setup.env(CENTAURO_CLIENT_SECRET=None), "list")
    assert missing.returncode == 2
    assert "CENTAURO_CLIENT_SECRET" in missing.stderr
    wrong = centauro(setup.env(CENTAURO_CLIENT_SECRET="nope"), "list", "--json")
    assert wrong.returncode == 1
    assert json.loads(wrong.stdout)["code"] == "unauthorized"
    bad_url = centauro(setup.env(CENTAURO_URL="gateway.example"), "list")
    assert bad_url.returncode == 2
    down = centauro(setup.env(CENTAURO_URL=f"http://127.0.0.1:{free_port()}"), "list", "--json")
    assert down.returncode == 3
    assert json.loads(down.stdout)["error"] == "TransportError"
    assert "No se pudo conectar" in down.stderr
