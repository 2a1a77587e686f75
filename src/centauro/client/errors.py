"""Exceptions raised by the Centauro SDK.

The tree::

    CentauroSMSError                  base class: catch this to catch everything below
    ├── TransportError                no answer at all: connection refused, timeout, reset
    ├── ProtocolError                 an answer, but not one the protocol allows
    │                                 (not JSON, wrong shape, an HTTP status other than 200)
    └── APIError(code, message)       the gateway answered one of the protocol's error codes
        ├── MissingParameters         300  No se recibieron los parametros necesarios
        ├── InvalidCredentials        301  Error de credenciales
        ├── ServiceUnavailable        302  Servidores fuera de linea
        ├── MissingOperation          303  Error grave no se recibio parametro de la API
        ├── InvalidParameters         304  Los parametros no son correctos ...
        └── InsufficientCredits       305  No tiene SMS disponibles para realizar este envio

``Client`` and ``AsyncClient`` raise all of them. The PHP drop-in ``CentauroSMS`` returns
the gateway's answer for codes 300–305 as the PHP class did, and raises only
``TransportError`` and ``ProtocolError`` (where PHP would have returned ``null``).

The status codes are ints here (``exc.code == 305``), although the wire carries them as
JSON strings: Python callers compare numbers, and :func:`api_error` does the conversion.
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
    "InsufficientCredits",
    "InvalidCredentials",
    "InvalidParameters",
    "MissingOperation",
    "MissingParameters",
    "ProtocolError",
    "ServiceUnavailable",
    "TransportError",
    "api_error",
    "map_httpx_errors",
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
    """The gateway refused the request with a protocol error code.

    ``code`` is the status as an int, ``message`` the gateway's (Spanish) text and
    ``answer`` the decoded JSON answer. Codes outside 300–305 raise this class itself.
    """

    def __init__(
        self, code: int, message: str = "", *, answer: dict[str, Any] | None = None
    ) -> None:
        self.code = code
        self.message = message or _default_text(code)
        self.answer: dict[str, Any] = answer if answer is not None else {}
        super().__init__(f"{code}: {self.message}" if self.message else str(code))

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take no ``code`` argument; rebuild through the factory so pickling
        # (multiprocessing, task queues) round-trips every class.
        return (api_error, (self.code, self.message, self.answer))


class _Coded(APIError):
    """An :class:`APIError` whose code is fixed by its class (``InvalidCredentials()``)."""

    status: int = 0

    def __init__(self, message: str = "", *, answer: dict[str, Any] | None = None) -> None:
        super().__init__(self.status, message, answer=answer)


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
    """305: the credits do not cover the whole request; nothing was sent."""

    status = 305


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
    """The most specific :class:`APIError` for *code* (the class itself for unknown codes)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return APIError(code, message, answer=answer)
    return cls(message, answer=answer)


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
