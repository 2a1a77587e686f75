"""Run one benchmark against several source trees, interleaved round by round.

On a shared, noisy machine a before/after figure is only fair when both sides run in the
same minutes: round 1 runs every tree once, then round 2, and so on; the report is each
figure's median per tree and its ratio to the first tree. Each tree is a checkout (a git
worktree) whose ``src`` is put first on ``PYTHONPATH``, so ``centauro serve`` (started by
the benchmark) runs that tree's code with this environment's dependencies.

Usage:
  python bench/trees.py --tree base=/work/wt/D-base --tree new=. --rounds 3 \\
      -- bench/core_api.py --runs 1 --gets 10000
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

#: "label: median 1,234 unit  (runs: …)" or "peak RSS …: 128 MB" or "server CPU seconds: 4.7"
FIGURE = re.compile(r"^(?P<name>[^:]+?)(?:: median|:) (?P<value>[\d,.]+) ?(?P<unit>[^\s(]*)")


def figures(output: str) -> dict[str, tuple[float, str]]:
    found: dict[str, tuple[float, str]] = {}
    for line in output.splitlines():
        match = FIGURE.match(line.strip())
        if match:
            value = float(match["value"].replace(",", ""))
            found[match["name"].strip()] = (value, match["unit"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, help="label=path")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- script.py args…")
    args = parser.parse_args()
    command = [c for c in args.command if c != "--"]
    trees = [tuple(t.split("=", 1)) for t in args.tree]
    results: dict[str, dict[str, list[float]]] = {label: {} for label, _ in trees}
    units: dict[str, str] = {}
    for round_no in range(1, args.rounds + 1):
        for label, path in trees:
            env = dict(os.environ)
            src = str(Path(path).resolve() / "src")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
            done = subprocess.run(
                [sys.executable, *command], env=env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise SystemExit(f"{label} round {round_no} failed:\n{done.stdout}{done.stderr}")
            print(f"round {round_no} {label}:\n{done.stdout.rstrip()}", flush=True)
            for name, (value, unit) in figures(done.stdout).items():
                results[label].setdefault(name, []).append(value)
                units[name] = unit
    first = trees[0][0]
    print(f"\nmedians (ratio to {first}):")
    for name, unit in units.items():
        base = statistics.median(results[first].get(name, [float("nan")]))
        cells = []
        for label, _ in trees:
            value = statistics.median(results[label].get(name, [float("nan")]))
            cells.append(f"{label} {value:,.1f} {unit} ({value / base:.2f}×)")
        print(f"  {name}: " + " | ".join(cells))


if __name__ == "__main__":
    main()
