"""Webhooks in the panel: a customer's own (list, add with the secret shown once, test,
remove, each one's delivery log) and the operator's log of every account's deliveries.

The same calls as ``/v1/webhooks`` (``service/webhooks.py``): the URL is checked the same
way (a private address is refused unless ``CENTAURO_WEBHOOK_ALLOW_PRIVATE``), the DNS
look-up on a worker thread; another account's webhook id is a 404 page.
"""

from __future__ import annotations

import functools

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from centauro.domain.errors import Conflict, InvalidRequest, NotFound
from centauro.domain.ids import parse_id
from centauro.service import webhooks as service
from centauro.service.sealing import Sealer
from centauro.web import forms
from centauro.web.render import page, redirect
from centauro.web.session import form, gateway, now, path_text, require
from centauro.web.texts import NOT_FOUND

PAGE = 50
EVENTS = ("message.status", "message.inbound")
STATUSES = ("pending", "delivered", "failed")


def _id(request: Request) -> int:
    value = parse_id(path_text(request, "webhook_id"))
    if value is None:
        raise NotFound(NOT_FOUND)
    return value


def _cursor(request: Request) -> int | None:
    return parse_id(forms.text(request.query_params, "antes", limit=20))


async def webhooks_page(request: Request, *, status: int = 200, **extra: object) -> Response:
    v = await require(request, operator=False)
    account_id = v.user.account_id
    assert account_id is not None
    hooks = await gateway(request).read(lambda c: service.listing(c, account_id))
    extra.setdefault("url", "")
    return page(
        request, "webhooks.html", status=status, visitor=v, hooks=hooks, events=EVENTS, **extra
    )


def _url_problem(exc: InvalidRequest) -> str:
    text = str(exc)
    if "private" in text or "loopback" in text or "local" in text:
        return "La dirección es privada o local: el gateway no envía webhooks a su red interna."
    return "Escriba una dirección http:// o https:// válida (sin espacios)."


async def add(request: Request) -> Response:
    v = await require(request, operator=False)
    data = await form(request, "s:" + v.token)
    account_id = v.user.account_id
    assert account_id is not None
    url = forms.text(data, "url", limit=2000)
    events = [e for e in data.getlist("events") if e in EVENTS] or None
    gw = gateway(request)
    allow = gw.settings.webhook_allow_private
    try:
        checked = service.check_url(url, allow_private=allow)
        await anyio.to_thread.run_sync(
            functools.partial(service.check_resolved, checked, allow_private=allow)
        )
    except InvalidRequest as exc:
        return await webhooks_page(request, status=422, error=_url_problem(exc), url=url)
    at = now()
    sealer = Sealer(gw.settings.secret_key)
    try:
        made = await gw.write(
            lambda c: service.register(
                c, account_id=account_id, url=checked, events=events, now=at,
                allow_private=allow, sealer=sealer,
            )
        )  # fmt: skip
    except Conflict:
        message = f"Una cuenta tiene a lo sumo {service.MAX_WEBHOOKS} webhooks."
        return await webhooks_page(request, status=409, error=message, url=url)
    return page(request, "webhook_once.html", visitor=v, hook=made.webhook, secret=made.secret)


async def remove(request: Request) -> Response:
    v = await require(request, operator=False)
    await form(request, "s:" + v.token)
    account_id, hook = v.user.account_id, _id(request)
    assert account_id is not None
    await gateway(request).write(lambda c: service.remove(c, account_id, hook))
    return redirect("/panel/webhooks")


async def send_test(request: Request) -> Response:
    v = await require(request, operator=False)
    await form(request, "s:" + v.token)
    account_id, hook = v.user.account_id, _id(request)
    assert account_id is not None
    at = now()
    await gateway(request).write(lambda c: service.send_test(c, account_id, hook, at))
    return redirect(f"/panel/webhooks/{hook}")


async def deliveries_page(request: Request) -> Response:
    v = await require(request, operator=False)
    account_id, hook = v.user.account_id, _id(request)
    assert account_id is not None
    before = _cursor(request)
    rows = await gateway(request).read(
        lambda c: service.deliveries(c, account_id, hook, before_id=before, limit=PAGE + 1)
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return page(
        request,
        "webhook_deliveries.html",
        visitor=v,
        hook_id=hook,
        rows=rows,
        next_url=f"?antes={rows[-1].id}" if more else None,
    )


async def operator_log(request: Request) -> Response:
    v = await require(request, operator=True)
    wanted = forms.text(request.query_params, "estado", limit=10)
    status = wanted if wanted in STATUSES else None
    before = _cursor(request)
    rows = await gateway(request).read(
        lambda c: service.recent_deliveries(c, before_id=before, limit=PAGE + 1, status=status)
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    query = f"&estado={status}" if status else ""
    return page(
        request,
        "deliveries.html",
        visitor=v,
        rows=rows,
        wanted=status or "",
        statuses=STATUSES,
        next_url=f"?antes={rows[-1].id}{query}" if more else None,
    )


routes = [
    Route("/webhooks", webhooks_page, methods=["GET"]),
    Route("/webhooks", add, methods=["POST"]),
    Route("/webhooks/{webhook_id}", deliveries_page, methods=["GET"]),
    Route("/webhooks/{webhook_id}/remove", remove, methods=["POST"]),
    Route("/webhooks/{webhook_id}/test", send_test, methods=["POST"]),
    Route("/deliveries", operator_log, methods=["GET"]),
]
