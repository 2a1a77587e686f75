"""The ASGI application: compat routes, health, body-size limit, gateway life cycle."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from centauro import __version__
from centauro.api import compat, v1
from centauro.api.limits import BodySizeLimit
from centauro.api.v1 import problems
from centauro.compat import codes, wire
from centauro.config import Settings
from centauro.runtime import Gateway
from centauro.web.app import create_panel

COMPAT_PATHS = ("/controllersms", "/http")


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> ASGIApp:
    """Build the app; the gateway starts and stops with the ASGI lifespan."""
    settings = settings or Settings.from_env()
    gateway = Gateway(settings, migrate=migrate)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await gateway.start()
        try:
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
    app.add_api_route("/health", health, methods=["GET"], tags=["ops"], include_in_schema=False)
    problems.install(app)
    app.include_router(v1.router)
    app.mount("/panel", create_panel(gateway))  # the web panel (its own headers and errors)
    return BodySizeLimit(CompatFront(app), max_bytes=settings.max_body_bytes, answer=_too_large)


_COMPAT_ROUTES: dict[str, compat.Handler] = {
    "/controllersms/": compat.controllersms,
    "/controllersms": compat.controllersms,
    "/http/": compat.http_get,
    "/http": compat.http_get,
}


class CompatFront:
    """Serves the CentauroSMS paths directly; everything else goes to FastAPI.

    The compat routes are the hot path and answer every failure themselves, so they
    skip FastAPI's routing and middleware stack (about a fifth of the CPU a request cost
    when they were ordinary routes). A wrong method gets 405 in the protocol's shape.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = _COMPAT_ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        scope["app"] = self.app
        if scope["method"] in ("GET", "POST"):
            response = await handler(Request(scope, receive))
        else:
            response = compat.method_not_allowed()
        await response(scope, receive, send)


async def health(request: Request) -> Response:
    """Liveness and a glance at delivery: store reachable, queue and connectors."""
    gateway: Gateway = request.app.state.gateway
    store = "ok" if await gateway.store_ok() else "unavailable"
    dispatcher = gateway.dispatcher
    return JSONResponse(
        {
            "status": "ok" if store == "ok" else "degraded",
            "version": __version__,
            "store": store,
            "in_flight": dispatcher.in_flight if dispatcher else 0,
            "writer": gateway.writer.stats() if gateway.writer else None,
            "connectors": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "state": s.state,
                    "in_flight": s.in_flight,
                    "queued": s.queued,
                    "tps": round(s.tps, 1),
                    "submitted": s.submitted,
                    "last_error": s.last_error,
                    "since": s.since.isoformat() if s.since else None,
                }
                for s in (c.status() for c in gateway.connectors)
            ],
        },
        status_code=200 if store == "ok" else 503,
    )


def _too_large(path: str, status: int) -> tuple[str, bytes]:
    """The answer to a body over the limit (413) or shorter than it said (400)."""
    if path.startswith(COMPAT_PATHS):
        return compat.JSON, wire.encode_error(codes.Code.BAD_PARAMETERS)
    code, title = _BODY_PROBLEMS[status]
    body = {"type": problems.TYPE_BASE + code, "title": title, "status": status, "code": code}
    return problems.PROBLEM_JSON, json.dumps(body, separators=(",", ":")).encode()


_BODY_PROBLEMS = {
    413: ("payload_too_large", "Request body too large"),
    400: ("bad_request", "Bad request"),
}
