"""Process-wide settings of a long-running server process.

The cyclic garbage collector: CPython runs a young collection every 700 new container
objects (net of frees), a request's worth here, and every tenth an older one, each
walking the ~300,000 objects the server stack imports (SQLAlchemy, FastAPI, the
phonenumbers metadata). Frozen after start-up those are never walked again, and a young
collection every 10,000 allocations took 15 % of the CPU per message off single sends
(docs/performance.md, "The garbage collector"). Cycles still get collected.

glibc's malloc gives each thread that allocates under contention its own arena (up to
8 per core), and memory freed in one arena is not reused by another: a server with a
writer thread, a pool of worker threads and the event loop ends up holding several
half-empty arenas. Two arenas keep the peak resident size lower at no measurable cost in
speed (docs/performance.md). ``MALLOC_ARENA_MAX`` in the environment, if set, wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os

log = logging.getLogger(__name__)

#: ``gc.set_threshold``'s three numbers for a serving process (CPython: 700, 10, 10).
GC_THRESHOLDS = (10_000, 50, 100)

#: mallopt's M_ARENA_MAX parameter (glibc's malloc.h).
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for the rest of the process (True if it was set)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False  # the operator's own choice, applied by glibc at start
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    done = bool(mallopt(_M_ARENA_MAX, arenas))
    log.debug("malloc_arenas", extra={"action": "malloc_arenas", "arenas": arenas, "ok": done})
    return done


def tune_gc() -> None:
    """Freeze what exists now (the imported server stack) out of the collector's walks and
    collect the young generation less often. Call once the server is imported."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
