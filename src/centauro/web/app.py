"""The panel's ASGI app, mounted by ``api/app.py`` at ``/panel``.

Every refusal is a page in Spanish: not signed in → the sign-in page; the other role's
page → 403; a form without its CSRF token → 403; anything unexpected → a 500 page
without a traceback (the log has it).
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from centauro.domain.errors import CentauroError, NotFound
from centauro.runtime import Gateway
from centauro.web import (
    auth,
    campaigns,
    carriers,
    contacts,
    customer,
    hooks,
    live,
    messages,
    operator,
    records,
    reports,
    texts,
)
from centauro.web.headers import SecurityHeaders
from centauro.web.render import page, redirect
from centauro.web.session import BadCsrf, Forbidden, NotSignedIn, require

log = logging.getLogger(__name__)


async def home(request: Request) -> Response:
    v = await require(request)
    if v.user.is_operator:
        return await operator.dashboard(request, v)
    return await customer.overview(request, v)


async def _not_signed_in(request: Request, _exc: Exception) -> Response:
    return redirect("/panel/sign-in")


async def _forbidden(request: Request, _exc: Exception) -> Response:
    return page(request, "error.html", status=403, message=texts.FORBIDDEN)


async def _bad_csrf(request: Request, _exc: Exception) -> Response:
    return page(request, "error.html", status=403, message=texts.BAD_CSRF)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = {404: texts.NOT_FOUND, 405: texts.NOT_FOUND, 400: texts.BAD_CSRF}.get(status)
    return page(request, "error.html", status=status, message=message or texts.SERVER_ERROR)


async def _refused(request: Request, exc: Exception) -> Response:
    """A refusal of the service that no page caught: a Spanish page, never a 500."""
    assert isinstance(exc, CentauroError)
    status = 404 if isinstance(exc, NotFound) else 422
    message = texts.NOT_FOUND if status == 404 else texts.error_text(exc)
    return page(request, "error.html", status=status, message=message)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("panel_error", exc_info=exc, extra={"action": "panel_error"})
    return page(request, "error.html", status=500, message=texts.SERVER_ERROR)


def create_panel(gateway: Gateway) -> ASGIApp:
    """The panel for ``gateway``: pages, static files, and the security headers."""
    static = StaticFiles(directory=Path(__file__).parent / "static")
    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            *auth.routes,
            *operator.routes,
            *carriers.routes,
            *messages.routes,
            *customer.routes,
            *contacts.routes,
            *hooks.routes,
            *records.routes,
            *live.routes,
            *campaigns.routes,
            *reports.routes,
            Mount("/static", static, name="static"),
        ],
        exception_handlers={
            NotSignedIn: _not_signed_in,
            Forbidden: _forbidden,
            BadCsrf: _bad_csrf,
            CentauroError: _refused,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.gateway = gateway
    return SecurityHeaders(app)
