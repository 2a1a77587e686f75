"""What a sign-in costs at the door, by the kind of stored secret (strong or imported).

Drives the real :class:`~centauro.api.guard.Guard` over a real ``runtime.Gateway`` on a
SQLite file, in process (no HTTP): a cached sign-in (the hot path), a sign-in with the
cache off (a store read; for an imported secret the proof spares the scrypt), and an
imported secret's first sign-in (the one derivation). Prints medians in microseconds.

Usage: python bench/sign_in.py [--n 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from centauro.api.guard import Guard
from centauro.config import Settings
from centauro.runtime import Gateway
from centauro.service import accounts

SECRETS = {"strong": "Zb7-qT2mW9xL4kP8sR3vN6yC", "imported": "abc123"}


async def per_call_us(guard: Guard, client_id: str, secret: str, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        await guard.authenticate(client_id, secret, "127.0.0.1")
    return (time.perf_counter() - started) / n * 1e6


async def measure(workdir: Path, n: int, runs: int) -> dict[str, float]:
    settings = Settings(database_url=f"sqlite:///{workdir / 'bench.sqlite3'}")
    gateway = Gateway(settings)
    await gateway.start()
    figures: dict[str, list[float]] = {}
    try:
        assert gateway.db is not None
        with gateway.db.begin() as conn:
            for kind, secret in SECRETS.items():
                accounts.create(
                    conn, name=kind, credits=0, now=datetime.now(UTC), client_id=kind,
                    client_secret=secret, import_secret=kind == "imported",
                )  # fmt: skip
        off = dataclasses.replace(settings, auth_cache_seconds=0)
        for _ in range(runs):
            cached, uncached = Guard(gateway, settings), Guard(gateway, off)
            started = time.perf_counter()
            await uncached.authenticate("imported", SECRETS["imported"], "127.0.0.1")
            first = (time.perf_counter() - started) * 1e6
            figures.setdefault("imported: first sign-in (scrypt)", []).append(first)
            for kind, secret in SECRETS.items():
                await cached.authenticate(kind, secret, "127.0.0.1")
                figures.setdefault(f"{kind}: cached", []).append(
                    await per_call_us(cached, kind, secret, n)
                )
                figures.setdefault(f"{kind}: cache off (store read)", []).append(
                    await per_call_us(uncached, kind, secret, max(1, n // 20))
                )
    finally:
        await gateway.stop()
    return {name: statistics.median(values) for name, values in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        figures = asyncio.run(measure(Path(workdir), args.n, args.runs))
    for name, us in figures.items():
        print(f"{name:40s} {us:10.1f} µs")


if __name__ == "__main__":
    main()
