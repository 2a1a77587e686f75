"""``/v1/suppressions``: the account's opt-out list (docs/rest.md, "Suppressions").

Handsets that answered BAJA/STOP are on it already (source ``inbound``); these routes let
the customer read it and add or lift numbers by hand. Adding twice is harmless by itself
(the second ``POST`` answers ``200`` with the first entry); an ``Idempotency-Key`` still
works as on every ``POST``, replaying the first answer (``201``) to a retry.

The CLI (``centauro suppressions``) calls these same routes and says so in its
``User-Agent`` (``centauro-cli/…``): what it adds is recorded with source ``cli``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, Security
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from centauro.api.guard import checked
from centauro.api.v1 import idempotency, paging
from centauro.api.v1.auth import CurrentAccount, GatewayDep
from centauro.api.v1.idempotency import Answer, IdempotencyKey
from centauro.api.v1.schemas import (
    BASIC_AUTH,
    Page,
    json_body,
    json_response,
    parse_body,
    problems,
    stamp,
    to_json,
)
from centauro.service import suppressions as service
from centauro.service.suppressions import Suppression

router = APIRouter(tags=["suppressions"], dependencies=[Security(BASIC_AUTH)])

#: The CLI's ``User-Agent`` prefix: its additions are recorded as source "cli".
CLI_AGENT = "centauro-cli/"

Number = Annotated[
    str,
    Path(
        max_length=64,
        description="The number in any accepted form (URL-encode `+` as `%2B`)",
        examples=["04141234567"],
    ),
]


class SuppressionIn(BaseModel):
    """``POST /v1/suppressions``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    number: str = Field(description="A number in any usual form", examples=["04141234567"])


class SuppressionOut(BaseModel):
    number: str = Field(description="E.164", examples=["+584141234567"])
    source: str = Field(description="`inbound` (BAJA/STOP), `api`, `cli` or `panel`")
    created_at: datetime


class SuppressionPage(Page):
    data: list[SuppressionOut]


def _json(entry: Suppression) -> dict[str, Any]:
    return {"number": entry.number, "source": entry.source, "created_at": stamp(entry.created_at)}


@router.get(
    "/suppressions",
    response_model=SuppressionPage,
    responses=problems(),
    summary="Numbers this account must not text, in number order",
)
async def list_suppressions(
    account: CurrentAccount,
    gateway: GatewayDep,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> Response:
    found = await gateway.read(
        checked(account, lambda c: service.page(c, account, limit=limit, cursor=cursor))
    )
    data = [_json(e) for e in found.entries]
    return json_response({"data": data, "next_cursor": found.next_cursor})


@router.post(
    "/suppressions",
    status_code=201,
    response_model=SuppressionOut,
    responses={
        200: {"model": SuppressionOut, "description": "It was suppressed already"},
        **problems(409),
    },
    openapi_extra=json_body(SuppressionIn),
    summary="Suppress a number: sends to it are rejected (`opted_out`, free)",
)
async def add_suppression(
    request: Request, account: CurrentAccount, gateway: GatewayDep, key: IdempotencyKey = None
) -> Response:
    early = await idempotency.replay(request, gateway, account, key)
    if early is not None:
        return early
    body = parse_body(SuppressionIn, await request.body())
    agent = request.headers.get("user-agent", "")
    source = "cli" if agent.startswith(CLI_AGENT) else "api"
    now = datetime.now(UTC)

    def work(conn: Connection) -> Answer:
        added = service.add(conn, account, body.number, source=source, now=now)
        return Answer(201 if added.created else 200, to_json(_json(added.entry)))

    if key is not None:
        return await idempotency.commit(request, gateway, account, key, work)
    return idempotency.to_response(await gateway.write(checked(account, work)))


@router.delete(
    "/suppressions/{number}",
    status_code=204,
    response_class=Response,
    responses=problems(404),
    summary="Lift a suppression: the account may text the number again",
)
async def remove_suppression(
    number: Number, account: CurrentAccount, gateway: GatewayDep
) -> Response:
    await gateway.write(checked(account, lambda c: service.remove(c, account, number)))
    return Response(status_code=204)
