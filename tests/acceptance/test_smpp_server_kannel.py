"""Kannel (an ESME nobody here wrote) binds to ``centauro serve --smpp-port`` as to its SMSC:
a ``sendsms`` request goes through Kannel's bearerbox to Centauro, and Kannel's DLR callback
reports ``DELIVRD``. The ``smsc`` group is the one docs/smpp-server.md shows.

Kannel comes from ``apt-get install kannel`` (``.ci/run`` installs it); the test skips only
where it is missing outside CI, and fails under ``CI=true``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.esme import Smpp, smpp_gateway
from tests.support.server import free_port
from tests.support.stores import IN_CI, store_url

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"


def kannel_or_skip() -> None:
    if Path(BEARERBOX).exists() and Path(SMSBOX).exists():
        return
    if IN_CI:
        pytest.fail(
            "Kannel is required under CI=true (.ci/run installs it: apt-get install kannel)"
        )
    pytest.skip("Kannel is not installed (apt-get install kannel)")


KANNEL_CONF = """
group = core
admin-port = {admin}
admin-password = secret
smsbox-port = {smsbox}
box-allow-ip = 127.0.0.1
log-file = "{workdir}/bearerbox.log"
log-level = 0
dlr-storage = internal

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms}
log-file = "{workdir}/smsbox.log"
log-level = 0

group = sendsms-user
username = tester
password = foobar

group = smsc
smsc = smpp
smsc-id = centauro
host = 127.0.0.1
port = {smpp_port}
transceiver-mode = true
smsc-username = {system_id}
smsc-password = {password}
system-type = ""
source-addr-ton = 5
source-addr-npi = 0
dest-addr-ton = 1
dest-addr-npi = 1
msg-id-type = 0x00
max-pending-submits = 100
enquire-link-interval = 30
"""


class Callbacks:
    """Kannel's DLR callbacks (GET requests), recorded by a loopback HTTP server."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.urlsplit(self.path).query
                received.append(dict(urllib.parse.parse_qsl(query)))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a Kannel box by its PID: SIGTERM, then SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def kannel_smpp(tmp_path: Path) -> Iterator[Smpp]:
    kannel_or_skip()
    with store_url("sqlite", tmp_path) as url:
        yield from smpp_gateway(url, tmp_path)


def test_kannel_sends_through_centauro_and_gets_a_delivered_dlr(
    kannel_smpp: Smpp, tmp_path: Path
) -> None:
    smpp = kannel_smpp
    sendsms = free_port()
    conf = tmp_path / "kannel.conf"
    conf.write_text(
        KANNEL_CONF.format(
            admin=free_port(),
            smsbox=free_port(),
            sendsms=sendsms,
            workdir=tmp_path,
            smpp_port=smpp.port,
            system_id=smpp.system_id,
            password=smpp.password,
        )
    )
    callbacks = Callbacks()
    log = (tmp_path / "kannel-out.log").open("ab")
    bearerbox = subprocess.Popen([BEARERBOX, str(conf)], stdout=log, stderr=subprocess.STDOUT)
    smsbox = None
    try:
        _wait(lambda: "bound" in smpp.gw.log_path.read_text(), 30, "Kannel's bind")
        smsbox = subprocess.Popen([SMSBOX, str(conf)], stdout=log, stderr=subprocess.STDOUT)
        dlr_url = f"http://127.0.0.1:{callbacks.port}/dlr?type=%d&reply=%A&to=%p"
        params = {
            "username": "tester",
            "password": "foobar",
            "from": "CENTAURO",
            "to": "584141234567",
            "text": "Hola desde Kannel",
            "dlr-mask": "3",  # delivered and failed
            "dlr-url": dlr_url,
        }

        def sent() -> bool:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{sendsms}/cgi-bin/sendsms", params=params, timeout=5
                )
            except httpx.HTTPError:
                return False
            return answer.status_code == 202

        _wait(sent, 30, "smsbox to accept the sendsms request", _kannel_state(tmp_path, smsbox))
        _wait(lambda: bool(callbacks.received), 30, "Kannel's DLR callback")
        dlr = callbacks.received[0]
        assert dlr["type"] == "1"  # delivered
        assert "stat:DELIVRD" in dlr["reply"]
        messages = smpp.gw.cli_json("messages", "list")
        assert [(m["to"], m["status"]) for m in messages] == [("+584141234567", "delivered")]
        assert messages[0]["text"] == "Hola desde Kannel"
    finally:
        if smsbox is not None:
            _stop(smsbox)
        _stop(bearerbox)
        log.close()
        callbacks.close()


def _wait(check: Any, timeout: float, what: str, state: Any = None) -> None:
    """Until ``check()``; on timeout, fail with what ``state()`` (if given) tells of why."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            why = f"\n{state()}" if state is not None else ""
            raise AssertionError(f"timed out waiting for {what}{why}")
        time.sleep(0.3)


def _kannel_state(workdir: Path, smsbox: subprocess.Popen[bytes]) -> Any:
    """Whether smsbox still runs, and the end of Kannel's logs: a sendsms port taken by
    another test between ``free_port()`` and smsbox's bind shows there."""

    def describe() -> str:
        tails = []
        for name in ("smsbox.log", "bearerbox.log", "kannel-out.log"):
            path = workdir / name
            lines = path.read_text(errors="replace").splitlines()[-15:] if path.exists() else []
            tails.append(f"--- {name}\n" + "\n".join(lines))
        return f"smsbox exit code: {smsbox.poll()}\n" + "\n".join(tails)

    return describe
