"""Raw statements on the driver, for the hot paths.

SQLAlchemy Core builds, caches and type-processes every statement; on the per-request
path (charge, ledger row, insert, claim, outcomes) that costs more than SQLite itself.
These helpers hand one SQL text with ``:name`` parameters straight to the driver
(sqlite3 or psycopg), translating the placeholder style once per statement, and
convert datetimes the way SQLAlchemy's column types do, so rows written here read
back the same through Core.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
_PG_TEXT: dict[str, str] = {}

Params = Mapping[str, Any]
R = TypeVar("R")


def _text(conn: Connection, sql: str) -> str:
    if conn.dialect.name == "sqlite":
        return sql
    converted = _PG_TEXT.get(sql)
    if converted is None:
        converted = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
        _PG_TEXT[sql] = converted
    return converted


def _cursor(conn: Connection) -> Any:
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def fetchall(
    conn: Connection, sql: str, params: Params | None = None, *, planned_each_time: bool = False
) -> list[tuple[Any, ...]]:
    """``planned_each_time``: on PostgreSQL, never run this statement from a server-side
    prepared plan. psycopg prepares a statement after its fifth run, and the server may
    then keep a generic plan made when the table was empty (a quiet queue) for a table
    that now holds 100,000 due rows; a claim must be planned for the rows it will meet."""
    cursor = _cursor(conn)
    try:
        if planned_each_time and conn.dialect.name == "postgresql":
            cursor.execute(_text(conn, sql), params or {}, prepare=False)
        else:
            cursor.execute(_text(conn, sql), params or {})
        return list(cursor.fetchall())
    finally:
        cursor.close()


def fetchone(conn: Connection, sql: str, params: Params | None = None) -> tuple[Any, ...] | None:
    rows = fetchall(conn, sql, params)
    return rows[0] if rows else None


def fetchone_later(
    conn: Connection, sql: str, params: Params | None = None
) -> Callable[[], tuple[Any, ...] | None]:
    """Send one statement now; return a function that reads its first row.

    Inside a psycopg pipeline (store/writer.py) the statement is only queued, and its
    row is there once the pipeline has synced: many such statements share one round trip.
    """
    return _later(conn, sql, params, lambda cursor: cursor.fetchone())


def fetchall_later(
    conn: Connection, sql: str, params: Params | None = None
) -> Callable[[], list[tuple[Any, ...]]]:
    """:func:`fetchone_later` for every row of the statement."""
    return _later(conn, sql, params, lambda cursor: list(cursor.fetchall()))


def _later(
    conn: Connection, sql: str, params: Params | None, read: Callable[[Any], R]
) -> Callable[[], R]:
    cursor = _cursor(conn)
    try:
        cursor.execute(_text(conn, sql), params or {})
    except BaseException:
        cursor.close()
        raise

    def result() -> R:
        try:
            return read(cursor)
        finally:
            cursor.close()

    return result


def execute(
    conn: Connection, sql: str, params: Params | None = None, *, planned_each_time: bool = False
) -> int:
    """Run one statement; return the number of rows it changed. ``planned_each_time``:
    as for :func:`fetchall`."""
    cursor = _cursor(conn)
    try:
        if planned_each_time and conn.dialect.name == "postgresql":
            cursor.execute(_text(conn, sql), params or {}, prepare=False)
        else:
            cursor.execute(_text(conn, sql), params or {})
        return int(cursor.rowcount)
    finally:
        cursor.close()


def executemany(conn: Connection, sql: str, rows: Sequence[Params] | Iterable[Params]) -> int:
    """Run one statement once per parameter set; return the total rows changed."""
    rows = list(rows)
    if not rows:
        return 0
    cursor = _cursor(conn)
    try:
        cursor.executemany(_text(conn, sql), rows)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def stamp(conn: Connection, when: datetime | None) -> Any:
    """The driver value for an aware UTC datetime."""
    if when is None or conn.dialect.name != "sqlite":
        return when
    return _sqlite_text(when)


@functools.lru_cache(maxsize=256)
def _sqlite_text(when: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime writes ("2026-12-06 18:57:41.235330": year of
    # four digits, always six of microseconds), which is how every stored instant compares.
    # A send stamps the same instant 3-5 times (created, updated, due, ledger, charge):
    # strftime was 16 % of a single send's time in the write transaction, hence the cache;
    # each send still makes one, and isoformat takes 1.1 µs where strftime took 2.1.
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def unstamp(value: Any) -> datetime | None:
    """An aware UTC datetime from what the driver returned."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]


#: "Is in this list": a JSON array on SQLite, a native array on PostgreSQL, so a list
#: of any length is one parameter (no statement per list length, no variable limits).
_IN_LIST = {
    "sqlite": "IN (SELECT value FROM json_each(:ids))",
    "postgresql": "= ANY(:ids)",
}


def indexed_by(conn: Connection, index: str) -> str:
    """`` INDEXED BY <index>`` on SQLite, nothing on PostgreSQL: for a statement over
    queued or scheduled messages that must read its partial index.

    SQLite plans without statistics (nobody runs ``ANALYZE`` on an embedded file), and
    for ``status = 'queued' AND due_at <= :now ORDER BY due_at, id LIMIT :limit`` it
    preferred the ``(status, id)`` index: every queued message read and sorted for each
    claim of 100. With 56,000 queued that claim took 16 ms against 0.03 ms through
    ``ix_messages_due`` (docs/performance.md, "Claims over a long queue on SQLite").
    PostgreSQL keeps statistics and plans these by itself.
    """
    return f" INDEXED BY {index}" if conn.dialect.name == "sqlite" else ""


def picked(conn: Connection, due: str) -> str:
    """The SQL tail for ``id <picked>``: the ids the query ``due`` selects (an ``ORDER BY
    … LIMIT`` of due work), locked and skipped when another process holds them.

    On PostgreSQL the ids are an array computed once (an InitPlan) and the update finds
    them through the primary key. The plain ``id IN (SELECT … LIMIT … FOR UPDATE SKIP
    LOCKED)`` may be planned as a nested-loop semi-join that runs the locking sub-select
    again for every row of the table: planned while the queue was empty, a claim over
    100,000 queued messages then ran for more than ten minutes at 100 % CPU. SQLite has
    one writer and no row locks: the sub-select is enough.
    """
    if conn.dialect.name == "postgresql":
        return f"= ANY(ARRAY({due} FOR UPDATE SKIP LOCKED))"
    return f"IN ({due})"


def in_list(conn: Connection) -> str:
    """The SQL tail for ``column <in_list> ``, bound to the parameter ``:ids``."""
    return _IN_LIST[conn.dialect.name]


def list_param(conn: Connection, values: Sequence[Any]) -> Any:
    """The value to bind as ``:ids`` for :func:`in_list`."""
    return json.dumps(list(values)) if conn.dialect.name == "sqlite" else list(values)
