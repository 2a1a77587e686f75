"""The SMPP connector over real loopback sockets, against two SMSCs we did not write with it.

* :class:`CodecSmsc`, in this module: every PDU it reads or writes goes through smpplib's
  codec (``parse_pdu`` / ``make_pdu``), an SMPP implementation independent of smpp34 and
  of us. It checks the bytes we send (data_coding, esm_class, UDH, SAR TLVs,
  message_payload) and sends receipts and MOs built by smpplib. It can hold responses,
  refuse binds and drop connections on demand.
* ``centauro smsc-sim`` in its own process (``tests/support/smsc.py``): throttling,
  queue-full, reject prefixes, drops, receipts and MO the way the simulator does them.

The inbox is a recording double of the ``Inbox`` interface (or one that blocks or fails,
to see that deliver_sm are acked only once stored); everything else is real.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from smpplib import smpp  # type: ignore[import-untyped]

from centauro.connectors.base import (
    Accepted,
    InboundSms,
    OutboundSms,
    Receipt,
    Rejected,
    RetryLater,
    SubmitOutcome,
)
from centauro.connectors.smpp import SmppConnector, SmppSettings
from centauro.domain.states import MessageState
from centauro.domain.text import analyze
from tests.support.smsc import SmscProcess, start_smsc

pytestmark = pytest.mark.timeout(60)

NUMBER = "+584121234567"


# ── a recording inbox, and helpers ───────────────────────────────────────────


class RecordingInbox:
    """Keeps the receipts (``reports``) and MO (``messages``) it is given, and the sizes of
    the batches they came in."""

    def __init__(self) -> None:
        self.reports: list[Receipt] = []
        self.messages: list[InboundSms] = []
        self.batches: list[int] = []

    async def receipts(self, receipts: Sequence[Receipt]) -> None:
        self.reports.extend(receipts)
        self.batches.append(len(receipts))

    async def inbound(self, messages: Sequence[InboundSms]) -> None:
        self.messages.extend(messages)
        self.batches.append(len(messages))


def run(test: Callable[[], Coroutine[Any, Any, None]], timeout: float = 30.0) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


async def eventually(check: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s: {check}")
        await asyncio.sleep(0.01)


def sms(text: str = "Hola", recipient: str = NUMBER, message_id: int = 1) -> OutboundSms:
    """What the dispatcher hands over: encoding and segments as our text module counts."""
    info = analyze(text)
    return OutboundSms(message_id, recipient, text, info.encoding.value, info.segments)


def connector_for(port: int, *, password: str = "secret", **changes: Any) -> SmppConnector:
    settings = SmppSettings(
        host="127.0.0.1",
        port=port,
        system_id="centauro",
        password=password,
        source_addr="Centauro",
        reconnect_min=0.05,
        reconnect_max=0.3,
        **changes,
    )
    return SmppConnector("movil", settings, bind_timeout=0.3, bind_wait=1.0)


@contextlib.asynccontextmanager
async def running(connector: SmppConnector, *, up: bool = True) -> AsyncIterator[RecordingInbox]:
    inbox = RecordingInbox()
    await connector.start(inbox)
    try:
        if up:
            await eventually(lambda: connector.status().state == "up")
        yield inbox
    finally:
        await connector.stop()


# ── CodecSmsc: an SMSC on smpplib's codec ────────────────────────────────────


def encode(command: str, sequence: int, **fields: Any) -> bytes:
    """A PDU built by smpplib (its sequence is a property it will not take as an argument)."""
    pdu = smpp.make_pdu(command, sequence=sequence, **fields)
    pdu.sequence = sequence
    data: bytes = pdu.generate()
    return data


@dataclass
class Session:
    kind: str  # bind_transceiver, bind_transmitter or bind_receiver
    writer: asyncio.StreamWriter

    @property
    def receives(self) -> bool:
        return self.kind in ("bind_transceiver", "bind_receiver")


@dataclass
class CodecSmsc:
    """Answers binds, submit_sm, enquire_link and unbind; sends receipts and MO."""

    password: str = "secret"
    answer: Callable[[Any], int] = lambda pdu: 0  # command_status for each submit_sm
    nack: Callable[[Any], int] = lambda pdu: 0  # a generic_nack status instead, if non-zero
    receipt: Callable[[str, Any], dict[str, Any]] | None = None  # deliver_sm fields for an id
    hold: bool = False  # keep submit_sm unanswered until release()
    answer_enquire_link: bool = True
    submits: list[Any] = field(default_factory=list)
    acks: list[tuple[int, int]] = field(default_factory=list)  # deliver_sm_resp: (seq, status)
    nacks: list[tuple[int, int]] = field(default_factory=list)  # generic_nack: (seq, status)
    enquire_links: list[float] = field(default_factory=list)  # when each one came
    binds: list[tuple[float, str, bool]] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    held: list[tuple[Session, Any]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    connections: list[asyncio.StreamWriter] = field(default_factory=list)
    port: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(0xA000))
    _seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def __aenter__(self) -> CodecSmsc:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        self.drop()
        await self._server.wait_closed()

    def drop(self) -> None:
        """Abort every connection, bound or not, as a carrier outage would."""
        for writer in self.connections:
            writer.transport.abort()
        self.connections.clear()
        self.sessions.clear()

    async def release(self) -> None:
        self.hold = False
        for session, pdu in self.held:
            await self._answer(session, pdu)
        self.held.clear()

    async def deliver(self, **fields: Any) -> None:
        """Send a deliver_sm to the first session that can receive."""
        await self.deliver_many([fields])

    async def deliver_many(self, many: list[dict[str, Any]]) -> list[int]:
        """Send deliver_sm in one write (the ESME reads them at once); their sequences."""
        sequences = [next(self._seq) for _ in many]
        await self.send_raw(
            b"".join(encode("deliver_sm", seq, **f) for seq, f in zip(sequences, many, strict=True))
        )
        return sequences

    async def send_raw(self, data: bytes) -> None:
        """Write bytes to the first session that can receive."""
        session = next(s for s in self.sessions if s.receives)
        session.writer.write(data)
        await session.writer.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session("", writer)
        self.connections.append(writer)
        try:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                while True:
                    head = await reader.readexactly(4)
                    data = head + await reader.readexactly(int.from_bytes(head, "big") - 4)
                    pdu = smpp.parse_pdu(data, sequence=0)
                    self.commands.append(pdu.command)
                    if not await self._handle(session, pdu):
                        break
        finally:
            writer.transport.abort()

    async def _handle(self, session: Session, pdu: Any) -> bool:
        command, writer = pdu.command, session.writer
        if command.startswith("bind_"):
            ok = pdu.system_id == b"centauro" and pdu.password == self.password.encode()
            self.binds.append((time.monotonic(), command, ok))
            status = 0 if ok else 0x0E  # ESME_RINVPASWD
            writer.write(encode(f"{command}_resp", pdu.sequence, system_id="Codec", status=status))
            if ok:
                session.kind = command
                self.sessions.append(session)
            return bool(ok)
        if command == "submit_sm":
            self.submits.append(pdu)
            if self.hold:
                self.held.append((session, pdu))
            else:
                await self._answer(session, pdu)
        elif command == "enquire_link":
            self.enquire_links.append(time.monotonic())
            if self.answer_enquire_link:
                writer.write(encode("enquire_link_resp", pdu.sequence))
        elif command == "deliver_sm_resp":
            self.acks.append((pdu.sequence, pdu.status))
        elif command == "generic_nack":
            self.nacks.append((pdu.sequence, pdu.status))
        elif command == "unbind":
            writer.write(encode("unbind_resp", pdu.sequence))
            return False
        return True

    async def _answer(self, session: Session, pdu: Any) -> None:
        nack = self.nack(pdu)
        if nack:
            session.writer.write(encode("generic_nack", pdu.sequence, status=nack))
            return
        status = self.answer(pdu)
        message_id = f"{next(self._ids):x}" if status == 0 else ""
        resp = encode("submit_sm_resp", pdu.sequence, message_id=message_id, status=status)
        session.writer.write(resp)
        if status == 0 and pdu.registered_delivery and self.receipt is not None:
            with contextlib.suppress(StopIteration, ConnectionError):
                await self.deliver(**self.receipt(message_id, pdu))


def receipt_fields(message_id: str, pdu: Any, *, tlvs: bool = True) -> dict[str, Any]:
    text = (
        f"id:{int(message_id, 16)} sub:001 dlvrd:001 submit date:2601151200 "
        f"done date:2601151201 stat:DELIVRD err:000 text:{pdu.short_message[:10]!r}"
    )
    fields: dict[str, Any] = {
        "source_addr": pdu.destination_addr.decode(),
        "destination_addr": pdu.source_addr.decode(),
        "esm_class": 0x04,
        "short_message": text.encode(),
    }
    if tlvs:
        fields |= {"receipted_message_id": message_id, "message_state": 2}
    return fields


# ── against CodecSmsc ────────────────────────────────────────────────────────


def test_a_message_is_accepted_and_its_receipt_reaches_the_inbox() -> None:
    async def main() -> None:
        async with CodecSmsc(receipt=receipt_fields) as smsc:
            connector = connector_for(smsc.port)
            async with running(connector) as inbox:
                outcome = await connector.submit(sms("Hola"))
                await eventually(lambda: inbox.reports)
            [pdu] = smsc.submits
            assert (pdu.source_addr, pdu.source_addr_ton, pdu.source_addr_npi) == (
                b"Centauro",
                5,
                0,
            )
            assert (pdu.destination_addr, pdu.dest_addr_ton, pdu.dest_addr_npi) == (
                b"584121234567",
                1,
                1,
            )
            assert (pdu.registered_delivery, pdu.data_coding, pdu.esm_class) == (1, 0, 0)
            assert pdu.short_message == b"Hola"
            assert outcome == Accepted(("a000",))
            # The TLV id (hex, as in submit_sm_resp) wins over the decimal id in the text.
            assert inbox.reports == [
                Receipt("movil", "a000", MessageState.DELIVERED, None, inbox.reports[0].done_at)
            ]
            assert "unbind" in smsc.commands

    run(main)


@pytest.mark.parametrize(
    ("text", "coding", "data_coding", "short_message"),
    [
        ("Año nuevo: ñandu €", "gsm7", 0x00, b"A\x7do nuevo: \x7dandu \x1b\x65"),
        ("Año nuevo: ñandú… €", "gsm7", 0x08, "Año nuevo: ñandú… €".encode("utf-16-be")),
        ("canción", "gsm7", 0x08, "canción".encode("utf-16-be")),
        ("Año [1]", "latin1", 0x03, b"A\xf1o [1]"),
        ("Precio 5 €", "latin1", 0x08, "Precio 5 €".encode("utf-16-be")),
        ("Hola {x}", "ascii", 0x01, b"Hola {x}"),
        ("Año", "ascii", 0x08, "Año".encode("utf-16-be")),
    ],
)
def test_text_reaches_the_smsc_in_the_right_coding(
    text: str, coding: str, data_coding: int, short_message: bytes
) -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port, gsm7_coding=coding)
            async with running(connector):
                assert isinstance(await connector.submit(sms(text)), Accepted)
            [pdu] = smsc.submits
            assert (pdu.data_coding, pdu.short_message) == (data_coding, short_message)

    run(main)


def test_multipart_udh_parts_carry_one_reference_and_come_back_in_part_order() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port)
            async with running(connector):
                outcome = await connector.submit(sms("a" * 152 + "€" + "b" * 100))
                again = await connector.submit(sms("c" * 200))
            first, second = smsc.submits[0], smsc.submits[1]
            by_seq = sorted(smsc.submits[:2], key=lambda p: p.short_message[5])
            assert [p.esm_class for p in smsc.submits] == [0x40] * 4
            assert [p.short_message[:3] for p in smsc.submits] == [b"\x05\x00\x03"] * 4
            assert first.short_message[3] == second.short_message[3]  # one reference
            assert [p.short_message[4:6] for p in by_seq] == [b"\x02\x01", b"\x02\x02"]
            assert by_seq[0].short_message[6:] == b"a" * 152  # the escape pair moved on
            assert by_seq[1].short_message[6:8] == b"\x1b\x65"
            assert smsc.submits[2].short_message[3] == (first.short_message[3] + 1) % 256
            # Accepted ids are in part order, whatever order the responses came in.
            ids = {p.short_message[5]: f"{0xA000 + i:x}" for i, p in enumerate(smsc.submits[:2])}
            assert outcome == Accepted((ids[1], ids[2]))
            assert isinstance(again, Accepted)
            assert len(again.carrier_ids) == 2

    run(main)


def test_multipart_sar_parts_carry_the_sar_tlvs() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port, multipart="sar")
            async with running(connector):
                outcome = await connector.submit(sms("á" * 100))
            parts = sorted(smsc.submits, key=lambda p: p.sar_segment_seqnum)
            assert [(p.sar_total_segments, p.sar_segment_seqnum) for p in parts] == [(2, 1), (2, 2)]
            assert parts[0].sar_msg_ref_num == parts[1].sar_msg_ref_num
            assert [p.esm_class for p in parts] == [0, 0]
            assert b"".join(p.short_message for p in parts) == ("á" * 100).encode("utf-16-be")
            assert isinstance(outcome, Accepted)
            assert len(outcome.carrier_ids) == 2

    run(main)


def test_multipart_payload_sends_one_submit_with_message_payload() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port, multipart="payload")
            async with running(connector):
                outcome = await connector.submit(sms("Año " * 60))
            [pdu] = smsc.submits
            assert pdu.short_message in (b"", None)
            assert pdu.message_payload == ("Año " * 60).encode("gsm03.38")
            assert outcome == Accepted(("a000",))

    run(main)


def test_window_bounds_what_is_in_flight_and_status_tells_the_truth() -> None:
    async def main() -> None:
        async with CodecSmsc(hold=True) as smsc:
            connector = connector_for(smsc.port, window=4)
            async with running(connector):
                tasks = [
                    asyncio.create_task(connector.submit(sms(f"m{i}", message_id=i)))
                    for i in range(10)
                ]
                await eventually(lambda: len(smsc.submits) == 4)
                await asyncio.sleep(0.1)
                status = connector.status()
                assert (len(smsc.submits), status.in_flight, status.queued) == (4, 4, 6)
                await smsc.release()
                outcomes = await asyncio.gather(*tasks)
                status = connector.status()
            assert all(isinstance(o, Accepted) for o in outcomes)
            assert (status.in_flight, status.queued, status.submitted) == (0, 0, 10)
            assert (status.state, status.extra["binds"]) == ("up", {"TRX": "up"})

    run(main)


def test_permanent_errors_reject_and_temporary_ones_retry_later() -> None:
    def answer(pdu: Any) -> int:
        return {b"58499": 0x0B, b"58498": 0x45, b"58497": 0x0A}.get(pdu.destination_addr[:5], 0)

    async def main() -> None:
        async with CodecSmsc(answer=answer) as smsc:
            connector = connector_for(smsc.port)
            async with running(connector):
                invalid = await connector.submit(sms(recipient="+584991234567"))
                failed = await connector.submit(sms(recipient="+584981234567"))
                source = await connector.submit(sms(recipient="+584971234567"))
                multipart = await connector.submit(sms("x" * 200, recipient="+584991234567"))
            assert invalid == Rejected("ESME_RINVDSTADR (0x0000000b)", code="0x0000000b")
            assert failed == RetryLater("ESME_RSUBMITFAIL (0x00000045)", after=None)
            assert source == Rejected("ESME_RINVSRCADR (0x0000000a)", code="0x0000000a")
            assert multipart == invalid

    run(main)


@pytest.mark.parametrize("status", [0x58, 0x14])
def test_throttling_slows_down_and_every_message_is_still_accepted(status: int) -> None:
    answered = itertools.count()

    async def main() -> None:
        async with CodecSmsc(answer=lambda pdu: status if next(answered) < 15 else 0) as smsc:
            connector = connector_for(smsc.port, tps=0)
            async with running(connector):
                outcomes = await asyncio.gather(
                    *(connector.submit(sms(f"m{i}", message_id=i)) for i in range(30))
                )
                throttled = connector.status().extra["throttled"]
            assert all(isinstance(o, Accepted) for o in outcomes), outcomes
            assert throttled == 15
            assert len(smsc.submits) == 45

    run(main)


def test_a_generic_nack_saying_throttled_is_throttling_too() -> None:
    nacked = itertools.count()

    async def main() -> None:
        async with CodecSmsc(nack=lambda pdu: 0x58 if next(nacked) < 2 else 0) as smsc:
            connector = connector_for(smsc.port)
            async with running(connector):
                assert isinstance(await connector.submit(sms()), Accepted)
            assert len(smsc.submits) == 3

    run(main)


def test_throttling_that_never_ends_gives_the_message_back_after_the_budget() -> None:
    async def main() -> None:
        async with CodecSmsc(answer=lambda pdu: 0x58) as smsc:
            connector = connector_for(smsc.port)
            connector.throttle_budget = 0.5
            async with running(connector):
                started = time.monotonic()
                outcome = await connector.submit(sms())
            assert outcome == RetryLater("ESME_RTHROTTLED (0x00000058)", after=10.0)
            assert time.monotonic() - started < 1.5
            assert len(smsc.submits) >= 3  # resubmitted, with a growing backoff, then gave up

    run(main)


def test_wrong_password_is_reported_at_once_and_retried_with_backoff() -> None:
    async def main() -> None:
        async with CodecSmsc(password="other") as smsc:
            connector = connector_for(smsc.port)
            connector.bind_timeout = 5.0  # a refused bind must not wait for it
            started = time.monotonic()
            async with running(connector, up=False):
                await eventually(lambda: connector.status().last_error is not None)
                reported = time.monotonic() - started
                await eventually(lambda: len(smsc.binds) >= 6, timeout=8)
                status = connector.status()
                started = time.monotonic()
                outcome = await connector.submit(sms())
                waited = time.monotonic() - started
            assert reported < 0.5
            assert status.state in ("down", "connecting")
            assert status.last_error == "TRX: bind refused: ESME_RINVPASWD (0x0000000e)"
            assert not any(ok for _, _, ok in smsc.binds)
            gaps = [b[0] - a[0] for a, b in itertools.pairwise(smsc.binds)]
            # Only the backoff between attempts: 0.05 s doubling up to 0.3 s, equal jitter.
            lowest = [0.05, 0.05, 0.1, 0.15, 0.15]
            highest = [0.05, 0.1, 0.2, 0.3, 0.3]
            for gap, low, high in zip(gaps, lowest, highest, strict=False):
                assert low <= gap <= high + 0.1, gaps
            assert isinstance(outcome, RetryLater)
            assert outcome.reason == "bind down"
            assert waited < 1.5

    run(main)


def test_tls_to_a_port_that_does_not_speak_it_fails_the_bind_instead_of_hanging() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port, tls=True)
            async with running(connector, up=False):
                await eventually(lambda: connector.status().state == "down", timeout=4)
                outcome = await connector.submit(sms())
            assert "bind failed" in (connector.status().last_error or "")
            assert isinstance(outcome, RetryLater)
            assert outcome.reason == "bind down"

    run(main)


def test_drop_gives_in_flight_back_and_the_connector_rebinds() -> None:
    async def main() -> None:
        async with CodecSmsc(hold=True) as smsc:
            connector = connector_for(smsc.port)
            async with running(connector):
                tasks = [asyncio.create_task(connector.submit(sms(message_id=i))) for i in range(3)]
                await eventually(lambda: len(smsc.submits) == 3)
                started = time.monotonic()
                smsc.drop()
                outcomes = await asyncio.gather(*tasks)
                assert time.monotonic() - started < 1.0
                assert all(isinstance(o, RetryLater) for o in outcomes), outcomes
                assert {o.reason for o in outcomes if isinstance(o, RetryLater)} == {"bind down"}
                assert connector.status().last_error == "TRX: session dropped"
                await eventually(lambda: connector.status().state == "up")
                smsc.hold = False
                assert isinstance(await connector.submit(sms()), Accepted)
            assert [kind for _, kind, _ in smsc.binds] == ["bind_transceiver"] * 2

    run(main)


def test_transmitter_and_receiver_binds_split_submits_and_receipts() -> None:
    async def main() -> None:
        async with CodecSmsc(receipt=lambda mid, pdu: receipt_fields(mid, pdu, tlvs=False)) as smsc:
            connector = connector_for(smsc.port, bind_mode="transmitter_receiver")
            async with running(connector) as inbox:
                assert connector.status().extra["binds"] == {"TX": "up", "RX": "up"}
                outcome = await connector.submit(sms())
                await eventually(lambda: inbox.reports)
            assert sorted(kind for _, kind, _ in smsc.binds) == [
                "bind_receiver",
                "bind_transmitter",
            ]
            assert outcome == Accepted(("a000",))
            # Text only: the id is the decimal one the receipt text carries, kept as written.
            assert [(r.carrier_id, r.state) for r in inbox.reports] == [
                (str(0xA000), MessageState.DELIVERED)
            ]

    run(main)


def test_receipt_tlvs_win_over_the_text_and_intermediate_reports_are_dropped() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port)
            async with running(connector) as inbox:
                base = {"source_addr": "584121234567", "destination_addr": "Centauro"}
                await smsc.deliver(**base, esm_class=4, short_message=b"id:1 stat:ENROUTE")
                await smsc.deliver(
                    **base,
                    esm_class=4,
                    short_message=b"id:2 stat:DELIVRD err:000",
                    receipted_message_id="0x2",
                    message_state=5,
                )
                await eventually(lambda: inbox.reports)
                await asyncio.sleep(0.05)
            assert [(r.carrier_id, r.state) for r in inbox.reports] == [
                ("0x2", MessageState.UNDELIVERED)
            ]
            assert inbox.messages == []

    run(main)


def test_mobile_originated_messages_are_decoded_into_the_inbox() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port)
            async with running(connector) as inbox:
                mo = {"source_addr": "584121234567", "destination_addr": "2525"}
                await smsc.deliver(**mo, short_message=b"A\x7do \x1b\x65", data_coding=0)
                await smsc.deliver(**mo, short_message="¿Sí? 😀".encode("utf-16-be"), data_coding=8)
                await smsc.deliver(
                    **mo,
                    short_message=b"\x05\x00\x03\x07\x02\x01Parte",
                    data_coding=0,
                    esm_class=0x40,
                )
                await smsc.deliver(**mo, message_payload=b"Largo " * 50, data_coding=1)
                await eventually(lambda: len(inbox.messages) == 4)
            # In wire order (smpp34's session did not keep it).
            assert [m.text for m in inbox.messages] == ["Año €", "¿Sí? 😀", "Parte", "Largo " * 50]
            assert {(m.sender, m.recipient, m.connector) for m in inbox.messages} == {
                ("584121234567", "2525", "movil")
            }

    run(main)


def test_stopped_connector_unbinds_answers_retry_later_and_can_start_again() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port)
            assert connector.status().state == "stopped"
            async with running(connector):
                pass
            status = connector.status()
            outcome = await connector.submit(sms())
            assert status.state == "stopped"
            assert smsc.commands[-1] == "unbind"
            assert outcome == RetryLater("connector stopped")
            async with running(connector):
                assert isinstance(await connector.submit(sms()), Accepted)

    run(main)


def test_logs_are_events_without_password_or_message_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_text = "Su clave es 987654"

    async def main() -> None:
        async with CodecSmsc(answer=lambda pdu: 0x0B) as smsc:
            connector = connector_for(smsc.port)
            async with running(connector):
                await connector.submit(sms(secret_text))
                smsc.drop()
                await eventually(lambda: len(smsc.binds) == 2 and connector.status().state == "up")

    with caplog.at_level(logging.DEBUG, logger="centauro.connectors.smpp"):
        run(main)
    records = [r for r in caplog.records if r.name.startswith("centauro.connectors.smpp")]
    actions = [getattr(r, "action", None) for r in records]
    assert {"smpp_bound", "smpp_rejected", "smpp_session_lost", "smpp_stopped"} <= set(actions)
    assert all(getattr(r, "connector", None) == "movil" for r in records)
    dumped = " ".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    assert "secret" not in dumped
    assert secret_text not in dumped


# ── the session: acks after storing, keep-alive, window, socket ──────────────


class BlockingInbox(RecordingInbox):
    """Takes each batch, then holds it until ``release`` is set (a slow or stuck store)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def receipts(self, receipts: Sequence[Receipt]) -> None:
        await super().receipts(receipts)
        await self.release.wait()


class FailingInbox(RecordingInbox):
    """Fails its first ``failures`` calls, as a store that is down for a moment would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0

    async def receipts(self, receipts: Sequence[Receipt]) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError("store unavailable")
        await super().receipts(receipts)


def final_receipt(number: int) -> dict[str, Any]:
    return {
        "source_addr": "584121234567",
        "destination_addr": "Centauro",
        "esm_class": 0x04,
        "short_message": f"id:{number} sub:001 dlvrd:001 stat:DELIVRD err:000".encode(),
    }


def test_receipts_are_acked_only_once_the_inbox_has_stored_them() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port)
            inbox = BlockingInbox()
            await connector.start(inbox)
            try:
                await eventually(lambda: connector.status().state == "up")
                batch = await smsc.deliver_many([final_receipt(n) for n in (1, 2, 3)])
                await eventually(lambda: inbox.batches == [3])  # one read, one call
                await asyncio.sleep(0.3)
                assert smsc.acks == []  # a kill -9 now loses nothing: the SMSC still has them
                # An intermediate report needs no storing: acked at once, not held behind.
                base = {"source_addr": "584121234567", "destination_addr": "Centauro"}
                [enroute] = await smsc.deliver_many(
                    [{**base, "esm_class": 4, "short_message": b"id:4 stat:ENROUTE"}]
                )
                await eventually(lambda: smsc.acks == [(enroute, 0)])
                inbox.release.set()
                await eventually(lambda: len(smsc.acks) == 4)
            finally:
                await connector.stop()
            assert sorted(smsc.acks[1:]) == [(seq, 0) for seq in batch]
            assert [r.carrier_id for r in inbox.reports] == ["1", "2", "3"]

    run(main)


def test_an_inbox_that_fails_gets_the_deliveries_refused_as_temporary() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port)
            inbox = FailingInbox(failures=1)
            await connector.start(inbox)
            try:
                await eventually(lambda: connector.status().state == "up")
                [first] = await smsc.deliver_many([final_receipt(1)])
                await eventually(lambda: smsc.acks == [(first, 0x64)])  # ESME_RX_T_APPN
                [again] = await smsc.deliver_many([final_receipt(1)])  # the SMSC resends
                await eventually(lambda: len(smsc.acks) == 2)
            finally:
                await connector.stop()
            assert smsc.acks[1] == (again, 0)
            assert [r.carrier_id for r in inbox.reports] == ["1"]

    run(main)


def test_tcp_nodelay_is_set_on_the_session_socket() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port)
            async with running(connector):
                session = connector._tx.session
                assert session is not None
                assert session.transport is not None
                sock = session.transport.get_extra_info("socket")
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0

    run(main)


def test_enquire_link_keeps_an_idle_session_and_an_unanswered_one_is_rebound() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port, enquire_link=0.2)
            async with running(connector):
                await eventually(lambda: len(smsc.enquire_links) >= 4)
                gaps = [b - a for a, b in itertools.pairwise(smsc.enquire_links)]
                assert all(0.15 <= gap <= 0.35 for gap in gaps), gaps
                assert len(smsc.binds) == 1
                smsc.answer_enquire_link = False
                started = time.monotonic()
                await eventually(lambda: len(smsc.binds) == 2, timeout=3)
                assert time.monotonic() - started < 1.0  # ~0.2 s idle + 0.2 s unanswered
                assert connector.status().last_error == "TRX: enquire_link unanswered"
                smsc.answer_enquire_link = True
                await eventually(lambda: connector.status().state == "up")
                assert isinstance(await connector.submit(sms()), Accepted)

    run(main)


def test_the_window_bounds_what_is_on_the_wire_and_unanswered_submits_time_out() -> None:
    async def main() -> None:
        async with CodecSmsc(hold=True) as smsc:
            connector = connector_for(smsc.port, window=8)
            connector.response_timeout = 0.6
            async with running(connector):
                tasks = [
                    asyncio.create_task(connector.submit(sms(message_id=i))) for i in range(40)
                ]
                await eventually(lambda: len(smsc.submits) == 8)
                await asyncio.sleep(0.3)
                assert len(smsc.submits) == 8  # read by the SMSC: exactly the window
                first = await asyncio.gather(*tasks[:8])
                assert {type(o) for o in first} == {RetryLater}
                assert all("did not answer" in o.reason for o in first if isinstance(o, RetryLater))
                await eventually(lambda: len(smsc.submits) == 16)  # freed slots, next 8
                await smsc.release()
                await asyncio.gather(*tasks[8:])
            assert connector.status().in_flight == 0

    run(main)


def test_the_smscs_unbind_and_unknown_requests_are_answered() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port)
            async with running(connector):
                # data_sm (0x103): not something we take; then junk header fields.
                await smsc.send_raw(encode("data_sm", 77, source_addr="1", destination_addr="2"))
                await eventually(lambda: smsc.nacks == [(77, 0x03)])  # ESME_RINVCMDID
                await smsc.send_raw(encode("unbind", 78))
                await eventually(lambda: "unbind_resp" in smsc.commands)
                await eventually(lambda: len(smsc.binds) == 2)
                await eventually(lambda: connector.status().state == "up")
            assert connector.status().last_error == "TRX: unbound by the carrier"

    run(main)


def test_a_length_that_cannot_be_framed_is_nacked_and_the_session_rebound() -> None:
    async def main() -> None:
        async with CodecSmsc() as smsc:
            connector = connector_for(smsc.port)
            async with running(connector):
                await smsc.send_raw(struct.pack(">IIII", 8, 0x00000005, 0, 91))
                await eventually(lambda: smsc.nacks == [(91, 0x02)])  # ESME_RINVCMDLEN
                await eventually(lambda: len(smsc.binds) == 2)
                await eventually(lambda: connector.status().state == "up")
                assert isinstance(await connector.submit(sms()), Accepted)
            assert connector.status().last_error == "TRX: invalid command_length from the carrier"

    run(main)


# ── against centauro smsc-sim ────────────────────────────────────────────────


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscProcess]:
    """One simulator with default behaviour, shared by the tests that need nothing special."""
    with start_smsc(tmp_path_factory.mktemp("sim"), dlr_delay=0.05, reject_prefix=["58499"]) as s:
        yield s


def sim_connector(smsc: SmscProcess, **changes: Any) -> SmppConnector:
    return connector_for(smsc.port, password=smsc.password, **changes)


async def submit_all(connector: SmppConnector, messages: list[OutboundSms]) -> list[SubmitOutcome]:
    return await asyncio.gather(*(connector.submit(m) for m in messages))


def test_sim_accepts_and_reports_every_part(sim: SmscProcess) -> None:
    async def main() -> None:
        for multipart in ("udh", "sar", "payload"):
            connector = sim_connector(sim, multipart=multipart)
            async with running(connector) as inbox:
                texts = ["Hola", "x" * 200, "Año nuevo: ñandú " * 6]
                outcomes = await submit_all(
                    connector, [sms(t, message_id=i) for i, t in enumerate(texts)]
                )
                ids = [cid for o in outcomes if isinstance(o, Accepted) for cid in o.carrier_ids]
                await eventually(lambda: len(inbox.reports) == len(ids))  # noqa: B023
            parts = [len(o.carrier_ids) for o in outcomes if isinstance(o, Accepted)]
            assert parts == ([1, 1, 1] if multipart == "payload" else [1, 2, 2]), multipart
            assert sorted(r.carrier_id for r in inbox.reports) == sorted(ids)
            assert {r.state for r in inbox.reports} == {MessageState.DELIVERED}

    run(main)


def test_sim_reject_prefix_is_rejected_with_its_code(sim: SmscProcess) -> None:
    async def main() -> None:
        connector = sim_connector(sim)
        async with running(connector):
            outcome = await connector.submit(sms(recipient="+584991234567"))
        assert outcome == Rejected("ESME_RINVDSTADR (0x0000000b)", code="0x0000000b")

    run(main)


def test_sim_transmitter_receiver_binds_carry_receipts_and_decoded_mo(sim: SmscProcess) -> None:
    async def main() -> None:
        connector = sim_connector(sim, bind_mode="transmitter_receiver")
        async with running(connector) as inbox:
            outcome = await connector.submit(sms())
            sim.inject_mo("584121234567", "2525", "Hola ñandu €")
            sim.inject_mo("584121234567", "2525", "¿Cómo estás? 😀")
            await eventually(lambda: len(inbox.messages) == 2 and inbox.reports)
        assert sorted(m.text for m in inbox.messages) == ["Hola ñandu €", "¿Cómo estás? 😀"]
        assert isinstance(outcome, Accepted)
        assert [r.carrier_id for r in inbox.reports] == list(outcome.carrier_ids)

    run(main)


def test_sim_wrong_password_is_down_and_retries_with_backoff(tmp_path: Path) -> None:
    with start_smsc(tmp_path) as smsc:

        async def main() -> None:
            connector = connector_for(smsc.port, password="wrong")
            async with running(connector, up=False):
                await eventually(lambda: smsc.stats().get("binds_refused", 0) >= 3, timeout=8)
                status = connector.status()
                outcome = await connector.submit(sms())
            assert status.state in ("down", "connecting")
            assert status.last_error is not None
            assert isinstance(outcome, RetryLater)
            assert outcome.reason == "bind down"

        run(main)


def test_sim_drop_gives_in_flight_back_then_later_submits_succeed(tmp_path: Path) -> None:
    with start_smsc(tmp_path, dlr_delay=0) as smsc:

        async def main() -> None:
            connector = connector_for(smsc.port, password=smsc.password, tps=0)
            async with running(connector):
                batch = [sms(f"m{i}", message_id=i) for i in range(3000)]
                submits = asyncio.ensure_future(submit_all(connector, batch))
                await eventually(lambda: connector.status().submitted > 100)
                await asyncio.to_thread(smsc.drop)
                outcomes = await submits
                await eventually(lambda: connector.status().state == "up")
                after = await connector.submit(sms())
            accepted = sum(isinstance(o, Accepted) for o in outcomes)
            retry = [o for o in outcomes if isinstance(o, RetryLater)]
            assert accepted + len(retry) == len(batch)
            assert retry
            assert accepted > 100
            assert {o.reason for o in retry} == {"bind down"}
            assert isinstance(after, Accepted)
            await asyncio.to_thread(smsc.wait_for, lambda s: s["binds_ok"] >= 2)

        run(main)


@pytest.mark.parametrize("option", [{"throttle_tps": 100}, {"queue_full_every": 4}])
def test_sim_throttling_slows_down_and_every_message_is_accepted(
    tmp_path: Path, option: dict[str, Any]
) -> None:
    with start_smsc(tmp_path, dlr_delay=0, **option) as smsc:

        async def main() -> None:
            connector = connector_for(smsc.port, password=smsc.password, tps=0)
            async with running(connector):
                outcomes = await submit_all(connector, [sms(message_id=i) for i in range(200)])
                throttled = connector.status().extra["throttled"]
            assert all(isinstance(o, Accepted) for o in outcomes)
            stats = smsc.wait_for(lambda s: s["submit_accepted"] == 200)
            assert throttled == stats["submit_throttled"] + stats["submit_queue_full"] > 0

        run(main)


def test_sim_resends_the_receipts_the_inbox_could_not_store(tmp_path: Path) -> None:
    with start_smsc(tmp_path, dlr_delay=0) as smsc:

        async def main() -> None:
            connector = connector_for(smsc.port, password=smsc.password)
            inbox = FailingInbox(failures=2)
            await connector.start(inbox)
            try:
                await eventually(lambda: connector.status().state == "up")
                outcomes = await submit_all(connector, [sms(message_id=i) for i in range(5)])
                await eventually(lambda: len(inbox.reports) == 5, timeout=10)
            finally:
                await connector.stop()
            ids = sorted(o.carrier_id for o in outcomes if isinstance(o, Accepted))
            assert sorted(r.carrier_id for r in inbox.reports) == ids
            assert inbox.calls > 2

        run(main)
        stats = smsc.wait_for(lambda s: s["receipts_acked"] == 5)
        assert stats["receipts_nacked"] >= 1
        assert stats["receipts_dropped"] == 0
