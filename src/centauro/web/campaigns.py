"""Campaign pages: list, the wizard (upload → columns and template → preview → confirm),
and a campaign's page with its live progress, pause / resume / cancel and its report.

Customers see and act on their own account's campaigns only (no URL takes an account);
operators see every campaign, read-only. The progress bar polls
``/panel/campaigns/{id}/progress`` (JSON) from ``static/campaign.js`` (CSP: no inline JS).
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import anyio.to_thread
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from centauro.domain.errors import (
    CentauroError,
    Conflict,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
)
from centauro.domain.ids import parse_id
from centauro.domain.models import Account
from centauro.service import campaigns as service
from centauro.service import contacts, panel_auth, reports
from centauro.service.campaign_files import TooManyRows
from centauro.web import format as fmt
from centauro.web import forms, texts
from centauro.web.render import page, redirect
from centauro.web.session import BadCsrf, Visitor, form, gateway, now, require, signing_key

#: An upload bigger than this is refused before it is parsed (the app's body limit is
#: the other bound).
MAX_UPLOAD = 64 * 1024 * 1024
TEMPLATE_MAX = 5000


def _id(request: Request) -> int:
    found = parse_id(str(request.path_params["campaign_id"]))
    if found is None:
        raise NotFound("no campaign")
    return found


async def _account(request: Request, v: Visitor) -> Account | None:
    if v.user.account_id is None:
        return None
    account_id = v.user.account_id
    return await gateway(request).read(lambda c: reports.account_by_id(c, account_id))


def _scope(v: Visitor) -> int | None:
    """Whose campaigns the visitor sees: a customer their own account's, an operator all."""
    return v.user.account_id


async def list_page(request: Request) -> Response:
    v = await require(request)
    at = now()
    scope = _scope(v)

    def read(conn: Any) -> list[service.Progress]:
        return [service.progress(conn, c, at) for c in service.find(conn, account_id=scope)]

    rows = await gateway(request).read(read)
    return page(request, "campaigns.html", visitor=v, rows=rows, names=service.STATE_NAMES)


async def _new(request: Request, v: Visitor, *, status: int = 200, **extra: object) -> Response:
    """The wizard's first step: a file to upload, or one of the account's contact lists."""
    account = await _account(request, v)
    assert account is not None
    found = await gateway(request).read(lambda c: contacts.lists(c, account))
    context: dict[str, Any] = {"name": "", "list_name": "", "list_id": None, **extra}
    return page(request, "campaign_new.html", status=status, visitor=v, lists=found, **context)


async def new_page(request: Request) -> Response:
    v = await require(request, operator=False)
    return await _new(request, v)


async def from_list(request: Request) -> Response:
    """``Desde una lista de contactos``: keep a snapshot of the list as a draft, then the
    same columns-and-template step as an upload (numero / nombre already chosen)."""
    v = await require(request, operator=False)
    data = await form(request, "s:" + v.token)
    account = await _account(request, v)
    assert account is not None
    name = forms.text(data, "list_name", limit=201)
    list_id = parse_id(forms.text(data, "list_id"))

    def again(error: str, status: int = 422) -> Awaitable[Response]:
        return _new(request, v, status=status, list_name=name, list_id=list_id, error=error)

    if not name:
        return await again("Escriba un nombre para la campaña.")
    if list_id is None:
        return await again("Elija una de sus listas de contactos.")
    gw = gateway(request)
    try:
        table, source_name = await gw.read(lambda c: service.list_table(c, account.id, list_id))
        at = now()
        draft = await gw.write(
            lambda c: service.save_upload(
                c, account=account, name=name, table=table, data=None,
                filename=source_name, now=at,
            )
        )  # fmt: skip
    except NotFound as exc:
        return await again(str(exc), 404)
    except CentauroError as exc:
        return await again(str(exc), 413 if isinstance(exc, TooManyRows) else 422)
    return redirect(f"/panel/campaigns/{draft.id}/setup")


async def upload(request: Request) -> Response:
    v = await require(request, operator=False)
    account = await _account(request, v)
    assert account is not None
    data = await request.form(max_files=1, max_fields=10)
    key = await signing_key(request)
    given = str(data.get("csrf") or "")
    if not secrets.compare_digest(given, panel_auth.csrf_token(key, "s:" + v.token)):
        raise BadCsrf
    name = str(data.get("name") or "").replace("\x00", "").strip()[:201]
    file = data.get("file")

    def again(error: str, status: int = 422) -> Awaitable[Response]:
        return _new(request, v, status=status, name=name, error=error)

    if not name:
        return await again("Escriba un nombre para la campaña.")
    if not isinstance(file, UploadFile) or not file.filename:
        return await again("Elija el archivo CSV o XLSX con los destinatarios.")
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        return await again("El archivo pasa de 64 MB. Divídalo en varias campañas.", 413)
    try:
        table = await anyio.to_thread.run_sync(service.read_file, content, file.filename)
        at = now()
        draft = await gateway(request).write(
            lambda c: service.save_upload(
                c, account=account, name=name, table=table, data=content,
                filename=file.filename or "", now=at,
            )
        )  # fmt: skip
    except CentauroError as exc:
        return await again(str(exc), 413 if isinstance(exc, TooManyRows) else 422)
    return redirect(f"/panel/campaigns/{draft.id}/setup")


async def _owned(request: Request, v: Visitor) -> service.Campaign:
    cid = _id(request)
    scope = _scope(v)
    return await gateway(request).read(lambda c: service.get(c, cid, account_id=scope))


async def _setup_context(request: Request, campaign: service.Campaign) -> dict[str, Any]:
    table = await gateway(request).read(lambda c: service.source_table(c, campaign))
    mapping = service.mapping_of(campaign)
    return {"campaign": campaign, "columns": table.columns, "rows": table.rows[:3],
            "mapping": mapping, "template": campaign.template}  # fmt: skip


async def setup_page(request: Request) -> Response:
    v = await require(request, operator=False)
    campaign = await _owned(request, v)
    if campaign.state != "draft":
        return redirect(f"/panel/campaigns/{campaign.id}")
    return page(
        request, "campaign_setup.html", visitor=v, **await _setup_context(request, campaign)
    )


async def setup(request: Request) -> Response:
    v = await require(request, operator=False)
    data = await form(request, "s:" + v.token)
    account = await _account(request, v)
    assert account is not None
    campaign = await _owned(request, v)
    number_column = forms.text(data, "number_column")
    name_column = forms.text(data, "name_column") or None
    raw = data.get("template")
    template = raw[: TEMPLATE_MAX + 1] if isinstance(raw, str) else ""
    gw = gateway(request)
    try:
        if len(template) > TEMPLATE_MAX:
            raise InvalidRequest(f"El mensaje pasa de {TEMPLATE_MAX} caracteres.")
        table = await gw.read(lambda c: service.source_table(c, campaign))
        spec = service.Spec(campaign.name, template, number_column, name_column)
        prepared = await anyio.to_thread.run_sync(
            lambda: service.prepare(
                table, spec, country=account.country, max_segments=gw.settings.max_segments
            )
        )
        at = now()
        await gw.write(
            lambda c: service.configure(c, campaign.id, account=account, prepared=prepared, now=at)
        )
    except CentauroError as exc:
        context = await _setup_context(request, campaign)
        context["template"] = template
        context["mapping"] = {**context["mapping"], "number": number_column, "name": name_column}
        return page(
            request, "campaign_setup.html", status=422, visitor=v, error=str(exc), **context
        )
    return redirect(f"/panel/campaigns/{campaign.id}")


async def detail(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    v = await require(request)
    cid = _id(request)
    scope = _scope(v)
    at = now()
    found = await gateway(request).read(lambda c: service.report(c, cid, account_id=scope, now=at))
    campaign = found.progress.campaign
    owner = await gateway(request).read(lambda c: service.owner(c, campaign))
    return page(
        request,
        "campaign.html",
        status=status,
        visitor=v,
        error=error,
        p=found.progress,
        c=campaign,
        preview=service.preview_of(campaign),
        reasons=found.reasons,
        reason_names=service.REASONS,
        names=service.STATE_NAMES,
        zone=owner.timezone,
        balance=owner.balance,
    )


async def detail_page(request: Request) -> Response:
    return await detail(request)


def _when(value: str, zone: str) -> datetime | None:
    """A ``datetime-local`` value in the account's zone; empty: now."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest("La fecha y hora de envío no es válida.") from None
    return when.replace(tzinfo=fmt.zone(zone)) if when.tzinfo is None else when


async def confirm(request: Request) -> Response:
    v = await require(request, operator=False)
    data = await form(request, "s:" + v.token)
    account = await _account(request, v)
    assert account is not None
    cid = _id(request)
    gw = gateway(request)
    try:
        when = _when(forms.text(data, "schedule_at", limit=40), account.timezone)
        prepared = await gw.read(
            lambda c: service.reload(c, cid, account=account, max_segments=gw.settings.max_segments)
        )
        at = now()
        await gw.write(
            lambda c: service.confirm(
                c, cid, account=account, prepared=prepared, schedule_at=when, now=at
            ),
            heavy=True,  # up to a million messages: off the event loop (Writer.run)
        )
    except Conflict as exc:  # a second click: the first one confirmed it
        return await detail(request, error=str(exc), status=409)
    except InsufficientCredits as exc:
        return await detail(request, error=texts.error_text(exc), status=402)
    except CentauroError as exc:
        return await detail(request, error=str(exc), status=422)
    gw.queued()
    return redirect(f"/panel/campaigns/{cid}")


def _action(verb: str) -> Any:
    async def act(request: Request) -> Response:
        v = await require(request, operator=False)
        await form(request, "s:" + v.token)
        cid = _id(request)
        scope = v.user.account_id
        assert scope is not None
        at = now()
        try:
            await gateway(request).write(
                lambda c: getattr(service, verb)(c, cid, account_id=scope, now=at)
            )
        except Conflict as exc:
            return await detail(request, error=str(exc), status=409)
        if verb == "resume":
            gateway(request).queued()
        return redirect(f"/panel/campaigns/{cid}")

    return act


async def progress_json(request: Request) -> Response:
    v = await require(request)
    cid = _id(request)
    scope = _scope(v)
    at = now()
    p = await gateway(request).read(lambda c: service.show(c, cid, account_id=scope, now=at))
    return JSONResponse(
        {
            "state": p.state,
            "state_name": service.STATE_NAMES[p.state],
            "percent": p.percent,
            "delivered": p.delivered,
            "failed": p.failed,
            "pending": p.pending,
            "cancelled": p.cancelled,
            "left": p.left,
            "refunded": p.campaign.refunded,
        },
        headers={"Cache-Control": "no-store"},
    )


async def report_csv(request: Request) -> Response:
    v = await require(request)
    cid = _id(request)
    scope = _scope(v)

    def build(conn: Any) -> bytes:
        out = io.StringIO()
        out.write("\ufeff")
        csv.writer(out).writerows(service.report_rows(conn, cid, account_id=scope))
        return out.getvalue().encode()

    body = await gateway(request).read(build)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campana-{cid}.csv"'},
    )


routes = [
    Route("/campaigns", list_page, methods=["GET"]),
    Route("/campaigns/new", new_page, methods=["GET"]),
    Route("/campaigns/new", upload, methods=["POST"]),
    Route("/campaigns/new/list", from_list, methods=["POST"]),
    Route("/campaigns/{campaign_id}", detail_page, methods=["GET"]),
    Route("/campaigns/{campaign_id}/setup", setup_page, methods=["GET"]),
    Route("/campaigns/{campaign_id}/setup", setup, methods=["POST"]),
    Route("/campaigns/{campaign_id}/confirm", confirm, methods=["POST"]),
    Route("/campaigns/{campaign_id}/pause", _action("pause"), methods=["POST"]),
    Route("/campaigns/{campaign_id}/resume", _action("resume"), methods=["POST"]),
    Route("/campaigns/{campaign_id}/cancel", _action("cancel"), methods=["POST"]),
    Route("/campaigns/{campaign_id}/progress", progress_json, methods=["GET"]),
    Route("/campaigns/{campaign_id}/report.csv", report_csv, methods=["GET"]),
]
