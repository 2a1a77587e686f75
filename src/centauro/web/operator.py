"""The operator's pages: today at a glance, and customer accounts (create, top up,
enable, rotate the secret, limits and quiet hours, sender IDs, invite users)."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from centauro.domain.errors import CentauroError, Conflict, InvalidRequest
from centauro.service import accounts, counts, panel_auth, reports, senders
from centauro.service.sealing import Sealer
from centauro.web import format as fmt
from centauro.web import forms, texts
from centauro.web.chart import days_chart
from centauro.web.render import page, redirect
from centauro.web.session import Visitor, form, gateway, now, path_text, require

log = logging.getLogger(__name__)

MAX_TOPUP = 10**9
ZONES = ("America/Caracas", "America/Bogota")
LEDGER_ROWS = 50
#: Each gateway's chart counts: the past days re-read every few minutes, today every view.
_CHART: WeakKeyDictionary[object, reports.DayCounts] = WeakKeyDictionary()


#: The chart's re-read of the window in flight, per gateway (one at a time).
_READING: WeakKeyDictionary[object, asyncio.Task[None]] = WeakKeyDictionary()
#: How long a view waits for a first read of the window before it shows the chart
#: without the past days (a store of a few thousand messages answers within it; a big
#: one not: the page stays well under 200 ms).
FIRST_WAIT = 0.05


def _read_done(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("dashboard chart read failed: %r", task.exception())


async def _chart_days(
    gw: Any, zone: ZoneInfo, at: datetime, today: counts.Counts
) -> tuple[list[tuple[date, counts.Counts]], bool]:
    """The 30 days of the chart and whether the past ones are still being read. The past
    days are re-read off the request path (a background task, at most every few minutes):
    no view waits for the whole window's range — the view that starts the first read waits
    for it at most ``FIRST_WAIT``; until it is done views show today and a note, after
    that the kept days (at most ``ttl`` old)."""
    chart = _CHART.setdefault(gw, reports.DayCounts())
    if chart.due(now=at, zone=zone):
        task = _READING.get(gw)
        if task is None or task.done():
            task = asyncio.create_task(gw.read(lambda c: chart.refresh(c, now=at, zone=zone)))
            task.add_done_callback(_read_done)
            _READING[gw] = task
            if chart.kept(now=at, zone=zone, today=today) is None:  # only the view that
                await asyncio.wait({task}, timeout=FIRST_WAIT)  # started the read waits
    days = chart.kept(now=at, zone=zone, today=today)
    if days is not None:
        return days, False
    last = at.astimezone(zone).date()
    empty = counts.Counts()
    return [*((last - timedelta(days=n), empty) for n in range(29, 0, -1)), (last, today)], True


async def dashboard(request: Request, v: Visitor) -> Response:
    gw = gateway(request)
    zone = fmt.zone(gw.settings.panel_timezone)
    at = now()
    summary = await gw.read(lambda c: reports.today(c, now=at, zone=zone))
    days, reading = await _chart_days(gw, zone, at, summary.counts)
    return page(
        request,
        "dashboard.html",
        visitor=v,
        today=summary,
        chart=days_chart(days),
        chart_reading=reading,
        connectors=[c.status() for c in gw.connectors],
        delivering=gw.dispatcher is not None,
        zone=zone.key,
    )


async def account_list(request: Request) -> Response:
    v = await require(request, operator=True)
    rows = await gateway(request).read(accounts.list_all)
    return page(request, "accounts.html", visitor=v, accounts=rows)


async def new_account_page(request: Request) -> Response:
    v = await require(request, operator=True)
    return page(request, "account_new.html", visitor=v, name="", credits="0", country="VE")


async def create_account(request: Request) -> Response:
    v = await require(request, operator=True)
    data = await form(request, "s:" + v.token)
    name, country = forms.text(data, "name"), forms.text(data, "country", limit=2)
    again = {"name": name, "credits": forms.text(data, "credits", limit=30), "country": country}
    try:
        if not name:
            raise forms.FormError("Escriba el nombre de la cuenta.")
        if country not in ("VE", "CO"):
            raise forms.FormError("Elija el país: Venezuela o Colombia.")
        credits = forms.integer(data, "credits", "Créditos iniciales", low=0, high=MAX_TOPUP)
    except forms.FormError as exc:
        return page(request, "account_new.html", status=422, visitor=v, error=str(exc), **again)
    at = now()
    gw = gateway(request)
    sealer = Sealer(gw.settings.secret_key)  # its signing key sealed as the API's are
    made = await gw.write(
        lambda c: accounts.create(
            c, name=name, credits=credits, country=country, now=at, sealer=sealer
        )
    )
    return page(
        request,
        "credentials_once.html",
        visitor=v,
        account=made.account,
        client_id=made.client_id,
        secret=made.client_secret,
        headline="Cuenta creada",
    )


async def _account_page(
    request: Request, v: Visitor, client_id: str, *, status: int = 200, **extra: object
) -> Response:
    gw = gateway(request)
    view = await gw.read(lambda c: reports.account_view(c, client_id, ledger_rows=LEDGER_ROWS))
    granted = await gw.read(lambda c: senders.listing(c, accounts.get(c, client_id)))
    return page(
        request,
        "account.html",
        status=status,
        visitor=v,
        view=view,
        zones=ZONES,
        senders=granted,
        sender_kinds=texts.SENDER_KINDS,
        **extra,
    )


async def account_page(request: Request) -> Response:
    v = await require(request, operator=True)
    return await _account_page(request, v, path_text(request, "client_id"))


async def account_action(request: Request) -> Response:
    """One POST per form of the account page; refusals come back on the same page."""
    v = await require(request, operator=True)
    data = await form(request, "s:" + v.token)
    client_id, action = path_text(request, "client_id"), path_text(request, "action")
    handler = _ACTIONS.get(action)
    if handler is None:
        return page(request, "error.html", status=404, message=texts.NOT_FOUND)
    gw = gateway(request)
    await gw.read(lambda c: accounts.get(c, client_id))  # 404 for an unknown account
    try:
        shown = await handler(request, v, client_id, data)
    except forms.FormError as exc:
        return await _account_page(request, v, client_id, status=422, error=str(exc))
    except Conflict:
        return await _account_page(request, v, client_id, status=409, error=texts.EMAIL_TAKEN)
    except InvalidRequest as exc:
        return await _account_page(request, v, client_id, status=422, error=_invalid_text(str(exc)))
    return shown or redirect(f"/panel/accounts/{client_id}")


def _invalid_text(message: str) -> str:
    if "quiet" in message or "HH:MM" in message:
        return "Horario de silencio: use el formato HH:MM-HH:MM (por ejemplo 21:00-08:00)."
    if "below zero" in message:
        return "La corrección dejaría el saldo por debajo de cero."
    if "e-mail" in message:
        return texts.EMAIL_INVALID
    return "Revise los datos del formulario: hay un valor no válido."


async def _topup(request: Request, v: Visitor, client_id: str, data: FormData) -> Response | None:
    amount = forms.integer(data, "amount", "Créditos", low=-MAX_TOPUP, high=MAX_TOPUP)
    if amount == 0:
        raise forms.FormError("Créditos: escriba una cantidad distinta de cero.")
    note = forms.text(data, "note", limit=200) or "recarga"
    at = now()
    await gateway(request).write(
        lambda c: accounts.topup(c, client_id=client_id, amount=amount, now=at, note=note)
    )
    return None


async def _enabled(request: Request, v: Visitor, client_id: str, data: FormData) -> Response | None:
    enabled = forms.text(data, "enabled", limit=5) == "1"
    at = now()
    await gateway(request).write(
        lambda c: accounts.set_enabled(c, client_id=client_id, enabled=enabled, now=at)
    )
    return None


async def _rotate(request: Request, v: Visitor, client_id: str, data: FormData) -> Response | None:
    at = now()
    made = await gateway(request).write(
        lambda c: accounts.rotate_secret(c, client_id=client_id, now=at)
    )
    return page(
        request,
        "credentials_once.html",
        visitor=v,
        account=made.account,
        client_id=made.client_id,
        secret=made.client_secret,
        headline="Secreto renovado: el anterior ya no funciona",
    )


async def _limits(request: Request, v: Visitor, client_id: str, data: FormData) -> Response | None:
    rate = forms.optional_number(data, "rate_limit", "Peticiones por segundo", low=0, high=100_000)
    most = forms.optional_number(
        data, "max_recipients", "Destinatarios por petición", low=1, high=1_000_000
    )
    zone = forms.text(data, "timezone", limit=64)
    if zone not in ZONES:
        raise forms.FormError("Elija una zona horaria de la lista.")
    quiet = forms.text(data, "quiet_hours", limit=11) or None
    at = now()
    await gateway(request).write(
        lambda c: accounts.update(
            c,
            client_id=client_id,
            now=at,
            timezone=zone,
            quiet_hours=quiet,
            rate_limit=rate,
            max_recipients=int(most) if most is not None else None,
        )
    )
    return None


async def _invite(request: Request, v: Visitor, client_id: str, data: FormData) -> Response | None:
    email = forms.text(data, "email", limit=254)
    at = now()
    made = await gateway(request).write(
        lambda c: panel_auth.create_user(
            c, email=email, role=panel_auth.CUSTOMER, client_id=client_id, now=at
        )
    )
    link = f"{request.url.scheme}://{request.url.netloc}{made.path}"
    return await _account_page(request, v, client_id, invited=made.user.email, link=link)


async def _sender(request: Request, v: Visitor, client_id: str, data: FormData) -> Response | None:
    """Grant (``do=add``), withdraw (``remove``) or make default (``default``) a sender ID."""
    do, value = forms.text(data, "do", limit=10), forms.text(data, "value", limit=40)
    if not value:
        raise forms.FormError("Escriba el remitente: código corto, número o nombre.")
    at, default = now(), forms.text(data, "default") == "1"
    try:
        await gateway(request).write(
            lambda c: senders.change(c, client_id, do, value, now=at, default=default)
        )
    except CentauroError as exc:  # the sender rules answer in Spanish (service/senders.py)
        raise forms.FormError(f"Remitente: {exc}") from None
    return None


_ACTIONS = {
    "senders": _sender,
    "topup": _topup,
    "enabled": _enabled,
    "rotate": _rotate,
    "limits": _limits,
    "users": _invite,
}

routes = [
    Route("/accounts", account_list, methods=["GET"]),
    Route("/accounts/new", new_account_page, methods=["GET"]),
    Route("/accounts", create_account, methods=["POST"]),
    Route("/accounts/{client_id}", account_page, methods=["GET"]),
    Route("/accounts/{client_id}/{action}", account_action, methods=["POST"]),
]
