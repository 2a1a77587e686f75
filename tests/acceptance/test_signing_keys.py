"""Callback signing keys and webhook secrets: each account has its own random key (not
derived from anything in the database), readable and rotatable by the account; with
``CENTAURO_SECRET_KEY`` set neither is stored in clear. Real ``centauro serve`` on both
stores, a real receiver on loopback, signatures checked with the SDK's verify_signature.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from centauro.client import verify_signature
from centauro.store import sql
from centauro.store.engine import open_database
from tests.support.server import Account, ServerProcess, free_port, run_cli, start_server
from tests.support.stores import KINDS, store_url
from tests.support.webhook_receiver import Received, Receiver, receiving, secret_hash_key

SERVER_KEY = "test-server-key-7f3a9c1e5b2d8f4a6c0e"
ENV = {
    "CENTAURO_SECRET_KEY": SERVER_KEY,
    "CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1",
    "CENTAURO_SANDBOX_DLR_DELAY": "0.1",
    "CENTAURO_WEBHOOK_POLL_SECONDS": "0.1",
}
_numbers = itertools.count(5_000_000)


@pytest.fixture(params=KINDS)
def gw(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    with store_url(request.param, tmp_path) as url:
        proc = start_server(url, tmp_path, port=free_port(), env=ENV)
        try:
            yield proc
        finally:
            proc.stop()


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def api(gw: ServerProcess, who: Account, method: str, path: str, **kw: Any) -> httpx.Response:
    auth = (who.client_id, who.client_secret)
    return httpx.request(method, gw.base_url + path, auth=auth, timeout=30, **kw)


def stored(gw: ServerProcess, query: str, **params: object) -> str:
    db = open_database(gw.database_url)
    try:
        with db.read() as conn:
            row = sql.fetchone(conn, query, params)
    finally:
        db.dispose()
    assert row is not None
    return str(row[0])


def callbacks(gw: ServerProcess, who: Account, rx: Receiver, path: str) -> list[Received]:
    """Send one message with a callback_url; its sent and delivered events, signed."""
    body = {"to": f"0414{next(_numbers):07d}", "text": "Hola", "callback_url": rx.url(path)}
    assert api(gw, who, "POST", "/v1/messages", json=body).status_code == 202
    rx.wait_for(lambda r: len(r.on(path)) == 2, 20, "the callback's two events")
    return rx.on(path)


def verifies(request: Received, key: str) -> bool:
    return verify_signature(request.body, request.headers["centauro-signature"], key)


def test_callbacks_are_signed_with_the_accounts_own_sealed_key(
    gw: ServerProcess, rx: Receiver
) -> None:
    made = gw.cli_json("accounts", "create", "Firma", "--credits", "10", env=ENV)
    who = Account(made["client_id"], made["client_secret"])
    key = made["signing_key"]
    assert api(gw, who, "GET", "/v1/account/signing-key").json() == {"signing_key": key}
    column = stored(gw, "SELECT signing_key FROM accounts WHERE client_id = :c", c=who.client_id)
    assert column.startswith("enc:v1:")
    assert key not in column

    for request in callbacks(gw, who, rx, "/first"):
        assert verifies(request, key)
        assert not verifies(request, secret_hash_key(who.client_secret))

    rotated = api(gw, who, "POST", "/v1/account/signing-key/rotate").json()["signing_key"]
    assert rotated != key
    for request in callbacks(gw, who, rx, "/second"):
        assert verifies(request, rotated)
        assert not verifies(request, key)

    by_cli = gw.cli_json("accounts", "rotate-signing-key", who.client_id, env=ENV)["signing_key"]
    assert by_cli not in (key, rotated)
    assert api(gw, who, "GET", "/v1/account/signing-key").json() == {"signing_key": by_cli}


def test_webhook_secrets_are_sealed_at_rest_and_still_sign(gw: ServerProcess, rx: Receiver) -> None:
    made = gw.cli_json("accounts", "create", "Hook", "--credits", "10", env=ENV)
    who = Account(made["client_id"], made["client_secret"])
    hook = api(gw, who, "POST", "/v1/webhooks", json={"url": rx.url("/hook")}).json()
    column = stored(gw, "SELECT secret FROM webhooks WHERE id = :i", i=int(hook["id"]))
    assert column.startswith("enc:v1:")
    assert hook["secret"] not in column

    body = {"to": f"0414{next(_numbers):07d}", "text": "Hola"}
    assert api(gw, who, "POST", "/v1/messages", json=body).status_code == 202
    rx.wait_for(lambda r: len(r.on("/hook")) >= 2, 20, "the webhook's events")
    assert all(verifies(request, hook["secret"]) for request in rx.on("/hook"))
    assert "secret_key_unset" not in gw.log_path.read_text()


def test_without_a_server_key_secrets_are_in_clear_and_the_server_says_so(
    tmp_path: Path,
) -> None:
    with store_url("sqlite", tmp_path) as url:
        proc = start_server(url, tmp_path, port=free_port())
        try:
            made = proc.cli_json("accounts", "create", "Claro", "--credits", "1")
            who = Account(made["client_id"], made["client_secret"])
            read = api(proc, who, "GET", "/v1/account/signing-key").json()["signing_key"]
            assert read == made["signing_key"]
            query = "SELECT signing_key FROM accounts WHERE client_id = :c"
            assert stored(proc, query, c=who.client_id) == read
            assert "secret_key_unset" in proc.log_path.read_text()
        finally:
            proc.stop()


def test_a_short_server_key_stops_serve_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'centauro.sqlite3'}"
    env = {"CENTAURO_SECRET_KEY": "corta"}
    result = run_cli(url, "serve", "--port", str(free_port()), env=env, check=False, timeout=60)
    assert result.returncode == 2
    said = " ".join((result.stdout + result.stderr).split())
    assert "CENTAURO_SECRET_KEY must have at least 32 characters" in said
    assert "Traceback" not in said
