"""Delivery over SMPP through the whole gateway: compat API → store → smsc-sim → receipts.

Both the gateway (``centauro serve``) and the carrier (``centauro smsc-sim``) run as
separate processes over real sockets; the connector and routes are set with the CLI.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from centauro.store import messages as message_store
from centauro.store.engine import open_database
from tests.support.php import php_field
from tests.support.processes import eventually
from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.smsc import SmscProcess, start_smsc
from tests.support.stores import KINDS, store_url

WINDOW = 32
FAST_FAILOVER = {
    "CENTAURO_RELOAD_SECONDS": "0.2",
    "CENTAURO_HEARTBEAT_SECONDS": "0.5",
    "CENTAURO_WORKER_STALE_SECONDS": "2",
    "CENTAURO_LEASE_SECONDS": "10",
}


@dataclass
class Carrier:
    gw: ServerProcess
    smsc: SmscProcess
    account: Account

    def send(self, numbers: list[str], text: str) -> list[dict[str, str]]:
        people = ",".join(json.dumps({"id": "0", "cel": n, "nom": ""}) for n in numbers)
        answer = httpx.post(
            f"{self.gw.base_url}/controllersms/",
            data={
                "client_id": self.account.client_id,
                "client_secret": self.account.client_secret,
                "client_opcion": "send_sms",
                "json": php_field(people),
                "msg": php_field(text),
            },
            timeout=60,
        ).json()
        assert answer["status"] == "200", answer
        rows: list[dict[str, str]] = answer["response"][0]["datos"]
        return rows

    def statuses(self, ids: list[str]) -> Counter[str]:
        """How many of ``ids`` are in each state (read from the store directly: fast)."""
        db = open_database(self.gw.database_url)
        try:
            with db.read() as conn:
                return Counter(message_store.count_by_status(conn, [int(i) for i in ids]))
        finally:
            db.dispose()

    def balance(self) -> int:
        return int(
            next(
                a["balance"]
                for a in self.gw.cli_json("accounts", "list")
                if a["client_id"] == self.account.client_id
            )
        )


def connect(gw: ServerProcess, smsc: SmscProcess, *extra: str) -> None:
    gw.cli_json(
        "connectors", "add", "sim", "--host", "127.0.0.1", "--port", str(smsc.port),
        "--system-id", smsc.system_id, "--password", smsc.password, "--window", str(WINDOW),
        "--tps", "0", "--reconnect-min", "0.1", "--reconnect-max", "0.5", *extra,
    )  # fmt: skip
    gw.cli_json("routes", "add", "--default", "--connector", "sim")
    eventually(
        lambda: any(
            c["name"] == "sim" and c["state"] == "up"
            for c in gw.cli_json("connectors", "status")["connectors"]
        ),
        "the SMPP bind",
        timeout=20,
    )


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_url(request.param, tmp_path) as url:
        yield url


def carrier_for(
    store: str, tmp_path: Path, smsc_options: dict[str, Any], *connector_options: str
) -> Iterator[Carrier]:
    smsc = start_smsc(tmp_path, **smsc_options)
    gw = start_server(store, tmp_path, port=free_port(), env=FAST_FAILOVER)
    try:
        connect(gw, smsc, *connector_options)
        yield Carrier(gw, smsc, gw.create_account(credits=100_000))
    finally:
        gw.stop()
        smsc.stop()


@pytest.fixture
def carrier(store: str, tmp_path: Path) -> Iterator[Carrier]:
    yield from carrier_for(store, tmp_path, {"dlr_delay": 0.2, "reject_prefix": ["58416"]})


def ids_of(rows: list[dict[str, str]]) -> list[str]:
    return [r["Messageid"] for r in rows if r["Messageid"]]


def test_messages_reach_delivered_and_long_texts_go_in_parts(carrier: Carrier) -> None:
    short = ids_of(carrier.send(["04141234567", "04241234567"], "Su código es 4521"))
    long_text = "Promoción de fin de año en Centauro: " + "ñandú " * 40  # UCS-2, 5 parts
    long = ids_of(carrier.send(["04121234567"], long_text))
    eventually(
        lambda: carrier.statuses(short + long) == Counter(delivered=3),
        "three deliveries",
        timeout=20,
    )
    shown = carrier.gw.cli_json("messages", "show", long[0])
    assert (shown["encoding"], shown["segments"], shown["connector"]) == ("ucs2", 5, "sim")
    assert shown["sent_at"] <= shown["done_at"]
    destinations = Counter(a.destination for a in carrier.smsc.accepted())
    assert destinations["584121234567"] == 5  # one submit_sm per part
    assert destinations["584141234567"] == destinations["584241234567"] == 1


def test_a_carrier_rejection_fails_the_message_and_refunds_it(carrier: Carrier) -> None:
    before = carrier.balance()
    rejected = ids_of(carrier.send(["04161234567"], "Hola"))  # 58416 is refused by the SMSC
    eventually(lambda: carrier.statuses(rejected) == Counter(failed=1), "the failure", timeout=20)
    shown = carrier.gw.cli_json("messages", "show", rejected[0])
    assert "0x0000000b" in shown["error"].lower()
    assert carrier.balance() == before  # charged 1, refunded 1
    ledger = carrier.gw.cli_json("accounts", "ledger", carrier.account.client_id)
    assert ledger[0]["kind"] == "refund"
    assert sum(e["amount"] for e in ledger) == carrier.balance()


def test_inbound_messages_are_stored_and_listed(carrier: Carrier) -> None:
    carrier.smsc.inject_mo("584141234567", "2222", "¿Tienen envío a Maracaibo?")
    eventually(lambda: bool(carrier.gw.cli_json("inbound", "list")), "the MO message", timeout=20)
    mo = carrier.gw.cli_json("inbound", "list")[0]
    assert (mo["from"], mo["to"], mo["text"], mo["connector"]) == (
        "+584141234567",
        "2222",
        "¿Tienen envío a Maracaibo?",
        "sim",
    )


@pytest.fixture
def throttling(store: str, tmp_path: Path) -> Iterator[Carrier]:
    yield from carrier_for(store, tmp_path, {"dlr_delay": 0, "throttle_tps": 100})


def test_carrier_throttling_slows_us_down_but_fails_nothing(throttling: Carrier) -> None:
    numbers = [f"0414{i:07d}" for i in range(400)]
    ids = ids_of(throttling.send(numbers, "Oferta"))
    eventually(
        lambda: throttling.statuses(ids) == Counter(delivered=400), "400 deliveries", timeout=60
    )
    assert throttling.smsc.stats()["submit_throttled"] > 0


def test_a_dropped_bind_requeues_what_was_in_flight(carrier: Carrier) -> None:
    numbers = [f"0424{i:07d}" for i in range(3000)]
    ids = ids_of(carrier.send(numbers, "Aviso"))
    carrier.smsc.wait_for(lambda s: s["submit_accepted"] >= 300, timeout=20)
    carrier.smsc.drop()
    eventually(lambda: carrier.statuses(ids)["delivered"] == 3000, "3000 deliveries", timeout=60)
    accepted = Counter(a.destination for a in carrier.smsc.accepted())
    assert set(accepted) >= {"58" + n[1:] for n in numbers}  # none missing at the SMSC
    assert sum(accepted.values()) - 3000 <= WINDOW  # resent: at most what was in flight


def test_kill_9_in_the_middle_of_10000_messages_loses_nothing(store: str, tmp_path: Path) -> None:
    """kill -9 mid-run; after a restart every message ends final, none is missing at the
    SMSC, and the duplicates are bounded by the window."""
    smsc = start_smsc(tmp_path, dlr_delay=0.5)
    gw = start_server(store, tmp_path, port=free_port(), env=FAST_FAILOVER)
    try:
        connect(gw, smsc)
        account = gw.create_account(credits=20_000)
        run = Carrier(gw, smsc, account)
        numbers = [f"0412{i:07d}" for i in range(10_000)]
        ids = ids_of(run.send(numbers, "Recordatorio de su cita"))
        assert len(ids) == 10_000
        smsc.wait_for(lambda s: s["submit_accepted"] >= 2_000, timeout=30)
        gw.kill()
        gw.start()
        eventually(
            lambda: (
                [c["state"] for c in gw.cli_json("connectors", "status")["connectors"]] == ["up"]
            ),
            "the bind after restart",
            timeout=30,
        )
        eventually(
            lambda: (
                gw.cli_json("connectors", "status")["queued"] == 0
                and gw.cli_json("connectors", "status")["awaiting_receipt"] == 0
            ),
            "every message final",
            timeout=90,
        )
    finally:
        gw.stop()
        smsc.stop()
    accepted = Counter(a.destination for a in smsc.accepted())
    assert set(accepted) >= {"58" + n[1:] for n in numbers}
    duplicates = sum(accepted.values()) - 10_000
    assert duplicates <= WINDOW, duplicates
