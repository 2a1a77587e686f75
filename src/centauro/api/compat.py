"""The CentauroSMS v1.2 doors: ``POST /controllersms/`` and ``GET /http/``.

Plain Starlette routes (no FastAPI dependency machinery): they are the hot path, and
their answers are bytes built by :mod:`centauro.compat.wire`. Every failure becomes
one of the protocol's codes with HTTP 200; nothing escapes as a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy import Connection
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from centauro import metrics
from centauro.api.guard import Guard, checked
from centauro.api.limits import BodyTooLarge
from centauro.compat import codes, wire
from centauro.compat.form import parse_urlencoded
from centauro.domain.errors import CentauroError, SignInLocked, UndecodableField
from centauro.domain.models import Account
from centauro.runtime import Gateway
from centauro.service import accounts as account_service
from centauro.service import submit
from centauro.service.submit import Verdict

log = logging.getLogger(__name__)

JSON = "application/json"
#: Requests with more recipients than this are priced on a worker thread, so one big
#: request does not hold the event loop while small ones wait.
PLAN_IN_THREAD_ABOVE = 200

_STATUS_TEXT = {
    Verdict.ACCEPTED: codes.StatusText.ACCEPTED,
    Verdict.INVALID_NUMBER: codes.StatusText.INVALID_NUMBER,
    Verdict.DUPLICATE: codes.StatusText.DUPLICATE_NUMBER,
    Verdict.OPTED_OUT: codes.StatusText.OPTED_OUT,
}


Handler = Callable[[Request], Awaitable[Response]]


def _answer(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=JSON)


def method_not_allowed() -> Response:
    """405 for PUT, DELETE…: still a JSON body in the protocol's error shape (304)."""
    response = _answer(wire.encode_error(codes.Code.BAD_PARAMETERS), status=405)
    response.headers["allow"] = "GET, POST"
    return response


def error_answer(error: BaseException) -> Response:
    """The protocol's error shape for any exception (unexpected ones are 302)."""
    if isinstance(error, CentauroError):
        return _answer(wire.encode_error(codes.code_for(error)))
    if isinstance(error, ClientDisconnect):
        # The caller left mid-request: nobody hears this answer, and it is no fault of ours.
        log.debug("compat_client_disconnected", extra={"action": "client_disconnected"})
        return _answer(wire.encode_error(codes.Code.MISSING_PARAMETER))
    log.error("compat_unexpected_error", exc_info=error, extra={"action": "compat_error"})
    return _answer(wire.encode_error(codes.Code.OFFLINE))


async def controllersms(request: Request) -> Response:
    """``POST /controllersms/``: form fields, recipients and text in base64(urlencode)."""
    gateway: Gateway = request.app.state.gateway
    guard: Guard = request.app.state.guard
    try:
        fields = await _post_fields(request, gateway.settings.max_body_bytes)
        envelope = wire.read_envelope(fields)
        account = await guard.authenticate(
            envelope.client_id, envelope.client_secret, client_ip(request)
        )
        guard.check_rate(account)
        if envelope.operation == wire.Operation.SMS_DISPONIBLES:
            return await _balance(gateway, account)
        recipients, text = wire.decode_post_payload(envelope, fields)
        return await _send(gateway, account, recipients, text, source="compat")
    except BodyTooLarge:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is answered in protocol shape
        if isinstance(exc, SignInLocked):
            await guard.pause()
        return error_answer(exc)


async def http_get(request: Request) -> Response:
    """``GET /http/``: plain query parameters, one or several numbers in ``num``."""
    gateway: Gateway = request.app.state.gateway
    guard: Guard = request.app.state.guard
    try:
        fields = parse_urlencoded(request.scope.get("query_string", b""))
        envelope = wire.read_envelope(fields)
        account = await guard.authenticate(
            envelope.client_id, envelope.client_secret, client_ip(request)
        )
        guard.check_rate(account)
        if envelope.operation == wire.Operation.SMS_DISPONIBLES:
            return await _balance(gateway, account)
        recipients, text = wire.decode_get_payload(envelope, fields)
        return await _send(gateway, account, recipients, text, source="http")
    except Exception as exc:  # noqa: BLE001 - every failure is answered in protocol shape
        if isinstance(exc, SignInLocked):
            await guard.pause()
        return error_answer(exc)


def client_ip(request: Request) -> str:
    """The peer's address (a proxy's, behind one: we trust no forwarded header)."""
    return request.client.host if request.client is not None else ""


async def _post_fields(request: Request, max_bytes: int) -> Mapping[str, str]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form(max_part_size=max_bytes)
        except BodyTooLarge:
            raise
        except HTTPException as exc:
            # Starlette's answer to a malformed multipart body (no boundary, bad part
            # headers): the caller's data is undecodable (304), not the gateway down (302).
            raise UndecodableField("body", f"multipart: {exc.detail}") from None
        fields: dict[str, str] = {}
        for name, value in form.multi_items():
            if not isinstance(value, str):
                raise UndecodableField(name, "file uploads are not part of the protocol")
            fields[name] = value
        return fields
    # PHP's cURL and most ports send urlencoded; a missing content type is read the same.
    return parse_urlencoded(await request.body())


async def _balance(gateway: Gateway, account: Account) -> Response:
    def read(conn: Connection) -> int:
        return account_service.balance(conn, account.id)

    return _answer(wire.encode_balance_answer(await gateway.read(checked(account, read))))


async def _send(
    gateway: Gateway,
    account: Account,
    recipients: Sequence[wire.Recipient],
    text: str | None,
    *,
    source: str,
) -> Response:
    settings = gateway.settings
    given = [submit.Recipient(r.cel, r.nom, r.id, r.msg) for r in recipients]

    def price() -> submit.Plan:
        return submit.plan(
            given,
            text,
            country=account.country,
            max_segments=settings.max_segments,
            max_recipients=account.max_recipients or settings.max_recipients,
            routable=gateway.routable,
        )

    planned = (
        await anyio.to_thread.run_sync(price) if len(given) > PLAN_IN_THREAD_ABOVE else price()
    )
    now = datetime.now(UTC)
    receipt = await gateway.write(
        submit.Commit(account, planned, source, now),
        order=account.id,  # charges in account order: no deadlock between two processes
    )
    gateway.queued()
    metrics.accepted(account.client_id, receipt.accepted)
    rows = [
        wire.ResultRow(
            nom=item.name,
            cel=item.national if item.verdict is not Verdict.INVALID_NUMBER else item.number,
            message_id=str(message_id) if message_id is not None else "",
            status_text=_STATUS_TEXT[item.verdict],
            msg=item.text,
        )
        for item, message_id in zip(receipt.items, receipt.message_ids, strict=True)
    ]
    return _answer(wire.encode_send_answer(rows))
