"""Statements on accounts and their credit ledger.

The balance column is a cache of the ledger's sum, changed only together with a new
ledger row in :func:`apply_credit`, by one conditional UPDATE: two concurrent charges
can never both pass the ``balance >= cost`` check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from centauro.domain.models import Account, LedgerEntry
from centauro.store import sql
from centauro.store.tables import accounts, ledger


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        client_id=row.client_id,
        enabled=row.enabled,
        country=row.country,
        balance=row.balance,
        created_at=row.created_at,
        secret_hash=row.secret_hash,
        timezone=row.timezone,
        quiet_hours=f"{row.quiet_start}-{row.quiet_end}" if row.quiet_start else None,
        rate_limit=row.rate_limit,
        max_recipients=row.max_recipients,
    )


def insert_account(
    conn: Connection,
    *,
    name: str,
    client_id: str,
    secret_hash: str,
    signing_key: str,
    country: str,
    now: datetime,
) -> Account:
    """Create an account with a zero balance."""
    row = conn.execute(
        insert(accounts)
        .values(
            name=name,
            client_id=client_id,
            secret_hash=secret_hash,
            signing_key=signing_key,
            country=country,
            enabled=True,
            balance=0,
            created_at=now,
            updated_at=now,
        )
        .returning(*accounts.c)
    ).one()
    return _account(row)


def client_ids(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    """Client ids of the accounts ``ids`` (the label of their metrics)."""
    if not ids:
        return {}
    rows = conn.execute(select(accounts.c.id, accounts.c.client_id).where(accounts.c.id.in_(ids)))
    return {row.id: row.client_id for row in rows}


def by_client_id(conn: Connection, client_id: str) -> Account | None:
    """The account a credential id belongs to."""
    row = conn.execute(select(accounts).where(accounts.c.client_id == client_id)).first()
    return _account(row) if row else None


def by_id(conn: Connection, account_id: int) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
    return _account(row) if row else None


def by_name(conn: Connection, name: str) -> Account | None:
    """The first account with this display name (names are not unique)."""
    row = conn.execute(
        select(accounts).where(accounts.c.name == name).order_by(accounts.c.id).limit(1)
    ).first()
    return _account(row) if row else None


def signing_key(conn: Connection, account_id: int) -> str | None:
    """The account's stored (maybe sealed) callback signing key."""
    row = sql.fetchone(conn, "SELECT signing_key FROM accounts WHERE id = :id", {"id": account_id})
    return str(row[0]) if row and row[0] is not None else None


def all_accounts(conn: Connection) -> list[Account]:
    return [_account(r) for r in conn.execute(select(accounts).order_by(accounts.c.id))]


def set_fields(conn: Connection, account_id: int, now: datetime, **values: object) -> None:
    """Change columns of one account (enabled, secret_hash, name, country)."""
    conn.execute(
        update(accounts).where(accounts.c.id == account_id).values(updated_at=now, **values)
    )


_CURRENT = "SELECT 1 FROM accounts WHERE id = :id AND enabled AND secret_hash = :secret_hash"


def is_current(conn: Connection, account_id: int, secret_hash: str) -> bool:
    """Whether the account is still enabled with this secret hash (one primary-key read)."""
    row = sql.fetchone(conn, _CURRENT, {"id": account_id, "secret_hash": secret_hash})
    return row is not None


_CHARGE = """
UPDATE accounts SET balance = balance - :amount, updated_at = :now
WHERE id = :id AND enabled AND secret_hash = :secret_hash AND balance >= :amount
RETURNING balance
"""

_ADD_CREDIT = """
UPDATE accounts SET balance = balance + :amount, updated_at = :now
WHERE id = :id AND balance + :amount >= 0
RETURNING balance
"""

_INSERT_LEDGER = """
INSERT INTO ledger (account_id, kind, amount, balance_after, message_id, messages, note,
                    created_at)
VALUES (:account_id, :kind, :amount, :balance_after, :message_id, :messages, :note, :created_at)
"""


def charge(
    conn: Connection,
    *,
    account_id: int,
    secret_hash: str,
    amount: int,
    now: datetime,
) -> int | None:
    """Take ``amount`` credits if the account is enabled, its secret unchanged and the
    balance covers it; return the new balance, or None when any of those fails."""
    row = sql.fetchone(
        conn,
        _CHARGE,
        {
            "amount": amount,
            "now": sql.stamp(conn, now),
            "id": account_id,
            "secret_hash": secret_hash,
        },
    )
    return int(row[0]) if row else None


def add_credit(conn: Connection, *, account_id: int, amount: int, now: datetime) -> int | None:
    """Add (or, negative, remove) credits unless the balance would go below zero."""
    row = sql.fetchone(
        conn, _ADD_CREDIT, {"amount": amount, "now": sql.stamp(conn, now), "id": account_id}
    )
    return int(row[0]) if row else None


def record_ledger(
    conn: Connection,
    *,
    account_id: int,
    kind: str,
    amount: int,
    balance_after: int,
    now: datetime,
    message_id: int | None = None,
    messages: int = 0,
    note: str = "",
) -> None:
    """Append one ledger row (the balance change itself is done by the caller)."""
    record_many(
        conn,
        [
            {
                "account_id": account_id,
                "kind": kind,
                "amount": amount,
                "balance_after": balance_after,
                "message_id": message_id,
                "messages": messages,
                "note": note,
                "created_at": now,
            }
        ],
    )


def record_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append ledger rows (dicts with the ledger's columns, ``created_at`` a datetime)."""
    sql.executemany(
        conn,
        _INSERT_LEDGER,
        [
            {
                **row,
                "note": str(row["note"])[:200],
                "created_at": sql.stamp(conn, row["created_at"]),
            }
            for row in rows
        ],
    )


def ledger_sum(conn: Connection, account_id: int) -> int:
    """The balance as the ledger says it; equals ``accounts.balance`` at all times."""
    total = conn.execute(
        select(func.coalesce(func.sum(ledger.c.amount), 0)).where(ledger.c.account_id == account_id)
    ).scalar_one()
    return int(total)


def ledger_entries(
    conn: Connection, account_id: int, *, limit: int = 100, before_id: int | None = None
) -> list[LedgerEntry]:
    """The newest ledger rows of an account, newest first."""
    query = select(ledger).where(ledger.c.account_id == account_id)
    if before_id is not None:
        query = query.where(ledger.c.id < before_id)
    rows = conn.execute(query.order_by(ledger.c.id.desc()).limit(limit))
    return [
        LedgerEntry(
            id=r.id,
            account_id=r.account_id,
            kind=r.kind,
            amount=r.amount,
            balance_after=r.balance_after,
            message_id=r.message_id,
            messages=r.messages,
            note=r.note,
            created_at=r.created_at,
        )
        for r in rows
    ]
