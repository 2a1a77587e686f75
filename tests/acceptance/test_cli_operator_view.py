"""What the operator reads: stored text never drives the terminal (issue 8, item 5).

One real gateway and one smsc-sim serve the module: a handset's MO and a message's
reference carry terminal escape sequences and Rich markup; the human output shows them
inert and visible, ``--json`` returns them exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from centauro.store import tables
from centauro.store.engine import open_database
from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.smsc import SmscProcess, start_smsc

HOSTILE = "Hola \x1b]0;pwned\x07\x1b[2J [bold red]ALERTA[/] \x9b31m fin\nsegunda"
SHOWN = "Hola ␛]0;pwned␇␛[2J [bold red]ALERTA[/] \\x9b31m fin"
WIDE = {"COLUMNS": "400"}  # no table wrapping in the way of the assertions


@dataclass
class Gateway:
    gw: ServerProcess
    smsc: SmscProcess
    account: Account

    def human(self, *args: str, env: dict[str, str] | None = None) -> str:
        return self.gw.cli(*args, env=env or WIDE).stdout


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return found


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    workdir: Path = tmp_path_factory.mktemp("operator")
    smsc = start_smsc(workdir, dlr_delay=0.1)
    gw = start_server(
        f"sqlite:///{workdir / 'centauro.sqlite3'}",
        workdir,
        port=free_port(),
        env={"CENTAURO_RELOAD_SECONDS": "0.2"},
    )
    try:
        gw.cli_json(
            "connectors", "add", "sim", "--host", "127.0.0.1", "--port", str(smsc.port),
            "--system-id", smsc.system_id, "--password", smsc.password,
        )  # fmt: skip
        gw.cli_json("routes", "add", "--default", "--connector", "sim")
        wait_for(
            lambda: any(
                c["state"] == "up" for c in gw.cli_json("connectors", "status")["connectors"]
            ),
            "the SMPP bind",
        )
        yield Gateway(gw, smsc, gw.create_account(credits=100))
    finally:
        gw.stop()
        smsc.stop()


def _assert_inert(out: str) -> None:
    for raw in ("\x1b", "\x07", "\x9b"):
        assert raw not in out


def test_inbound_list_shows_escape_codes_and_markup_inert(gateway: Gateway) -> None:
    gateway.smsc.inject_mo("584141234567", "2222", HOSTILE, coding="ucs2")
    [mo] = wait_for(lambda: gateway.gw.cli_json("inbound", "list"), "the MO message")
    assert mo["text"] == HOSTILE  # --json stays exact

    out = gateway.human("inbound", "list")
    _assert_inert(out)
    assert SHOWN + "↵segunda" in out


def test_messages_show_and_list_show_escape_codes_and_markup_inert(gateway: Gateway) -> None:
    answer = httpx.post(
        f"{gateway.gw.base_url}/v1/messages",
        auth=(gateway.account.client_id, gateway.account.client_secret),
        json={"to": "04141234567", "text": "Su código es 4521"},
    )
    assert answer.status_code in (200, 201, 202), answer.text
    message_id = str(answer.json()["messages"][0]["id"])
    # A reference and text as an older version (or another door) may have stored them.
    db = open_database(gateway.gw.database_url)
    try:
        with db.begin() as conn:
            conn.execute(
                update(tables.messages)
                .where(tables.messages.c.id == int(message_id))
                .values(reference=HOSTILE, text=HOSTILE)
            )
    finally:
        db.dispose()

    shown = gateway.gw.cli_json("messages", "show", message_id)
    assert shown["reference"] == shown["text"] == HOSTILE

    out = gateway.human("messages", "show", message_id)
    _assert_inert(out)
    assert SHOWN in out
    assert "segunda" in out

    listed = gateway.human("messages", "list")
    _assert_inert(listed)
    assert "Hola ␛]0;pwned␇␛[2J [bold red]ALERTA[/]" in listed


def test_connectors_status_names_the_state_in_spanish(gateway: Gateway) -> None:
    out = gateway.human("connectors", "status")
    assert "conectado" in out
    assert " up " not in out
    assert gateway.gw.cli_json("connectors", "status")["connectors"][0]["state"] == "up"


def test_inbound_list_says_in_spanish_how_many_parts_came_and_if_any_is_missing(
    gateway: Gateway,
) -> None:
    """A concatenated MO given up on (issue 8, item 15) is marked in the human table too,
    with Spanish headers (item 14): the operator must not read a partial text as whole."""
    gateway.smsc.inject_mo("584141234568", "2222", "Quiero BA", coding="ucs2")
    [mo] = wait_for(
        lambda: [m for m in gateway.gw.cli_json("inbound", "list") if m["text"] == "Quiero BA"],
        "the MO message",
    )
    db = open_database(gateway.gw.database_url)
    try:
        with db.begin() as conn:  # as the reassembly stores a message given up on
            conn.execute(
                update(tables.inbound)
                .where(tables.inbound.c.id == int(mo["id"]))
                .values(parts=3, complete=False)
            )
    finally:
        db.dispose()

    header, row = (
        line
        for line in gateway.human("inbound", "list").splitlines()
        if "Partes" in line or "Quiero BA" in line
    )
    assert "Completo" in header
    assert "parts" not in header
    assert "complete" not in header
    assert [cell.strip() for cell in row.split("│")][-3:-1] == ["3", "no"]
