"""``GET /v1/health``: no credentials, for load balancers and monitoring.

``200`` while the store answers; ``503`` (same body, ``status: degraded``) when it does
not, so a balancer takes this process out without parsing anything.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from centauro import __version__
from centauro.api.v1.schemas import Gw, Health, json_response, stamp

router = APIRouter(tags=["ops"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The store is unreachable"}},
    summary="Liveness, store and connectors",
)
async def health(gateway: Gw) -> Response:
    store_ok = await gateway.store_ok()
    connectors = [
        {
            "name": s.name,
            "kind": s.kind,
            "state": s.state,
            "in_flight": s.in_flight,
            "queued": s.queued,
            "tps": round(s.tps, 1),
            "submitted": s.submitted,
            "last_error": s.last_error,
            "up_since": stamp(s.since),
        }
        for s in (c.status() for c in gateway.connectors)
    ]
    smpp_server = gateway.reports.get("smpp_server")
    return json_response(
        {
            "status": "ok" if store_ok else "degraded",
            "version": __version__,
            "store": "ok" if store_ok else "unavailable",
            "connectors": connectors,
            "smpp_server": smpp_server() if smpp_server else None,
        },
        status=200 if store_ok else 503,
    )
