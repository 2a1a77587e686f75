"""``accounts create --client-secret S --import-secret``: a site migrating from the original
service keeps the secret written in its code, however weak; the store keeps only a salted
scrypt of it. Against the real CLI and a real ``centauro serve`` on both stores."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from centauro.store import tables
from tests.support.php import Gateway, PhpClient, running_gateway
from tests.support.stores import KINDS

WEAK = ["codigo_secreto_credencial", "abc123"]


@pytest.fixture(scope="module", params=KINDS)
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


def imported(gw: Gateway, secret: str) -> tuple[str, Any]:
    """A new account with ``secret`` imported by the real CLI; its client id and output."""
    client_id = f"sitio-{uuid.uuid4().hex[:8]}"
    done = gw.server.cli(
        "accounts", "create", "Tienda", "--credits", "10", "--client-id", client_id,
        "--client-secret", secret, "--import-secret", "--json",
    )  # fmt: skip
    return client_id, done


def stored_hash(gw: Gateway, client_id: str) -> str:
    with gw.db.read() as conn:
        row = conn.execute(
            select(tables.accounts.c.secret_hash).where(tables.accounts.c.client_id == client_id)
        ).scalar_one()
    return str(row)


@pytest.mark.parametrize("secret", WEAK)
def test_an_imported_weak_secret_opens_the_compat_and_rest_doors(gw: Gateway, secret: str) -> None:
    client_id, done = imported(gw, secret)
    assert "débil" in done.stderr
    assert "rotate-secret" in done.stderr
    listed = {a["client_id"]: a for a in gw.server.cli_json("accounts", "list")}
    assert listed[client_id]["secret_kind"] == "imported"

    row = stored_hash(gw, client_id)
    assert row.startswith("scrypt:")
    assert secret not in row
    assert hashlib.sha256(secret.encode()).hexdigest() not in row

    php = PhpClient(gw.http, client_id, secret)
    assert php.balance() == 10  # POST /controllersms/
    sent = php.http_get("client_opcion=send_sms&num=04141234567&msg=Hola")  # GET /http/
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "200", sent.content
    rest = gw.http.get("/v1/balance", auth=(client_id, secret))
    assert rest.status_code == 200, rest.content
    assert rest.json()["balance"] == 9, rest.content


def test_wrong_secrets_for_an_imported_account_are_refused_and_locked_out(gw: Gateway) -> None:
    client_id, _ = imported(gw, "abc123")
    php = PhpClient(gw.http, client_id, "abc124")
    for _ in range(5):
        assert php.get_sms_disponibles().json()["status"] == "301"
    wrong = [gw.http.get("/v1/balance", auth=(client_id, "ABC123")).status_code for _ in range(5)]
    assert wrong == [401, 401, 401, 401, 429]  # the tenth failure starts the lockout
    locked = gw.http.get("/v1/balance", auth=(client_id, "abc123"))
    assert locked.status_code == 429
    assert locked.json()["code"] == "sign_in_locked"


def test_rotating_an_imported_secret_brings_a_strong_generated_one(gw: Gateway) -> None:
    client_id, _ = imported(gw, "abc123")
    assert gw.http.get("/v1/balance", auth=(client_id, "abc123")).status_code == 200
    rotated = gw.server.cli_json("accounts", "rotate-secret", client_id)
    assert rotated["secret_kind"] == "strong"
    new = rotated["client_secret"]
    assert len(new) >= 32
    assert new != "abc123"
    assert stored_hash(gw, client_id) == "sha256:" + hashlib.sha256(new.encode()).hexdigest()
    assert gw.http.get("/v1/balance", auth=(client_id, "abc123")).status_code == 401
    assert gw.http.get("/v1/balance", auth=(client_id, new)).status_code == 200
    listed = {a["client_id"]: a for a in gw.server.cli_json("accounts", "list")}
    assert listed[client_id]["secret_kind"] == "strong"


def test_a_weak_secret_without_the_import_option_is_still_refused(gw: Gateway) -> None:
    refused = gw.server.cli(
        "accounts", "create", "Tienda", "--client-secret", "abc123", check=False
    )
    assert refused.returncode == 1
    said = " ".join(refused.stderr.split())
    assert "al menos 24 caracteres" in said
    assert "--import-secret" in said
    assert "abc123" not in said


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--import-secret"], 2, "necesita el secreto actual"),
        (["--client-secret", "", "--import-secret"], 2, "necesita el secreto actual"),
        (["--client-secret", "abc\x07123", "--import-secret"], 1, "caracteres de control"),
        (["--client-secret", "x" * 256, "--import-secret"], 1, "máximo 255"),
    ],
    ids=["no secret", "empty", "control character", "too long"],
)
def test_an_import_no_service_could_have_issued_is_refused_in_spanish(
    gw: Gateway, args: list[str], code: int, said: str
) -> None:
    client_id = f"malo-{uuid.uuid4().hex[:8]}"
    refused = gw.server.cli(
        "accounts", "create", "Tienda", "--client-id", client_id, *args, check=False
    )
    assert refused.returncode == code, refused
    assert said in " ".join(refused.stderr.split())
    assert client_id not in {a["client_id"] for a in gw.server.cli_json("accounts", "list")}
