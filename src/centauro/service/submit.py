"""Submit: validate recipients and text, charge credits, queue messages — all or nothing.

Split in two so that the slow, pure part runs outside the write transaction:

* :func:`plan` normalises numbers, drops duplicates, counts segments and prices the
  request. No I/O; raises for requests that cannot be sent at all.
* :func:`commit` charges the whole price in one conditional UPDATE and inserts every
  accepted message as ``queued``, in the caller's transaction. The caller answers
  only after that transaction commits, so an accepted message is already on disk.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection

from centauro.domain import inputs, numbers, schedule, text
from centauro.domain.errors import (
    AuthenticationFailed,
    InsufficientCredits,
    InvalidNumber,
    MissingParameter,
    NoValidRecipient,
    TextTooLong,
    TooManyRecipients,
    Unavailable,
)
from centauro.domain.models import Account
from centauro.domain.states import MessageState
from centauro.store import accounts as account_store
from centauro.store import messages as message_store
from centauro.store import suppressions as suppression_store

DEFAULT_VALIDITY = timedelta(hours=24)


class Verdict(enum.StrEnum):
    ACCEPTED = "accepted"  #: charged and queued
    INVALID_NUMBER = "invalid_number"  #: not a VE/CO mobile; not charged
    DUPLICATE = "duplicate"  #: same number (and text) earlier in the request; not charged
    OPTED_OUT = "opted_out"  #: the handset asked not to be texted (BAJA/STOP); not charged


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient as any door hands it in: the number as typed, and optional extras."""

    number: str
    name: str = ""
    reference: str = ""
    text: str | None = None  #: the personalised text, if any


@dataclass(frozen=True, slots=True)
class Item:
    """What happened to one recipient, in request order."""

    verdict: Verdict
    number: str  #: as given
    national: str  #: national significant number ("4141234567"), "" when invalid
    e164: str  #: "+584141234567", "" when invalid
    name: str
    reference: str
    text: str
    encoding: str
    segments: int

    @property
    def cost(self) -> int:
        return self.segments if self.verdict is Verdict.ACCEPTED else 0


@dataclass(frozen=True, slots=True)
class Plan:
    items: list[Item]
    cost: int

    @property
    def accepted(self) -> int:
        return sum(1 for i in self.items if i.verdict is Verdict.ACCEPTED)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The committed request: every item, its message id (None if not accepted), balance."""

    items: list[Item]
    message_ids: list[int | None]
    cost: int
    balance: int
    status: MessageState = MessageState.QUEUED  #: of the accepted messages
    due_at: datetime | None = None


def plan(
    recipients: Sequence[Recipient],
    shared_text: str | None,
    *,
    country: str,
    max_segments: int,
    max_recipients: int,
    routable: Callable[[str], bool] | None = None,
) -> Plan:
    """Price a request. ``shared_text`` is the one text for all; None means personalised.

    ``routable`` says whether some connector can carry a number; a request with an
    accepted number nobody can carry is refused whole (:class:`Unavailable`, code 302).
    """
    if not recipients:
        raise MissingParameter("recipients")
    if len(recipients) > max_recipients:
        raise TooManyRecipients(len(recipients), max_recipients)
    default_country = numbers.parse_country(country)
    infos: dict[str, text.TextInfo] = {}
    seen: set[tuple[str, str]] = set()
    items: list[Item] = []
    cost = 0
    for r in recipients:
        if r.name:
            inputs.check_line("name", r.name)
        if r.reference:
            inputs.check_line("reference", r.reference)
        body = shared_text if shared_text is not None else r.text
        if body is None or body == "":
            raise MissingParameter("msg")
        info = infos.get(body)
        if info is None:
            text.check_sendable(body)
            info = text.analyze(body)
            if info.segments > max_segments:
                raise TextTooLong(info.segments, max_segments)
            infos[body] = info
        try:
            phone = numbers.normalize(r.number, default_country)
        except InvalidNumber:
            items.append(_item(Verdict.INVALID_NUMBER, r, "", "", body, info))
            continue
        key = (phone.e164, "" if shared_text is not None else body)
        if key in seen:
            items.append(_item(Verdict.DUPLICATE, r, phone.national, phone.e164, body, info))
            continue
        seen.add(key)
        if routable is not None and not routable(phone.e164):
            raise Unavailable(f"no route to {phone.e164}")
        items.append(_item(Verdict.ACCEPTED, r, phone.national, phone.e164, body, info))
        cost += info.segments
    if cost == 0:
        raise NoValidRecipient
    return Plan(items, cost)


def _item(
    verdict: Verdict, r: Recipient, national: str, e164: str, body: str, info: text.TextInfo
) -> Item:
    return Item(
        verdict=verdict,
        number=r.number,
        national=national,
        e164=e164,
        name=r.name,
        reference=r.reference,
        text=body,
        encoding=info.encoding.value,
        segments=info.segments,
    )


@dataclass(frozen=True, slots=True)
class Timing:
    """When and how a request's messages go out (REST options; the compat API uses none)."""

    schedule_at: datetime | None = None  #: None: now
    validity: timedelta = DEFAULT_VALIDITY  #: not sent by then: expired and refunded
    category: str = "transactional"  #: "marketing" waits out the account's quiet hours
    callback_url: str | None = None
    campaign_id: int | None = None  #: the campaign whose messages these are


def commit(
    conn: Connection,
    *,
    account: Account,
    planned: Plan,
    source: str,
    now: datetime,
    timing: Timing = Timing(),
) -> Receipt:
    """Charge and queue (or schedule) the accepted messages, or raise and change nothing.

    Numbers the account must not text (suppressions) are rejected here, inside the
    transaction, at no cost: the list can change between two requests.
    """
    items = _drop_suppressed(conn, account.id, planned.items)
    accepted = [i for i in items if i.verdict is Verdict.ACCEPTED]
    cost = sum(i.segments for i in accepted)
    balance = account.balance
    if cost:
        charged = account_store.charge(
            conn, account_id=account.id, secret_hash=account.secret_hash, amount=cost, now=now
        )
        if charged is None:
            current = account_store.by_id(conn, account.id)
            if current is None or not current.enabled or current.secret_hash != account.secret_hash:
                raise AuthenticationFailed
            raise InsufficientCredits(cost, current.balance)
        balance = charged
    elif not account_store.is_current(conn, account.id, account.secret_hash):
        # Nothing to charge, so no charge re-checked the (maybe cached) credentials.
        raise AuthenticationFailed
    due = timing.schedule_at if timing.schedule_at and timing.schedule_at > now else now
    if timing.category == "marketing" and account.quiet_hours:
        due = schedule.release_time(
            due, schedule.parse_quiet_hours(account.quiet_hours), account.timezone
        )
    status = MessageState.SCHEDULED if due > now else MessageState.QUEUED
    ids = message_store.insert_queued(
        conn,
        account_id=account.id,
        source=source,
        items=accepted,
        now=now,
        schedule=message_store.Schedule(
            status=status,
            due_at=due,
            expires_at=due + timing.validity,
            category=timing.category,
            callback_url=timing.callback_url,
            campaign_id=timing.campaign_id,
        ),
    )
    if cost:
        account_store.record_ledger(
            conn,
            account_id=account.id,
            kind="charge",
            amount=-cost,
            balance_after=balance,
            now=now,
            message_id=ids[0],
            messages=len(ids),
            note=f"{source}: {len(ids)} mensajes",
        )
    next_id = iter(ids)
    message_ids = [next(next_id) if i.verdict is Verdict.ACCEPTED else None for i in items]
    return Receipt(items, message_ids, cost, balance, status, due)


def _drop_suppressed(conn: Connection, account_id: int, items: list[Item]) -> list[Item]:
    numbers = [i.e164 for i in items if i.verdict is Verdict.ACCEPTED]
    suppressed = suppression_store.among(conn, account_id, numbers)
    if not suppressed:
        return items
    return [
        replace(i, verdict=Verdict.OPTED_OUT)
        if i.verdict is Verdict.ACCEPTED and i.e164 in suppressed
        else i
        for i in items
    ]
