"""Inbound messages and opt-outs in the panel, for both roles.

A customer sees the inbound messages of its own numbers (those the gateway matched to
the account) and keeps its own opt-out list; the operator sees every inbound message and
picks an account (``?cuenta=CLIENT_ID``) to read or edit its opt-outs. Through
``service/inbound.py`` and ``service/suppressions.py``, as the APIs and the CLI.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from centauro.domain import numbers
from centauro.domain.errors import InvalidNumber, InvalidRequest, NotFound
from centauro.domain.ids import parse_id
from centauro.domain.models import Account
from centauro.service import accounts, inbound, reports, suppressions
from centauro.web import forms
from centauro.web.render import page, redirect
from centauro.web.session import Visitor, form, gateway, now, require

PAGE = 50


async def _account_of(request: Request, v: Visitor, client_id: str) -> Account | None:
    """The customer's own account, or for the operator the one named (None: none named)."""
    gw = gateway(request)
    if not v.user.is_operator:
        account_id = v.user.account_id
        assert account_id is not None
        return await gw.read(lambda c: reports.account_by_id(c, account_id))
    if not client_id:
        return None
    return await gw.read(lambda c: accounts.get(c, client_id))


async def inbound_page(request: Request) -> Response:
    v = await require(request)
    q = request.query_params
    gw = gateway(request)
    client_id = forms.text(q, "cuenta", limit=64) if v.user.is_operator else ""
    account = await _account_of(request, v, client_id)
    error = None
    sender = None
    raw = forms.text(q, "numero", limit=40)
    if raw:
        country = account.country if account else "VE"
        try:
            sender = numbers.normalize(raw, numbers.parse_country(country)).e164
        except InvalidNumber:
            error = "Número: escriba un celular de Venezuela o Colombia."
    before = parse_id(forms.text(q, "antes", limit=20))
    account_id = account.id if account else None
    rows = []
    if error is None:
        rows = await gw.read(
            lambda c: inbound.listing(
                c, sender=sender, account_id=account_id, before_id=before, limit=PAGE + 1
            )
        )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    keep = "".join(f"&{k}={val}" for k, val in (("cuenta", client_id), ("numero", raw)) if val)
    return page(
        request,
        "inbound.html",
        status=422 if error else 200,
        visitor=v,
        rows=rows,
        error=error,
        numero=raw,
        cuenta=client_id,
        zone=account.timezone if account else None,
        next_url=f"?antes={rows[-1].id}{keep}" if more else None,
    )


async def _optouts(
    request: Request, v: Visitor, client_id: str, *, status: int = 200, **extra: object
) -> Response:
    account = await _account_of(request, v, client_id)
    cursor = forms.text(request.query_params, "desde", limit=100) or None
    found = None
    if account is not None:
        try:
            found = await gateway(request).read(
                lambda c: suppressions.page(c, account, limit=PAGE, cursor=cursor)
            )
        except InvalidRequest:
            found = await gateway(request).read(lambda c: suppressions.page(c, account, limit=PAGE))
    listing = await gateway(request).read(accounts.list_all) if v.user.is_operator else []
    return page(
        request,
        "optouts.html",
        status=status,
        visitor=v,
        account=account,
        found=found,
        cuenta=client_id,
        accounts=listing,
        **extra,
    )


async def optouts_page(request: Request) -> Response:
    v = await require(request)
    client_id = forms.text(request.query_params, "cuenta", limit=64) if v.user.is_operator else ""
    return await _optouts(request, v, client_id)


async def optout_change(request: Request) -> Response:
    """Add (``/optouts``) or lift (``/optouts/remove``) one number of the account."""
    v = await require(request)
    data = await form(request, "s:" + v.token)
    client_id = forms.text(data, "cuenta", limit=64) if v.user.is_operator else ""
    account = await _account_of(request, v, client_id)
    if account is None:
        raise NotFound("no account chosen")
    number = forms.text(data, "number", limit=40)
    removing = request.url.path.endswith("/remove")
    at = now()
    try:
        if removing:
            await gateway(request).write(lambda c: suppressions.remove(c, account, number))
        else:
            await gateway(request).write(
                lambda c: suppressions.add(c, account, number, source="panel", now=at)
            )
    except InvalidNumber:
        message = "Número: escriba un celular de Venezuela o Colombia."
        return await _optouts(request, v, client_id, status=422, error=message)
    except NotFound:
        message = "Ese número no estaba dado de baja."
        return await _optouts(request, v, client_id, status=404, error=message)
    back = f"/panel/optouts?cuenta={client_id}" if client_id else "/panel/optouts"
    return redirect(back)


routes = [
    Route("/inbound", inbound_page, methods=["GET"]),
    Route("/optouts", optouts_page, methods=["GET"]),
    Route("/optouts", optout_change, methods=["POST"]),
    Route("/optouts/remove", optout_change, methods=["POST"]),
]
