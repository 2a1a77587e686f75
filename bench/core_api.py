"""Issue figures for the compat API on one ``centauro serve`` process.

1. One ``send_sms`` POST with 10,000 distinct valid recipients, timed by the client
   from first byte sent to last byte received → recipients/s.
2. ``GET /http/`` single sends, 32 concurrent keep-alive clients → accepted messages/s.
3. Peak RSS of the server process after both.

Each figure is the median of ``--runs`` runs (default 3) on one server.
Usage: python bench/core_api.py [--db URL] [--runs 3] [--recipients 10000] [--gets 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.parse
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median_report, start_server, store
from bench.loadgen import run_load
from centauro.compat.phpurl import encode_field

OK = b'"status":"200"'


def bulk_request(server_host: str, cid: str, secret: str, run: int, recipients: int) -> bytes:
    people = ",".join(
        json.dumps({"id": str(i), "cel": f"0414{run}{i:06d}", "nom": f"Cliente {i}"})
        for i in range(recipients)
    )
    form = urllib.parse.urlencode(
        {
            "client_id": cid,
            "client_secret": secret,
            "client_opcion": "send_sms",
            "json": encode_field(people),
            "msg": encode_field("Su código de verificación es 123456. Centauro SMS."),
        }
    ).encode()
    return (
        f"POST /controllersms/ HTTP/1.1\r\nHost: {server_host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(form)}\r\n\r\n"
    ).encode() + form


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        default=None,
        help="database URL (default: a fresh SQLite file; PostgreSQL: a fresh database there)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--gets", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=0, help="serve --workers (0: default)")
    args = parser.parse_args()

    fresh = ExitStack()  # a fresh PostgreSQL database for this run, dropped after
    server = start_server(fresh.enter_context(store(args.db)), workers=args.workers)
    host = f"127.0.0.1:{server.port}"
    try:
        bulk_rates: list[float] = []
        for run in range(args.runs):
            request = bulk_request(
                host, server.client_id, server.client_secret, run, args.recipients
            )
            result = asyncio.run(
                run_load(
                    "127.0.0.1",
                    server.port,
                    lambda _i, r=request: r,
                    total=1,
                    concurrency=1,
                    accept=lambda status, body: (
                        status == 200 and body.count(b'"Messageid":""') == 0
                    ),
                )
            )
            if result.ok != 1:
                raise SystemExit(f"bulk send failed: {result.first_failure}")
            bulk_rates.append(args.recipients / result.elapsed)

        get_rates: list[float] = []
        get_cpu: list[float] = []
        query = urllib.parse.urlencode(
            {"client_id": server.client_id, "client_secret": server.client_secret}
        )
        text = urllib.parse.quote("Su pedido 4521 va en camino. Gracias por comprar.")
        for run in range(args.runs):
            cpu_before = server.cpu_seconds()

            def build(i: int, run: int = run) -> bytes:
                number = f"0424{run}{i:06d}"
                return (
                    f"GET /http/?{query}&client_opcion=send_sms&num={number}&msg={text} "
                    f"HTTP/1.1\r\nHost: {host}\r\n\r\n"
                ).encode()

            result = asyncio.run(
                run_load(
                    "127.0.0.1",
                    server.port,
                    build,
                    total=args.gets,
                    concurrency=args.concurrency,
                    accept=lambda status, body: status == 200 and OK in body,
                )
            )
            if result.failed:
                raise SystemExit(f"{result.failed} GET sends failed: {result.first_failure}")
            get_rates.append(result.rate)
            get_cpu.append((server.cpu_seconds() - cpu_before) / args.gets * 1e6)

        print(
            median_report(
                f"send_sms, {args.recipients:,} recipients/request", "recipients/s", bulk_rates
            )
        )
        print(
            median_report(
                f"GET /http/ single sends, {args.concurrency} clients", "msg/s", get_rates
            )
        )
        print(median_report("server CPU per GET /http/ send", "µs", get_cpu))
        print(f"peak RSS of centauro serve (largest process): {server.peak_rss_mb():.0f} MB")
        print(f"server CPU seconds: {server.cpu_seconds():.1f}")
    finally:
        server.stop()
        fresh.close()


if __name__ == "__main__":
    main()
