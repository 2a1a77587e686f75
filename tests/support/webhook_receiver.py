"""A real HTTP receiver for webhook tests: a threaded server on a loopback port.

It records every request (path, headers, body) and answers 200 — or what the test asks:
``fail_first[path] = 3`` answers 500 to the first three requests on that path;
``answers[path] = (status, headers, body)`` fixes an answer; ``delay[path]`` waits first.
Signatures are checked here with hmac/hashlib, independently of the gateway's code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  #: lower-case names
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery(self) -> str:
        return self.headers["centauro-delivery"]


def expected_signature(key: str, header: str) -> tuple[int, str]:
    """``(t, v1)`` parsed from a ``Centauro-Signature`` header."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    return int(parts["t"]), parts["v1"]


def signed_by(request: Received, key: str) -> bool:
    """Whether the request's signature is HMAC-SHA256(key, "<t>.<body>"), computed here."""
    t, v1 = expected_signature(key, request.headers["centauro-signature"])
    mac = hmac.new(key.encode(), str(t).encode() + b"." + request.body, hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), v1)


def secret_hash_key(client_secret: str) -> str:
    """The callback key before migration 0005 (the hex of ``accounts.secret_hash``), which
    anyone reading the database could compute: callbacks must no longer verify with it."""
    return hashlib.sha256(client_secret.encode()).hexdigest()


@dataclass
class Receiver:
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    fail_first: dict[str, int] = field(default_factory=dict)
    answers: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seen: Counter[str] = field(default_factory=Counter)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self._seen[path] += 1
            seen = self._seen[path]
        if seen <= self.fail_first.get(path, 0):
            return 500, {}, b'{"error":"try later"}'
        return self.answers.get(path, (200, {}, b"ok"))

    def record(self, r: Received) -> None:
        with self._lock:
            self.requests.append(r)

    def on(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def deliveries(self) -> Counter[str]:
        """How many times each ``Centauro-Delivery`` id arrived."""
        with self._lock:
            return Counter(r.delivery for r in self.requests)

    def wait_for(
        self, check: Callable[[Receiver], bool], timeout: float = 20, what: str = ""
    ) -> None:
        deadline = time.monotonic() + timeout
        while not check(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or 'the receiver'}")
            time.sleep(0.05)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:
                # The sender died mid-request (a kill -9 test): nothing was delivered.
                self.close_connection = True
                return
            receiver.record(
                Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.monotonic(),
                )
            )
            if self.path in receiver.delay:
                time.sleep(receiver.delay[self.path])
            status, headers, answer = receiver.answer(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender killed mid-request resets its connections: expected here


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver listening on a free loopback port until the block ends."""
    receiver = Receiver()
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
