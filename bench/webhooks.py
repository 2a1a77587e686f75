"""Webhook delivery throughput: 10,000 ``message.status`` events to a local receiver.

Each run sends 5,000 messages in one ``send_sms`` through the built-in sandbox carrier;
each message makes two events (``sent``, then ``delivered``), so 10,000 deliveries reach
the receiver — a small asyncio HTTP/1.1 server in this script (keep-alive, answers 200 at
once, counts each ``Centauro-Delivery`` id). Figures:

* deliveries/s: 10,000 / (last delivery's arrival − first's), median of ``--runs``;
* end to end: from the send to the last delivery;
* server CPU per delivery (the whole server: API, dispatcher, sandbox, sender);
* a ``kill -9`` run: the server is killed mid-run and restarted; every delivery must
  still arrive (none lost), and the duplicates are counted.

Usage: python bench/webhooks.py [--db URL] [--runs 3] [--messages 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request
from base64 import b64encode
from collections import Counter
from pathlib import Path
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, _spawn, median_report, start_server
from centauro.compat.phpurl import encode_field

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"


class Receiver(asyncio.Protocol):
    """Minimal HTTP/1.1 server: enough for POSTs with a Content-Length, pipelined or not."""

    seen: ClassVar[Counter[str]] = Counter()
    first_arrival: ClassVar[dict[str, float]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").lower()
            length, delivery = 0, ""
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    length = int(value)
                elif name == "centauro-delivery":
                    delivery = value.strip()
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            Receiver.seen[delivery] += 1
            Receiver.first_arrival.setdefault(delivery, time.monotonic())
            self.transport.write(ANSWER)


def api(server: Server, method: str, path: str, body: object = None) -> object:
    auth = b64encode(f"{server.client_id}:{server.client_secret}".encode()).decode()
    request = urllib.request.Request(
        server.base_url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def send(server: Server, run: int, messages: int) -> None:
    people = ",".join(
        json.dumps({"id": "0", "cel": f"0414{run:02d}{i:05d}", "nom": ""}) for i in range(messages)
    )
    data = urllib.parse.urlencode(
        {
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "client_opcion": "send_sms",
            "json": encode_field(people),
            "msg": encode_field("Su pedido va en camino"),
        }
    ).encode()
    with urllib.request.urlopen(f"{server.base_url}/controllersms/", data, timeout=120) as r:
        assert b'"status":"200"' in r.read()


async def wait_for(total: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len(Receiver.seen) < total:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {len(Receiver.seen)}/{total} deliveries")
        await asyncio.sleep(0.01)


async def one_run(server: Server, run: int, messages: int) -> tuple[float, float]:
    before = set(Receiver.seen)
    started = time.monotonic()
    await asyncio.to_thread(send, server, run, messages)
    await wait_for(len(before) + 2 * messages)
    arrivals = [t for d, t in Receiver.first_arrival.items() if d not in before]
    return 2 * messages / (max(arrivals) - min(arrivals)), max(arrivals) - started


async def kill_run(server: Server, run: int, messages: int) -> None:
    before_ids = set(Receiver.seen)
    before_total = sum(Receiver.seen.values())
    await asyncio.to_thread(send, server, run, messages)
    while len(Receiver.seen) - len(before_ids) < messages * 2 * 0.3:
        await asyncio.sleep(0.005)
    server.process.kill()
    server.process.wait()
    at_kill = len(Receiver.seen) - len(before_ids)
    server.process = _spawn(server.workdir, server.env, server.port)
    await asyncio.to_thread(server.wait_ready)
    await wait_for(len(before_ids) + 2 * messages)
    await asyncio.sleep(1.0)  # late duplicates, if any
    new = len(Receiver.seen) - len(before_ids)
    duplicates = sum(Receiver.seen.values()) - before_total - new
    print(
        f"kill -9 at {at_kill:,}/{2 * messages:,} deliveries: after restart {new:,} distinct "
        f"arrived (lost: {2 * messages - new}), duplicates: {duplicates}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=None, help="webhook POSTs in flight")
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(Receiver, "127.0.0.1", 0, backlog=1024)
    port = listener.sockets[0].getsockname()[1]
    env = {"CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1", "CENTAURO_SANDBOX_DLR_DELAY": "0.2"}
    if args.concurrency:
        env["CENTAURO_WEBHOOK_CONCURRENCY"] = str(args.concurrency)
    server = start_server(args.db, env)
    try:
        api(server, "POST", "/v1/webhooks",
            {"url": f"http://127.0.0.1:{port}/hook", "events": ["message.status"]})  # fmt: skip
        await one_run(server, 99, 200)  # warm-up
        rates, totals, cpu = [], [], []
        for run in range(args.runs):
            cpu_before = server.cpu_seconds()
            rate, total = await one_run(server, run, args.messages)
            cpu.append((server.cpu_seconds() - cpu_before) / (2 * args.messages) * 1e6)
            rates.append(rate)
            totals.append(total)
        print(median_report("webhook deliveries", "deliveries/s", rates))
        print(
            f"end to end (send → last delivery): median {statistics.median(totals):.2f} s; "
            f"server CPU per delivery (everything): median {statistics.median(cpu):.0f} µs"
        )
        await kill_run(server, 50, args.messages)
        print(f"peak RSS of serve: {server.peak_rss_mb():.0f} MB")
    finally:
        server.stop()
        listener.close()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
