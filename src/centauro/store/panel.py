"""Statements for the web panel: users, sessions, one-time tokens, the sign-in throttle,
the cookie-signing key, and the dashboard's counts (each a range of an index)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from centauro.store.tables import (
    accounts,
    ledger,
    messages,
    panel_sessions,
    panel_settings,
    panel_throttle,
    panel_tokens,
    panel_users,
)
from centauro.store.tables import message_parts as message_parts_table


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    email: str
    role: str
    account_id: int | None
    password_hash: str | None
    enabled: bool
    created_at: datetime


def _user(row: Any) -> UserRow:
    return UserRow(
        id=row.id,
        email=row.email,
        role=row.role,
        account_id=row.account_id,
        password_hash=row.password_hash,
        enabled=row.enabled,
        created_at=row.created_at,
    )


def insert_user(
    conn: Connection, *, email: str, role: str, account_id: int | None, now: datetime
) -> UserRow:
    row = conn.execute(
        insert(panel_users)
        .values(
            email=email,
            role=role,
            account_id=account_id,
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        .returning(*panel_users.c)
    ).one()
    return _user(row)


def user_by_email(conn: Connection, email: str) -> UserRow | None:
    row = conn.execute(select(panel_users).where(panel_users.c.email == email)).first()
    return _user(row) if row else None


def user_by_id(conn: Connection, user_id: int) -> UserRow | None:
    row = conn.execute(select(panel_users).where(panel_users.c.id == user_id)).first()
    return _user(row) if row else None


def users_of_account(conn: Connection, account_id: int) -> list[UserRow]:
    rows = conn.execute(
        select(panel_users).where(panel_users.c.account_id == account_id).order_by(panel_users.c.id)
    )
    return [_user(r) for r in rows]


def operator_count(conn: Connection, *, with_password: bool = False) -> int:
    q = select(func.count()).where(panel_users.c.role == "operator")
    if with_password:
        q = q.where(panel_users.c.password_hash.is_not(None))
    return int(conn.execute(q.select_from(panel_users)).scalar_one())


def set_password_hash(conn: Connection, user_id: int, password_hash: str, now: datetime) -> None:
    conn.execute(
        update(panel_users)
        .where(panel_users.c.id == user_id)
        .values(password_hash=password_hash, updated_at=now)
    )


# -- sessions ----------------------------------------------------------------------------


def insert_session(
    conn: Connection, *, token_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        insert(panel_sessions).values(
            token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
    )


def live_session_user(conn: Connection, token_hash: str, now: datetime) -> UserRow | None:
    """The enabled user of an unrevoked, unexpired session."""
    row = conn.execute(
        select(panel_users)
        .join(panel_sessions, panel_sessions.c.user_id == panel_users.c.id)
        .where(
            panel_sessions.c.token_hash == token_hash,
            panel_sessions.c.revoked_at.is_(None),
            panel_sessions.c.expires_at > now,
            panel_users.c.enabled.is_(True),
        )
    ).first()
    return _user(row) if row else None


def revoke_session(conn: Connection, token_hash: str, now: datetime) -> None:
    conn.execute(
        update(panel_sessions)
        .where(panel_sessions.c.token_hash == token_hash, panel_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_user_sessions(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        update(panel_sessions)
        .where(panel_sessions.c.user_id == user_id, panel_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# -- one-time tokens ---------------------------------------------------------------------


def insert_token(
    conn: Connection, *, token_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        insert(panel_tokens).values(
            token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
    )


def use_token(conn: Connection, token_hash: str, now: datetime) -> int | None:
    """Mark a live token used (once: a conditional UPDATE); its user id, or None."""
    user_id = conn.execute(
        select(panel_tokens.c.user_id).where(
            panel_tokens.c.token_hash == token_hash,
            panel_tokens.c.used_at.is_(None),
            panel_tokens.c.expires_at > now,
        )
    ).scalar()
    if user_id is None:
        return None
    done = conn.execute(
        update(panel_tokens)
        .where(panel_tokens.c.token_hash == token_hash, panel_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return int(user_id) if done.rowcount == 1 else None


def token_user(conn: Connection, token_hash: str, now: datetime) -> int | None:
    """The user of a live (unused, unexpired) token, without using it."""
    user_id = conn.execute(
        select(panel_tokens.c.user_id).where(
            panel_tokens.c.token_hash == token_hash,
            panel_tokens.c.used_at.is_(None),
            panel_tokens.c.expires_at > now,
        )
    ).scalar()
    return int(user_id) if user_id is not None else None


# -- throttle ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThrottleRow:
    failures: int
    window_start: datetime
    locked_until: datetime | None


def throttle_get(conn: Connection, key: str) -> ThrottleRow | None:
    row = conn.execute(select(panel_throttle).where(panel_throttle.c.key == key)).first()
    return ThrottleRow(row.failures, row.window_start, row.locked_until) if row else None


def _insert(conn: Connection, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL both do)."""
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def throttle_put(conn: Connection, key: str, row: ThrottleRow) -> None:
    """Insert or replace in one statement: two failures at once for a new key must not
    collide on the primary key."""
    values = {
        "failures": row.failures,
        "window_start": row.window_start,
        "locked_until": row.locked_until,
    }
    statement = _insert(conn, panel_throttle).values(key=key, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_=values))


def throttle_clear(conn: Connection, key: str) -> None:
    conn.execute(panel_throttle.delete().where(panel_throttle.c.key == key))


# -- settings ----------------------------------------------------------------------------


def setting(conn: Connection, name: str) -> str | None:
    q = select(panel_settings.c.value).where(panel_settings.c.name == name)
    value = conn.execute(q).scalar()
    return str(value) if value is not None else None


def put_setting_once(conn: Connection, name: str, value: str) -> str:
    """Store ``value`` unless a value is there already (another process may have just
    stored one); the stored one either way."""
    statement = _insert(conn, panel_settings).values(name=name, value=value)
    conn.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
    stored = setting(conn, name)
    assert stored is not None
    return stored


# -- dashboard ---------------------------------------------------------------------------


def status_counts(conn: Connection, since: datetime, until: datetime) -> dict[str, int]:
    """Messages created in [since, until) by status (a range of ix_messages_created_at)."""
    rows = conn.execute(
        select(messages.c.status, func.count())
        .where(messages.c.created_at >= since, messages.c.created_at < until)
        .group_by(messages.c.status)
    )
    return {str(status): int(n) for status, n in rows}


def daily_counts(
    conn: Connection, since: datetime, until: datetime, offset_minutes: int
) -> list[tuple[str, str, int]]:
    """(local day "YYYY-MM-DD", status, count) for messages created in [since, until).

    Days are cut at a fixed UTC offset (Venezuela and Colombia keep no summer time).
    """
    if conn.dialect.name == "sqlite":
        day = func.date(messages.c.created_at, f"{offset_minutes:+d} minutes")
    else:
        shifted = messages.c.created_at + literal_column(f"interval '{offset_minutes} minutes'")
        day = func.to_char(func.timezone("UTC", shifted), "YYYY-MM-DD")
    rows = conn.execute(
        select(day.label("day"), messages.c.status, func.count())
        .where(messages.c.created_at >= since, messages.c.created_at < until)
        .group_by(day, messages.c.status)
    )
    return [(str(d), str(s), int(n)) for d, s, n in rows]


def one_core(conn: Connection) -> None:
    """Keep the rest of this transaction's statements to one process (PostgreSQL runs a
    big range in parallel workers otherwise — a background read must not take every core
    from the requests). Nothing to do on SQLite."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


def credits_sold(conn: Connection, since: datetime, until: datetime) -> int:
    q = select(func.coalesce(func.sum(ledger.c.amount), 0)).where(
        and_(
            ledger.c.kind == "topup",
            ledger.c.created_at >= since,
            ledger.c.created_at < until,
            ledger.c.amount > 0,
        )
    )
    return int(conn.execute(q).scalar_one())


def credits_left(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.sum(accounts.c.balance), 0))).scalar_one())


def message_parts(conn: Connection, message_id: int) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        select(
            message_parts_table.c.part,
            message_parts_table.c.connector,
            message_parts_table.c.carrier_id,
            message_parts_table.c.state,
            message_parts_table.c.error,
            message_parts_table.c.done_at,
        )
        .where(message_parts_table.c.message_id == message_id)
        .order_by(message_parts_table.c.part)
    )
    return [tuple(r) for r in rows]
