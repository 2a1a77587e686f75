"""Two processes writing one SQLite file: how fairly they share the write lock.

``serve --workers`` on SQLite has one worker answering HTTP and one delivering, each
with its own writer on the same file (WAL, ``synchronous=FULL``). Each process here
commits small transactions (20 inserts of 100 bytes) flat out for ``--seconds``; it
prints each process's commits and how long ``BEGIN IMMEDIATE`` waited (90th percentile,
of the process with fewer commits), for two ways of waiting for the lock, interleaved
round by round:

* ``sqlite``: SQLite's own busy handler (``busy_timeout``), which sleeps 1, 2, 5, 10 …
  ms between tries — what the store did before;
* ``ours``: ``store.engine._take_write_lock``, retrying every millisecond or less.

Usage: python bench/sqlite_lock.py [--seconds 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from centauro.store.engine import _take_write_lock

ROWS = [("x" * 100,)] * 20


def writer(path: str, mode: str, seconds: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    conn = sqlite3.connect(path, isolation_level=None, timeout=10 if mode == "sqlite" else 0)
    conn.execute("PRAGMA synchronous=FULL")
    waits: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        if mode == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
        else:
            _take_write_lock(conn)
        waits.append(time.perf_counter() - started)
        conn.executemany("INSERT INTO t (v) VALUES (?)", ROWS)
        conn.execute("COMMIT")
    waits.sort()
    out.put((len(waits), waits[len(waits) // 2] * 1e3, waits[int(len(waits) * 0.9)] * 1e3))


def one_round(mode: str, seconds: float) -> list[tuple[int, float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "lock.sqlite3")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.close()
        out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        procs = [mp.Process(target=writer, args=(path, mode, seconds, out)) for _ in range(2)]
        for p in procs:
            p.start()
        results = [out.get(timeout=seconds + 30) for _ in procs]
        for p in procs:
            p.join(timeout=10)
        return sorted(results)  # the starved process first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[list[tuple[int, float, float]]]] = {"sqlite": [], "ours": []}
    for _ in range(args.rounds):
        for mode, rounds in runs.items():
            rounds.append(one_round(mode, args.seconds))
    for mode, rounds in runs.items():
        fewer = statistics.median(r[0][0] for r in rounds)
        more = statistics.median(r[1][0] for r in rounds)
        p90 = statistics.median(r[0][2] for r in rounds)  # the starved process
        each = "; ".join(f"{r[0][0]}+{r[1][0]}" for r in rounds)
        rate = f"fewer {fewer / args.seconds:,.0f}, more {more / args.seconds:,.0f}"
        print(
            f"{mode:6} commits/s: {rate}"
            f" (share {fewer / (fewer + more):.0%}), its lock wait p90 {p90:.2f} ms"
            f"  (rounds: {each})"
        )


if __name__ == "__main__":
    main()
