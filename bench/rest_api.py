"""REST API v1 figures on one ``centauro serve`` process.

1. ``POST /v1/messages``, one recipient each, 32 concurrent keep-alive clients
   → accepted messages/s (target ≥ 1,500).
2. ``POST /v1/messages/batch`` with 10,000 items (a text each), timed by the client from
   first byte sent to last byte received → messages/s (target ≥ 20,000).
3. Peak RSS of the server process after both.

Each figure is the median of ``--runs`` runs (default 3) on one server. ``--key`` sends
an ``Idempotency-Key`` with every request (the answer is then stored with the send).
Usage: python bench/rest_api.py [--db URL] [--runs 3] [--singles 20000] [--batch 10000] [--key]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median_report, start_server, store
from bench.loadgen import run_load


def _request(host: str, auth: str, path: str, body: bytes, key: str | None) -> bytes:
    extra = f"Idempotency-Key: {key}\r\n" if key else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def batch_body(run: int, items: int) -> bytes:
    messages = [
        {"to": f"0414{run}{i:06d}", "text": f"Hola cliente {i}, su pedido va en camino."}
        for i in range(items)
    ]
    return json.dumps({"messages": messages, "validity_period": 3600}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        default=None,
        help="database URL (default: a fresh SQLite file; PostgreSQL: a fresh database there)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--singles", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--key", action="store_true", help="send Idempotency-Key headers")
    parser.add_argument("--only", choices=["single", "batch"], default=None)
    args = parser.parse_args()

    fresh = ExitStack()  # a fresh PostgreSQL database for this run, dropped after
    server = start_server(fresh.enter_context(store(args.db)))
    host = f"127.0.0.1:{server.port}"
    auth = base64.b64encode(f"{server.client_id}:{server.client_secret}".encode()).decode()
    try:
        single_rates: list[float] = []
        batch_rates: list[float] = []
        single_cpu: list[float] = []
        for run in range(args.runs if args.only != "batch" else 0):
            cpu_before = server.cpu_seconds()

            def build(i: int, run: int = run) -> bytes:
                body = json.dumps(
                    {"to": f"0424{run}{i:06d}", "text": "Su código es 4521", "reference": str(i)}
                ).encode()
                key = f"single-{run}-{i}" if args.key else None
                return _request(host, auth, "/v1/messages", body, key)

            result = asyncio.run(
                run_load(
                    "127.0.0.1",
                    server.port,
                    build,
                    total=args.singles,
                    concurrency=args.concurrency,
                    accept=lambda status, body: status == 202 and b'"queued"' in body,
                )
            )
            if result.failed:
                raise SystemExit(f"{result.failed} sends failed: {result.first_failure}")
            single_rates.append(result.rate)
            single_cpu.append((server.cpu_seconds() - cpu_before) / args.singles * 1e6)

        for run in range(args.runs if args.only != "single" else 0):
            key = f"batch-{run}" if args.key else None
            request = _request(host, auth, "/v1/messages/batch", batch_body(run, args.batch), key)
            result = asyncio.run(
                run_load(
                    "127.0.0.1",
                    server.port,
                    lambda _i, r=request: r,
                    total=1,
                    concurrency=1,
                    accept=lambda status, body: status == 202 and b'"rejected"' not in body,
                )
            )
            if result.ok != 1:
                raise SystemExit(f"batch send failed: {result.first_failure}")
            batch_rates.append(args.batch / result.elapsed)

        if single_rates:
            label = f"POST /v1/messages single sends, {args.concurrency} clients"
            print(median_report(label, "msg/s", single_rates))
            print(median_report("server CPU per POST /v1/messages send", "µs", single_cpu))
        if batch_rates:
            label = f"POST /v1/messages/batch, {args.batch:,} items/request"
            print(median_report(label, "msg/s", batch_rates))
        print(f"peak RSS of centauro serve: {server.peak_rss_mb():.0f} MB")
        print(f"server CPU seconds: {server.cpu_seconds():.1f}")
    finally:
        server.stop()
        fresh.close()


if __name__ == "__main__":
    main()
