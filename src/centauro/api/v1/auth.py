"""HTTP Basic authentication for the REST API: the compat API's credentials.

``Authorization: Basic base64(client_id:client_secret)``, checked by the same
:class:`~centauro.api.guard.Guard` as the compat doors (lockouts, cache, store), then the
account's request rate.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from centauro.api.guard import Guard
from centauro.domain import inputs
from centauro.domain.errors import AuthenticationFailed
from centauro.domain.models import Account
from centauro.runtime import Gateway


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


def credentials(request: Request) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise AuthenticationFailed("HTTP Basic credentials (client_id:client_secret) required")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id or not secret or inputs.first_forbidden(client_id):
        raise AuthenticationFailed("malformed Basic credentials")
    return client_id, secret


async def current_account(request: Request) -> Account:
    """The authenticated, enabled account of this request, within its request rate.

    It may be a cached copy: operations re-check it in their own transaction
    (:func:`centauro.api.guard.checked`, or the charge of a send).
    """
    guard: Guard = request.app.state.guard
    client_id, secret = credentials(request)
    ip = request.client.host if request.client is not None else ""
    account = await guard.authenticate(client_id, secret, ip)
    guard.check_rate(account)
    return account


CurrentAccount = Annotated[Account, Depends(current_account)]
GatewayDep = Annotated[Gateway, Depends(gateway)]
