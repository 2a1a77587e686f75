"""The dashboard's live parts: today's counts and each connector's state as JSON, which
``static/live.js`` polls every few seconds to refresh the page without a reload (the
Content-Security-Policy allows no inline script, so the script is a file of ours)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from centauro.service import reports
from centauro.web import format as fmt
from centauro.web.session import gateway, now, require

STATE_NAMES = {
    "up": "conectada",
    "connecting": "conectando",
    "down": "caída",
    "stopped": "detenida",
}


async def snapshot(request: Request) -> Response:
    await require(request, operator=True)
    gw = gateway(request)
    zone = fmt.zone(gw.settings.panel_timezone)
    at = now()
    today = await gw.read(lambda c: reports.today(c, now=at, zone=zone))
    counts = today.counts
    stats = {
        "stat-accepted": fmt.number(counts.accepted),
        "stat-delivered": fmt.number(counts.delivered),
        "stat-failed": fmt.number(counts.failed),
        "stat-rate": fmt.percent(counts.delivered, counts.delivered + counts.failed),
        "stat-sold": fmt.number(today.credits_sold),
        "stat-left": fmt.number(today.credits_left),
    }
    connectors: list[dict[str, Any]] = [
        {
            "name": s.name,
            "kind": s.kind,
            "state": s.state,
            "state_text": STATE_NAMES.get(s.state, s.state),
            "in_flight": fmt.number(s.in_flight),
            "submitted": fmt.number(s.submitted),
            "tps": fmt.number(s.tps, 1),
            "last_error": s.last_error or "—",
        }
        for s in (c.status() for c in gw.connectors)
    ]
    return JSONResponse(
        {"stats": stats, "connectors": connectors}, headers={"cache-control": "no-store"}
    )


routes = [Route("/live", snapshot, methods=["GET"])]
