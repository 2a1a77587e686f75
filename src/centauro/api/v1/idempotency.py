"""``Idempotency-Key`` for POST routes: the first answer again, and the work done once.

:func:`commit` runs a route's store work through
:func:`centauro.service.idempotency.run_once` in one write job: the key is claimed, the
work done and its answer stored in the same transaction, and a retry finds the stored
answer there (or a 409 when the key came with another request). :func:`replay` looks a
key up with a read; a route calls it when it refuses a request before the write, so a
retry whose key already has an answer still gets that answer. Use from any POST route::

    key = idempotency.key_of(request)            # or the IdempotencyKey parameter
    try:
        ...                                      # validate, price: no side effects
    except (CentauroError, RequestValidationError):
        if (early := await idempotency.replay(request, gateway, account, key)) is not None:
            return early
        raise
    return await idempotency.commit(request, gateway, account, key, work)

(Calling :func:`replay` first thing is correct too, and spares a retry the validation,
but costs every keyed request a read: the send routes, the hot path, do not.)

``work(conn)`` returns an :class:`Answer` (status and body bytes); refusals the request
itself causes (:data:`KEPT`, e.g. 402) are stored and replayed too, other errors are not.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Header
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy import Connection
from starlette.requests import Request

from centauro.api.guard import checked
from centauro.api.v1 import problems
from centauro.domain.errors import CentauroError, InsufficientCredits, InvalidRequest
from centauro.domain.models import Account
from centauro.runtime import Gateway
from centauro.service import idempotency as service
from centauro.service.idempotency import Answer, KeyReused

__all__ = ["KEPT", "PARAMETER", "Answer", "IdempotencyKey", "commit", "key_of", "replay"]

HEADER = "Idempotency-Key"
_PATTERN = r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$"
_DESCRIPTION = "Retries with the same key and body get the first answer; sent once"
_VALID = re.compile(_PATTERN)

#: The header as a FastAPI parameter, for routes that declare their parameters.
IdempotencyKey = Annotated[
    str | None,
    Header(alias=HEADER, min_length=1, max_length=255, pattern=_PATTERN, description=_DESCRIPTION),
]
#: The same, as an OpenAPI parameter, for hot routes that read it themselves
#: (:func:`key_of`): FastAPI's per-request header-parameter handling cost a tenth of a
#: single send's CPU.
PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": _DESCRIPTION,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": _PATTERN},
}
REPLAYED = {"Idempotent-Replayed": "true"}
#: Refusals stored under the key like an answer: the request's own fault, decided inside
#: its write transaction (credits short, or invalid as the store sees it). Refusals before
#: the write (validation, pricing) are not stored: a corrected retry may use the key.
KEPT: tuple[type[CentauroError], ...] = (InsufficientCredits, InvalidRequest)
#: Seconds between two purges of expired keys by one process.
PURGE_EVERY = 600.0

_next_purge = 0.0
_purges: set[asyncio.Task[int]] = set()


def key_of(request: Request) -> str | None:
    """The request's key, checked as :data:`IdempotencyKey` would be (422 otherwise)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if len(key) > 255 or _VALID.fullmatch(key) is None:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("header", HEADER),
                    "msg": "must be 1 to 255 printable ASCII characters",
                }
            ]
        )
    return key


async def fingerprint(request: Request) -> str:
    return service.request_hash(request.method, request.url.path, await request.body())


async def replay(
    request: Request, gateway: Gateway, account: Account, key: str | None
) -> Response | None:
    """The stored answer for ``key``, or None to go on (always None without a key)."""
    if key is None:
        return None
    digest = await fingerprint(request)
    now = datetime.now(UTC)
    try:
        stored = await gateway.read(
            checked(
                account,
                lambda c: service.lookup(
                    c, account_id=account.id, key=key, fingerprint=digest, now=now
                ),
            )
        )
    except KeyReused as exc:
        return conflict(exc)
    return to_response(stored) if stored is not None else None


async def commit(
    request: Request,
    gateway: Gateway,
    account: Account,
    key: str,
    work: Callable[[Connection], Answer],
) -> Response:
    """Run ``work`` once for ``key`` in a write job; the (first) answer as a Response."""
    digest = await fingerprint(request)
    now = datetime.now(UTC)
    _maybe_purge(gateway)
    try:
        answer = await gateway.write(
            checked(
                account,
                lambda c: service.run_once(
                    c,
                    account_id=account.id,
                    key=key,
                    fingerprint=digest,
                    now=now,
                    work=work,
                    keep=_keep,
                ),
            )
        )
    except KeyReused as exc:
        return conflict(exc)
    return to_response(answer)


def to_response(answer: Answer) -> Response:
    return Response(
        answer.body,
        status_code=answer.status,
        media_type="application/json" if answer.status < 400 else problems.PROBLEM_JSON,
        headers=REPLAYED if answer.replayed else None,
    )


def conflict(exc: KeyReused) -> Response:
    return problems.problem(409, "idempotency_conflict", "Idempotency key reused", str(exc))


def _keep(error: CentauroError) -> Answer | None:
    if not isinstance(error, KEPT):
        return None
    response = problems.from_error(error)
    return Answer(response.status_code, bytes(response.body))


def _maybe_purge(gateway: Gateway) -> None:
    """Now and then, drop expired keys in a write job of their own (not awaited)."""
    global _next_purge  # noqa: PLW0603 - one schedule per process
    clock = time.monotonic()
    if clock < _next_purge:
        return
    _next_purge = clock + PURGE_EVERY
    task = asyncio.ensure_future(gateway.write(lambda c: service.purge(c, now=datetime.now(UTC))))
    _purges.add(task)
    task.add_done_callback(_purge_done)


def _purge_done(task: asyncio.Task[int]) -> None:
    _purges.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: a failed purge is retried at the next interval
