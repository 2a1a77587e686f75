"""Round trips on a psycopg connection, read from libpq's protocol trace.

A round trip is a turn of the conversation: the client sends one or more messages, then
reads the server's answer. Counting ``Sync``/``Query`` messages would over-count a
pipeline, which sends many before it reads once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any


class Turns:
    """Follow connections' traces; count the turns from sending to receiving."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="centauro-trace-")
        self._handles: list[Any] = []
        self._skip: list[int] = []

    def follow(self, pgconn: Any) -> None:
        handle = (Path(self._dir.name) / f"{len(self._handles)}.log").open("w+")
        self._handles.append(handle)
        self._skip.append(0)
        pgconn.trace(handle.fileno())

    def _counts(self) -> list[int]:
        counts = []
        for handle in self._handles:
            handle.flush()
            lines = Path(handle.name).read_text().splitlines()
            turns, last = 0, ""
            for line in lines:
                parts = line.split("\t")  # [timestamp] F|B length message …
                side = "F" if "F" in parts[:2] else "B" if "B" in parts[:2] else ""
                if side == "B" and last == "F":
                    turns += 1
                last = side or last
            counts.append(turns)
        return counts

    def reset(self) -> None:
        self._skip = self._counts()

    def count(self) -> int:
        return sum(n - skip for n, skip in zip(self._counts(), self._skip, strict=True))

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        self._dir.cleanup()
