"""Open the store: engines, SQLite pragmas, and the write/read transaction helpers.

SQLite runs in WAL mode so readers never block the single writer; write transactions
start with ``BEGIN IMMEDIATE`` so they queue for the lock up front instead of failing
half-way. PostgreSQL uses one pooled engine for both.

Waiting for the write lock is ours, not SQLite's: its busy handler sleeps 1, 2, 5, 10,
15, 20, 25… ms between tries, so with two processes writing one file (``serve --workers``:
one answers HTTP, one delivers) the one that found the lock taken slept while the other
took it again and again — the delivering worker got one commit in ten (``bench/sqlite_lock.py``).
We try ``BEGIN IMMEDIATE`` without SQLite's wait and retry after at most a millisecond,
so each process gets the lock soon after the other lets it go.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from centauro.store.errors import wrap_errors

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Seconds between two tries for the write lock: the first, and the longest.
LOCK_RETRY_FIRST = 0.0001
LOCK_RETRY_MOST = 0.001


@dataclass(frozen=True, slots=True)
class Database:
    """The store's engines. ``write_engine`` for changes, ``read_engine`` for lookups."""

    url: str = field(repr=False)  #: may hold the password: never in a repr
    write_engine: Engine
    read_engine: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.write_engine.dialect.name == "sqlite"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction, committed on success (the CLI's and tests' door)."""
        with wrap_errors(), self.write_engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only snapshot."""
        with wrap_errors(), self.read_engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def open_database(url: str, *, sqlite_synchronous: str = "NORMAL") -> Database:
    """Create engines for ``url`` (``sqlite:///file`` or ``postgresql+psycopg://…``).

    A URL SQLAlchemy cannot use, or whose driver is not installed, is a ValueError (its
    text never holds the URL).
    """
    try:
        return _open(url, sqlite_synchronous)
    except sa_exc.ArgumentError as exc:
        raise ValueError(str(exc)) from None
    except ImportError as exc:  # a dialect SQLAlchemy knows, whose driver we do not ship
        raise ValueError(f"no driver installed for this database ({exc.name})") from None


def _open(url: str, sqlite_synchronous: str) -> Database:
    parsed = make_url(url)
    if sqlite_synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"unknown SQLite synchronous mode: {sqlite_synchronous!r}")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("SQLite needs a file path: sqlite:///centauro.sqlite3")
        write = _sqlite_engine(url, "BEGIN IMMEDIATE", sqlite_synchronous, pool_size=2)
        read = _sqlite_engine(url, "BEGIN", sqlite_synchronous, pool_size=8)
        return Database(url, write, read)
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    return Database(url, engine, engine)


def _sqlite_engine(url: str, begin: str, synchronous: str, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=4,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to say.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        if begin == "BEGIN IMMEDIATE":  # the lock wait is _take_write_lock's (see above)
            cur.execute("PRAGMA busy_timeout=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.connection.info.pop(LOCK_TAKEN, False):
            return  # the caller said BEGIN IMMEDIATE itself (try_write_lock)
        if begin == "BEGIN IMMEDIATE":
            _take_write_lock(conn.connection.driver_connection)
        else:
            conn.exec_driver_sql(begin)

    return engine


#: In a pooled connection's ``info``: :func:`try_write_lock` began its transaction.
LOCK_TAKEN = "centauro_lock_taken"


def try_write_lock(conn: Connection) -> bool:
    """``BEGIN IMMEDIATE`` once, without waiting: True when the write lock is ours (the
    next ``conn.begin()`` goes on in that transaction), False when another holds it."""
    try:
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False
    conn.connection.info[LOCK_TAKEN] = True
    return True


def _take_write_lock(dbapi_conn: Any) -> None:
    """``BEGIN IMMEDIATE``, retried every millisecond or less while another holds the lock."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = LOCK_RETRY_FIRST
    while True:
        try:
            dbapi_conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, LOCK_RETRY_MOST)
