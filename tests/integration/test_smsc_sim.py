"""``centauro smsc-sim`` as a real process, over real sockets.

Driven by smpp34 (the client the gateway uses), by smpplib (an independent codec we did
not write the simulator against) and by a bare socket for what no client library sends:
bad lengths, wrong states, garbage. One simulator per set of options, shared by a module;
tests on the shared one compare counters as differences and pick out their own PDUs.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import pytest
import smpp34
import smpplib.client
import smpplib.exceptions

from tests.support.smsc import SmscProcess, start_smsc

RECEIPT = re.compile(
    r"id:(?P<id>\S+) sub:001 dlvrd:(?P<dlvrd>\d{3}) submit date:\d{10} done date:\d{10} "
    r"stat:(?P<stat>\w+) err:(?P<err>\d{3}) text:(?P<text>.*)"
)
HEADER = struct.Struct(">IIII")
BIND_TRANSCEIVER, BIND_RECEIVER, SUBMIT_SM, ENQUIRE_LINK, UNBIND = 0x09, 0x01, 0x04, 0x15, 0x06
GENERIC_NACK = 0x80000000


def _sim(tmp_path_factory: pytest.TempPathFactory, **options: Any) -> Iterator[SmscProcess]:
    smsc = start_smsc(tmp_path_factory.mktemp("smsc"), **options)
    try:
        yield smsc
    finally:
        assert smsc.stop() == 0, smsc.log()


@pytest.fixture(scope="module")
def smsc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscProcess]:
    yield from _sim(tmp_path_factory, dlr_delay=0, reject_prefix=["999"])


def connect(smsc: SmscProcess, **kw: Any) -> Any:
    client = smpp34.Client(
        smsc.host, smsc.port, smsc.system_id, smsc.password, connect_timeout_ms=3000, **kw
    )
    return client.connect()


async def next_event(session: smpp34.Smsc, *, receipt: bool | None = None) -> Any:
    """The next deliver_sm (a receipt when ``receipt``, an MO when not), skipping others."""
    for _ in range(100):
        event = await asyncio.wait_for(session.next(), 5)
        if isinstance(event, smpp34.Disconnected) or receipt is None:
            return event
        if bool(event.esm_class & 0x04) == receipt:
            return event
    raise AssertionError("no such event")


async def receipts_for(session: smpp34.Smsc, *receipt_ids: str) -> list[Any]:
    """The receipts for these ids, in this order (smpp34 may hand them over in another)."""
    found: dict[str, Any] = {}
    for _ in range(100):
        event = await next_event(session, receipt=True)
        found[RECEIPT.match(event.short_message.decode())["id"]] = event
        if all(i in found for i in receipt_ids):
            return [found[i] for i in receipt_ids]
    raise AssertionError(f"no receipts for {receipt_ids}")


def tlvs(event: Any) -> dict[int, bytes]:
    return {t.tag: t.value for t in event.tlvs}


class Raw:
    """A bare TCP peer, for the PDUs no client library will send."""

    def __init__(self, smsc: SmscProcess) -> None:
        self.sock = socket.create_connection((smsc.host, smsc.port), timeout=5)

    def send(self, command_id: int, body: bytes = b"", sequence: int = 1) -> None:
        self.sock.sendall(HEADER.pack(16 + len(body), command_id, 0, sequence) + body)

    def read(self) -> tuple[int, int, int, bytes]:
        length, command_id, status, sequence = HEADER.unpack(self._exactly(16))
        return command_id, status, sequence, self._exactly(length - 16)

    def bind(self, command_id: int = BIND_TRANSCEIVER, password: str = "secret") -> int:
        self.send(command_id, b"centauro\0" + password.encode() + b"\0\0\x34\0\0\0")
        return self.read()[1]

    def is_closed(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed by the simulator")
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(smsc: SmscProcess) -> Iterator[Callable[[], Raw]]:
    """Open bare connections to the shared simulator; all are closed afterwards."""
    opened: list[Raw] = []

    def open_one() -> Raw:
        opened.append(Raw(smsc))
        return opened[-1]

    yield open_one
    for connection in opened:
        connection.close()


# -- binds ---------------------------------------------------------------------------------


def test_bind_with_the_right_credentials_is_accepted(smsc: SmscProcess) -> None:
    async def main() -> str:
        session = await connect(smsc)
        system_id: str = session.system_id
        await session.unbind()
        return system_id

    before = smsc.stats()["binds_ok"]
    assert asyncio.run(main()) == "centauro"
    smsc.wait_for(lambda s: s["binds_ok"] == before + 1)


def test_bind_with_wrong_credentials_is_refused_in_smpp_terms_and_closed(
    smsc: SmscProcess, raw: Callable[[], Raw]
) -> None:
    before = smsc.stats()["binds_refused"]
    peer = raw()
    peer.send(BIND_TRANSCEIVER, b"centauro\0wrong\0\0\x34\0\0\0", sequence=7)
    assert peer.read() == (0x80000009, 0x0E, 7, b"")  # ESME_RINVPASWD, no body on error
    assert peer.is_closed()
    peer = raw()
    peer.send(BIND_RECEIVER, b"nobody\0secret\0\0\x34\0\0\0")
    assert peer.read()[:2] == (0x80000001, 0x0F)  # ESME_RINVSYSID
    assert peer.is_closed()

    async def main() -> None:
        client = smpp34.Client(smsc.host, smsc.port, "centauro", "wrong", connect_timeout_ms=1000)
        with pytest.raises(smpp34.SmppError):  # 1.5.0 reports it as "bind timed out"
            await client.connect()

    asyncio.run(main())
    client = smpplib.client.Client(smsc.host, smsc.port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    try:
        with pytest.raises(smpplib.exceptions.PDUError) as refused:
            client.bind_transmitter(system_id="centauro", password="wrong")
    finally:
        client.disconnect()
    assert refused.value.args[1] == 0x0E
    smsc.wait_for(lambda s: s["binds_refused"] == before + 4)


# -- submit_sm and receipts ----------------------------------------------------------------


def test_submit_gets_an_id_and_then_a_receipt_with_text_and_tlvs(smsc: SmscProcess) -> None:
    async def main() -> tuple[Any, Any]:
        session = await connect(smsc)
        resp = await session.submit_sm(
            "+584141234567", b"Hola mundo", source_addr="CENTAURO", registered_delivery=1
        )
        (event,) = await receipts_for(session, resp.message_id)
        await session.unbind()
        return resp, event

    resp, receipt = asyncio.run(main())
    assert resp.command_status == 0
    assert re.fullmatch(r"[1-9]\d*", resp.message_id)
    assert receipt.esm_class == 0x04
    assert (receipt.source_addr, receipt.destination_addr) == ("+584141234567", "CENTAURO")
    fields = RECEIPT.fullmatch(receipt.short_message.decode())
    assert fields is not None
    assert fields.group("id", "dlvrd", "stat", "err", "text") == (
        resp.message_id,
        "001",
        "DELIVRD",
        "000",
        "Hola mundo",
    )
    assert tlvs(receipt) == {0x001E: resp.message_id.encode() + b"\0", 0x0427: b"\x02"}


def test_receipt_is_readable_by_smpplib_an_independent_codec(smsc: SmscProcess) -> None:
    client = smpplib.client.Client(smsc.host, smsc.port, timeout=5, allow_unknown_opt_params=True)
    received: list[Any] = []
    sent: list[Any] = []
    # smpplib calls its handlers as handler(pdu=…), which list.append does not take
    client.set_message_received_handler(lambda pdu: received.append(pdu))  # noqa: PLW0108
    client.set_message_sent_handler(lambda pdu: sent.append(pdu))  # noqa: PLW0108
    client.connect()
    try:
        client.bind_transceiver(system_id=smsc.system_id, password=smsc.password)
        client.send_message(
            source_addr_ton=5,
            source_addr="CENTAURO",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="584241112233",
            short_message=b"Hola desde smpplib",
            registered_delivery=1,
        )
        for _ in range(50):
            if sent and any(p.receipted_message_id == sent[0].message_id for p in received):
                break
            client.read_once()
        assert client.unbind().command == "unbind_resp"
    finally:
        client.disconnect()
    message_id = sent[0].message_id
    receipt = next(p for p in received if p.receipted_message_id == message_id)
    assert receipt.command == "deliver_sm"
    assert receipt.esm_class == 0x04
    assert receipt.message_state == 2
    assert (receipt.source_addr, receipt.destination_addr) == (b"584241112233", b"CENTAURO")
    assert receipt.short_message.startswith(b"id:" + message_id + b" sub:001 dlvrd:001 ")
    assert receipt.short_message.endswith(b"stat:DELIVRD err:000 text:Hola desde smpplib")


def test_receipt_goes_to_the_receiver_when_bound_as_transmitter_and_receiver(
    smsc: SmscProcess,
) -> None:
    async def main() -> tuple[str, Any]:
        transmitter = await connect(smsc, bind_type="TX")
        receiver = await connect(smsc, bind_type="RX")
        resp = await transmitter.submit_sm("584161234567", b"por RX", registered_delivery=1)
        (event,) = await receipts_for(receiver, resp.message_id)
        await transmitter.unbind()
        await receiver.unbind()
        return resp.message_id, event

    message_id, receipt = asyncio.run(main())
    assert tlvs(receipt)[0x001E] == message_id.encode() + b"\0"


def test_receipt_waits_for_a_receiver_to_bind(smsc: SmscProcess) -> None:
    async def submit() -> str:
        transmitter = await connect(smsc, bind_type="TX")
        resp = await transmitter.submit_sm("584121234567", b"espera", registered_delivery=1)
        await transmitter.unbind()
        return str(resp.message_id)

    async def receive(message_id: str) -> Any:
        receiver = await connect(smsc, bind_type="RX")
        (event,) = await receipts_for(receiver, message_id)
        await receiver.unbind()
        return event

    message_id = asyncio.run(submit())
    smsc.wait_for(lambda s: s["receipts_pending"] >= 1 and s["sessions"] == 0)
    assert asyncio.run(receive(message_id)).esm_class == 0x04


def test_each_part_of_a_multipart_message_gets_its_own_id_and_receipt(
    smsc: SmscProcess,
) -> None:
    async def main() -> list[str]:
        session = await connect(smsc)
        ids = []
        for seq in (1, 2):
            udh = bytes([5, 0, 3, 0x2A, 2, seq])
            resp = await session.submit_sm(
                "584147654321", udh + b"parte %d" % seq, esm_class=0x40, registered_delivery=1
            )
            ids.append(resp.message_id)
        texts = [r.short_message.decode() for r in await receipts_for(session, *ids)]
        await session.unbind()
        return [RECEIPT.fullmatch(t)["text"] for t in texts] + ids

    before = smsc.stats()["parts"]
    first_text, second_text, first_id, second_id = asyncio.run(main())
    assert first_id != second_id
    assert (first_text, second_text) == ("parte 1", "parte 2")  # the UDH is not text
    smsc.wait_for(lambda s: s["parts"] == before + 2)


def test_bad_destinations_and_data_codings_are_refused(smsc: SmscProcess) -> None:
    async def main() -> list[int]:
        session = await connect(smsc)
        statuses = [
            (await session.submit_sm(dest, b"x", data_coding=dcs)).command_status
            for dest, dcs in [
                ("9991234", 0),  # --reject-prefix 999
                ("+9991234", 0),
                ("0414-ABC", 0),
                ("", 0),
                ("584141234567", 5),  # Shift-JIS: not a coding the simulator takes
                ("584141234567", 8),
                ("584141234567", 4),  # 8-bit binary is taken (a receipt shows it as "?")
            ]
        ]
        await session.unbind()
        return statuses

    assert asyncio.run(main()) == [0x0B, 0x0B, 0x0B, 0x0B, 0x104, 0, 0]


# -- MO ------------------------------------------------------------------------------------


def test_mo_messages_arrive_decoded_in_gsm7_and_ucs2(smsc: SmscProcess) -> None:
    spanish = "¡Hola! ¿Qué tal, Señor Muñoz? é ñ Ñ ü"
    unicode = "Canción ártica ó 😀"

    async def main() -> list[Any]:
        session = await connect(smsc, bind_type="RX")
        smsc.inject_mo("+584141234567", "2020", spanish)
        smsc.inject_mo("584141234567", "2020", unicode, coding="ucs2")
        with smsc.mo_path.open("a", encoding="utf-8") as f:
            f.write("584140000001 2020 texto plano con espacios\n")
        events = [await next_event(session, receipt=False) for _ in range(3)]
        await session.unbind()
        return events

    events = asyncio.run(main())
    plain, gsm = sorted((e for e in events if e.data_coding == 0), key=lambda e: e.source_addr)
    (ucs2,) = (e for e in events if e.data_coding == 8)
    assert (gsm.esm_class, gsm.data_coding) == (0, 0)
    assert (gsm.source_addr, gsm.source_addr_ton, gsm.destination_addr) == (
        "584141234567",
        1,
        "2020",
    )
    assert gsm.short_message.decode("gsm03.38") == spanish
    assert (ucs2.esm_class, ucs2.data_coding) == (0, 8)
    assert ucs2.short_message.decode("utf-16-be") == unicode
    assert plain.short_message.decode("gsm03.38") == "texto plano con espacios"
    smsc.wait_for(lambda s: s["mo_acked"] >= 3 and s["mo_pending"] == 0)


# -- dropping connections ------------------------------------------------------------------


def test_drop_closes_every_connection_without_unbind_and_the_next_bind_works(
    smsc: SmscProcess,
) -> None:
    async def bound() -> Any:
        return await connect(smsc)

    async def main() -> tuple[Any, int]:
        session = await bound()
        await asyncio.to_thread(smsc.drop)
        event = await asyncio.wait_for(session.next(), 5)
        again = await bound()
        status = (await again.submit_sm("584141234567", b"otra vez")).command_status
        await again.unbind()
        return event, status

    event, status = asyncio.run(main())
    assert isinstance(event, smpp34.Disconnected)
    assert status == 0


@pytest.fixture(scope="module")
def dropping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscProcess]:
    yield from _sim(tmp_path_factory, drop_after=3)


def test_drop_after_n_submits_closes_the_session(dropping: SmscProcess) -> None:
    async def main() -> tuple[list[int], Any]:
        session = await connect(dropping)
        statuses = [
            (await session.submit_sm(f"58414000000{i}", b"x")).command_status for i in range(3)
        ]
        return statuses, await asyncio.wait_for(session.next(), 5)

    statuses, event = asyncio.run(main())
    assert statuses == [0, 0, 0]
    assert isinstance(event, smpp34.Disconnected)
    dropping.wait_for(lambda s: s["drops"] == 1 and s["submit_accepted"] == 3)


# -- throttling and queue-full ---------------------------------------------------------------


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscProcess]:
    yield from _sim(tmp_path_factory, throttle_tps=5)


def test_submits_over_the_tps_limit_are_throttled(throttled: SmscProcess) -> None:
    async def main() -> tuple[list[int], int]:
        session = await connect(throttled, window_size=32)
        burst = await asyncio.gather(
            *(session.submit_sm("584141234567", b"rafaga %d" % i) for i in range(20))
        )
        await asyncio.sleep(1.1)
        later = await session.submit_sm("584141234567", b"despues")
        await session.unbind()
        return [r.command_status for r in burst], later.command_status

    burst, later = asyncio.run(main())
    assert 5 <= burst.count(0) <= 6
    assert burst.count(0x58) == 20 - burst.count(0)
    assert later == 0


@pytest.fixture(scope="module")
def queue_full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscProcess]:
    yield from _sim(tmp_path_factory, queue_full_every=3)


def test_every_kth_submit_is_answered_queue_full(queue_full: SmscProcess) -> None:
    async def main() -> list[int]:
        session = await connect(queue_full)
        statuses = [
            (await session.submit_sm("584141234567", b"%d" % i)).command_status for i in range(9)
        ]
        await session.unbind()
        return statuses

    assert asyncio.run(main()) == [0, 0, 0x14] * 3
    queue_full.wait_for(lambda s: s["submit_queue_full"] == 3 and s["submit_accepted"] == 6)


# -- message ids -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hex_ids(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscProcess]:
    yield from _sim(
        tmp_path_factory,
        dlr_delay=0,
        id_format="hex",
        dlr_id_format="dec-padded",
        id_start=0xABCDEF,
        dlr_fail_rate=1.0,
    )


def test_hex_ids_with_zero_padded_decimal_receipts(hex_ids: SmscProcess) -> None:
    async def main() -> tuple[list[str], Any]:
        session = await connect(hex_ids)
        ids = [
            (await session.submit_sm("584141234567", b"hex", registered_delivery=1)).message_id
            for _ in range(2)
        ]
        (receipt,) = await receipts_for(session, "0011259375")
        await session.unbind()
        return ids, receipt

    ids, receipt = asyncio.run(main())
    assert ids == ["abcdef", "abcdf0"]
    fields = RECEIPT.fullmatch(receipt.short_message.decode())
    assert fields.group("id", "dlvrd", "stat", "err") == ("0011259375", "000", "UNDELIV", "001")
    assert tlvs(receipt) == {0x001E: b"0011259375\0", 0x0427: b"\x05"}


# -- stats ----------------------------------------------------------------------------------


def test_stats_file_counts_what_happened_and_lists_accepted_ids(
    tmp_path: Path,
) -> None:
    smsc = start_smsc(tmp_path, dlr_delay=0, reject_prefix=["999"], no_dlr_tlvs=True)
    destinations = ["584141000001", "584141000002", "584141000003", "584141000001"]

    async def main() -> tuple[list[str], list[Any]]:
        session = await connect(smsc)
        ids = [
            (await session.submit_sm(d, b"igual", registered_delivery=1)).message_id
            for d in destinations
        ]
        assert (await session.submit_sm("9990000", b"no")).command_status == 0x0B
        receipts = await receipts_for(session, *ids)
        await session.unbind()
        return ids, receipts

    try:
        ids, receipts = asyncio.run(main())
        stats = smsc.wait_for(lambda s: s["receipts_acked"] == 4 and s["sessions"] == 0)
    finally:
        assert smsc.stop() == 0
    assert all(r.tlvs == [] for r in receipts)  # --no-dlr-tlvs: the text only
    expected = {
        "binds_ok": 1,
        "submit_received": 5,
        "submit_accepted": 4,
        "submit_rejected": 1,
        "duplicates": 1,
        "receipts_scheduled": 4,
        "receipts_pending": 0,
        "connections": 0,
    }
    assert {k: stats[k] for k in expected} == expected
    accepted = smsc.accepted()
    assert [(a.message_id, a.destination) for a in accepted] == list(
        zip(ids, destinations, strict=True)
    )
    assert accepted[0].digest == accepted[3].digest != accepted[1].digest


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        HEADER.pack(4, SUBMIT_SM, 0, 9),
        HEADER.pack(1_000_000, SUBMIT_SM, 0, 9),
    ],
    ids=["http", "length-4", "length-1000000"],
)
def test_an_unframeable_header_gets_generic_nack_and_a_close(
    smsc: SmscProcess, raw: Callable[[], Raw], garbage: bytes
) -> None:
    peer = raw()
    peer.sock.sendall(garbage)
    command_id, status, _, _ = peer.read()
    assert (command_id, status) == (GENERIC_NACK, 0x02)  # ESME_RINVCMDLEN
    assert peer.is_closed()
    assert smsc.process.poll() is None


def test_every_pdu_is_answered_in_smpp_terms_whatever_the_state(
    raw: Callable[[], Raw],
) -> None:
    peer = raw()
    peer.send(0x00000999, sequence=2)
    assert peer.read()[:3] == (GENERIC_NACK, 0x03, 2)  # ESME_RINVCMDID, still open
    peer.send(ENQUIRE_LINK, sequence=3)
    assert peer.read()[:3] == (0x80000015, 0x04, 3)  # ESME_RINVBNDSTS before bind
    peer.send(SUBMIT_SM, smpp34.SubmitSm("a", "584141234567", b"x").encode()[16:], sequence=4)
    assert peer.read()[:3] == (0x80000004, 0x04, 4)
    peer.send(BIND_TRANSCEIVER, b"centauro_is_far_too_long\0secret\0\0\x34\0\0\0", sequence=5)
    assert peer.read()[:3] == (0x80000009, 0x0F, 5)  # system_id overruns its 16 octets
    assert peer.bind() == 0
    assert peer.bind() == 0x05  # ESME_RALYBND
    peer.send(ENQUIRE_LINK, sequence=6)
    assert peer.read()[:3] == (0x80000015, 0, 6)
    peer.send(SUBMIT_SM, b"\0\0\0584141234567", sequence=7)  # body cut short
    command_id, status, sequence, _ = peer.read()
    assert (command_id, sequence) == (0x80000004, 7)
    assert status != 0
    peer.send(UNBIND, sequence=8)
    assert peer.read()[:3] == (0x80000006, 0, 8)
    assert peer.is_closed()


def test_a_stray_nul_after_a_refused_deliver_sm_is_skipped_not_fatal(
    smsc: SmscProcess, raw: Callable[[], Raw]
) -> None:
    """smpp34 1.5.0 sends its deliver_sm refusals as 17 bytes with command_length 16."""
    before = smsc.stats()["stray_nuls"]
    peer = raw()
    assert peer.bind() == 0
    smpp34_refusal = HEADER.pack(16, 0x80000005, 0x14, 99) + b"\0"
    peer.sock.sendall(smpp34_refusal + HEADER.pack(16, ENQUIRE_LINK, 0, 5))
    assert peer.read()[:3] == (0x80000015, 0, 5)
    peer.close()
    smsc.wait_for(lambda s: s["stray_nuls"] == before + 1)


def test_submit_on_a_receiver_bind_is_refused_with_rinvbndsts(raw: Callable[[], Raw]) -> None:
    peer = raw()
    assert peer.bind(BIND_RECEIVER) == 0
    peer.send(SUBMIT_SM, smpp34.SubmitSm("a", "584141234567", b"x").encode()[16:], sequence=4)
    assert peer.read()[:3] == (0x80000004, 0x04, 4)


def test_the_simulator_still_serves_after_all_that(smsc: SmscProcess) -> None:
    async def main() -> int:
        session = await connect(smsc)
        status: int = (await session.submit_sm("584141234567", b"sigo")).command_status
        await session.unbind()
        return status

    assert asyncio.run(main()) == 0
    assert "Traceback" not in smsc.log()
