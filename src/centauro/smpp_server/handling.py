"""What the SMPP server does with a customer's requests: submit_sm, submit_multi,
query_sm and cancel_sm, each through the same use cases as the HTTP doors.

A submit_sm is read and priced at once (``submits.py``, ``service.submit.plan``), then
charged and queued by the writer; its submit_sm_resp carries the message id only after
that transaction commits, as the HTTP door answers only then. Every failure is answered
with a command_status (the table below and ``docs/smpp-server.md``), never a silence.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from centauro import metrics
from centauro.connectors.smpp.pdu import (
    BadPdu,
    Status,
    generic_nack,
    submit_sm_error,
    submit_sm_resp,
)
from centauro.connectors.smpp.smsc import BOUND_STATES, TRANSMIT_STATES
from centauro.domain import errors
from centauro.domain.models import Account
from centauro.domain.states import MessageState
from centauro.service import messages, smpp
from centauro.service import submit as submit_service
from centauro.service.submit import Verdict
from centauro.smpp_server import pdus
from centauro.smpp_server.submits import Piece, Refused, piece, read_submit, smpp_time, text_of

if TYPE_CHECKING:
    from centauro.smpp_server.server import Client, SmppServer

log = logging.getLogger("centauro.smpp_server")

#: Our errors in SMPP's words. No credit is ESME_RX_T_APPN ("temporary application
#: error"): the customer's ESME keeps the message and tries again after a top-up.
_STATUS: tuple[tuple[type[errors.CentauroError], Status], ...] = (
    (errors.InsufficientCredits, Status.ESME_RX_T_APPN),
    (errors.RateLimited, Status.ESME_RTHROTTLED),
    (errors.InvalidNumber, Status.ESME_RINVDSTADR),
    (errors.NoValidRecipient, Status.ESME_RINVDSTADR),
    (errors.TextTooLong, Status.ESME_RINVMSGLEN),
    (errors.InvalidText, Status.ESME_RINVMSGLEN),
    (errors.MissingParameter, Status.ESME_RINVMSGLEN),
    (errors.TooManyRecipients, Status.ESME_RINVNUMDESTS),
    (errors.SenderNotGranted, Status.ESME_RINVSRCADR),
    (errors.InvalidSender, Status.ESME_RINVSRCADR),
    (errors.AuthenticationFailed, Status.ESME_RINVSYSID),
    (errors.Unavailable, Status.ESME_RSYSERR),
)
#: What a recipient the plan did not accept gets.
_VERDICT = {
    Verdict.INVALID_NUMBER: Status.ESME_RINVDSTADR,
    Verdict.DUPLICATE: Status.ESME_RINVDSTADR,
    Verdict.OPTED_OUT: Status.ESME_RSUBMITFAIL,
}
#: message_state (§5.2.28) of each of our states, for query_sm and receipts.
MESSAGE_STATE = {
    MessageState.SCHEDULED: 1,  # ENROUTE
    MessageState.QUEUED: 1,
    MessageState.SENT: 1,
    MessageState.DELIVERED: 2,
    MessageState.EXPIRED: 3,
    MessageState.CANCELLED: 4,  # DELETED
    MessageState.UNDELIVERED: 5,
    MessageState.FAILED: 5,
    MessageState.REJECTED: 8,
}


def status_for(error: BaseException) -> Status:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return Status.ESME_RSYSERR


def smpp_date(when: datetime | None) -> str:
    """An absolute SMPP time in UTC (``YYMMDDhhmmss000+``), "" for none."""
    return when.astimezone(UTC).strftime("%y%m%d%H%M%S000+") if when else ""


class Handler:
    def __init__(self, server: SmppServer) -> None:
        self.server = server
        self.gateway = server.gateway
        self._tasks: set[asyncio.Task[None]] = set()

    # -- submit_sm ----------------------------------------------------------------------

    def submit(self, client: Client, frame: bytes, sequence: int) -> bytes | None:
        sequences = [sequence]
        try:
            self._take_rate(client)
            got = read_submit(frame)
            if got.part is not None:
                whole = client.reassembly.add(got, sequence)
                if whole is None:
                    return None  # answered with the whole message
                got, sequences = whole
            planned, timing = self._plan(client, [got.destination], got)
        except (Refused, errors.CentauroError) as exc:
            status = exc.status if isinstance(exc, Refused) else status_for(exc)
            if len(sequences) == 1:
                return submit_sm_error(sequence, status)
            self.refuse_parts(client, sequences, status)
            return None
        self._spawn(self._commit_submit(client, got, planned, timing, sequences))
        return None

    def refuse_parts(
        self, client: Client, sequences: Sequence[int], status: int = Status.ESME_RSUBMITFAIL
    ) -> None:
        """Answer the held parts of a message that cannot be sent (or never completed)."""
        for s in sequences:
            self.server.answer(client, submit_sm_error(s, status))

    def _plan(
        self, client: Client, destinations: list[str], got: Piece
    ) -> tuple[submit_service.Plan, submit_service.Timing]:
        assert client.login is not None
        account = client.login.account
        bytes_ = submit_service.Binary(got.body, got.elements) if got.data_coding == 4 else None
        text = text_of(got.body, got.data_coding) if bytes_ is None else None
        settings = self.server.settings
        planned = submit_service.plan(
            [submit_service.Recipient(d) for d in destinations],
            text,
            country=account.country,
            max_segments=settings.max_segments,
            max_recipients=account.max_recipients or settings.max_recipients,
            routable=self.gateway.routable,
            binary=bytes_,
        )
        return planned, _timing(got)

    async def _commit_submit(
        self,
        client: Client,
        got: Piece,
        planned: submit_service.Plan,
        timing: submit_service.Timing,
        sequences: list[int],
    ) -> None:
        self._hold(client, len(sequences))
        try:
            receipt = await self._commit(client, planned, timing, got.registered, got.source)
            metrics.accepted(client.client_id, receipt.accepted)
            mid = receipt.message_ids[0]
            if mid is None:
                answers = [
                    submit_sm_error(s, _VERDICT[receipt.items[0].verdict]) for s in sequences
                ]
            else:
                answers = [submit_sm_resp(s, str(mid)) for s in sequences]
                self.server.submitted(client, len(sequences))
        except Exception as exc:  # noqa: BLE001 - every submit gets its answer
            answers = [submit_sm_error(s, self._failure(exc)) for s in sequences]
        finally:
            client.pending -= len(sequences)
            self._resume(client)
        for answer in answers:
            self.server.answer(client, answer)

    async def _commit(
        self,
        client: Client,
        planned: submit_service.Plan,
        timing: submit_service.Timing,
        registered: int,
        source: str,
    ) -> submit_service.Receipt:
        assert client.login is not None
        now = datetime.now(UTC)
        addresses = [
            smpp.Addresses(source, item.e164.removeprefix("+") or item.number)
            for item in planned.items
        ]

        def commit(account: Account) -> smpp.Submit:
            return smpp.Submit(account, planned, now, timing, registered, addresses)

        try:
            account = client.login.account
            receipt = await self.gateway.write(commit(account), order=account.id)
        except errors.AuthenticationFailed:
            # The charge checks the account as read at bind time: its API secret may have
            # been rotated since (the SMPP password is apart). Read it again, once.
            system_id = smpp.system_id_of(client.client_id)
            fresh = await self.gateway.read(lambda conn: smpp.login(conn, system_id))
            if fresh is None or not fresh.account.enabled:
                raise
            client.login = fresh
            receipt = await self.gateway.write(commit(fresh.account), order=fresh.account.id)
        self.gateway.queued()
        return receipt

    def _failure(self, exc: BaseException) -> Status:
        if not isinstance(exc, errors.CentauroError | Refused):
            log.error("smpp submit failed", exc_info=exc, extra={"action": "smpp_submit_error"})
        return exc.status if isinstance(exc, Refused) else status_for(exc)

    def _take_rate(self, client: Client) -> None:
        assert client.login is not None
        account = client.login.account
        rate = self.server.settings.rate_limit if account.rate_limit is None else account.rate_limit
        if rate > 0:
            self.server.rates.take(account.id, rate, time.monotonic())

    # -- windowing: stop reading while too many submits wait for their commit ------------------

    def _hold(self, client: Client, count: int) -> None:
        client.pending += count
        transport = client.session.transport
        if client.pending >= self.server.settings.smpp_window and not client.paused and transport:
            client.paused = True
            transport.pause_reading()

    def _resume(self, client: Client) -> None:
        transport = client.session.transport
        if client.paused and client.pending <= self.server.settings.smpp_window // 2 and transport:
            client.paused = False
            if not transport.is_closing():
                transport.resume_reading()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the submits being committed, so each gets its answer before we stop."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)

    # -- other commands ------------------------------------------------------------------------

    def command(self, client: Client, command_id: int, sequence: int, frame: bytes) -> bytes | None:
        if command_id not in (pdus.QUERY_SM, pdus.CANCEL_SM, pdus.SUBMIT_MULTI):
            return generic_nack(sequence, Status.ESME_RINVCMDID)
        allowed = TRANSMIT_STATES if command_id == pdus.SUBMIT_MULTI else BOUND_STATES
        if client.session.state not in allowed:
            return pdus.error_resp(command_id, sequence, Status.ESME_RINVBNDSTS)
        try:
            if command_id == pdus.QUERY_SM:
                self._spawn(self._query(client, sequence, pdus.parse_query_sm(frame)))
            elif command_id == pdus.CANCEL_SM:
                self._spawn(self._cancel(client, sequence, pdus.parse_cancel_sm(frame)))
            else:
                self._take_rate(client)
                self._spawn(self._multi(client, sequence, pdus.parse_submit_multi(frame)))
        except BadPdu as exc:
            return pdus.error_resp(command_id, sequence, exc.status)
        except errors.CentauroError as exc:
            return pdus.error_resp(command_id, sequence, status_for(exc))
        return None

    async def _query(self, client: Client, sequence: int, message_id: str) -> None:
        if not (message_id.isascii() and message_id.isdigit()):
            self.server.answer(
                client, pdus.error_resp(pdus.QUERY_SM, sequence, Status.ESME_RINVMSGID)
            )
            return
        try:
            found = await self.gateway.read(
                lambda conn: messages.get(conn, int(message_id), account_id=client.account_id)
            )
        except errors.NotFound:
            answer = pdus.error_resp(pdus.QUERY_SM, sequence, Status.ESME_RQUERYFAIL)
        else:
            final = found.done_at if found.done_at else None
            error = 0 if found.status is MessageState.DELIVERED or not found.error else 1
            answer = pdus.query_sm_resp(
                sequence, message_id, smpp_date(final), MESSAGE_STATE[found.status], error
            )
        self.server.answer(client, answer)

    async def _cancel(self, client: Client, sequence: int, message_id: str) -> None:
        status = Status.ESME_ROK
        if not (message_id.isascii() and message_id.isdigit()):
            status = Status.ESME_RINVMSGID
        else:
            now = datetime.now(UTC)
            try:
                await self.gateway.write(
                    lambda conn: messages.cancel(
                        conn, int(message_id), account_id=client.account_id, now=now
                    )
                )
            except errors.NotFound:
                status = Status.ESME_RINVMSGID
            except errors.Conflict:
                status = Status.ESME_RCANCELFAIL
        self.server.answer(client, pdus.error_resp(pdus.CANCEL_SM, sequence, status))

    async def _multi(self, client: Client, sequence: int, multi: pdus.SubmitMulti) -> None:
        """submit_multi: one charge for every destination it can take; per-destination
        refusals in unsuccess_sme; the first accepted message's id as message_id."""
        self._hold(client, 1)
        try:
            answer = await self._multi_answer(client, sequence, multi)
        finally:
            client.pending -= 1
            self._resume(client)
        self.server.answer(client, answer)

    async def _multi_answer(self, client: Client, sequence: int, multi: pdus.SubmitMulti) -> bytes:
        bad = [(d, Status.ESME_RINVDSTADR) for d in multi.destinations if not _digits(d.address)]
        good = [d for d in multi.destinations if _digits(d.address)]
        if not good:
            return pdus.submit_multi_resp(sequence, "", bad)
        try:
            got = piece(
                source=multi.source,
                destination="",
                short_message=multi.short_message,
                esm_class=multi.esm_class,
                data_coding=multi.data_coding,
                registered=multi.registered,
                schedule=multi.schedule,
                validity=multi.validity,
                tlvs=multi.tlvs,
            )
            if got.part is not None:
                raise Refused(Status.ESME_RINVESMCLASS, "concatenated submit_multi")
            numbers = [
                "+" + d.address if d.ton == 1 and d.address[0] != "+" else d.address for d in good
            ]
            planned, timing = self._plan(client, numbers, got)
            receipt = await self._commit(client, planned, timing, got.registered, got.source)
        except Exception as exc:  # noqa: BLE001 - answered in SMPP's words
            return pdus.error_resp(pdus.SUBMIT_MULTI, sequence, self._failure(exc))
        ids = [m for m in receipt.message_ids if m is not None]
        for d, item, mid in zip(good, receipt.items, receipt.message_ids, strict=True):
            if mid is None:
                bad.append((d, _VERDICT.get(item.verdict, Status.ESME_RSUBMITFAIL)))
        self.server.submitted(client, len(ids))
        return pdus.submit_multi_resp(sequence, str(ids[0]) if ids else "", bad)


def _digits(address: str) -> bool:
    plain = address.removeprefix("+")
    return plain.isascii() and plain.isdigit()


def _timing(got: Piece) -> submit_service.Timing:
    """schedule_delivery_time and validity_period as the submit use case's timing."""
    now = datetime.now(UTC)
    try:
        at = smpp_time(got.schedule, now)
    except ValueError:
        raise Refused(Status.ESME_RINVSCHED, "bad schedule_delivery_time") from None
    try:
        until = smpp_time(got.validity, now)
    except ValueError:
        raise Refused(Status.ESME_RINVEXPIRY, "bad validity_period") from None
    sender = _sender(got.source)
    udh = got.elements.hex() or None
    if until is None:
        return submit_service.Timing(schedule_at=at, sender=sender, lenient_sender=True, udh=udh)
    validity = until - max(at or now, now)
    if validity.total_seconds() <= 0:
        raise Refused(Status.ESME_RINVEXPIRY, "validity_period already over")
    return submit_service.Timing(
        schedule_at=at, validity=validity, sender=sender, lenient_sender=True, udh=udh
    )


def _sender(source_addr: str) -> str | None:
    """The sender ID a source_addr asks for: "" is none (the account's default); 9 or more
    digits are an international number, which SMPP writes without its "+"."""
    if not source_addr:
        return None
    if source_addr.isascii() and source_addr.isdigit() and len(source_addr) > 8:
        return "+" + source_addr
    return source_addr
