"""The operator's CLI, run as a real subprocess against each store."""

from __future__ import annotations

import httpx

from tests.support.server import ServerProcess, cli_json, run_cli


def test_account_lifecycle_from_the_cli(database_url: str) -> None:
    created = cli_json(database_url, "accounts", "create", "Tienda Caracas", "--credits", "50")
    assert set(created) >= {"client_id", "client_secret", "balance", "country", "enabled"}
    assert created["balance"] == 50
    assert created["country"] == "VE"
    assert len(created["client_secret"]) >= 32
    cid = created["client_id"]

    topped = cli_json(database_url, "accounts", "topup", cid, "25")
    assert topped == {"client_id": cid, "amount": 25, "balance": 75}

    listed = cli_json(database_url, "accounts", "list")
    assert [(a["client_id"], a["balance"], a["enabled"]) for a in listed] == [(cid, 75, True)]
    assert "client_secret" not in listed[0]
    assert "secret_hash" not in listed[0]

    rotated = cli_json(database_url, "accounts", "rotate-secret", cid)
    assert rotated["client_secret"] != created["client_secret"]

    disabled = cli_json(database_url, "accounts", "disable", cid)
    assert disabled["enabled"] is False

    ledger = cli_json(database_url, "accounts", "ledger", cid)
    assert sum(row["amount"] for row in ledger) == 75
    assert [row["kind"] for row in ledger] == ["topup", "topup"]


def test_people_get_spanish_and_errors_exit_non_zero(database_url: str) -> None:
    human = run_cli(database_url, "accounts", "create", "Farmacia", "--credits", "5")
    assert "Cuenta creada" in human.stdout
    assert "client_secret" in human.stdout

    missing = run_cli(database_url, "accounts", "topup", "no-existe", "10", check=False)
    assert missing.returncode == 1
    assert "No existe" in missing.stderr

    bad_country = run_cli(
        database_url, "accounts", "create", "X", "--country", "PE", "--json", check=False
    )
    assert bad_country.returncode == 1
    assert '"error"' in bad_country.stdout

    unknown_message = run_cli(database_url, "messages", "show", "999", check=False)
    assert unknown_message.returncode == 1

    usage = run_cli(database_url, "accounts", "topup", check=False)
    assert usage.returncode == 2


def test_messages_show_and_list_report_what_the_server_accepted(
    server: ServerProcess,
) -> None:
    account = server.create_account(credits=10)
    answer = httpx.get(
        f"{server.base_url}/http/",
        params={
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "client_opcion": "send_sms",
            "num": "04141234567,3001234567",
            "msg": "Hola ñandú",
        },
    ).json()
    ids = [row["Messageid"] for row in answer["response"][0]["datos"]]

    shown = server.cli_json("messages", "show", ids[0])
    assert {k: shown[k] for k in ("id", "to", "segments", "encoding", "text")} == {
        "id": int(ids[0]),
        "to": "+584141234567",
        "segments": 1,
        "encoding": "ucs2",
        "text": "Hola ñandú",
    }
    assert shown["status"] in {"queued", "sent", "delivered"}
    assert shown["created_at"]

    listed = server.cli_json("messages", "list", "--account", account.client_id)
    assert sorted(m["id"] for m in listed) == sorted(int(i) for i in ids)
    assert {m["to"] for m in listed} == {"+584141234567", "+573001234567"}
    filtered = server.cli_json("messages", "list", "--status", "failed")
    assert filtered == []
    bad_status = server.cli("messages", "list", "--status", "perdido", check=False)
    assert bad_status.returncode == 1


def test_db_upgrade_reports_the_revision(database_url: str) -> None:
    first = cli_json(database_url, "db", "upgrade")
    again = cli_json(database_url, "db", "upgrade")
    current = cli_json(database_url, "db", "current")
    assert first == again == {"revision": current["head"]}
    assert current["current"] == current["head"]
