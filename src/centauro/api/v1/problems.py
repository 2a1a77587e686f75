"""RFC 9457 problem details: every REST error, one shape, a stable machine ``code``.

``{"type": "https://centauro.dev/problems/insufficient_credits", "title": "…",
"status": 402, "detail": "…", "code": "insufficient_credits"}`` with
``Content-Type: application/problem+json``. Our exceptions map through one table.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from centauro.domain import errors, templates
from centauro.service import campaign_files

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://centauro.dev/problems/"

#: Exception class → (HTTP status, code, title). The first match along the MRO wins.
_TABLE: dict[type[errors.CentauroError], tuple[int, str, str]] = {
    campaign_files.UnreadableFile: (422, "unreadable_file", "Not a CSV or XLSX file"),
    campaign_files.TooManyRows: (413, "too_many_rows", "Too many rows"),
    templates.TemplateError: (422, "invalid_template", "Invalid template"),
    errors.InvalidNumber: (422, "invalid_number", "Invalid phone number"),
    errors.InvalidText: (422, "invalid_text", "Invalid text"),
    errors.TextTooLong: (422, "text_too_long", "Text too long"),
    errors.NoValidRecipient: (422, "no_valid_recipient", "No valid recipient"),
    errors.TooManyRecipients: (413, "too_many_recipients", "Too many recipients"),
    errors.MissingParameter: (422, "missing_parameter", "Missing parameter"),
    errors.SenderNotGranted: (422, "sender_not_granted", "Sender ID not granted"),
    errors.InvalidSender: (422, "invalid_sender", "Invalid sender ID"),
    errors.InvalidRequest: (422, "invalid_request", "Invalid request"),
    errors.AuthenticationFailed: (401, "unauthorized", "Authentication failed"),
    errors.InsufficientCredits: (402, "insufficient_credits", "Insufficient credits"),
    errors.NotFound: (404, "not_found", "Not found"),
    errors.Conflict: (409, "conflict", "Conflict"),
    errors.SignInLocked: (429, "sign_in_locked", "Too many failed sign-ins"),
    errors.RateLimited: (429, "rate_limited", "Too many requests"),
    errors.StoreUnavailable: (503, "store_unavailable", "Store unavailable"),
    errors.Unavailable: (503, "unavailable", "Service unavailable"),
}
#: Seconds a client is asked to wait (``Retry-After``) when the store is away.
STORE_RETRY_AFTER = 5
#: Spanish details for the codes whose exception text is for the logs.
_DETAILS = {
    "store_unavailable": "La base de datos no responde en este momento; nada se aceptó. "
    "Intente de nuevo en unos segundos.",
}

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication failed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_error", "Validation error"),
    429: ("rate_limited", "Too many requests"),
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def from_error(error: errors.CentauroError) -> JSONResponse:
    status, code, title = 500, "internal_error", "Internal error"
    for cls in type(error).__mro__:
        if cls in _TABLE:
            status, code, title = _TABLE[cls]
            break
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="centauro"'
    if isinstance(error, errors.RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    if isinstance(error, errors.StoreUnavailable):
        headers["Retry-After"] = str(STORE_RETRY_AFTER)
    if isinstance(error, errors.InsufficientCredits) and error.needed:
        extra = {"needed": error.needed, "available": error.available}
    return problem(status, code, title, _DETAILS.get(code, str(error)), headers=headers, **extra)


async def _centauro(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.CentauroError)
    return from_error(exc)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    return problem(422, "validation_error", "Validation error", errors=issues)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    return problem(
        exc.status_code, code, title, str(exc.detail) if exc.detail else None,
        headers=dict(exc.headers or {}),
    )  # fmt: skip


async def _gone(_: Request, exc: Exception) -> JSONResponse:
    # The caller left mid-body: one debug line, not a traceback; the answer is dropped.
    log.debug("api_client_disconnected", extra={"action": "client_disconnected"})
    return problem(400, "bad_request", "Bad request", "client disconnected")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.error("api_unexpected_error", exc_info=exc, extra={"action": "api_error"})
    return problem(500, "internal_error", "Internal error")


Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]

#: Exception class → its answer; the first match along the exception's MRO wins.
HANDLERS: dict[type[Exception], Handler] = {
    errors.CentauroError: _centauro,
    RequestValidationError: _validation,
    HTTPException: _http,
    ClientDisconnect: _gone,
    Exception: _unexpected,
}


async def answer(request: Request, exc: Exception) -> JSONResponse:
    """The problem answer FastAPI's handlers give ``exc``: for routes served ahead of
    FastAPI (``api/app.py: CompatFront``), which must answer exactly alike."""
    for cls in type(exc).__mro__:
        handler = HANDLERS.get(cls)
        if handler is not None:
            return await handler(request, exc)
    return await _unexpected(request, exc)  # pragma: no cover - Exception is in HANDLERS


def install(app: FastAPI) -> None:
    """Answer every error of the FastAPI app as problem+json, never a traceback."""
    for cls, handler in HANDLERS.items():
        app.add_exception_handler(cls, handler)
