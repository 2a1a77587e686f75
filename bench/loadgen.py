"""A small keep-alive HTTP/1.1 load generator on asyncio streams.

Why not httpx: a general client spends more CPU per request than the server under
test, on the same two cores, so it would measure itself. This one only writes
prebuilt requests and reads ``Content-Length`` framed answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    first_failure: str = ""

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def run_load(
    host: str,
    port: int,
    build: Callable[[int], bytes],
    *,
    total: int,
    concurrency: int,
    accept: Callable[[int, bytes], bool],
) -> LoadResult:
    """Send ``total`` requests (``build(i)`` gives request ``i``'s bytes) over
    ``concurrency`` connections; ``accept`` says whether an answer counts as OK."""
    result = LoadResult()
    counter = iter(range(total))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in counter:
                started = time.perf_counter()
                writer.write(build(i))
                status, body = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.sent += 1
                if accept(status, body):
                    result.ok += 1
                else:
                    result.failed += 1
                    if not result.first_failure:
                        result.first_failure = f"{status} {body[:200]!r}"
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result
