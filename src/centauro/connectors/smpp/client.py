"""The SMPP connector: smpp34 sessions kept bound, a window, a rate, three outcomes.

What smpp34 1.5.0 does and does not do, and so what this module adds (measured here on
loopback against raw sockets, and read in its source):

* ``Client.connect()`` binds once; a lost session needs a new ``Client``. We reconnect
  with exponential backoff and jitter between ``reconnect_min`` and ``reconnect_max``.
* A refused bind (wrong password) is not reported as such: the SMSC's bind_resp is
  logged by the core and ``connect()`` fails with "bind timed out" after
  ``connect_timeout_ms``, so we pass a short ``bind_timeout``.
* ``window_size`` does not bound the PDUs on the wire (200 unanswered submits all went
  out with a window of 4): our semaphore is the window.
* The core sends enquire_link every 30 s (fixed: not settable from Python) and drops a
  session whose enquire_link goes unanswered (after about 60 s); ``next()`` then yields
  ``Disconnected`` — unless its event channel is full at that moment (a flood of
  receipts), so we also ask ``is_alive()`` every ``min(enquire_link, 2 s)``.
* ``connect_timeout_ms`` only starts once TCP (and TLS) are up; we bound ``connect()``
  ourselves, or a TLS port that never answers would hang it for good.
* Inbound deliver_sm are ACKed by the core and may reach us out of wire order.
* ``submit_sm`` on an RX bind, or with more than 254 octets of short_message, panics in
  the core (``pyo3_runtime.PanicException``): the codec never builds such a PDU.
* When a session dies, every pending ``submit_sm`` raises ``SmppError("ESME_RSYSERR
  (0x00000008)")`` at once, as does a response that never comes (after 30 s) and a
  generic_nack (with its own status): ``is_alive()`` tells them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

import smpp34

from centauro.connectors.base import (
    Accepted,
    ConnectorStatus,
    InboundSms,
    Inbox,
    OutboundSms,
    Rejected,
    RetryLater,
    SubmitOutcome,
)
from centauro.connectors.smpp import codec, dlr, errors
from centauro.connectors.smpp.config import SmppSettings
from centauro.connectors.smpp.throttle import RateMeter, TokenBucket

log = logging.getLogger(__name__)

#: deliver_sm smpp34 holds for us before it NAKs more with ESME_RMSGQFUL: room for a
#: burst of receipts (about 300 bytes each) instead of making the SMSC resend them.
INBOUND_CAPACITY = 16_384
LIVENESS_CHECK = 2.0  #: longest wait between is_alive() checks of a bound session
SLOW_DOWN_FOR = 10.0  #: seconds at half rate after the carrier throttles us
THROTTLE_BACKOFF = (0.05, 2.0)  #: first and longest wait before resubmitting a part
THROTTLE_PAUSE = 0.05  #: how long every submit holds off after a throttled response


class _Bind:
    """One bind (TRX, TX or RX) kept up: connect, watch, reconnect with backoff."""

    def __init__(self, owner: SmppConnector, bind_type: str) -> None:
        self.owner = owner
        self.bind_type = bind_type
        self.state = "stopped"
        self.client: smpp34.Client | None = None
        self.smsc: smpp34.Smsc | None = None
        self.up = asyncio.Event()
        self.retry_at = 0.0  # monotonic time of the next bind attempt while down
        self.task: asyncio.Task[None] | None = None
        self.closing = False
        self.dead = asyncio.Event()  # set when a submit finds the session gone

    def _set(self, state: str, error: str | None = None) -> None:
        self.state = state
        if error is not None:
            self.owner.last_error = f"{self.bind_type}: {error}"
        self.owner.refresh_state()

    def _log(self, level: int, action: str, **extra: object) -> None:
        self.owner._log(level, action, bind=self.bind_type, **extra)

    def backoff(self, failures: int) -> float:
        """Exponential in the failures so far, with equal jitter, within min and max."""
        s = self.owner.settings
        ceiling = min(s.reconnect_max, s.reconnect_min * 2.0 ** max(0, failures - 1))
        return max(s.reconnect_min, ceiling * (0.5 + self.owner.rng() / 2))

    async def run(self) -> None:
        s, failures = self.owner.settings, 0
        limit = 2 * self.owner.bind_timeout + 1.0
        while not self.closing:
            self._set("connecting")
            client = smpp34.Client(
                s.host, s.port, s.system_id, s.password, bind_type=self.bind_type,
                system_type=s.system_type, tls=s.tls, window_size=s.window,
                inbound_capacity=INBOUND_CAPACITY,
                connect_timeout_ms=int(self.owner.bind_timeout * 1000),
            )  # fmt: skip
            try:
                self.smsc = await asyncio.wait_for(client.connect(), limit)
            except (smpp34.SmppError, TimeoutError) as exc:
                await client.stop()
                failures += 1
                delay = self.backoff(failures)
                self.retry_at = time.monotonic() + delay
                self._set("down", f"bind failed: {exc or 'no answer'}")
                self._log(logging.WARNING, "smpp_bind_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                continue
            failures, self.client, self.dead = 0, client, asyncio.Event()
            self.up.set()
            self._set("up")
            self._log(logging.INFO, "smpp_bound", host=s.host, port=s.port)
            reason = await self._watch(client, self.smsc)
            await client.stop()
            if self.closing:
                return
            self.mark_down(self.smsc, reason)
            self._log(logging.WARNING, "smpp_session_lost", error=reason)
            self.retry_at = time.monotonic() + s.reconnect_min
            await asyncio.sleep(s.reconnect_min)

    async def _watch(self, client: smpp34.Client, smsc: smpp34.Smsc) -> str:
        """Until the session ends: pull deliver_sm events, and check liveness now and then.

        ``Disconnected`` is lost when smpp34's event channel is full at that moment (a
        flood of receipts), so a submit that finds the session dead (:meth:`mark_down`)
        and a periodic ``is_alive()`` end the watch too.
        """
        reader = asyncio.create_task(self._read(smsc), name=f"{self.owner.name}-{self.bind_type}")
        dead = asyncio.create_task(self.dead.wait())
        interval = min(self.owner.settings.enquire_link, LIVENESS_CHECK)
        try:
            while True:
                await asyncio.wait(
                    {reader, dead}, timeout=interval, return_when=asyncio.FIRST_COMPLETED
                )
                if reader.done():
                    return reader.result()
                if dead.done() or not await client.is_alive():
                    return "session dropped"
        finally:
            for task in (reader, dead):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _read(self, smsc: smpp34.Smsc) -> str:
        while True:
            event = await smsc.next()
            if isinstance(event, smpp34.Disconnected):
                return "session dropped"
            await self.owner.deliver(event)

    def mark_down(self, smsc: smpp34.Smsc | None, reason: str) -> None:
        """Forget ``smsc`` if it is still the current session (first one to notice wins)."""
        if smsc is not None and self.smsc is smsc:
            self.smsc = None
            self.up.clear()
            self.dead.set()
            self.retry_at = time.monotonic() + self.owner.settings.reconnect_min
            self._set("down", reason)

    async def close(self) -> None:
        """Unbind, and let the reader see the session end before anything is cancelled.

        A ``next()`` left pending in smpp34 completes when its session object is freed; at
        interpreter exit that is a native thread calling into a finalizing Python.
        """
        self.closing = True
        smsc, task = self.smsc, self.task
        if smsc is not None:
            with contextlib.suppress(smpp34.SmppError, TimeoutError):
                await asyncio.wait_for(smsc.unbind(), 2.0)
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), 1.0 if smsc else 0.0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.client is not None:
            await self.client.stop()
        self.smsc, self.client = None, None
        self.up.clear()
        self.state = "stopped"


class SmppConnector:
    """A carrier account over SMPP 3.4 (see :class:`SmppSettings` for what is configurable).

    ``bind_timeout`` bounds one bind attempt; ``bind_wait`` is how long a submit waits
    for a bind in progress before answering "bind down"; ``throttle_budget`` is how long
    a message may be held back by carrier throttling before it goes back to the queue.
    """

    kind = "smpp"

    def __init__(
        self,
        name: str,
        settings: SmppSettings,
        *,
        bind_timeout: float = 5.0,
        bind_wait: float = 1.0,
        throttle_budget: float = 30.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.name = name
        self.settings = settings
        self.bind_timeout, self.bind_wait, self.throttle_budget = (
            bind_timeout,
            bind_wait,
            throttle_budget,
        )
        self.rng = rng
        self.last_error: str | None = None
        two = settings.bind_mode == "transmitter_receiver"
        self._tx = _Bind(self, "TX" if two else "TRX")
        self._binds = [self._tx, _Bind(self, "RX")] if two else [self._tx]
        self._window = asyncio.Semaphore(settings.window)
        # Floor of repeated halvings: throttling must slow us down, not stop us.
        self._bucket = TokenBucket(settings.tps, min_rate=max(1.0, settings.tps / 20 or 10.0))
        self._meter = RateMeter()
        self._references = codec.References(rng)
        self._inbox: Inbox | None = None
        self._state, self._since = "stopped", datetime.now(UTC)
        self._in_flight = self._queued = self._submitted = self._throttled = 0
        self._source = settings.source_address
        self._registered = 1 if settings.registered_delivery else 0

    # ── lifecycle ────────────────────────────────────────────────────────────
    async def start(self, inbox: Inbox) -> None:
        if any(bind.task is not None and not bind.task.done() for bind in self._binds):
            return  # already running
        self._inbox = inbox
        for bind in self._binds:
            bind.closing = False
            bind.task = asyncio.create_task(bind.run(), name=f"{self.name}-{bind.bind_type}-bind")
            bind.task.add_done_callback(self._bind_ended)

    def _bind_ended(self, task: asyncio.Task[None]) -> None:
        """A bind loop only ends by stop(); if it crashed, say so where operators look."""
        if not task.cancelled() and task.exception() is not None:
            self.last_error = f"bind loop crashed: {task.exception()!r}"
            self._log(logging.ERROR, "smpp_bind_crashed", error=self.last_error)
            for bind in self._binds:
                if bind.task is task:
                    bind.state = "down"
            self.refresh_state()

    async def stop(self) -> None:
        for bind in self._binds:
            await bind.close()
        self.refresh_state()
        self._log(logging.INFO, "smpp_stopped")

    def refresh_state(self) -> None:
        states = {bind.state for bind in self._binds}
        for state in ("stopped", "down", "connecting", "up"):
            if state in states:
                break
        if state != self._state:
            self._state, self._since = state, datetime.now(UTC)

    def status(self) -> ConnectorStatus:
        return ConnectorStatus(
            name=self.name, kind=self.kind, state=self._state, in_flight=self._in_flight,
            queued=self._queued, submitted=self._submitted, tps=self._meter.rate(),
            last_error=self.last_error, since=self._since,
            extra={
                "binds": {bind.bind_type: bind.state for bind in self._binds},
                "throttled": self._throttled, "tps_limit": self._bucket.effective_rate,
            },
        )  # fmt: skip

    # ── submit ───────────────────────────────────────────────────────────────
    async def submit(self, sms: OutboundSms) -> SubmitOutcome:
        if self._state == "stopped":
            return RetryLater("connector stopped")
        try:
            if sms.segments == 1 and self.settings.gsm7_coding == "gsm7":
                parts = [codec.single_part(sms.text, sms.encoding)]
            else:
                parts = codec.encode(
                    sms.text, self.settings, lambda: self._references.next(sms.recipient)
                )
        except ValueError as exc:
            return Rejected(f"text cannot be encoded: {exc}")
        deadline = time.monotonic() + self.throttle_budget
        destination = sms.recipient.lstrip("+")
        if len(parts) == 1:
            first = await self._submit_part(sms.message_id, destination, parts[0], deadline)
            return Accepted((first,)) if isinstance(first, str) else first
        results = await asyncio.gather(
            *(self._submit_part(sms.message_id, destination, part, deadline) for part in parts)
        )
        # A part the carrier took stays taken: a multipart message refused halfway may
        # reach the handset in part, and a retry resends all of it.
        for result in results:
            if isinstance(result, Rejected):
                return result
        for result in results:
            if isinstance(result, RetryLater):
                return result
        return Accepted(tuple(r for r in results if isinstance(r, str)))

    def _bind_down(self) -> RetryLater:
        after = max(self.settings.reconnect_min, self._tx.retry_at - time.monotonic())
        return RetryLater("bind down", after=round(after, 3))

    async def _submit_part(
        self, message_id: int, destination: str, part: codec.SubmitPart, deadline: float
    ) -> str | RetryLater | Rejected:
        """The carrier id of one part, or why the message must wait or fail."""
        backoff = THROTTLE_BACKOFF[0]
        while True:
            smsc = await self._ready()
            if smsc is None:
                return self._bind_down()
            status, carrier_id = await self._send(smsc, destination, part)
            if status == errors.ESME_ROK:
                self._submitted += 1
                self._meter.tick()
                if not carrier_id:  # accepted all the same: resending would duplicate it
                    self._log(logging.WARNING, "smpp_no_message_id", message_id=message_id)
                return carrier_id
            if status is None:
                return self._bind_down()
            outcome = errors.classify(status)
            if outcome is errors.Outcome.THROTTLE and time.monotonic() + backoff < deadline:
                self._throttle(status)
                self._queued += 1
                try:
                    await asyncio.sleep(backoff * (0.5 + self.rng()))
                finally:
                    self._queued -= 1
                backoff = min(backoff * 2, THROTTLE_BACKOFF[1])
                continue
            if outcome is errors.Outcome.PERMANENT:
                self._log(logging.INFO, "smpp_rejected", message_id=message_id, status=status)
                return Rejected(errors.describe(status), code=errors.code(status))
            after = SLOW_DOWN_FOR if outcome is errors.Outcome.THROTTLE else None
            return RetryLater(errors.describe(status), after=after)

    async def _ready(self) -> smpp34.Smsc | None:
        """A bound session and a window slot and a token; None when the bind is down."""
        while True:
            smsc = self._tx.smsc
            if smsc is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._tx.up.wait(), self.bind_wait)
                smsc = self._tx.smsc
                if smsc is None:
                    return None
            self._queued += 1
            try:
                await self._window.acquire()
                try:
                    await self._bucket.acquire()
                except BaseException:
                    self._window.release()
                    raise
            finally:
                self._queued -= 1
            if self._tx.smsc is smsc:
                return smsc
            self._window.release()  # the session changed while we waited: start over

    async def _send(
        self, smsc: smpp34.Smsc, destination: str, part: codec.SubmitPart
    ) -> tuple[int | None, str]:
        """(command_status, carrier id) of one submit_sm; status None: the session died."""
        ton, npi, source = self._source
        self._in_flight += 1
        try:
            resp = await smsc.submit_sm(
                destination, part.short_message, source_addr=source, source_addr_ton=ton,
                source_addr_npi=npi, dest_addr_ton=self.settings.dest_ton,
                dest_addr_npi=self.settings.dest_npi, esm_class=part.esm_class,
                registered_delivery=self._registered, data_coding=part.data_coding,
                tlvs=[smpp34.Tlv(tag, value) for tag, value in part.tlvs],
            )  # fmt: skip
            return resp.command_status, resp.message_id or ""
        except smpp34.SmppError as exc:
            status = errors.status_of(exc) or errors.ESME_RSYSERR
            if status == errors.ESME_RSYSERR and not await self._alive(smsc):
                return None, ""
            return status, ""
        finally:
            self._in_flight -= 1
            self._window.release()

    async def _alive(self, smsc: smpp34.Smsc) -> bool:
        """Whether ``smsc`` is still bound; marks the bind down the first time it is not."""
        client = self._tx.client
        if self._tx.smsc is not smsc or client is None:
            return False
        if await client.is_alive():
            return True
        self._tx.mark_down(smsc, "session dropped")
        return False

    def _throttle(self, status: int) -> None:
        """The carrier said "too fast": half rate for a while, and a short pause for all.

        The part that was refused waits its own growing backoff; the connector as a whole
        only pauses briefly, or one part's long backoff would stall every other part.
        """
        self._throttled += 1
        if self._bucket.slow_down(0.5, SLOW_DOWN_FOR, observed=self._meter.rate()):
            limit = self._bucket.effective_rate
            self._log(logging.INFO, "smpp_throttled", status=status, tps_limit=limit)
        self._bucket.pause(THROTTLE_PAUSE)

    def _log(self, level: int, action: str, **extra: object) -> None:
        """One event line: a stable action, the connector's name; never a text or secret."""
        if isinstance(extra.get("status"), int):
            extra["status"] = errors.describe(extra["status"])  # type: ignore[arg-type]
        log.log(level, action, extra={"action": action, "connector": self.name, **extra})

    # ── inbound ──────────────────────────────────────────────────────────────
    async def deliver(self, event: smpp34.DeliverSmEvent) -> None:
        """A deliver_sm from the carrier (already ACKed by smpp34), into the inbox."""
        assert self._inbox is not None
        try:
            item = dlr.read_deliver_sm(
                self.name, event.esm_class, event.data_coding, event.short_message,
                {tlv.tag: tlv.value for tlv in event.tlvs},
                event.source_addr, event.destination_addr,
            )  # fmt: skip
        except dlr.BadReceipt as exc:
            self._log(logging.WARNING, "smpp_receipt_unusable", error=str(exc))
            return
        if item is None:
            self._log(logging.DEBUG, "smpp_receipt_not_final")
            return
        try:
            if isinstance(item, InboundSms):
                await self._inbox.inbound(item)
            else:
                await self._inbox.receipt(item)
        except Exception:  # the inbox failing must not stop the session's reader
            extra = {"action": "smpp_inbox_failed", "connector": self.name}
            log.exception("smpp_inbox_failed", extra=extra)
