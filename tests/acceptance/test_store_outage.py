"""PostgreSQL goes away for 30 s under ``serve --workers 2``: requests answer 503
``store_unavailable`` (compat: 302), nothing accepted is lost, service resumes by itself.

The shared PostgreSQL server cannot be stopped, so ``serve`` reaches it through a small
TCP forwarder in this test; cutting it closes every open connection and refuses new ones,
as a stopped server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from centauro.store.engine import open_database
from tests.support.server import Account, ServerProcess, free_port, run_cli
from tests.support.stores import store_url

OUTAGE = 30.0
PG = ("127.0.0.1", 5432)


class Forwarder:
    """Loopback TCP forwarder to PostgreSQL on its own event loop thread; ``cut()`` drops
    every connection and refuses new ones until ``restore()``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.up = True
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Forwarder:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*PG)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        def drop() -> None:
            self.up = False
            for writer in list(self._writers):
                writer.transport.abort()

        self._loop.call_soon_threadsafe(drop)

    def restore(self) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "up", True)


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    with store_url("postgresql", tmp_path) as url:
        yield url


def via(url: str, port: int) -> str:
    parsed = urllib.parse.urlsplit(url)
    netloc = parsed.netloc.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    return urllib.parse.urlunsplit(parsed._replace(netloc=netloc))


def send_rest(http: httpx.Client, account: Account, to: str) -> httpx.Response:
    return http.post(
        "/v1/messages",
        json={"to": to, "text": "hola"},
        auth=(account.client_id, account.client_secret),
    )


def send_compat(http: httpx.Client, account: Account, to: str) -> httpx.Response:
    return http.get(
        "/http/",
        params={
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "client_opcion": "send_sms",
            "num": to,
            "msg": "hola",
        },
    )


def test_a_store_outage_answers_503_loses_nothing_and_heals_by_itself(
    pg_url: str, tmp_path: Path
) -> None:
    run_cli(pg_url, "db", "upgrade")
    with Forwarder() as forwarder:
        server = ServerProcess(
            via(pg_url, forwarder.port),
            tmp_path,
            free_port(),
            # A short lease: a submit whose record the cut lost is sent again sooner.
            env_extra={"CENTAURO_WORKERS": "2", "CENTAURO_LEASE_SECONDS": "10"},
        )
        server.start()
        try:
            _outage(server, forwarder, pg_url)
        finally:
            server.stop()


def _outage(server: ServerProcess, forwarder: Forwarder, pg_url: str) -> None:
    account = server.create_account(credits=10_000)
    accepted: list[str] = []
    seen: Counter[str] = Counter()
    with httpx.Client(base_url=server.base_url, timeout=15) as http:
        for i in range(20):
            response = send_rest(http, account, f"+58414700{i:04d}")
            assert response.status_code == 202, response.text
            accepted.append(response.json()["messages"][0]["id"])

        forwarder.cut()
        started = time.monotonic()
        i = 0
        while time.monotonic() - started < OUTAGE:
            i += 1
            asked = time.monotonic()
            rest = send_rest(http, account, f"+58414800{i:04d}")
            compat = send_compat(http, account, f"0414900{i:04d}")
            assert time.monotonic() - asked < 20  # answered, not hung
            if rest.status_code == 202:  # the cut had not reached this worker yet
                accepted.append(rest.json()["messages"][0]["id"])
                seen["rest 202"] += 1
            else:
                assert rest.status_code == 503, rest.text
                problem = rest.json()
                assert rest.headers["content-type"] == "application/problem+json"
                assert problem["code"] == "store_unavailable", problem
                assert "base de datos" in problem["detail"]
                assert rest.headers["retry-after"] == "5"
                seen["rest 503"] += 1
            assert compat.status_code == 200, compat.text
            status = compat.json()["status"]
            assert status in ("200", "302"), compat.text
            seen[f"compat {status}"] += 1
            time.sleep(0.5)
        assert seen["rest 503"] >= 10, seen
        assert seen["compat 302"] >= 10, seen

        forwarder.restore()
        healed = time.monotonic()
        while True:
            response = send_rest(http, account, "+584147009999")
            if response.status_code == 202:
                accepted.append(response.json()["messages"][0]["id"])
                break
            assert response.status_code == 503, response.text
            assert time.monotonic() - healed < 30, "service did not resume by itself"
            time.sleep(0.5)

    db = open_database(pg_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            with db.read() as conn:
                rows = conn.exec_driver_sql(
                    "SELECT status, count(*) FROM messages WHERE id = ANY(%(ids)s) GROUP BY status",
                    {"ids": [int(m) for m in accepted]},
                ).all()
            states = {str(s): int(n) for s, n in rows}
            if states.get("delivered") == len(accepted) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        db.dispose()
    assert states == {"delivered": len(accepted)}  # every accepted message, delivered
