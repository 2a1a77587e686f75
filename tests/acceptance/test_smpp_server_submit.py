"""submit_sm into a real ``centauro serve --smpp-port``, from smpplib: charged, routed and
delivered like an API send (the built-in sandbox carrier reports delivery), answered with
the message id, and the receipt back over the customer's bind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.esme import Esme, Smpp, new_customer, receipt_fields, smpp_gateway
from tests.support.stores import KINDS, store_url

VE = "584141234567"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Smpp]:
    """One server for the module (starting one costs seconds); each test its own account."""
    tmp_path = tmp_path_factory.mktemp("smpp")
    with store_url("sqlite", tmp_path) as url:
        yield from smpp_gateway(url, tmp_path)


@pytest.fixture
def smpp(server: Smpp) -> Smpp:
    return new_customer(server)


@pytest.fixture
def esme(smpp: Smpp) -> Iterator[Esme]:
    client = smpp.esme()
    try:
        yield client
    finally:
        client.close()


def show(smpp: Smpp, message_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = smpp.gw.cli_json("messages", "show", message_id)
    return shown


def balance(smpp: Smpp) -> int:
    return int(
        next(
            a["balance"]
            for a in smpp.gw.cli_json("accounts", "list")
            if a["client_id"] == smpp.account.client_id
        )
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_submit_is_charged_delivered_and_its_receipt_comes_back(
    tmp_path: Path, kind: str
) -> None:
    with store_url(kind, tmp_path) as url:
        for smpp in smpp_gateway(url, tmp_path):
            _round_trip(smpp)


def _round_trip(smpp: Smpp) -> None:
    esme = smpp.esme()
    text = "Su código es 4521"
    sequence = esme.submit(VE, text.encode("latin-1"), data_coding=3, registered_delivery=1)
    status, message_id = esme.answer(sequence)
    assert status == 0
    assert message_id.isdigit()
    receipt = esme.wait_deliver(lambda d: d.receipted_message_id == message_id)
    fields = receipt_fields(receipt.text)
    assert (fields["id"], fields["stat"], fields["err"], fields["dlvrd"]) == (
        message_id,
        "DELIVRD",
        "000",
        "001",
    )
    assert fields["text"] == "Su c?digo es 4521"  # the receipt's text is ASCII
    assert receipt.esm_class == 0x04
    assert receipt.message_state == 2  # DELIVERED
    assert (receipt.source, receipt.destination) == (VE, "CENTAURO")
    shown = show(smpp, message_id)
    assert (shown["status"], shown["source"], shown["text"]) == ("delivered", "smpp", text)
    assert balance(smpp) == 999
    esme.close()


def test_no_receipt_unless_asked_and_failures_only_when_asked_so(smpp: Smpp, esme: Esme) -> None:
    _, plain = esme.answer(esme.submit(VE, "sin recibo"))
    _, failures_only = esme.answer(esme.submit(VE, "solo fallos", registered_delivery=2))
    _, always = esme.answer(esme.submit(VE, "siempre", registered_delivery=1))
    esme.wait_deliver(lambda d: d.receipted_message_id == always)
    esme.pump(1.0)
    assert {show(smpp, m)["status"] for m in (plain, failures_only)} == {"delivered"}
    assert [d.receipted_message_id for d in esme.delivers] == [always]


@pytest.mark.parametrize(
    ("data_coding", "body", "text"),
    [
        (0, b"Precio: 5\x1be y \x00", "Precio: 5€ y @"),  # GSM-7 unpacked, an escape
        (1, b"plain ascii", "plain ascii"),
        (3, "Año nuevo en Mérida".encode("latin-1"), "Año nuevo en Mérida"),
        (8, "Feliz año 🎉".encode("utf-16-be"), "Feliz año 🎉"),
    ],
)
def test_data_codings_are_read_into_the_text_that_goes_out(
    smpp: Smpp, esme: Esme, data_coding: int, body: bytes, text: str
) -> None:
    status, message_id = esme.answer(esme.submit(VE, body, data_coding=data_coding))
    assert status == 0
    assert show(smpp, message_id)["text"] == text


def _parts(text: str, size: int) -> list[bytes]:
    data = text.encode("utf-16-be")
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_concatenated_parts_become_one_message_charged_per_segment(smpp: Smpp, esme: Esme) -> None:
    text = "Promoción de fin de año en Centauro: " + "ñandú " * 20  # UCS-2: 157 chars, 3 SMS
    pieces = _parts(text, 134)
    sequences = [
        esme.submit(
            VE,
            bytes((5, 0, 3, 0x2A, len(pieces), i)) + piece,
            data_coding=8,
            esm_class=0x40,
            registered_delivery=1,
        )
        for i, piece in enumerate(pieces, 1)
    ]
    answers = {esme.answer(s) for s in sequences}
    assert len(answers) == 1  # every part answered with the one message's id
    status, udh8 = answers.pop()
    assert status == 0
    shown = show(smpp, udh8)
    assert (shown["text"], shown["segments"], shown["encoding"]) == (text, 3, "ucs2")

    gsm = "Hola " * 40  # 200 GSM-7 characters: 2 segments
    udh16 = [
        esme.submit(VE, bytes((6, 8, 4, 0x12, 0x34, 2, i)) + part.encode(), esm_class=0x40)
        for i, part in enumerate((gsm[:153], gsm[153:]), 1)
    ]
    (_, udh16_id), *_ = {esme.answer(s) for s in reversed(udh16)}
    assert show(smpp, udh16_id)["text"] == gsm

    sar = [
        esme.submit(
            VE,
            part.encode(),
            sar_msg_ref_num=0x0101,
            sar_total_segments=2,
            sar_segment_seqnum=i,
        )
        for i, part in enumerate((gsm[:153], gsm[153:]), 1)
    ]
    (_, sar_id), *_ = {esme.answer(s) for s in sar}
    assert show(smpp, sar_id)["segments"] == 2

    _, payload_id = esme.answer(esme.submit(VE, b"", message_payload=gsm.encode()))
    assert show(smpp, payload_id)["text"] == gsm
    assert balance(smpp) == 1000 - 3 - 2 - 2 - 2
    receipt = esme.wait_deliver(lambda d: d.receipted_message_id == udh8)
    assert receipt_fields(receipt.text)["stat"] == "DELIVRD"


@pytest.mark.parametrize(
    ("kw", "status"),
    [
        ({"destination": "hola-mundo"}, 0x0B),  # ESME_RINVDSTADR
        ({"destination": "5800"}, 0x0B),  # digits, but not a mobile
        ({"body": b"\x20\x00\x03\x01\x02\x01hola", "esm_class": 0x40}, 0x01),  # UDH lies
        ({"data_coding": 5, "body": b"\x01\x02"}, 0x104),  # Shift-JIS: not carried
        ({"data_coding": 8, "body": b"\x00A\x00"}, 0x01),  # odd UCS-2
        ({"schedule_delivery_time": "mañana"}, 0x61),  # ESME_RINVSCHED
        ({"validity_period": "010101000000000+"}, 0x62),  # ESME_RINVEXPIRY: already over
        ({"validity_period": "9913"}, 0x62),  # not an SMPP time
    ],
)
def test_bad_submits_are_answered_in_smpp_terms_and_not_charged(
    smpp: Smpp, esme: Esme, kw: dict[str, Any], status: int
) -> None:
    destination = kw.pop("destination", VE)
    body = kw.pop("body", b"hola")
    assert esme.answer(esme.submit(destination, body, **kw))[0] == status
    assert esme.answer(esme.submit(VE, "sigue funcionando"))[0] == 0
    assert balance(smpp) == 999


def test_no_credit_and_opted_out_numbers_are_refused_with_their_codes(server: Smpp) -> None:
    smpp = new_customer(server, credits=1)
    esme = smpp.esme()
    env = {
        "CENTAURO_URL": smpp.gw.base_url,
        "CENTAURO_CLIENT_ID": smpp.account.client_id,
        "CENTAURO_CLIENT_SECRET": smpp.account.client_secret,
    }
    smpp.gw.cli("suppressions", "add", "04241234567", env=env)
    assert esme.answer(esme.submit("584241234567", "hola"))[0] == 0x45  # ESME_RSUBMITFAIL
    assert esme.answer(esme.submit(VE, "hola"))[0] == 0
    assert esme.answer(esme.submit(VE, "otra"))[0] == 0x64  # ESME_RX_T_APPN: no credit
    assert balance(smpp) == 0
    esme.close()


def test_over_the_accounts_rate_submits_get_throttled_never_dropped(smpp: Smpp) -> None:
    smpp.gw.cli_json("accounts", "update", smpp.account.client_id, "--rate-limit", "5")
    esme = smpp.esme()
    sequences = [esme.submit(VE, f"mensaje {i}") for i in range(40)]
    statuses = [esme.answer(s)[0] for s in sequences]
    assert set(statuses) == {0, 0x58}  # ESME_RTHROTTLED beyond the burst
    assert statuses.count(0) >= 5
    assert balance(smpp) == 1000 - statuses.count(0)
    esme.close()


def test_a_bind_outlives_a_rotation_of_the_api_secret_but_not_a_disabled_account(
    smpp: Smpp, esme: Esme
) -> None:
    assert esme.answer(esme.submit(VE, "antes"))[0] == 0
    smpp.gw.cli_json("accounts", "rotate-secret", smpp.account.client_id)
    assert esme.answer(esme.submit(VE, "después de renovar el secreto"))[0] == 0
    smpp.gw.cli_json("accounts", "disable", smpp.account.client_id)
    assert esme.answer(esme.submit(VE, "deshabilitada"))[0] == 0x0F  # ESME_RINVSYSID
    assert balance(smpp) == 998
