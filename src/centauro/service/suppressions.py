"""Suppressions (opt-out): the numbers an account must not text, kept by hand.

Handsets put themselves on the list by answering BAJA or STOP (``service/inbound.py``);
these are the calls the REST API (and, through it, the CLI) makes to read and edit it.
Numbers come in any form a send accepts and are read in the account's default country,
exactly as :mod:`centauro.service.submit` reads recipients: so suppressing
``04141234567`` stops a send to ``+58 414-123-4567``, and an invalid number is refused
here rather than stored where no send could ever match it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from centauro.domain import numbers
from centauro.domain.errors import InvalidNumber, InvalidRequest, NotFound
from centauro.domain.models import Account
from centauro.domain.states import MessageState
from centauro.service import outcomes
from centauro.store import messages as message_store
from centauro.store import suppressions as store
from centauro.store.suppressions import Suppression

__all__ = [
    "MAX_PAGE",
    "SOURCES",
    "WITHDRAWN",
    "Added",
    "Page",
    "Suppression",
    "add",
    "page",
    "remove",
    "withdraw_scheduled",
]

MAX_PAGE = 1000
#: Who put a number on the list: a handset's keyword, the REST API, the CLI or the panel.
SOURCES = frozenset({"inbound", "api", "cli", "panel"})
_E164 = re.compile(r"\+[0-9]{8,15}")
#: The error of a scheduled message withdrawn because its number opted out.
WITHDRAWN = "opted_out"


@dataclass(frozen=True, slots=True)
class Added:
    entry: Suppression
    created: bool  #: False when the number was already suppressed (the entry is the old one)


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[Suppression]
    next_cursor: str | None  #: None on the last page


def normalize(account: Account, number: str) -> str:
    """``number`` as E.164, read as a send from ``account`` reads it; InvalidNumber if not."""
    try:
        return numbers.normalize(number, numbers.parse_country(account.country)).e164
    except InvalidNumber:
        raise InvalidNumber(
            number, f"not a Venezuelan or Colombian mobile number: {number!r}"
        ) from None


def add(conn: Connection, account: Account, number: str, *, source: str, now: datetime) -> Added:
    """Suppress ``number`` for ``account``; adding it twice keeps the first entry."""
    if source not in SOURCES:
        raise InvalidRequest(f"unknown suppression source: {source}")
    e164 = normalize(account, number)
    created = store.add(conn, account.id, e164, source, now)
    if created:
        withdraw_scheduled(conn, account.id, e164, now)
    entry = _entry(conn, account.id, e164)
    assert entry is not None  # added now, or there before: in this transaction either way
    return Added(entry, created)


def remove(conn: Connection, account: Account, number: str) -> str:
    """Lift the suppression of ``number`` (NotFound if there was none); its E.164."""
    e164 = normalize(account, number)
    if not store.remove(conn, account.id, e164):
        raise NotFound(f"{e164} is not suppressed")
    return e164


def page(conn: Connection, account: Account, *, limit: int = 50, cursor: str | None = None) -> Page:
    """One page of the account's list, in number order; the cursor continues after it."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}")
    after = _decode_cursor(cursor) if cursor else None
    found = store.listing(conn, account.id, after=after, limit=limit + 1)
    more = len(found) > limit
    entries = found[:limit]
    return Page(entries, _encode_cursor(entries[-1].number) if more else None)


def withdraw_scheduled(conn: Connection, account_id: int, number: str, now: datetime) -> int:
    """Cancel and refund the account's ``scheduled`` messages to ``number`` (E.164).

    Suppressions are checked when a request is accepted; a campaign scheduled before the
    handset said BAJA would otherwise reach it after. Only ``scheduled`` messages: a
    ``queued`` one is at most a dispatcher's claim away from the carrier, and cancelling
    it could race that claim (``service.messages.cancel`` refuses claimed ones for the
    same reason). They end ``cancelled`` with the error ``opted_out``; how many did.
    """
    found = message_store.listing(
        conn,
        account_id=account_id,
        status=MessageState.SCHEDULED.value,
        recipient=number,
        limit=MAX_PAGE,
    )
    finals = [outcomes.Final(m.id, MessageState.CANCELLED, WITHDRAWN) for m in found]
    return outcomes.record_final(conn, finals, now)


def _entry(conn: Connection, account_id: int, e164: str) -> Suppression | None:
    """The stored entry for one number.

    The store pages in number order from an exclusive lower bound, so the entry is among
    the first rows after ``e164[:-1]``: only the (at most ten) numbers that differ from
    it in the last digit sort between (every stored number is a normalised mobile, all
    of one length).
    """
    rows = store.listing(conn, account_id, after=e164[:-1], limit=11)
    return next((r for r in rows if r.number == e164), None)


def _encode_cursor(number: str) -> str:
    return base64.urlsafe_b64encode(number.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    """The number a cursor continues after; opaque to callers, checked here."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        number = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        number = ""
    if not _E164.fullmatch(number):
        raise InvalidRequest("invalid cursor")
    return number
