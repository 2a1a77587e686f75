"""``/v1/webhooks``: where an account's events are POSTed, and the log of those POSTs.

The shapes are docs/rest.md's "Webhooks". The URL is checked before the write (a DNS
look-up must run neither on the event loop nor on the store's writer thread); the secret
is in the ``201`` answer only — and in the stored answer of its ``Idempotency-Key``, so a
retried registration gets the same webhook and secret instead of a second webhook.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Literal

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from centauro.api.guard import checked
from centauro.api.v1 import idempotency, paging
from centauro.api.v1.auth import CurrentAccount, GatewayDep
from centauro.api.v1.schemas import json_body, parse_body, problems
from centauro.domain.errors import NotFound
from centauro.domain.ids import parse_id
from centauro.service import webhooks as service
from centauro.store.webhooks import Delivery, Webhook

router = APIRouter(tags=["webhooks"])

Event = Literal["message.status", "message.inbound"]
CURSOR_KIND = "webhook-deliveries"


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="http(s) URL that receives the events", max_length=2000)
    events: list[Event] | None = Field(
        default=None, description="Events to receive; all of them when omitted"
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    enabled: bool
    created_at: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signing key; shown only in this answer")


class WebhookList(BaseModel):
    data: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: str
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None
    next_attempt_at: str | None


class DeliveryPage(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None


def _time(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def _out(hook: Webhook) -> dict[str, object]:
    return {
        "id": str(hook.id),
        "url": hook.url,
        "events": list(hook.events),
        "enabled": hook.enabled,
        "created_at": _time(hook.created_at),
    }


def _delivery(d: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=str(d.id),
        event=d.event,
        status=d.status,  # type: ignore[arg-type]
        attempts=d.attempts,
        last_status=d.last_status,
        last_error=d.last_error,
        created_at=_time(d.created_at),
        delivered_at=_time(d.delivered_at) if d.delivered_at else None,
        next_attempt_at=_time(d.due_at) if d.status == "pending" else None,
    )


def _id(raw: str) -> int:
    hook = parse_id(raw)
    if hook is None:
        raise NotFound(f"webhook {raw}")
    return hook


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    responses=problems(409),
    openapi_extra=json_body(WebhookIn),
    summary="Register a webhook",
)
async def create_webhook(
    request: Request,
    account: CurrentAccount,
    gw: GatewayDep,
    key: idempotency.IdempotencyKey = None,
) -> Response:
    """Register a URL for this account's events. The answer's `secret` is shown only once."""
    early = await idempotency.replay(request, gw, account, key)
    if early is not None:
        return early
    body = parse_body(WebhookIn, await request.body())  # any bad body: 422, never 400
    allow = gw.settings.webhook_allow_private
    url = service.check_url(body.url, allow_private=allow)
    await anyio.to_thread.run_sync(
        functools.partial(service.check_resolved, url, allow_private=allow)
    )
    now = datetime.now(UTC)

    def work(conn: Connection) -> idempotency.Answer:
        registered = service.register(
            conn,
            account_id=account.id,
            url=url,
            events=body.events,
            now=now,
            allow_private=allow,
            sealer=request.app.state.sealer,
        )
        answer = {**_out(registered.webhook), "secret": registered.secret}
        return idempotency.Answer(201, json.dumps(answer).encode())

    if key is not None:
        return await idempotency.commit(request, gw, account, key, work)
    answer = await gw.write(checked(account, work))
    return Response(answer.body, status_code=201, media_type="application/json")


@router.get("/webhooks", response_model=WebhookList, responses=problems(), summary="List webhooks")
async def list_webhooks(account: CurrentAccount, gw: GatewayDep) -> object:
    """This account's webhooks (without their secrets)."""
    hooks = await gw.read(checked(account, lambda c: service.listing(c, account.id)))
    return {"data": [_out(h) for h in hooks]}


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    response_class=Response,
    responses=problems(404),
    summary="Remove a webhook",
)
async def delete_webhook(webhook_id: str, account: CurrentAccount, gw: GatewayDep) -> Response:
    """Remove a webhook; its pending deliveries are not sent any more."""
    hook = _id(webhook_id)
    await gw.write(checked(account, lambda c: service.remove(c, account.id, hook)))
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    responses=problems(404),
    summary="A webhook's delivery log",
)
async def list_deliveries(
    webhook_id: str,
    account: CurrentAccount,
    gw: GatewayDep,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> object:
    """The webhook's deliveries, newest first: status, attempts, the last answer."""
    hook = _id(webhook_id)
    before = paging.decode(CURSOR_KIND, cursor)
    rows = await gw.read(
        checked(
            account,
            lambda c: service.deliveries(c, account.id, hook, before_id=before, limit=limit + 1),
        )
    )
    shown, next_cursor = paging.page(CURSOR_KIND, rows, limit, lambda d: d.id)
    return DeliveryPage(data=[_delivery(d) for d in shown], next_cursor=next_cursor)
