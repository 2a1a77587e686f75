"""Informes: a period's messages per day, per account and per connector, a chart of the
days, and each table as CSV (service/summaries.py: closed hours from the summary, the
rest live from the index).

An operator sees every account, in the panel's zone. A customer sees its own account
only, in the account's zone, and only per day: which connectors carried its messages is
the operator's business, and an account table of one row says nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from centauro.domain import csvfile
from centauro.service import counts, reports, summaries
from centauro.web import format as fmt
from centauro.web import forms
from centauro.web.chart import days_chart
from centauro.web.render import page
from centauro.web.session import Forbidden, Visitor, gateway, now, require

DEFAULT_DAYS = 30
BY = ("day", "account", "connector")
NO_CONNECTOR = "(sin conector)"


@dataclass(frozen=True, slots=True)
class Ask:
    """What the visitor asked for: the period, in which zone, for which account."""

    period: summaries.Period
    zone: ZoneInfo
    account_id: int | None
    today: date


async def _ask(request: Request, v: Visitor) -> Ask:
    """The period of the query string (default: the last 30 days, today included);
    :class:`forms.FormError` for a bad one."""
    gw = gateway(request)
    account_id = v.user.account_id
    if account_id is not None:
        account = await gw.read(lambda c: reports.account_by_id(c, account_id))
        zone = fmt.zone(account.timezone)
    else:
        zone = fmt.zone(gw.settings.panel_timezone)
    today = now().astimezone(zone).date()
    since, until = forms.day_range(request.query_params, zone)
    last = until.date() - timedelta(days=1) if until else today
    first = since.date() if since else last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise forms.FormError("La fecha «hasta» es anterior a «desde».")
    if (last - first).days >= summaries.MAX_DAYS:
        raise forms.FormError(f"Elija un periodo de {summaries.MAX_DAYS} días como máximo.")
    return Ask(summaries.period(first, last, zone), zone, account_id, today)


def _presets(today: date) -> list[tuple[str, date, date]]:
    return [
        ("Hoy", today, today),
        ("7 días", today - timedelta(days=6), today),
        ("30 días", today - timedelta(days=29), today),
        ("Este mes", today.replace(day=1), today),
    ]


async def reports_page(request: Request) -> Response:
    v = await require(request)
    q = request.query_params
    asked = {k: forms.text(q, k, limit=10) for k in ("desde", "hasta")}
    try:
        ask = await _ask(request, v)
    except forms.FormError as exc:
        return page(request, "reports.html", status=422, visitor=v, error=str(exc), asked=asked)
    report = await gateway(request).read(
        lambda c: summaries.report(
            c, ask.period, ask.zone, account_id=ask.account_id, only_days=not v.user.is_operator
        )
    )
    p = ask.period
    span = {"desde": p.first.isoformat(), "hasta": p.last.isoformat()}
    return page(
        request,
        "reports.html",
        visitor=v,
        asked=span,
        report=report,
        chart=days_chart(report.days, f"Mensajes por día, {p.first:%d/%m/%Y} a {p.last:%d/%m/%Y}"),
        presets=[(name, urlencode({"desde": a, "hasta": b})) for name, a, b in _presets(ask.today)],
        csv={by: "/panel/reports.csv?" + urlencode({"by": by, **span}) for by in BY},
        search=urlencode(span),
        no_connector=NO_CONNECTOR,
        zone=ask.zone.key,
    )


def _numbers(c: counts.Counts) -> list[str]:
    rate = c.delivery_rate
    return [
        str(c.accepted),
        str(c.delivered),
        str(c.failed),
        str(c.pending),
        "" if rate is None else f"{rate:.4f}",
        str(c.credits),
    ]


COLUMNS = ["aceptados", "entregados", "fallidos", "pendientes", "tasa_entrega", "creditos"]


async def csv_download(request: Request) -> Response:
    v = await require(request)
    by = forms.text(request.query_params, "by", limit=16) or "day"
    try:
        if by not in BY:
            raise forms.FormError("Informe: «by» debe ser day, account o connector.")
        ask = await _ask(request, v)
    except forms.FormError as exc:
        asked = {k: forms.text(request.query_params, k, limit=10) for k in ("desde", "hasta")}
        return page(request, "reports.html", status=422, visitor=v, error=str(exc), asked=asked)
    if by != "day" and not v.user.is_operator:
        raise Forbidden
    report = await gateway(request).read(
        lambda c: summaries.report(
            c, ask.period, ask.zone, account_id=ask.account_id, only_days=by == "day"
        )
    )
    if by == "day":
        header = ["dia", *COLUMNS]
        rows = [[d.isoformat(), *_numbers(c)] for d, c in report.days]
    elif by == "account":
        header = ["cuenta", "nombre", *COLUMNS]
        rows = [[a.client_id, a.name, *_numbers(a.counts)] for a in report.accounts]
    else:
        header = ["conector", *COLUMNS]
        rows = [[name, *_numbers(c)] for name, c in report.connectors]
    p = ask.period
    name = f"informe-{by}-{p.first.isoformat()}-{p.last.isoformat()}.csv"
    return Response(
        csvfile.write(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


routes = [
    Route("/reports", reports_page, methods=["GET"]),
    Route("/reports.csv", csv_download, methods=["GET"]),
]
