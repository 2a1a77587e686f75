"""Statements for the SMPP server: passwords, submits awaiting receipts, deliver_sm owed.

``smpp_deliveries`` is a durable per-account queue: rows are written in the transaction
that made them (a status change, an MO) and deleted when the customer's deliver_sm_resp
says it has them; until then they are retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from centauro.store import sql
from centauro.store.tables import smpp_credentials, smpp_server_status


@dataclass(frozen=True, slots=True)
class Credential:
    account_id: int
    system_id: str
    password_hash: str
    max_binds: int | None


@dataclass(frozen=True, slots=True)
class NewSubmit:
    message_id: int
    account_id: int
    registered: int
    source_addr: str
    dest_addr: str


@dataclass(frozen=True, slots=True)
class NewDelivery:
    account_id: int
    kind: str
    message_id: int | None
    body: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    account_id: int
    kind: str
    message_id: int | None
    body: str
    attempts: int


# -- passwords --------------------------------------------------------------------------


def credential(conn: Connection, system_id: str) -> Credential | None:
    row = conn.execute(
        select(smpp_credentials).where(smpp_credentials.c.system_id == system_id)
    ).first()
    if row is None:
        return None
    return Credential(row.account_id, row.system_id, row.password_hash, row.max_binds)


def set_credential(
    conn: Connection,
    account_id: int,
    system_id: str,
    password_hash: str,
    max_binds: int | None,
    now: datetime,
) -> None:
    values: dict[str, Any] = {
        "system_id": system_id,
        "password_hash": password_hash,
        "updated_at": now,
    }
    if max_binds is not None:
        values["max_binds"] = max_binds
    changed = conn.execute(
        update(smpp_credentials).where(smpp_credentials.c.account_id == account_id).values(values)
    ).rowcount
    if not changed:
        conn.execute(
            insert(smpp_credentials).values(
                account_id=account_id, created_at=now, **{"max_binds": max_binds, **values}
            )
        )


def remove_credential(conn: Connection, account_id: int) -> int:
    return conn.execute(
        delete(smpp_credentials).where(smpp_credentials.c.account_id == account_id)
    ).rowcount


def enabled_accounts(conn: Connection, account_ids: Sequence[int]) -> set[int]:
    """Which of these accounts have an SMPP password (and so may get MO over SMPP)."""
    if not account_ids:
        return set()
    rows = sql.fetchall(
        conn,
        f"SELECT account_id FROM smpp_credentials WHERE account_id {sql.in_list(conn)}",  # noqa: S608
        {"ids": sql.list_param(conn, sorted(set(account_ids)))},
    )
    return {int(r[0]) for r in rows}


# -- submits awaiting a receipt -----------------------------------------------------------

_INSERT_SUBMIT = """
INSERT INTO smpp_submits (message_id, account_id, registered, source_addr, dest_addr, created_at)
VALUES (:message_id, :account_id, :registered, :source_addr, :dest_addr, :now)
"""


def insert_submits(conn: Connection, submits: Sequence[NewSubmit], now: datetime) -> None:
    stamp = sql.stamp(conn, now)
    sql.executemany(
        conn,
        _INSERT_SUBMIT,
        (
            {
                "message_id": s.message_id,
                "account_id": s.account_id,
                "registered": s.registered,
                "source_addr": s.source_addr,
                "dest_addr": s.dest_addr,
                "now": stamp,
            }
            for s in submits
        ),
    )


def finished_submits(
    conn: Connection, message_ids: Sequence[int], final_states: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Submits among ``message_ids`` whose message is now final, with what a receipt says:
    (message_id, account_id, registered, source_addr, dest_addr, status, error, text,
    created_at, done_at)."""
    states = ", ".join(f"'{s}'" for s in final_states)
    rows = sql.fetchall(
        conn,
        "SELECT s.message_id, s.account_id, s.registered, s.source_addr, s.dest_addr, "  # noqa: S608
        "m.status, m.error, m.text, m.created_at, m.done_at "
        "FROM smpp_submits s JOIN messages m ON m.id = s.message_id "
        f"WHERE s.message_id {sql.in_list(conn)} AND m.status IN ({states})",
        {"ids": sql.list_param(conn, sorted(set(message_ids)))},
    )
    return [(*r[:8], sql.unstamp(r[8]), sql.unstamp(r[9])) for r in rows]


def forget_submits(conn: Connection, message_ids: Sequence[int]) -> None:
    if message_ids:
        sql.execute(
            conn,
            f"DELETE FROM smpp_submits WHERE message_id {sql.in_list(conn)}",  # noqa: S608
            {"ids": sql.list_param(conn, list(message_ids))},
        )


# -- deliver_sm owed ------------------------------------------------------------------------

_INSERT_DELIVERY = """
INSERT INTO smpp_deliveries (account_id, kind, message_id, body, attempts, due_at, expires_at,
                             created_at)
VALUES (:account_id, :kind, :message_id, :body, 0, :now, :expires_at, :now)
"""


def insert_deliveries(conn: Connection, deliveries: Sequence[NewDelivery], now: datetime) -> int:
    stamp = sql.stamp(conn, now)
    return sql.executemany(
        conn,
        _INSERT_DELIVERY,
        (
            {
                "account_id": d.account_id,
                "kind": d.kind,
                "message_id": d.message_id,
                "body": d.body,
                "expires_at": sql.stamp(conn, d.expires_at),
                "now": stamp,
            }
            for d in deliveries
        ),
    )


def due_deliveries(
    conn: Connection, account_id: int, now: datetime, *, skip: Sequence[int], limit: int
) -> list[Delivery]:
    """The oldest deliveries due for this account, leaving out those in flight (``skip``)."""
    rows = sql.fetchall(
        conn,
        "SELECT id, account_id, kind, message_id, body, attempts FROM smpp_deliveries "  # noqa: S608
        f"WHERE account_id = :account AND due_at <= :now AND NOT (id {sql.in_list(conn)}) "
        "ORDER BY id LIMIT :limit",
        {
            "account": account_id,
            "now": sql.stamp(conn, now),
            "ids": sql.list_param(conn, list(skip)),
            "limit": limit,
        },
    )
    return [Delivery(int(r[0]), int(r[1]), r[2], r[3], r[4], int(r[5])) for r in rows]


def acknowledge(conn: Connection, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    return sql.execute(
        conn,
        f"DELETE FROM smpp_deliveries WHERE id {sql.in_list(conn)}",  # noqa: S608
        {"ids": sql.list_param(conn, list(ids))},
    )


def postpone(conn: Connection, retries: Sequence[tuple[int, datetime]]) -> int:
    """(id, due_at) each: refused or unanswered, try again then."""
    return sql.executemany(
        conn,
        "UPDATE smpp_deliveries SET attempts = attempts + 1, due_at = :due WHERE id = :id",
        ({"id": i, "due": sql.stamp(conn, due)} for i, due in retries),
    )


def drop_expired(conn: Connection, now: datetime) -> int:
    return sql.execute(
        conn,
        "DELETE FROM smpp_deliveries WHERE expires_at < :now",
        {"now": sql.stamp(conn, now)},
    )


def waiting_by_account(conn: Connection) -> dict[int, int]:
    rows = sql.fetchall(
        conn, "SELECT account_id, COUNT(*) FROM smpp_deliveries GROUP BY account_id"
    )
    return {int(a): int(n) for a, n in rows}


# -- what each serving process reports ------------------------------------------------------


def save_status(conn: Connection, worker_id: str, snapshot: str, now: datetime) -> None:
    table = smpp_server_status
    changed = conn.execute(
        update(table)
        .where(table.c.worker_id == worker_id)
        .values(snapshot=snapshot, updated_at=now)
    ).rowcount
    if not changed:
        conn.execute(insert(table).values(worker_id=worker_id, snapshot=snapshot, updated_at=now))


def drop_status(conn: Connection, worker_id: str) -> None:
    conn.execute(delete(smpp_server_status).where(smpp_server_status.c.worker_id == worker_id))


def statuses(conn: Connection, since: datetime) -> list[str]:
    """Snapshots refreshed after ``since`` (older ones are of dead processes)."""
    table = smpp_server_status
    rows = conn.execute(select(table.c.snapshot).where(table.c.updated_at >= since))
    return [r.snapshot for r in rows]
