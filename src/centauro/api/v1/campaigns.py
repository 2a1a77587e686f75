"""``/v1/campaigns``: create (JSON rows or an uploaded CSV/XLSX), look up, confirm,
pause, resume, cancel, report (docs/rest.md, "Campaigns"; docs/campaigns.md).

Every route calls ``service.campaigns``, as the CLI and the panel do. Parsing and
validating the rows (the slow part) runs on a worker thread, outside the write job; the
confirm's charge and queueing is one write job.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, File, Form, Path, Request, Response, Security, UploadFile
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Connection

from centauro.api.guard import checked
from centauro.api.v1 import paging
from centauro.api.v1.auth import CurrentAccount, GatewayDep
from centauro.api.v1.schemas import (
    BASIC_AUTH,
    Id,
    Page,
    UtcTime,
    _Strict,
    json_body,
    json_response,
    parse_body,
    problems,
    stamp,
)
from centauro.domain.errors import NotFound
from centauro.domain.ids import parse_id
from centauro.domain.models import Account
from centauro.runtime import Gateway
from centauro.service import campaigns as service
from centauro.service.campaign_files import Table

router = APIRouter(tags=["campaigns"], dependencies=[Security(BASIC_AUTH)])
CURSOR_KIND = "c"
#: Campaign files may be larger than other bodies (1,000,000 rows of a number, a name and
#: a few fields): these paths get their own body limit (api/limits.py).
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
UPLOAD_PATHS = ("/v1/campaigns/upload", "/panel/campaigns/new")

CampaignId = Annotated[str, Path(description="The campaign id", max_length=40)]
Cell = str | int | float | bool | None
State = Literal["draft", "scheduled", "sending", "paused", "cancelled", "done"]


class CampaignIn(_Strict):
    """``POST /v1/campaigns``: the audience as JSON rows, or a contact list of the account."""

    name: str = Field(min_length=1, max_length=200, examples=["Promo diciembre"])
    template: str = Field(
        min_length=1, max_length=5000, examples=["Hola {nombre}, tenemos ofertas."]
    )
    number_column: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        examples=["telefono"],
        description="Required with `rows`; with `contact_list_id` it defaults to `numero`",
    )
    name_column: str | None = Field(
        None,
        max_length=200,
        examples=["nombre"],
        description="With `contact_list_id` it defaults to `nombre`",
    )
    rows: list[dict[str, Cell]] | None = Field(
        None,
        min_length=1,
        max_length=1_000_000,
        examples=[[{"telefono": "04141234567", "nombre": "Ana"}]],
    )
    contact_list_id: Id | None = Field(
        None,
        max_length=40,
        description="A contact list of the account, instead of `rows`: its columns are "
        "`numero`, `nombre` and the list's fields",
    )

    @model_validator(mode="after")
    def _one_audience(self) -> CampaignIn:
        if (self.rows is None) == (self.contact_list_id is None):
            raise ValueError("Indique el público: «rows» o «contact_list_id» (uno de los dos).")
        if self.rows is not None and self.number_column is None:
            raise ValueError("Con «rows» hace falta «number_column».")
        return self


class ConfirmIn(_Strict):
    """``POST /v1/campaigns/{id}/confirm``."""

    schedule_at: UtcTime | None = Field(None, description="When to send; absent or past: now")


class ProblemRow(BaseModel):
    row: int = Field(description="The row as a spreadsheet numbers it (header: 1)")
    number: str
    reason: str = Field(description="`invalid_number`, `duplicate`, `opted_out`, …")
    detail: str


class SampleRow(BaseModel):
    number: str
    name: str
    text: str
    segments: int


class PreviewOut(BaseModel):
    sample: list[SampleRow]
    problem_counts: dict[str, int]
    problems: list[ProblemRow] = Field(description="The first 1,000 rows left out")


class ProgressOut(BaseModel):
    percent: int = Field(description="Of the accepted messages, how many left (0–100)")
    delivered: int
    failed: int
    pending: int
    cancelled: int
    counts: dict[str, int] = Field(description="Messages by state")


class CampaignOut(BaseModel):
    id: Id
    name: str
    template: str
    state: State
    source_name: str
    source_format: Literal["csv", "xlsx", "rows", "list"]
    number_column: str
    name_column: str | None
    columns: list[str]
    total_rows: int
    accepted: int
    rejected: int
    cost: int = Field(description="Credits the accepted rows cost (charged at confirm)")
    charged: int
    refunded: int
    schedule_at: datetime | None
    created_at: datetime
    confirmed_at: datetime | None
    progress: ProgressOut
    preview: PreviewOut | None = Field(description="Absent from lists")


class CampaignPage(Page):
    data: list[CampaignOut]


class ReasonOut(BaseModel):
    state: str
    error: str
    messages: int


class ReportOut(BaseModel):
    campaign: CampaignOut
    reasons: list[ReasonOut]


def campaign_json(p: service.Progress, *, preview: bool = True) -> dict[str, Any]:
    c = p.campaign
    mapping = service.mapping_of(c)
    return {
        "id": str(c.id),
        "name": c.name,
        "template": c.template,
        "state": p.state,
        "source_name": c.source_name,
        "source_format": c.source_format,
        "number_column": mapping["number"],
        "name_column": mapping.get("name"),
        "columns": mapping["columns"],
        "total_rows": c.total_rows,
        "accepted": c.accepted,
        "rejected": c.rejected,
        "cost": c.cost,
        "charged": c.charged,
        "refunded": c.refunded,
        "schedule_at": stamp(c.schedule_at),
        "created_at": stamp(c.created_at),
        "confirmed_at": stamp(c.confirmed_at),
        "progress": {
            "percent": p.percent,
            "delivered": p.delivered,
            "failed": p.failed,
            "pending": p.pending,
            "cancelled": p.cancelled,
            "counts": p.counts,
        },
        "preview": service.preview_of(c) if preview else None,
    }


def _id(raw: str) -> int:
    found = parse_id(raw)
    if found is None:
        raise NotFound(f"No existe la campaña {raw}.")
    return found


async def _draft(
    gateway: Gateway, account: Account, table: Table, spec: service.Spec,
    data: bytes | None, filename: str,
) -> Response:  # fmt: skip
    prepared = await anyio.to_thread.run_sync(
        lambda: service.prepare(
            table, spec, country=account.country, max_segments=gateway.settings.max_segments
        )
    )
    now = datetime.now(UTC)

    def save(conn: Connection) -> service.Progress:
        draft = service.save_draft(
            conn, account=account, prepared=prepared, data=data, filename=filename, now=now
        )
        return service.progress(conn, draft, now)

    return json_response(campaign_json(await gateway.write(checked(account, save))), 201)


@router.post(
    "/campaigns",
    status_code=201,
    response_model=CampaignOut,
    responses=problems(404, 413),
    openapi_extra=json_body(CampaignIn),
    summary="Create a draft campaign from JSON rows or a contact list: preview and cost, "
    "nothing charged",
)
async def create_campaign(
    request: Request, account: CurrentAccount, gateway: GatewayDep
) -> Response:
    raw = await request.body()
    body = await anyio.to_thread.run_sync(parse_body, CampaignIn, raw)
    if body.contact_list_id is not None:
        list_id = parse_id(body.contact_list_id)
        if list_id is None:
            raise NotFound("No existe esa lista de contactos.")
        table, source_name = await gateway.read(
            checked(account, lambda c: service.list_table(c, account.id, list_id))
        )
        spec = service.Spec(
            body.name,
            body.template,
            body.number_column or service.LIST_NUMBER,
            body.name_column or service.LIST_NAME,
        )
        return await _draft(gateway, account, table, spec, None, source_name)
    assert body.rows is not None  # _one_audience
    assert body.number_column is not None
    table = service.rows_table(body.rows)
    spec = service.Spec(body.name, body.template, body.number_column, body.name_column)
    return await _draft(gateway, account, table, spec, None, "")


@router.post(
    "/campaigns/upload",
    status_code=201,
    response_model=CampaignOut,
    responses=problems(413),
    summary="Create a draft campaign from an uploaded CSV or XLSX",
)
async def upload_campaign(
    account: CurrentAccount,
    gateway: GatewayDep,
    file: Annotated[UploadFile, File(description="CSV (any usual export) or XLSX")],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    template: Annotated[str, Form(min_length=1, max_length=5000)],
    number_column: Annotated[str, Form(min_length=1, max_length=200)],
    name_column: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    data = await file.read()
    filename = file.filename or ""
    table = await anyio.to_thread.run_sync(service.read_file, data, filename)
    spec = service.Spec(name, template, number_column, name_column or None)
    return await _draft(gateway, account, table, spec, data, filename)


@router.get(
    "/campaigns",
    response_model=CampaignPage,
    responses=problems(),
    summary="List campaigns, newest first",
)
async def list_campaigns(
    account: CurrentAccount,
    gateway: GatewayDep,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> Response:
    before = paging.decode(CURSOR_KIND, cursor)
    now = datetime.now(UTC)

    def read(conn: Connection) -> list[service.Progress]:
        rows = service.find(conn, account_id=account.id, before_id=before, limit=limit + 1)
        return [service.progress(conn, c, now) for c in rows]

    found = await gateway.read(checked(account, read))
    shown, next_cursor = paging.page(CURSOR_KIND, found, limit, lambda p: p.campaign.id)
    data = [campaign_json(p, preview=False) for p in shown]
    return json_response({"data": data, "next_cursor": next_cursor})


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignOut,
    responses=problems(404),
    summary="One campaign, its preview and live progress",
)
async def get_campaign(
    campaign_id: CampaignId, account: CurrentAccount, gateway: GatewayDep
) -> Response:
    cid = _id(campaign_id)
    now = datetime.now(UTC)
    found = await gateway.read(
        checked(account, lambda c: service.show(c, cid, account_id=account.id, now=now))
    )
    return json_response(campaign_json(found))


@router.post(
    "/campaigns/{campaign_id}/confirm",
    response_model=CampaignOut,
    responses=problems(402, 404, 409),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": ConfirmIn.model_json_schema()}},
        }
    },
    summary="Charge and queue a draft (now or at `schedule_at`); a second confirm is 409",
)
async def confirm_campaign(
    request: Request, campaign_id: CampaignId, account: CurrentAccount, gateway: GatewayDep
) -> Response:
    cid = _id(campaign_id)
    raw = await request.body()
    body = parse_body(ConfirmIn, raw) if raw.strip() else ConfirmIn(schedule_at=None)
    max_segments = gateway.settings.max_segments
    prepared = await gateway.read(
        checked(
            account,
            lambda c: service.reload(c, cid, account=account, max_segments=max_segments),
        )
    )
    now = datetime.now(UTC)

    def work(conn: Connection) -> service.Progress:
        done = service.confirm(
            conn, cid, account=account, prepared=prepared, schedule_at=body.schedule_at, now=now
        )
        return service.progress(conn, done, now)

    confirmed = await gateway.write(checked(account, work), heavy=True)  # see Writer.run
    gateway.queued()
    return json_response(campaign_json(confirmed))


def _action(verb: str, summary: str) -> Any:
    action = getattr(service, verb)

    async def route(
        campaign_id: CampaignId, account: CurrentAccount, gateway: GatewayDep
    ) -> Response:
        cid = _id(campaign_id)
        now = datetime.now(UTC)
        moved = await gateway.write(
            checked(account, lambda c: action(c, cid, account_id=account.id, now=now))
        )
        if verb == "resume":
            gateway.queued()
        return json_response(campaign_json(moved))

    route.__name__ = f"{verb}_campaign"
    router.post(
        f"/campaigns/{{campaign_id}}/{verb}",
        response_model=CampaignOut,
        responses=problems(404, 409),
        summary=summary,
    )(route)
    return route


_action("pause", "Pause: what has not left waits (held) until resumed")
_action("resume", "Resume a paused campaign")
_action("cancel", "Cancel: what has not left is cancelled and refunded")


@router.get(
    "/campaigns/{campaign_id}/report",
    response_model=ReportOut,
    responses=problems(404),
    summary="Delivered / failed / pending, with the reasons of what failed",
)
async def campaign_report(
    campaign_id: CampaignId, account: CurrentAccount, gateway: GatewayDep
) -> Response:
    cid = _id(campaign_id)
    now = datetime.now(UTC)
    found = await gateway.read(
        checked(account, lambda c: service.report(c, cid, account_id=account.id, now=now))
    )
    reasons = [{"state": s, "error": e, "messages": n} for s, e, n in found.reasons]
    return json_response({"campaign": campaign_json(found.progress), "reasons": reasons})


@router.get(
    "/campaigns/{campaign_id}/report.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
        **problems(404),
    },
    summary="The report as CSV, one row per message",
)
async def campaign_report_csv(
    campaign_id: CampaignId, account: CurrentAccount, gateway: GatewayDep
) -> Response:
    cid = _id(campaign_id)
    body = await gateway.read(checked(account, lambda c: report_csv(c, cid, account.id)))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campana-{cid}.csv"'},
    )


def report_csv(conn: Connection, campaign_id: int, account_id: int | None) -> bytes:
    """UTF-8 with a BOM, so Excel opens the accents right."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out).writerows(service.report_rows(conn, campaign_id, account_id=account_id))
    return out.getvalue().encode()
