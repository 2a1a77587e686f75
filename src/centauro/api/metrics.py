"""``GET /metrics`` (Prometheus text format) and the count of HTTP requests by route.

Who may scrape is :func:`centauro.metrics.access` (docs/metrics.md): loopback clients,
anyone with ``Authorization: Bearer $CENTAURO_METRICS_TOKEN``, or everyone with
``CENTAURO_METRICS_PUBLIC=true``; others get a ``403`` problem, a wrong token a ``401``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from centauro import metrics
from centauro.api.guard import Guard
from centauro.api.v1 import problems
from centauro.connectors import registry
from centauro.runtime import Gateway
from centauro.service import carriers, messages

#: Methods counted by name; any other is counted as ``other`` (a client picks the method).
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

FORBIDDEN = (
    "Las métricas solo se entregan a clientes locales (127.0.0.1/::1), con "
    "Authorization: Bearer <CENTAURO_METRICS_TOKEN>, o con CENTAURO_METRICS_PUBLIC=true."
)
TOKEN_REFUSED = "El token de métricas no es válido."  # noqa: S105 - a message


async def scrape(request: Request) -> Response:
    """Every counter and histogram (all processes), plus the state read now."""
    gw: Gateway = request.app.state.gateway
    host = request.client.host if request.client is not None else None
    decision = metrics.access(
        host,
        request.headers.get("authorization"),
        token=gw.settings.metrics_token,
        public=gw.settings.metrics_public,
    )
    if decision is metrics.Access.BAD_TOKEN:
        guard: Guard = request.app.state.guard
        guard.refused(host or "")  # a guess at the token is a failed sign-in, as elsewhere
        return problems.problem(
            401,
            "unauthorized",
            "Authentication failed",
            TOKEN_REFUSED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if decision is metrics.Access.FORBIDDEN:
        return problems.problem(403, "metrics_forbidden", "Forbidden", FORBIDDEN)
    body = metrics.exposition(await state(gw))
    return Response(body, media_type=metrics.CONTENT_TYPE)


async def state(gw: Gateway) -> metrics.StateSample:
    """Queue depth from the store; this process's connectors as they are now, and the
    ones other processes run (an HTTP worker of ``serve --workers N``, an ``--role api``
    node) from the status rows their owners write to the store, as ``/v1/health`` shows
    them; SMPP-server binds from this process, or from the store when another worker runs
    the server (``serve --workers 3`` and more)."""
    queue = await gw.read(messages.queue_depth)
    connectors = []
    for c in gw.connectors:
        s = c.status()
        connectors.append(
            metrics.ConnectorSample(
                name=s.name,
                up=s.state == "up",
                in_flight=s.in_flight,
                window=c.window,
                queued=s.queued,
            )
        )
    connectors += await peer_samples(gw)
    binds: list[metrics.BindSample] = []
    shown = await gw.smpp_report()
    if shown is not None:
        for a in shown.get("accounts", []):
            binds.append(
                metrics.BindSample(
                    account=a["client_id"],
                    binds=sum(a["binds"].values()),
                    window_used=a["window_used"],
                    window=a["window"],
                    submits_per_second=a["submits_per_s"],
                    receipts_waiting=a["waiting"],
                )
            )
    return metrics.StateSample(queue=queue, connectors=connectors, binds=binds)


async def peer_samples(gw: Gateway) -> list[metrics.ConnectorSample]:
    """Samples of the connectors other processes own, from their stored status rows
    (one per connector: its owner's). The window comes from the connector's settings."""
    rows = await gw.peer_connectors()
    if not rows:
        return []
    configured = {c.name: c for c in await gw.read(carriers.list_connectors)}
    samples = []
    for r in rows:
        row = configured.get(r["name"])
        samples.append(
            metrics.ConnectorSample(
                name=r["name"],
                up=r["state"] == "up",
                in_flight=int(r["in_flight"] or 0),
                window=_window(row.kind, row.settings) if row is not None else 0,
                queued=int(r["queued"] or 0),
            )
        )
    return samples


def _window(kind: str, settings: Mapping[str, Any]) -> int:
    """The window a connector of these settings keeps (0: not known)."""
    try:
        return registry.build(kind, "window", settings).window
    except (ValueError, TypeError):
        return 0


class HttpMetrics:
    """Counts each HTTP request by route template, method and status, once it answered.

    The route is the template FastAPI matched (``/v1/messages/{message_id}``), never the
    raw path, so ids make no new series; a path nothing matched is ``unmatched``.
    """

    def __init__(self, app: ASGIApp, *, fixed: frozenset[str]) -> None:
        self.app = app
        self.fixed = fixed  #: paths served as they are (the compat routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            metrics.http_request(route_of(scope, self.fixed), method, status)


def route_of(scope: Scope, fixed: frozenset[str]) -> str:
    path: str = scope["path"]
    if path in fixed:
        return path.rstrip("/") or "/"
    route = scope.get("route")
    if route is None:
        return "unmatched"
    root: str = scope.get("root_path", "")
    if isinstance(route, Mount):  # static files: the mount, not each file
        return root + "/{path}"
    # FastAPI 0.165 keeps an included router's routes with their own paths (``/messages``)
    # and puts the full one (``/v1/messages``) in the matched route's context.
    matched = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(matched, "path", None) or getattr(route, "path", None)
    if not isinstance(template, str):
        return "unmatched"
    # Inside a mount (the panel) the route's path is relative to the mount's root_path.
    return root + template
