"""``/v1/inbound``: what handsets sent in answer to this account's messages.

An inbound message belongs to the account that last texted its sender (see
``service/inbound.py``); this is a read of the store's own listing, scoped to the caller.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, Security

from centauro.api.guard import checked
from centauro.api.v1 import paging
from centauro.api.v1.auth import CurrentAccount
from centauro.api.v1.schemas import BASIC_AUTH, Gw, InboundPage, json_response, problems, stamp
from centauro.service import inbound as service

router = APIRouter(tags=["inbound"], dependencies=[Security(BASIC_AUTH)])

CURSOR_KIND = "i"


@router.get(
    "/inbound",
    response_model=InboundPage,
    responses=problems(),
    summary="Inbound messages (MO), newest first",
)
async def list_inbound(
    account: CurrentAccount,
    gateway: Gw,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> Response:
    before = paging.decode(CURSOR_KIND, cursor)
    rows = await gateway.read(
        checked(
            account,
            lambda c: service.listing(c, account_id=account.id, before_id=before, limit=limit + 1),
        )
    )
    shown, next_cursor = paging.page(CURSOR_KIND, rows, limit, lambda r: r.id)
    data = [
        {
            "id": str(r.id),
            "from": r.sender,
            "to": r.recipient,
            "text": r.text,
            "connector": r.connector,
            "received_at": stamp(r.received_at),
            "parts": r.parts,
            "complete": r.complete,
        }
        for r in shown
    ]
    return json_response({"data": data, "next_cursor": next_cursor})
