"""The SMPP server's binds against a real ``centauro serve --smpp-port``: passwords,
limits, throttled guessing, enquire_link, unbind, and garbage answered in SMPP's words.

The client is smpplib (an independent codec) or, for what no library sends, a raw socket.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from tests.support.esme import Esme, Raw, Smpp, bind_status, new_customer, smpp_gateway
from tests.support.stores import store_url

ESME_RINVPASWD, ESME_RINVSYSID, ESME_RBINDFAIL = 0x0E, 0x0F, 0x0D
GENERIC_NACK = 0x80000000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Smpp]:
    """One server for the module (starting one costs seconds); each test its own account."""
    tmp_path = tmp_path_factory.mktemp("smpp")
    with store_url("sqlite", tmp_path) as url:
        yield from smpp_gateway(url, tmp_path)


@pytest.fixture
def smpp(server: Smpp) -> Smpp:
    return new_customer(server)


def test_a_customer_binds_with_its_client_id_and_smpp_password(smpp: Smpp) -> None:
    assert len(smpp.password) == 8
    assert smpp.system_id == smpp.account.client_id[:15]  # SMPP's system_id holds 15
    for kind in ("transmitter", "receiver", "transceiver"):
        esme = smpp.esme(kind)
        esme.client.send_pdu(_enquire(esme))
        esme.pump(0.3)
        assert esme.others == []  # the enquire_link_resp was no error
        esme.close()
    raw = Raw(smpp.port)
    assert raw.bind(smpp.system_id, smpp.password) == 0
    raw.send(0x15, sequence=7)  # enquire_link
    assert raw.read()[:3] == (0x80000015, 0, 7)
    raw.send(0x06, sequence=8)  # unbind
    assert raw.read()[:3] == (0x80000006, 0, 8)
    assert raw.is_closed()
    raw.close()


def _enquire(esme: Esme) -> object:
    import smpplib.smpp

    return smpplib.smpp.make_pdu("enquire_link", client=esme.client)


def test_wrong_credentials_are_refused_with_their_own_status(smpp: Smpp) -> None:
    assert bind_status(smpp.port, smpp.system_id, "wrong") == ESME_RINVPASWD
    assert bind_status(smpp.port, "nobody", smpp.password) == ESME_RINVSYSID
    # The API secret is not the SMPP password (and is too long for a bind anyway).
    assert bind_status(smpp.port, smpp.system_id, smpp.account.client_secret[:8]) == (
        ESME_RINVPASWD
    )
    # An account without an SMPP password cannot bind at all.
    other = smpp.gw.create_account(name="Otra")
    assert bind_status(smpp.port, other.client_id[:15], "whatever") == ESME_RINVSYSID


def test_repeated_wrong_passwords_lock_the_system_id_for_a_minute(smpp: Smpp) -> None:
    statuses = [bind_status(smpp.port, smpp.system_id, f"guess{i:03d}") for i in range(100)]
    assert statuses[:5] == [ESME_RINVPASWD] * 5
    assert set(statuses[5:]) == {ESME_RBINDFAIL}
    # Even the right password waits out the minute; the server logged it once, not 100 times.
    assert bind_status(smpp.port, smpp.system_id, smpp.password) == ESME_RBINDFAIL
    refusals = [
        line
        for line in smpp.gw.log_path.read_text().splitlines()
        if "bind refused" in line and smpp.system_id in line
    ]
    assert len(refusals) == 1


def test_binds_beyond_the_accounts_limit_are_refused(smpp: Smpp) -> None:
    password = smpp.gw.cli_json(
        "accounts", "smpp-password", smpp.account.client_id, "--max-binds", "2"
    )["password"]
    first = Esme.bound(smpp.port, smpp.system_id, password)
    second = Esme.bound(smpp.port, smpp.system_id, password)
    assert bind_status(smpp.port, smpp.system_id, password) == ESME_RBINDFAIL
    second.close()
    assert bind_status(smpp.port, smpp.system_id, password) == 0
    first.close()


@pytest.mark.parametrize("length", [8, 0x80000000])
def test_a_length_that_cannot_be_framed_gets_a_generic_nack_and_a_close(
    smpp: Smpp, length: int
) -> None:
    raw = Raw(smpp.port)
    raw.send(0x15, sequence=3, length=length)
    command_id, status, _, _ = raw.read()
    assert (command_id, status) == (GENERIC_NACK, 0x02)  # ESME_RINVCMDLEN
    assert raw.is_closed()
    raw.close()
    assert bind_status(smpp.port, smpp.system_id, smpp.password) == 0  # others unharmed


def test_an_unknown_command_gets_a_generic_nack_and_the_bind_goes_on(smpp: Smpp) -> None:
    raw = Raw(smpp.port)
    assert raw.bind(smpp.system_id, smpp.password) == 0
    raw.send(0x00000999, struct.pack(">I", 1), sequence=4)
    assert raw.read()[:3] == (GENERIC_NACK, 0x03, 4)  # ESME_RINVCMDID
    raw.send(0x15, sequence=5)
    assert raw.read()[:3] == (0x80000015, 0, 5)
    raw.close()


def test_a_thousand_idle_connections_leave_binding_possible(smpp: Smpp) -> None:
    idle = [Raw(smpp.port) for _ in range(1000)]
    try:
        assert bind_status(smpp.port, smpp.system_id, smpp.password) == 0
    finally:
        for raw in idle:
            raw.close()
