"""``runtime.Gateway`` start and stop: a failed start unwinds, stop runs every step.

Real parts over a real SQLite file: the writer thread, the presence heartbeat (a row in
``workers``), the inbox, the supervisor and the ``serve`` lock on the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from centauro.config import Settings
from centauro.domain.errors import Unavailable
from centauro.runtime import Gateway, push_stop, sqlite_serve_lock
from centauro.store import migrate
from centauro.store.engine import open_database
from tests.support.stores import store_url

PARTS = {"presence", "inbox", "inbox-pending", "supervisor", "dispatcher", "scheduler"}


def _writers() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "store-writer")


def _running_parts() -> set[str]:
    return {t.get_name() for t in asyncio.all_tasks() if not t.done()} & PARTS


def _workers(url: str) -> int:
    db = open_database(url)
    try:
        with db.read() as conn:
            return int(conn.execute(text("SELECT count(*) FROM workers")).scalar_one())
    finally:
        db.dispose()


def _lock_is_free(url: str) -> bool:
    try:
        sqlite_serve_lock(url).close()
    except Exception:  # noqa: BLE001 - held by the gateway: Unavailable
        return False
    return True


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    db = open_database(url)
    migrate.upgrade(db)
    db.dispose()
    return url


def test_start_that_fails_half_way_stops_what_it_started(url: str) -> None:
    """The store lost its ``routes`` table: the supervisor's first read fails after the
    writer, the presence row and the inbox are up; they are all stopped again."""
    db = open_database(url)
    with db.begin() as conn:
        conn.execute(text("DROP TABLE routes"))
    db.dispose()
    writers_before = _writers()

    async def main() -> tuple[set[str], int]:
        gateway = Gateway(Settings(database_url=url, heartbeat_seconds=0.05), migrate=False)
        with pytest.raises(Unavailable, match="store unavailable"):
            await gateway.start()
        await asyncio.sleep(0.1)  # a task left running would show now
        return _running_parts(), _writers()

    running, writers = asyncio.run(main())
    assert running == set()
    assert writers == writers_before
    assert _workers(url) == 0
    assert _lock_is_free(url)


def test_stop_stops_every_part_and_frees_the_file(url: str) -> None:
    writers_before = _writers()

    async def main() -> tuple[set[str], set[str], bool]:
        gateway = Gateway(Settings(database_url=url), migrate=False)
        await gateway.start()
        started = _running_parts()
        locked = not _lock_is_free(url)
        await gateway.stop()
        await gateway.stop()  # a second stop is harmless
        return started, _running_parts(), locked

    started, after, locked = asyncio.run(main())
    assert started == PARTS
    assert locked
    assert after == set()
    assert _writers() == writers_before
    assert _workers(url) == 0
    assert _lock_is_free(url)


def test_a_failing_stop_step_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stopped: list[str] = []

    async def stop_ok(name: str) -> None:
        stopped.append(name)

    async def stop_broken() -> None:
        raise OSError("disk gone")

    async def main() -> None:
        async with contextlib.AsyncExitStack() as stack:
            push_stop(stack, "first", lambda: stop_ok("first"))
            push_stop(stack, "broken", stop_broken)
            push_stop(stack, "last", lambda: stop_ok("last"))

    with caplog.at_level(logging.ERROR, logger="centauro.runtime"):
        asyncio.run(main())
    assert stopped == ["last", "first"]
    failed = [r for r in caplog.records if r.getMessage() == "gateway_stop_failed"]
    assert [(r.__dict__["part"], r.exc_info is not None) for r in failed] == [("broken", True)]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_delivery_writes_through_its_own_writer_on_postgresql_only(
    kind: str, tmp_path: Path
) -> None:
    """PostgreSQL takes concurrent writers: delivery's records (dispatcher, inbox,
    scheduler, webhook sender) go through a second writer, sends and presence through the
    first. SQLite has one write lock: one writer for all. Both stop with the gateway."""
    with store_url(kind, tmp_path) as url:
        db = open_database(url)
        migrate.upgrade(db)
        db.dispose()
        before = _writers_by_name()

        async def main() -> tuple[dict[str, object], list[str], list[str]]:
            gateway = Gateway(Settings(database_url=url), migrate=False)
            await gateway.start()
            try:
                parts = {
                    "dispatcher": gateway.dispatcher,
                    "inbox": gateway.inbox,
                    "scheduler": gateway.scheduler,
                    "webhooks": gateway.webhooks,
                    "presence": gateway.presence,
                }
                wired = {
                    name: "delivery" if part._writer is gateway.delivery_writer else "main"  # type: ignore[union-attr]
                    for name, part in parts.items()
                }
                assert all(
                    p._writer in (gateway.writer, gateway.delivery_writer) for p in parts.values()
                )  # type: ignore[union-attr]
                running = _writers_by_name()
            finally:
                await gateway.stop()
            return wired, running, _writers_by_name()

        wired, running, after = asyncio.run(main())
    delivery = "delivery" if kind == "postgresql" else "main"
    assert wired == {
        "dispatcher": delivery,
        "inbox": delivery,
        "scheduler": delivery,
        "webhooks": delivery,
        "presence": "main",
    }
    extra = ["store-writer", "store-writer-delivery"] if kind == "postgresql" else ["store-writer"]
    assert running == sorted(before + extra)
    assert after == before


def _writers_by_name() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("store-writer"))
