"""A whole send on PostgreSQL in one statement: suppressions, charge, messages, ledger row;
and a writer batch of sends in one statement (:func:`start_many`).

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
            **_item_columns(items),
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


def _item_columns(items: Sequence[NewMessage]) -> dict[str, list[Any]]:
    """The messages' columns as the arrays the statements ``unnest``."""
    return {
        "recipient": [i.e164 for i in items],
        "name": [i.name for i in items],
        "reference": [i.reference for i in items],
        "text": [i.text for i in items],
        "encoding": [i.encoding for i in items],
        "segments": [i.segments for i in items],
    }


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


#: The sends of a whole writer batch, several requests and accounts, in one statement.
#: Each account is charged once for all its requests, and only when every one of them has
#: a price, carries the same secret and the balance covers them all; the requests of any
#: other account are left alone (``charged`` NULL) for :func:`start` to run one by one, so
#: each passes or fails as it would alone. Every account of the batch is locked first, in
#: id order (``locked``: the lock is taken after the sort; the UPDATE here and the sends run
#: alone after only touch rows already held), as the writer's other batches and refunds
#: lock them, so two writers cannot deadlock; ``NO KEY``, the UPDATE's own strength, so
#: inserts that reference the account are not held up. Each per-request lookup is grouped
#: once (``per_req``, ``left_out``): the statement's cost grows with the items, not with
#: requests × items.
#: Per request, the balance after it is that before the account's charge less its own
#: price and those of the account's requests before it.
_SEND_MANY = """
WITH reqs AS (
    SELECT * FROM unnest(:r_req::int[], :r_account::bigint[], :r_secret::text[],
                         :r_status::text[], :r_source::text[], :r_due::timestamptz[],
                         :r_category::text[], :r_callback::text[], :r_expires::timestamptz[],
                         :r_sender::text[], :r_default_sender::bool[], :r_udh::text[],
                         :r_campaign::bigint[], :r_now::timestamptz[])
        AS t(req, account_id, secret_hash, status, source, due_at, category, callback_url,
             expires_at, sender, default_sender, udh, campaign_id, now)
), items AS (
    SELECT * FROM unnest(:req::int[], :ord::int[], :recipient::text[], :name::text[],
                         :reference::text[], :text::text[], :encoding::text[], :segments::int[])
        AS t(req, ord, recipient, name, reference, text, encoding, segments)
), kept AS (
    SELECT i.* FROM items i JOIN reqs r USING (req)
    WHERE NOT EXISTS (SELECT 1 FROM suppressions s
                      WHERE s.account_id = r.account_id AND s.number = i.recipient)
), costs AS (
    SELECT r.req, r.account_id, r.secret_hash, r.now,
           COALESCE(SUM(k.segments), 0) AS cost, COUNT(k.req) AS n
    FROM reqs r LEFT JOIN kept k USING (req)
    GROUP BY r.req, r.account_id, r.secret_hash, r.now
), totals AS (
    SELECT account_id, MIN(secret_hash) AS secret_hash, SUM(cost) AS total, MAX(now) AS now
    FROM costs
    GROUP BY account_id
    HAVING COUNT(DISTINCT secret_hash) = 1 AND MIN(cost) > 0
), locked AS (
    SELECT id FROM accounts WHERE id IN (SELECT account_id FROM reqs)
    ORDER BY id FOR NO KEY UPDATE
), charged AS (
    UPDATE accounts a SET balance = a.balance - t.total, updated_at = t.now
    FROM totals t, locked l
    WHERE a.id = t.account_id AND l.id = a.id AND a.enabled AND a.secret_hash = t.secret_hash
      AND a.balance >= t.total
    RETURNING a.id, a.balance
), ok AS (
    SELECT c.req, c.account_id, c.cost, c.n,
           ch.balance + SUM(c.cost) OVER (PARTITION BY c.account_id ORDER BY c.req DESC)
               - c.cost AS balance_after
    FROM costs c JOIN charged ch ON ch.id = c.account_id
), todo AS (
    SELECT k.*, row_number() OVER (ORDER BY k.req, k.ord) AS rn
    FROM kept k JOIN ok USING (req)
), ids AS (
    SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id
    FROM generate_series(1, (SELECT COUNT(*) FROM todo))
), numbered AS (
    SELECT t.*, i.id
    FROM todo t JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM ids) i USING (rn)
), inserted AS (
    INSERT INTO messages (id, account_id, recipient, name, reference, text, encoding, segments,
                          cost, status, source, due_at, attempts, category, callback_url,
                          expires_at, created_at, updated_at, sender, udh, campaign_id)
    SELECT n.id, r.account_id, n.recipient, n.name, n.reference, n.text, n.encoding,
           n.segments, n.segments, r.status, r.source, r.due_at, 0, r.category,
           r.callback_url, r.expires_at, r.now, r.now,
           CASE WHEN r.default_sender
                THEN (SELECT value FROM sender_ids s
                      WHERE s.account_id = r.account_id AND s.is_default)
                ELSE r.sender END,
           r.udh, r.campaign_id
    FROM numbered n JOIN reqs r USING (req)
), per_req AS (
    SELECT req, MIN(id) AS first_id, array_agg(id ORDER BY ord) AS ids
    FROM numbered GROUP BY req
), left_out AS (
    SELECT i.req, array_agg(i.ord ORDER BY i.ord) AS ords
    FROM items i LEFT JOIN kept k USING (req, ord)
    WHERE k.req IS NULL
    GROUP BY i.req
), charge_rows AS (
    INSERT INTO ledger (account_id, kind, amount, balance_after, message_id, messages, note,
                        created_at)
    SELECT o.account_id, 'charge', -o.cost, o.balance_after, p.first_id, o.n,
           LEFT(r.source || ': ' || o.n || ' mensajes', 200), r.now
    FROM ok o JOIN reqs r USING (req) LEFT JOIN per_req p USING (req)
    ORDER BY o.req
)
SELECT r.req, o.balance_after, o.cost, COALESCE(l.ords, '{}'), COALESCE(p.ids, '{}')
FROM reqs r LEFT JOIN ok o USING (req) LEFT JOIN per_req p USING (req)
     LEFT JOIN left_out l USING (req)
ORDER BY r.req
"""


@dataclass(frozen=True, slots=True)
class Request:
    """One request of :func:`start_many`: what :func:`start` takes, for one account."""

    account_id: int
    secret_hash: str
    items: Sequence[NewMessage]
    source: str
    now: datetime
    schedule: Schedule


def start_many(conn: Connection, requests: Sequence[Request]) -> Callable[[], list[Sent | None]]:
    """Send the statement for ``requests`` (store/writer.py's batch); return a function
    that reads, per request, what it did — None for a request left alone (its account
    was not charged: nothing of it was written; run it through :func:`start`)."""
    if not requests:
        return lambda: []
    rows = sql.fetchall_later(
        conn,
        _SEND_MANY,
        {
            "r_req": list(range(len(requests))),
            "r_account": [r.account_id for r in requests],
            "r_secret": [r.secret_hash for r in requests],
            "r_status": [r.schedule.status.value for r in requests],
            "r_source": [r.source for r in requests],
            "r_due": [r.schedule.due_at or r.now for r in requests],
            "r_category": [r.schedule.category for r in requests],
            "r_callback": [r.schedule.callback_url for r in requests],
            "r_expires": [r.schedule.expires_at for r in requests],
            "r_sender": [r.schedule.sender for r in requests],
            "r_default_sender": [r.schedule.default_sender for r in requests],
            "r_udh": [r.schedule.udh for r in requests],
            "r_campaign": [r.schedule.campaign_id for r in requests],
            "r_now": [r.now for r in requests],
            "req": [k for k, r in enumerate(requests) for _ in r.items],
            "ord": [o for r in requests for o in range(len(r.items))],
            **_item_columns([i for r in requests for i in r.items]),
        },
    )
    return lambda: [_sent_of_many(row) for row in rows()]


def _sent_of_many(row: tuple[Any, ...]) -> Sent | None:
    if row[1] is None:
        return None
    return Sent(
        charged=int(row[1]),
        cost=int(row[2]),
        balance=None,
        current=True,
        suppressed=frozenset(int(o) for o in row[3]),
        ids=[int(i) for i in row[4]],
    )
