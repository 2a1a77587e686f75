"""``centauro accounts update``: the operator sets an account's zone, quiet hours and limits.

Run as a real subprocess against each store. What the settings do to sends is checked
against a running server in ``test_scheduling.py``; here, that they are stored, shown,
cleared, and that bad values are refused in Spanish with the usual exit codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.server import cli_json, run_cli

SETTINGS = ("timezone", "quiet_hours", "rate_limit", "max_recipients")


def created(database_url: str) -> dict[str, Any]:
    data: dict[str, Any] = cli_json(database_url, "accounts", "create", "Tienda", "--credits", "5")
    return data


def test_new_accounts_show_their_default_settings(database_url: str) -> None:
    account = created(database_url)
    expected = {"timezone": "America/Caracas", "quiet_hours": None, "rate_limit": None,
                "max_recipients": None}  # fmt: skip
    assert {k: account[k] for k in SETTINGS} == expected
    [listed] = cli_json(database_url, "accounts", "list")
    assert {k: listed[k] for k in SETTINGS} == expected


def test_every_setting_can_be_changed_and_cleared(database_url: str) -> None:
    cid = created(database_url)["client_id"]
    changed = cli_json(
        database_url, "accounts", "update", cid,
        "--name", "Tienda Bogotá", "--country", "co", "--timezone", "America/Bogota",
        "--quiet-hours", "21:00-08:00", "--rate-limit", "2.5", "--max-recipients", "3",
    )  # fmt: skip
    assert changed["client_id"] == cid
    assert (changed["name"], changed["country"]) == ("Tienda Bogotá", "CO")
    assert {k: changed[k] for k in SETTINGS} == {
        "timezone": "America/Bogota", "quiet_hours": "21:00-08:00", "rate_limit": 2.5,
        "max_recipients": 3,
    }  # fmt: skip
    [listed] = cli_json(database_url, "accounts", "list")
    assert {k: listed[k] for k in SETTINGS} == {k: changed[k] for k in SETTINGS}

    # Options not given stay as they are; "0" is "no limit", not "the default".
    unlimited = cli_json(database_url, "accounts", "update", cid, "--rate-limit", "0")
    assert (unlimited["rate_limit"], unlimited["quiet_hours"]) == (0, "21:00-08:00")

    cleared = cli_json(
        database_url, "accounts", "update", cid,
        "--quiet-hours", "none", "--rate-limit", "default", "--max-recipients", "default",
    )  # fmt: skip
    assert {k: cleared[k] for k in SETTINGS} == {
        "timezone": "America/Bogota", "quiet_hours": None, "rate_limit": None,
        "max_recipients": None,
    }  # fmt: skip


def test_people_read_the_settings_in_spanish(database_url: str) -> None:
    cid = created(database_url)["client_id"]
    shown = run_cli(
        database_url, "accounts", "update", cid, "--quiet-hours", "22:00-07:30",
        "--rate-limit", "0",
    ).stdout  # fmt: skip
    assert f"Cuenta actualizada: {cid}" in shown
    for words in ("Horas de silencio", "22:00-07:30", "sin límite", "Máx. destinatarios"):
        assert words in shown
    assert "(por defecto del servidor)" in shown


def test_bad_values_are_refused_and_nothing_changes(tmp_path: Path) -> None:
    """Validation does not depend on the store: one SQLite file is enough here."""
    database_url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    cid = created(database_url)["client_id"]
    cases = [
        (["--timezone", "America/Maracaibo"], 1, "unknown time zone"),
        (["--quiet-hours", "21h-8h"], 1, "HH:MM-HH:MM"),
        (["--rate-limit", "-1", "--name", "Otra"], 1, "rate_limit"),
        (["--max-recipients", "3.5"], 2, "--max-recipients"),
    ]
    for options, code, detail in cases:
        result = run_cli(database_url, "accounts", "update", cid, *options, check=False)
        assert result.returncode == code, (options, result.stdout, result.stderr)
        assert detail in result.stderr, (options, result.stderr)
        assert "Error" in result.stderr
    as_json = run_cli(
        database_url, "accounts", "update", cid, "--timezone", "Mars/Base", "--json", check=False
    )
    assert as_json.returncode == 1
    assert '"error": "InvalidRequest"' in as_json.stdout
    [listed] = cli_json(database_url, "accounts", "list")
    assert (listed["name"], listed["country"], listed["timezone"]) == (
        "Tienda", "VE", "America/Caracas",
    )  # fmt: skip
    assert listed["quiet_hours"] is listed["rate_limit"] is listed["max_recipients"] is None


def test_an_unknown_account_is_not_found(database_url: str) -> None:
    result = run_cli(database_url, "accounts", "update", "no-existe", "--name", "X", check=False)
    assert result.returncode == 1
    assert "No existe" in result.stderr
