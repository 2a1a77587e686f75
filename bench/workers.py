"""``serve --workers``: core_api.py and e2e_smpp.py for several process models, interleaved.

Each round runs every configuration once (a fresh server each time), so the machine's
noise falls on all of them alike; the table shows the median of the rounds and each
configuration's ratio to the first one. A configuration is ``NAME:WORKERS`` or
``NAME:WORKERS:PYTHONPATH`` (another tree's ``src``, to compare a design not on this branch).

Usage: python bench/workers.py [--rounds 3] [--config one:1 --config two:2 ...]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIGURES = {
    "bulk recipients/s": ("core_api.py", r"send_sms, .*: median ([\d,]+)"),
    "GET accept msg/s": ("core_api.py", r"GET /http/ single sends.*: median ([\d,]+)"),
    "e2e msg/s": ("e2e_smpp.py", r"end to end .*: median ([\d,]+)"),
    "e2e HTTP accept msg/s": ("e2e_smpp.py", r"HTTP accept: median ([\d,]+)"),
    "core peak RSS MB": ("core_api.py", r"peak RSS.*: ([\d,]+) MB"),
    "core CPU s": ("core_api.py", r"server CPU seconds: ([\d.]+)"),
    "e2e CPU s": ("e2e_smpp.py", r"server CPU seconds: ([\d.]+)"),
    "e2e peak RSS MB": ("e2e_smpp.py", r"peak RSS.*: ([\d,]+) MB"),
}


def run(script: str, workers: str, pythonpath: str | None, extra: list[str]) -> str:
    """One run's output; a failed run (a slow start on a busy machine) is tried once more."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, str(HERE / script), "--runs", "1", "--workers", workers, *extra],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return result.stdout
        print(f"{script} --workers {workers} failed:\n{result.stderr[-2000:]}", file=sys.stderr)
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--config", action="append", default=[])
    parser.add_argument("--gets", default="20000")
    parser.add_argument("--n", default="10000")
    args = parser.parse_args()
    configs = [c.split(":", 2) for c in (args.config or ["one:1", "two:2"])]
    seen: dict[str, dict[str, list[float]]] = {c[0]: {f: [] for f in FIGURES} for c in configs}
    for round_ in range(args.rounds):
        for name, workers, *path in configs:
            where = path[0] if path else None
            outs = {
                "core_api.py": run("core_api.py", workers, where, ["--gets", args.gets]),
                "e2e_smpp.py": run("e2e_smpp.py", workers, where, ["--n", args.n, "--no-receipts"]),
            }
            out = "".join(outs.values())
            for figure, (script, pattern) in FIGURES.items():
                found = re.search(pattern, outs[script])
                if found:
                    seen[name][figure].append(float(found.group(1).replace(",", "")))
            print(f"round {round_ + 1} {name}:\n{out}", file=sys.stderr, flush=True)
    base = configs[0][0]
    print("| figure | " + " | ".join(c[0] for c in configs) + " |")
    print("|---|" + "---|" * len(configs))
    for figure in FIGURES:
        cells = []
        first = statistics.median(seen[base][figure]) if seen[base][figure] else 0
        for name, *_ in configs:
            values = seen[name][figure]
            if not values:
                cells.append("—")
                continue
            median = statistics.median(values)
            ratio = f" ({median / first:.2f}×)" if first and name != base else ""
            cells.append(f"{median:,.0f}{ratio}" if median >= 10 else f"{median:.1f}{ratio}")
        print(f"| {figure} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
