"""Bind leases on PostgreSQL: taking over from an owner paused inside a transaction.

Two "processes" are two stores of their own (engines, writers, sessions named by worker
id as ``serve`` names them) on one schema. The paused owner is a session of the first,
stopped in the middle of a pipeline with the lease row locked: to the server it is
neither idle nor done, so only the taker can end it; the owner's other, idle session is
left alone (an owner that is only late must not lose its work).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from centauro.delivery.leases import DatabaseLeases
from centauro.runtime import fence_pg_sessions
from centauro.store import migrate
from centauro.store.engine import Database, open_database
from centauro.store.leases import FENCE_STUCK_SECONDS
from centauro.store.writer import Writer
from tests.support.stores import store_url

LEASE = 1.0


@dataclass
class Process:
    db: Database
    writer: Writer
    leases: DatabaseLeases


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    with store_url("postgresql", tmp_path) as found:
        db = open_database(found)
        migrate.upgrade(db)
        db.dispose()
        yield found


@asynccontextmanager
async def two_processes(url: str) -> AsyncIterator[tuple[Process, Process]]:
    made = []
    for worker_id in ("owner-1", "taker-2"):
        db = open_database(url)
        fence_pg_sessions(db, seconds=60, name=worker_id)  # not the idle limit
        writer = Writer(db.write_engine)
        writer.start()
        leases = DatabaseLeases(writer.run, worker_id=worker_id, seconds=LEASE)
        made.append(Process(db, writer, leases))
    try:
        yield made[0], made[1]
    finally:
        for p in made:
            await p.writer.close()
            p.db.dispose()


def _paused_in_a_pipeline(url: str, name: str) -> psycopg.Connection[Any]:
    """A session named ``name`` that locked the ``sim`` lease row inside a pipeline and
    stopped before its end (no Sync: the server waits for the rest, not idle)."""
    dsn, _, query = url.replace("postgresql+psycopg://", "postgresql://").partition("?")
    conn = psycopg.connect(f"{dsn}?{query}&application_name={name}", autocommit=False)
    pg = conn.pgconn
    pg.enter_pipeline_mode()
    pg.send_query_params(b"BEGIN", None)
    pg.send_query_params(b"UPDATE connector_leases SET host = host WHERE connector = 'sim'", None)
    pg.send_flush_request()
    while pg.flush():
        pass
    return conn


def _sessions(url: str, name: str) -> dict[int, str]:
    """The state of each session named ``name``, by backend pid."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://").partition("?")[0]
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()
    return {r[0]: r[1] for r in rows}


def test_the_taker_ends_the_sessions_of_an_owner_whose_lease_ran_out(url: str) -> None:
    asyncio.run(_take_over_from_a_paused_owner(url))


async def _take_over_from_a_paused_owner(url: str) -> None:
    async with two_processes(url) as (owner, taker):
        assert await owner.leases.hold(["sim"]) == {"sim"}
        assert await taker.leases.hold(["sim"]) == set()  # a live owner's lease is kept
        paused = _paused_in_a_pipeline(url, "owner-1")
        try:
            pid = paused.info.backend_pid
            for _ in range(50):  # bounded: the server ran the UPDATE and waits for more
                if _sessions(url, "owner-1").get(pid) == "active":
                    break
                await asyncio.sleep(0.05)
            assert _sessions(url, "owner-1")[pid] == "active"
            assert len(_sessions(url, "owner-1")) == 2  # and the owner's writer, idle
            await asyncio.sleep(max(LEASE, FENCE_STUCK_SECONDS) + 0.3)
            started = time.monotonic()
            held = await asyncio.wait_for(taker.leases.hold(["sim"]), timeout=10)
            assert held == {"sim"}
            assert time.monotonic() - started < 3
            assert taker.leases.epochs["sim"] == 2
            left = _sessions(url, "owner-1")
            assert pid not in left  # the stuck session was ended…
            assert list(left.values()) == ["idle"]  # …the idle one, doing no harm, was not
            assert await owner.leases.hold(["sim"]) == set()  # awake: it lost the lease
            assert not owner.leases.valid("sim")
        finally:
            paused.close()
