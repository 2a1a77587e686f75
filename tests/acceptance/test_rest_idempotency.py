"""``Idempotency-Key`` on ``POST /v1/messages`` and ``/v1/messages/batch``: a retry gets
the first answer and sends nothing; concurrent retries send once — on one process's
group-commit writer, and on PostgreSQL across two server processes."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from centauro.service import accounts as account_service
from centauro.service import idempotency
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account, free_port, start_server

_numbers = itertools.count(4_000_000)


def fresh() -> str:
    return f"0412{next(_numbers):07d}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


def post(
    gw: Gateway, account: Account, body: Any, key: str | None, path: str = "/v1/messages"
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return gw.http.post(
        path, json=body, headers=headers, auth=(account.client_id, account.client_secret)
    )


def sent_with(gw: Gateway, account: Account, reference: str) -> list[str]:
    response = gw.http.get(
        "/v1/messages",
        params={"reference": reference},
        auth=(account.client_id, account.client_secret),
    )
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["data"]]


def balance(gw: Gateway, account: Account) -> int:
    with gw.db.read() as conn:
        return account_service.get(conn, account.client_id).balance


def test_a_retry_gets_the_first_answer_and_sends_nothing(gw: Gateway) -> None:
    account = gw.account(10)
    body = {"to": [fresh(), fresh()], "text": "Una vez", "reference": "once"}
    first = post(gw, account, body, "order-1")
    assert first.status_code == 202, first.text
    assert "idempotent-replayed" not in first.headers
    again = post(gw, account, body, "order-1")
    assert again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert len(sent_with(gw, account, "once")) == 2
    assert balance(gw, account) == 8


def test_without_a_key_each_request_sends(gw: Gateway) -> None:
    account = gw.account(10)
    body = {"to": fresh(), "text": "Dos veces", "reference": "twice"}
    assert post(gw, account, body, None).status_code == 202
    assert post(gw, account, body, None).status_code == 202
    assert len(sent_with(gw, account, "twice")) == 2


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/batch"])
def test_the_same_key_with_another_request_is_409(gw: Gateway, path: str) -> None:
    account = gw.account(10)
    number = fresh()
    assert (
        post(gw, account, {"to": number, "text": "A", "reference": "k409"}, "k").status_code == 202
    )
    other = (
        {"messages": [{"to": number, "text": "B"}]}
        if path.endswith("batch")
        else {
            "to": number,
            "text": "B",
        }
    )
    response = post(gw, account, other, "k", path)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "idempotency_conflict"
    assert response.headers["content-type"] == "application/problem+json"
    invalid = post(gw, account, {"to": number}, "k")  # reused key: conflict before validation
    assert invalid.status_code == 409
    assert len(sent_with(gw, account, "k409")) == 1
    assert balance(gw, account) == 9


def test_keys_belong_to_one_account(gw: Gateway) -> None:
    a, b = gw.account(10), gw.account(10)
    body = {"to": fresh(), "text": "Hola", "reference": "shared-key"}
    first, second = post(gw, a, body, "same"), post(gw, b, body, "same")
    assert (first.status_code, second.status_code) == (202, 202)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["messages"][0]["id"] != second.json()["messages"][0]["id"]


def test_a_batch_retry_gets_the_first_answer(gw: Gateway) -> None:
    account = gw.account(10)
    body = {
        "messages": [{"to": fresh(), "text": f"t{i}", "reference": "batch-once"} for i in range(3)]
    }
    first = post(gw, account, body, "batch-1", "/v1/messages/batch")
    again = post(gw, account, body, "batch-1", "/v1/messages/batch")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.content == first.content
    assert len(sent_with(gw, account, "batch-once")) == 3


def test_a_refusal_of_the_send_itself_is_kept_for_the_key(gw: Gateway) -> None:
    account = gw.account(1)
    body = {"to": [fresh(), fresh()], "text": "Caro", "reference": "poor"}
    first = post(gw, account, body, "poor-1")
    assert first.status_code == 402, first.text
    with gw.db.begin() as conn:
        account_service.topup(conn, client_id=account.client_id, amount=10, now=datetime.now(UTC))
    again = post(gw, account, body, "poor-1")
    assert (again.status_code, again.headers["idempotent-replayed"]) == (402, "true")
    assert again.content == first.content
    assert again.headers["content-type"] == "application/problem+json"
    assert post(gw, account, body, "poor-2").status_code == 202  # a new key: a new try


def test_a_request_refused_before_the_send_does_not_use_the_key(gw: Gateway) -> None:
    account = gw.account(10)
    bad = post(gw, account, {"to": "0212123", "text": "x"}, "early")
    assert bad.status_code == 422
    good = post(gw, account, {"to": fresh(), "text": "x", "reference": "early"}, "early")
    assert good.status_code == 202, good.text
    assert "idempotent-replayed" not in good.headers


@pytest.mark.parametrize(
    "key", ["x" * 256, b"clave-\xc3\xb1", "tab\tinside"], ids=["too-long", "non-ascii", "control"]
)
def test_a_malformed_key_is_422(gw: Gateway, key: str | bytes) -> None:
    account = gw.account(10)
    response = gw.http.post(
        "/v1/messages",
        json={"to": fresh(), "text": "x"},
        headers={"Idempotency-Key": key},  # type: ignore[dict-item]
        auth=(account.client_id, account.client_secret),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert balance(gw, account) == 10


def test_an_expired_key_is_free_again(gw: Gateway) -> None:
    account = gw.account(10)
    assert post(gw, account, {"to": fresh(), "text": "viejo"}, "daily").status_code == 202
    with gw.db.begin() as conn:
        conn.execute(
            text("UPDATE idempotency_keys SET created_at = :old WHERE key = 'daily'"),
            {"old": datetime.now(UTC) - timedelta(hours=25)},
        )
    renewed = post(gw, account, {"to": fresh(), "text": "nuevo", "reference": "renewed"}, "daily")
    assert renewed.status_code == 202, renewed.text
    assert "idempotent-replayed" not in renewed.headers
    assert len(sent_with(gw, account, "renewed")) == 1
    assert post(gw, account, {"to": fresh(), "text": "otro"}, "daily").status_code == 409


def test_expired_keys_are_purged(gw: Gateway) -> None:
    account = gw.account(10)
    for key in ("purge-old", "purge-new"):
        assert post(gw, account, {"to": fresh(), "text": key}, key).status_code == 202
    now = datetime.now(UTC)
    with gw.db.begin() as conn:
        conn.execute(
            text("UPDATE idempotency_keys SET created_at = :old WHERE key = 'purge-old'"),
            {"old": now - timedelta(hours=25)},
        )
        assert idempotency.purge(conn, now=now) >= 1
        left = conn.execute(
            text("SELECT key FROM idempotency_keys WHERE key LIKE 'purge-%'")
        ).scalars()
        assert list(left) == ["purge-new"]


async def _storm(
    urls: list[str], account: Account, body: Any, key: str, n: int
) -> list[httpx.Response]:
    auth = (account.client_id, account.client_secret)
    clients = [httpx.AsyncClient(base_url=u, auth=auth, timeout=30) for u in urls]
    try:
        return await asyncio.gather(
            *(
                clients[i % len(clients)].post(
                    "/v1/messages", json=body, headers={"Idempotency-Key": key}
                )
                for i in range(n)
            )
        )
    finally:
        for c in clients:
            await c.aclose()


def _assert_sent_once(responses: list[httpx.Response]) -> None:
    assert [r.status_code for r in responses] == [202] * len(responses), [
        r.text for r in responses if r.status_code != 202
    ]
    assert len({r.content for r in responses}) == 1
    fresh_answers = [r for r in responses if "idempotent-replayed" not in r.headers]
    assert len(fresh_answers) == 1


def test_twenty_concurrent_retries_send_once(gw: Gateway) -> None:
    account = gw.account(10)
    body = {"to": fresh(), "text": "Concurrente", "reference": "storm"}
    responses = asyncio.run(_storm([gw.url], account, body, "storm-1", 20))
    _assert_sent_once(responses)
    assert len(sent_with(gw, account, "storm")) == 1
    assert balance(gw, account) == 9


def test_concurrent_retries_on_two_servers_send_once(gw: Gateway, tmp_path: Path) -> None:
    if gw.kind != "postgresql":
        pytest.skip("one server process per SQLite file")
    second = start_server(gw.server.database_url, tmp_path, port=free_port())
    try:
        account = gw.account(10)
        for round_ in range(3):
            body = {"to": fresh(), "text": "Dos procesos", "reference": f"two-{round_}"}
            responses = asyncio.run(
                _storm([gw.url, second.base_url], account, body, f"two-{round_}", 20)
            )
            _assert_sent_once(responses)
            assert len(sent_with(gw, account, f"two-{round_}")) == 1
        assert balance(gw, account) == 7
    finally:
        second.stop()
