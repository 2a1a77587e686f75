"""``/v1/balance`` and ``/v1/ledger``: the account's credits and every change to them;
``/v1/account/signing-key``: the key that signs its ``callback_url`` deliveries."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, Security
from pydantic import BaseModel, Field

from centauro.api.guard import checked
from centauro.api.v1 import paging
from centauro.api.v1.auth import CurrentAccount
from centauro.api.v1.schemas import (
    BASIC_AUTH,
    Balance,
    Gw,
    LedgerPage,
    json_response,
    problems,
    stamp,
)
from centauro.domain.models import LedgerEntry
from centauro.service import accounts as service

router = APIRouter(tags=["account"], dependencies=[Security(BASIC_AUTH)])

CURSOR_KIND = "l"


@router.get("/balance", response_model=Balance, responses=problems(), summary="Credits left")
async def balance(account: CurrentAccount, gateway: Gw) -> Response:
    # Read now, not from the authenticated account: that one may be a cached copy.
    current = await gateway.read(checked(account, lambda c: service.get(c, account.client_id)))
    return json_response({"balance": current.balance})


@router.get(
    "/ledger",
    response_model=LedgerPage,
    responses=problems(),
    summary="Charges, top-ups and refunds, newest first",
)
async def ledger(
    account: CurrentAccount,
    gateway: Gw,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> Response:
    before = paging.decode(CURSOR_KIND, cursor)
    rows = await gateway.read(
        checked(
            account,
            lambda c: service.ledger(c, account.client_id, limit=limit + 1, before_id=before),
        )
    )
    shown, next_cursor = paging.page(CURSOR_KIND, rows, limit, lambda e: e.id)
    return json_response({"data": [_entry(e) for e in shown], "next_cursor": next_cursor})


def _entry(e: LedgerEntry) -> dict[str, object]:
    return {
        "id": str(e.id),
        "kind": e.kind,
        "amount": e.amount,
        "balance_after": e.balance_after,
        "message_id": str(e.message_id) if e.message_id is not None else None,
        "messages": e.messages,
        "note": e.note,
        "created_at": stamp(e.created_at),
    }


class SigningKey(BaseModel):
    signing_key: str = Field(
        description="HMAC key of this account's callback_url deliveries (docs/webhooks.md)"
    )


@router.get(
    "/account/signing-key",
    response_model=SigningKey,
    responses=problems(),
    summary="The key that signs callback_url deliveries",
)
async def signing_key(request: Request, account: CurrentAccount, gateway: Gw) -> Response:
    sealer = request.app.state.sealer
    key = await gateway.read(checked(account, lambda c: service.signing_key(c, account, sealer)))
    return json_response({"signing_key": key})


@router.post(
    "/account/signing-key/rotate",
    response_model=SigningKey,
    responses=problems(),
    summary="Replace the callback signing key (the old one stops signing at once)",
)
async def rotate_signing_key(request: Request, account: CurrentAccount, gateway: Gw) -> Response:
    sealer = request.app.state.sealer
    now = datetime.now(UTC)
    key = await gateway.write(
        checked(
            account,
            lambda c: service.rotate_signing_key(
                c, client_id=account.client_id, now=now, sealer=sealer
            ),
        )
    )
    return json_response({"signing_key": key})
