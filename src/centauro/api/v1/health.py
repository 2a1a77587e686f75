"""Health: one answer for ``GET /health`` and ``GET /v1/health``, shown by who asks.

* **Anyone** (a load balancer): ``{"status": "ok"}``, or ``degraded`` with ``503`` when the
  store does not answer, so a balancer takes this process out without parsing anything.
  Connector names, bind errors and the version tell an attacker what to aim at: not here.
* **An account** (HTTP Basic, as the rest of ``/v1``): also the version, the store and each
  connector's name, kind, state and ``up_since`` — is delivery up? — but not the counts or
  the bind errors, which speak of the operator's carriers and other customers' traffic.
* **The operator** (``Authorization: Bearer $CENTAURO_OPERATOR_TOKEN``): everything, the
  figures of ``centauro connectors status`` for this process, and each connector's
  ``owner`` (host, pid: the process that binds it; on an API node, connectors owned by
  the delivery processes come from the store). No token set: no operator view.

The details are :data:`SECTIONS`, small functions each adding its keys for a viewer: a new
part of the gateway (an SMPP server, say) appends one.
"""

from __future__ import annotations

import enum
import hmac
import os
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from centauro import __version__
from centauro.api.guard import Guard
from centauro.api.v1.auth import current_account
from centauro.api.v1.schemas import Gw, Health, json_response, stamp
from centauro.connectors.base import ConnectorStatus
from centauro.domain.errors import AuthenticationFailed, RateLimited
from centauro.runtime import Gateway

router = APIRouter(tags=["ops"])


class Viewer(enum.IntEnum):
    """Who asks, in increasing order of what they may see."""

    ANONYMOUS = 0
    ACCOUNT = 1
    OPERATOR = 2


#: Adds its keys to an authenticated answer; ``store_ok`` is the probe's result.
Section = Callable[[Gateway, Viewer, bool, dict[str, Any]], None]


def _core(gw: Gateway, viewer: Viewer, store_ok: bool, answer: dict[str, Any]) -> None:
    answer["version"] = __version__
    answer["store"] = "ok" if store_ok else "unavailable"


def _connectors(gw: Gateway, viewer: Viewer, store_ok: bool, answer: dict[str, Any]) -> None:
    """This process's connectors, then those other processes own (``owner``: who binds
    it — an API node binds nothing, so all of its come from the store)."""
    shown = [_connector(c.status(), viewer, gw.owner) for c in gw.connectors]
    for row in answer.pop(_PEERS, []):
        status = ConnectorStatus(
            name=row["name"],
            kind=row["kind"],
            state=row["state"],
            in_flight=row["in_flight"],
            queued=row["queued"],
            submitted=row["submitted"],
            tps=row["tps"],
            last_error=row["last_error"],
            since=row["since"],
        )
        shown.append(_connector(status, viewer, row["owner"]))
    answer["connectors"] = shown


def _delivery(gw: Gateway, viewer: Viewer, store_ok: bool, answer: dict[str, Any]) -> None:
    if viewer is Viewer.OPERATOR:
        answer["in_flight"] = gw.dispatcher.in_flight if gw.dispatcher else 0
        answer["writer"] = gw.writer.stats() if gw.writer else None
        if gw.delivery_writer is not None:
            answer["delivery_writer"] = gw.delivery_writer.stats()


def _smpp_server(gw: Gateway, viewer: Viewer, store_ok: bool, answer: dict[str, Any]) -> None:
    report = answer.pop(_SMPP, None)
    if viewer is Viewer.OPERATOR and report is not None:
        answer["smpp_server"] = report


def _process(gw: Gateway, viewer: Viewer, store_ok: bool, answer: dict[str, Any]) -> None:
    """Which process answered (``serve --workers N`` runs several behind one port)."""
    if viewer is Viewer.OPERATOR:
        answer["process"] = {"pid": os.getpid(), "delivers": gw.dispatcher is not None}


#: Where :func:`answer` leaves the other processes' connector rows for ``_connectors``.
_PEERS = "_peer_connectors"
#: And the SMPP server's figures (Gateway.smpp_report: this process's or the store's).
_SMPP = "_smpp_server"

SECTIONS: list[Section] = [_core, _connectors, _delivery, _smpp_server, _process]


def _connector(s: ConnectorStatus, viewer: Viewer, owner: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "name": s.name,
        "kind": s.kind,
        "state": s.state,
        "up_since": stamp(s.since),
    }
    if viewer is Viewer.OPERATOR:
        shown |= {
            "in_flight": s.in_flight,
            "queued": s.queued,
            "tps": round(s.tps, 1),
            "submitted": s.submitted,
            "last_error": s.last_error,
            "owner": owner,
        }
    return shown


async def viewer(request: Request, gw: Gateway) -> Viewer:
    """Who asks: no credentials is anonymous; wrong ones are a ``401``, never a silent
    downgrade (a monitor with a stale token must notice)."""
    header = request.headers.get("authorization")
    if header is None:
        return Viewer.ANONYMOUS
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        token = gw.settings.operator_token
        if token and hmac.compare_digest(value.strip().encode(), token.encode()):
            return Viewer.OPERATOR
        # A guess at the token is a failed sign-in of the address, as a wrong secret is.
        guard: Guard = request.app.state.guard
        guard.refused(request.client.host if request.client is not None else "")
        raise AuthenticationFailed("operator token not valid")
    try:
        await current_account(request)
    except (AuthenticationFailed, RateLimited):
        raise
    except Exception:  # noqa: BLE001 - the store cannot check them: health still answers
        return Viewer.ANONYMOUS
    return Viewer.ACCOUNT


async def answer(gw: Gateway, who: Viewer) -> tuple[dict[str, Any], int]:
    """The health body for ``who`` and its HTTP status (``503`` when the store is down)."""
    store_ok = await gw.store_ok()
    body: dict[str, Any] = {"status": "ok" if store_ok else "degraded"}
    if who is not Viewer.ANONYMOUS:
        if store_ok:
            try:
                body[_PEERS] = await gw.peer_connectors()
            except Exception:  # noqa: BLE001 - a health probe reports, it never raises
                body[_PEERS] = []
        if who is Viewer.OPERATOR:
            try:
                body[_SMPP] = await gw.smpp_report()
            except Exception:  # noqa: BLE001 - the store is gone: this process's, if any
                report = gw.reports.get("smpp_server")
                body[_SMPP] = report() if report is not None else None
        for section in SECTIONS:
            section(gw, who, store_ok, body)
        body.pop(_PEERS, None)
        body.pop(_SMPP, None)
    return body, 200 if store_ok else 503


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The store is unreachable"}},
    summary="Liveness; details for an account or the operator",
)
async def health(request: Request, gateway: Gw) -> Response:
    """`{"status": "ok"}` to anyone (`503`, `degraded` when the store is down). With HTTP
    Basic credentials also the version, store and connector states; with
    `Authorization: Bearer <CENTAURO_OPERATOR_TOKEN>` every figure and bind error."""
    body, status = await answer(gateway, await viewer(request, gateway))
    return json_response(body, status=status)
