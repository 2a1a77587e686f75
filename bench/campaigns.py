"""Campaign figures on one ``centauro serve`` process per store (issue 11):

1. upload → validated → preview ready: ``POST /v1/campaigns/upload`` of a 100,000-row CSV
   (Latin-1, ``;``, a name and a city per row, a template with two fields), timed by the
   client from first byte sent to the draft's answer (target ≤ 5 s);
2. confirmed and queued: ``POST /v1/campaigns/{id}/confirm`` of that draft (re-read the
   kept file, charge once, insert 100,000 messages through the bulk path), timed the same
   way → recipients/s (target ≥ 20,000/s).

3. the reference, interleaved in the same runs on the same server: the same 100,000
   recipients through ``POST /v1/messages/batch`` (10 requests of 10,000, the bulk path
   the issue measured at ≥ 20,000/s) → recipients/s. On a shared, loaded machine the
   absolute figures move; the ratio campaign / batch is the comparable one.

Each figure is the median of ``--runs`` runs (default 3), each on a fresh file of new
numbers, on SQLite and on PostgreSQL (``--pg`` DSN; a schema of its own, dropped after).
Usage: python bench/campaigns.py [--rows 100000] [--runs 3] [--pg postgresql://…] [--only sqlite]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import start_server

TEMPLATE = "Hola {nombre}, su pedido en {ciudad} está listo. Centauro SMS."


def csv_file(run: int, rows: int) -> bytes:
    lines = ["Teléfono;Nombre;Ciudad;Saldo"]
    lines += [f"0414{run}{i:06d};Cliente {i};Caracas;{i % 997}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("cp1252")


@contextmanager
def store(kind: str, pg_dsn: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        base = pg_dsn.replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def batch_rate(http: httpx.Client, auth: tuple[str, str], run: int, rows: int) -> float:
    """Recipients/s of the same audience sent as 10,000-message batches."""
    t0 = time.perf_counter()
    for start in range(0, rows, 10_000):
        messages = [
            {
                "to": f"0416{run}{i:06d}",
                "text": f"Hola Cliente {i}, su pedido en Caracas está listo.",
            }
            for i in range(start, min(rows, start + 10_000))
        ]
        http.post("/v1/messages/batch", auth=auth, json={"messages": messages}).raise_for_status()
    return rows / (time.perf_counter() - t0)


def run_store(
    kind: str, pg_dsn: str, rows: int, runs: int
) -> tuple[list[float], list[float], list[float]]:
    previews: list[float] = []
    rates: list[float] = []
    batches: list[float] = []
    with store(kind, pg_dsn) as url:
        server = start_server(url)
        try:
            auth = (server.client_id, server.client_secret)
            with httpx.Client(base_url=server.base_url, timeout=600) as http:
                for run in range(runs):
                    data = csv_file(run + 1, rows)
                    form = {"name": f"bench {run}", "template": TEMPLATE,
                            "number_column": "teléfono", "name_column": "nombre"}  # fmt: skip
                    t0 = time.perf_counter()
                    answer = http.post(
                        "/v1/campaigns/upload", auth=auth, data=form,
                        files={"file": ("clientes.csv", data)},
                    )  # fmt: skip
                    previews.append(time.perf_counter() - t0)
                    answer.raise_for_status()
                    draft = answer.json()
                    assert draft["accepted"] == rows, draft["preview"]["problem_counts"]
                    t0 = time.perf_counter()
                    confirmed = http.post(f"/v1/campaigns/{draft['id']}/confirm", auth=auth)
                    elapsed = time.perf_counter() - t0
                    confirmed.raise_for_status()
                    assert confirmed.json()["charged"] == rows
                    rates.append(rows / elapsed)
                    batches.append(batch_rate(http, auth, run + 1, rows))
                    print(
                        f"  {kind} run {run + 1}: preview {previews[-1]:.2f} s, "
                        f"confirm {elapsed:.2f} s = {rates[-1]:,.0f} rcpt/s, "
                        f"batch {batches[-1]:,.0f} rcpt/s",
                        flush=True,
                    )
        finally:
            server.stop()
    return previews, rates, batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    for kind in kinds:
        previews, rates, batches = run_store(kind, args.pg, args.rows, args.runs)
        rate, batch = statistics.median(rates), statistics.median(batches)
        print(
            f"{kind}: {args.rows:,} rows — upload+validation+preview median "
            f"{statistics.median(previews):.2f} s (target ≤ 5 s); confirm+queue median "
            f"{rate:,.0f} rcpt/s (target ≥ 20,000); /v1/messages/batch median {batch:,.0f} "
            f"rcpt/s; campaign/batch {rate / batch:.2f}"
        )


if __name__ == "__main__":
    main()
