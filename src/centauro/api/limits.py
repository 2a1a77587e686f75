"""Request size limit, enforced before any body reaches a route.

A body over the limit is answered 413 in the shape of the door it came to (compat JSON
for the CentauroSMS paths), whether the client announced its length or streams it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from centauro.domain.ids import parse_ascii_int

#: Builds the (content type, body) of the 413 answer for a request path.
TooLargeBody = Callable[[str, int], tuple[str, bytes]]


class BodyTooLarge(HTTPException):
    """The body grew past the limit while streaming in (no Content-Length announced)."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class BodySizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        answer: TooLargeBody,
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.answer = answer
        #: Paths with a limit of their own (file uploads), by exact path.
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                parsed = parse_ascii_int(value.decode("latin-1"), max_digits=18)
                declared = -1 if parsed is None else parsed
                if declared > max_bytes or declared < 0:
                    await self._reject(scope, send, 413 if declared >= 0 else 400)
                    return
                break

        seen = 0
        started = False
        answered = False

        async def limited_receive() -> Message:
            nonlocal seen, started, answered
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    # Answer here, before raising: BodyTooLarge is an HTTPException, so
                    # the app's own exception handlers catch it on its way out and would
                    # answer in their shape ({"detail": …}), not the door's.
                    if not started:
                        started = answered = True
                        await self._reject(scope, send, 413)
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 went out already; drop the app's answer to BodyTooLarge
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(scope, send, 413)

    async def _reject(self, scope: Scope, send: Send, status: int) -> None:
        content_type, body = self.answer(scope.get("path", ""), status)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
