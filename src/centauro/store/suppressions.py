"""Statements on suppressions: numbers an account must not text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from centauro.store import sql


@dataclass(frozen=True, slots=True)
class Suppression:
    number: str  #: E.164
    source: str  #: "inbound", "api" or "cli"
    created_at: datetime


def among(conn: Connection, account_id: int, numbers: Sequence[str]) -> set[str]:
    """Which of ``numbers`` (E.164) the account must not text."""
    if not numbers:
        return set()
    rows = sql.fetchall(
        conn,
        "SELECT number FROM suppressions "  # noqa: S608 - constant
        f"WHERE account_id = :account_id AND number {sql.in_list(conn)}",
        {"account_id": account_id, "ids": sql.list_param(conn, sorted(set(numbers)))},
    )
    return {r[0] for r in rows}


def add(conn: Connection, account_id: int, number: str, source: str, now: datetime) -> bool:
    """Suppress ``number``; False if it already was."""
    return (
        sql.execute(
            conn,
            "INSERT INTO suppressions (account_id, number, source, created_at) "
            "VALUES (:account_id, :number, :source, :now) "
            "ON CONFLICT (account_id, number) DO NOTHING",
            {
                "account_id": account_id,
                "number": number,
                "source": source,
                "now": sql.stamp(conn, now),
            },
        )
        == 1
    )


def remove(conn: Connection, account_id: int, number: str) -> bool:
    """Lift the suppression; False if there was none."""
    return (
        sql.execute(
            conn,
            "DELETE FROM suppressions WHERE account_id = :account_id AND number = :number",
            {"account_id": account_id, "number": number},
        )
        == 1
    )


def listing(
    conn: Connection, account_id: int, *, after: str | None = None, limit: int = 100
) -> list[Suppression]:
    """In number order, from after ``after`` (cursor paging)."""
    rows = sql.fetchall(
        conn,
        "SELECT number, source, created_at FROM suppressions "
        "WHERE account_id = :account_id AND number > :after ORDER BY number LIMIT :limit",
        {"account_id": account_id, "after": after or "", "limit": limit},
    )
    return [Suppression(r[0], r[1], sql.unstamp(r[2])) for r in rows]  # type: ignore[arg-type]
