"""Webhooks end to end: ``centauro serve`` on each store, a real receiver on a loopback
port, signatures checked here with hmac/hashlib.

Events come from real traffic: messages sent through the compat API go out through the
built-in sandbox carrier (``sent``, then ``delivered`` 0.1 s later); a message with a
``callback_url`` and an inbound answer (MO) are put in through the service layer, as the
REST and SMPP doors would.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from centauro.service import accounts, submit
from centauro.service import inbound as inbound_service
from centauro.store import sql
from centauro.store.engine import open_database
from tests.support.php import php_field
from tests.support.processes import eventually
from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.stores import KINDS, store_url
from tests.support.webhook_receiver import Receiver, receiving, secret_hash_key, signed_by

FAST = {
    "CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver is on 127.0.0.1
    "CENTAURO_SANDBOX_DLR_DELAY": "0.1",
    "CENTAURO_WEBHOOK_RETRY_FIRST_SECONDS": "0.3",
    "CENTAURO_WEBHOOK_POLL_SECONDS": "0.1",
}


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def gw(store: str, tmp_path: Path) -> Iterator[ServerProcess]:
    proc = start_server(store, tmp_path, port=free_port(), env=FAST)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def api(gw: ServerProcess, account: Account, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(
        method,
        gw.base_url + path,
        auth=(account.client_id, account.client_secret),
        timeout=30,
        **kw,
    )


def add_hook(gw: ServerProcess, account: Account, url: str, events: list[str] | None = None):  # type: ignore[no-untyped-def]
    answer = api(gw, account, "POST", "/v1/webhooks", json={"url": url, "events": events})
    assert answer.status_code == 201, answer.text
    return answer.json()


def send(gw: ServerProcess, account: Account, numbers: list[str], text: str) -> list[str]:
    people = ",".join(json.dumps({"id": "0", "cel": n, "nom": ""}) for n in numbers)
    answer = httpx.post(
        f"{gw.base_url}/controllersms/",
        data={
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "client_opcion": "send_sms",
            "json": php_field(people),
            "msg": php_field(text),
        },
        timeout=60,
    ).json()
    assert answer["status"] == "200", answer
    return [r["Messageid"] for r in answer["response"][0]["datos"] if r["Messageid"]]


def in_store(gw: ServerProcess, job: Callable[[Any], Any]) -> Any:
    """Run ``job(conn)`` in a transaction of the server's store, from this process."""
    db = open_database(gw.database_url)
    try:
        with db.begin() as conn:
            return job(conn)
    finally:
        db.dispose()


def test_status_events_reach_the_webhook_signed_with_its_secret(
    gw: ServerProcess, rx: Receiver
) -> None:
    account = gw.create_account(credits=100)
    hook = add_hook(gw, account, rx.url("/status"), ["message.status"])
    assert set(hook) == {"id", "url", "events", "enabled", "created_at", "secret"}
    assert hook["events"] == ["message.status"]
    assert hook["enabled"] is True
    ids = send(gw, account, ["04141234567", "04241234567"], "Su código es 4521")
    rx.wait_for(lambda r: len(r.on("/status")) == 4, 20, "sent + delivered for two messages")
    seen: dict[str, set[str]] = {}
    for request in rx.on("/status"):
        assert signed_by(request, hook["secret"]), request.headers
        assert request.headers["centauro-event"] == "message.status"
        event = request.json
        assert event["event"] == "message.status"
        assert datetime.fromisoformat(event["created_at"]).tzinfo is not None
        seen.setdefault(event["data"]["id"], set()).add(event["data"]["status"])
        assert event["data"]["connector"] == "sandbox"
    assert seen == {i: {"sent", "delivered"} for i in ids}
    assert len(rx.deliveries()) == 4  # one Centauro-Delivery id each
    listed = api(gw, account, "GET", "/v1/webhooks").json()
    assert listed == {"data": [{k: v for k, v in hook.items() if k != "secret"}]}
    log = api(gw, account, "GET", f"/v1/webhooks/{hook['id']}/deliveries").json()
    assert [d["status"] for d in log["data"]] == ["delivered"] * 4
    assert all(d["attempts"] == 1 and d["last_status"] == 200 for d in log["data"])
    assert all(d["next_attempt_at"] is None and d["delivered_at"] for d in log["data"])
    assert log["next_cursor"] is None


def test_a_callback_url_and_an_inbound_answer(gw: ServerProcess, rx: Receiver) -> None:
    account = gw.create_account(credits=100)
    inbound_hook = add_hook(gw, account, rx.url("/inbound"), ["message.inbound"])

    def queue_with_callback(conn: Any) -> int:
        acct = accounts.authenticate(conn, account.client_id, account.client_secret)
        planned = submit.plan(
            [submit.Recipient("04121234567")], "Hola", country="VE", max_segments=10,
            max_recipients=10,
        )  # fmt: skip
        receipt = submit.commit(
            conn, account=acct, planned=planned, source="v1", now=datetime.now(UTC),
            timing=submit.Timing(callback_url=rx.url("/callback")),
        )  # fmt: skip
        return int(receipt.message_ids[0])  # type: ignore[arg-type]

    message_id = in_store(gw, queue_with_callback)
    rx.wait_for(lambda r: len(r.on("/callback")) == 2, 20, "the callback's two events")
    key = api(gw, account, "GET", "/v1/account/signing-key").json()["signing_key"]
    for request in rx.on("/callback"):
        assert signed_by(request, key)
        assert not signed_by(request, secret_hash_key(account.client_secret))
        assert request.json["data"]["id"] == str(message_id)
    assert {r.json["data"]["status"] for r in rx.on("/callback")} == {"sent", "delivered"}
    assert rx.on("/inbound") == []  # status events go only where they were asked for

    mo = inbound_service.Inbound("sandbox", "+584121234567", "2222", "BAJA", datetime.now(UTC))
    in_store(gw, lambda conn: inbound_service.receive(conn, [mo], datetime.now(UTC)))
    rx.wait_for(lambda r: len(r.on("/inbound")) == 1, 20, "the inbound event")
    [request] = rx.on("/inbound")
    assert signed_by(request, inbound_hook["secret"])
    assert request.headers["centauro-event"] == "message.inbound"
    data = request.json["data"]
    assert (data["from"], data["to"], data["text"]) == ("+584121234567", "2222", "BAJA")


def test_failing_receivers_are_retried_with_backoff_and_the_log_shows_it(
    gw: ServerProcess, rx: Receiver
) -> None:
    account = gw.create_account(credits=100)
    hook = add_hook(gw, account, rx.url("/flaky"), ["message.status"])
    rx.fail_first["/flaky"] = 6  # 500 to the first six POSTs
    send(gw, account, ["04141234567"], "Hola")
    rx.wait_for(lambda r: len(r.deliveries()) == 2, 20, "two deliveries attempted")
    path = f"/v1/webhooks/{hook['id']}/deliveries"

    def log() -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = api(gw, account, "GET", path).json()["data"]
        return data

    eventually(lambda: any(d["last_status"] == 500 for d in log()), "a recorded 500", timeout=20)
    failing = next(d for d in log() if d["last_status"] == 500)
    assert failing["status"] == "pending"
    assert failing["next_attempt_at"] is not None
    assert "HTTP 500" in failing["last_error"]
    eventually(lambda: all(d["status"] == "delivered" for d in log()), "both delivered", timeout=30)
    assert sum(d["attempts"] for d in log()) == 8  # six refused, two accepted
    assert all(d["last_status"] == 200 and d["last_error"] is None for d in log())
    per_delivery = Counter(r.delivery for r in rx.on("/flaky"))
    assert sum(per_delivery.values()) == 8
    # backoff: the gaps between attempts of one delivery grow (0.3 s doubling, ±10 %)
    for delivery in per_delivery:
        times = [r.at for r in rx.on("/flaky") if r.delivery == delivery]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps
    page = api(gw, account, "GET", path, params={"limit": 1}).json()
    assert len(page["data"]) == 1
    assert page["next_cursor"]
    rest = api(gw, account, "GET", path, params={"limit": 1, "cursor": page["next_cursor"]})
    assert rest.json()["data"][0]["id"] != page["data"][0]["id"]
    assert rest.json()["next_cursor"] is None


def test_validation_ownership_and_deletion(server: ServerProcess) -> None:
    """A server with the default settings: private targets are refused."""
    owner, other = server.create_account(), server.create_account(name="Otra")

    def post(body: dict[str, Any], account: Account = owner) -> httpx.Response:
        return api(server, account, "POST", "/v1/webhooks", json=body)

    for body in (
        {"url": "ftp://example.com/hook"},
        {"url": "not a url"},
        {"url": "http://127.0.0.1:8080/hook"},
        {"url": "http://localhost/hook"},
        {"url": "http://[::1]/hook"},
        {"url": "http://10.0.0.5/hook"},
        {"url": "http://169.254.169.254/latest"},
        {"url": "http://2130706433/hook"},  # 127.0.0.1 spelt as a number
        {"url": "https://example.com/hook", "events": ["message.deleted"]},
        {"url": "https://example.com/hook", "events": []},
        {"events": ["message.status"]},
    ):
        answer = post(body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] in {"validation_error", "invalid_request"}
    assert "private" in post({"url": "http://127.0.0.1/hook"}).json()["detail"]

    created = post({"url": "https://example.com/hook"})
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["events"] == ["message.status", "message.inbound"]
    assert hook["secret"].startswith("whsec_")
    assert len(hook["secret"]) >= 6 + 32  # ≥ 192 bits in base64url
    assert "secret" not in api(server, owner, "GET", "/v1/webhooks").json()["data"][0]
    assert api(server, other, "GET", "/v1/webhooks").json() == {"data": []}
    for method, path in (
        ("DELETE", f"/v1/webhooks/{hook['id']}"),
        ("GET", f"/v1/webhooks/{hook['id']}/deliveries"),
        ("DELETE", "/v1/webhooks/abc"),
    ):
        answer = api(server, other, method, path)
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "not_found"
    assert httpx.get(f"{server.base_url}/v1/webhooks").status_code == 401
    assert api(server, owner, "DELETE", f"/v1/webhooks/{hook['id']}").status_code == 204
    assert api(server, owner, "DELETE", f"/v1/webhooks/{hook['id']}").status_code == 404
    assert api(server, owner, "GET", "/v1/webhooks").json() == {"data": []}


@pytest.mark.slow
def test_kill_9_with_pending_deliveries_loses_none(
    store: str, tmp_path: Path, rx: Receiver
) -> None:
    """kill -9 while deliveries are pending and in flight; after a restart every one
    arrives (counted by Centauro-Delivery), duplicates bounded by what was in flight."""
    concurrency = 20
    env = {**FAST, "CENTAURO_WEBHOOK_CONCURRENCY": str(concurrency)}
    gw = start_server(store, tmp_path, port=free_port(), env=env)
    try:
        account = gw.create_account(credits=1000)
        add_hook(gw, account, rx.url("/slow"), ["message.status"])
        rx.delay["/slow"] = 0.02  # ≈ 1,000/s at most with 20 in flight: the kill finds work
        ids = send(gw, account, [f"0414{i:07d}" for i in range(400)], "Aviso")
        rx.wait_for(lambda r: len(r.deliveries()) >= 150, 30, "150 deliveries before the kill")
        gw.kill()
        at_kill = len(rx.deliveries())
        gw.start()

        def pending() -> int:
            row = in_store(
                gw, lambda c: sql.fetchone(
                    c, "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'"
                ),
            )  # fmt: skip
            return int(row[0])

        rx.wait_for(lambda r: len(r.deliveries()) == 800, 60, "all 800 deliveries")
        eventually(lambda: pending() == 0, "every delivery recorded", timeout=30)
    finally:
        gw.stop()
    counts = rx.deliveries()
    assert len(counts) == 800  # sent + delivered for each of 400 messages, none lost
    assert at_kill < 800, "the kill came too late to test anything"
    duplicates = sum(counts.values()) - len(counts)
    print(f"kill -9 at {at_kill}/800 deliveries; duplicates after restart: {duplicates}")
    assert duplicates <= concurrency, duplicates
    statuses = Counter(json.loads(r.body)["data"]["status"] for r in rx.requests)
    assert statuses["delivered"] >= 400
    assert len(ids) == 400
