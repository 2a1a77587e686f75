"""The HTTP/1.1 protocol ``centauro serve`` runs: uvicorn's httptools protocol, bounded.

uvicorn bounds neither a request's head nor the time it takes to arrive: a 64 MB header
line was buffered whole (and answered 200), and half-sent requests kept their connections
for as long as their clients liked. This subclass

- counts the bytes of each request head (request line and headers) and answers 431 once
  they pass ``max_header_bytes``, without feeding the parser any further;
- gives a head ``header_timeout`` seconds from its first byte (from the connection's
  opening for the first one) and a body ``body_timeout`` seconds after its head, then
  answers 408 (when nothing was answered yet) and closes;
- answers 503 to a connection opened past ``max_connections`` and closes it;
- answers a request its parser refuses with 400 in the door's shape, not uvicorn's text.

Answers carry the body of the door the request came to (:mod:`centauro.api.answers`).
A request whose head and body arrive in one read, the hot path, arms no timer: a timer is
armed only when a read ends with the request incomplete. Idle keep-alive stays uvicorn's
own (``timeout_keep_alive``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from centauro.api.answers import error_body
from centauro.config import Settings

log = logging.getLogger(__name__)

#: Seconds a connection past the cap has to send its head, to be told 503 in its door's
#: shape, before it is simply closed.
OVER_CAP_GRACE = 1.0
#: After an answer of ours, how long (seconds) and how much (bytes) of what the client
#: still sends is read and dropped before closing: closing on unread bytes resets the
#: connection, and the client may lose the answer.
LINGER_SECONDS = 1.0
LINGER_BYTES = 1024 * 1024
#: Seconds between two warnings that the connection cap was reached.
CAP_WARNING_EVERY = 10.0

Phase = Literal["head", "body"]


@dataclass(frozen=True, slots=True)
class HttpLimits:
    max_header_bytes: int = 16 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            max_connections=settings.max_connections,
        )


def protocol_for(limits: HttpLimits) -> type[LimitedHttpProtocol]:
    """The protocol class to give uvicorn (``http=``): it builds one per connection."""
    return type("LimitedHttpProtocol", (LimitedHttpProtocol,), {"limits": limits})


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's protocol with the head size, head and body timers and connection cap."""

    limits: ClassVar[HttpLimits] = HttpLimits()
    _last_cap_warning: ClassVar[float] = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_pending = True  # a request head is what comes next
        self._head_started = True  # …and its clock runs (from the connection's opening)
        self._head_bytes = 0
        self._body_pending = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_phase: Phase | None = None
        self._draining: int | None = None  # bytes still to drop after our answer

    # -- connection ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limits = self.limits
        if len(self.connections) > limits.max_connections:
            self.app = _over_capacity
            self._warn_cap()
            self._arm("head", min(OVER_CAP_GRACE, limits.header_timeout))
        else:
            self._arm("head", limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._draining is not None:
            self._draining -= len(data)
            if self._draining <= 0:
                self.transport.close()
            return
        if self._head_pending:
            self._head_started = True
            room = self.limits.max_header_bytes - self._head_bytes
            if len(data) > room:
                # Feed the head's last allowed bytes: either it completes within them
                # (the rest is body or the next request) or it is too large.
                self._head_bytes += room
                if room > 0:
                    super().data_received(data[:room])
                if self._head_pending:
                    self._refuse(431)
                    return
                data = data[room:]
            else:
                self._head_bytes += len(data)
        if data and not self.transport.is_closing():
            super().data_received(data)
        self._rearm()

    def handle_websocket_upgrade(self) -> None:
        # The connection now belongs to the WebSocket protocol: our timers must not close it.
        self._head_pending = self._body_pending = False
        self._cancel()
        super().handle_websocket_upgrade()

    # -- parser callbacks ---------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self._head_pending = False
        self._body_pending = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._body_pending = False
        self._head_pending = True
        self._head_started = False
        self._head_bytes = 0

    # -- timers -------------------------------------------------------------------------

    def _rearm(self) -> None:
        """After a read: the timer of what is still incomplete, or none."""
        if self._body_pending:
            if self._timer_phase != "body":
                self._arm("body", self.limits.body_timeout)
        elif self._head_pending and self._head_started:
            if self._timer_phase != "head":
                self._arm("head", self.limits.header_timeout)
        elif self._timer is not None:
            self._cancel()

    def _arm(self, phase: Phase, delay: float) -> None:
        self._cancel()
        self._timer = self.loop.call_later(delay, self._expired)
        self._timer_phase = phase

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_phase = None

    def _expired(self) -> None:
        self._timer = None
        log.debug(
            "http_request_timeout",
            extra={"action": "http_request_timeout", "phase": self._timer_phase},
        )
        self._timer_phase = None
        self._refuse(408)

    # -- answers ------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """A request the HTTP parser refuses (a control byte in a header, garbage): 400 in
        the door's shape, not uvicorn's ``text/plain`` line a PHP client cannot decode."""
        self._cancel()
        if not self.transport.is_closing():
            self.transport.write(self._answer(400))
            self.transport.close()

    def _refuse(self, status: int) -> None:
        """Answer ``status`` if the connection owes no other answer first, then close."""
        self._cancel()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if self._body_pending:
            answer = cycle is not None and not cycle.response_started and not self.pipeline
            if answer:
                # The route waiting on the body hears a disconnect; its answer is dropped.
                cycle.disconnected = True
                cycle.message_event.set()
        else:
            answer = cycle is None or cycle.response_complete
        if status == 431:
            log.debug("http_head_too_large", extra={"action": "http_head_too_large"})
        if not answer:
            self.transport.close()
            return
        self.transport.write(self._answer(status))
        self.transport.write_eof()
        self._draining = LINGER_BYTES
        self._timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _answer(self, status: int) -> bytes:
        content_type, body = error_body(self._path(), status)
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: ",
            content_type.encode(),
            b"\r\ncontent-length: ",
            str(len(body)).encode(),
            b"\r\nconnection: close\r\n\r\n",
            body,
        ]
        return b"".join(head)

    def _path(self) -> str:
        """The request's path as far as it arrived ("" when none did)."""
        path: str | None = self.scope.get("path") if self.scope is not None else None
        if path is not None:
            return path
        url: bytes = getattr(self, "url", b"")
        return url.split(b"?", 1)[0].decode("latin-1") if url.startswith(b"/") else ""

    def _warn_cap(self) -> None:
        now = time.monotonic()
        cls = type(self)
        if now - cls._last_cap_warning >= CAP_WARNING_EVERY:
            cls._last_cap_warning = now
            log.warning(
                "http_connection_cap_reached",
                extra={"action": "http_connection_cap", "max": self.limits.max_connections},
            )


async def _over_capacity(
    scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    """The app of a connection past the cap: 503 in its door's shape, then close."""
    content_type, body = error_body(str(scope.get("path", "")), 503)
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
                (b"connection", b"close"),
            ],
            "trailers": False,
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
