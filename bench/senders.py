"""What sender IDs cost a send: the same sends on two source trees, interleaved in one run.

Since sender IDs, every request's write transaction also reads the account's sender (its
default when the request names none) and every message row carries ``sender`` and ``udh``.
This starts ``centauro serve`` from each tree in turn (``PYTHONPATH=<tree>/src``), on a
fresh store each time, and times from outside, as ``core_api.py`` does:

1. ``GET /http/`` single sends, 32 concurrent keep-alive clients → accepted messages/s;
2. one compat ``send_sms`` POST with 10,000 recipients → recipients/s.

On the "after" tree the account has a default sender ID (the extra read finds a row and
every message stores it). Rounds alternate before/after; each figure is the median of
``--runs`` rounds, and the ratio is after/before.

Usage: python bench/senders.py --before /tmp/main-src --after src [--runs 3] [--gets 5000]
       [--db sqlite|postgresql]
The "before" tree is e.g. ``git archive main src | tar -x -C /tmp/main-src``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import urllib.parse
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, start_server
from bench.core_api import OK, bulk_request
from bench.loadgen import run_load

PG_DSN = os.environ.get("CENTAURO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _store(kind: str) -> tuple[str | None, str | None]:
    """(database URL, PostgreSQL schema to drop after) for a fresh store."""
    if kind == "sqlite":
        return None, None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    base = PG_DSN.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}?options=-csearch_path%3D{schema}", schema


def _drop(schema: str | None) -> None:
    if schema is None:
        return
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def one_round(tree: Path, kind: str, gets: int, with_sender: bool) -> tuple[float, float]:
    url, schema = _store(kind)
    server: Server | None = None
    try:
        server = start_server(url, {"PYTHONPATH": str(tree.resolve())})
        if with_sender:
            server.cli("senders", "add", server.client_id, "Bench")
        host = f"127.0.0.1:{server.port}"
        query = urllib.parse.urlencode(
            {"client_id": server.client_id, "client_secret": server.client_secret}
        )
        text = urllib.parse.quote("Su pedido 4521 va en camino. Gracias por comprar.")

        def build(i: int) -> bytes:
            return (
                f"GET /http/?{query}&client_opcion=send_sms&num=0424{i:07d}&msg={text} "
                f"HTTP/1.1\r\nHost: {host}\r\n\r\n"
            ).encode()

        single = asyncio.run(
            run_load(
                "127.0.0.1", server.port, build, total=gets, concurrency=32,
                accept=lambda status, body: status == 200 and OK in body,
            )
        )  # fmt: skip
        if single.failed:
            raise SystemExit(f"{single.failed} sends failed: {single.first_failure}")
        request = bulk_request(host, server.client_id, server.client_secret, 7, 10_000)
        bulk = asyncio.run(
            run_load(
                "127.0.0.1", server.port, lambda _i: request, total=1, concurrency=1,
                accept=lambda status, body: status == 200 and b'"Messageid":""' not in body,
            )
        )  # fmt: skip
        if bulk.ok != 1:
            raise SystemExit(f"bulk send failed: {bulk.first_failure}")
        return single.rate, 10_000 / bulk.elapsed
    finally:
        if server is not None:
            server.stop()
        _drop(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="source tree without it")
    parser.add_argument("--after", type=Path, required=True, help="source tree with it")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gets", type=int, default=5000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    figures: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    for _ in range(args.runs):
        figures["before"].append(one_round(args.before, args.db, args.gets, False))
        figures["after"].append(one_round(args.after, args.db, args.gets, True))
    med = {
        name: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
        for name, rows in figures.items()
    }
    for name, rows in figures.items():
        singles = ", ".join(f"{r[0]:,.0f}" for r in rows)
        bulks = ", ".join(f"{r[1]:,.0f}" for r in rows)
        print(f"{name:6} GET /http/ msg/s: median {med[name][0]:,.0f} (runs {singles}); "
              f"10k bulk recipients/s: median {med[name][1]:,.0f} (runs {bulks})")  # fmt: skip
    print(
        f"ratio after/before ({args.db}): single sends {med['after'][0] / med['before'][0]:.2f}, "
        f"bulk {med['after'][1] / med['before'][1]:.2f}"
    )


if __name__ == "__main__":
    main()
