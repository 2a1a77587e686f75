"""Process-wide settings: glibc's malloc arenas (unless the operator chose) and the collector."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "from centauro.process import limit_malloc_arenas; print(limit_malloc_arenas())"


def _run(env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_arenas_are_capped_on_glibc() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    assert _run(env) == "True"


def test_the_environment_wins() -> None:
    assert _run({**os.environ, "MALLOC_ARENA_MAX": "4"}) == "False"


GC_PROBE = """
import gc, weakref
import centauro.api.app  # the server stack, as serve has it imported
from centauro.process import GC_THRESHOLDS, tune_gc

tune_gc()
assert gc.get_threshold() == GC_THRESHOLDS, gc.get_threshold()
assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle: only the collector frees it
gone = weakref.ref(a)
del a, b
junk = [[] for _ in range(2 * GC_THRESHOLDS[0])]  # enough allocations for a collection
print(gone() is None)
"""


def test_the_collector_skips_the_imported_stack_and_still_frees_cycles() -> None:
    """``tune_gc`` (called by ``serve`` and by each worker once the server is imported)."""
    out = subprocess.run(
        [sys.executable, "-c", GC_PROBE], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "True"
