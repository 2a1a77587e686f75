"""``centauro senders``: the operator grants, lists, defaults and withdraws sender IDs.

Real subprocesses against each store; what a send does with them is in
``test_sender_ids.py`` (a running server and smsc-sim).
"""

from __future__ import annotations

from tests.support.server import cli_json, run_cli


def account(database_url: str) -> str:
    cid: str = cli_json(database_url, "accounts", "create", "Banco", "--credits", "5")["client_id"]
    return cid


def test_senders_are_granted_normalised_and_the_first_is_the_default(database_url: str) -> None:
    cid = account(database_url)
    assert cli_json(database_url, "senders", "list", cid) == []
    first = cli_json(database_url, "senders", "add", cid, "Banco XYZ")
    assert (first["value"], first["kind"], first["is_default"]) == ("Banco XYZ", "alnum", True)
    cli_json(database_url, "senders", "add", cid, "2020")
    long = cli_json(database_url, "senders", "add", cid, "0414-123 4567", "--default")
    assert (long["value"], long["kind"], long["is_default"]) == ("+584141234567", "long", True)
    listed = cli_json(database_url, "senders", "list", cid)
    assert [(s["value"], s["kind"], s["is_default"]) for s in listed] == [
        ("+584141234567", "long", True),
        ("Banco XYZ", "alnum", False),
        ("2020", "shortcode", False),
    ]
    cli_json(database_url, "senders", "default", cid, "2020")
    removed = cli_json(database_url, "senders", "remove", cid, "+58 414 1234567")
    assert removed == {"value": "+584141234567", "removed": True}
    listed = cli_json(database_url, "senders", "list", cid)
    assert [(s["value"], s["is_default"]) for s in listed] == [
        ("2020", True),
        ("Banco XYZ", False),
    ]
    human = run_cli(database_url, "senders", "list", cid).stdout
    assert "código corto" in human
    assert "alfanumérico" in human


def test_bad_senders_and_accounts_are_refused_in_spanish(database_url: str) -> None:
    cid = account(database_url)
    cases = [
        (("add", cid, "Demasiado largo"), "Remitente no válido"),
        (("add", cid, "Pagá"), "Remitente no válido"),
        (("add", cid, "12"), "Remitente no válido"),
        (("remove", cid, "2020"), "No existe"),
        (("default", cid, "Centauro"), "No existe"),
        (("add", "no-such-client", "2020"), "No existe"),
    ]
    for args, headline in cases:
        result = run_cli(database_url, "senders", *args, check=False)
        assert result.returncode == 1, args
        assert headline in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    cli_json(database_url, "senders", "add", cid, "2020")
    again = run_cli(database_url, "senders", "add", cid, "2020", check=False)
    assert again.returncode == 1
    assert "Ya existe" in again.stderr


def test_one_accounts_senders_are_not_anothers(database_url: str) -> None:
    mine, theirs = account(database_url), account(database_url)
    cli_json(database_url, "senders", "add", mine, "Mio")
    assert cli_json(database_url, "senders", "list", theirs) == []
    result = run_cli(database_url, "senders", "remove", theirs, "Mio", check=False)
    assert result.returncode == 1
    assert [s["value"] for s in cli_json(database_url, "senders", "list", mine)] == ["Mio"]
