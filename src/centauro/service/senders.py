"""Sender IDs: the operator grants them per account; sends name one, or get the default.

The rule every door follows (:func:`resolve`): a request that names a sender must name
one the account was granted (else :class:`SenderNotGranted`); a request that names none
gets the account's default; with no default either, the message carries no sender and
the connector's own source address goes out, as before sender IDs existed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from centauro.domain import senders as rules
from centauro.domain.errors import (
    Conflict,
    InvalidRequest,
    InvalidSender,
    NotFound,
    SenderNotGranted,
)
from centauro.domain.models import Account
from centauro.store import accounts as account_store
from centauro.store import senders as store
from centauro.store.senders import SenderId

__all__ = ["SenderId", "add", "change", "listing", "remove", "resolve", "set_default"]


def listing(conn: Connection, account: Account) -> list[SenderId]:
    return store.listing(conn, account.id)


def add(
    conn: Connection, account: Account, raw: str, *, now: datetime, default: bool = False
) -> SenderId:
    """Grant ``raw`` (validated, normalised) to ``account``; Conflict if it has it already.

    The first sender ID an account gets becomes its default, as does one added with
    ``default=True``.
    """
    sender = rules.parse(raw, account.country)
    if store.find(conn, account.id, sender.value) is not None:
        raise Conflict(f"la cuenta ya tiene el remitente {sender.value}")
    first = not store.listing(conn, account.id)
    store.add(conn, account.id, sender.value, sender.kind.value, now)
    if first or default:
        store.set_default(conn, account.id, sender.value)
    found = store.find(conn, account.id, sender.value)
    assert found is not None
    return found


def remove(conn: Connection, account: Account, raw: str) -> str:
    """Withdraw a sender ID (NotFound if not granted); the value removed. Messages already
    queued keep it: they were accepted with it."""
    value = _stored(account, raw)
    if not store.remove(conn, account.id, value):
        raise NotFound(f"la cuenta no tiene el remitente {value}")
    return value


def set_default(conn: Connection, account: Account, raw: str) -> SenderId:
    """Make a granted sender ID the account's default (NotFound if not granted)."""
    value = _stored(account, raw)
    if store.find(conn, account.id, value) is None:
        raise NotFound(f"la cuenta no tiene el remitente {value}")
    store.set_default(conn, account.id, value)
    found = store.find(conn, account.id, value)
    assert found is not None
    return found


def change(
    conn: Connection,
    client_id: str,
    action: str,
    raw: str,
    *,
    now: datetime,
    default: bool = False,
) -> None:
    """One edit of an account's sender IDs by name (the panel's forms): ``add``,
    ``remove`` or ``default``."""
    account = account_store.by_client_id(conn, client_id)
    if account is None:
        raise NotFound(f"no account with client_id {client_id}")
    if action == "add":
        add(conn, account, raw, now=now, default=default)
    elif action == "remove":
        remove(conn, account, raw)
    elif action == "default":
        set_default(conn, account, raw)
    else:
        raise InvalidRequest(f"acción desconocida: {action}")


def resolve(
    conn: Connection, account: Account, requested: str | None, *, lenient: bool = False
) -> str | None:
    """The sender a request's messages go out with (see the module docstring).

    ``lenient`` (the SMPP server): an account that was granted no sender ID at all sends as
    before sender IDs existed — whatever source_addr its ESME writes is not checked, and
    the connector's own address goes out.
    """
    if requested is None:
        return store.default(conn, account.id)
    granted = store.granted(conn, account.id)  # one read, a few rows
    if lenient and not granted:
        return None
    value = _stored(account, requested, not_granted=True)
    if value not in granted:
        raise SenderNotGranted(value)
    return value


def _stored(account: Account, raw: str, *, not_granted: bool = False) -> str:
    """``raw`` in its stored form; an invalid one cannot have been granted."""
    try:
        return rules.parse(raw, account.country).value
    except InvalidSender:
        if not_granted:
            raise SenderNotGranted(raw.strip()) from None
        raise
