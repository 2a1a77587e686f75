"""The SMPP server and sender IDs, end to end: a customer's submit_sm source_addr is taken
when the operator granted it, refused with ESME_RINVSRCADR when not, and an empty one gets
the account's default; the carrier (a real ``smsc-sim`` behind our SMPP connector) sees
each message's source_addr, TON and NPI.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.esme import Smpp, new_customer, smpp_gateway
from tests.support.smsc import Accepted, SmscProcess, start_smsc
from tests.support.stores import KINDS, store_url

ESME_RINVSRCADR = 0x0A


@pytest.fixture(params=KINDS)
def carrier(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Smpp, SmscProcess]]:
    with (
        store_url(request.param, tmp_path) as url,
        start_smsc(tmp_path / "smsc", dlr_delay=0.1) as smsc,
    ):
        for smpp in smpp_gateway(url, tmp_path, env={"CENTAURO_RELOAD_SECONDS": "0.2"}):
            smpp.gw.cli_json(
                "connectors", "add", "sim", "--host", "127.0.0.1", "--port", str(smsc.port),
                "--system-id", smsc.system_id, "--password", smsc.password, "--tps", "0",
                "--source-addr", "88000",
            )  # fmt: skip
            smpp.gw.cli_json("routes", "add", "--default", "--connector", "sim")
            yield smpp, smsc


def at_smsc(smsc: SmscProcess, destination: str) -> Accepted:
    deadline = time.monotonic() + 20
    while True:
        found = [a for a in smsc.accepted() if a.destination == destination]
        if found:
            assert len(found) == 1, found
            return found[0]
        assert time.monotonic() < deadline, f"no submit_sm to {destination} at the SMSC"
        time.sleep(0.1)


def test_granted_source_addresses_go_out_and_others_are_refused(
    carrier: tuple[Smpp, SmscProcess],
) -> None:
    smpp, smsc = carrier
    gw = smpp.gw
    gw.cli_json("senders", "add", smpp.account.client_id, "Centauro")  # the default
    gw.cli_json("senders", "add", smpp.account.client_id, "2020")
    gw.cli_json("senders", "add", smpp.account.client_id, "+584149990000")
    esme = smpp.esme()
    try:
        cases = [
            ("584141230001", {"source_addr": "2020", "source_addr_ton": 3}),
            ("584141230002", {"source_addr": "", "source_addr_ton": 0}),
            ("584141230003", {"source_addr": "584149990000", "source_addr_ton": 1}),
            ("584141230004", {"source_addr": "Centauro", "source_addr_ton": 5}),
            ("584141230005", {"source_addr": "OtroBanco", "source_addr_ton": 5}),
            ("584141230006", {"source_addr": "2021", "source_addr_ton": 3}),
        ]
        sequences = [esme.submit(number, b"Hola", **fields) for number, fields in cases]
        statuses = [esme.answer(s)[0] for s in sequences]
    finally:
        esme.close()
    assert statuses == [0, 0, 0, 0, ESME_RINVSRCADR, ESME_RINVSRCADR]
    seen = {
        n: (a.source_ton, a.source_npi, a.source)
        for n in ("584141230001", "584141230002", "584141230003", "584141230004")
        for a in [at_smsc(smsc, n)]
    }
    assert seen == {
        "584141230001": (3, 0, "2020"),
        "584141230002": (5, 0, "Centauro"),  # empty source_addr: the default
        "584141230003": (1, 1, "584149990000"),
        "584141230004": (5, 0, "Centauro"),
    }
    refused = [a for a in smsc.accepted() if a.destination in ("584141230005", "584141230006")]
    assert refused == []

    # An account the operator granted nothing keeps sending as before sender IDs: its
    # ESME's source_addr is not checked, and the connector's own address goes out.
    other = new_customer(smpp, name="Sin remitentes")
    esme = other.esme()
    try:
        status, message_id = esme.answer(esme.submit("584141230007", b"Hola"))
    finally:
        esme.close()
    assert status == 0
    assert (at_smsc(smsc, "584141230007").source_ton, at_smsc(smsc, "584141230007").source) == (
        0,
        "88000",
    )
    assert gw.cli_json("messages", "show", message_id)["sender"] is None


def digest(destination: str, short_message: bytes) -> str:
    """What smsc-sim logs for an accepted submit_sm (smsc_sim/stats.py)."""
    data = destination.encode() + b"\0" + short_message
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def test_binary_submits_reach_the_carrier_as_data_coding_4_bytes_intact(
    carrier: tuple[Smpp, SmscProcess],
) -> None:
    smpp, smsc = carrier
    port = b"\x05\x04\x0b\x84\x23\xf0"  # a WAP push's application ports
    push = bytes([len(port)]) + port + bytes(range(0x80, 0x80 + 100))  # UDH + 100 octets
    long_body = bytes(range(256))[:200]  # no UDH: two parts of 134 + 66 octets
    balance_before = balance(smpp)
    esme = smpp.esme()
    try:
        first = esme.submit("584141230011", push, data_coding=4, esm_class=0x40)
        second = esme.submit("584141230012", long_body, data_coding=4)
        (s1, push_id), (s2, long_id) = esme.answer(first), esme.answer(second)
    finally:
        esme.close()
    assert (s1, s2) == (0, 0)
    assert balance(smpp) == balance_before - 1 - 2  # charged per 140-octet part

    single = at_smsc(smsc, "584141230011")
    assert single.data_coding == 4
    assert single.digest == digest("584141230011", push)  # the same octets, UDH and all

    deadline = time.monotonic() + 20
    while len(parts := [a for a in smsc.accepted() if a.destination == "584141230012"]) < 2:
        assert time.monotonic() < deadline, "the two binary parts never reached the SMSC"
        time.sleep(0.1)
    assert [p.data_coding for p in parts] == [4, 4]
    chunks = [long_body[:134], long_body[134:]]
    expected = [
        {
            digest("584141230012", b"\x05\x00\x03" + bytes([ref, 2, seq]) + c)
            for seq, c in enumerate(chunks, 1)
        }
        for ref in range(256)
    ]
    assert {p.digest for p in parts} in expected  # the parts rebuild the 200 octets

    shown = smpp.gw.cli_json("messages", "show", long_id)
    assert (shown["encoding"], shown["segments"], shown["text"]) == ("binary", 2, long_body.hex())
    assert smpp.gw.cli_json("messages", "show", push_id)["text"] == push[7:].hex()


def balance(smpp: Smpp) -> int:
    rows = smpp.gw.cli_json("accounts", "list")
    return int(next(a["balance"] for a in rows if a["client_id"] == smpp.account.client_id))


def test_binary_through_the_sandbox_is_delivered(tmp_path: Path) -> None:
    with store_url("sqlite", tmp_path) as url:
        for smpp in smpp_gateway(url, tmp_path):
            _binary_via_sandbox(smpp)


def _binary_via_sandbox(smpp: Smpp) -> None:
    esme = smpp.esme()
    try:
        sequence = esme.submit(
            "584141230021", b"\x00\x01\xfe\xff", data_coding=4, registered_delivery=1
        )
        status, message_id = esme.answer(sequence)
        assert status == 0
        receipt = esme.wait_deliver(lambda d: d.receipted_message_id == message_id)
    finally:
        esme.close()
    assert b"stat:DELIVRD" in receipt.text
    shown = smpp.gw.cli_json("messages", "show", message_id)
    assert (shown["status"], shown["encoding"], shown["text"]) == (
        "delivered",
        "binary",
        "0001feff",
    )
