"""One ``serve`` process on PostgreSQL against the same on SQLite, trees interleaved.

For each round, each source tree (``--tree name=path``; default: this one) and each store
(a fresh SQLite file; a fresh PostgreSQL database ``bench_<pid>_<n>``, dropped after),
starts ``centauro serve`` and measures, with ``--concurrency`` keep-alive clients:

* compat ``GET /http/`` single sends → accepted msg/s;
* REST ``POST /v1/messages`` single sends → accepted msg/s;
* end to end over SMPP (``centauro smsc-sim``, receipts at once): ``GET /http/`` sends
  until every message is ``delivered`` → msg/s.

Prints the median of the rounds per figure, tree and store, and PostgreSQL/SQLite.
Usage: python bench/store_ratio.py [--rounds 3] [--n 5000] [--pg URL] [--analyze-every 2]
       [--tree before=/tmp/old-checkout --tree after=.]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import statistics
import sys
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from bench.common import Server, analyzing, free_port, start_server, store
from bench.e2e_smpp import start_sim
from bench.loadgen import run_load

OK = b'"status":"200"'
FIGURES = ("compat GET", "REST POST", "e2e SMPP")


def _load(server: Server, build: object, n: int, conc: int, ok: bytes | None) -> float:
    result = asyncio.run(
        run_load(
            "127.0.0.1",
            server.port,
            build,  # type: ignore[arg-type]
            total=n,
            concurrency=conc,
            accept=lambda status, body: status in (200, 201, 202) and (ok is None or ok in body),
        )
    )
    if result.failed:
        raise SystemExit(f"{result.failed} sends failed: {result.first_failure}")
    return result.rate


def compat_get(server: Server, prefix: str, n: int, conc: int) -> float:
    host = f"127.0.0.1:{server.port}"
    query = urllib.parse.urlencode(
        {"client_id": server.client_id, "client_secret": server.client_secret}
    )
    msg = urllib.parse.quote("Su pedido 4521 va en camino. Gracias por comprar.")

    def build(i: int) -> bytes:
        return (
            f"GET /http/?{query}&client_opcion=send_sms&num={prefix}{i:06d}&msg={msg} "
            f"HTTP/1.1\r\nHost: {host}\r\n\r\n"
        ).encode()

    return _load(server, build, n, conc, OK)


def rest_post(server: Server, prefix: str, n: int, conc: int) -> float:
    host = f"127.0.0.1:{server.port}"
    auth = base64.b64encode(f"{server.client_id}:{server.client_secret}".encode()).decode()

    def build(i: int) -> bytes:
        body = json.dumps({"to": f"{prefix}{i:06d}", "text": "Hola, su pedido va en camino."})
        return (
            f"POST /v1/messages HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        ).encode()

    return _load(server, build, n, conc, None)


def end_to_end(server: Server, url: str, prefix: str, n: int, conc: int) -> float:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM messages")).scalar()
        started = time.perf_counter()
        compat_get(server, prefix, n, conc)
        deadline = started + 300
        while time.perf_counter() < deadline:
            with engine.connect() as conn:
                done = conn.execute(
                    text("SELECT COUNT(*) FROM messages WHERE id >= :f AND status = 'delivered'"),
                    {"f": first},
                ).scalar()
            if done is not None and done >= n:
                return n / (time.perf_counter() - started)
            time.sleep(0.02)
        raise SystemExit(f"only {done} of {n} delivered after 300 s")
    finally:
        engine.dispose()


def one_server(
    tree: Path, db: str | None, n: int, conc: int, analyze_every: float = 0.0, workers: int = 1
) -> dict[str, float]:
    env = {"PYTHONPATH": str(tree / "src")}
    with store(db) as url, analyzing(url, analyze_every):
        server = start_server(url, env, workers=workers)
        sim_port = free_port()
        sim = start_sim(server.workdir, sim_port)
        try:
            server.cli("connectors", "add", "sim", "--host", "127.0.0.1", "--port",
                       str(sim_port), "--system-id", "centauro", "--password", "secret",
                       "--window", "64", "--tps", "0")  # fmt: skip
            server.cli("routes", "add", "--default", "--connector", "sim")
            _wait_up(server)
            compat_get(server, "04249", 1000, conc)  # warm-up
            figures = {
                "compat GET": compat_get(server, "04241", n, conc),
                "REST POST": rest_post(server, "04242", n, conc),
            }
            watch = url or f"sqlite:///{server.workdir / 'bench.sqlite3'}"
            figures["e2e SMPP"] = end_to_end(server, watch, "04123", n, conc)
            return figures
        finally:
            server.stop()
            sim.terminate()
            sim.wait(timeout=10)


def _wait_up(server: Server) -> None:
    """Until the connector is bound and a send is accepted: the route added after it is
    seen at the supervisor's next reload (2 s at most), not with the connector."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = json.loads(server.cli("connectors", "status", "--json"))
        if any(c["name"] == "sim" and c["state"] == "up" for c in status["connectors"]):
            break
        time.sleep(0.2)
    else:
        raise SystemExit("the SMPP connector never came up")
    query = urllib.parse.urlencode(
        {
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "client_opcion": "send_sms",
            "num": "04249999999",
            "msg": "ping",
        }
    )
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/http/?{query}") as answer:
            if OK in answer.read():
                return
        time.sleep(0.2)
    raise SystemExit("no send was accepted within 30 s of the connector coming up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--pg", default=os.environ.get("CENTAURO_BENCH_PG", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--tree", action="append", default=[], help="name=path, repeatable")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="serve's processes (default 1: the one-process comparison; 0: one per CPU)",
    )
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=0.0,
        help="seconds between two ANALYZE of PostgreSQL's busy tables, as autovacuum's "
        "auto-analyze would (default 0: never, this machine's PostgreSQL as it is)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop servers, drop databases
    here = Path(__file__).resolve().parent.parent
    trees = [(t.split("=", 1)[0], Path(t.split("=", 1)[1]).resolve()) for t in args.tree]
    trees = trees or [("this tree", here)]
    stores = [("SQLite", None), ("PostgreSQL", args.pg)]
    results: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for round_ in range(args.rounds):
        for name, tree in trees:
            for store_name, db in stores:
                figures = one_server(
                    tree, db, args.n, args.concurrency, args.analyze_every, args.workers
                )
                for figure, value in figures.items():
                    results[(figure, name, store_name)].append(value)
                shown = ", ".join(f"{k} {v:,.0f}" for k, v in figures.items())
                print(f"round {round_ + 1} {name} {store_name}: {shown}", flush=True)
    print()
    for figure in FIGURES:
        for name, _tree in trees:
            lite, pg = (statistics.median(results[(figure, name, s)]) for s, _ in stores)
            print(
                f"{figure:11} {name:10} SQLite {lite:7,.0f} msg/s  PostgreSQL "
                f"{pg:7,.0f} msg/s  PG/SQLite {pg / lite:.2f}"
            )


if __name__ == "__main__":
    main()
