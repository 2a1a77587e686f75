"""The simulated SMSC: settings, counters, the listening socket and what a carrier decides.

:class:`Simulator` is usable in-process (``async with Simulator(settings) as sim``), like
aiosmtpd's controller; :func:`serve` is the process around it (signals, until stopped)
that ``centauro smsc-sim`` runs. Sessions (``session.py``) speak SMPP; the simulator
decides what a submit_sm gets (throttling, queue-full, address and data_coding checks,
message ids), schedules receipts, injects MO, and writes its stats file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import cast

import smpp34

from centauro.connectors.smpp import smsc
from centauro.connectors.smpp.smsc import Session
from centauro.smsc_sim import pdu
from centauro.smsc_sim.mo import MoFile, MoMessage, encode_text
from centauro.smsc_sim.pdu import Status
from centauro.smsc_sim.receipts import (
    DeliveryQueue,
    Outbound,
    Receipt,
    ReceiptStyle,
    fails,
    format_id,
)
from centauro.smsc_sim.stats import Stats

log = logging.getLogger("centauro.smsc_sim")

TICK = 0.01  # how often due receipts are released
MO_POLL = 0.2
STATS_EVERY = 0.5  # written at least this often, and within 0.1 s of any change
MAX_ATTEMPTS = 5  # a deliver_sm refused this many times is dropped
MAX_PEERS = 1000  # peers counted in submit_by_peer (a long run reconnecting stays bounded)
DATA_CODINGS = frozenset({0, 1, 3, 4, 8})
_STATUS_IN_ERROR = re.compile(r"\(0x([0-9A-Fa-f]{8})\)")


@dataclass(frozen=True)
class Settings:
    """What ``centauro smsc-sim`` takes on its command line, one field per option."""

    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = "centauro"
    password: str = "secret"  # noqa: S105  (a test carrier's well-known default)
    dlr_delay: float = 1.0
    dlr_fail_rate: float = 0.0
    seed: int = 0
    throttle_tps: int = 0
    queue_full_every: int = 0
    reject_prefixes: tuple[str, ...] = ()
    id_format: str = "dec"
    dlr_id_format: str = "same"
    id_start: int | None = None
    dlr_tlvs: bool = True
    drop_after: int = 0
    mo_file: Path | None = None
    stats_file: Path | None = None
    max_pending: int = 100_000
    window: int = 512


class TokenBucket:
    """``rate`` submits per second, with a burst of one second's worth."""

    __slots__ = ("rate", "stamp", "tokens")

    def __init__(self, rate: int, now: float) -> None:
        self.rate = float(rate)
        self.tokens = float(rate)
        self.stamp = now

    def take(self, now: float) -> bool:
        tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False


def _error_status(exc: smpp34.SmppError) -> int:
    """The command_status smpp34's decoder names in its message (``… (0x000000C2)``)."""
    found = _STATUS_IN_ERROR.search(str(exc))
    return int(found.group(1), 16) if found else Status.ESME_RSYSERR


class Simulator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stats = Stats(settings.stats_file)
        self.counters = self.stats.counters
        self.sessions: set[Session] = set()
        #: Accepted submit_sm per peer address ("ip:port"), kept after the peer leaves:
        #: which of several gateway processes sent what (bind ownership tests).
        self.submit_by_peer: dict[str, int] = {}
        self.receivers: dict[str, list[Session]] = {}
        self.queue = DeliveryQueue(settings.max_pending)
        self.style = ReceiptStyle(settings.id_format, settings.dlr_id_format, settings.dlr_tlvs)
        self.port = 0
        default_start = int(time.time() * 1000) % 900_000_000 + 1  # ≤ 9 digits: room to pad
        self._next_number = settings.id_start if settings.id_start is not None else default_start
        self._prefixes = tuple(p.removeprefix("+") for p in settings.reject_prefixes)
        self._buckets: dict[str, TokenBucket] = {}
        self._mo = MoFile(settings.mo_file, settings.system_id) if settings.mo_file else None
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        s = self.settings
        self._server = await self._loop.create_server(
            lambda: Session(self, window=s.window, drop_after=s.drop_after), s.host, s.port
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._ticker = asyncio.create_task(self._tick(), name="smsc-sim ticker")
        self.write_stats()

    async def stop(self) -> None:
        """Stop listening, unbind every session, write the stats one last time."""
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.unbind_and_close()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await asyncio.sleep(0)  # let the transports flush their unbinds
        self.write_stats()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def drop_all(self) -> int:
        """Abort every connection (no unbind), as a carrier outage would."""
        sessions = list(self.sessions)
        for session in sessions:
            session.drop()
        self.counters.drop_requests += 1
        log.info("dropped %d connections", len(sessions), extra={"action": "drop"})
        self.write_stats()
        return len(sessions)

    def inject_mo(
        self, source: str, destination: str, text: str, coding: str | None = None
    ) -> None:
        body, data_coding = encode_text(text, coding)
        self._queue_mo([MoMessage(source, destination, body, data_coding, self.settings.system_id)])

    # -- Carrier hooks (called by sessions) ---------------------------------------------------

    def opened(self, session: Session) -> None:
        self.sessions.add(session)

    def closed(self, session: Session) -> None:
        self.sessions.discard(session)
        self.counters.drops += session.dropped
        self.counters.stray_nuls += session.stray_nuls
        receivers = self.receivers.get(session.system_id)
        if receivers and session in receivers:
            receivers.remove(session)
        if session.in_flight:  # sent but never answered: a real SMSC sends them again
            self.queue.requeue(cast(list[Outbound], list(session.in_flight.values())))
            session.in_flight.clear()

    def authenticate(self, session: Session, bind: pdu.Bind) -> Status:
        if bind.system_id != self.settings.system_id:
            status = Status.ESME_RINVSYSID
        elif bind.password != self.settings.password:
            status = Status.ESME_RINVPASWD
        else:
            self.counters.binds_ok += 1
            return Status.ESME_ROK
        self.counters.binds_refused += 1
        return status

    def bound(self, session: Session) -> None:
        if session.can_receive:
            self.receivers.setdefault(session.system_id, []).append(session)
            # After the bind_resp is written, not before it: the ESME is not bound yet.
            asyncio.get_running_loop().call_soon(self.ready, session)

    def ready(self, session: Session) -> None:
        """A receiver has room: send it what is due for its system_id."""
        room = session.room()
        if room > 0:
            self._send(session, self.queue.take(session.system_id, room))

    def command(self, session: Session, command_id: int, sequence: int, frame: bytes) -> bytes:
        """Commands a test carrier does not offer (query_sm, cancel_sm…)."""
        return pdu.generic_nack(sequence, Status.ESME_RINVCMDID)

    def answered(self, session: Session, sent: smsc.Outbound, status: int) -> None:
        item = cast(Outbound, sent)  # what this simulator sends is its own Outbound
        c = self.counters
        is_receipt = isinstance(item, Receipt)
        if status == Status.ESME_ROK:
            if is_receipt:
                c.receipts_acked += 1
            else:
                c.mo_acked += 1
            return
        if is_receipt:
            c.receipts_nacked += 1
        if item.attempts >= MAX_ATTEMPTS:
            self._count_dropped([item])
        else:
            self.queue.retry(item, self._now())

    def submit(self, session: Session, frame: bytes, sequence: int) -> bytes:
        c = self.counters
        s = self.settings
        c.submit_received += 1
        if s.queue_full_every and c.submit_received % s.queue_full_every == 0:
            c.submit_queue_full += 1
            return pdu.submit_sm_error(sequence, Status.ESME_RMSGQFUL)
        if s.throttle_tps and not self._bucket(session.system_id).take(self._now()):
            c.submit_throttled += 1
            return pdu.submit_sm_error(sequence, Status.ESME_RTHROTTLED)
        try:
            submit = smpp34.decode(frame)
        except smpp34.SmppError as exc:
            c.submit_rejected += 1
            return pdu.submit_sm_error(sequence, _error_status(exc))
        assert isinstance(submit, smpp34.SubmitSm)
        destination = submit.destination_addr.removeprefix("+")
        if not (destination.isascii() and destination.isdigit()) or (
            self._prefixes and destination.startswith(self._prefixes)
        ):
            c.submit_rejected += 1
            return pdu.submit_sm_error(sequence, Status.ESME_RINVDSTADR)
        if submit.data_coding not in DATA_CODINGS:
            c.submit_rejected += 1
            return pdu.submit_sm_error(sequence, Status.ESME_RINVDCS)

        number = self._next_number
        self._next_number += 1
        message_id = format_id(number, s.id_format)
        body = submit.short_message
        multipart = submit.esm_class & 0x40  # UDHI: the body starts with a UDH
        tlvs = submit.tlvs
        if tlvs:
            values = {t.tag: t.value for t in tlvs}
            body = body or values.get(pdu.TLV_MESSAGE_PAYLOAD, b"")
            multipart = multipart or pdu.TLV_SAR_MSG_REF_NUM in values
        if multipart:
            c.parts += 1
        source = (submit.source_addr_ton, submit.source_addr_npi, submit.source_addr)
        self.stats.accepted(message_id, destination, body, source, submit.data_coding)
        registered = submit.registered_delivery & 0x03  # 1: always, 2: on failure only
        if registered:
            failed = fails(message_id, s.seed, s.dlr_fail_rate)
            if registered == 1 or failed:
                receipt = Receipt(
                    system_id=session.system_id,
                    number=number,
                    style=self.style,
                    submit=submit,
                    body=body,
                    submitted_at=time.time(),
                    failed=failed,
                )
                self.queue.schedule(receipt, self._now() + s.dlr_delay)
                c.receipts_scheduled += 1
        c.submit_accepted += 1
        if session.peer in self.submit_by_peer or len(self.submit_by_peer) < MAX_PEERS:
            self.submit_by_peer[session.peer] = self.submit_by_peer.get(session.peer, 0) + 1
        return pdu.submit_sm_resp(sequence, message_id)

    # -- internals ------------------------------------------------------------------------

    def _now(self) -> float:
        return self._loop.time() if self._loop is not None else time.monotonic()

    def _bucket(self, system_id: str) -> TokenBucket:
        bucket = self._buckets.get(system_id)
        if bucket is None:
            bucket = self._buckets[system_id] = TokenBucket(self.settings.throttle_tps, self._now())
        return bucket

    def _send(self, session: Session, items: list[Outbound]) -> None:
        if not items:
            return
        receipts = sum(1 for item in items if isinstance(item, Receipt))
        self.counters.receipts_sent += receipts
        self.counters.mo_sent += len(items) - receipts
        session.deliver(items)

    def _pump(self) -> None:
        for system_id, ready in list(self.queue.ready.items()):
            receivers = self.receivers.get(system_id)
            if not ready or not receivers:
                continue
            receivers.append(receivers.pop(0))  # round robin across ticks
            for session in receivers:
                self.ready(session)

    def _queue_mo(self, messages: list[MoMessage]) -> None:
        now = self._now()
        for message in messages:
            self.queue.schedule(message, now)
        self.counters.mo_injected += len(messages)

    def _count_dropped(self, items: list[Outbound]) -> None:
        receipts = sum(1 for item in items if isinstance(item, Receipt))
        self.counters.receipts_dropped += receipts
        self.counters.mo_dropped += len(items) - receipts

    async def _tick(self) -> None:
        next_mo = next_stats = 0.0
        last_stats = self._now()
        while True:
            await asyncio.sleep(TICK)
            now = self._now()
            try:
                self.queue.release(now)
                self._count_dropped(self.queue.drain_dropped())
                self._pump()
                if self._mo is not None and now >= next_mo:
                    next_mo = now + MO_POLL
                    self._queue_mo(self._mo.poll())
                    self.counters.mo_rejected = self._mo.rejected
                if now >= next_stats:
                    next_stats = now + 0.1
                    if now - last_stats >= STATS_EVERY or self.stats.changed(self.facts()):
                        self.write_stats()
                        last_stats = now
            except Exception:  # the ticker is the simulator's clock: it must not stop
                log.exception("smsc-sim tick failed")

    def facts(self) -> dict[str, object]:
        """What goes into the stats file besides the counters."""
        return {
            "connections": len(self.sessions),
            "sessions": sum(1 for session in self.sessions if session.system_id),
            "port": self.port,
            "system_id": self.settings.system_id,
            "submit_by_peer": dict(self.submit_by_peer),
        }

    def snapshot(self) -> dict[str, object]:
        """The counters and facts of the stats file, for in-process use."""
        return {**self.counters.as_dict(), **self.facts()}

    def write_stats(self) -> None:
        self.stats.write(self.facts())


async def serve(settings: Settings, on_ready: Callable[[Simulator], None]) -> None:
    """Run until SIGINT or SIGTERM; SIGUSR1 drops every connection."""
    simulator = Simulator(settings)
    await simulator.start()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    loop.add_signal_handler(signal.SIGUSR1, simulator.drop_all)
    on_ready(simulator)
    try:
        await stopping.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
            loop.remove_signal_handler(signum)
        await simulator.stop()
