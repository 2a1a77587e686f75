"""Receipts and MO back to SMPP customers, query_sm, cancel_sm and submit_multi, against a
real ``centauro serve --smpp-port`` (and ``centauro smsc-sim`` as the carrier for MO)."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from pathlib import Path

import gsm0338  # noqa: F401 - registers the gsm03.38 codec
import httpx
import pytest
import smpplib.smpp

from tests.support.esme import (
    OPERATOR_TOKEN,
    Esme,
    Raw,
    Smpp,
    new_customer,
    receipt_fields,
    smpp_gateway,
)
from tests.support.smsc import start_smsc
from tests.support.stores import store_url

VE = "584141234567"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Smpp]:
    tmp_path = tmp_path_factory.mktemp("smpp")
    with store_url("sqlite", tmp_path) as url:
        yield from smpp_gateway(url, tmp_path)


@pytest.fixture
def smpp(server: Smpp) -> Smpp:
    return new_customer(server)


def test_a_receipt_waits_for_the_receiver_bind_and_comes_on_rebind(smpp: Smpp) -> None:
    sender = smpp.esme("transmitter")
    _, message_id = sender.answer(sender.submit(VE, "hola", registered_delivery=1))
    sender.pump(1.5)  # delivered by now; a transmitter bind gets no deliver_sm
    assert sender.delivers == []
    sender.close()
    receiver = smpp.esme("receiver")
    receipt = receiver.wait_deliver(lambda d: d.receipted_message_id == message_id)
    assert receipt_fields(receipt.text)["stat"] == "DELIVRD"
    receiver.close()
    again = smpp.esme("receiver")  # acknowledged once: not sent again
    again.pump(1.0)
    assert again.delivers == []
    again.close()


def test_a_client_that_never_acknowledges_keeps_its_receipts_and_others_go_on(
    server: Smpp,
) -> None:
    slow, fast = new_customer(server), new_customer(server, name="Otro")
    silent = Raw(slow.port)  # a receiver bind that never reads, never answers a deliver_sm
    assert silent.bind(slow.system_id, slow.password, command_id=0x01) == 0
    sender = slow.esme("transmitter")
    slow_ids = [
        sender.answer(sender.submit(VE, f"lento {i}", registered_delivery=1))[1] for i in range(3)
    ]
    sender.close()
    refuser = fast.esme()
    refuser.ack_delivers = False  # answers every deliver_sm with an error: retried later
    _, refused_id = refuser.answer(refuser.submit(VE, "rechazo", registered_delivery=1))
    refuser.wait_deliver(lambda d: d.receipted_message_id == refused_id)
    refuser.close()
    quick = new_customer(server, name="Tercero").esme()
    _, fast_id = quick.answer(quick.submit(VE, "rápido", registered_delivery=1))
    quick.wait_deliver(lambda d: d.receipted_message_id == fast_id)  # others are not held up
    quick.close()
    silent.close()  # its unanswered receipts are free again
    retry = slow.esme("receiver")
    for mid in slow_ids:
        retry.wait_deliver(lambda d, m=mid: d.receipted_message_id == m, timeout=20)
    retry.close()
    again = fast.esme("receiver")  # refused once, sent again after the backoff
    again.wait_deliver(lambda d: d.receipted_message_id == refused_id, timeout=20)
    again.close()


def _query(esme: Esme, message_id: str) -> tuple[int, int]:
    pdu = smpplib.smpp.make_pdu(
        "query_sm", client=esme.client, message_id=message_id, source_addr="CENTAURO"
    )
    esme.client.send_pdu(pdu)
    deadline = time.monotonic() + 10
    while not esme.others:
        assert time.monotonic() < deadline, "no query_sm_resp"
        esme.pump()
    resp = esme.others.pop()
    return int(resp.status), int(resp.message_state or 0)


def _c(value: str) -> bytes:
    return value.encode() + b"\0"


def test_query_sm_and_cancel_sm_are_answered_from_the_store(smpp: Smpp) -> None:
    esme = smpp.esme()
    # Scheduled an hour from now (relative SMPP time): cancellable until then.
    _, later = esme.answer(esme.submit(VE, "mañana", schedule_delivery_time="000000010000000R"))
    assert smpp.gw.cli_json("messages", "show", later)["status"] == "scheduled"
    assert _query(esme, later) == (0, 1)  # ENROUTE
    esme.close()
    raw = Raw(smpp.port)
    assert raw.bind(smpp.system_id, smpp.password) == 0
    cancel = b"\0" + _c(later) + b"\x05\x00" + _c("CENTAURO") + b"\x01\x01" + _c(VE)
    raw.send(0x08, cancel, sequence=9)
    assert raw.read_until(0x80000008)[1:3] == (0, 9)
    raw.send(0x08, cancel, sequence=10)  # cancelled already: cannot be cancelled again
    assert raw.read_until(0x80000008)[1:3] == (0x11, 10)  # ESME_RCANCELFAIL
    raw.send(0x08, b"\0" + _c("999999999") + b"\x05\x00\0\x01\x01\0", sequence=11)
    assert raw.read_until(0x80000008)[1:3] == (0x0C, 11)  # ESME_RINVMSGID
    raw.close()
    shown = smpp.gw.cli_json("messages", "show", later)
    assert shown["status"] == "cancelled"
    esme = smpp.esme()
    assert _query(esme, later) == (0, 4)  # DELETED
    assert _query(esme, "12x") == (0x0C, 0)
    other = new_customer(smpp)  # another account's message is not there for it
    intruder = other.esme()
    assert _query(intruder, later)[0] == 0x67  # ESME_RQUERYFAIL
    intruder.close()
    esme.close()


def test_submit_multi_answers_each_refused_destination(smpp: Smpp) -> None:
    raw = Raw(smpp.port)
    assert raw.bind(smpp.system_id, smpp.password) == 0
    destinations = [VE, "584241234567", "letras", "5800"]
    body = b"\0" + b"\x05\x00" + _c("CENTAURO") + bytes((len(destinations),))
    for d in destinations:
        body += b"\x01\x01\x01" + _c(d)
    body += b"\x00\x00\x00" + b"\0\0" + b"\x01\x00\x00\x00" + bytes((4,)) + b"hola"
    raw.send(0x21, body, sequence=5)
    _, status, sequence, answer = raw.read_until(0x80000021)
    assert (status, sequence) == (0, 5)
    nul = answer.index(b"\0")
    message_id, count = answer[:nul].decode(), answer[nul + 1]
    assert message_id.isdigit()
    assert count == 2
    refused, pos = [], nul + 2
    for _ in range(count):
        end = answer.index(b"\0", pos + 2)
        address = answer[pos + 2 : end].decode()
        refused.append((address, struct.unpack(">I", answer[end + 1 : end + 5])[0]))
        pos = end + 5
    assert refused == [("letras", 0x0B), ("5800", 0x0B)]
    raw.close()
    shown = smpp.gw.cli_json("messages", "list", "--json")
    texts = [m for m in shown if m["to"] in ("+584141234567", "+584241234567")]
    assert len(texts) >= 2


def test_mo_for_the_accounts_numbers_reaches_its_receiver_bind(
    tmp_path: Path,
) -> None:
    smsc = start_smsc(tmp_path, dlr_delay=0.1)
    try:
        with store_url("sqlite", tmp_path) as url:
            for smpp in smpp_gateway(url, tmp_path):
                smpp.gw.cli_json(
                    "connectors", "add", "sim", "--host", "127.0.0.1", "--port",
                    str(smsc.port), "--system-id", smsc.system_id, "--password",
                    smsc.password, "--tps", "0",
                )  # fmt: skip
                smpp.gw.cli_json("routes", "add", "--default", "--connector", "sim")
                _mo_round_trip(smpp, smsc)
    finally:
        smsc.stop()


def _mo_round_trip(smpp: Smpp, smsc: object) -> None:
    esme = smpp.esme()
    try:
        deadline = time.monotonic() + 30
        while True:  # the connector binds to the simulator within a reload or two
            status, message_id = esme.answer(esme.submit(VE, "¿Viene?", registered_delivery=1))
            if status == 0:
                break
            assert time.monotonic() < deadline, f"submit refused: 0x{status:x}"
            time.sleep(0.5)
        # Accepted just before the reload that replaces the built-in sandbox, the message
        # goes out through the sandbox, which reports it as it stops.
        esme.wait_deliver(lambda d: d.receipted_message_id == message_id, timeout=30)
        smsc.inject_mo("+" + VE, "2222", "Sí, voy")  # type: ignore[attr-defined]
        mo = esme.wait_deliver(lambda d: d.esm_class == 0, timeout=30)
        assert (mo.source, mo.destination) == (VE, "2222")
        assert mo.text.decode("gsm03.38" if mo.data_coding == 0 else "utf-16-be") == "Sí, voy"
    finally:
        esme.close()  # also on failure: an unclosed socket fails the next test's setup


def test_the_operator_sees_binds_and_receipts_waiting_per_account(smpp: Smpp) -> None:
    sender = smpp.esme("transmitter")
    _, message_id = sender.answer(sender.submit(VE, "hola", registered_delivery=1))

    def mine() -> dict[str, object]:
        rows = smpp.gw.cli_json("smpp-clients", "status")
        return next(r for r in rows if r["client_id"] == smpp.account.client_id)

    deadline = time.monotonic() + 20
    while (row := mine())["binds"] != {"tx": 1} or row["waiting"] != 1:
        assert time.monotonic() < deadline, row
        time.sleep(0.5)
    assert row["system_id"] == smpp.system_id
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    health = httpx.get(f"{smpp.gw.base_url}/v1/health", headers=operator, timeout=10).json()
    live = next(
        a for a in health["smpp_server"]["accounts"] if a["client_id"] == smpp.account.client_id
    )
    assert live["binds"] == {"tx": 1}
    assert health["smpp_server"]["port"] == smpp.port
    sender.close()
    receiver = smpp.esme("receiver")
    receiver.wait_deliver(lambda d: d.receipted_message_id == message_id)
    receiver.close()
    deadline = time.monotonic() + 20
    while (row := mine())["binds"] != {} or row["waiting"] != 0:
        assert time.monotonic() < deadline, row
        time.sleep(0.5)
