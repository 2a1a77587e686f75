"""Balance, ledger, inbound, health, the OpenAPI document, and the request limits (413,
429) of the REST API, against real ``centauro serve`` processes on both stores."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from centauro.service import accounts as account_service
from centauro.service import inbound as inbound_service
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account

_numbers = itertools.count(3_000_000)


def fresh() -> str:
    return f"0424{next(_numbers):07d}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    env = {
        "CENTAURO_MAX_RECIPIENTS": "5",
        "CENTAURO_RATE_LIMIT": "2",
        "CENTAURO_MAX_BODY_BYTES": "4096",
    }
    with running_gateway(request.param, tmp_path_factory, env=env) as gateway:
        yield gateway


def rest(gw: Gateway, account: Account | None, method: str, path: str, **kw: Any) -> httpx.Response:
    auth = (account.client_id, account.client_secret) if account else None
    return gw.http.request(method, f"/v1{path}", auth=auth, **kw)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def pages(gw: Gateway, account: Account, path: str, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = ok(rest(gw, account, "GET", path, params=params))
        assert len(page["data"]) <= limit
        rows.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


# --- balance and ledger -------------------------------------------------------------------


def test_balance_follows_every_send(gw: Gateway) -> None:
    account = gw.account(25)
    assert ok(rest(gw, account, "GET", "/balance")) == {"balance": 25}
    ok(rest(gw, account, "POST", "/messages", json={"to": [fresh(), fresh()], "text": "x"}), 202)
    assert ok(rest(gw, account, "GET", "/balance")) == {"balance": 23}


def test_ledger_lists_topup_and_charges_newest_first_in_pages(gw: Gateway) -> None:
    account = gw.account(100)
    sent = [
        ok(rest(gw, account, "POST", "/messages", json={"to": fresh(), "text": f"n{i}"}), 202)
        for i in range(7)
    ]
    rows = pages(gw, account, "/ledger", limit=3)
    assert [r["kind"] for r in rows] == ["charge"] * 7 + ["topup"]
    assert [int(r["id"]) for r in rows] == sorted((int(r["id"]) for r in rows), reverse=True)
    assert [r["balance_after"] for r in rows] == [93, 94, 95, 96, 97, 98, 99, 100]
    topup = rows[-1]
    assert (topup["amount"], topup["message_id"], topup["messages"]) == (100, None, 0)
    charge = rows[0]
    assert (charge["amount"], charge["messages"]) == (-1, 1)
    assert charge["message_id"] == sent[-1]["messages"][0]["id"]
    assert datetime.fromisoformat(charge["created_at"]).tzinfo is not None


def test_accounts_do_not_see_each_others_ledger(gw: Gateway) -> None:
    a, b = gw.account(5), gw.account(7)
    ok(rest(gw, a, "POST", "/messages", json={"to": fresh(), "text": "x"}), 202)
    assert [r["amount"] for r in pages(gw, b, "/ledger", limit=50)] == [7]


# --- inbound ------------------------------------------------------------------------------


def _mo(gw: Gateway, sender: str, text: str) -> None:
    with gw.db.begin() as conn:
        inbound_service.receive(
            conn,
            [inbound_service.Inbound("sandbox", sender, "2020", text, datetime.now(UTC))],
            datetime.now(UTC),
        )


def test_inbound_lists_the_answers_to_this_account_only(gw: Gateway) -> None:
    shop, other = gw.account(10), gw.account(10)
    number = fresh()
    ok(rest(gw, shop, "POST", "/messages", json={"to": number, "text": "¿Vienes?"}), 202)
    for text in ("Sí", "A las 5", "Gracias"):
        _mo(gw, "+58" + number[1:], text)
    rows = pages(gw, shop, "/inbound", limit=2)
    assert [(r["from"], r["to"], r["text"]) for r in rows] == [
        ("+58" + number[1:], "2020", t) for t in ("Gracias", "A las 5", "Sí")
    ]
    assert all(r["connector"] == "sandbox" and r["id"].isdecimal() for r in rows)
    assert datetime.fromisoformat(rows[0]["received_at"]).tzinfo is not None
    assert ok(rest(gw, other, "GET", "/inbound")) == {"data": [], "next_cursor": None}


# --- health and documents -----------------------------------------------------------------


def test_health_needs_no_credentials(gw: Gateway) -> None:
    assert ok(gw.http.get("/v1/health")) == {"status": "ok"}  # details: tests/…/test_rest_health


def test_openapi_and_docs_are_served(gw: Gateway) -> None:
    spec = ok(gw.http.get("/openapi.json"))
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path, method in [
        ("/v1/messages", "post"),
        ("/v1/messages", "get"),
        ("/v1/messages/batch", "post"),
        ("/v1/messages/{message_id}", "get"),
        ("/v1/messages/{message_id}", "delete"),
        ("/v1/balance", "get"),
        ("/v1/ledger", "get"),
        ("/v1/inbound", "get"),
        ("/v1/health", "get"),
    ]:
        assert method in paths[path], (path, method)
    send = paths["/v1/messages"]["post"]
    assert send["security"] == [{"basicAuth": []}]
    assert "requestBody" in send
    assert [p["name"] for p in send["parameters"]] == ["Idempotency-Key"]
    assert "application/problem+json" in send["responses"]["402"]["content"]
    assert "security" not in paths["/v1/health"]["get"]
    assert spec["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"
    docs = gw.http.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


# --- limits -------------------------------------------------------------------------------


def test_too_many_recipients_is_413(limited: Gateway) -> None:
    account = limited.account(100)
    numbers = [fresh() for _ in range(6)]
    response = rest(limited, account, "POST", "/messages", json={"to": numbers, "text": "x"})
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_many_recipients"
    batch = {"messages": [{"to": n, "text": "x"} for n in numbers]}
    response = rest(limited, account, "POST", "/messages/batch", json=batch)
    assert response.status_code == 413, response.text
    limit = ok(rest(limited, account, "GET", "/balance"))
    assert limit == {"balance": 100}


def test_a_body_over_the_limit_is_a_413_problem_and_sends_nothing(limited: Gateway) -> None:
    account = limited.account(100)
    body = {"to": fresh(), "text": "x" * 5000}
    response = rest(limited, account, "POST", "/messages", json=body)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert problem["type"].endswith("/payload_too_large")
    assert problem["status"] == 413
    with limited.db.read() as conn:
        assert account_service.get(conn, account.client_id).balance == 100


def test_over_the_request_rate_is_429_with_retry_after(limited: Gateway) -> None:
    account = limited.account(100)
    answers = [rest(limited, account, "GET", "/balance") for _ in range(6)]
    refused = [r for r in answers if r.status_code == 429]
    assert refused, [r.status_code for r in answers]
    assert all(r.status_code in (200, 429) for r in answers)
    problem = refused[0].json()
    assert problem["code"] == "rate_limited"
    assert refused[0].headers["content-type"] == "application/problem+json"
    assert int(refused[0].headers["retry-after"]) >= 1
    other = limited.account(1)
    assert rest(limited, other, "GET", "/balance").status_code == 200
