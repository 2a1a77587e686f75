"""What reading a campaign's CSV costs, before and after it went through the one CSV
reader (``domain/csvfile.lines``): ``service.campaign_files.read`` as it is now against
the same function as it was at ``--before`` (default: the commit before the change),
loaded from git into a module of its own. Pure parsing in process, no store.

The two run interleaved in one process (before, after, before, after, …) on the same
file — Latin-1, ``;``, four columns, as Excel saves it — and the median of ``--runs``
each is printed with the ratio after / before. On a shared, noisy machine only the ratio
is comparable. Both must give the same table (checked).

Usage: python bench/csv_readers.py [--rows 1000000] [--runs 3] [--before REV]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from centauro.service import campaign_files

BEFORE = "3e5fbfc"  # main before the campaign upload used domain/csvfile
PATH = "src/centauro/service/campaign_files.py"


def sheet(rows: int) -> bytes:
    lines = ["Teléfono;Nombre;Ciudad;Saldo"]
    lines += [f"0414{i % 10_000_000:07d};Cliente {i};Mérida;{i % 997}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("cp1252")


def old_reader(rev: str) -> Callable[..., campaign_files.Table]:
    source = subprocess.run(
        ["git", "show", f"{rev}:{PATH}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    module = types.ModuleType("campaign_files_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:{PATH}", "exec"), module.__dict__)  # our own file, from git
    read: Callable[..., campaign_files.Table] = module.read
    return read


def timed(read: Callable[..., campaign_files.Table], data: bytes) -> tuple[float, list[str]]:
    start = time.perf_counter()
    table = read(data, "clientes.csv")
    return time.perf_counter() - start, table.columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", default=BEFORE)
    args = parser.parse_args()
    data = sheet(args.rows)
    before = old_reader(args.before)
    old_table, new_table = before(data, "a.csv"), campaign_files.read(data, "a.csv")
    assert (old_table.columns, old_table.rows) == (new_table.columns, new_table.rows)
    del old_table, new_table
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.runs):
        times["before"].append(timed(before, data)[0])
        times["after"].append(timed(campaign_files.read, data)[0])
    b, a = statistics.median(times["before"]), statistics.median(times["after"])
    mb = len(data) / 1e6
    print(f"{args.rows:,} rows, {mb:.1f} MB, median of {args.runs}, interleaved")
    print(f"before ({args.before}): {b:.2f} s  ({args.rows / b:,.0f} rows/s)")
    print(f"after  (csvfile.lines): {a:.2f} s  ({args.rows / a:,.0f} rows/s)")
    print(f"after / before: {a / b:.2f}")


if __name__ == "__main__":
    main()
