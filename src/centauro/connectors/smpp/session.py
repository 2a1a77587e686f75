"""Our ESME session: one SMPP 3.4 bind over an asyncio ``Protocol``, in the event loop.

Why it exists: ``smpp34.Client`` 1.5.0, the session we used until now (a Rust/tokio
core), cannot keep the gateway's promises. Measured on loopback against raw sockets and
``centauro smsc-sim``, and read in its source:

1. It ACKs every deliver_sm in the core *before* Python sees it: a receipt or MO acked to
   the carrier is lost if our process is killed (kill -9) before it is stored.
2. A refused bind (ESME_RINVPASWD) is reported only as "bind timed out", after the
   connect timeout.
3. ``window_size`` does not bound the wire: 200 unanswered submit_sm all went out with a
   window of 4.
4. ``Disconnected`` is dropped when its event channel is full (a flood of receipts);
   ``next()`` then blocks for ever.
5. When its inbound queue fills it refuses deliver_sm with a malformed deliver_sm_resp
   (17 octets, command_length 16): a protocol violation that desynchronises the SMSC.
6. It never sets TCP_NODELAY: Nagle plus delayed ACK stalled receipt acks up to 40 ms
   (the simulator had to force TCP_QUICKACK; throughput fell to a third without it).
7. enquire_link is fixed at 30 s: our ``enquire_link`` setting could not be honoured.
8. Under load ~68% of CPU samples (py-spy) were its tokio threads waiting for the GIL,
   plus one ``call_soon_threadsafe`` self-pipe wake-up per completed future; a rare abort
   at interpreter exit; Rust panics reachable from Python (submit_sm on an RX bind).

So smpp34 keeps what it does well, the codec (``SubmitSm(...).encode()``, ``decode``
for deliver_sm), and the session is this module: no threads, no per-PDU task, one
``transport.write`` per loop iteration for everything sent in it. Measured with
``bench/smpp_connector.py`` (20,000 single-part submits, window 64, tps 0, receipts at
once from smsc-sim, uvloop, medians of 3 on the 2-core project machine), smpp34's session
→ this one: 20,900 → 33,900 submits/s, 9,300 → 33,900 receipts/s, 109 → 20 µs of CPU
per message and its receipt (about 40% of what is left is ``dlr.py`` reading the text).

* **Requests** (bind, submit_sm, unbind) get a sequence number and a future; the answer
  resolves it with ``(command_status, first C-string of the body)``. A request
  unanswered after ``response_timeout`` fails with :class:`NoResponse`; when the
  connection ends every one still pending fails with :class:`SessionLost`: "we do not
  know what the carrier did", never mistaken for a carrier's command_status.
* **deliver_sm** of one read go to ``on_deliver`` in one list; it returns an awaitable
  (or None: nothing to wait for) and the deliver_sm_resp are written only once it
  completes: acked means stored. If it fails they are answered ESME_RX_T_APPN (0x64,
  temporary) and the SMSC sends them again.
* **Keep-alive**: enquire_link after ``enquire_link`` seconds without a PDU from the
  SMSC; unanswered for as long again, the session is declared dead and aborted.
* The SMSC's enquire_link and unbind are answered; any other request gets generic_nack
  ESME_RINVCMDID; a command_length that cannot be framed ends the session.
* ``closed`` resolves exactly once, with the reason, when the connection is gone.

The window (how many submit_sm may be unanswered) is the connector's: nothing is put on
the wire but what :meth:`EsmeSession.submit_sm` is called for.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, cast

import smpp34

from centauro.connectors.smpp import errors, pdu
from centauro.connectors.smpp.pdu import HEADER, RESPONSE_BIT, Status

log = logging.getLogger(__name__)

#: What a session calls with the deliver_sm of one read; None: acknowledge them now.
DeliverHandler = Callable[[list[smpp34.DeliverSm]], Awaitable[None] | None]
Answer = tuple[int, str]  #: (command_status, message_id or system_id)


class SessionLost(ConnectionError):
    """The connection ended before the answer came: whether the SMSC took it is unknown."""


class NoResponse(TimeoutError):
    """The SMSC did not answer a request within the response timeout."""


class BindRefused(Exception):
    """The SMSC answered the bind with an error ``status`` (e.g. ESME_RINVPASWD)."""

    def __init__(self, status: int) -> None:
        super().__init__(errors.describe(status))
        self.status = status


class EsmeSession(asyncio.Protocol):
    """The ESME end of one TCP connection (see the module docstring)."""

    def __init__(
        self,
        on_deliver: DeliverHandler,
        *,
        enquire_link: float,
        response_timeout: float,
        name: str = "",
    ) -> None:
        self._on_deliver = on_deliver
        self._interval = enquire_link
        self._timeout = response_timeout
        self._period = min(enquire_link, response_timeout, 1.0) / 4  # of the timer
        self._extra = {"connector": name}
        self._loop = asyncio.get_running_loop()
        self._framer = pdu.Framer()
        self._pending: dict[int, tuple[asyncio.Future[Answer], float]] = {}
        self._sequence = 0
        self._out: list[bytes] = []
        self._deliveries: set[asyncio.Future[None]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._last_read = self._probe_at = 0.0
        self._probe = 0  # sequence of the enquire_link awaiting its answer, or 0
        self._ending: str | None = None  # why we are ending the session, if we are
        self._unbinding = False
        self.transport: asyncio.Transport | None = None
        self.bind_type = ""
        self.bound = False
        self.closed: asyncio.Future[str] = self._loop.create_future()

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:  # asyncio sets it by default; we do not depend on that
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._last_read = self._loop.time()
        self._timer = self._loop.call_later(self._period, self._tick)

    def connection_lost(self, exc: Exception | None) -> None:
        reason = self._ending or "session dropped"
        if self._timer is not None:
            self._timer.cancel()
        pending, self._pending = self._pending, {}
        for future, _ in pending.values():
            if not future.done():
                future.set_exception(SessionLost(reason))
        self._out.clear()
        if not self.closed.done():
            self.closed.set_result(reason)

    def data_received(self, data: bytes) -> None:
        self._last_read = self._loop.time()
        frames, bad_sequence = self._framer.feed(data)
        pending = self._pending
        deliveries: list[bytes] = []
        for frame in frames:
            _, command, status, sequence = HEADER.unpack_from(frame)
            if command & RESPONSE_BIT:
                entry = pending.pop(sequence, None)
                if entry is not None:
                    if not entry[0].done():
                        if command == pdu.GENERIC_NACK and not status:
                            status = Status.ESME_RUNKNOWNERR  # a nack is never a success
                        body = pdu.leading_cstring(frame) if len(frame) > pdu.HEADER_SIZE else ""
                        entry[0].set_result((status, body))
                elif sequence == self._probe:
                    self._probe = 0
            elif command == pdu.DELIVER_SM:
                deliveries.append(frame)
            elif command == pdu.ENQUIRE_LINK:
                self._send(pdu.response(command, sequence))
            elif command == pdu.UNBIND:
                self._send(pdu.response(command, sequence))
                self._end("unbound by the carrier")
            else:
                self._send(pdu.generic_nack(sequence, Status.ESME_RINVCMDID))
        if deliveries:
            self._deliver(deliveries)
        if bad_sequence is not None:
            log.warning("smpp_bad_pdu", extra={"action": "smpp_bad_pdu", **self._extra})
            self._send(pdu.generic_nack(bad_sequence, Status.ESME_RINVCMDLEN))
            self._end("invalid command_length from the carrier")

    # -- requests -----------------------------------------------------------------------

    async def bind(self, bind_type: str, fields: pdu.Bind) -> str:
        """Bind as ``bind_type`` (TRX, TX or RX): the SMSC's system_id, or BindRefused."""
        command = pdu.BIND_COMMANDS[bind_type]
        self.bind_type = bind_type
        status, system_id = await self._request(lambda seq: pdu.bind(command, seq, fields))
        if status != Status.ESME_ROK:
            raise BindRefused(status)
        self.bound = True
        return system_id

    def submit_sm(self, **fields: Any) -> asyncio.Future[Answer]:
        """Send one submit_sm (smpp34.SubmitSm's fields); its (command_status, message_id).

        A plain function returning the future, not a coroutine: one object less per PDU.
        """
        status: int = Status.ESME_RINVBNDSTS  # smpp34's core panicked: we answer as an SMSC
        if self.bind_type != "RX":
            try:
                return self._request(
                    lambda seq: smpp34.SubmitSm(**fields, sequence_number=seq).encode()
                )
            except (ValueError, smpp34.SmppError) as exc:  # a PDU that cannot be built
                status = errors.status_of(exc) or Status.ESME_RINVPARLEN
        future: asyncio.Future[Answer] = self._loop.create_future()
        future.set_result((status, ""))
        return future

    async def close(self, timeout: float = 2.0) -> None:
        """Let pending deliveries be stored and acked, unbind, close; then wait for ``closed``."""
        transport = self.transport
        if transport is not None and not self.closed.done() and not transport.is_closing():
            if self._deliveries:
                await asyncio.wait(set(self._deliveries), timeout=timeout)
            self._unbinding = True
            if self.bound:
                with contextlib.suppress(SessionLost, NoResponse, TimeoutError):
                    await asyncio.wait_for(self._request(pdu.unbind), timeout)
            self._end("unbound")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        self.abort("unbound")

    def abort(self, reason: str) -> None:
        """Drop the connection now (no unbind): a dead or unusable session."""
        self._ending = self._ending or reason
        if self.transport is not None:
            self.transport.abort()

    # -- internals ----------------------------------------------------------------------

    def _request(self, build: Callable[[int], bytes]) -> asyncio.Future[Answer]:
        future: asyncio.Future[Answer] = self._loop.create_future()
        transport = self.transport
        if self._ending is not None or transport is None or transport.is_closing():
            future.set_exception(SessionLost(self._ending or "session dropped"))
            return future
        self._sequence = sequence = self._sequence % pdu.MAX_SEQUENCE + 1
        data = build(sequence)
        self._pending[sequence] = (future, self._loop.time() + self._timeout)
        self._send(data)
        return future

    def _send(self, data: bytes) -> None:
        """Queue ``data``; everything queued in one loop iteration goes in one write."""
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(data)

    def _flush(self) -> None:
        out, self._out = self._out, []
        transport = self.transport
        if out and transport is not None and not transport.is_closing():
            transport.write(out[0] if len(out) == 1 else b"".join(out))
            if self._ending is not None:
                transport.close()  # after what we just wrote (unbind_resp, generic_nack)

    def _end(self, reason: str) -> None:
        """Close once what is queued is written."""
        self._ending = self._ending or reason
        if not self._out and self.transport is not None:
            self.transport.close()

    def _deliver(self, frames: list[bytes]) -> None:
        """Hand the deliver_sm of one read over; ack them once the handler's work is done."""
        sequences: list[int] = []
        pdus: list[smpp34.DeliverSm] = []
        for frame in frames:
            sequence = HEADER.unpack_from(frame)[3]
            if self._unbinding:  # too late to store it: the SMSC sends it again next bind
                self._send(pdu.deliver_sm_resp(sequence, Status.ESME_RX_T_APPN))
                continue
            try:
                pdus.append(cast(smpp34.DeliverSm, smpp34.decode(frame)))
            except (ValueError, smpp34.SmppError) as exc:
                status = errors.status_of(exc) or Status.ESME_RSYSERR
                self._send(pdu.deliver_sm_resp(sequence, status))
                continue
            sequences.append(sequence)
        if not pdus:
            return
        try:
            waiting = self._on_deliver(pdus)
        except Exception:  # a bug reading them: the SMSC keeps them, the log says why
            log.exception(
                "smpp_deliver_failed", extra={"action": "smpp_deliver_failed", **self._extra}
            )
            self._ack(sequences, Status.ESME_RX_T_APPN)
            return
        if waiting is None:
            self._ack(sequences, Status.ESME_ROK)
            return
        task = asyncio.ensure_future(waiting)
        self._deliveries.add(task)
        task.add_done_callback(functools.partial(self._delivered, sequences))

    def _delivered(self, sequences: list[int], task: asyncio.Future[None]) -> None:
        """The handler is done: ack what it stored, or ask the SMSC to send it again."""
        self._deliveries.discard(task)
        status = Status.ESME_ROK
        if task.cancelled():
            status = Status.ESME_RX_T_APPN
        elif (error := task.exception()) is not None:
            status = Status.ESME_RX_T_APPN
            extra = {"action": "smpp_inbox_failed", "count": len(sequences), **self._extra}
            log.error("smpp_inbox_failed", exc_info=error, extra=extra)
        self._ack(sequences, status)

    def _ack(self, sequences: list[int], status: int) -> None:
        if self.transport is not None and not self.closed.done():
            self._send(b"".join([pdu.deliver_sm_resp(seq, status) for seq in sequences]))

    def _tick(self) -> None:
        """Expire unanswered requests; keep the link alive, or declare it dead."""
        now = self._loop.time()
        expired = [seq for seq, (_, deadline) in self._pending.items() if deadline <= now]
        for seq in expired:
            future = self._pending.pop(seq)[0]
            if not future.done():
                future.set_exception(NoResponse(f"no response in {self._timeout:g} s"))
        if self._probe and now - self._probe_at >= self._interval:
            log.warning("smpp_link_dead", extra={"action": "smpp_link_dead", **self._extra})
            self.abort("enquire_link unanswered")
            return
        idle = now - self._last_read >= self._interval
        if idle and not self._probe and self.bound and self._ending is None:
            self._sequence = self._probe = self._sequence % pdu.MAX_SEQUENCE + 1
            self._probe_at = now
            self._send(pdu.enquire_link(self._probe))
        self._timer = self._loop.call_later(self._period, self._tick)


async def open_session(
    host: str,
    port: int,
    bind_type: str,
    fields: pdu.Bind,
    on_deliver: DeliverHandler,
    *,
    tls: bool = False,
    timeout: float = 5.0,
    enquire_link: float = 30.0,
    response_timeout: float = 30.0,
    name: str = "",
) -> EsmeSession:
    """Connect (TLS verified by the system's CAs if ``tls``) and bind; each step in ``timeout``.

    Raises :class:`BindRefused` at once when the SMSC refuses, ``TimeoutError`` when a
    step takes too long (a TLS port that never answers, a bind_resp that never comes),
    ``OSError`` when the connection fails.
    """
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context() if tls else None

    def make() -> EsmeSession:
        return EsmeSession(
            on_deliver, enquire_link=enquire_link, response_timeout=response_timeout, name=name
        )

    connecting = loop.create_connection(make, host, port, ssl=context)
    _, session = await asyncio.wait_for(connecting, timeout)
    try:
        await asyncio.wait_for(session.bind(bind_type, fields), timeout)
    except BaseException:
        session.abort("bind failed")
        raise
    return session
