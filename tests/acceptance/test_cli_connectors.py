"""``connectors add`` and ``update`` share one option table and the kinds' own validation."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.server import cli_json, run_cli


def _options(help_text: str) -> set[str]:
    return set(re.findall(r"(--[a-z][a-z0-9-]+)", help_text)) - {"--help", "--type"}


def test_add_and_update_offer_the_same_connector_options(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    wide = {"COLUMNS": "200"}
    added = _options(run_cli(url, "connectors", "add", "--help", env=wide).stdout)
    updated = _options(run_cli(url, "connectors", "update", "--help", env=wide).stdout)
    assert added == updated
    assert {"--host", "--window", "--coding", "--dlr", "--no-dlr", "--dlr-delay"} <= added


def test_update_changes_only_what_is_given_and_is_validated_by_the_kind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    added = cli_json(
        url, "connectors", "add", "movistar", "--host", "127.0.0.1", "--port", "2775",
        "--system-id", "centauro", "--password", "clave", "--window", "8", "--coding", "latin1",
    )  # fmt: skip
    assert added["settings"]["password"] != "clave"  # never printed back
    updated = cli_json(url, "connectors", "update", "movistar", "--tps", "25", "--no-dlr")
    settings = updated["settings"]
    assert (settings["tps"], settings["registered_delivery"]) == (25.0, False)
    assert (settings["window"], settings["gsm7_coding"], settings["port"]) == (8, "latin1", 2775)

    bad = run_cli(url, "connectors", "update", "movistar", "--multipart", "carrier-pigeon",
                  "--json", check=False)  # fmt: skip
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["error"] == "error"
    assert cli_json(url, "connectors", "show", "movistar")["settings"]["multipart"] == "udh"

    sandbox = cli_json(url, "connectors", "add", "sbx", "--type", "sandbox", "--dlr-delay", "1")
    assert sandbox["settings"] == {"dlr_delay": 1.0}
    too_slow = run_cli(url, "connectors", "update", "sbx", "--dlr-delay", "5000", check=False)
    assert too_slow.returncode == 2
    assert "dlr_delay" in too_slow.stderr

    missing = run_cli(url, "connectors", "update", "nadie", "--tps", "1", check=False)
    assert missing.returncode == 1
    assert "No existe" in missing.stderr
