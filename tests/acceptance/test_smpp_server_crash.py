"""``kill -9`` of ``centauro serve`` with SMPP submits in flight: every submit that was
answered with a message id is in the store, charged once, and delivered after a restart.
(A submit the client never got an answer for may be resent by it; docs/smpp-server.md says
what that costs.)"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
import smpplib.exceptions

from centauro.store import messages as message_store
from centauro.store.engine import open_database
from tests.support.esme import Smpp, smpp_gateway
from tests.support.server import start_server
from tests.support.stores import store_url

SUBMITS = 5000  # many more than a group commit answers at once: the kill finds some in flight
CREDITS = 20000


@pytest.mark.slow
def test_answered_submits_survive_kill_9_and_are_charged_once(tmp_path: Path) -> None:
    with store_url("sqlite", tmp_path) as url:
        for smpp in smpp_gateway(url, tmp_path, credits=CREDITS):
            _crash_and_check(smpp, url, tmp_path)


def _crash_and_check(smpp: Smpp, url: str, tmp_path: Path) -> None:
    esme = smpp.esme()
    for i in range(SUBMITS):
        esme.submit("584141234567", f"mensaje {i}", registered_delivery=1)
    # Wait for 100 accepted answers (a loaded server may also answer some submits with
    # ESME_RTHROTTLED, which the client would resend: those are not "answered" here).
    deadline = time.monotonic() + 120
    while sum(1 for status, _ in esme.answers.values() if status == 0) < 100:
        assert time.monotonic() < deadline, "the server accepted fewer than 100 submits"
        esme.pump()
    smpp.gw.kill()
    with contextlib.suppress(smpplib.exceptions.ConnectionError, ConnectionError, OSError):
        for _ in range(SUBMITS):  # the answers written before the kill are still to be read
            esme.pump()
    esme.client._socket.close()
    answered = {int(mid) for status, mid in esme.answers.values() if status == 0}
    assert 100 <= len(answered) < SUBMITS, "the kill came too late to catch submits in flight"

    db = open_database(url)
    try:
        with db.read() as conn:
            stored = message_store.count_by_status(conn, sorted(answered))
            everything = message_store.listing(conn, limit=SUBMITS + 1)
    finally:
        db.dispose()
    assert sum(stored.values()) == len(answered)  # no answered submit is lost
    balance = int(smpp.gw.cli_json("accounts", "list")[0]["balance"])
    assert balance == CREDITS - len(everything)  # each stored message charged once

    restarted = start_server(url, tmp_path, port=smpp.gw.port, env=smpp.gw.env_extra)
    try:
        receiver = smpp.esme("receiver")
        for mid in sorted(answered)[:20]:
            receiver.wait_deliver(lambda d, m=str(mid): d.receipted_message_id == m, timeout=30)
        receiver.close()
    finally:
        restarted.stop()
