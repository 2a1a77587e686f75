"""Statements on messages: the bulk insert of accepted messages, and lookups.

The insert is the hot path of a bulk request (10,000 rows in one go), so it skips
SQLAlchemy's per-value type processing and hands the driver plain tuples; ids are
allocated up front so the caller can answer with them without a RETURNING round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from centauro.domain.models import Message
from centauro.domain.states import MessageState
from centauro.store import sql
from centauro.store.tables import messages


class NewMessage(Protocol):
    """One accepted message as the submit use case hands it in (its cost is its segments)."""

    @property
    def e164(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def encoding(self) -> str: ...
    @property
    def segments(self) -> int: ...


_INSERT_COLUMNS = (
    "id",
    "account_id",
    "recipient",
    "name",
    "reference",
    "text",
    "encoding",
    "segments",
    "cost",
    "status",
    "source",
    "due_at",
    "attempts",
    "category",
    "callback_url",
    "expires_at",
    "created_at",
    "updated_at",
    "sender",
    "udh",
    "campaign_id",
)


_SENDER = _INSERT_COLUMNS.index("sender")
#: The account's default sender ID as the value of the ``sender`` column (NULL: none).
_DEFAULT_SENDER = "(SELECT value FROM sender_ids WHERE account_id = {mark} AND is_default)"


@dataclass(frozen=True, slots=True)
class Schedule:
    """When and how accepted messages go out (the same for a whole request)."""

    status: MessageState = MessageState.QUEUED  #: QUEUED, or SCHEDULED when due later
    due_at: datetime | None = None  #: None: now
    expires_at: datetime | None = None
    category: str = "transactional"
    callback_url: str | None = None
    sender: str | None = None  #: the sender ID they go out with (None: the connector's)
    #: Take the account's default sender ID, read inside the INSERT itself (no extra round
    #: trip on the hot path); ``sender`` is then ignored.
    default_sender: bool = False
    udh: str | None = None  #: binary messages: the UDH elements every part repeats (hex)
    campaign_id: int | None = None  #: the campaign that queued them, if any


#: up to this many rows, PostgreSQL numbers them in the INSERT (see insert_queued)
RETURNING_AT_MOST = 16


def allocate_ids(conn: Connection, count: int) -> list[int]:
    """Reserve ``count`` message ids inside the current write transaction."""
    if count <= 0:
        return []
    if conn.dialect.name == "sqlite":
        # BEGIN IMMEDIATE holds the write lock, so nobody else can take these ids;
        # sqlite_sequence follows the largest id inserted, so ids are never reused.
        row = sql.fetchone(conn, "SELECT seq FROM sqlite_sequence WHERE name = 'messages'")
        first = int(row[0] if row else 0) + 1
        return list(range(first, first + count))
    rows = sql.fetchall(
        conn,
        "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, :n)",
        {"n": count},
    )
    return [int(r[0]) for r in rows]


def insert_queued(
    conn: Connection,
    *,
    account_id: int,
    source: str,
    items: Sequence[NewMessage],
    now: datetime,
    schedule: Schedule = Schedule(),
) -> list[int]:
    """Insert ``items`` as ``queued`` (or ``scheduled``) messages; return their ids in order."""
    if not items:
        return []
    send = QueuedSend(account_id, source, items, now, schedule)
    if conn.dialect.name == "sqlite" or len(items) > RETURNING_AT_MOST:
        return insert_queued_many(conn, [send])[0]
    # On PostgreSQL a few rows take their ids from the sequence in the INSERT itself
    # (one round trip less than asking nextval first: that is every single send).
    marks, params = _rows(conn, send, [0] * len(items))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            _statement(marks[1:], returning=True), [p[1:] for p in params], returning=True
        )
        ids = []
        while True:
            ids.append(int(cursor.fetchone()[0]))
            if not cursor.nextset():
                break
    finally:
        cursor.close()
    return ids


@dataclass(frozen=True, slots=True)
class QueuedSend:
    """One request's messages for :func:`insert_queued_many`."""

    account_id: int
    source: str
    items: Sequence[NewMessage]
    now: datetime
    schedule: Schedule = Schedule()


def insert_queued_many(conn: Connection, sends: Sequence[QueuedSend]) -> list[list[int]]:
    """:func:`insert_queued` for several requests at once: one ``executemany`` per form of
    the statement instead of one per request (the writer's batch of single sends on SQLite,
    service/submit.py ``Commit.together``). Each request's ids, in request order."""
    ids = iter(allocate_ids(conn, sum(len(s.items) for s in sends)))
    by_statement: dict[str, list[tuple[Any, ...]]] = {}
    numbered: list[list[int]] = []
    for send in sends:
        own = [next(ids) for _ in send.items]
        numbered.append(own)
        if own:
            marks, params = _rows(conn, send, own)
            by_statement.setdefault(_statement(marks), []).extend(params)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for statement, params in by_statement.items():
            cursor.executemany(statement, params)
    finally:
        cursor.close()
    return numbered


def _rows(
    conn: Connection, send: QueuedSend, ids: Sequence[int]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One request's rows (every column, ``id`` first) and the value of each column in
    the INSERT: a placeholder, or the account's default sender read by a sub-select."""
    schedule = send.schedule
    stamp = sql.stamp(conn, send.now)
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    marks_list = [mark] * len(_INSERT_COLUMNS)
    sender: object = schedule.sender
    if schedule.default_sender:
        marks_list[_SENDER] = _DEFAULT_SENDER.format(mark=mark)
        sender = send.account_id
    status = schedule.status.value
    due = sql.stamp(conn, schedule.due_at or send.now)
    expires = sql.stamp(conn, schedule.expires_at)
    params = [
        (
            mid,
            send.account_id,
            m.e164,
            m.name,
            m.reference,
            m.text,
            m.encoding,
            m.segments,
            m.segments,
            status,
            send.source,
            due,
            0,
            schedule.category,
            schedule.callback_url,
            expires,
            stamp,
            stamp,
            sender,
            schedule.udh,
            schedule.campaign_id,
        )
        for mid, m in zip(ids, send.items, strict=True)
    ]
    return marks_list, params


def _statement(marks: Sequence[str], *, returning: bool = False) -> str:
    """The INSERT of ``marks`` (all columns, or all but ``id`` numbered by the sequence)."""
    columns = ", ".join(_INSERT_COLUMNS[len(_INSERT_COLUMNS) - len(marks) :])
    tail = " RETURNING id" if returning else ""
    return f"INSERT INTO messages ({columns}) VALUES ({', '.join(marks)}){tail}"  # noqa: S608


def _message(row: Any) -> Message:
    return Message(
        id=row.id,
        account_id=row.account_id,
        recipient=row.recipient,
        name=row.name,
        reference=row.reference,
        text=row.text,
        encoding=row.encoding,
        segments=row.segments,
        cost=row.cost,
        status=MessageState(row.status),
        source=row.source,
        attempts=row.attempts,
        connector=row.connector,
        carrier_id=row.carrier_id,
        error=row.error,
        category=row.category,
        callback_url=row.callback_url,
        due_at=row.due_at,
        expires_at=row.expires_at,
        claimed=row.claimed_by is not None,
        created_at=row.created_at,
        sent_at=row.sent_at,
        done_at=row.done_at,
        updated_at=row.updated_at,
        sender=row.sender,
    )


def lock(conn: Connection, message_id: int) -> None:
    """Wait for, then hold, the row lock of ``message_id`` until the transaction ends
    (PostgreSQL; on SQLite the writer holds the whole file already). A claim another
    connection made and has not committed yet is then seen by the next statement."""
    if conn.dialect.name == "postgresql":
        sql.execute(conn, "SELECT id FROM messages WHERE id = :id FOR UPDATE", {"id": message_id})


def by_id(conn: Connection, message_id: int, *, account_id: int | None = None) -> Message | None:
    """One message; with ``account_id``, only if it belongs to that account."""
    query = select(messages).where(messages.c.id == message_id)
    if account_id is not None:
        query = query.where(messages.c.account_id == account_id)
    row = conn.execute(query).first()
    return _message(row) if row else None


def listing(
    conn: Connection,
    *,
    account_id: int | None = None,
    status: str | None = None,
    recipient: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
    reference: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Message]:
    """Messages newest first, filtered; ``before_id`` pages backwards.

    ``since <= created_at < until`` when given (aware datetimes). With dates, newest first
    means by ``created_at`` (then id) and ``before_id`` names the last row seen, so a day
    weeks ago is the end of a range of ``created_at``, not a walk of every newer message.
    The order names the columns an equality filter fixes, so the planner takes the index
    that matches the filters (docs/performance.md, "panel search") and never walks the
    primary key hoping for matches (an account with none of a status: all of it).
    """
    query = select(messages)
    if account_id is not None:
        query = query.where(messages.c.account_id == account_id)
    if status is not None:
        query = query.where(messages.c.status == status)
    if recipient is not None:
        query = query.where(messages.c.recipient == recipient)
    if reference is not None:
        query = query.where(messages.c.reference == reference)
    if since is not None:
        query = query.where(messages.c.created_at >= since)
    if until is not None:
        query = query.where(messages.c.created_at < until)
    dated = since is not None or until is not None
    by_date = dated and recipient is None
    if before_id is not None:
        query = query.where(_before(before_id, by_date=by_date))
    order = _newest_first(
        recipient=recipient, account_id=account_id, status=status, by_date=by_date
    )
    rows = conn.execute(query.order_by(*order).limit(limit))
    return [_message(r) for r in rows]


def _before(before_id: int, *, by_date: bool) -> ColumnElement[bool]:
    """Rows after ``before_id`` in the listing's order."""
    if not by_date:
        return messages.c.id < before_id
    anchor = select(messages.c.created_at).where(messages.c.id == before_id).scalar_subquery()
    return and_(
        messages.c.created_at <= anchor,
        or_(messages.c.created_at < anchor, messages.c.id < before_id),
    )


def _newest_first(
    *, recipient: str | None, account_id: int | None, status: str | None, by_date: bool
) -> list[Any]:
    """ORDER BY for :func:`listing`: newest first, led by the columns fixed by equality
    (they change nothing in the result) so it is the order of the index to use:
    ``(recipient, id)``, ``(account_id, created_at)`` / ``(created_at, status)``,
    ``(account_id, status, id)``, ``(status, id)``, ``(account_id, id)``, the primary key."""
    newest = [messages.c.id.desc()]
    if recipient is not None:
        return [messages.c.recipient.desc(), *newest]
    if by_date:
        lead = [messages.c.account_id.desc()] if account_id is not None else []
        return [*lead, messages.c.created_at.desc(), *newest]
    lead = [messages.c.account_id.desc()] if account_id is not None else []
    if status is not None:
        lead.append(messages.c.status.desc())
    return [*lead, *newest]


def count_by_status(conn: Connection, ids: Sequence[int]) -> dict[str, int]:
    """How many of ``ids`` are in each state (tests and benchmarks watch progress with it)."""
    rows = conn.execute(
        select(messages.c.status, func.count())
        .where(messages.c.id.in_(list(ids)))
        .group_by(messages.c.status)
    )
    return {status: int(n) for status, n in rows}


#: The states a message waits in; final states are counted by the metrics' counters.
OPEN_STATES = (MessageState.SCHEDULED, MessageState.QUEUED, MessageState.SENT)


def count_open(conn: Connection) -> dict[str, int]:
    """Messages in each open state: one range of the (status, id) index per state, so the
    cost follows the open messages, not the table (docs/metrics.md has the figures)."""
    counts = {state.value: 0 for state in OPEN_STATES}
    for state in OPEN_STATES:
        query = select(func.count()).select_from(messages).where(messages.c.status == state.value)
        counts[state.value] = conn.execute(query).scalar_one()
    return counts
