"""Record what carriers did with messages, refunding those that end without delivery.

Called by the delivery runners inside write transactions. Every move is guarded by the
message's current state in SQL, so a late or repeated report never moves a final
message again and never refunds twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from centauro.domain.states import REFUNDED, MessageState
from centauro.metrics import Tally
from centauro.service import events
from centauro.store import accounts as account_store
from centauro.store import outbox
from centauro.store import receipts as store_receipts


@dataclass(frozen=True, slots=True)
class Final:
    """A message's last state, and why."""

    message_id: int
    state: MessageState
    error: str | None = None
    connector: str = ""  #: the one that carried it or reported on it, for the metrics


@dataclass(frozen=True, slots=True)
class CarrierReceipt:
    """A carrier's report on a message it accepted, keyed by the carrier's id."""

    carrier_id: str
    state: MessageState
    error: str | None = None


def record_sent(
    conn: Connection, sent: Sequence[tuple[int, str, tuple[str, ...]]], now: datetime
) -> int:
    """``(message_id, connector, carrier_ids)`` each: the carrier took them."""
    changed = outbox.mark_sent(conn, sent, now)
    events.status_changed(conn, [m for m, _, _ in sent], now)
    return changed


def record_retry(
    conn: Connection, retries: Sequence[tuple[int, datetime, str]], now: datetime
) -> int:
    """``(message_id, due_at, error)`` each: try again later."""
    return outbox.reschedule(conn, retries, now)


def record_final(
    conn: Connection,
    finals: Sequence[Final],
    now: datetime,
    *,
    tally: Tally | None = None,
    by_receipt: bool = False,
) -> int:
    """Move messages to final states; refund those in :data:`REFUNDED`. Rows changed.

    ``tally`` counts the moves by account, connector and state (and, ``by_receipt``,
    how long each receipt took after the carrier's acceptance) for the metrics.
    """
    if not finals:
        return 0
    open_rows = {row.id: row for row in outbox.open_messages(conn, [f.message_id for f in finals])}
    todo = [f for f in finals if f.message_id in open_rows]
    changed = outbox.finish(conn, [(f.message_id, f.state.value, f.error) for f in todo], now)
    events.status_changed(conn, [f.message_id for f in todo], now)
    if tally is not None:
        for f in todo:
            row = open_rows[f.message_id]
            tally.add(row.account_id, f.connector, f.state.value)
            if by_receipt and row.sent_at is not None:
                tally.receipt_age(f.connector, (now - row.sent_at).total_seconds())
    refunds = [
        (f.message_id, open_rows[f.message_id].account_id, open_rows[f.message_id].cost, f.state)
        for f in todo
        if f.state in REFUNDED
    ]
    _refund(conn, refunds, now)
    return changed


#: A concatenated message's state from its parts' receipts: delivered only if every
#: part was; otherwise the gravest part state (rejected and expired are refunded).
_GRAVITY = (MessageState.REJECTED, MessageState.EXPIRED, MessageState.UNDELIVERED)


def aggregate(part_states: Sequence[str]) -> MessageState:
    states = {MessageState(s) for s in part_states}
    for state in _GRAVITY:
        if state in states:
            return state
    return MessageState.DELIVERED


def apply_receipts(
    conn: Connection,
    connector: str,
    reports: Sequence[CarrierReceipt],
    now: datetime,
    *,
    tally: Tally | None = None,
) -> list[CarrierReceipt]:
    """Match receipts to messages (or parts) and finish what they complete; return the
    receipts that matched nothing (yet: one may overtake the record of its submit)."""
    matches = store_receipts.match_receipts(conn, connector, [r.carrier_id for r in reports])
    finals: list[Final] = []
    part_results: list[tuple[store_receipts.Match, str, str | None]] = []
    for r in reports:
        match = matches.get(r.carrier_id)
        if match is None or not match.open:
            continue  # unknown (the caller keeps it), or a repeat for a final message
        if match.part is None:
            finals.append(Final(match.message_id, r.state, r.error, connector))
        else:
            part_results.append((match, r.state.value, r.error))
    completed = store_receipts.record_part_receipts(conn, part_results, now)
    errors = {m.message_id: e for m, _, e in part_results if e}
    finals.extend(
        Final(message_id, aggregate(states), errors.get(message_id), connector)
        for message_id, states in completed.items()
    )
    record_final(conn, finals, now, tally=tally, by_receipt=True)
    return [r for r in reports if r.carrier_id not in matches]


#: Client ids by account id, for the metrics' account label (a client id never changes).
_CLIENT_IDS: dict[int, str] = {}


def label_accounts(conn: Connection, tally: Tally) -> Tally:
    """Give ``tally`` the client ids of its accounts (read once per account and process)."""
    missing = [a for a in tally.account_ids if a not in _CLIENT_IDS]
    if missing:
        _CLIENT_IDS.update(account_store.client_ids(conn, missing))
    tally.client_ids = {a: _CLIENT_IDS[a] for a in tally.account_ids if a in _CLIENT_IDS}
    return tally


def _refund(
    conn: Connection, refunds: Sequence[tuple[int, int, int, MessageState]], now: datetime
) -> None:
    """Give back each message's cost, one ledger row per message."""
    by_account: dict[int, list[tuple[int, int, MessageState]]] = defaultdict(list)
    for message_id, account_id, cost, state in refunds:
        if cost > 0:
            by_account[account_id].append((message_id, cost, state))
    # In account order, as sends charge them (Writer.run(order=account.id)): on PostgreSQL
    # a delivering process's two writers then lock balance rows in one order, no deadlock.
    for account_id, rows in sorted(by_account.items()):
        total = sum(cost for _, cost, _ in rows)
        balance = account_store.add_credit(conn, account_id=account_id, amount=total, now=now)
        running = (balance or 0) - total
        ledger_rows: list[dict[str, object]] = []
        for message_id, cost, state in rows:
            running += cost
            ledger_rows.append(
                {
                    "account_id": account_id,
                    "kind": "refund",
                    "amount": cost,
                    "balance_after": running,
                    "message_id": message_id,
                    "messages": 1,
                    "note": f"reembolso: {state.value}",
                    "created_at": now,
                }
            )
        account_store.record_many(conn, ledger_rows)
