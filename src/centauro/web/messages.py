"""Message search (by number, account, status and local dates, newest first, paged by
cursor), one message's detail, and the search as CSV. Operators search every account;
a customer's searches are always scoped to the session's own account."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from centauro.domain import numbers
from centauro.domain.errors import InvalidNumber, NotFound
from centauro.domain.models import Account, Message
from centauro.domain.states import MessageState
from centauro.service import accounts, reports
from centauro.service import messages as service
from centauro.web import format as fmt
from centauro.web import forms
from centauro.web.render import page
from centauro.web.session import Visitor, gateway, require

PAGE = 50
CSV_MAX_ROWS = 100_000
CSV_CHUNK = 1000
STATES = [s.value for s in MessageState]


@dataclass(frozen=True, slots=True)
class Search:
    account_id: int | None
    recipient: str | None
    status: str | None
    since: datetime | None
    until: datetime | None
    zone: str


async def _search(request: Request, v: Visitor) -> Search:
    """The filters of the query string; :class:`forms.FormError` for a bad one."""
    q = request.query_params
    gw = gateway(request)
    scope: Account | None = None  # the customer's own account, or the one asked for
    if v.user.account_id is not None:
        account_id = v.user.account_id
        scope = await gw.read(lambda c: reports.account_by_id(c, account_id))
    else:
        client_id = forms.text(q, "cuenta", limit=64)
        if client_id:
            try:
                scope = await gw.read(lambda c: accounts.get(c, client_id))
            except NotFound:
                raise forms.FormError("No hay ninguna cuenta con ese client_id.") from None
    zone_name = scope.timezone if scope else gw.settings.panel_timezone
    status = forms.text(q, "estado", limit=16) or None
    if status is not None and status not in STATES:
        raise forms.FormError("Elija un estado de la lista.")
    since, until = forms.day_range(q, fmt.zone(zone_name))
    return Search(
        account_id=scope.id if scope else None,
        recipient=_number(q, scope.country if scope else "VE"),
        status=status,
        since=since,
        until=until,
        zone=zone_name,
    )


def _number(q: QueryParams, country: str) -> str | None:
    raw = forms.text(q, "numero", limit=40)
    if not raw:
        return None
    try:
        return numbers.normalize(raw, numbers.parse_country(country)).e164
    except InvalidNumber:
        raise forms.FormError("Número: escriba un celular de Venezuela o Colombia.") from None


def _cursor(q: QueryParams) -> int | None:
    raw = forms.text(q, "antes", limit=20)
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


async def _find(request: Request, s: Search, before: int | None, limit: int) -> list[Message]:
    return await gateway(request).read(
        lambda c: service.find(
            c,
            account_id=s.account_id,
            status=s.status,
            recipient=s.recipient,
            since=s.since,
            until=s.until,
            before_id=before,
            limit=limit,
        )
    )


async def search_page(request: Request) -> Response:
    v = await require(request)
    q = request.query_params
    filters = {
        k: forms.text(q, k, limit=64) for k in ("numero", "cuenta", "estado", "desde", "hasta")
    }
    try:
        s = await _search(request, v)
    except forms.FormError as exc:
        return page(
            request,
            "messages.html",
            status=422,
            visitor=v,
            error=str(exc),
            rows=[],
            filters=filters,
            states=STATES,
            next_url=None,
            csv_url=None,
            zone="",
        )
    rows = await _find(request, s, _cursor(q), PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    query = {k: v2 for k, v2 in filters.items() if v2}
    next_url = "?" + urlencode({**query, "antes": rows[-1].id}) if more and rows else None
    return page(
        request,
        "messages.html",
        visitor=v,
        rows=rows,
        filters=filters,
        states=STATES,
        next_url=next_url,
        csv_url="/panel/messages.csv?" + urlencode(query),
        zone=s.zone,
    )


async def detail_page(request: Request) -> Response:
    v = await require(request)
    raw = request.path_params["message_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound
    message_id = int(raw)
    gw = gateway(request)
    message = await gw.read(lambda c: service.get(c, message_id, account_id=v.user.account_id))
    parts = await gw.read(lambda c: reports.message_parts(c, message_id))
    owner = await gw.read(lambda c: reports.account_by_id(c, message.account_id))
    return page(
        request,
        "message.html",
        visitor=v,
        m=message,
        parts=parts,
        owner=owner,
        zone=owner.timezone,
    )


CSV_COLUMNS = [
    "id",
    "cuenta",
    "numero",
    "estado",
    "segmentos",
    "costo",
    "conector",
    "id_operadora",
    "error",
    "creado",
    "enviado",
    "finalizado",
    "referencia",
    "texto",
]


async def csv_download(request: Request) -> Response:
    v = await require(request)
    try:
        s = await _search(request, v)
    except forms.FormError as exc:
        return page(
            request,
            "messages.html",
            status=422,
            visitor=v,
            error=str(exc),
            rows=[],
            filters={},
            states=STATES,
            next_url=None,
            csv_url=None,
            zone="",
        )

    async def rows() -> AsyncIterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        before, sent = None, 0
        while sent < CSV_MAX_ROWS:
            chunk = await _find(request, s, before, CSV_CHUNK)
            for m in chunk:
                writer.writerow(_csv_row(m, s.zone))
            sent += len(chunk)
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if len(chunk) < CSV_CHUNK:
                break
            before = chunk[-1].id

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="mensajes.csv"'},
    )


def _csv_row(m: Message, zone: str) -> list[str | int]:
    def when(value: datetime | None) -> str:
        return value.astimezone(fmt.zone(zone)).isoformat(timespec="seconds") if value else ""

    text = m.text
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text  # a spreadsheet must not run a "formula" someone texted
    return [
        m.id,
        m.account_id,
        m.recipient,
        m.status.value,
        m.segments,
        m.cost,
        m.connector or "",
        m.carrier_id or "",
        m.error or "",
        when(m.created_at),
        when(m.sent_at),
        when(m.done_at),
        m.reference,
        text,
    ]


routes = [
    Route("/messages", search_page, methods=["GET"]),
    Route("/messages.csv", csv_download, methods=["GET"]),
    Route("/messages/{message_id}", detail_page, methods=["GET"]),
]
