"""The SMPP connector: binds kept up, a window, a rate, three outcomes, receipts stored.

The session is ours (``session.py``, which says why smpp34's is not used any more); this
module decides what to send and what each answer means for the message:

* **Window**: at most ``window`` submit_sm are unanswered on the wire (a semaphore held
  from the write until the answer); submits beyond it wait, counted as ``queued``.
* **Rate**: a token bucket at ``tps``, halved for a while each time the carrier says
  ESME_RTHROTTLED or ESME_RMSGQFUL; the throttled part is resubmitted with a growing
  backoff until ``throttle_budget`` runs out.
* **Outcomes**: ``Accepted`` (ids in part order), ``Rejected`` for a permanent
  command_status, ``RetryLater`` for the rest, and "bind down" when the session is lost
  under a submit: whether the carrier took it is unknown, so the message is retried.
* **Receipts and MO**: the deliver_sm of one read are parsed here and handed to the
  inbox as one batch; the session acks them only once the inbox has stored them. What
  parses to nothing (intermediate reports, unusable receipts) is acked at once.
* **Binds** (``bind.py``): one TRX, or a TX for submits plus an RX for receipts/MO, each
  reconnected with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import smpp34

from centauro.connectors.base import (
    LEASE_LOST,
    Accepted,
    ConnectorStatus,
    Fence,
    InboundSms,
    Inbox,
    OutboundSms,
    Receipt,
    Rejected,
    RetryLater,
    SubmitOutcome,
    unfenced,
)
from centauro.connectors.smpp import codec, dlr, errors
from centauro.connectors.smpp.bind import Bind
from centauro.connectors.smpp.config import SmppSettings
from centauro.connectors.smpp.session import EsmeSession, NoResponse, SessionLost
from centauro.connectors.smpp.throttle import RateMeter, TokenBucket
from centauro.domain import senders

log = logging.getLogger(__name__)

SLOW_DOWN_FOR = 10.0  #: seconds at half rate after the carrier throttles us
THROTTLE_BACKOFF = (0.05, 2.0)  #: first and longest wait before resubmitting a part
THROTTLE_PAUSE = 0.05  #: how long every submit holds off after a throttled response


class SmppConnector:
    """A carrier account over SMPP 3.4 (see :class:`SmppSettings` for what is configurable).

    ``bind_timeout`` bounds each step of a bind attempt (TCP, TLS, bind_resp);
    ``bind_wait`` is how long a submit waits for a bind in progress before answering
    "bind down"; ``throttle_budget`` is how long a message may be held back by carrier
    throttling before it goes back to the queue; ``response_timeout`` is how long a
    submit_sm may wait for its response.
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
        response_timeout: float = 30.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.name = name
        self.settings = settings
        self.bind_timeout, self.bind_wait = bind_timeout, bind_wait
        self.throttle_budget, self.response_timeout = throttle_budget, response_timeout
        self.rng = rng
        self.last_error: str | None = None
        two = settings.bind_mode == "transmitter_receiver"
        self._tx = Bind(self, "TX" if two else "TRX")
        self._binds = [self._tx, Bind(self, "RX")] if two else [self._tx]
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
        #: Checked right before each submit_sm is written (bind ownership, base.Fence).
        self.fence: Fence = unfenced

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
            self.log_event(logging.ERROR, "smpp_bind_crashed", error=self.last_error)
            for bind in self._binds:
                if bind.task is task:
                    bind.state = "down"
            self.refresh_state()

    async def stop(self) -> None:
        await asyncio.gather(*(bind.close() for bind in self._binds))
        self.refresh_state()
        self.log_event(logging.INFO, "smpp_stopped")

    def refresh_state(self) -> None:
        states = {bind.state for bind in self._binds}
        for state in ("stopped", "down", "connecting", "up"):
            if state in states:
                break
        if state != self._state:
            self._state, self._since = state, datetime.now(UTC)

    @property
    def window(self) -> int:
        return self.settings.window

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
            if sms.encoding == "binary":
                parts = codec.binary_parts(
                    sms.text, sms.udh, lambda: self._references.next(sms.recipient)
                )
            elif sms.segments == 1 and self.settings.gsm7_coding == "gsm7":
                parts = [codec.single_part(sms.text, sms.encoding)]
            else:
                parts = codec.encode(
                    sms.text, self.settings, lambda: self._references.next(sms.recipient)
                )
        except ValueError as exc:
            return Rejected(f"text cannot be encoded: {exc}")
        deadline = time.monotonic() + self.throttle_budget
        destination = sms.recipient.lstrip("+")
        # A message's sender ID wins over the connector's configured source address.
        source = self._source if sms.sender is None else senders.smpp_address(sms.sender)
        if len(parts) == 1:
            first = await self._submit_part(sms.message_id, source, destination, parts[0], deadline)
            return Accepted((first,)) if isinstance(first, str) else first
        results = await asyncio.gather(
            *(
                self._submit_part(sms.message_id, source, destination, part, deadline)
                for part in parts
            )
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
        self,
        message_id: int,
        source: tuple[int, int, str],
        destination: str,
        part: codec.SubmitPart,
        deadline: float,
    ) -> str | RetryLater | Rejected:
        """The carrier id of one part, or why the message must wait or fail."""
        backoff = THROTTLE_BACKOFF[0]
        while True:
            session = await self._ready()
            if session is None:
                return self._bind_down()
            answer = await self._send(session, source, destination, part)
            if isinstance(answer, RetryLater):
                return answer
            status, carrier_id = answer
            if status == errors.ESME_ROK:
                self._submitted += 1
                self._meter.tick()
                if not carrier_id:  # accepted all the same: resending would duplicate it
                    self.log_event(logging.WARNING, "smpp_no_message_id", message_id=message_id)
                return carrier_id
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
                self.log_event(logging.INFO, "smpp_rejected", message_id=message_id, status=status)
                return Rejected(errors.describe(status), code=errors.code(status))
            after = SLOW_DOWN_FOR if outcome is errors.Outcome.THROTTLE else None
            return RetryLater(errors.describe(status), after=after)

    async def _ready(self) -> EsmeSession | None:
        """A bound session and a window slot and a token; None when the bind is down."""
        while True:
            session = self._tx.session
            if session is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._tx.up.wait(), self.bind_wait)
                session = self._tx.session
                if session is None:
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
            if self._tx.session is session:
                return session
            self._window.release()  # the session changed while we waited: start over

    async def _send(
        self,
        session: EsmeSession,
        address: tuple[int, int, str],
        destination: str,
        part: codec.SubmitPart,
    ) -> tuple[int, str] | RetryLater:
        """(command_status, carrier id) of one submit_sm, holding its window slot till then.

        The fence is checked here, with no await between it and the write: a process that
        was paused while this part waited for window or rate does not send after waking.
        """
        if not self.fence():
            self._window.release()
            return RetryLater(LEASE_LOST)
        ton, npi, source = address
        self._in_flight += 1
        try:
            return await session.submit_sm(
                source_addr=source, destination_addr=destination,
                short_message=part.short_message, source_addr_ton=ton, source_addr_npi=npi,
                dest_addr_ton=self.settings.dest_ton, dest_addr_npi=self.settings.dest_npi,
                esm_class=part.esm_class, registered_delivery=self._registered,
                data_coding=part.data_coding,
                tlvs=[smpp34.Tlv(tag, value) for tag, value in part.tlvs],
            )  # fmt: skip
        except SessionLost as exc:
            self._tx.mark_down(session, str(exc))
            return self._bind_down()
        except NoResponse as exc:
            return RetryLater(f"carrier did not answer: {exc}")
        finally:
            self._in_flight -= 1
            self._window.release()

    def _throttle(self, status: int) -> None:
        """The carrier said "too fast": half rate for a while, and a short pause for all.

        The part that was refused waits its own growing backoff; the connector as a whole
        only pauses briefly, or one part's long backoff would stall every other part.
        """
        self._throttled += 1
        if self._bucket.slow_down(0.5, SLOW_DOWN_FOR, observed=self._meter.rate()):
            limit = self._bucket.effective_rate
            self.log_event(logging.INFO, "smpp_throttled", status=status, tps_limit=limit)
        self._bucket.pause(THROTTLE_PAUSE)

    def log_event(self, level: int, action: str, **extra: object) -> None:
        """One event line: a stable action, the connector's name; never a text or secret."""
        if isinstance(extra.get("status"), int):
            extra["status"] = errors.describe(extra["status"])  # type: ignore[arg-type]
        log.log(level, action, extra={"action": action, "connector": self.name, **extra})

    # ── inbound ──────────────────────────────────────────────────────────────
    def received(self, pdus: list[smpp34.DeliverSm]) -> Awaitable[None] | None:
        """The deliver_sm of one read: what to store, awaited before the session acks them.

        None (ack at once) when nothing in them needs storing. An unusable receipt is
        logged and acked too: sending it again cannot make it readable.
        """
        receipts: list[Receipt] = []
        messages: list[InboundSms] = []
        for pdu in pdus:
            try:
                item = dlr.read_deliver_sm(
                    self.name, pdu.esm_class, pdu.data_coding, pdu.short_message,
                    {tlv.tag: tlv.value for tlv in pdu.tlvs},
                    pdu.source_addr, pdu.destination_addr,
                )  # fmt: skip
            except dlr.BadReceipt as exc:
                self.log_event(logging.WARNING, "smpp_receipt_unusable", error=str(exc))
                continue
            if item is None:
                self.log_event(logging.DEBUG, "smpp_receipt_not_final")
            elif isinstance(item, InboundSms):
                messages.append(item)
            else:
                receipts.append(item)
        if not receipts and not messages:
            return None
        return self._store(receipts, messages)

    async def _store(self, receipts: Sequence[Receipt], messages: Sequence[InboundSms]) -> None:
        assert self._inbox is not None
        if receipts:
            await self._inbox.receipts(receipts)
        if messages:
            await self._inbox.inbound(messages)
