"""``centauro campaigns …`` against each store, beside a real server that delivers.

The CLI and the server share the store: what the CLI confirms, the server's sandbox
delivers; a campaign paused from the CLI stays held; cancel refunds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from centauro.service import accounts as account_service
from tests.support.contact_lists import make_list
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account, run_cli

FAST = {"CENTAURO_SANDBOX_DLR_DELAY": "0.1", "CENTAURO_RELOAD_SECONDS": "0.2"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory, env=FAST) as gateway:
        yield gateway


def _csv(tmp_path: Path, first: int, count: int) -> Path:
    path = tmp_path / "clientes.csv"
    lines = ["celular,nombre"] + [f"0414{n:07d},Cliente {n}" for n in range(first, first + count)]
    path.write_text("\n".join(lines) + "\n0414,Malo\n", encoding="utf-8")
    return path


def _balance(gw: Gateway, client_id: str) -> int:
    with gw.db.read() as conn:
        return account_service.get(conn, client_id).balance


def test_create_confirm_and_follow_to_delivered(gw: Gateway, tmp_path: Path) -> None:
    a = gw.account(100)
    path = _csv(tmp_path, 2_000_000, 5)
    draft = gw.server.cli_json(
        "campaigns", "create", str(path), "--account", a.client_id, "--name", "Promo",
        "--template", "Hola {nombre}", "--number-column", "celular", "--name-column", "nombre",
    )  # fmt: skip
    assert (draft["state"], draft["accepted"], draft["rejected"], draft["cost"]) == (
        "draft", 5, 1, 5,
    )  # fmt: skip
    assert draft["preview"]["problem_counts"] == {"invalid_number": 1}
    assert _balance(gw, a.client_id) == 100
    confirmed = gw.server.cli_json("campaigns", "confirm", str(draft["id"]))
    assert confirmed["charged"] == 5
    again = run_cli(gw.server.database_url, "campaigns", "confirm", str(draft["id"]), check=False)
    assert again.returncode == 1
    assert "ya fue confirmada" in again.stderr
    assert _balance(gw, a.client_id) == 95
    deadline = time.monotonic() + 30
    while (shown := gw.server.cli_json("campaigns", "show", str(draft["id"])))["delivered"] < 5:
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    assert (shown["state"], shown["percent"]) == ("done", 100)
    out = tmp_path / "informe.csv"
    report = gw.server.cli_json("campaigns", "report", str(draft["id"]), "--csv", str(out))
    assert report["delivered"] == 5
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 6
    assert all(line.split(",")[3] == "entregado" for line in lines[1:])
    listed = gw.server.cli_json("campaigns", "list", "--account", a.client_id)
    assert [c["id"] for c in listed] == [draft["id"]]
    human = run_cli(gw.server.database_url, "campaigns", "list", "--account", a.client_id)
    assert "terminada" in human.stdout


def test_scheduled_then_paused_and_cancelled_from_the_cli_is_refunded(
    gw: Gateway, tmp_path: Path
) -> None:
    a = gw.account(100)
    path = _csv(tmp_path, 2_100_000, 8)
    created = gw.server.cli_json(
        "campaigns", "create", str(path), "--account", a.client_id, "--name", "Luego",
        "--template", "Hola {nombre}", "--number-column", "celular", "--confirmar",
        "--at", (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    )  # fmt: skip
    assert (created["state"], created["charged"]) == ("scheduled", 8)
    cid = str(created["id"])
    assert gw.server.cli_json("campaigns", "pause", cid)["state"] == "paused"
    resumed = gw.server.cli_json("campaigns", "resume", cid)
    assert resumed["state"] == "scheduled"
    cancelled = gw.server.cli_json("campaigns", "cancel", cid)
    assert (cancelled["state"], cancelled["refunded"], cancelled["cancelled"]) == (
        "cancelled", 8, 8,
    )  # fmt: skip
    assert _balance(gw, a.client_id) == 100


def test_bad_input_is_a_spanish_error_and_nothing_is_stored(gw: Gateway, tmp_path: Path) -> None:
    a = gw.account(100)
    path = _csv(tmp_path, 2_200_000, 2)
    unknown = run_cli(
        gw.server.database_url, "campaigns", "create", str(path), "--account", a.client_id,
        "--name", "X", "--template", "Hola {apellido}", "--number-column", "celular",
        check=False,
    )  # fmt: skip
    assert unknown.returncode == 1
    assert "{apellido} no existe" in unknown.stderr
    binary = tmp_path / "foto.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    refused = run_cli(
        gw.server.database_url, "campaigns", "create", str(binary), "--account", a.client_id,
        "--name", "X", "--template", "Hola", "--number-column", "celular", check=False,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "no es un CSV ni un XLSX" in refused.stderr
    assert gw.server.cli_json("campaigns", "list", "--account", a.client_id) == []


def _contact_list(gw: Gateway, a: Account, name: str) -> str:
    """Three contacts, the last one opted out."""
    file = "numero,nombre,plan\n04145550011,Ana,oro\n04245550012,Luis,plata\n04165550013,Rosa,oro\n"
    return make_list(gw, a, name, file, opted_out=["04165550013"])


def test_a_campaign_from_a_contact_list_is_delivered_without_the_opted_out(
    gw: Gateway,
) -> None:
    a = gw.account(100)
    list_id = _contact_list(gw, a, "Clientes CLI")
    draft = gw.server.cli_json(
        "campaigns", "create", "--lista", list_id, "--account", a.client_id,
        "--name", "Desde lista", "--template", "Hola {nombre}, plan {plan}",
    )  # fmt: skip
    assert (draft["state"], draft["rows"], draft["accepted"], draft["cost"]) == (
        "draft", 3, 2, 2,
    )  # fmt: skip
    assert draft["preview"]["problem_counts"] == {"opted_out": 1}
    assert draft["preview"]["sample"][0]["text"] == "Hola Ana, plan oro"
    confirmed = gw.server.cli_json("campaigns", "confirm", str(draft["id"]))
    assert confirmed["charged"] == 2
    assert _balance(gw, a.client_id) == 98
    deadline = time.monotonic() + 30
    while (shown := gw.server.cli_json("campaigns", "show", str(draft["id"])))["delivered"] < 2:
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    assert (shown["state"], shown["delivered"], shown["failed"]) == ("done", 2, 0)


def test_another_accounts_list_or_no_audience_is_a_spanish_error(
    gw: Gateway, tmp_path: Path
) -> None:
    owner, other = gw.account(100), gw.account(100)
    list_id = _contact_list(gw, owner, "Privada CLI")
    common = ("--name", "X", "--template", "Hola {nombre}")
    foreign = run_cli(
        gw.server.database_url, "campaigns", "create", "--lista", list_id,
        "--account", other.client_id, *common, check=False,
    )  # fmt: skip
    assert foreign.returncode == 1
    assert "No existe esa lista de contactos" in foreign.stderr
    huge = run_cli(
        gw.server.database_url, "campaigns", "create", "--lista", str(2**64),
        "--account", owner.client_id, *common, check=False,
    )  # fmt: skip
    assert (huge.returncode, "Traceback" in huge.stderr) == (1, False), huge.stderr
    assert "No existe esa lista de contactos" in huge.stderr
    neither = run_cli(
        gw.server.database_url, "campaigns", "create", "--account", owner.client_id, *common,
        check=False,
    )  # fmt: skip
    assert neither.returncode == 2
    assert "ARCHIVO o --lista" in neither.stderr
    path = _csv(tmp_path, 2_300_000, 2)
    both = run_cli(
        gw.server.database_url, "campaigns", "create", str(path), "--lista", list_id,
        "--account", owner.client_id, *common, check=False,
    )  # fmt: skip
    assert both.returncode == 2
    for a in (owner, other):
        assert gw.server.cli_json("campaigns", "list", "--account", a.client_id) == []
        assert _balance(gw, a.client_id) == 100
