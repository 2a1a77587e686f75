"""Statements on sender IDs: what each account may send from, and its default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from centauro.store import sql
from centauro.store.tables import sender_ids


@dataclass(frozen=True, slots=True)
class SenderId:
    value: str
    kind: str  #: "alnum", "shortcode" or "long"
    is_default: bool
    created_at: datetime


def listing(conn: Connection, account_id: int) -> list[SenderId]:
    """The account's sender IDs, the default first, then in the order they were granted."""
    rows = conn.execute(
        select(sender_ids)
        .where(sender_ids.c.account_id == account_id)
        .order_by(sender_ids.c.is_default.desc(), sender_ids.c.id)
    )
    return [SenderId(r.value, r.kind, r.is_default, r.created_at) for r in rows]


def granted(conn: Connection, account_id: int) -> set[str]:
    """The values the account may send from. A plain statement: the submit path runs it for
    every request that names a sender (each submit_sm), where building a Core select cost
    more than the query (docs/performance.md, "The SMPP server door")."""
    rows = sql.fetchall(
        conn,
        "SELECT value FROM sender_ids WHERE account_id = :account_id",
        {"account_id": account_id},
    )
    return {r[0] for r in rows}


def find(conn: Connection, account_id: int, value: str) -> SenderId | None:
    row = conn.execute(
        select(sender_ids).where(sender_ids.c.account_id == account_id, sender_ids.c.value == value)
    ).first()
    return SenderId(row.value, row.kind, row.is_default, row.created_at) if row else None


def default(conn: Connection, account_id: int) -> str | None:
    """The account's default sender ID, if it has one."""
    return conn.execute(
        select(sender_ids.c.value).where(
            sender_ids.c.account_id == account_id, sender_ids.c.is_default.is_(True)
        )
    ).scalar()


def add(conn: Connection, account_id: int, value: str, kind: str, now: datetime) -> None:
    conn.execute(
        insert(sender_ids).values(
            account_id=account_id, value=value, kind=kind, is_default=False, created_at=now
        )
    )


def remove(conn: Connection, account_id: int, value: str) -> bool:
    deleted = conn.execute(
        delete(sender_ids).where(sender_ids.c.account_id == account_id, sender_ids.c.value == value)
    )
    return deleted.rowcount == 1


def set_default(conn: Connection, account_id: int, value: str | None) -> None:
    """Make ``value`` the only default (None: no default)."""
    conn.execute(
        update(sender_ids)
        .where(sender_ids.c.account_id == account_id)
        .values(is_default=sender_ids.c.value == value if value is not None else False)
    )
