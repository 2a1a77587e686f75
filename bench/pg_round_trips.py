"""Round trips to the store per single send, counted at the driver.

Runs the submit use case (``submit.commit``, what ``GET /http/`` and ``POST /v1/messages``
commit) through the real group-commit :class:`~centauro.store.writer.Writer`, ``--clients``
sends in flight, on a fresh PostgreSQL database and on a fresh SQLite file, and counts:

* PostgreSQL: round trips — the turns from sending to reading the answer in libpq's own
  protocol trace of every connection (a pipeline sends many messages, then reads once);
* SQLite: the statements the writer ran (``sqlite3`` trace callback; no network).

Bench-only hooks: nothing here changes how the store runs.
Usage: python bench/pg_round_trips.py [--pg postgresql://postgres@127.0.0.1:5432/test]
       [--sends 2000] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

from bench.common import fresh_postgres
from centauro.domain.models import Account
from centauro.service import accounts as account_service
from centauro.service import submit
from centauro.store import migrate
from centauro.store.engine import Database, open_database
from centauro.store.writer import Writer


def _count_pg(db: Database, trace_dir: Path) -> Callable[[], int]:
    """Trace every new connection's protocol to a file; return a counter of round trips."""
    files: list[Path] = []
    handles: list[Any] = []  # open for the connections' lives (bench only)

    @event.listens_for(db.write_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        path = trace_dir / f"trace-{len(files)}.log"
        files.append(path)
        handles.append(path.open("w"))
        dbapi_conn.pgconn.trace(handles[-1].fileno())

    def count() -> int:
        total = 0
        for path in files:
            last = ""
            for line in path.read_text().splitlines():
                parts = line.split("\t")  # [timestamp] F|B length message …
                side = "F" if "F" in parts[:2] else "B" if "B" in parts[:2] else ""
                total += side == "B" and last == "F"  # a turn: sent, then read the answer
                last = side or last
        return total

    return count


def _count_sqlite(db: Database) -> Callable[[], int]:
    seen = [0]

    @event.listens_for(db.write_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.set_trace_callback(lambda _sql: seen.__setitem__(0, seen[0] + 1))

    return lambda: seen[0]


async def _sends(
    db: Database, account: Account, sends: int, clients: int
) -> tuple[int, int, float]:
    planned = [
        submit.plan(
            [submit.Recipient(f"0414{i:07d}")],
            "Su pedido 4521 va en camino.",
            country="VE",
            max_segments=10,
            max_recipients=10,
        )
        for i in range(sends)
    ]
    writer = Writer(db.write_engine)
    writer.start()
    queue = iter(planned)
    started = time.perf_counter()

    async def client() -> None:
        for p in queue:
            if hasattr(submit, "Commit"):  # the job the doors hand the writer (pipelined)
                await writer.run(submit.Commit(account, p, "bench", datetime.now(UTC)))
            else:  # an older tree, to compare
                await writer.run(
                    lambda conn, p=p: submit.commit(
                        conn, account=account, planned=p, source="bench", now=datetime.now(UTC)
                    )
                )

    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    writer.stop()
    return writer.jobs, writer.commits, elapsed


def measure(url: str, sends: int, clients: int, workdir: Path) -> str:
    db = open_database(url)
    try:
        migrate.upgrade(db)
        with db.begin() as conn:
            now = datetime.now(UTC)
            account = account_service.create(conn, name="bench", credits=10**9, now=now).account
        count = _count_sqlite(db) if db.is_sqlite else _count_pg(db, workdir)
        db.write_engine.dispose()  # the hooks see the writer's connection from its start
        before = count()
        jobs, commits, elapsed = asyncio.run(_sends(db, account, sends, clients))
        trips = count() - before
    finally:
        db.dispose()
    what = "statements" if url.startswith("sqlite") else "round trips"
    return (
        f"{jobs} sends in {commits} commits ({jobs / commits:.1f} per commit), "
        f"{trips} {what}: {trips / jobs:.2f} per send; {jobs / elapsed:,.0f} sends/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg",
        default=os.environ.get("CENTAURO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="centauro-trips-") as tmp:
        workdir = Path(tmp)
        print(
            "SQLite:    ",
            measure(f"sqlite:///{workdir / 'b.sqlite3'}", args.sends, args.clients, workdir),
        )
        with fresh_postgres(args.pg) as url:
            print("PostgreSQL:", measure(url, args.sends, args.clients, workdir))


if __name__ == "__main__":
    main()
