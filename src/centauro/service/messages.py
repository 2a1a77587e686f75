"""Message lookups for the CLI and the APIs; an account only ever sees its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from centauro.domain.errors import Conflict, InvalidRequest, NotFound
from centauro.domain.models import Message
from centauro.domain.states import MessageState
from centauro.service import outcomes
from centauro.store import messages as store

MAX_PAGE = 1000


def get(conn: Connection, message_id: int, *, account_id: int | None = None) -> Message:
    message = store.by_id(conn, message_id, account_id=account_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    return message


def find(
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
    if status is not None and status not in MessageState.__members__.values():
        raise InvalidRequest(f"unknown status: {status}")
    return store.listing(
        conn,
        account_id=account_id,
        status=status,
        recipient=recipient,
        before_id=before_id,
        limit=max(1, min(limit, MAX_PAGE + 1)),  # + 1: a pager reads one row past its page
        reference=reference,
        since=since,
        until=until,
    )


def cancel(conn: Connection, message_id: int, *, account_id: int, now: datetime) -> Message:
    """Withdraw a message not yet handed to a carrier, and refund it.

    A message a dispatcher has claimed may be on its way to the carrier right now: it
    cannot be recalled, so it is a :class:`Conflict`, like one already sent.
    """
    store.lock(conn, message_id)  # a claim being committed elsewhere is seen, not missed
    message = get(conn, message_id, account_id=account_id)
    if message.status not in (MessageState.SCHEDULED, MessageState.QUEUED) or message.claimed:
        raise Conflict(
            f"message {message_id} is {message.status.value}: it can no longer be cancelled"
        )
    outcomes.record_final(
        conn, [outcomes.Final(message_id, MessageState.CANCELLED, "cancelled by the sender")], now
    )
    return get(conn, message_id, account_id=account_id)


def queue_depth(conn: Connection) -> dict[str, int]:
    """Messages not yet final, by state (scheduled, queued, sent): the metrics' queue."""
    return store.count_open(conn)
