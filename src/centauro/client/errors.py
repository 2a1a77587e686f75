"""Exceptions raised by the Centauro SDK.

The tree (compat code | REST status and problem code)::

    CentauroSMSError                  base class: catch this to catch everything below
    ├── TransportError                no answer at all: connection refused, timeout, reset
    ├── ProtocolError                 an answer, but not one the API allows
    │                                 (not JSON, wrong shape, an unexpected HTTP status)
    └── APIError(code, message)       the gateway refused the request
        ├── MissingParameters         300 | 422 missing_parameter
        ├── InvalidCredentials        301 | 401 unauthorized
        ├── ServiceUnavailable        302 | 503 unavailable/store_unavailable, 500 internal_error
        ├── MissingOperation          303
        ├── InvalidParameters         304 | 422 validation_error, invalid_*, no_valid_recipient
        │   └── PayloadTooLarge             413 too_many_recipients, payload_too_large
        ├── InsufficientCredits       305 | 402 insufficient_credits (.needed, .available)
        ├── NotFound                        404 not_found
        ├── Conflict                        409 conflict
        │   └── IdempotencyConflict         409 idempotency_conflict
        └── RateLimited                     429 rate_limited (.retry_after seconds)

One class per meaning, whichever door said it: ``except InsufficientCredits`` catches the
compat API's 305 and the REST API's 402 alike. ``code`` is the number the gateway answered
— the protocol status (an int, ``exc.code == 305``, although the wire carries ``"305"``)
from the compat API, the HTTP status from the REST API — and ``problem_code`` the REST
problem's stable code (``"insufficient_credits"``; ``""`` from the compat API).

``Client`` and ``AsyncClient`` raise all of them. The PHP drop-in ``CentauroSMS`` returns
the gateway's answer for codes 300–305 as the PHP class did, and raises only
``TransportError`` and ``ProtocolError`` (where PHP would have returned ``null``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from centauro.compat.codes import Code

__all__ = [
    "APIError",
    "CentauroSMSError",
    "Conflict",
    "IdempotencyConflict",
    "InsufficientCredits",
    "InvalidCredentials",
    "InvalidParameters",
    "MissingOperation",
    "MissingParameters",
    "NotFound",
    "PayloadTooLarge",
    "ProtocolError",
    "RateLimited",
    "ServiceUnavailable",
    "TransportError",
    "api_error",
    "map_httpx_errors",
    "problem_error",
]


class CentauroSMSError(Exception):
    """Base class of every exception the SDK raises on purpose."""


class TransportError(CentauroSMSError):
    """The gateway could not be reached or did not answer in time.

    The underlying ``httpx`` exception is kept as ``__cause__``.
    """


class ProtocolError(CentauroSMSError):
    """Something answered, but not in the CentauroSMS protocol's shape.

    Typical causes: a wrong base URL (another server, a proxy's HTML error page), or an HTTP
    status other than 200 (the gateway answers 413 for a body over its size limit).
    ``status_code`` is the HTTP status, ``body`` the first bytes of the answer for logs.
    """

    def __init__(self, message: str, *, status_code: int | None = None, body: bytes = b"") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body[:512]


class APIError(CentauroSMSError):
    """The gateway refused the request: a protocol error code, or a REST problem.

    ``code`` is the protocol status (300–305) or the HTTP status, ``message`` the gateway's
    text, ``answer`` the decoded answer (the problem+json object from the REST API) and
    ``problem_code`` the REST problem's code. Codes no subclass covers raise this class.
    """

    def __init__(
        self, code: int, message: str = "", *, answer: dict[str, Any] | None = None
    ) -> None:
        self.code = code
        self.message = message or _default_text(code)
        self.answer: dict[str, Any] = answer if answer is not None else {}
        super().__init__(f"{code}: {self.message}" if self.message else str(code))

    @property
    def problem_code(self) -> str:
        """The REST problem's ``code`` (``"not_found"``…); ``""`` for compat answers."""
        value = self.answer.get("code")
        return value if isinstance(value, str) and "type" in self.answer else ""

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take no ``code`` argument and may carry more attributes; rebuild
        # through one function and restore the rest, so pickling (multiprocessing, task
        # queues) round-trips every class.
        return (_rebuild, (type(self), self.code, self.message, self.answer), self.__dict__)


def _rebuild(cls: type[APIError], code: int, message: str, answer: dict[str, Any]) -> APIError:
    if issubclass(cls, _Coded):
        return cls(message, answer=answer, code=code)
    return cls(code, message, answer=answer)


class _Coded(APIError):
    """An :class:`APIError` whose code defaults to its class's (``InvalidCredentials()``)."""

    status: int = 0

    def __init__(
        self, message: str = "", *, answer: dict[str, Any] | None = None, code: int | None = None
    ) -> None:
        super().__init__(self.status if code is None else code, message, answer=answer)


class MissingParameters(_Coded):
    """300: a parameter the operation needs is missing or empty."""

    status = 300


class InvalidCredentials(_Coded):
    """301: unknown ``client_id``, wrong secret, or a disabled account."""

    status = 301


class ServiceUnavailable(_Coded):
    """302: the gateway cannot take the work now; retrying later may succeed."""

    status = 302


class MissingOperation(_Coded):
    """303: ``client_opcion`` was not sent."""

    status = 303


class InvalidParameters(_Coded):
    """304: undecodable fields, no valid number, or a text over the length limit."""

    status = 304


class InsufficientCredits(_Coded):
    """305 / 402: the credits do not cover the whole request; nothing was sent."""

    status = 305

    @property
    def needed(self) -> int | None:
        """Credits the request needed (REST answers only)."""
        return _int(self.answer.get("needed"))

    @property
    def available(self) -> int | None:
        """Credits the account had (REST answers only)."""
        return _int(self.answer.get("available"))


class PayloadTooLarge(InvalidParameters):
    """413: more recipients than one request may carry, or a body over the size limit."""

    status = 413


class NotFound(_Coded):
    """404: no such message, webhook or suppression for this account."""

    status = 404


class Conflict(_Coded):
    """409: the record's state forbids it (a message already sent cannot be cancelled)."""

    status = 409


class IdempotencyConflict(Conflict):
    """409: the ``Idempotency-Key`` was already used for a different request."""


class RateLimited(_Coded):
    """429: over the account's request rate; ``retry_after`` says how many seconds to wait."""

    status = 429

    def __init__(
        self,
        message: str = "",
        *,
        answer: dict[str, Any] | None = None,
        code: int | None = None,
        retry_after: float = 1.0,
    ) -> None:
        super().__init__(message, answer=answer, code=code)
        self.retry_after = retry_after


_BY_CODE: dict[int, type[_Coded]] = {
    cls.status: cls
    for cls in (
        MissingParameters,
        InvalidCredentials,
        ServiceUnavailable,
        MissingOperation,
        InvalidParameters,
        InsufficientCredits,
    )
}


def _default_text(code: int) -> str:
    try:
        return Code(str(code)).text
    except ValueError:
        return ""


def api_error(code: int, message: str = "", answer: dict[str, Any] | None = None) -> APIError:
    """The most specific :class:`APIError` for compat *code* (the class itself if unknown)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return APIError(code, message, answer=answer)
    return cls(message, answer=answer)


_BY_PROBLEM: dict[str, type[_Coded]] = {
    "missing_parameter": MissingParameters,
    "unauthorized": InvalidCredentials,
    "unavailable": ServiceUnavailable,
    "store_unavailable": ServiceUnavailable,
    "internal_error": ServiceUnavailable,
    "too_many_recipients": PayloadTooLarge,
    "payload_too_large": PayloadTooLarge,
    "body_too_large": PayloadTooLarge,
    "insufficient_credits": InsufficientCredits,
    "not_found": NotFound,
    "conflict": Conflict,
    "idempotency_conflict": IdempotencyConflict,
    "rate_limited": RateLimited,
}
_BY_STATUS: dict[int, type[_Coded]] = {
    400: InvalidParameters,
    401: InvalidCredentials,
    402: InsufficientCredits,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidParameters,
    429: RateLimited,
    500: ServiceUnavailable,
    503: ServiceUnavailable,
}


def problem_error(
    status: int, problem: dict[str, Any], *, retry_after: float | None = None
) -> APIError:
    """The :class:`APIError` for a REST problem+json answer: by its ``code``, else by the
    HTTP *status*, else :class:`APIError` itself."""
    code = problem.get("code")
    cls = _BY_PROBLEM.get(code) if isinstance(code, str) else None
    cls = cls or _BY_STATUS.get(status)
    detail, title = problem.get("detail"), problem.get("title")
    message = detail if isinstance(detail, str) and detail else title
    text = message if isinstance(message, str) else ""
    if cls is None:
        return APIError(status, text, answer=problem)
    if cls is RateLimited:
        return RateLimited(text, answer=problem, code=status, retry_after=retry_after or 1.0)
    return cls(text, answer=problem, code=status)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@contextmanager
def map_httpx_errors() -> Iterator[None]:
    """Turn httpx's exceptions into ours, the one place the SDK meets them.

    No answer (connect, timeout, network, proxy) is a ``TransportError``; an answer that
    could not be read as HTTP (bad compression, redirect loops) is a ``ProtocolError``.
    """
    try:
        yield
    except httpx.TransportError as exc:
        raise TransportError(_describe(exc)) from exc
    except httpx.RequestError as exc:
        raise ProtocolError(_describe(exc)) from exc


def _describe(exc: Exception) -> str:
    detail = str(exc)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
