"""One ESME connection: the SMPP 3.4 session state machine, SMSC side.

Shared by the two SMSCs we run: ``centauro smsc-sim`` (a carrier for tests) and the
SMPP server customers bind to (``centauro.smpp_server``).

    OPEN ──bind ok──▶ BOUND_TX | BOUND_RX | BOUND_TRX ──unbind──▶ CLOSED
      └──bad credentials / no bind in time / bad header / drop──────▶ CLOSED

Every PDU is answered in SMPP's own words, never with a traceback: a command the state
does not allow gets its response with ESME_RINVBNDSTS; an unknown command_id a
generic_nack ESME_RINVCMDID; a command_length that cannot be framed a generic_nack
ESME_RINVCMDLEN and a close (the stream cannot be resynchronised); a body that does not
decode its own response with the reason; a bug of ours ESME_RSYSERR. What a submit_sm
gets is the carrier's business (:class:`Carrier`, implemented by ``server.Simulator``),
in the spirit of aiosmtpd's handler hooks. A carrier that must look something up (a
password in the store, a submit to commit) answers later: its hook returns None and it
calls :meth:`Session.finish_bind` or :meth:`Session.send` when it knows.

All answers to one read go out in one ``transport.write``: at 10,000+ submit_sm/s the
number of syscalls, not the PDUs, is what costs.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import socket
from collections.abc import Sequence
from typing import Protocol, cast

from centauro.connectors.smpp import pdu
from centauro.connectors.smpp.pdu import Status

log = logging.getLogger("centauro.smsc")

SESSION_INIT_TIMEOUT = 10.0
#: The system_id this SMSC gives in bind_resp.
SMSC_SYSTEM_ID = "centauro-sim"
MAX_SEQUENCE = 0x7FFFFFFF
#: Bytes of answers a peer may leave unread before it is dropped (it sends, never reads).
MAX_UNREAD = 16 * 1024 * 1024
QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only


class State(enum.Enum):
    OPEN = "open"
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    CLOSED = "closed"


BIND_STATES = {
    pdu.BIND_TRANSMITTER: State.BOUND_TX,
    pdu.BIND_RECEIVER: State.BOUND_RX,
    pdu.BIND_TRANSCEIVER: State.BOUND_TRX,
}
TRANSMIT_STATES = (State.BOUND_TX, State.BOUND_TRX)
RECEIVE_STATES = (State.BOUND_RX, State.BOUND_TRX)
BOUND_STATES = (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX)


class Outbound(Protocol):
    """Anything sent as deliver_sm and kept until the ESME acknowledges it."""

    attempts: int

    def encode(self, sequence: int) -> bytes: ...


class Carrier(Protocol):
    """What a session asks of the SMSC behind it.

    ``authenticate`` and ``submit`` may return None: the carrier answers later
    (:meth:`Session.finish_bind`, :meth:`Session.send`). ``command`` gets every request
    the session does not handle itself (query_sm, cancel_sm, submit_multi…).
    """

    def opened(self, session: Session) -> None: ...
    def closed(self, session: Session) -> None: ...
    def authenticate(self, session: Session, bind: pdu.Bind) -> Status | None: ...
    def bound(self, session: Session) -> None: ...
    def submit(self, session: Session, frame: bytes, sequence: int) -> bytes | None: ...
    def command(
        self, session: Session, command_id: int, sequence: int, frame: bytes
    ) -> bytes | None: ...
    def answered(self, session: Session, item: Outbound, status: int) -> None: ...
    def ready(self, session: Session) -> None: ...


class Session(asyncio.Protocol):
    """The SMSC end of one TCP connection; created by the server for each ESME."""

    def __init__(
        self,
        carrier: Carrier,
        *,
        window: int = 512,
        drop_after: int = 0,
        enquire_link: float = 0.0,
        smsc_system_id: str = SMSC_SYSTEM_ID,
        log_refusals: bool = True,
    ) -> None:
        self.carrier = carrier
        self.window = window
        self.drop_after = drop_after
        #: Seconds of silence after which we send enquire_link; as long again without
        #: an answer and the peer is dropped. 0: we never ask.
        self.enquire_link = enquire_link
        self.smsc_system_id = smsc_system_id  #: what bind_resp names us
        #: False when the carrier logs refused binds itself (the SMPP server does, once a
        #: minute per system_id, so a password guesser cannot flood the log).
        self.log_refusals = log_refusals
        self.state = State.OPEN
        self.system_id = ""
        self.peer = "?"
        self.submits = 0
        self.dropped = False  # closed on purpose without unbind (drop, --drop-after)
        self.in_flight: dict[int, Outbound] = {}
        self.transport: asyncio.Transport | None = None
        self._framer = pdu.Framer()
        self._sequence = 0
        self._paused = False
        self._init_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._asked_at = -1.0
        #: The bind being answered: (command_id, sequence, fields); None before and after.
        self._binding: tuple[int, int, pdu.Bind] | None = None
        self._socket: socket.socket | None = None

    # -- what the carrier reads -------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self.state in BOUND_STATES

    @property
    def can_receive(self) -> bool:
        return self.state in RECEIVE_STATES and not self._paused

    def room(self) -> int:
        """How many more deliver_sm this session may have unanswered."""
        return self.window - len(self.in_flight) if self.can_receive else 0

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = self.transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        if QUICKACK is not None:
            self._socket = self.transport.get_extra_info("socket")
        loop = asyncio.get_running_loop()
        self._init_timer = loop.call_later(SESSION_INIT_TIMEOUT, self._init_expired)
        self._last_read = loop.time()
        if self.enquire_link > 0:
            self._idle_timer = loop.call_later(self.enquire_link, self._idle_check)
        self.carrier.opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state in BOUND_STATES:
            log.info(
                "connection lost while bound",
                extra={"action": "connection_lost", "system_id": self.system_id, "peer": self.peer},
            )
        self.state = State.CLOSED
        if self._init_timer is not None:
            self._init_timer.cancel()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self.carrier.closed(self)

    def pause_writing(self) -> None:
        """The peer reads slower than we write: hold its receipts back until it catches up.

        Reading goes on. Pausing it too would deadlock a peer that, like smpp34, stops
        reading while its own writes (our deliver_sm_resp) are blocked.
        """
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self.carrier.ready(self)

    @property
    def stray_nuls(self) -> int:
        return self._framer.stray_nuls

    def data_received(self, data: bytes) -> None:
        self._ack_now()
        if self.enquire_link > 0:
            self._last_read = asyncio.get_running_loop().time()
        stray_nuls = self._framer.stray_nuls
        frames, bad_sequence = self._framer.feed(data)
        if stray_nuls == 0 and self._framer.stray_nuls:  # once per session, then counted
            log.warning(
                "skipped a NUL after a 16-byte error response (smpp34 deliver_sm_resp bug)",
                extra={"action": "stray_nul", "system_id": self.system_id, "peer": self.peer},
            )
        out: list[bytes] = []
        answered_deliveries = False
        for frame in frames:
            if self.state is State.CLOSED:
                break
            command_id, status, sequence = pdu.HEADER.unpack_from(frame)[1:]
            try:
                if command_id == pdu.SUBMIT_SM:
                    self._submit_sm(frame, sequence, out)
                elif command_id in (pdu.DELIVER_SM_RESP, pdu.GENERIC_NACK):
                    answered_deliveries |= self._delivery_answer(sequence, status)
                else:
                    self._other(command_id, sequence, frame, out)
            except Exception:  # a bug of ours must not reach the peer as a dead socket
                log.exception("error handling PDU 0x%08x", command_id)
                if not command_id & pdu.RESPONSE_BIT:
                    out.append(pdu.response(command_id, sequence, Status.ESME_RSYSERR))
        if bad_sequence is not None and self.state is not State.CLOSED:
            log.warning(
                "invalid command_length; closing",
                extra={"action": "bad_length", "system_id": self.system_id, "peer": self.peer},
            )
            out.append(pdu.generic_nack(bad_sequence, Status.ESME_RINVCMDLEN))
            self.state = State.CLOSED
        self._flush(out)
        if self.transport is not None and self.transport.get_write_buffer_size() > MAX_UNREAD:
            log.warning(
                "peer does not read its responses; dropping it",
                extra={"action": "drop_unread", "system_id": self.system_id, "peer": self.peer},
            )
            self.drop()
        if answered_deliveries and self.state is not State.CLOSED:
            self.carrier.ready(self)

    # -- sending -------------------------------------------------------------------------

    def deliver(self, items: Sequence[Outbound]) -> None:
        """Send deliver_sm PDUs (receipts, MO) in one write; they stay in flight until answered."""
        if self.transport is None or not items:
            return
        chunks = []
        for item in items:
            item.attempts += 1
            self._sequence = self._sequence % MAX_SEQUENCE + 1
            try:
                chunks.append(item.encode(self._sequence))
            except Exception:  # one bad item must not stop the others
                log.exception("cannot encode deliver_sm")
                self.carrier.answered(self, item, Status.ESME_RSYSERR)
                continue
            self.in_flight[self._sequence] = item
        self.transport.write(b"".join(chunks))

    def send(self, data: bytes) -> None:
        """Write answers the carrier produced later (a committed submit_sm)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def drop(self) -> None:
        """Close abruptly, no unbind: what a carrier outage looks like to the ESME."""
        self.state = State.CLOSED
        self.dropped = True
        if self.transport is not None:
            self.transport.abort()

    def unbind_and_close(self) -> None:
        """A clean stop: tell a bound ESME with unbind, then close once it is written."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.state in BOUND_STATES:
            self._sequence = self._sequence % MAX_SEQUENCE + 1
            self.transport.write(pdu.unbind(self._sequence))
        self.state = State.CLOSED
        self.transport.close()

    # -- the state machine ---------------------------------------------------------------

    def _flush(self, out: list[bytes]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if out:
            self.transport.write(b"".join(out))
        if self.state is State.CLOSED:
            self.transport.close()  # after the answers above are written

    def _submit_sm(self, frame: bytes, sequence: int, out: list[bytes]) -> None:
        if self.state not in TRANSMIT_STATES:
            out.append(pdu.submit_sm_error(sequence, Status.ESME_RINVBNDSTS))
            return
        answer = self.carrier.submit(self, frame, sequence)
        if answer is not None:
            out.append(answer)
        self.submits += 1
        if self.drop_after and self.submits >= self.drop_after:
            log.info(
                "dropping session after %d submit_sm",
                self.submits,
                extra={"action": "drop_after", "system_id": self.system_id, "peer": self.peer},
            )
            self.state = State.CLOSED
            self.dropped = True

    def _delivery_answer(self, sequence: int, status: int) -> bool:
        item = self.in_flight.pop(sequence, None)
        if item is None:
            return False
        self.carrier.answered(self, item, status)
        return True

    def _other(self, command_id: int, sequence: int, frame: bytes, out: list[bytes]) -> None:
        if command_id in BIND_STATES:
            answer = self._bind(command_id, sequence, frame)
            if answer is not None:
                out.append(answer)
        elif command_id == pdu.ENQUIRE_LINK:
            ok = self.state in BOUND_STATES
            out.append(pdu.response(command_id, sequence, 0 if ok else Status.ESME_RINVBNDSTS))
        elif command_id == pdu.UNBIND:
            if self.state not in BOUND_STATES:
                out.append(pdu.response(command_id, sequence, Status.ESME_RINVBNDSTS))
                return
            log.info(
                "unbind",
                extra={"action": "unbind", "system_id": self.system_id, "peer": self.peer},
            )
            out.append(pdu.response(command_id, sequence))
            self.state = State.CLOSED
        elif command_id & pdu.RESPONSE_BIT:
            pass  # enquire_link_resp, unbind_resp, or a stray response: nothing to answer
        else:
            answer = self.carrier.command(self, command_id, sequence, frame)
            if answer is not None:
                out.append(answer)

    def _bind(self, command_id: int, sequence: int, frame: bytes) -> bytes | None:
        if self.state is not State.OPEN or self._binding:
            return pdu.bind_resp(command_id, Status.ESME_RALYBND, sequence, "")
        try:
            bind = pdu.parse_bind(frame[pdu.HEADER_SIZE :])
        except pdu.BadPdu as exc:
            return pdu.bind_resp(command_id, exc.status, sequence, "")
        self._binding = (command_id, sequence, bind)
        status = self.carrier.authenticate(self, bind)
        if status is None:
            return None  # the carrier calls finish_bind when it knows
        return self._bind_answer(command_id, sequence, bind, status)

    def finish_bind(self, status: Status) -> None:
        """The answer to the bind whose ``authenticate`` returned None."""
        if self.state is State.CLOSED or self.transport is None or not self._binding:
            return
        command_id, sequence, bind = self._binding
        self._flush([self._bind_answer(command_id, sequence, bind, status)])

    def _bind_answer(self, command_id: int, sequence: int, bind: pdu.Bind, status: Status) -> bytes:
        self._binding = None
        kind = BIND_STATES[command_id].value.removeprefix("bound_")
        extra = {"system_id": bind.system_id, "peer": self.peer, "bind": kind}
        if status != Status.ESME_ROK:
            if self.log_refusals:
                log.info("bind refused: %s", status.name, extra={"action": "bind_refused", **extra})
            self.state = State.CLOSED
            return pdu.bind_resp(command_id, status, sequence, "")
        log.info("bound %s", kind, extra={"action": "bind", **extra})
        self.state = BIND_STATES[command_id]
        self.system_id = bind.system_id
        if self._init_timer is not None:
            self._init_timer.cancel()
        self.carrier.bound(self)
        return pdu.bind_resp(command_id, Status.ESME_ROK, sequence, self.smsc_system_id)

    def _ack_now(self) -> None:
        """Acknowledge what we read at once instead of after the kernel's delayed-ACK timer.

        smpp34's client does not set TCP_NODELAY, so Nagle holds its next submit_sm until
        our ACK of its last segment. After a segment that needs no answer (deliver_sm_resp)
        that ACK would wait up to 40 ms; with receipts flowing, throughput fell to a third.
        """
        if self._socket is not None and QUICKACK is not None:
            try:
                self._socket.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            except OSError:
                self._socket = None

    def _idle_check(self) -> None:
        """Ask a silent peer whether it is there (enquire_link); drop one that never says."""
        if self.state is State.CLOSED or self.transport is None:
            return
        loop = asyncio.get_running_loop()
        idle = loop.time() - self._last_read
        if idle >= 2 * self.enquire_link:
            log.info(
                "peer silent; dropping it",
                extra={"action": "idle_timeout", "system_id": self.system_id, "peer": self.peer},
            )
            self.drop()
            return
        asked = self._asked_at > self._last_read  # once per silence, not every check
        if idle >= self.enquire_link and self.state in BOUND_STATES and not asked:
            self._asked_at = loop.time()
            self._sequence = self._sequence % MAX_SEQUENCE + 1
            self.transport.write(pdu.enquire_link(self._sequence))
        wait = self.enquire_link - idle if idle < self.enquire_link else self.enquire_link / 2
        self._idle_timer = loop.call_later(max(wait, 0.05), self._idle_check)

    def _init_expired(self) -> None:
        if self.state is State.OPEN and self.transport is not None:
            log.info("no bind in time", extra={"action": "init_timeout", "peer": self.peer})
            self.state = State.CLOSED
            self.transport.abort()
