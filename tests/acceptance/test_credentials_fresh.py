"""Disabling an account or rotating its secret takes effect at once, for every operation,
even while the old sign-in sits in a server's cache — and across two server processes on
one PostgreSQL database. Real ``centauro serve`` processes, the real CLI, both stores.

The servers cache positive sign-ins for 60 s here (2 s by default), so a pass cannot come
from the cache having expired while the CLI started.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.php import Gateway, PhpClient, running_gateway
from tests.support.server import Account, free_port, start_server
from tests.support.stores import store_url

ENV = {"CENTAURO_AUTH_CACHE_SECONDS": "60", "CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1"}
_numbers = itertools.count(4_000_000)


def fresh() -> str:
    return f"0414{next(_numbers):07d}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory, env=ENV) as gateway:
        yield gateway


def rest(http: httpx.Client, who: Account, method: str, path: str, **kw: Any) -> httpx.Response:
    return http.request(method, f"/v1{path}", auth=(who.client_id, who.client_secret), **kw)


def scheduled(gw: Gateway, who: Account) -> str:
    """A message due tomorrow (so it can still be cancelled); its id."""
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    answer = rest(
        gw.http, who, "POST", "/messages", json={"to": fresh(), "text": "x", "schedule_at": when}
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["messages"][0]["id"])


def warm(gw: Gateway, who: Account) -> str:
    """Sign in over both doors, so the server has the credentials cached; a number the
    account suppressed (a send to it charges nothing, so no charge re-checks)."""
    assert PhpClient(gw.http, who.client_id, who.client_secret).balance() >= 0
    number = fresh()
    added = rest(gw.http, who, "POST", "/suppressions", json={"number": number})
    assert added.status_code == 201, added.text
    return number


def assert_every_operation_refused(
    gw: Gateway, old: Account, message_id: str, suppressed: str
) -> None:
    refused = {
        "balance": rest(gw.http, old, "GET", "/balance"),
        "ledger": rest(gw.http, old, "GET", "/ledger"),
        "messages": rest(gw.http, old, "GET", "/messages"),
        "message": rest(gw.http, old, "GET", f"/messages/{message_id}"),
        "webhook create": rest(
            gw.http, old, "POST", "/webhooks", json={"url": "http://127.0.0.1:9/hook"}
        ),
        "webhook list": rest(gw.http, old, "GET", "/webhooks"),
        "suppression create": rest(gw.http, old, "POST", "/suppressions", json={"number": fresh()}),
        "suppression list": rest(gw.http, old, "GET", "/suppressions"),
        "inbound": rest(gw.http, old, "GET", "/inbound"),
        "cancel": rest(gw.http, old, "DELETE", f"/messages/{message_id}"),
        "send": rest(gw.http, old, "POST", "/messages", json={"to": fresh(), "text": "x"}),
        "send, free": rest(gw.http, old, "POST", "/messages", json={"to": suppressed, "text": "x"}),
        "keyed suppression": rest(
            gw.http,
            old,
            "POST",
            "/suppressions",
            json={"number": fresh()},
            headers={"Idempotency-Key": f"k-{message_id}"},
        ),
    }
    wrong = {name: r.status_code for name, r in refused.items() if r.status_code != 401}
    assert wrong == {}
    php = PhpClient(gw.http, old.client_id, old.client_secret)
    for answer in (
        php.get_sms_disponibles(),
        php.send([fresh()], "x"),
        php.send([suppressed], "x"),
    ):
        assert answer.json()["status"] == "301", answer.text


def test_rotated_secret_is_refused_at_once_by_every_operation(gw: Gateway) -> None:
    old = gw.account(50)
    message_id = scheduled(gw, old)
    suppressed = warm(gw, old)
    new_secret = gw.server.cli_json("accounts", "rotate-secret", old.client_id)["client_secret"]

    assert_every_operation_refused(gw, old, message_id, suppressed)
    assert gw.message(message_id)["status"] == "scheduled"
    new = Account(old.client_id, new_secret)
    assert rest(gw.http, new, "GET", "/balance").json() == {"balance": 49}


def test_disabled_account_can_neither_cancel_nor_read(gw: Gateway) -> None:
    who = gw.account(50)
    message_id = scheduled(gw, who)
    suppressed = warm(gw, who)
    gw.server.cli("accounts", "disable", who.client_id)

    assert_every_operation_refused(gw, who, message_id, suppressed)
    assert gw.message(message_id)["status"] == "scheduled"
    assert [r["kind"] for r in gw.ledger(who.client_id)] == ["charge", "topup"]


def test_rotation_reaches_two_processes_on_one_postgresql(tmp_path: Path) -> None:
    with store_url("postgresql", tmp_path) as url:
        one = start_server(url, tmp_path, port=free_port(), env=ENV)
        two = start_server(url, tmp_path, port=free_port(), env=ENV)
        try:
            made = one.cli_json("accounts", "create", "Dos", "--credits", "10")
            old = Account(made["client_id"], made["client_secret"])
            clients = [httpx.Client(base_url=s.base_url, timeout=30.0) for s in (one, two)]
            for http in clients:
                assert rest(http, old, "GET", "/balance").status_code == 200
            one.cli("accounts", "rotate-secret", old.client_id)

            def hit(http: httpx.Client) -> list[int]:
                return [
                    rest(http, old, "GET", "/balance").status_code,
                    rest(http, old, "POST", "/suppressions", json={"number": fresh()}).status_code,
                    rest(
                        http, old, "POST", "/messages", json={"to": fresh(), "text": "x"}
                    ).status_code,
                ]

            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(hit, clients))
            assert answers == [[401, 401, 401], [401, 401, 401]]
            for http in clients:
                http.close()
        finally:
            one.stop()
            two.stop()
