"""Who is asking: the signed session cookie, CSRF tokens, and the role checks.

The session cookie is ``<token>.<hmac>``; a cookie whose signature does not match is
ignored (and cleared) before the store is asked anything. The CSRF token of a form is
an HMAC of the session token, or of a random pre-session cookie on the sign-in and
set-password pages, so a page of another site can neither read nor forge it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from centauro.runtime import Gateway
from centauro.service import panel_auth
from centauro.service.panel_auth import PanelUser

SESSION_COOKIE = "centauro_panel"
CSRF_COOKIE = "centauro_panel_csrf"
MAX_FORM_FIELDS = 50


class NotSignedIn(Exception):
    """No live session: the page sends the visitor to sign in."""


class Forbidden(Exception):
    """A signed-in user asked for a page of the other role."""


class BadCsrf(Exception):
    """A form without a valid CSRF token."""


@dataclass(frozen=True, slots=True)
class Visitor:
    """The signed-in user of this request and the values its forms need."""

    user: PanelUser
    token: str  #: the session token (the cookie's value without its signature)
    csrf: str


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


def now() -> datetime:
    return datetime.now(UTC)


async def signing_key(request: Request) -> bytes:
    """The server-wide cookie key, read (or made) once per process."""
    state = request.app.state
    key: bytes | None = getattr(state, "signing_key", None)
    if key is None:
        key = await gateway(request).write(panel_auth.signing_key)
        state.signing_key = key
    return key


async def visitor(request: Request) -> Visitor | None:
    """The signed-in user, or None (no cookie, a tampered one, revoked or expired)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    key = await signing_key(request)
    token = panel_auth.unsign(key, raw)
    if token is None:
        return None
    at = now()
    user = await gateway(request).read(lambda c: panel_auth.session_user(c, token, at))
    if user is None:
        return None
    return Visitor(user, token, panel_auth.csrf_token(key, "s:" + token))


async def require(request: Request, *, operator: bool | None = None) -> Visitor:
    """The visitor, or :class:`NotSignedIn`; ``operator`` True/False also checks the role."""
    v = await visitor(request)
    if v is None:
        raise NotSignedIn
    if operator is not None and v.user.is_operator is not operator:
        raise Forbidden
    return v


async def form(request: Request, seed: str, *, max_fields: int = MAX_FORM_FIELDS) -> FormData:
    """The posted form, after checking its CSRF token against ``seed``.

    NUL characters are dropped from every value: no field means anything with one, and
    PostgreSQL refuses them in text (an error, not an answer, if they reached a query).
    """
    data = await request.form(max_files=0, max_fields=max_fields)
    key = await signing_key(request)
    given = str(data.get("csrf") or "")
    if not seed or not secrets.compare_digest(given, panel_auth.csrf_token(key, seed)):
        raise BadCsrf
    return FormData(
        [(k, v.replace("\x00", "")) for k, v in data.multi_items() if isinstance(v, str)]
    )


def path_text(request: Request, name: str) -> str:
    """A path parameter without NUL characters (see :func:`form`)."""
    return str(request.path_params[name]).replace("\x00", "")


def anonymous_seed(request: Request) -> tuple[str, bool]:
    """The pre-session CSRF seed, and whether the cookie must be set (it was missing)."""
    value = request.cookies.get(CSRF_COOKIE, "")
    if len(value) == 43 and value.replace("-", "").replace("_", "").isalnum():
        return "a:" + value, False
    return "a:" + secrets.token_urlsafe(32), True


def set_anonymous_cookie(request: Request, response: Response, seed: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        seed.removeprefix("a:"),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/panel",
    )


def set_session_cookie(request: Request, response: Response, key: bytes, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        panel_auth.sign(key, token),
        max_age=int(panel_auth.SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/panel",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/panel", httponly=True, samesite="strict")
