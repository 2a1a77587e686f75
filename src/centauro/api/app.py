"""The ASGI application: compat routes, REST v1, body-size limit, gateway life cycle."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from centauro import __version__, metrics
from centauro.api import answers, compat, v1
from centauro.api.guard import Guard
from centauro.api.limits import BodySizeLimit
from centauro.api.metrics import HttpMetrics, scrape
from centauro.api.v1 import messages as v1_messages
from centauro.api.v1 import problems
from centauro.config import Settings
from centauro.runtime import Gateway, Siblings
from centauro.service.sealing import Sealer

log = logging.getLogger(__name__)


#: Another door run beside the API on the same gateway (``serve --smpp-port``).
Door = Callable[[Gateway], AbstractAsyncContextManager[object]]


def create_app(
    settings: Settings | None = None,
    *,
    migrate: bool = True,
    doors: Sequence[Door] = (),
    siblings: Siblings | None = None,
) -> ASGIApp:
    """Build the app; the gateway (and other ``doors``) start and stop with the lifespan.
    ``siblings``: what a worker of ``serve --workers N`` shares with the others."""
    settings = settings or Settings.from_env()
    gateway = Gateway(settings, migrate=migrate, siblings=siblings)
    sealer = Sealer(settings.secret_key)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not sealer.sealing:
            log.warning(
                "secret_key_unset: webhook secrets and signing keys are stored in clear "
                "(set CENTAURO_SECRET_KEY; docs/security.md)",
                extra={"action": "secret_key_unset"},
            )
        await gateway.start()
        try:
            async with AsyncExitStack() as stack:
                for door in doors:
                    await stack.enter_async_context(door(gateway))
                yield
        finally:
            await gateway.stop()

    app = FastAPI(
        title="Centauro",
        version=__version__,
        summary="Self-hosted bulk-SMS gateway (CentauroSMS v1.2 compatible)",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.gateway = gateway
    app.state.guard = Guard(gateway, settings)
    app.state.sealer = sealer
    # The first health path, kept for existing monitors: the same answer as /v1/health.
    app.add_api_route(
        "/health", v1.health.health, methods=["GET"], tags=["ops"], include_in_schema=False
    )
    # Prometheus text format; loopback, a token or public by setting (docs/metrics.md).
    app.add_api_route("/metrics", scrape, methods=["GET"], tags=["ops"], include_in_schema=False)
    metrics.label_accounts(settings.metrics_account_label)
    problems.install(app)
    app.include_router(v1.router)
    app.mount("/panel", LazyPanel(gateway))  # the web panel (its own headers and errors)
    return HttpMetrics(
        BodySizeLimit(
            CompatFront(app),
            max_bytes=settings.max_body_bytes,
            answer=answers.error_body,
            larger=dict.fromkeys(v1.campaigns.UPLOAD_PATHS, v1.campaigns.MAX_UPLOAD_BYTES),
        ),
        fixed=frozenset(_COMPAT_ROUTES) | frozenset(_REST_SENDS),
    )


class LazyPanel:
    """The web panel, built on its first request: a gateway nobody opens the panel of does
    not carry Jinja, argon2 and the pages (about 4 MB resident, and their import time)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            from centauro.web.app import create_panel  # noqa: PLC0415

            self.app = create_panel(self.gateway)
        await self.app(scope, receive, send)


_COMPAT_ROUTES: dict[str, compat.Handler] = {
    "/controllersms/": compat.controllersms,
    "/controllersms": compat.controllersms,
    "/http/": compat.http_get,
    "/http": compat.http_get,
}


#: The REST sends, served ahead of FastAPI for ``POST`` only (their other methods, and
#: the OpenAPI that describes them, stay FastAPI's): same handlers, same problem answers.
_REST_SENDS: dict[str, Callable[[Request], Awaitable[Response]]] = {
    "/v1/messages": v1_messages.send_message,
    "/v1/messages/batch": v1_messages.send_batch,
}


class CompatFront:
    """Serves the CentauroSMS paths and the REST sends directly; everything else goes to
    FastAPI.

    The compat routes are the hot path and answer every failure themselves, so they
    skip FastAPI's routing and middleware stack (about a fifth of the CPU a request cost
    when they were ordinary routes). A wrong method gets 405 in the protocol's shape.
    ``POST /v1/messages`` and ``/v1/messages/batch`` take the same short cut: their
    handlers read the request themselves (no FastAPI dependency), and an error becomes
    the problem answer FastAPI's exception handlers would give (:func:`problems.answer`).
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if scope["method"] == "POST" and path in _REST_SENDS:
            scope["app"] = self.app
            request = Request(scope, receive)
            try:
                response = await _REST_SENDS[path](request)
            except Exception as exc:  # noqa: BLE001 - answered as FastAPI's handlers would
                response = await problems.answer(request, exc)
            await response(scope, receive, send)
            return
        handler = _COMPAT_ROUTES.get(path)
        if handler is None:
            await self.app(scope, receive, send)
            return
        scope["app"] = self.app
        if scope["method"] in ("GET", "POST"):
            response = await handler(Request(scope, receive))
        else:
            response = compat.method_not_allowed()
        await response(scope, receive, send)
