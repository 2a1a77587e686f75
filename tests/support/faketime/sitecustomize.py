"""Started in every Python process of a test run under ``faketime`` (via ``PYTHONPATH``).

libfaketime 0.9.10 (Debian 12) with ``FAKETIME_DONT_FAKE_MONOTONIC=1`` breaks
``time.sleep``: Python 3.11+ sleeps with ``clock_nanosleep(CLOCK_MONOTONIC,
TIMER_ABSTIME)`` and libfaketime shifts that real monotonic deadline as if it were faked,
so the kernel answers EINVAL (wolfcw/libfaketime#426). Faking the monotonic clock instead
hangs every lock wait with a timeout (``sem_clockwait`` is not intercepted). So the
monotonic clock stays real and ``time.sleep`` waits in ``select()``, whose timeout is
relative. Nothing else changes: the wall clock is the faked one, as intended.
"""

from __future__ import annotations

import os
import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


if "faketime" in os.environ.get("LD_PRELOAD", ""):
    time.sleep = _sleep
