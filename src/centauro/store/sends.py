"""A whole send on PostgreSQL in one statement: suppressions, charge, messages, ledger row.

On PostgreSQL every statement is a round trip to the server, and the writer is one
connection: a single send used to cost four (suppression check, charge, insert, ledger
row). Here they are one ``WITH`` statement whose data-modifying parts run on one
snapshot, each gated on the one before: the messages and the ledger row are written only
if the conditional ``UPDATE`` charged the account (enabled, secret unchanged, balance
covering the price of the numbers left after suppressions). The recipients travel as
arrays (``unnest``), so a bulk request is the same single statement.

SQLite keeps the statement-per-step path in ``service/submit.py``: its statements are
function calls, not round trips, and it has no data-modifying ``WITH``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from centauro.store import sql
from centauro.store.messages import NewMessage, Schedule

_SEND = """
WITH items AS (
    SELECT * FROM unnest(:ord::int[], :recipient::text[], :name::text[], :reference::text[],
                         :text::text[], :encoding::text[], :segments::int[])
        AS t(ord, recipient, name, reference, text, encoding, segments)
), kept AS (
    SELECT * FROM items i
    WHERE NOT EXISTS (SELECT 1 FROM suppressions s
                      WHERE s.account_id = :account_id AND s.number = i.recipient)
), total AS (
    SELECT COALESCE(SUM(segments), 0) AS cost, COUNT(*) AS n FROM kept
), charged AS (
    UPDATE accounts SET balance = balance - total.cost, updated_at = :now
    FROM total
    WHERE id = :account_id AND enabled AND secret_hash = :secret_hash
      AND total.cost > 0 AND balance >= total.cost
    RETURNING balance
), ids AS (
    SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id
    FROM generate_series(1, (SELECT n FROM total))
    WHERE EXISTS (SELECT 1 FROM charged)
), numbered AS (
    SELECT k.*, i.id
    FROM (SELECT kept.*, row_number() OVER (ORDER BY ord) AS rn FROM kept) k
    JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM ids) i USING (rn)
), inserted AS (
    INSERT INTO messages (id, account_id, recipient, name, reference, text, encoding, segments,
                          cost, status, source, due_at, attempts, category, callback_url,
                          expires_at, created_at, updated_at, sender, udh, campaign_id)
    SELECT id, :account_id, recipient, name, reference, text, encoding, segments, segments,
           :status, :source, :due_at, 0, :category, :callback_url, :expires_at, :now, :now,
           CASE WHEN :default_sender
                THEN (SELECT value FROM sender_ids WHERE account_id = :account_id AND is_default)
                ELSE :sender END,
           :udh, CAST(:campaign_id AS BIGINT)
    FROM numbered
), charge_row AS (
    INSERT INTO ledger (account_id, kind, amount, balance_after, message_id, messages, note,
                        created_at)
    SELECT :account_id, 'charge', -total.cost, charged.balance,
           (SELECT MIN(id) FROM numbered), total.n,
           LEFT(:source || ': ' || total.n || ' mensajes', 200), :now
    FROM charged, total
)
SELECT (SELECT balance FROM charged),
       (SELECT cost FROM total),
       a.balance, a.enabled AND a.secret_hash = :secret_hash,
       ARRAY(SELECT ord FROM items EXCEPT SELECT ord FROM kept),
       ARRAY(SELECT id FROM numbered ORDER BY ord)
FROM (SELECT 1) one LEFT JOIN accounts a ON a.id = :account_id
"""


@dataclass(frozen=True, slots=True)
class Sent:
    """What the statement did; nothing was written unless ``charged`` is set."""

    charged: int | None  #: the balance after the charge; None: not charged
    cost: int  #: the price of the items left after suppressions
    balance: int | None  #: the balance as the statement found it (None: no such account)
    current: bool  #: the account is enabled and its secret unchanged
    suppressed: frozenset[int]  #: indexes into ``items`` the account must not text
    ids: list[int]  #: the new message ids, in the order of the items not suppressed


def charge_and_queue(
    conn: Connection,
    *,
    account_id: int,
    secret_hash: str,
    items: Sequence[NewMessage],
    source: str,
    now: datetime,
    schedule: Schedule,
) -> Sent:
    """Charge ``items`` (less the suppressed numbers) and queue them, in one round trip."""
    return start(
        conn,
        account_id=account_id,
        secret_hash=secret_hash,
        items=items,
        source=source,
        now=now,
        schedule=schedule,
    )()


def start(
    conn: Connection,
    *,
    account_id: int,
    secret_hash: str,
    items: Sequence[NewMessage],
    source: str,
    now: datetime,
    schedule: Schedule,
) -> Callable[[], Sent]:
    """Send :func:`charge_and_queue`'s statement; return a function that reads its outcome
    (after the writer's pipeline synced, when there is one)."""
    first_row = sql.fetchone_later(
        conn,
        _SEND,
        {
            "ord": list(range(len(items))),
            "recipient": [i.e164 for i in items],
            "name": [i.name for i in items],
            "reference": [i.reference for i in items],
            "text": [i.text for i in items],
            "encoding": [i.encoding for i in items],
            "segments": [i.segments for i in items],
            "account_id": account_id,
            "secret_hash": secret_hash,
            "now": now,
            "status": schedule.status.value,
            "source": source,
            "due_at": schedule.due_at or now,
            "category": schedule.category,
            "callback_url": schedule.callback_url,
            "expires_at": schedule.expires_at,
            "sender": schedule.sender,
            "default_sender": schedule.default_sender,
            "udh": schedule.udh,
            "campaign_id": schedule.campaign_id,
        },
    )
    return lambda: _sent(first_row())


def _sent(row: tuple[Any, ...] | None) -> Sent:
    assert row is not None  # the statement always returns one row
    return Sent(
        charged=None if row[0] is None else int(row[0]),
        cost=int(row[1]),
        balance=None if row[2] is None else int(row[2]),
        current=bool(row[3]),
        suppressed=frozenset(int(o) for o in row[4]),
        ids=[int(i) for i in row[5]],
    )
