"""``/v1/messages``: send (one text or a batch), look up, list and cancel messages.

Sending goes through the same two steps as the compat doors: ``service.submit.plan``
(pure, on a worker thread for big requests) then ``submit.commit`` in a group-committed
write job; the answer is written only after that commit. Bodies are validated from their
raw bytes (:func:`schemas.parse_body`): one strict pass in Rust instead of ``json.loads``
followed by a Python-level validation of every item — the difference that matters for a
10,000-message batch.

The two send routes are the hot path, so they take only the ``Request`` and call the
credential check, read the ``Idempotency-Key`` and parse the body themselves: FastAPI's
per-request dependency and header-parameter machinery cost more CPU than the send. Their
OpenAPI says the same as declared parameters would (``openapi_extra``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Connection

from centauro import metrics
from centauro.api.guard import checked
from centauro.api.v1 import idempotency, paging
from centauro.api.v1.auth import CurrentAccount, current_account
from centauro.api.v1.idempotency import Answer
from centauro.api.v1.schemas import (
    BASIC_AUTH,
    BatchRequest,
    Gw,
    MessageOut,
    MessagePage,
    MessageStatus,
    SendOptions,
    SendRequest,
    SubmitAnswer,
    UtcTime,
    json_body,
    json_response,
    parse_body,
    problems,
    stamp,
    to_json,
)
from centauro.domain import inputs, numbers
from centauro.domain.errors import CentauroError, InvalidRequest, NotFound
from centauro.domain.ids import parse_id
from centauro.domain.models import Account, Message
from centauro.domain.states import MessageState
from centauro.runtime import Gateway
from centauro.service import messages as service
from centauro.service import submit
from centauro.service.submit import Verdict

router = APIRouter(tags=["messages"])
AUTH = [Security(BASIC_AUTH)]

#: Requests with more recipients than this are priced and rendered on a worker thread,
#: so one big request does not hold the event loop while small ones wait.
IN_THREAD_ABOVE = 200
#: Bodies larger than this (about 200 batch items) are validated on a worker thread too.
PARSE_IN_THREAD_ABOVE = 20_000
#: How far ahead a message may be scheduled.
MAX_SCHEDULE_AHEAD = timedelta(days=366)
SOURCE = "v1"
CURSOR_KIND = "m"

MessageId = Annotated[str, Path(description="The message id", max_length=40)]


#: The send routes read credentials, key and body themselves (see the module docstring);
#: this tells the OpenAPI what they read.
def _manual(body: type[SendOptions]) -> dict[str, Any]:
    return {
        "security": [{BASIC_AUTH.scheme_name: []}],
        "parameters": [idempotency.PARAMETER],
        **json_body(body),
    }


@router.post(
    "/messages",
    status_code=202,
    response_model=SubmitAnswer,
    responses=problems(402, 409, 413, 503),
    openapi_extra=_manual(SendRequest),
    summary="Send one text to one or many numbers",
)
async def send_message(request: Request) -> Response:
    account = await current_account(request)
    return await _send(request, account, _one_text)


@router.post(
    "/messages/batch",
    status_code=202,
    response_model=SubmitAnswer,
    responses=problems(402, 409, 413, 503),
    openapi_extra=_manual(BatchRequest),
    summary="Send each recipient its own text",
)
async def send_batch(request: Request) -> Response:
    account = await current_account(request)
    return await _send(request, account, _text_each)


#: Reads a send body into its recipients, the shared text (None: each its own) and options.
BodyReader = Callable[[bytes], Awaitable[tuple[list[submit.Recipient], str | None, SendOptions]]]


async def _one_text(raw: bytes) -> tuple[list[submit.Recipient], str | None, SendOptions]:
    body = parse_body(SendRequest, raw)
    numbers_given = [body.to] if isinstance(body.to, str) else body.to
    reference = body.reference or ""
    return [submit.Recipient(n, reference=reference) for n in numbers_given], body.text, body


async def _text_each(raw: bytes) -> tuple[list[submit.Recipient], str | None, SendOptions]:
    if len(raw) > PARSE_IN_THREAD_ABOVE:
        body = await anyio.to_thread.run_sync(parse_body, BatchRequest, raw)
    else:
        body = parse_body(BatchRequest, raw)
    recipients = [
        submit.Recipient(m.to, reference=m.reference or "", text=m.text) for m in body.messages
    ]
    return recipients, None, body


async def _send(request: Request, account: Account, read: BodyReader) -> Response:
    """Validate and price, then charge and queue in one write job (with the key, if any).

    A retry with an ``Idempotency-Key`` is recognised inside that write job, so the hot
    path reads nothing more. Only a request refused *before* the write looks the key up:
    a stored answer (or a conflicting key) then wins over the refusal.
    """
    gateway: Gateway = request.app.state.gateway
    key = idempotency.key_of(request)
    now = datetime.now(UTC)
    try:
        recipients, text, options = await read(await request.body())
        timing = _timing(options, now)
        planned = await _plan(gateway, account, recipients, text)
    except (CentauroError, RequestValidationError):
        early = await idempotency.replay(request, gateway, account, key)
        if early is not None:
            return early
        raise

    send = submit.Commit(account, planned, SOURCE, now, timing)  # pipelined on PostgreSQL
    committed: list[submit.Receipt] = []

    def send_recorded(conn: Connection) -> submit.Receipt:
        receipt = send(conn)
        committed[:] = [receipt]  # the last run's (the writer may re-run a job)
        return receipt

    if key is not None:
        response = await idempotency.commit(
            request, gateway, account, key, lambda conn: Answer(202, _render(send_recorded(conn)))
        )
    else:
        receipt = await gateway.write(send, order=account.id)  # see Writer.run
        committed[:] = [receipt]
        big = len(recipients) > IN_THREAD_ABOVE
        body = await anyio.to_thread.run_sync(_render, receipt) if big else _render(receipt)
        response = idempotency.to_response(Answer(202, body))
    gateway.queued()
    if committed:  # not when an idempotent repeat was answered from the first request
        metrics.accepted(account.client_id, committed[0].accepted)
    return response


def _timing(options: SendOptions, now: datetime) -> submit.Timing:
    if options.schedule_at is not None and options.schedule_at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidRequest("schedule_at may be at most 366 days ahead")
    return submit.Timing(
        schedule_at=options.schedule_at,
        validity=timedelta(seconds=options.validity_period),
        category=options.category,
        callback_url=options.callback_url,
        sender=options.from_,
    )


async def _plan(
    gateway: Gateway, account: Account, recipients: Sequence[submit.Recipient], text: str | None
) -> submit.Plan:
    settings = gateway.settings

    def price() -> submit.Plan:
        return submit.plan(
            recipients,
            text,
            country=account.country,
            max_segments=settings.max_segments,
            max_recipients=account.max_recipients or settings.max_recipients,
            routable=gateway.routable,
        )

    if len(recipients) > IN_THREAD_ABOVE:
        return await anyio.to_thread.run_sync(price)
    return price()


def _render(receipt: submit.Receipt) -> bytes:
    """The ``202`` body: a row per recipient in request order, then cost and balance."""
    status = receipt.status.value
    rows: list[dict[str, Any]] = []
    for item, message_id in zip(receipt.items, receipt.message_ids, strict=True):
        accepted = item.verdict is Verdict.ACCEPTED
        rows.append(
            {
                "id": str(message_id) if message_id is not None else None,
                "to": item.e164 or item.number,
                "status": status if accepted else "rejected",
                "error": None if accepted else item.verdict.value,
                "segments": item.segments,
                "encoding": item.encoding,
                "cost": item.cost,
                "reference": item.reference or None,
            }
        )
    return to_json({"messages": rows, "cost": receipt.cost, "balance": receipt.balance})


@router.get(
    "/messages/{message_id}",
    response_model=MessageOut,
    responses=problems(404),
    dependencies=AUTH,
    summary="One message",
)
async def get_message(message_id: MessageId, account: CurrentAccount, gateway: Gw) -> Response:
    mid = _message_id(message_id)
    found = await gateway.read(
        checked(account, lambda c: service.get(c, mid, account_id=account.id))
    )
    return json_response(message_json(found))


@router.delete(
    "/messages/{message_id}",
    response_model=MessageOut,
    responses=problems(404, 409),
    dependencies=AUTH,
    summary="Cancel a scheduled or queued message, and refund it",
)
async def cancel_message(message_id: MessageId, account: CurrentAccount, gateway: Gw) -> Response:
    mid = _message_id(message_id)
    now = datetime.now(UTC)
    cancelled = await gateway.write(
        checked(account, lambda c: service.cancel(c, mid, account_id=account.id, now=now))
    )
    return json_response(message_json(cancelled))


@router.get(
    "/messages",
    response_model=MessagePage,
    responses=problems(),
    dependencies=AUTH,
    summary="List messages, newest first",
)
async def list_messages(
    account: CurrentAccount,
    gateway: Gw,
    status: MessageStatus | None = None,
    to: Annotated[
        str | None, Query(max_length=40, description="A number in any usual form")
    ] = None,
    reference: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[UtcTime | None, Query(description="created_at at or after")] = None,
    until: Annotated[UtcTime | None, Query(description="created_at before")] = None,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> Response:
    before = paging.decode(CURSOR_KIND, cursor)
    if reference is not None:
        inputs.check_line("reference", reference)
    recipient = None
    if to is not None:
        recipient = numbers.normalize(to, numbers.parse_country(account.country)).e164
    rows = await gateway.read(
        checked(
            account,
            lambda c: service.find(
                c,
                account_id=account.id,
                status=status,
                recipient=recipient,
                reference=reference,
                since=since,
                until=until,
                before_id=before,
                limit=limit + 1,
            ),
        )
    )
    shown, next_cursor = paging.page(CURSOR_KIND, rows, limit, lambda m: m.id)
    return json_response({"data": [message_json(m) for m in shown], "next_cursor": next_cursor})


def _message_id(raw: str) -> int:
    """A path id as a store id; anything that cannot be one is simply not found."""
    message = parse_id(raw)
    if message is None:
        raise NotFound(f"no message {raw}")
    return message


def message_json(m: Message) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "to": m.recipient,
        "text": m.text,
        "status": m.status.value,
        "error": m.error,
        "segments": m.segments,
        "encoding": m.encoding,
        "cost": m.cost,
        "reference": m.reference or None,
        "from": m.sender,
        "category": m.category,
        "connector": m.connector,
        "created_at": stamp(m.created_at),
        # The store keeps one due time; once released it is the dispatcher's (claim
        # leases and retries move it), so it is shown only while the message waits.
        "scheduled_for": stamp(m.due_at) if m.status is MessageState.SCHEDULED else None,
        "sent_at": stamp(m.sent_at),
        "done_at": stamp(m.done_at),
        "expires_at": stamp(m.expires_at),
    }
