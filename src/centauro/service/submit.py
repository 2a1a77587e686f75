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

from centauro.domain import binary as binary_rules
from centauro.domain import inputs, numbers, schedule, text
from centauro.domain.errors import (
    AuthenticationFailed,
    CentauroError,
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
from centauro.service import senders
from centauro.store import accounts as account_store
from centauro.store import messages as message_store
from centauro.store import sends as send_store
from centauro.store import suppressions as suppression_store

DEFAULT_VALIDITY = timedelta(hours=24)
#: A writer job's answer: (True, result) or (False, the error it raised).
Outcome = tuple[bool, object]


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

    @property
    def accepted(self) -> int:
        """Messages queued (or scheduled) by the request."""
        return len(self.message_ids) - self.message_ids.count(None)


@dataclass(frozen=True, slots=True)
class Binary:
    """An 8-bit binary body (SMPP data_coding 4) and its kept UDH elements (domain/binary)."""

    body: bytes
    elements: bytes = b""


def plan(
    recipients: Sequence[Recipient],
    shared_text: str | None,
    *,
    country: str,
    max_segments: int,
    max_recipients: int,
    routable: Callable[[str], bool] | None = None,
    binary: Binary | None = None,
) -> Plan:
    """Price a request. ``shared_text`` is the one text for all; None means personalised.

    ``routable`` says whether some connector can carry a number; a request with an
    accepted number nobody can carry is refused whole (:class:`Unavailable`, code 302).
    ``binary`` (the SMPP server's data_coding 4) stands for the text: stored as hex,
    priced per 140-octet part (134 with a concatenation header).
    """

    if not recipients:
        raise MissingParameter("recipients")
    if len(recipients) > max_recipients:
        raise TooManyRecipients(len(recipients), max_recipients)
    default_country = numbers.parse_country(country)
    infos: dict[str, text.TextInfo | _BinaryInfo] = {}
    if binary is not None:  # its hex stands for the text, already priced
        shared_text, infos[shared_text] = _binary_info(binary, max_segments)
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
        info = infos.get(body) or _analyzed(body, infos, max_segments)
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


class _Binary:
    value = "binary"


_BINARY = _Binary()


@dataclass(frozen=True, slots=True)
class _BinaryInfo:
    """What :func:`_item` reads of a text's analysis, for a binary body."""

    encoding: _Binary
    segments: int


def _analyzed(
    body: str, infos: dict[str, text.TextInfo | _BinaryInfo], max_segments: int
) -> text.TextInfo:
    """A text's analysis, checked and remembered for the request's other recipients."""
    text.check_sendable(body)
    info = text.analyze(body)
    if info.segments > max_segments:
        raise TextTooLong(info.segments, max_segments)
    infos[body] = info
    return info


def _binary_info(binary: Binary, max_segments: int) -> tuple[str, _BinaryInfo]:
    """The hex a binary body is stored as, and its price; refused when empty or too long."""
    parts = binary_rules.segments(binary.body, binary.elements) if binary.body else -1
    if parts < 0:
        raise MissingParameter("msg")
    if parts == 0 or parts > max_segments:
        raise TextTooLong(parts or binary_rules.MAX_PARTS + 1, max_segments)
    return binary.body.hex(), _BinaryInfo(_BINARY, parts)


def _item(
    verdict: Verdict,
    r: Recipient,
    national: str,
    e164: str,
    body: str,
    info: text.TextInfo | _BinaryInfo,
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
    #: The sender ID asked for (REST ``from``, an SMPP source_addr); None: the account's
    #: default, if any (service/senders.py). Checked in the write transaction.
    sender: str | None = None
    #: The SMPP server's rule: without any sender ID granted, ``sender`` is not checked.
    lenient_sender: bool = False
    #: A binary message's kept UDH elements, in hex (messages.udh); None: none.
    udh: str | None = None
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
    when = _schedule(conn, account, now, timing)
    if conn.dialect.name == "postgresql":
        return _start_in_one_statement(conn, account, planned, source, now, when)()
    items = _drop_suppressed(conn, account.id, planned.items)
    accepted = [i for i in items if i.verdict is Verdict.ACCEPTED]
    cost = sum(i.segments for i in accepted)
    balance = _charge(conn, account, cost, now)
    ids = message_store.insert_queued(
        conn, account_id=account.id, source=source, items=accepted, now=now, schedule=when
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
    return Receipt(items, message_ids, cost, balance, when.status, when.due_at)


def _charge(conn: Connection, account: Account, cost: int, now: datetime) -> int:
    """Take ``cost`` credits; the balance after. Raises as :func:`commit` says."""
    if not cost:
        if not account_store.is_current(conn, account.id, account.secret_hash):
            # Nothing to charge, so no charge re-checked the (maybe cached) credentials.
            raise AuthenticationFailed
        return account.balance
    charged = account_store.charge(
        conn, account_id=account.id, secret_hash=account.secret_hash, amount=cost, now=now
    )
    if charged is None:
        current = account_store.by_id(conn, account.id)
        if current is None or not current.enabled or current.secret_hash != account.secret_hash:
            raise AuthenticationFailed
        raise InsufficientCredits(cost, current.balance)
    return charged


def _schedule(
    conn: Connection, account: Account, now: datetime, timing: Timing
) -> message_store.Schedule:
    """:func:`_when` with the sender: the one asked for, checked against the account's
    grants (service/senders.py); without one, the INSERT reads the account's default."""
    sender = (
        None
        if timing.sender is None
        else senders.resolve(conn, account, timing.sender, lenient=timing.lenient_sender)
    )
    return replace(
        _when(account, now, timing),
        sender=sender,
        default_sender=timing.sender is None,
        udh=timing.udh,
        campaign_id=timing.campaign_id,
    )


def _when(account: Account, now: datetime, timing: Timing) -> message_store.Schedule:
    due = timing.schedule_at if timing.schedule_at and timing.schedule_at > now else now
    if timing.category == "marketing" and account.quiet_hours:
        due = schedule.release_time(
            due, schedule.parse_quiet_hours(account.quiet_hours), account.timezone
        )
    return message_store.Schedule(
        status=MessageState.SCHEDULED if due > now else MessageState.QUEUED,
        due_at=due,
        expires_at=due + timing.validity,
        category=timing.category,
        callback_url=timing.callback_url,
    )


#: Numbers in one send from which its write counts as heavy (store/writer.py LoopWriter).
HEAVY_SEND = 1_000


@dataclass(frozen=True, slots=True)
class Commit:
    """:func:`commit` as a writer job: ``Commit(...)(conn)`` is ``commit(conn, ...)``.

    On PostgreSQL the writer may instead call :meth:`send` for every such job of a batch
    inside one pipeline, then the functions it returned: the whole batch of sends is then
    one round trip (store/writer.py).
    """

    account: Account
    planned: Plan
    source: str
    now: datetime
    timing: Timing = Timing()

    @property
    def heavy(self) -> bool:
        """A send to many numbers: the LoopWriter runs it off the event loop (Writer.run)."""
        return len(self.planned.items) >= HEAVY_SEND

    def __call__(self, conn: Connection) -> Receipt:
        return commit(
            conn,
            account=self.account,
            planned=self.planned,
            source=self.source,
            now=self.now,
            timing=self.timing,
        )

    @staticmethod
    def together(conn: Connection, commits: Sequence[Commit]) -> list[tuple[bool, object]]:
        """SQLite: the sends of one writer batch as a few statements for all of them.

        One suppression read and one charge per account, one INSERT for every message and
        one for every ledger row, instead of about seven statements per send. With
        ``serve --workers`` two processes take turns on the file's write lock, so the time a
        send holds it bounds the rate (docs/performance.md). Outcomes, ids and ledger rows
        are those of :func:`commit` run on each in order: an account whose sends together
        are not covered (or whose secret changed) is charged send by send instead, and each
        passes or fails as alone. The writer runs this inside one savepoint and, should it
        raise, runs the sends one by one (store/writer.py).
        """
        outcomes: list[tuple[bool, object]] = [(True, None)] * len(commits)
        whens: list[message_store.Schedule | None] = []
        for k, c in enumerate(commits):
            try:
                whens.append(_schedule(conn, c.account, c.now, c.timing))
            except CentauroError as exc:
                outcomes[k] = (False, exc)
                whens.append(None)
        wanted: dict[int, set[str]] = {}
        for c, when in zip(commits, whens, strict=True):
            if when is not None:
                wanted.setdefault(c.account.id, set()).update(
                    i.e164 for i in c.planned.items if i.verdict is Verdict.ACCEPTED
                )
        suppressed = {
            account_id: suppression_store.among(conn, account_id, sorted(numbers))
            for account_id, numbers in wanted.items()
        }
        items = [_opted_out(c.planned.items, suppressed.get(c.account.id, set())) for c in commits]
        costs = [sum(i.segments for i in its if i.verdict is Verdict.ACCEPTED) for its in items]
        balances = _charge_together(conn, commits, costs, whens, outcomes)
        queued = [
            k
            for k in range(len(commits))
            if outcomes[k][0] and any(i.verdict is Verdict.ACCEPTED for i in items[k])
        ]
        numbered = message_store.insert_queued_many(
            conn,
            [
                message_store.QueuedSend(
                    commits[k].account.id,
                    commits[k].source,
                    [i for i in items[k] if i.verdict is Verdict.ACCEPTED],
                    commits[k].now,
                    whens[k],  # type: ignore[arg-type]
                )
                for k in queued
            ],
        )
        ids_of = dict(zip(queued, numbered, strict=True))
        account_store.record_many(
            conn,
            [
                {
                    "account_id": commits[k].account.id,
                    "kind": "charge",
                    "amount": -costs[k],
                    "balance_after": balances[k],
                    "message_id": ids_of[k][0],
                    "messages": len(ids_of[k]),
                    "note": f"{commits[k].source}: {len(ids_of[k])} mensajes",
                    "created_at": commits[k].now,
                }
                for k in queued
                if costs[k]
            ],
        )
        for k in range(len(commits)):
            if not outcomes[k][0]:
                continue
            next_id = iter(ids_of.get(k, ()))
            when = whens[k]
            assert when is not None
            message_ids = [
                next(next_id) if i.verdict is Verdict.ACCEPTED else None for i in items[k]
            ]
            outcomes[k] = (
                True,
                Receipt(items[k], message_ids, costs[k], balances[k], when.status, when.due_at),
            )
        return outcomes

    @staticmethod
    def send_many(conn: Connection, commits: Sequence[Commit]) -> Callable[[], list[Outcome]]:
        """PostgreSQL: the sends of one writer batch in one statement (store/sends.py
        ``start_many``): one executor run instead of one per send, a third of the server's
        time per send and far less of ours. As with :meth:`together`, an account whose
        sends are not covered all at once (or whose secret changed) has its sends run one
        by one instead, each passing or failing as alone. Sent like :meth:`send`, inside
        the writer's pipeline; the returned function reads every outcome, in order."""
        return _start_many(conn, commits)

    def send(self, conn: Connection) -> Callable[[], Receipt]:
        """Send the statement now; the returned function reads the outcome, or raises
        :class:`AuthenticationFailed` / :class:`InsufficientCredits` — and then the
        statement wrote nothing (the writer relies on it: store/writer.py)."""
        if conn.dialect.name != "postgresql":
            receipt = self(conn)
            return lambda: receipt
        when = _schedule(conn, self.account, self.now, self.timing)
        return _start_in_one_statement(
            conn, self.account, self.planned, self.source, self.now, when
        )


def _start_many(conn: Connection, commits: Sequence[Commit]) -> Callable[[], list[Outcome]]:
    """PostgreSQL: :meth:`Commit.send_many`. A send refused before any write (a sender ID
    not granted) is answered so and left out; the sends whose account could not be charged
    for all of them at once are run one by one after (one more round trip)."""
    refused: dict[int, CentauroError] = {}
    whens: dict[int, message_store.Schedule] = {}
    for k, c in enumerate(commits):
        try:
            whens[k] = _schedule(conn, c.account, c.now, c.timing)
        except CentauroError as exc:
            refused[k] = exc
    accepted = [[i for i in c.planned.items if i.verdict is Verdict.ACCEPTED] for c in commits]
    going = sorted(whens)
    pending = send_store.start_many(
        conn,
        [
            send_store.Request(
                commits[k].account.id,
                commits[k].account.secret_hash,
                accepted[k],
                commits[k].source,
                commits[k].now,
                whens[k],
            )
            for k in going
        ],
    )

    def finish() -> list[Outcome]:
        sents = dict(zip(going, pending(), strict=True))
        readers: dict[int, Callable[[], Receipt]] = {}
        alone = [k for k in going if sents[k] is None]
        if alone:
            driver = conn.connection.driver_connection
            with driver.pipeline():  # type: ignore[union-attr]
                for k in alone:
                    c = commits[k]
                    readers[k] = _start_in_one_statement(
                        conn, c.account, c.planned, c.source, c.now, whens[k]
                    )
        outcomes: list[Outcome] = []
        for k, c in enumerate(commits):
            if k in refused:
                outcomes.append((False, refused[k]))
                continue
            sent = sents[k]
            try:
                receipt = (
                    readers[k]()
                    if sent is None
                    else _receipt(c.account, c.planned, accepted[k], whens[k], sent)
                )
            except CentauroError as exc:
                outcomes.append((False, exc))
            else:
                outcomes.append((True, receipt))
        return outcomes

    return finish


def _start_in_one_statement(
    conn: Connection,
    account: Account,
    planned: Plan,
    source: str,
    now: datetime,
    when: message_store.Schedule,
) -> Callable[[], Receipt]:
    """PostgreSQL: the same steps as :func:`commit`, one statement (store/sends.py); the
    returned function reads its outcome and raises as :func:`commit` does."""
    accepted = [i for i in planned.items if i.verdict is Verdict.ACCEPTED]
    pending = send_store.start(
        conn,
        account_id=account.id,
        secret_hash=account.secret_hash,
        items=accepted,
        source=source,
        now=now,
        schedule=when,
    )
    return lambda: _receipt(account, planned, accepted, when, pending())


def _charge_together(
    conn: Connection,
    commits: Sequence[Commit],
    costs: list[int],
    whens: list[message_store.Schedule | None],
    outcomes: list[tuple[bool, object]],
) -> list[int]:
    """Charge the sends of :meth:`Commit.together` still standing (``whens[k]`` set): one
    charge per account for all its sends, or, when that is refused or some send costs
    nothing, send by send as :func:`commit` would — a refused send's outcome is set in
    ``outcomes``. Each send's balance after its own charge, in order."""
    balances = [c.account.balance for c in commits]
    by_payer: dict[tuple[int, str], list[int]] = {}
    for k, c in enumerate(commits):
        if whens[k] is not None:
            by_payer.setdefault((c.account.id, c.account.secret_hash), []).append(k)
    for (account_id, secret_hash), ks in by_payer.items():
        total = sum(costs[k] for k in ks)
        charged = None
        if len(ks) > 1 and all(costs[k] for k in ks):
            charged = account_store.charge(
                conn,
                account_id=account_id,
                secret_hash=secret_hash,
                amount=total,
                now=commits[ks[-1]].now,
            )
        if charged is not None:
            after = charged + total
            for k in ks:
                after -= costs[k]
                balances[k] = after
            continue
        for k in ks:
            try:
                balances[k] = _charge(conn, commits[k].account, costs[k], commits[k].now)
            except CentauroError as exc:
                outcomes[k] = (False, exc)
    return balances


def _receipt(
    account: Account,
    planned: Plan,
    accepted: list[Item],
    when: message_store.Schedule,
    sent: send_store.Sent,
) -> Receipt:
    if sent.charged is None:
        if not sent.current:
            raise AuthenticationFailed
        if sent.cost:
            raise InsufficientCredits(sent.cost, sent.balance or 0)
    suppressed = {accepted[k].e164 for k in sent.suppressed}
    items = [
        replace(i, verdict=Verdict.OPTED_OUT)
        if i.verdict is Verdict.ACCEPTED and i.e164 in suppressed
        else i
        for i in planned.items
    ]
    next_id = iter(sent.ids)
    message_ids = [next(next_id) if i.verdict is Verdict.ACCEPTED else None for i in items]
    balance = sent.charged if sent.charged is not None else account.balance
    return Receipt(items, message_ids, sent.cost, balance, when.status, when.due_at)


def _drop_suppressed(conn: Connection, account_id: int, items: list[Item]) -> list[Item]:
    numbers = [i.e164 for i in items if i.verdict is Verdict.ACCEPTED]
    return _opted_out(items, suppression_store.among(conn, account_id, numbers))


def _opted_out(items: list[Item], suppressed: set[str]) -> list[Item]:
    if not suppressed:
        return items
    return [
        replace(i, verdict=Verdict.OPTED_OUT)
        if i.verdict is Verdict.ACCEPTED and i.e164 in suppressed
        else i
        for i in items
    ]
