"""Claims over a long queue on SQLite: what one dispatcher claim costs as the queue grows.

Fills a fresh SQLite file with ``--queued`` due messages (one INSERT … SELECT, no HTTP),
then claims them ``--limit`` at a time, one transaction per claim as the dispatcher does,
until none is left. A claim's cost should not depend on how many wait behind it: it reads
the first ``--limit`` entries of the queue's partial index. Prints, per queue size, the
median milliseconds of a claim and the messages claimed per second, medians of ``--runs``.
Compare trees with bench/trees.py.

Usage: python bench/queue_claims.py [--queued 10000,100000] [--limit 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from centauro.service import accounts
from centauro.store import migrate, outbox
from centauro.store.engine import open_database

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
_FILL = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)
INSERT INTO messages (account_id, recipient, text, encoding, segments, cost, status, source,
    attempts, parts, due_at, created_at, updated_at)
SELECT :account, '+58414' || printf('%07d', i), 'Hola', 'gsm7', 1, 1, 'queued', 'bench', 0,
    1, :now, :now, :now
FROM n
"""


def one_run(queued: int, limit: int) -> tuple[float, float]:
    """(median ms per claim, messages claimed per second) draining ``queued``."""
    with tempfile.TemporaryDirectory() as work:
        db = open_database(f"sqlite:///{work}/claims.sqlite3")
        try:
            migrate.upgrade(db)
            stamp = T0.replace(tzinfo=None).isoformat(sep=" ")
            with db.begin() as conn:
                account = accounts.create(conn, name="bench", credits=0, now=T0).account
                conn.execute(text(_FILL), {"rows": queued, "account": account.id, "now": stamp})
            lease = T0 + timedelta(minutes=5)
            times: list[float] = []
            claimed = 0
            started = time.perf_counter()
            while claimed < queued:
                t = time.perf_counter()
                with db.begin() as conn:
                    got = outbox.claim(conn, now=T0, lease_until=lease, limit=limit)
                times.append(time.perf_counter() - t)
                if not got:
                    raise RuntimeError(f"claimed {claimed} of {queued}, then nothing")
                claimed += len(got)
            elapsed = time.perf_counter() - started
        finally:
            db.dispose()
    return statistics.median(times) * 1000, claimed / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", default="10000,100000", help="queue sizes, comma-separated")
    parser.add_argument("--limit", type=int, default=100, help="messages per claim")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for queued in (int(q) for q in args.queued.split(",")):
        results = [one_run(queued, args.limit) for _ in range(args.runs)]
        ms = [r[0] for r in results]
        rates = [r[1] for r in results]
        print(f"claim of {args.limit} at {queued:,} queued: median {statistics.median(ms):.3f} ms")
        print(
            f"claimed at {queued:,} queued: median {statistics.median(rates):,.0f} msg/s"
            f"  (runs: {', '.join(f'{r:,.0f}' for r in rates)})"
        )


if __name__ == "__main__":
    main()
