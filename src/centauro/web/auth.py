"""Sign in, sign out, set a password from a one-time link, change one's password."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from centauro.domain.errors import InvalidRequest, NotFound
from centauro.service import panel_auth
from centauro.web import format as fmt
from centauro.web import texts
from centauro.web.render import page, redirect
from centauro.web.session import (
    anonymous_seed,
    clear_session_cookie,
    form,
    gateway,
    now,
    path_text,
    require,
    set_anonymous_cookie,
    set_session_cookie,
    signing_key,
    visitor,
)

MAX_EMAIL = 254


async def _anonymous_page(
    request: Request, name: str, *, status: int = 200, **context: object
) -> Response:
    """A page for visitors without a session; its forms carry a pre-session CSRF token."""
    seed, fresh = anonymous_seed(request)
    key = await signing_key(request)
    response = page(request, name, status=status, csrf=panel_auth.csrf_token(key, seed), **context)
    if fresh:
        set_anonymous_cookie(request, response, seed)
    return response


async def sign_in_page(request: Request) -> Response:
    if await visitor(request) is not None:
        return redirect("/panel/")
    return await _anonymous_page(request, "sign_in.html", email="")


async def sign_in(request: Request) -> Response:
    seed, _ = anonymous_seed(request)
    data = await form(request, seed)
    email = str(data.get("email") or "")[:MAX_EMAIL]
    password = str(data.get("password") or "")[: panel_auth.MAX_PASSWORD + 1]
    ip = request.client.host if request.client else "unknown"
    gw = gateway(request)
    at = now()
    try:
        attempt = await gw.read(lambda c: panel_auth.prepare_sign_in(c, email=email, ip=ip, now=at))
    except panel_auth.LockedOut as exc:
        until = fmt.local(exc.until, None)
        return await _anonymous_page(
            request,
            "sign_in.html",
            status=429,
            email=email,
            error=texts.LOCKED.format(until=until),
        )
    ok = await anyio.to_thread.run_sync(panel_auth.verify_password, attempt.password_hash, password)
    token = await gw.write(lambda c: panel_auth.finish_sign_in(c, attempt, ok=ok, now=at))
    if token is None:
        return await _anonymous_page(
            request, "sign_in.html", status=401, email=email, error=texts.SIGN_IN_FAILED
        )
    response = redirect("/panel/")
    set_session_cookie(request, response, await signing_key(request), token)
    return response


async def sign_out(request: Request) -> Response:
    v = await require(request)
    await form(request, "s:" + v.token)
    at = now()
    await gateway(request).write(lambda c: panel_auth.sign_out(c, v.token, at))
    response = redirect("/panel/sign-in")
    clear_session_cookie(response)
    return response


async def set_password_page(request: Request) -> Response:
    token = path_text(request, "token")
    at = now()
    live = await gateway(request).read(lambda c: panel_auth.link_is_live(c, token, at))
    if not live:
        return await _anonymous_page(
            request, "set_password.html", status=404, dead=True, error=texts.LINK_DEAD
        )
    return await _anonymous_page(request, "set_password.html", dead=False)


async def set_password(request: Request) -> Response:
    token = path_text(request, "token")
    seed, _ = anonymous_seed(request)
    data = await form(request, seed)
    password = str(data.get("password") or "")
    error = _password_problem(password, str(data.get("confirm") or ""))
    if error is not None:
        return await _anonymous_page(
            request, "set_password.html", status=422, dead=False, error=error
        )
    hashed = await anyio.to_thread.run_sync(panel_auth.hash_password, password)
    at = now()
    try:
        await gateway(request).write(
            lambda c: panel_auth.set_password_with_link(c, token, hashed, at)
        )
    except NotFound:
        return await _anonymous_page(
            request, "set_password.html", status=404, dead=True, error=texts.LINK_DEAD
        )
    return await _anonymous_page(request, "sign_in.html", email="", notice=texts.PASSWORD_SET)


def _password_problem(password: str, confirm: str) -> str | None:
    try:
        panel_auth.check_password_rules(password)
    except InvalidRequest:
        return texts.PASSWORD_RULES
    return texts.PASSWORDS_DIFFER if password != confirm else None


async def password_page(request: Request) -> Response:
    v = await require(request)
    return page(request, "password.html", visitor=v)


async def change_password(request: Request) -> Response:
    v = await require(request)
    data = await form(request, "s:" + v.token)
    new = str(data.get("password") or "")
    error = _password_problem(new, str(data.get("confirm") or ""))
    gw = gateway(request)
    if error is None:
        current_hash = await gw.read(lambda c: panel_auth.password_hash_of(c, v.user.id))
        ok = await anyio.to_thread.run_sync(
            panel_auth.verify_password, current_hash, str(data.get("current") or "")
        )
        error = None if ok else texts.CURRENT_PASSWORD_WRONG
    if error is not None:
        return page(request, "password.html", status=422, visitor=v, error=error)
    hashed = await anyio.to_thread.run_sync(panel_auth.hash_password, new)
    at = now()
    await gw.write(lambda c: panel_auth.replace_password(c, v.user.id, hashed, at))
    response = await _anonymous_page(
        request, "sign_in.html", email=v.user.email, notice=texts.PASSWORD_CHANGED
    )
    clear_session_cookie(response)
    return response


routes = [
    Route("/sign-in", sign_in_page, methods=["GET"]),
    Route("/sign-in", sign_in, methods=["POST"]),
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/set-password/{token}", set_password_page, methods=["GET"]),
    Route("/set-password/{token}", set_password, methods=["POST"]),
    Route("/password", password_page, methods=["GET"]),
    Route("/password", change_password, methods=["POST"]),
]
